"""A certified Stieltjes-transform fixed-point solver and the law objects built on it.

Several limiting spectral laws have no closed form: their Stieltjes transform

.. math:: m(z) = \\int \\frac{\\mu(dx)}{x - z}, \\qquad \\operatorname{Im} z > 0,

is only known as the solution of a fixed-point equation ``F(u; z) = 0`` in one
complex unknown ``u`` (``u = m`` itself, or a subordination function).
:func:`solve_stieltjes` solves such an equation on a vector of points and
:class:`FixedPointLaw` turns the solution into a distribution (density, cdf,
support edges, moments).

Algorithm (all vectorised over the points with NumPy; the sums over the atoms of
a discrete parameter measure run in a fused Numba loop):

1. **Start far from the spectrum.** At ``z = x + i·η0`` with ``η0`` ten times
   the spectral scale the solution is close to its large-``z`` asymptote
   (``m ≈ -1/(z - mean)``) and damped Newton converges at once.
2. **Continuation in η.** ``η`` is lowered towards the target geometrically,
   per point. Each stage runs damped Newton (backtracking on ``|F|``) from the
   previous stage's solution; a stage is accepted only if the residual drops
   below ``tol`` *and* the iterate stays on the admissible branch
   (``Im m > 0``, plus the equation's own constraints, e.g.
   ``Im ω ≥ Im z`` for subordination functions). A rejected stage is retried
   with a smaller η step; the analytic solution depends continuously on
   ``η > 0``, so small enough steps cannot jump branches.
3. **Certificate.** Every returned point carries its dimensionless residual
   ``|F(u; z)|``; a point whose residual stays above ``tol`` raises
   :class:`ConvergenceError` naming the point and its residual. Nothing is
   returned silently unconverged.
4. **η → 0 extrapolation.** In the interior of the support ``m`` extends
   analytically across the real axis, so ``m(x + iη) = m(x) + iη m'(x) + O(η²)``.
   The density ``Im m(x + i0)/π`` is obtained by Richardson extrapolation
   ``2 m(x + iη/2) - m(x + iη)`` on a halving sequence of η, per point, until
   two successive extrapolants agree (adaptive), which also yields an error
   estimate.

Support edges are found by scanning the density on a grid and refining each
transition with a safeguarded secant on ``ρ(x)²`` (a square-root edge makes
``ρ²`` linear); laws with an exact edge characterisation override the outer
edges. The cdf and the moments integrate the density on each support interval
after the substitution ``x = a + (b-a)(1 - cos θ)/2``, which turns a
square-root edge into a smooth even function of ``θ``, so the midpoint rule in
``θ`` (and the cosine series for partial integrals) converges spectrally.

References
----------
Silverstein & Choi (1995), J. Multivariate Anal. 54, 295-309 (support from the
inverse Stieltjes map); Couillet & Debbah, *Random Matrix Methods for Wireless
Communications* (2011), ch. 3 (fixed-point solvers); Belinschi & Bercovici,
arXiv math/0609426 (subordination as an attracting fixed point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._checks import as_float_array, check_array, check_int, check_real, check_size_budget

__all__ = [
    "ConvergenceError",
    "CovarianceProblem",
    "FixedPointProblem",
    "StieltjesSolution",
    "solve_stieltjes",
    "FixedPointLaw",
    "atom_sums",
]


class ConvergenceError(RuntimeError):
    """The fixed-point solver did not reach its tolerance at some points.

    Attributes
    ----------
    z : ndarray of complex
        The offending points (spectral variable ``z = x + iη``).
    residual : ndarray of float
        Their dimensionless residuals ``|F(u; z)|`` (``nan`` if the iterate
        left the admissible branch or became non-finite).
    tol : float
        The tolerance that was not met.

    Examples
    --------
    >>> from rmt_sparsity.laws import WeightedCovarianceLaw
    >>> try:
    ...     WeightedCovarianceLaw(0.5, [1.0]).solve([1.0 + 0.1j], tol=1e-30)
    ... except ConvergenceError as err:
    ...     print(err.residual.size, bool(err.residual[0] > err.tol))
    1 True
    """

    def __init__(self, message, z, residual, tol):
        super().__init__(message)
        self.z = np.asarray(z)
        self.residual = np.asarray(residual)
        self.tol = float(tol)


# ---------------------------------------------------------------------------------------------
# Sums over the atoms of a discrete parameter measure (the inner loop of every equation here).
# ---------------------------------------------------------------------------------------------

_NB_KERNEL = None


def _get_kernel():
    global _NB_KERNEL
    if _NB_KERNEL is None:
        import numba

        @numba.njit(cache=True, fastmath=False)
        def _sums(a, b, t, pg):  # pragma: no cover - compiled
            n = a.size
            k = t.size
            s0 = np.empty(n, np.complex128)
            s1 = np.empty(n, np.complex128)
            s2 = np.empty(n, np.complex128)
            for i in range(n):
                ai = a[i]
                bi = b[i]
                acc0 = 0j
                acc1 = 0j
                acc2 = 0j
                ar = ai.real
                aim = ai.imag
                br = bi.real
                bim = bi.imag
                for j in range(k):
                    tj = t[j]
                    dr = ar * tj + br
                    di = aim * tj + bim
                    den = 1.0 / (dr * dr + di * di)
                    ir = dr * den  # 1/(d) = conj(d)/|d|^2 (no overflow for |d| in [1e-150, 1e150])
                    ii = -di * den
                    g = pg[j]
                    acc0 += complex(g * ir, g * ii)
                    q2r = g * (ir * ir - ii * ii)
                    q2i = g * (2.0 * ir * ii)
                    acc2 += complex(q2r, q2i)
                    acc1 += complex(q2r * tj, q2i * tj)
                s0[i] = acc0
                s1[i] = acc1
                s2[i] = acc2
            return s0, s1, s2

        _NB_KERNEL = _sums
    return _NB_KERNEL


#: Below this many (points x atoms) the NumPy path is used (no compilation cost).
_NUMPY_MAX_WORK = 20_000


def atom_sums(a, b, t, pg):
    """Resolvent-type sums over the atoms ``t_j`` (weights ``pg_j``) of a discrete measure.

    .. math::

        S_0 = \\sum_j \\frac{g_j}{a t_j + b}, \\quad
        S_1 = \\sum_j \\frac{g_j t_j}{(a t_j + b)^2}, \\quad
        S_2 = \\sum_j \\frac{g_j}{(a t_j + b)^2},

    for complex ``a``, ``b`` of one shape (one value per point) and real
    ``t``, ``g`` of one length. ``dS_0/da = -S_1`` and ``dS_0/db = -S_2``, which
    is what Newton needs. Large problems run in a fused Numba loop (compiled on
    first use, cached on disk); small ones in NumPy.

    Parameters
    ----------
    a, b : array_like of complex, same shape
    t, pg : 1-D array_like of float, same length

    Returns
    -------
    (S0, S1, S2) : tuple of complex ndarrays of the shape of ``a``

    Examples
    --------
    >>> s0, s1, s2 = atom_sums(np.array([1.0 + 0j]), np.array([2.0 + 0j]), np.array([1.0, 2.0]), np.array([0.5, 0.5]))
    >>> complex(s0[0])  # 0.5/3 + 0.5/4
    (0.29166666666666...+0j)
    """
    a = np.asarray(a, dtype=np.complex128)
    b = np.asarray(b, dtype=np.complex128)
    shape = a.shape
    a = np.ascontiguousarray(a.ravel())
    b = np.ascontiguousarray(np.broadcast_to(b, shape).ravel())
    t = np.ascontiguousarray(t, dtype=np.float64)
    pg = np.ascontiguousarray(pg, dtype=np.float64)
    if a.size * t.size <= _NUMPY_MAX_WORK:
        inv = 1.0 / (a[:, None] * t[None, :] + b[:, None])
        q = pg[None, :] * inv
        s0 = q.sum(axis=1)
        q2 = q * inv
        s2 = q2.sum(axis=1)
        s1 = q2 @ t
    else:
        s0, s1, s2 = _get_kernel()(a, b, t, pg)
    return s0.reshape(shape), s1.reshape(shape), s2.reshape(shape)


# ---------------------------------------------------------------------------------------------
# The problem interface
# ---------------------------------------------------------------------------------------------


class FixedPointProblem:
    """Interface of a Stieltjes fixed-point equation ``F(u; z) = 0`` (one complex unknown).

    Subclasses define:

    ``scale`` : float
        Typical magnitude of the spectrum (sets η steps and tolerances).
    ``bounds()`` -> (lo, hi)
        A real interval that contains the support of the absolutely continuous part.
    ``atoms()`` -> list of (location, mass)
        Point masses of the law (e.g. the mass ``1 - 1/ratio`` at 0).
    ``initial(z)`` -> u
        A starting point valid for ``Im z`` large compared with ``scale``.
    ``residual(u, z)`` -> (F, dF/du) or (F, dF/du, S)
        The equation, normalised so that ``|F|`` is dimensionless. The optional
        ``S`` is the magnitude of the largest terms of ``F`` (same normalisation);
        the certificate is then ``|F|/max(S, 1) <= tol`` (relative rounding level).
    ``stieltjes(u, z)`` -> m
        The Stieltjes transform of the law from the solution ``u``.
    ``admissible(u, z)`` -> bool array
        The branch condition (at least ``Im m > 0``).

    Examples
    --------
    The semicircle law solves ``m² + z m + 1 = 0`` (``m = ∫ μ(dx)/(x - z)``):

    >>> class Semicircle(FixedPointProblem):
    ...     scale = 2.0
    ...     def bounds(self):
    ...         return (-2.0, 2.0)
    ...     def initial(self, z):
    ...         return -1.0 / z
    ...     def residual(self, m, z):
    ...         return m * m + z * m + 1.0, 2.0 * m + z
    >>> law = FixedPointLaw(Semicircle())
    >>> round(float(law.pdf(0.0)), 10)        # 1/pi
    0.3183098862
    >>> [round(e, 9) for e in law.support()]  # found by the density scan
    [-2.0, 2.0]
    >>> round(law.moment(4), 9)                # Catalan number C_2
    2.0
    """

    scale: float = 1.0

    def bounds(self):  # pragma: no cover - interface
        raise NotImplementedError

    def atoms(self):
        return []

    def initial(self, z):  # pragma: no cover - interface
        raise NotImplementedError

    def residual(self, u, z):  # pragma: no cover - interface
        raise NotImplementedError

    def stieltjes(self, u, z):
        return u

    def admissible(self, u, z):
        m = self.stieltjes(u, z)
        return np.isfinite(m) & (m.imag > 0)


class CovarianceProblem(FixedPointProblem):
    """The parts shared by the equations for the Stieltjes transform ``m`` of a ``p x p`` covariance-type law.

    For a law on ``[0, ∞)`` of the spectrum of a ``(1/n)``-normalised ``p x p``
    matrix ``S`` with ratio ``c = p/n``:

    * ``atoms()``: for ``c > 1``, ``rank S <= n`` leaves the mass ``1 - 1/c`` at 0;
    * ``initial(z)``: ``m ≈ -1/(z - m_1)`` for large ``z`` (``m_1`` the mean eigenvalue);
    * ``admissible``: ``Im m > 0`` and ``Im(z m) >= 0`` (``z m = -1 + ∫ x μ(dx)/(x - z)``
      with ``x >= 0``), up to a relative rounding level;
    * ``bounds()``: ``(lower, upper)``, an interval holding the support.

    Subclasses set ``c``, ``m1``, ``lower``, ``upper`` and ``scale``, and define ``residual``.
    Reference: Silverstein & Bai (1995); Dozier & Silverstein (2007).
    """

    c: float = 1.0
    m1: float = 1.0
    lower: float = 0.0
    upper: float = 1.0

    def bounds(self):
        return (self.lower, self.upper)

    def atoms(self):
        return [(0.0, 1.0 - 1.0 / self.c)] if self.c > 1.0 else []

    def initial(self, z):
        return -1.0 / (z - self.m1)

    def admissible(self, m, z):
        zm = z * m
        return np.isfinite(m) & (m.imag > 0) & (zm.imag >= -1e-10 * np.abs(zm))


@dataclass(frozen=True)
class StieltjesSolution:
    """Solution of a fixed-point equation at a vector of points.

    Attributes
    ----------
    z : ndarray of complex
        The points ``x + iη`` (``Im z > 0``).
    m : ndarray of complex
        The Stieltjes transform at ``z``.
    u : ndarray of complex
        The solved unknown (``m`` itself or a subordination function).
    residual : ndarray of float
        The per-point certificate ``|F(u; z)|`` (dimensionless), all ``<= tol``.
    tol : float
        The tolerance met.

    Examples
    --------
    >>> from rmt_sparsity.laws import WeightedCovarianceLaw
    >>> sol = WeightedCovarianceLaw(0.5, [1.0]).solve([1.0 + 0.5j, 2.0 + 0.1j])
    >>> sol.m.shape, bool((sol.m.imag > 0).all()), bool((sol.residual <= sol.tol).all())
    ((2,), True, True)
    """

    z: np.ndarray
    m: np.ndarray
    u: np.ndarray
    residual: np.ndarray
    tol: float


def _eval(problem, u, z):
    """(F, F', S): S >= 1 is the rounding scale of F (magnitude of its largest terms relative
    to the normalisation), so that the certificate ``|F|/S <= tol`` is attainable in floating
    point when F is a difference of large terms. Problems may return (F, F') only (S = 1)."""
    out = problem.residual(u, z)
    if len(out) == 3:
        return out[0], out[1], np.maximum(np.abs(out[2]), 1.0)
    return out[0], out[1], 1.0


#: Residual below which Newton keeps polishing (full steps only, while |F| decreases).
_POLISH_TOL = 1e-15


def _newton(problem, u, z, tol, maxiter, polish=False):
    """Damped Newton on all points; returns (u, |F|, converged mask). Never leaves the branch.

    Points with ``|F| > tol`` backtrack (halving the step until ``|F|`` decreases and
    the iterate stays admissible). With ``polish``, points already below ``tol`` take
    further full Newton steps while that lowers ``|F|`` (down to ``_POLISH_TOL``): near
    a square-root edge the Jacobian is small and the error in ``u`` is ``|F|/|F'|``.
    """
    u = u.copy()
    tol = np.broadcast_to(np.asarray(tol, dtype=float), u.shape)
    target = np.where(np.broadcast_to(polish, u.shape), np.minimum(tol, _POLISH_TOL), tol)
    F, dF, S = _eval(problem, u, z)
    r = np.abs(F) / S
    bad = ~np.isfinite(r)
    r[bad] = np.inf
    done = r <= target
    for _ in range(maxiter):
        act = np.flatnonzero(~done & np.isfinite(r))
        if act.size == 0:
            break
        with np.errstate(all="ignore"):
            step = F[act] / dF[act]
        ua, za, ra = u[act], z[act], r[act]
        lam = np.ones(act.size)
        pending = np.isfinite(step)
        polishing = ra <= tol[act]
        new_u = ua.copy()
        new_F = F[act].copy()
        new_dF = dF[act].copy()
        new_r = ra.copy()
        for _bt in range(12):
            idx = np.flatnonzero(pending)
            if idx.size == 0:
                break
            cand = ua[idx] - lam[idx] * step[idx]
            with np.errstate(all="ignore"):
                Fc, dFc, Sc = _eval(problem, cand, za[idx])
                ok = problem.admissible(cand, za[idx])
            rc = np.abs(Fc) / Sc
            ok &= np.isfinite(rc) & (rc < ra[idx] * (1.0 - 1e-4 * lam[idx]) + 1e-300)
            take = idx[ok]
            new_u[take] = cand[ok]
            new_F[take] = Fc[ok]
            new_dF[take] = dFc[ok]
            new_r[take] = rc[ok]
            pending[take] = False
            lam[idx[~ok]] *= 0.5
            pending[idx[~ok & polishing[idx]]] = False  # polishing: full steps only
        stuck = pending | (polishing & (new_r >= ra))
        u[act] = new_u
        F[act] = new_F
        dF[act] = new_dF
        r[act] = new_r
        done[act] = new_r <= target[act]
        # a point that cannot decrease its residual any more is finished (converged or not)
        done[act[stuck]] = True
    return u, r, r <= tol


def _continue(problem, x, u, eta_from, eta_to, tol, maxiter=12, q0=0.1, polish=False):
    """Continuation in η from ``eta_from`` (where ``u`` solves) down to ``eta_to``, per point."""
    u = u.copy()
    eta = eta_from.astype(float).copy()
    q = np.full(x.shape, q0)
    resid = np.zeros(x.shape)
    failed = np.zeros(x.shape, dtype=bool)
    for _ in range(10_000):
        act = np.flatnonzero((eta > eta_to) & ~failed)
        if act.size == 0:
            break
        eta_new = np.maximum(eta[act] * q[act], eta_to[act])
        z_new = x[act] + 1j * eta_new
        final = eta_new <= eta_to[act]
        # intermediate stages only need to land in Newton's basin of the next one
        stage_tol = np.where(final, tol, max(tol, 1e-7))
        un, rn, conv = _newton(problem, u[act], z_new, stage_tol, maxiter, polish=final & polish)
        with np.errstate(all="ignore"):
            conv &= problem.admissible(un, z_new)
        acc = act[conv]
        u[acc] = un[conv]
        eta[acc] = eta_new[conv]
        resid[acc] = rn[conv]
        q[acc] = np.maximum(q[acc] ** 1.5, 1e-4)
        rej = act[~conv]
        q[rej] = np.sqrt(q[rej])
        give_up = rej[q[rej] > 1.0 - 1e-6]
        failed[give_up] = True
        resid[give_up] = rn[~conv][q[rej] > 1.0 - 1e-6]
    return u, resid, failed


def _as_complex_points(z):
    return as_float_array("z", z, complex_ok=True).astype(np.complex128)


def solve_stieltjes(problem, z, *, tol=1e-12, raise_on_failure=True, _polish=True):
    """Solve a :class:`FixedPointProblem` at points ``z`` with ``Im z > 0``.

    Damped Newton with continuation in ``η = Im z`` from far above the real
    axis (module docstring). Each point's certificate is its residual
    ``|F(u; z)| <= tol``.

    Parameters
    ----------
    problem : FixedPointProblem
    z : array_like of complex
        Points with ``Im z > 0`` (any shape).
    tol : float, default 1e-12
        Residual tolerance (dimensionless).
    raise_on_failure : bool, default True
        Raise :class:`ConvergenceError` (with the worst point and residual) if any
        point fails; with ``False`` failed points get ``m = nan`` and ``residual = inf``
        or their last residual.

    Returns
    -------
    StieltjesSolution

    Raises
    ------
    ValueError
        If some ``Im z <= 0`` or ``z`` is not finite.
    ConvergenceError
        If a point does not converge.

    Examples
    --------
    >>> from rmt_sparsity.laws.weighted_covariance import WeightedCovarianceLaw
    >>> law = WeightedCovarianceLaw(0.5, [1.0])            # equal weights = MP(0.5)
    >>> sol = solve_stieltjes(law.problem, [1.0 + 1e-3j])
    >>> bool(sol.residual.max() <= 1e-12)
    True
    """
    if not isinstance(problem, FixedPointProblem):
        raise TypeError(f"problem must be a FixedPointProblem; got {type(problem).__name__}")
    tol = check_real("tol", tol, lo=0.0, lo_open=True)
    zz = _as_complex_points(z)
    shape = zz.shape
    zf = zz.ravel()
    if not np.all(np.isfinite(zf)):
        raise ValueError("z must be finite")
    if zf.size and not np.all(zf.imag > 0):
        raise ValueError(f"z must have Im z > 0; got min Im z = {zf.imag.min()!r}")
    x = zf.real.copy()
    eta_t = zf.imag.copy()
    big = 10.0 * (problem.scale + np.abs(x))
    u = np.empty(zf.shape, np.complex128)
    resid = np.full(zf.shape, np.inf)
    failed = np.zeros(zf.shape, dtype=bool)
    if zf.size:
        eta0 = np.maximum(big, eta_t)
        for _attempt in range(6):
            z0 = x + 1j * eta0
            u0 = problem.initial(z0)
            u0, r0, c0 = _newton(problem, u0, z0, tol, 50)
            with np.errstate(all="ignore"):
                c0 &= problem.admissible(u0, z0)
            if c0.all():
                break
            eta0 = np.where(c0, eta0, eta0 * 10.0)
        failed = ~c0
        u = u0
        resid = r0
        ok = ~failed
        if ok.any():
            uc, rc, fc = _continue(problem, x[ok], u[ok], eta0[ok], eta_t[ok], tol, polish=_polish)
            u[ok] = uc
            resid[ok] = np.where(eta0[ok] > eta_t[ok], rc, resid[ok])
            idx = np.flatnonzero(ok)
            failed[idx[fc]] = True
    m = np.full(zf.shape, np.nan + 0j)
    good = ~failed
    if good.any():
        m[good] = problem.stieltjes(u[good], zf[good])
    if failed.any():
        if raise_on_failure:
            rr = np.where(np.isfinite(resid), resid, np.nan)
            w = int(np.nanargmax(np.where(failed, np.nan_to_num(rr, nan=np.inf), -1.0)))
            raise ConvergenceError(
                f"fixed-point solver did not converge at {int(failed.sum())} of {zf.size} points; "
                f"worst z = {complex(zf[w])!r} with residual {float(resid[w])!r} > tol = {tol!r}",
                zf[failed],
                resid[failed],
                tol,
            )
        resid = np.where(failed, np.where(np.isfinite(resid), resid, np.inf), resid)
    return StieltjesSolution(
        z=zf.reshape(shape), m=m.reshape(shape), u=u.reshape(shape), residual=resid.reshape(shape), tol=tol
    )


def _density_extrapolated(problem, x, *, tol=1e-12, eta_rel=1e-5, rtol=1e-10, max_halvings=30):
    """Density Im m(x + i0)/π by adaptive Richardson extrapolation in η; returns (rho, err, m0)."""
    x = np.asarray(x, dtype=float).ravel()
    n = x.size
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, complex)
    eta1 = eta_rel * problem.scale
    sol = solve_stieltjes(problem, x + 1j * eta1, tol=tol, _polish=True)
    u_prev = sol.u.copy()
    m_prev = sol.m.copy()
    eta = np.full(n, eta1)
    R_prev = np.full(n, np.nan + 0j)
    R = m_prev.copy()
    err = np.full(n, np.inf)
    active = np.ones(n, dtype=bool)
    floor = 1e-14 * problem.scale
    u_prev2 = None
    for _k in range(max_halvings):
        act = np.flatnonzero(active)
        if act.size == 0:
            break
        eta_new = eta[act] * 0.5
        z_new = x[act] + 1j * eta_new
        # predictor: u(η/2) ≈ (3 u(η) - u(2η))/2 (linear in η), then Newton; fall back to continuation
        if u_prev2 is not None:
            u_pred = 0.5 * (3.0 * u_prev[act] - u_prev2[act])
        else:
            u_pred = u_prev[act]
        un, rn, conv = _newton(problem, u_pred, z_new, tol, 12, polish=True)
        with np.errstate(all="ignore"):
            conv &= problem.admissible(un, z_new)
        failed = np.zeros(act.size, dtype=bool)
        if not conv.all():
            nc = ~conv
            uc, rc, fc = _continue(
                problem, x[act][nc], u_prev[act][nc], eta[act][nc], eta_new[nc], tol, q0=0.5, polish=True
            )
            un[nc], rn[nc] = uc, rc
            failed[nc] = fc
        if failed.any():
            bad = act[failed]
            raise ConvergenceError(
                f"fixed-point solver did not converge during η -> 0 extrapolation at {bad.size} points; "
                f"worst x = {float(x[bad][np.argmax(rn[failed])])!r} with residual {float(rn[failed].max())!r}",
                x[bad] + 1j * eta_new[failed],
                rn[failed],
                tol,
            )
        mn = problem.stieltjes(un, z_new)
        Rn = 2.0 * mn - m_prev[act]
        scale_m = np.abs(Rn) + 1e-300
        e = np.abs(Rn - R[act])
        first = np.isnan(R_prev[act].real)
        R_prev[act] = R[act]
        R[act] = Rn
        err[act] = np.where(first, np.abs(mn - m_prev[act]), e)
        if u_prev2 is None:
            u_prev2 = u_prev.copy()
        else:
            u_prev2[act] = u_prev[act]
        u_prev[act] = un
        m_prev[act] = mn
        eta[act] = eta_new
        conv = (~first) & (e <= rtol * scale_m)
        conv |= eta_new <= floor
        active[act[conv]] = False
    rho = np.maximum(R.imag, 0.0) / math.pi
    return rho, err / math.pi, R


# ---------------------------------------------------------------------------------------------
# Law objects
# ---------------------------------------------------------------------------------------------


#: Largest moment order of a fixed-point law (the free-cumulant recursions cost O(k^4)).
MAX_MOMENT_ORDER = 100


class FixedPointLaw:
    """A spectral law defined by a Stieltjes fixed-point equation.

    Exposes ``pdf``, ``cdf``, ``sf``, ``stieltjes``, ``edges``, ``support``,
    ``ratio_of_edges``, ``moment``, ``mean``, ``var``. Distribution methods follow
    scipy: NaN gives NaN, ``±inf`` gives the limits (``pdf`` 0, ``cdf`` 0/1), and
    what is not a number raises ``TypeError``. Solver failures raise
    :class:`ConvergenceError`.

    Parameters
    ----------
    problem : FixedPointProblem
    scan_points : int, default 512
        Grid size used to detect the support (gaps narrower than
        ``(hi - lo)/scan_points`` may be missed; increase it for fine structure).

    Notes
    -----
    ``pdf`` is the density of the absolutely continuous part; the point masses
    (``atoms()``) are included in ``cdf`` and ``moment``. The density is
    ``Im m(x + i0)/π`` by η → 0 extrapolation (module docstring):

    .. math:: \\rho(x) = \\frac1\\pi \\lim_{\\eta \\downarrow 0} \\operatorname{Im} m(x + i\\eta).

    Examples
    --------
    See :class:`FixedPointProblem` for a law built from a custom equation, and

    >>> from rmt_sparsity.laws import WeightedCovarianceLaw
    >>> law = WeightedCovarianceLaw(0.25, [1.0])       # MP(0.25) through the solver
    >>> round(float(law.cdf(1.0)), 8), round(law.ratio_of_edges(), 10)
    (0.55339008, 9.0)
    """

    def __init__(self, problem, *, scan_points=512):
        if not isinstance(problem, FixedPointProblem):
            raise TypeError(f"problem must be a FixedPointProblem; got {type(problem).__name__}")
        self.problem = problem
        self.scan_points = check_int("scan_points", scan_points, min=16)
        # the support scan solves the fixed point at every grid point with ~30 complex temporaries each
        check_size_budget("scan_points", scan_points, nbytes=512 * self.scan_points,
                          what="the support scan's per-point solver state")
        self._edges = None
        self._quad = None

    # -- basic transforms -------------------------------------------------------------------
    def solve(self, z, *, tol=1e-12):
        """Solve the fixed point at ``z`` (``Im z > 0``); see :func:`solve_stieltjes`."""
        return solve_stieltjes(self.problem, z, tol=tol)

    def stieltjes(self, z):
        """Stieltjes transform ``m(z) = ∫ μ(dx)/(x - z)`` for ``Im z > 0`` (ValueError otherwise)."""
        return self.solve(z).m

    def atoms(self):
        """Point masses as a list of ``(location, mass)``."""
        return list(self.problem.atoms())

    # -- density -------------------------------------------------------------------------
    def density(self, x, *, return_error=False):
        """Density of the absolutely continuous part with its extrapolation error estimate.

        Unlike :meth:`pdf` this evaluates the solver at every finite ``x`` (no
        shortcut outside the bounds) and can return the per-point error
        estimate of the η → 0 extrapolation.
        """
        xx = as_float_array("x", x)
        shape = xx.shape
        xf = xx.ravel()
        out = np.where(np.isinf(xf), 0.0, np.nan)  # no density at ±inf (scipy), NaN stays NaN
        err = np.where(np.isinf(xf), 0.0, np.nan)
        fin = np.isfinite(xf)
        if fin.any():
            rho, e, _ = _density_extrapolated(self.problem, xf[fin])
            out[fin] = rho
            err[fin] = e
        if return_error:
            return out.reshape(shape), err.reshape(shape)
        return out.reshape(shape)

    def pdf(self, x):
        """Density of the absolutely continuous part (NaN for NaN ``x``, 0 at ±inf and outside the bounds)."""
        xx = as_float_array("x", x)
        scalar = xx.ndim == 0
        xf = np.atleast_1d(xx).ravel()
        out = np.where(np.isinf(xf), 0.0, np.nan)
        fin = np.isfinite(xf)
        lo, hi = self.problem.bounds()
        inside = fin & (xf >= lo) & (xf <= hi)
        out[fin & ~inside] = 0.0
        at = self._atom_locations()
        inside &= ~np.isin(xf, at)
        out[fin & np.isin(xf, at)] = 0.0
        if inside.any():
            out[inside] = _density_extrapolated(self.problem, xf[inside])[0]
        out = out.reshape(np.atleast_1d(xx).shape)
        return float(out[0]) if scalar else out.reshape(xx.shape)

    def _atom_locations(self):
        return np.array([a for a, _ in self.problem.atoms()], dtype=float)

    # -- support -------------------------------------------------------------------------
    def _exact_outer_edges(self):
        """Override in subclasses with an exact characterisation: (lo, hi) or None."""
        return None

    def edges(self):
        """Support intervals of the absolutely continuous part, shape (k, 2), ascending.

        Outer edges come from the law's exact characterisation when it has one,
        otherwise from a density scan refined by a safeguarded secant on ``ρ²``.
        Interior gaps come from the scan (see ``scan_points``).
        """
        if self._edges is None:
            self._edges = self._compute_edges()
        return self._edges.copy()

    def _compute_edges(self):
        if not hasattr(self, "_outer"):
            self._outer = self._exact_outer_edges()
        exact = self._outer
        lo, hi = exact if exact is not None else self.problem.bounds()
        width = hi - lo
        if not width > 0:
            raise ValueError("degenerate support bounds")
        n = self.scan_points
        if exact is not None:
            grid = lo + width * (0.5 + np.arange(n)) / n
        else:
            grid = np.linspace(lo, hi, n)
        # skip scan points next to an atom: its Lorentzian tail mass·η/d² needs η << d to vanish
        at = self._atom_locations()
        if at.size:
            near = np.zeros(grid.size, dtype=bool)
            for a in at:
                near |= np.abs(grid - a) < 1e-6 * width
            grid = grid[~near]
            n = grid.size
        rho = _density_extrapolated(self.problem, grid)[0]
        # a density of mass ~1 spread over the bounds is ~1/width; 1e-8 of that separates the
        # support (ρ ~ C sqrt(distance) inside) from the extrapolated ~0 outside, and is not
        # dominated by an integrable singularity (a hard edge at 0) the way max(ρ) would be.
        thr = 1e-8 / width
        inside = rho > thr
        if not inside.any():
            raise ValueError("no absolutely continuous part detected in the support bounds")
        # transitions between consecutive scan points
        intervals = []
        i = 0
        while i < n:
            if inside[i]:
                j = i
                while j + 1 < n and inside[j + 1]:
                    j += 1
                intervals.append([i, j])
                i = j + 1
            else:
                i += 1
        k = len(intervals)
        step = grid[1] - grid[0]
        out_x = np.empty(2 * k)
        in_x = np.empty(2 * k)
        for idx, (i, j) in enumerate(intervals):
            out_x[idx] = grid[i - 1] if i > 0 else (lo if exact is not None else grid[0] - step)
            in_x[idx] = grid[i]
            out_x[k + idx] = grid[j + 1] if j < n - 1 else (hi if exact is not None else grid[-1] + step)
            in_x[k + idx] = grid[j]
        refine = np.ones(2 * k, dtype=bool)
        if exact is not None:
            refine[0] = refine[2 * k - 1] = False  # the exact outer edges
        edges = 0.5 * (out_x + in_x)
        if refine.any():
            edges[refine] = self._refine_edges(out_x[refine], in_x[refine], thr)
        result = np.column_stack([edges[:k], edges[k:]])
        blo, bhi = self.problem.bounds()
        result = np.clip(result, blo, bhi)  # the bounds are rigorous
        if exact is not None:
            result[0, 0] = lo
            result[-1, 1] = hi
        return result

    def _refine_edges(self, out_x, in_x, thr, xtol_rel=1e-12, maxiter=60):
        """Refine edges bracketed by (outside, inside) points, vectorised.

        Each iteration evaluates two candidates per edge: the secant estimate ``s``
        of the root of ``ρ²`` through the two most recent inside points (the
        bisection midpoint when that is unavailable or falls outside the
        bracket) and ``s`` pushed towards the outside by the last step length.
        For a square-root edge ``ρ²`` is linear near the edge, so the bracket
        shrinks quadratically; otherwise it at least halves.
        """
        out_x = np.asarray(out_x, dtype=float).copy()
        in_x = np.asarray(in_x, dtype=float).copy()
        if out_x.size == 0:
            return out_x
        rho_in = _density_extrapolated(self.problem, in_x)[0]
        prev_x = np.full(in_x.shape, np.nan)
        prev_r2 = np.full(in_x.shape, np.nan)
        cur_x = in_x.copy()
        cur_r2 = rho_in**2
        xtol = xtol_rel * self.problem.scale
        active = np.abs(in_x - out_x) > xtol
        for _ in range(maxiter):
            act = np.flatnonzero(active)
            if act.size == 0:
                break
            a, b = out_x[act], in_x[act]
            sgn = np.sign(a - b)  # direction towards the outside
            span = np.abs(a - b)
            cand = 0.5 * (a + b)
            with np.errstate(all="ignore"):
                sec = cur_x[act] - cur_r2[act] * (cur_x[act] - prev_x[act]) / (cur_r2[act] - prev_r2[act])
            dist_in = (sec - b) * sgn  # > 0: between inside point and outside point
            good = np.isfinite(sec) & (dist_in > 0) & (dist_in < span)
            cand[good] = sec[good]
            push = np.where(good, np.maximum(np.abs(sec - cur_x[act]), 0.5 * xtol), 0.25 * span)
            cand2 = cand + sgn * push
            cand2 = np.where((cand2 - b) * sgn < span, cand2, 0.5 * (cand + a))
            r = _density_extrapolated(self.problem, np.concatenate([cand, cand2]))[0]
            m = act.size
            for cx, rr in ((cand, r[:m]), (cand2, r[m:])):
                ins = rr > thr
                # inside candidates closer to the outside than the current inside point
                closer_in = ins & ((cx - in_x[act]) * sgn > 0) & ((cx - out_x[act]) * sgn < 0)
                ia = act[closer_in]
                prev_x[ia] = cur_x[ia]
                prev_r2[ia] = cur_r2[ia]
                cur_x[ia] = cx[closer_in]
                cur_r2[ia] = rr[closer_in] ** 2
                in_x[ia] = cx[closer_in]
                closer_out = ~ins & ((cx - out_x[act]) * sgn < 0) & ((cx - in_x[act]) * sgn > 0)
                out_x[act[closer_out]] = cx[closer_out]
            active[act] = np.abs(in_x[act] - out_x[act]) > xtol
        return 0.5 * (in_x + out_x)

    def support(self):
        """``(lo, hi)``: the outer edges of the absolutely continuous part.

        Uses the law's exact edge characterisation when it has one (no scan).
        """
        if self._edges is None:
            if not hasattr(self, "_outer"):
                self._outer = self._exact_outer_edges()
            if self._outer is not None:
                return float(self._outer[0]), float(self._outer[1])
        e = self.edges()
        return float(e[0, 0]), float(e[-1, 1])

    def ratio_of_edges(self):
        """``hi/lo`` of :meth:`support` (the spectral concentration λ_max/λ_min of the law).

        ``inf`` for a hard edge at 0 and ``nan`` if the support reaches below 0.
        """
        lo, hi = self.support()
        if lo > 0:
            return hi / lo
        return math.inf if lo == 0 else math.nan

    # -- integration ----------------------------------------------------------------------
    def _quadrature(self):
        """Per support interval: (a, b, theta nodes, x nodes, f(theta) samples, mass)."""
        if self._quad is None:
            quads = []
            for a, b in self.edges():
                quads.append(self._interval_quadrature(a, b))
            self._quad = quads
        return self._quad

    def _interval_quadrature(self, a, b, n0=64, nmax=4096, rtol=1e-11):
        n = n0
        prev_mass = None
        while True:
            theta = math.pi * (np.arange(n) + 0.5) / n
            xs = a + (b - a) * 0.5 * (1.0 - np.cos(theta))
            rho = _density_extrapolated(self.problem, xs)[0]
            f = rho * (b - a) * 0.5 * np.sin(theta)
            mass = math.pi / n * f.sum()
            if prev_mass is not None and abs(mass - prev_mass) <= rtol * max(abs(mass), 1e-300):
                break
            if n >= nmax:
                break
            prev_mass = mass
            n *= 2
        return {"a": float(a), "b": float(b), "theta": theta, "x": xs, "f": f, "mass": float(mass)}

    def mass_error(self):
        """``|total mass - 1|`` of the computed law (atoms + integrated density): a global certificate."""
        total = sum(q["mass"] for q in self._quadrature()) + sum(m for _, m in self.problem.atoms())
        return abs(total - 1.0)

    def _moment_quadrature(self, k):
        s = 0.0
        for q in self._quadrature():
            s += math.pi / q["f"].size * float(np.sum(q["f"] * q["x"] ** k))
        s += sum(m * loc**k for loc, m in self.problem.atoms())
        return s

    #: Laws with closed-form moments define ``_exact_moment(k)`` (k >= 1) and set this.
    _has_exact_moments = False

    def _exact_moment(self, k):  # pragma: no cover - interface
        raise NotImplementedError

    def moment(self, k, *, method=None):
        """Raw moment ``E[x^k]`` of the full law (atoms included).

        ``method``: ``"exact"`` (closed form, the default where the law has
        one) or ``"quadrature"`` (integrates the solver's density; the default
        otherwise, and a check of the solver where an exact form exists).
        ``k`` is an integer in ``[0, MAX_MOMENT_ORDER]`` (100: the exact forms
        cost O(k^4) operations).
        """
        k = check_int("k", k, min=0, max=MAX_MOMENT_ORDER)
        allowed = ("exact", "quadrature") if self._has_exact_moments else ("quadrature",)
        if method is None:
            method = allowed[0]
        try:
            known = method in allowed
        except TypeError:  # unhashable
            known = False
        if not known:
            raise ValueError(f"method must be {' or '.join(map(repr, allowed))} for this law; got {method!r}")
        if k == 0:
            return 1.0
        return self._exact_moment(k) if method == "exact" else self._moment_quadrature(k)

    def mean(self):
        """First moment."""
        return self.moment(1)

    def var(self):
        """Variance ``m_2 - m_1^2``."""
        return self.moment(2) - self.moment(1) ** 2

    def cdf(self, x):
        """Cumulative distribution function (atoms included; NaN for NaN input).

        The integrated density is normalised to the mass ``1 - Σ atoms`` so that the
        cdf reaches exactly 1; the deficit before normalisation is :meth:`mass_error`.

        The density is integrated on each support interval through the cosine
        series of ``f(θ) = ρ(x(θ)) x'(θ)``, ``x(θ) = a + (b-a)(1-cos θ)/2``.
        """
        xx = as_float_array("x", x)
        out = np.zeros(xx.shape)
        quads = self._quadrature()
        ac_mass = sum(q["mass"] for q in quads)
        norm = (1.0 - sum(m for _, m in self.problem.atoms())) / ac_mass if ac_mass > 0 else 1.0
        for q in quads:
            out = out + norm * self._interval_cdf(q, xx)
        for loc, mass in self.problem.atoms():
            out = out + mass * (xx >= loc)
        out = np.where(np.isnan(xx), np.nan, np.clip(out, 0.0, 1.0))
        return float(out) if out.ndim == 0 else out

    def sf(self, x):
        """Survival function ``1 - cdf(x)``."""
        c = self.cdf(x)
        return 1.0 - c

    @staticmethod
    def _interval_cdf(q, xx):
        a, b, f = q["a"], q["b"], q["f"]
        n = f.size
        from scipy.fft import dct

        coef = dct(f, type=2) / n  # f(θ_j) = c0/2·... : c_k = (2/n) Σ f_j cos(kθ_j); dct gives 2 Σ
        # with dct-II: y_k = 2 Σ_j f_j cos(π k (2j+1)/(2n)) ⇒ c_k = y_k / n, f(θ) = c_0/2 + Σ_{k≥1} c_k cos kθ
        c0 = coef[0]
        ks = np.arange(1, n)
        xc = np.clip(np.where(np.isnan(xx), a, xx), a, b)
        theta = np.arccos(np.clip(1.0 - 2.0 * (xc - a) / (b - a), -1.0, 1.0))
        th = np.atleast_1d(theta).ravel()
        integral = 0.5 * c0 * th + (np.sin(np.outer(th, ks)) @ (coef[1:] / ks))
        return integral.reshape(np.shape(theta))


def discrete_measure(values, probs=None, *, values_name="values", probs_name="probs"):
    """Validate a finite discrete measure and merge repeated locations.

    Returns ``(loc, mass)``: the sorted distinct real locations and their masses
    (``probs`` normalised to sum 1; uniform when ``None``), with zero-mass
    locations dropped. Errors name the arguments as the caller calls them.

    Examples
    --------
    >>> discrete_measure([2.0, 1.0, 2.0])
    (array([1., 2.]), array([0.33333333, 0.66666667]))
    """
    v = check_array(values_name, values, ndim=1)
    if v.dtype.kind == "c":
        raise TypeError(f"{values_name} must be real")
    if probs is None:
        pr = np.full(v.size, 1.0 / v.size)
    else:
        pr = check_array(probs_name, probs, ndim=1)
        if pr.shape != v.shape:
            raise ValueError(f"{probs_name} must have the shape of {values_name} {v.shape}; got {pr.shape}")
        if np.any(pr < 0) or not pr.sum() > 0:
            raise ValueError(f"{probs_name} must be >= 0 with a positive sum")
        pr = pr / pr.sum()
    loc, inv = np.unique(v.astype(float), return_inverse=True)
    mass = np.bincount(inv.ravel(), weights=pr, minlength=loc.size)
    keep = mass > 0
    return loc[keep], mass[keep]
