"""Weighted sample covariance (generalised Marchenko-Pastur) and SGD's discounted covariance.

The law of

.. math:: S = \\frac1n X \\operatorname{diag}(w_1, \\dots, w_n) X^\\top = \\frac1n \\sum_{j=1}^n w_j x_j x_j^\\top,

with ``X`` of shape ``(p, n)`` with iid unit-variance entries (or, more
generally, independent isotropic columns whose squared norms concentrate at
``p``, e.g. LayerNorm-ed inputs), ``ratio = c = p/n`` and the empirical
distribution ``H`` of the weights converging. Its Stieltjes transform
``m(z) = ∫ μ(dx)/(x - z)`` is the unique solution with ``Im m > 0`` of

.. math:: m(z) = \\frac{1}{-z + \\int \\frac{t\\, dH(t)}{1 + c\\, t\\, m(z)}}

(Silverstein & Bai 1995; derivation: ``1 + z m = (1/p) tr[S (S - z)^{-1}]``,
then Sherman-Morrison on each rank-one term gives
``x_jᵀ(S - z)^{-1}x_j ≈ p m / (1 + c w_j m)``). With all weights equal to 1 it
reduces *exactly* to MP's quadratic ``c z m² + (z + c - 1) m + 1 = 0``.

Conventions: the weights are **not** normalised (``S`` scales with them; the
mean eigenvalue is ``E_H[t]``). For ``ratio > 1`` the law has an atom
``1 - 1/ratio`` at 0. Free-probability view: the law is the free compound
Poisson law with rate ``1/c`` and jump law ``c·t``, so its free cumulants are
``κ_k = c^{k-1} E_H[t^k]`` (used for exact moments).

Reference: J. W. Silverstein & Z. D. Bai, J. Multivariate Anal. 54 (1995)
175-192; J. W. Silverstein & S.-I. Choi, ibid. 295-309 (support); Couillet &
Debbah (2011), Thm 3.13.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from .._checks import check_array, check_int, check_real, check_size_budget
from .fixed_point import MAX_MOMENT_ORDER, CovarianceProblem, FixedPointLaw, atom_sums, discrete_measure

__all__ = ["WeightedCovarianceLaw", "discounted", "kish_effective_size"]


class _WeightedProblem(CovarianceProblem):
    """``F(m) = m(-z + Σ π t/(1 + c t m)) - 1`` (dimensionless).

    Bounds (Loewner): ``t_min (1/n) X Xᵀ <= S <= t_max (1/n) X Xᵀ``, and the MP(c) edges.
    """

    def __init__(self, c, t, pi):
        self.c = float(c)
        self.t = t
        self.pi = pi
        self.pg = pi * t
        self.m1 = float(np.dot(pi, t))
        sc = math.sqrt(self.c)
        self.tmax = float(t.max())
        self.tmin = float(t.min())
        self.upper = self.tmax * (1.0 + sc) ** 2
        self.lower = self.tmin * (1.0 - sc) ** 2
        self.scale = self.upper

    def residual(self, m, z):
        s0, s1, _ = atom_sums(self.c * m, np.ones_like(m), self.t, self.pg)
        F = m * (-z + s0) - 1.0
        dF = -z + s0 - self.c * m * s1
        return F, dF


class WeightedCovarianceLaw(FixedPointLaw):
    """Limiting spectral law of ``(1/n) X diag(w) Xᵀ`` (generalised Marchenko-Pastur).

    .. math::

        m(z) = \\Bigl(-z + \\int \\frac{t\\,dH(t)}{1 + c\\,t\\,m(z)}\\Bigr)^{-1},
        \\qquad c = p/n,

    ``X`` of shape ``(p, n)`` with iid unit-variance entries, ``H`` the weight
    distribution (atoms ``weights`` with masses ``probs``, equal by default).
    Weights are used as given (not normalised): the mean eigenvalue is ``E_H[t]``.

    Parameters
    ----------
    ratio : float
        ``c = p/n > 0``. For ``c > 1`` the law has an atom ``1 - 1/c`` at 0.
    weights : array_like, 1-D
        Positive finite weights (one per sample for an empirical ``H``, or the
        atoms of a parametric ``H``). Repeated values are merged.
    probs : array_like, 1-D, optional
        Masses of the atoms (non-negative, normalised to sum 1). Default: equal.
    scan_points : int, default 512
        Grid size for detecting interior gaps of the support.

    Raises
    ------
    ValueError
        ``ratio <= 0`` or non-finite; a weight ``<= 0`` or non-finite; bad ``probs``.

    Notes
    -----
    Exact outer edges come from Silverstein & Choi: with
    ``x(m) = -1/m + ∫ t dH/(1 + c t m)``, the complement of the support is
    ``{x(m): m real, x'(m) > 0}``; ``λ_max`` is the minimum of ``x`` on
    ``(-1/(c t_max), 0)`` and ``λ_min`` its maximum on ``(0, ∞)`` (``c < 1``) or on
    ``(-∞, -1/(c t_min))`` (``c > 1``); ``λ_min = 0`` at ``c = 1``.
    ``moment(k)`` uses the free cumulants ``κ_k = c^{k-1} E_H[t^k]``.

    Known limitation: at ``c = 1`` the lower edge is a *hard* edge at 0 (density
    ``~ x^{-1/2}``), where the η → 0 extrapolation of the density converges
    slowly; for widely spread weights the total mass is then only accurate to
    about 1e-5. :meth:`mass_error` reports the achieved accuracy: check it there.

    References
    ----------
    Silverstein & Bai (1995); Silverstein & Choi (1995); Couillet & Debbah (2011).

    Examples
    --------
    >>> law = WeightedCovarianceLaw(0.25, [1.0])       # all weights equal: MP(0.25)
    >>> [round(e, 12) for e in law.support()]
    [0.25, 2.25]
    >>> round(float(law.pdf(1.0)), 10)                 # sqrt((2.25-1)(1-0.25))/(2 pi 0.25)
    0.6164044441
    >>> law2 = WeightedCovarianceLaw(0.1, [1.0, 3.0])
    >>> law2.moment(2)                                  # c E t^2 + (E t)^2 = 0.1*5 + 4
    4.5
    """

    def __init__(self, ratio, weights, probs=None, *, scan_points=512):
        c = check_real("ratio", ratio, lo=0.0, lo_open=True)
        w = check_array("weights", weights, ndim=1)
        if w.dtype.kind == "c":
            raise TypeError("weights must be real")
        if np.any(w <= 0):
            bad = w[w <= 0]
            raise ValueError(f"weights must be > 0; got {bad.size} entries <= 0 (e.g. {float(bad[0])!r})")
        t, pi = discrete_measure(w, probs, values_name="weights", probs_name="probs")
        self.ratio = c
        self.weights = t
        self.probs = pi
        super().__init__(_WeightedProblem(c, t, pi), scan_points=scan_points)

    def __repr__(self):
        return f"WeightedCovarianceLaw(ratio={self.ratio!r}, n_atoms={self.weights.size})"

    # -- transforms --------------------------------------------------------------------
    def rescaled(self, factor):
        """The law of ``factor · S`` (weights multiplied by ``factor > 0``).

        Examples
        --------
        >>> WeightedCovarianceLaw(0.25, [1.0]).rescaled(2.0).support()
        (0.5, 4.5)
        """
        f = check_real("factor", factor, lo=0.0, lo_open=True)
        return WeightedCovarianceLaw(self.ratio, self.weights * f, self.probs, scan_points=self.scan_points)

    @property
    def kish_fraction(self):
        """``(E_H t)² / E_H t²`` = ``n_eff/n``, the Kish effective sample fraction."""
        return float(np.dot(self.probs, self.weights) ** 2 / np.dot(self.probs, self.weights**2))

    def free_cumulants(self, kmax):
        """Free cumulants ``κ_k = c^{k-1} E_H[t^k]``, ``k = 1..kmax`` (free compound Poisson)."""
        kmax = check_int("kmax", kmax, min=1, max=MAX_MOMENT_ORDER)
        ks = np.arange(1, kmax + 1)
        return np.array([self.ratio ** (k - 1) * float(np.dot(self.probs, self.weights**k)) for k in ks])

    _has_exact_moments = True

    def _exact_moment(self, k):
        """From the free cumulants ``κ_k = c^{k-1} E_H[t^k]`` (class Notes)."""
        from .free_convolution import free_cumulants_to_moments

        return float(free_cumulants_to_moments(self.free_cumulants(k))[k])

    # -- exact outer edges -------------------------------------------------------------
    def _x_of_m(self, m):
        c, t, pi = self.ratio, self.weights, self.probs
        return -1.0 / m + float(np.dot(pi, t / (1.0 + c * t * m)))

    def _exact_outer_edges(self):
        c, t, pi = self.ratio, self.weights, self.probs
        tmax, tmin = t.max(), t.min()
        tau = t / tmax

        def h_hi(s):  # m = -s/(c tmax), s in (0, 1): m^2 x'(m)
            u = s * tau
            return 1.0 - float(np.dot(pi, (u / (1.0 - u)) ** 2)) / c

        s_hi = _root_decreasing(h_hi, 0.0, 1.0)
        hi = self._x_of_m(-s_hi / (c * tmax))
        if c < 1.0:

            def h_lo(v):  # m = e^v/(c tmax) > 0
                u = math.exp(v) * tau
                return 1.0 - float(np.dot(pi, (u / (1.0 + u)) ** 2)) / c

            a, b = -50.0, 1.0
            while h_lo(b) > 0:
                b += 5.0
            while h_lo(a) < 0:
                a -= 20.0
            v = brentq(h_lo, a, b, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
            lo = self._x_of_m(math.exp(v) / (c * tmax))
        elif c > 1.0:
            s0 = tmax / tmin  # m = -s/(c tmax), s > tmax/tmin
            excess = (t - tmin) / tmin  # s0 tau - 1 >= 0, without cancellation

            def h_lo2(v):  # s = s0 (1 + e^v): u = s tau, u - 1 = (s0 tau - 1) + s0 tau e^v > 0
                ev = math.exp(v)
                u = s0 * tau * (1.0 + ev)
                return 1.0 - float(np.dot(pi, (u / (excess + s0 * tau * ev)) ** 2)) / c

            a, b = -40.0, 1.0
            while h_lo2(b) < 0:
                b += 5.0
            while h_lo2(a) > 0:
                a -= 20.0
            v = brentq(h_lo2, a, b, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
            lo = self._x_of_m(-s0 * (1.0 + math.exp(v)) / (c * tmax))
        else:
            lo = 0.0
        return (max(lo, 0.0), hi)


def _root_decreasing(h, a, b):
    """Root of a decreasing function on the open interval (a, b), h(a+) > 0 > h(b-)."""
    # bisection in a logit-like parametrisation to resolve roots close to b
    lo, hi = a, b
    for _ in range(2000):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if h(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def discounted(ratio, r, steps, batch=1, *, accumulated=False, scan_points=512):
    """Limiting law of SGD's discounted input covariance (weights ``r^(t-s)``).

    .. math::

        C_t = \\sum_{s=1}^{t} r^{t-s} \\sum_{i \\in \\text{batch } s} x_i x_i^\\top,
        \\qquad n = B \\cdot t \\text{ tokens}, \\quad c = p/n,

    with ``t = steps`` and ``B = batch``: the weight distribution ``H`` has atoms
    ``r^k``, ``k = 0..t-1``, each of mass ``1/t`` (so ``H`` does not depend on
    ``B``). By default the law describes ``C_t/n`` (weights ``r^k <= 1``,
    mean eigenvalue ``(1 - r^t)/(t(1 - r))``); with ``accumulated=True`` it
    describes ``C_t`` itself (every eigenvalue multiplied by ``n = B·t``), i.e.
    the scale of the actual sum of LayerNorm-ed inputs with ``E‖x‖² = p``.

    Parameters
    ----------
    ratio : float
        ``c = p/(B·steps) > 0``, the weighted law's ratio.
    r : float
        Discount per step, ``0 < r <= 1`` (``r = 1 - lr·weight_decay``); ``r = 1``
        gives MP(ratio).
    steps : int
        Number of steps ``t >= 1``.
    batch : int, default 1
        Tokens per step ``B`` (only enters the accumulated scale ``n = B·t``).
    accumulated : bool, default False
        Return the law of ``C_t`` (True) instead of ``C_t / n``.

    Returns
    -------
    WeightedCovarianceLaw
        With attributes ``n_tokens = B·steps`` and ``discount = r``.

    References
    ----------
    Peng et al., arXiv 2309.03004 (the accumulated covariance); Silverstein & Bai
    (1995) for the limit.

    Examples
    --------
    >>> law = discounted(0.5, 0.99, 200, batch=4)
    >>> round(law.mean(), 6) == round((1 - 0.99**200) / (200 * 0.01), 6)
    True
    >>> round(law.ratio_of_edges(), 1)
    51.0
    """
    c = check_real("ratio", ratio, lo=0.0, lo_open=True)
    r = check_real("r", r, lo=0.0, hi=1.0, lo_open=True)
    steps = check_int("steps", steps, min=1)
    batch = check_int("batch", batch, min=1)
    # one atom per step: the weights, their masses and the solver's per-atom arrays
    check_size_budget("steps", steps, nbytes=8 * 8 * steps, what=f"the weighted law's {steps} atoms")
    k = np.arange(steps, dtype=float)
    w = np.exp(k * math.log(r)) if r < 1.0 else np.ones(1)
    if np.any(w <= 0):  # underflow for very long horizons: these samples carry no weight
        w = w[w > 0]
        raise ValueError(
            f"r**steps underflows to 0 (r={r!r}, steps={steps}); use fewer steps (the tail beyond "
            f"{w.size} steps is below the smallest float)"
        )
    n = batch * steps
    if accumulated:
        w = w * n
    law = WeightedCovarianceLaw(c, w, scan_points=scan_points)
    law.n_tokens = n
    law.discount = r
    return law


def kish_effective_size(weights):
    """Kish effective sample size ``(Σ w)² / Σ w²`` of a weight vector (one weight per sample).

    .. math:: n_\\mathrm{eff} = \\frac{(\\sum_j w_j)^2}{\\sum_j w_j^2} = n\\,\\frac{(E_H t)^2}{E_H t^2}

    (``n_eff/n`` is :attr:`WeightedCovarianceLaw.kish_fraction`). It sets the
    second moment of the weighted law, ``m_2/m_1² = 1 + p/n_eff``, not its edges.
    Reference: L. Kish, *Survey Sampling* (1965); docs/science.md §5.

    For SGD's discounted sum (``B`` samples per step, weights ``r^k``,
    ``k < t``) it is ``B (1+r)/(1-r) · (1 - r^t)/(1 + r^t)``, see
    :func:`rmt_sparsity.theory.kish_effective_samples`.

    Examples
    --------
    >>> kish_effective_size([1.0, 1.0, 1.0, 1.0])
    4.0
    >>> round(kish_effective_size(0.99 ** np.arange(100_000)), 6)   # (1+r)/(1-r)
    199.0
    """
    w = check_array("weights", weights, ndim=1)
    if np.any(w < 0):
        raise ValueError("weights must be >= 0")
    s2 = float(np.dot(w, w))
    if s2 == 0:
        raise ValueError("weights must not all be 0")
    return float(w.sum() ** 2 / s2)
