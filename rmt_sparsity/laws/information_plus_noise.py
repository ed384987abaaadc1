"""Information-plus-noise law: the spectrum of ``(R + σX)(R + σX)ᵀ/n`` given that of ``RRᵀ/n``.

For ``R`` of shape ``(p, n)`` whose ``RRᵀ/n`` has limiting spectral law ``H``
(``r_eigs``), ``X`` with iid mean-0 unit-variance entries, ``σ² = noise_var``
and ``c = ratio = p/n``, the Stieltjes transform ``m(z) = ∫ μ(dx)/(x - z)`` of
the limiting spectral law of ``C = (R + σX)(R + σX)ᵀ/n`` is the unique solution
with ``Im m > 0`` of (Dozier & Silverstein 2007, Thm 1.1)

.. math::

    m = \\int \\frac{dH(t)}{\\dfrac{t}{1 + \\sigma^2 c\\, m} - (1 + \\sigma^2 c\\, m)\\, z + \\sigma^2 (1 - c)} .

With ``R = 0`` (``H = δ_0``) it reduces exactly to the MP quadratic with scale
``σ²``: ``σ² c z m² + (z - σ²(1 - c)) m + 1 = 0``.

This is the model of trained weights as a structured matrix plus accumulated
noise (docs/science.md §4): it predicts how the spectral concentration of a layer
changes as noise accumulates.

Reference: R. B. Dozier & J. W. Silverstein, "On the empirical distribution of
eigenvalues of large dimensional information-plus-noise type matrices",
J. Multivariate Anal. 98 (2007) 678-694; "Analysis of the limiting spectral
distribution of large dimensional information-plus-noise type matrices",
ibid. 1099-1122.
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import check_array, check_real
from .fixed_point import CovarianceProblem, FixedPointLaw, atom_sums

__all__ = ["InformationPlusNoiseLaw"]


class _IPNProblem(CovarianceProblem):
    """``F(m) = 1 - S_0(m)/m`` with ``S_0 = Σ π/(t/s - s z + σ²(1-c))``, ``s = 1 + σ² c m``.

    Bounds (Weyl for singular values): ``|s_i(R + σX) - s_i(σX)| <= ||R||``.
    """

    def __init__(self, t, pi, c, s2):
        self.t, self.pi, self.c, self.s2 = t, pi, float(c), float(s2)
        self.m1 = float(np.dot(pi, t)) + s2
        tmax = float(t.max())
        sc = math.sqrt(c)
        self.upper = (math.sqrt(tmax) + math.sqrt(s2) * (1.0 + sc)) ** 2
        low = math.sqrt(s2) * abs(1.0 - sc) - math.sqrt(tmax)
        self.lower = low**2 if low > 0 else 0.0
        self.scale = self.upper

    def residual(self, m, z):
        c, s2 = self.c, self.s2
        s = 1.0 + s2 * c * m
        a = 1.0 / s
        b = -s * z + s2 * (1.0 - c)
        S0, S1, S2 = atom_sums(a, b, self.t, self.pi)
        dS0 = s2 * c / s**2 * S1 + s2 * c * z * S2
        F = 1.0 - S0 / m
        dF = -dS0 / m + S0 / m**2
        return F, dF


def _ps_mul(a, b):
    n = a.size
    return np.convolve(a, b)[:n]


def _ps_inv(a):
    n = a.size
    out = np.zeros(n)
    out[0] = 1.0 / a[0]
    for k in range(1, n):
        out[k] = -np.dot(a[1 : k + 1], out[k - 1 :: -1][:k]) / a[0]
    return out


class InformationPlusNoiseLaw(FixedPointLaw):
    """Limiting spectral law of ``(R + σX)(R + σX)ᵀ/n`` (Dozier-Silverstein).

    .. math::

        m(z) = \\int \\frac{dH(t)}{t/(1 + \\sigma^2 c m) - (1 + \\sigma^2 c m) z + \\sigma^2 (1 - c)},
        \\qquad c = p/n,

    ``H`` the empirical law of ``r_eigs`` (the eigenvalues of ``RRᵀ/n``, ``R`` of
    shape ``(p, n)``), ``σ² = noise_var`` the variance of the iid noise entries.

    Parameters
    ----------
    r_eigs : array_like, 1-D
        Eigenvalues of ``RRᵀ/n`` (finite, ``>= 0``; zeros for a rank-deficient ``R``).
    ratio : float
        ``c = p/n > 0``. For ``c > 1`` the law has an atom ``1 - 1/c`` at 0.
    noise_var : float
        ``σ² > 0``. (At ``σ² = 0`` the law is the discrete law of ``r_eigs`` itself,
        which has no density; it is rejected.)
    scan_points : int, default 512
        Grid size for support detection.

    Raises
    ------
    ValueError
        ``ratio <= 0``, ``noise_var <= 0``, negative or non-finite ``r_eigs``.

    Notes
    -----
    ``moment(k)`` (``method="exact"``) expands the fixed-point equation as a
    power series in ``1/z``: with ``s = 1 + σ² c m``,
    ``m = -w s Σ_l a_l w^l / (s² - w σ²(1-c) s)^{l+1}``, ``w = 1/z``,
    ``a_l = E_H[t^l]``, solved order by order. The first two are
    ``m_1 = a_1 + σ²`` and ``m_2 = a_2 + 2σ²(1 + c) a_1 + σ⁴(1 + c)``.

    References
    ----------
    Dozier & Silverstein, J. Multivariate Anal. 98 (2007) 678-694 and 1099-1122.

    Examples
    --------
    >>> law = InformationPlusNoiseLaw([0.0], 0.25, 1.0)          # R = 0: MP(0.25)
    >>> [round(e, 10) for e in law.support()]
    [0.25, 2.25]
    >>> law = InformationPlusNoiseLaw([0.0, 4.0], 0.5, 0.5)       # half the directions carry signal
    >>> law.moment(1), law.moment(2)                                # a1 + s2; a2 + 2 s2 (1+c) a1 + s2^2 (1+c)
    (2.5, 11.375)
    """

    def __init__(self, r_eigs, ratio, noise_var, *, scan_points=512):
        r = check_array("r_eigs", r_eigs, ndim=1)
        if r.dtype.kind == "c":
            raise TypeError("r_eigs must be real")
        if np.any(r < 0):
            raise ValueError(f"r_eigs must be >= 0 (eigenvalues of R R^T/n); got min {float(r.min())!r}")
        c = check_real("ratio", ratio, lo=0.0, lo_open=True)
        s2 = check_real("noise_var", noise_var, lo=0.0, lo_open=True)
        t, counts = np.unique(r.astype(float), return_counts=True)
        pi = counts / counts.sum()
        self.r_eigs = r.astype(float)
        self.ratio = c
        self.noise_var = s2
        self._t, self._pi = t, pi
        super().__init__(_IPNProblem(t, pi, c, s2), scan_points=scan_points)

    def __repr__(self):
        return f"InformationPlusNoiseLaw(n_eigs={self.r_eigs.size}, ratio={self.ratio!r}, noise_var={self.noise_var!r})"

    _has_exact_moments = True

    def _exact_moment(self, k):
        """Power-series expansion of the fixed-point equation (class Notes)."""
        return float(self._series_moments(k)[k])

    def _series_moments(self, K):
        """Moments m_0..m_K from m(z) = -Σ_k m_k w^{k+1}, w = 1/z."""
        c, s2 = self.ratio, self.noise_var
        n = K + 2  # coefficients of w^0..w^{K+1}
        a = np.array([float(np.dot(self._pi, self._t**l)) for l in range(n)])
        w = np.zeros(n)
        w[1] = 1.0
        m = np.zeros(n)
        for _ in range(n + 1):
            s = s2 * c * m
            s[0] += 1.0
            A = _ps_mul(s, s) - s2 * (1.0 - c) * _ps_mul(w, s)
            Ainv = _ps_inv(A)
            acc = np.zeros(n)
            P = Ainv.copy()  # A^{-(l+1)}
            wl = np.zeros(n)
            wl[0] = 1.0
            for l in range(n):
                acc += a[l] * _ps_mul(wl, P)
                P = _ps_mul(P, Ainv)
                wl = _ps_mul(wl, w)
            m = -_ps_mul(w, _ps_mul(s, acc))
        return -m[1:]
