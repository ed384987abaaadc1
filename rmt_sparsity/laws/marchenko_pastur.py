r"""The Marchenko–Pastur law, accurate to a few ulps up to both edges.

Convention (docs/design.md §3, docs/science.md §1): ``W`` is a :math:`p\times n` matrix with iid
entries of mean 0 and variance :math:`\sigma^2` (``scale``), ``ratio``
:math:`c = p/n`, and the spectrum is that of :math:`S = WW^\top/n`. As
:math:`p, n\to\infty` with :math:`p/n\to c` the empirical spectral distribution
of :math:`S` tends to

.. math::

    \mu_{c,\sigma^2} = \max(0, 1 - 1/c)\,\delta_0 + p(x)\,dx, \qquad
    p(x) = \frac{\sqrt{(b-x)(x-a)}}{2\pi\sigma^2 c\,x}\,\mathbf 1_{[a,b]}(x),

with :math:`a = \sigma^2(1-\sqrt c)^2`, :math:`b = \sigma^2(1+\sqrt c)^2`
(Marchenko & Pastur 1967; Bai & Silverstein, *Spectral Analysis of Large
Dimensional Random Matrices*, ch. 3). The continuous part has mass
:math:`\min(1, 1/c)`.

Numerics
--------
* The bulk edges are held as double-double numbers, so the offsets
  :math:`x-a` and :math:`b-x` of a float ``x`` are computed to a relative
  error of about one ulp even next to an edge (the conditioning
  :math:`\kappa = |\text{edge}|/|x-\text{edge}|` of the input is *not*
  amplified).
* With :math:`x = a + (b-a)u` the continuous CDF is
  :math:`F(u) = \frac{8}{\pi a}\int_0^u \frac{\sqrt{t(1-t)}}{1 + q t}dt`,
  :math:`q = (b-a)/a`. Next to an edge it is evaluated as
  :math:`F = \frac{16u^{3/2}}{\pi a}\int_0^1 \frac{\tau^2\sqrt{1-u\tau^2}}{1+\delta_a\tau^2}d\tau`
  with :math:`\delta_a = (x-a)/a`, by 24-point Gauss–Legendre quadrature
  (the integrand is positive and analytic on a Bernstein ellipse of
  parameter ≥ 2.4, so this is exact to rounding), and the survival function
  by the mirror formula at the upper edge. Elsewhere the closed form
  :math:`F = \frac{m}{\pi}\big[\varphi + \sin\varphi/\rho
  - \frac{1-\rho^2}{\rho^2}\operatorname{atan2}(\rho\sin\varphi,\,1-\rho\cos\varphi)\big]`
  is used, :math:`\varphi = 2\arcsin\sqrt u`, :math:`\rho = \min(\sqrt c, 1/\sqrt c)`,
  :math:`m = \min(1, 1/c)` (re-derived in this module's tests against
  quadrature).
* Quantiles are found by safeguarded Newton iteration in :math:`\log u`
  (lower half) or :math:`\log(1-u)` (upper half), started from a bracketing
  bound, so ``ppf(cdf(x))`` recovers ``x`` to a few ulps.

Two public objects share these functions: :class:`MarchenkoPastur`, a law
object with a validated constructor, and :data:`marchenko_pastur`, a
:class:`scipy.stats.rv_continuous` instance (shape ``ratio`` in (0, 1]).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from scipy.stats._distn_infrastructure import _ShapeInfo

from .._checks import as_float_array, check_int, check_real, check_shape, check_size_budget
from .._rng import as_generator

__all__ = ["MarchenkoPastur", "marchenko_pastur"]

_PI = math.pi

# 24-point Gauss-Legendre rule on [0, 1]; weights pre-multiplied by tau^2.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(24)
_TAU2 = (0.5 * (_GL_X + 1.0)) ** 2
_WTAU2 = 0.5 * _GL_W * _TAU2
#: Largest relative edge offset handled by quadrature on the lower side (see module notes).
_DELTA_GL = 1.0


# ----------------------------------------------------------------------------------------
# double-double helpers (error-free transformations, Dekker / Knuth)
# ----------------------------------------------------------------------------------------
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


_SPLITTER = 134217729.0  # 2**27 + 1


def _split(a):
    t = _SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


def _two_prod(a, b):
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, np.where(np.isfinite(err), err, 0.0)


def _dd_sq(hi, lo):
    p, e = _two_prod(hi, hi)
    return _two_sum(p, e + (2.0 * hi * lo + lo * lo))


def _dd_mul_d(hi, lo, s):
    p, e = _two_prod(hi, s)
    return _two_sum(p, e + lo * s)


class _Params:
    """Per-element constants of MP(c, s), broadcast over arrays (internal)."""

    __slots__ = (
        "c", "s", "r", "a_std", "b_std", "a_hi", "a_lo", "b_hi", "b_lo", "width",
        "rho", "one_m_rho", "kfac", "cmass", "atom", "mult", "q_a", "q_b",
    )

    def __init__(self, c, s, nonzero=False):
        c = np.asarray(c, dtype=float)
        s = np.asarray(s, dtype=float)
        c, s = np.broadcast_arrays(c, s)
        with np.errstate(all="ignore"):
            r = np.sqrt(c)
            p, e = _two_prod(r, r)
            r_lo = ((c - p) - e) / (2.0 * r)
            r_lo = np.where(np.isfinite(r_lo), r_lo, 0.0)
            d_hi, d_lo = _two_sum(1.0, -r)
            d_lo = d_lo - r_lo
            e_hi, e_lo = _two_sum(1.0, r)
            e_lo = e_lo + r_lo
            a_std_hi, a_std_lo = _dd_sq(d_hi, d_lo)
            b_std_hi, b_std_lo = _dd_sq(e_hi, e_lo)
            self.a_hi, self.a_lo = _dd_mul_d(a_std_hi, a_std_lo, s)
            self.b_hi, self.b_lo = _dd_mul_d(b_std_hi, b_std_lo, s)
            self.a_std = a_std_hi
            self.b_std = b_std_hi
            self.c, self.s, self.r = c, s, r
            self.width = 4.0 * s * r  # b - a
            big = c > 1.0
            self.rho = np.where(big, 1.0 / r, r)
            # 1 - rho without cancellation: (1-c)/(1+r) or (c-1)/(r(r+1))
            self.one_m_rho = np.where(big, (c - 1.0) / (r * (r + 1.0)), (1.0 - c) / (1.0 + r))
            # (1 - rho^2)/rho^2
            self.kfac = np.where(big, c - 1.0, (1.0 - c) / c)
            m_true = np.where(big, 1.0 / c, 1.0)
            if nonzero:
                self.cmass = np.ones_like(c)
                self.atom = np.zeros_like(c)
                self.mult = np.where(big, c, 1.0)
            else:
                self.cmass = m_true
                self.atom = np.where(big, 1.0 - m_true, 0.0)
                self.mult = np.ones_like(c)
            self.q_a = 4.0 * r / a_std_hi  # (b-a)/a in standard units (inf at c = 1)
            self.q_b = 4.0 * r / b_std_hi  # (b-a)/b


def _offsets(x, P):
    """Accurate x - a and b - x (a, b held as double-double); ±inf for x = ±inf."""
    h, e = _two_sum(x, -P.a_hi)
    dxa = h + (e - P.a_lo)
    h, e = _two_sum(P.b_hi, -x)
    dxb = h + (e + P.b_lo)
    inf = np.isinf(x)
    if inf.any():  # the error terms of an infinite sum are inf - inf = NaN
        dxa = np.where(inf, x, dxa)
        dxb = np.where(inf, -x, dxb)
    return dxa, dxb


# ----------------------------------------------------------------------------------------
# continuous part in the u-variable: u = (x-a)/(b-a), v = 1-u
# ----------------------------------------------------------------------------------------
def _lower(u, v, da, P):
    """Continuous mass below x for u <= 1/2 (da = (x-a)/a)."""
    out = np.empty(np.shape(u))
    gl = da <= _DELTA_GL
    if gl.any():
        ug, dg = u[gl], da[gl]
        integ = (_WTAU2 * np.sqrt(1.0 - ug[:, None] * _TAU2) / (1.0 + dg[:, None] * _TAU2)).sum(axis=1)
        out[gl] = (16.0 / _PI) * P.mult[gl] * ug * np.sqrt(ug) / P.a_std[gl] * integ
    cf = ~gl
    if cf.any():
        uc, vc = u[cf], v[cf]
        rho, kfac, omr = P.rho[cf], P.kfac[cf], P.one_m_rho[cf]
        phi = 2.0 * np.arcsin(np.sqrt(uc))
        sphi = 2.0 * np.sqrt(uc * vc)
        chi = np.arctan2(rho * sphi, omr + 2.0 * rho * uc)
        out[cf] = (P.cmass[cf] / _PI) * (phi + sphi / rho - kfac * chi)
    return out


def _upper(v, db, P):
    """Continuous mass above x for v <= 1/2 (db = (b-x)/b)."""
    integ = (_WTAU2 * np.sqrt(1.0 - v[..., None] * _TAU2) / (1.0 - db[..., None] * _TAU2)).sum(axis=-1)
    return (16.0 / _PI) * P.mult * v * np.sqrt(v) / P.b_std * integ


def _dFdu(u, v, P):
    """Density with respect to u: 8 sqrt(uv) / (pi x_std) (times mult)."""
    x_std = P.a_std + 4.0 * P.r * u
    return (8.0 / _PI) * P.mult * np.sqrt(u * v) / x_std


def _flat(x, c, s, nonzero, name="x"):
    x = as_float_array(name, x)
    c = np.asarray(c, dtype=float)
    s = np.asarray(s, dtype=float)
    x, c, s = np.broadcast_arrays(x, c, s)
    shape = x.shape
    return x.ravel(), c.ravel(), s.ravel(), shape


def _valid(c, s):
    return (c > 0) & np.isfinite(c) & (s > 0) & np.isfinite(s)


def _cdf_sf(x, c, s=1.0, nonzero=False):
    """(cdf, sf) of the MP law at ``x`` (NaN for NaN input or invalid parameters)."""
    x, c, s, shape = _flat(x, c, s, nonzero)
    cdf = np.full(x.shape, np.nan)
    sf = np.full(x.shape, np.nan)
    ok = _valid(c, s) & ~np.isnan(x)
    if ok.any():
        with np.errstate(all="ignore"):
            P = _Params(c[ok], s[ok], nonzero)
            xo = x[ok]
            dxa, dxb = _offsets(xo, P)
            co = np.empty(xo.shape)
            so = np.empty(xo.shape)
            below0 = xo < 0
            below = dxa <= 0
            above = dxb <= 0
            # below the bulk: cdf = atom (for x >= 0), 0 for x < 0
            co[below] = np.where(below0[below], 0.0, P.atom[below])
            so[below] = np.where(below0[below], 1.0, P.cmass[below])
            co[above] = 1.0
            so[above] = 0.0
            bulk = ~below & ~above
            if bulk.any():
                Pb = _sub(P, bulk)
                da, db = dxa[bulk], dxb[bulk]
                u = da / Pb.width
                v = db / Pb.width
                low = da <= db
                cb = np.empty(u.shape)
                sb = np.empty(u.shape)
                if low.any():
                    Pl = _sub(Pb, low)
                    F = _lower(u[low], v[low], da[low] / Pl.a_hi, Pl)
                    cb[low] = Pl.atom + F
                    sb[low] = Pl.cmass - F
                hi = ~low
                if hi.any():
                    Ph = _sub(Pb, hi)
                    S = _upper(v[hi], db[hi] / Ph.b_hi, Ph)
                    cb[hi] = Ph.atom + (Ph.cmass - S)
                    sb[hi] = S
                co[bulk] = cb
                so[bulk] = sb
        cdf[ok] = co
        sf[ok] = so
    return cdf.reshape(shape), sf.reshape(shape)


def _sub(P, mask):
    Q = _Params.__new__(_Params)
    for name in _Params.__slots__:
        setattr(Q, name, getattr(P, name)[mask])
    return Q


def _pdf(x, c, s=1.0, nonzero=False, log=False):
    """Density of the continuous part (times ratio for the non-zero law with ratio > 1)."""
    x, c, s, shape = _flat(x, c, s, nonzero)
    out = np.full(x.shape, np.nan)
    ok = _valid(c, s) & ~np.isnan(x)
    if ok.any():
        with np.errstate(all="ignore"):
            P = _Params(c[ok], s[ok], nonzero)
            xo = x[ok]
            dxa, dxb = _offsets(xo, P)
            inside = (dxa >= 0) & (dxb >= 0)
            if log:
                val = (0.5 * (np.log(dxa) + np.log(dxb)) - np.log(2.0 * _PI * P.c * P.s * xo)
                       + np.log(P.mult))
                val = np.where(inside, val, -np.inf)
                hard = inside & (xo == 0)  # ratio == 1, x == 0: density diverges
                val = np.where(hard, np.inf, val)
            else:
                val = np.sqrt(dxa) * np.sqrt(dxb) / (2.0 * _PI * P.c * P.s * xo) * P.mult
                val = np.where(inside, val, 0.0)
                val = np.where(inside & (xo == 0), np.inf, val)
            out[ok] = val
    return out.reshape(shape)


def _solve_log(target, lo_guess, fun, dfun, hi_y):
    """Safeguarded Newton for fun(w) = target in y = log w, w in (0, exp(hi_y)].

    ``lo_guess`` must satisfy fun(lo_guess) <= target (a bracketing lower bound).
    ``fun(w, idx)``/``dfun(w, idx)`` evaluate on the active subset ``idx``.
    """
    n = target.size
    y = np.log(lo_guess)
    lo = y.copy()
    hi = np.full(n, hi_y)
    y = np.minimum(y, hi)
    ltarget = np.log(target)
    active = np.arange(n)
    for _ in range(80):
        if active.size == 0:
            break
        ya = y[active]
        w = np.exp(ya)
        Fv = fun(w, active)
        H = np.log(Fv) - ltarget[active]
        dH = w * dfun(w, active) / Fv
        neg = H < 0
        lo[active] = np.where(neg, np.maximum(lo[active], ya), lo[active])
        hi[active] = np.where(~neg, np.minimum(hi[active], ya), hi[active])
        step = H / dH
        ynew = ya - step
        la, ha = lo[active], hi[active]
        # converged: the Newton correction is below rounding of y (or F hit the target)
        conv = (np.abs(step) <= 4e-16 * np.maximum(1.0, np.abs(ya))) | (H == 0)
        bad = ~conv & (~np.isfinite(ynew) | (ynew < la) | (ynew > ha))
        ynew = np.where(bad, 0.5 * (la + ha), ynew)
        y[active] = ynew
        done = conv | (ha - la <= 4e-16 * np.maximum(1.0, np.abs(la)))
        active = active[~done]
    # y = log w carries an absolute rounding of eps*|y|, i.e. a relative error of
    # eps*|log w| in w: one Newton step in w itself removes it.
    w = np.exp(y)
    idx = np.arange(n)
    with np.errstate(all="ignore"):
        wn = w - (fun(w, idx) - target) / dfun(w, idx)
    ok = np.isfinite(wn) & (np.abs(wn - w) <= 1e-10 * w)
    return np.where(ok, wn, w)


def _quantile(q, c, s=1.0, nonzero=False, upper=False):
    """ppf (upper=False, q = cdf level) or isf (upper=True, q = sf level)."""
    q, c, s, shape = _flat(q, c, s, nonzero, name="q")
    out = np.full(q.shape, np.nan)
    ok = _valid(c, s) & (q >= 0) & (q <= 1)
    if ok.any():
        with np.errstate(all="ignore"):
            P = _Params(c[ok], s[ok], nonzero)
            qo = q[ok]
            res = np.empty(qo.shape)
            half = np.full(qo.shape, 0.5)
            S_half = _upper(half, 0.5 * P.q_b, P)  # continuous mass above u = 1/2
            if upper:
                p_up = qo  # sf level
                t_low = P.cmass - qo  # continuous cdf level (exact when qo <= cmass)
            else:
                p_up = 1.0 - qo
                t_low = qo - P.atom
            use_up = p_up <= S_half
            # bottom of the law: the atom (or the lower edge)
            at_bottom = ~use_up & (t_low <= 0)
            res[at_bottom] = np.where(P.atom[at_bottom] > 0, 0.0, P.a_hi[at_bottom])
            top = use_up & (p_up <= 0)
            res[top] = P.b_hi[top]
            lo_m = ~use_up & ~at_bottom
            if lo_m.any():
                Pl = _sub(P, lo_m)
                t = t_low[lo_m]
                # F(u) <= min(16 u^1.5 / (3 pi a), 4 sqrt(u) / (pi r)) * mult: bracketing start
                with np.errstate(all="ignore"):
                    u1 = (3.0 * _PI * Pl.a_std * t / (16.0 * Pl.mult)) ** (2.0 / 3.0)
                    u2 = (_PI * Pl.r * t / (4.0 * Pl.mult)) ** 2
                u0 = np.minimum(np.maximum(u1, u2), 0.5)
                u0 = np.where(u0 > 0, u0, np.finfo(float).tiny)

                def fun(w, idx, Pl=Pl):
                    Pi = _sub(Pl, idx)
                    return _lower(w, 1.0 - w, Pi.q_a * w, Pi)

                def dfun(w, idx, Pl=Pl):
                    return _dFdu(w, 1.0 - w, _sub(Pl, idx))

                u = _solve_log(t, u0, fun, dfun, math.log(0.5))
                res[lo_m] = Pl.a_hi + Pl.width * u
            up_m = use_up & ~top
            if up_m.any():
                Pu = _sub(P, up_m)
                p = p_up[up_m]
                # S(v) <= 16 v^1.5 / (3 pi b (1 - q_b/2)) * mult for v <= 1/2
                v0 = (3.0 * _PI * Pu.b_std * (1.0 - 0.5 * Pu.q_b) * p / (16.0 * Pu.mult)) ** (2.0 / 3.0)
                v0 = np.minimum(v0, 0.5)
                v0 = np.where(v0 > 0, v0, np.finfo(float).tiny)

                def fun(w, idx, Pu=Pu):
                    Pi = _sub(Pu, idx)
                    return _upper(w, Pi.q_b * w, Pi)

                def dfun(w, idx, Pu=Pu):
                    return _dFdu(1.0 - w, w, _sub(Pu, idx))

                v = _solve_log(p, v0, fun, dfun, math.log(0.5))
                res[up_m] = Pu.b_hi - Pu.width * v
            out[ok] = res
    return out.reshape(shape)


#: Largest moment order: the Narayana sum has k terms of O(k)-digit integers.
MAX_MOMENT_ORDER = 10_000


def _narayana_moment(k: int, c, s=1.0):
    """E[x^k] of the full MP law: s^k sum_{r<k} c^r/(r+1) C(k,r) C(k-1,r) (inf beyond the float range).

    Exact integer coefficients for k <= 150; above, the sum is taken in logs
    (log-sum-exp), so it neither overflows in the coefficients nor gives
    0 * inf = NaN when ``c^r`` or ``s^k`` leave the float range.
    """
    c = np.asarray(c, dtype=float)
    if k == 0:
        return np.ones_like(c)
    if k <= 150:
        tot = np.zeros_like(c)
        for r in range(k - 1, -1, -1):  # Horner-free positive sum, small terms first for c < 1
            tot = tot + c**r * (math.comb(k, r) * math.comb(k - 1, r) / (r + 1))
        return tot * np.asarray(s, dtype=float) ** k
    r = np.arange(k)
    lcoef = np.array([math.log(math.comb(k, j) * math.comb(k - 1, j)) for j in range(k)]) - np.log(r + 1.0)
    with np.errstate(divide="ignore", over="ignore"):
        lt = lcoef + r * np.log(c)[..., None]
        top = lt.max(axis=-1)
        lsum = top + np.log(np.exp(lt - top[..., None]).sum(axis=-1))
        return np.exp(lsum + k * np.log(np.asarray(s, dtype=float)))


def _stieltjes(z, c, s=1.0, nonzero=False):
    r"""m(z) = \int d\mu(x)/(x - z), branch with Im m > 0 for Im z > 0."""
    z = np.asarray(z, dtype=complex)
    with np.errstate(all="ignore"):
        w = z / s
        a = (1.0 - math.sqrt(c)) ** 2 if c <= 1 else (math.sqrt(c) - 1.0) ** 2
        b = (1.0 + math.sqrt(c)) ** 2
        # product of principal roots: analytic off [a, b], ~ w at infinity
        R = np.sqrt(w - a) * np.sqrt(w - b)
        B = w - 1.0 + c
        # roots of c w m^2 + B m + 1 = 0; choose the formula free of cancellation
        use1 = np.abs(B + R) >= np.abs(B - R)
        m1 = -2.0 / (B + R)
        m2 = (R - B) / (2.0 * c * w)
        m = np.where(use1, m1, m2) / s
        if nonzero and c > 1:
            m = c * m + (c - 1.0) / z
    return m


# ----------------------------------------------------------------------------------------
# the law object
# ----------------------------------------------------------------------------------------
def _ret(a):
    a = np.asarray(a)
    return a[()] if a.ndim == 0 else a


class MarchenkoPastur:
    r"""Marchenko–Pastur law of the eigenvalues of :math:`WW^\top/n`.

    ``W`` is :math:`p\times n` with iid entries of variance ``scale`` =
    :math:`\sigma^2`, and ``ratio`` = :math:`c = p/n`. The (full) law is

    .. math::

        \mu = \max(0, 1-1/c)\,\delta_0 + \frac{\sqrt{(b-x)(x-a)}}{2\pi\sigma^2 c\,x}
        \mathbf 1_{[a,b]}(x)\,dx,\qquad a, b = \sigma^2(1\mp\sqrt c)^2 .

    For ``ratio > 1`` the atom at 0 (the :math:`p-n` structural zero
    eigenvalues) is part of the law: ``cdf(0) = atom = 1 - 1/ratio`` and
    ``ppf(q) = 0`` for ``q <= atom``. ``pdf`` is the density of the
    *continuous part only* (it integrates to :math:`\min(1, 1/c)`).

    With ``nonzero=True`` the object is instead the law of the *non-zero*
    eigenvalues, i.e. the continuous part renormalised to mass 1 (density
    :math:`c\,p(x)` for ``ratio > 1``; identical to the full law for
    ``ratio <= 1``). This is also the law of :math:`W^\top W/n` restricted to
    its non-zero spectrum.

    Parameters
    ----------
    ratio : float
        :math:`c = p/n > 0`. ``ratio = 1`` (hard edge at 0) is supported.
    scale : float, default 1.0
        Entry variance :math:`\sigma^2 > 0` (a scale parameter of the law).
    nonzero : bool, default False
        Return the law of the non-zero eigenvalues instead of the full law.

    Raises
    ------
    ValueError
        If ``ratio`` or ``scale`` is not a finite positive number.

    Notes
    -----
    Accuracy: pdf, cdf and sf have a relative error of a few ulps on the whole
    support, edges included (see the module notes; measured against the mpmath
    quadrature table ``data/mp_reference.csv``). Methods follow scipy: NaN
    input gives NaN. Reference: Marchenko & Pastur, Math. USSR-Sb. 1 (1967);
    Bai & Silverstein (2010), ch. 3; for the moments, arXiv math/0701314
    (Narayana polynomials).

    Examples
    --------
    >>> from rmt_sparsity.laws import MarchenkoPastur
    >>> mp = MarchenkoPastur(0.25)
    >>> mp.support()
    (0.25, 2.25)
    >>> float(mp.cdf(1.0))
    0.5...
    >>> mp4 = MarchenkoPastur(4.0)
    >>> mp4.atom, float(mp4.cdf(0.0)), float(mp4.ppf(0.5))
    (0.75, 0.75, 0.0)
    >>> float(mp4.pdf(4.0) * 4)  # density of the non-zero eigenvalues at 4: sqrt(15)/(8 pi)
    0.1541...
    >>> float(MarchenkoPastur(4.0, nonzero=True).pdf(4.0))
    0.1541...
    """

    def __init__(self, ratio, scale=1.0, *, nonzero=False):
        self.ratio = check_real("ratio", ratio, lo=0.0, lo_open=True)
        self.scale = check_real("scale", scale, lo=0.0, lo_open=True)
        if not isinstance(nonzero, (bool, np.bool_)):
            raise TypeError(f"nonzero must be a bool; got {type(nonzero).__name__} {nonzero!r}")
        self.nonzero = bool(nonzero)
        P = _Params(self.ratio, self.scale, self.nonzero)
        self._a = float(P.a_hi)
        self._b = float(P.b_hi)
        if not (np.isfinite(self._b) and self._b > 0):
            raise ValueError(
                f"ratio * scale out of floating-point range: ratio={self.ratio!r}, scale={self.scale!r}"
            )
        self.atom = float(P.atom)
        """Mass of the atom at 0: ``1 - 1/ratio`` for the full law with ratio > 1, else 0."""

    def __repr__(self):
        nz = ", nonzero=True" if self.nonzero else ""
        return f"MarchenkoPastur(ratio={self.ratio!r}, scale={self.scale!r}{nz})"

    # -- basic properties -----------------------------------------------------------------
    @property
    def edges(self) -> tuple[float, float]:
        r"""Bulk edges :math:`(a, b) = \sigma^2((1-\sqrt c)^2, (1+\sqrt c)^2)` (floats).

        Examples
        --------
        >>> MarchenkoPastur(4.0).edges
        (1.0, 9.0)
        """
        return (self._a, self._b)

    def support(self) -> tuple[float, float]:
        """Smallest interval holding the law: ``(a, b)``; ``(0, b)`` for the full law with ratio > 1.

        Examples
        --------
        >>> MarchenkoPastur(4.0).support(), MarchenkoPastur(4.0, nonzero=True).support()
        ((0.0, 9.0), (1.0, 9.0))
        """
        lo = 0.0 if self.atom > 0 else self._a
        return (lo, self._b)

    def extreme_ratio(self) -> float:
        r"""Limit of :math:`\lambda_{\max}/\lambda_{\min}^{\ne 0}`: the ratio of the bulk edges :math:`b/a`.

        .. math::

            \frac{b}{a} = \left(\frac{1+\sqrt c}{1-\sqrt c}\right)^2 ,

        the same for ``ratio`` :math:`c` and :math:`1/c` (the non-zero spectra of
        :math:`WW^\top` and :math:`W^\top W` coincide), independent of ``scale``,
        and ``inf`` at :math:`c = 1`, where the hard edge sends :math:`\lambda_{\min}` to 0
        (there Edelman's law, not this limit, describes the ratio). It is the
        square of the singular-value ratio :math:`(1+\sqrt c)/|1-\sqrt c|`.
        Reference: Bai & Silverstein (2010), Thm 5.11 (edges); arXiv 2309.03004
        uses it as the baseline concentration of a random key matrix.

        Examples
        --------
        >>> MarchenkoPastur(0.25).extreme_ratio()
        9.0
        >>> MarchenkoPastur(4.0).extreme_ratio(), MarchenkoPastur(1.0).extreme_ratio()
        (9.0, inf)
        """
        r = math.sqrt(self.ratio)
        if r == 1.0:
            return math.inf
        return ((1.0 + r) / abs(1.0 - r)) ** 2

    # -- distribution functions ------------------------------------------------------------
    def pdf(self, x):
        r"""Density of the continuous part, :math:`\sqrt{(b-x)(x-a)}/(2\pi\sigma^2 c x)` on [a, b].

        For the full law with ratio > 1 this integrates to ``1/ratio`` (the atom
        is not a density); with ``nonzero=True`` it integrates to 1. At ratio = 1
        the density diverges at 0 and ``pdf(0) = inf``.

        Examples
        --------
        >>> float(MarchenkoPastur(1.0).pdf(2.0))
        0.1591...
        """
        return _ret(_pdf(x, self.ratio, self.scale, self.nonzero))

    def logpdf(self, x):
        """Log of :meth:`pdf` (``-inf`` outside [a, b]), computed without underflow.

        Examples
        --------
        >>> float(MarchenkoPastur(0.5).logpdf(10.0))
        -inf
        """
        return _ret(_pdf(x, self.ratio, self.scale, self.nonzero, log=True))

    def cdf(self, x):
        """P(X <= x), atom included (``cdf(0) = atom`` for ratio > 1).

        Examples
        --------
        >>> float(MarchenkoPastur(2.0).cdf(0.0))
        0.5
        """
        return _ret(_cdf_sf(x, self.ratio, self.scale, self.nonzero)[0])

    def sf(self, x):
        """P(X > x), computed directly (accurate near the upper edge).

        Examples
        --------
        >>> float(MarchenkoPastur(0.5).sf(2.9))  # upper edge b = 2.9142...
        0.000207817305385...
        """
        return _ret(_cdf_sf(x, self.ratio, self.scale, self.nonzero)[1])

    def logcdf(self, x):
        """log P(X <= x) (``log1p(-sf)`` where sf < 1/2).

        Examples
        --------
        >>> float(MarchenkoPastur(0.5).logcdf(0.0))
        -inf
        """
        c, s = _cdf_sf(x, self.ratio, self.scale, self.nonzero)
        with np.errstate(all="ignore"):
            return _ret(np.where(s < 0.5, np.log1p(-s), np.log(c)))

    def logsf(self, x):
        """log P(X > x) (``log1p(-cdf)`` where cdf < 1/2).

        Examples
        --------
        >>> float(MarchenkoPastur(0.5).logsf(0.0))
        0.0
        """
        c, s = _cdf_sf(x, self.ratio, self.scale, self.nonzero)
        with np.errstate(all="ignore"):
            return _ret(np.where(c < 0.5, np.log1p(-c), np.log(s)))

    def ppf(self, q):
        """Quantile function (inverse of :meth:`cdf`); 0 for ``q <= atom``, NaN outside [0, 1].

        Examples
        --------
        >>> mp = MarchenkoPastur(0.5)
        >>> float(mp.ppf(mp.cdf(1.3)))
        1.3
        """
        return _ret(_quantile(q, self.ratio, self.scale, self.nonzero, upper=False))

    def isf(self, q):
        """Inverse survival function (solves ``sf(x) = q`` directly; accurate for small q).

        Examples
        --------
        >>> mp = MarchenkoPastur(0.5)
        >>> float(mp.isf(mp.sf(2.9)))
        2.9
        """
        return _ret(_quantile(q, self.ratio, self.scale, self.nonzero, upper=True))

    # -- moments ----------------------------------------------------------------------------
    def moment(self, k):
        r"""Raw moment :math:`E[X^k] = \sigma^{2k}\sum_{r=0}^{k-1}\frac{c^r}{r+1}\binom kr\binom{k-1}r`.

        Moments of the full law (atom included); for ``nonzero=True`` and
        ratio > 1 they are multiplied by ``ratio`` (k >= 1). ``k`` is an integer
        in ``[0, MAX_MOMENT_ORDER]`` (10 000: the sum has k terms of O(k)-digit
        integers); beyond the float range the moment is ``inf``.

        Examples
        --------
        >>> MarchenkoPastur(0.5).moment(2)
        1.5
        """
        k = check_int("k", k, min=0, max=MAX_MOMENT_ORDER)
        m = float(_narayana_moment(k, self.ratio, self.scale))
        if k >= 1 and self.nonzero and self.ratio > 1:
            m *= self.ratio
        return m

    def mean(self) -> float:
        """Mean: ``scale`` (full law), ``ratio*scale`` (non-zero law, ratio > 1).

        Examples
        --------
        >>> MarchenkoPastur(3.0, 2.0).mean()
        2.0
        """
        return self.moment(1)

    def var(self) -> float:
        """Variance: ``ratio * scale**2`` (both the full and the non-zero law).

        Examples
        --------
        >>> MarchenkoPastur(3.0, 2.0).var()
        12.0
        """
        return self.ratio * self.scale**2

    def std(self) -> float:
        """Standard deviation, ``sqrt(var())``."""
        return math.sqrt(self.var())

    def stieltjes(self, z):
        r"""Stieltjes transform :math:`m(z) = \int \frac{d\mu(x)}{x - z}` (atom included).

        It is the root of :math:`c\sigma^2 z m^2 + (z - \sigma^2(1-c))m + 1 = 0`
        that is analytic off the support, :math:`\sim -1/z` at infinity, with
        :math:`\operatorname{Im} m > 0` for :math:`\operatorname{Im} z > 0` and
        :math:`m(\bar z) = \overline{m(z)}`. Real ``z`` is treated as
        ``z + 0j`` (on the bulk this is the limit from the upper half plane).
        With ``nonzero=True`` and ratio > 1 it is the transform of the non-zero
        law, :math:`c\,m(z) + (c-1)/z`.

        Examples
        --------
        >>> float(MarchenkoPastur(0.5).stieltjes(0.0).real)  # E[1/X] = 1/(1-c)
        2.0000000000000...
        >>> float(MarchenkoPastur(0.5).stieltjes(1 + 1j).imag) > 0
        True
        """
        z = as_float_array("z", z, complex_ok=True)
        return _ret(_stieltjes(z, self.ratio, self.scale, self.nonzero))

    # -- sampling ---------------------------------------------------------------------------
    def rvs(self, size=None, *, rng=None):
        """Exact draws by inverse CDF of uniforms (zeros for the atom when ratio > 1).

        Parameters
        ----------
        size : int or tuple of int, optional
            Output shape (a float for ``None``). A size whose draws would not
            fit in the available memory raises ``ValueError`` before drawing.
        rng : None, int, or numpy.random.Generator
            Normalised once by :func:`rmt_sparsity._rng.as_generator`.

        Examples
        --------
        >>> x = MarchenkoPastur(4.0).rvs(1000, rng=0)
        >>> bool(abs((x == 0).mean() - 0.75) < 0.05)
        True
        """
        shape, count = check_shape("size", size)
        # the quantile solver holds a few dozen float64 temporaries per draw
        check_size_budget("size", size, nbytes=40 * 8 * count, what="the draws and the quantile solver's temporaries")
        gen = as_generator(rng)
        u = gen.random(shape)
        return _ret(_quantile(u, self.ratio, self.scale, self.nonzero, upper=False))


# ----------------------------------------------------------------------------------------
# scipy.stats instance
# ----------------------------------------------------------------------------------------
class marchenko_pastur_gen(stats.rv_continuous):
    r"""Marchenko–Pastur distribution, ``ratio`` = :math:`c \in (0, 1]` (no atom).

    .. math::

        f(x, c) = \frac{\sqrt{(b-x)(x-a)}}{2\pi c\,x}, \quad a, b = (1\mp\sqrt c)^2 .

    ``scale`` is the entry variance :math:`\sigma^2` (MP is a scale family),
    ``loc`` should be left at 0. Parameters outside the domain give NaN
    (scipy's convention). For ratio > 1 (with the atom at 0) use
    :class:`MarchenkoPastur`. Same numerical core as :class:`MarchenkoPastur`.

    Examples
    --------
    >>> from rmt_sparsity.laws import marchenko_pastur
    >>> float(marchenko_pastur.mean(0.5, scale=2.0))
    2.0
    >>> float(marchenko_pastur.cdf(1.0, 1.0))
    0.609...
    >>> import numpy as np; bool(np.isnan(marchenko_pastur.cdf(1.0, 2.0)))
    True
    """

    def _shape_info(self):
        return [_ShapeInfo("ratio", False, (0.0, 1.0), (False, True))]

    def _argcheck(self, ratio):
        ratio = np.asarray(ratio, dtype=float)  # a Python int beyond int64 arrives as an object array
        return (ratio > 0) & (ratio <= 1)

    def _get_support(self, ratio):
        ratio = np.asarray(ratio, dtype=float)
        with np.errstate(invalid="ignore"):  # called before _argcheck; NaN outside the domain
            r = np.sqrt(ratio)
            return (1.0 - ratio) ** 2 / (1.0 + r) ** 2, (1.0 + r) ** 2

    def _pdf(self, x, ratio):
        return _pdf(x, ratio)

    def _logpdf(self, x, ratio):
        return _pdf(x, ratio, log=True)

    def _cdf(self, x, ratio):
        return _cdf_sf(x, ratio)[0]

    def _sf(self, x, ratio):
        return _cdf_sf(x, ratio)[1]

    def _logcdf(self, x, ratio):
        c, s = _cdf_sf(x, ratio)
        with np.errstate(all="ignore"):
            return np.where(s < 0.5, np.log1p(-s), np.log(c))

    def _logsf(self, x, ratio):
        c, s = _cdf_sf(x, ratio)
        with np.errstate(all="ignore"):
            return np.where(c < 0.5, np.log1p(-c), np.log(s))

    def _ppf(self, q, ratio):
        return _quantile(q, ratio, upper=False)

    def _isf(self, q, ratio):
        return _quantile(q, ratio, upper=True)

    def _stats(self, ratio):
        # raw moments 1, 1+c, 1+3c+c^2, 1+6c+6c^2+c^3 -> mu3 = c^2, mu4 = 2c^2 + c^3
        return 1.0 + 0.0 * ratio, ratio, np.sqrt(ratio), ratio - 1.0

    def _munp(self, n, ratio):
        return _narayana_moment(int(n), ratio)

    def _rvs(self, ratio, size=None, random_state=None):
        u = random_state.uniform(size=size)
        return _quantile(u, ratio, upper=False)


marchenko_pastur = marchenko_pastur_gen(a=0.0, name="marchenko_pastur", shapes="ratio")
"""scipy ``rv_continuous`` instance of the Marchenko–Pastur law (ratio in (0, 1], scale = sigma^2)."""
