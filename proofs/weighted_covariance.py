r"""The weighted-sample-covariance (generalised MP) law: fixed point, MP reduction, moments, Kish.

The Stieltjes transform of the limit law of :math:`\frac1n X\operatorname{diag}(w)X^\top`
(ratio :math:`c = p/n`, weight law H) solves

.. math:: m = \Big(-z + \int\frac{t\,dH(t)}{1 + c\,t\,m}\Big)^{-1}.

For :math:`H = \delta_s` it *is* the MP quadratic :math:`csz m^2 + (z - s(1-c))m + 1 = 0`
(so equal weights give MP exactly). Expanding at :math:`z = \infty` gives the
moments of a free compound Poisson law with free cumulants
:math:`\kappa_k = c^{k-1}\mathbb E_H t^k`:
:math:`m_1 = \kappa_1`, :math:`m_2 = \kappa_2 + \kappa_1^2`,
:math:`m_3 = \kappa_3 + 3\kappa_1\kappa_2 + \kappa_1^3`; hence
:math:`m_2/m_1^2 = 1 + p/n_\mathrm{eff}` with the Kish size
:math:`n_\mathrm{eff} = n(\mathbb E t)^2/\mathbb E t^2`, and
:math:`\alpha = m_1^2/m_2 = 1/(1 + p/n_\mathrm{eff})`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ._core import EPS, Step, compare, unavailable

TITLE = "Weighted-sample-covariance fixed point, reduction to MP, moments and Kish (derivation 11)"
STATEMENT = (
    r"m = \Big(-z + \int\frac{t\,dH(t)}{1+ctm}\Big)^{-1};\ H=\delta_s \Rightarrow csz m^2 + (z - s(1-c))m + 1 = 0;\ "
    r"\frac{m_2}{m_1^2} = 1 + c\frac{\mathbb E t^2}{(\mathbb E t)^2} = 1 + \frac{p}{n_\mathrm{eff}}"
)
ASSUMPTIONS = (
    "c, s > 0; z off the support; w = 1/z a formal variable; a two-atom H with atoms t₁, t₂ > 0 and masses π, 1-π "
    "(all free symbols); n ≥ 1, 0 < r < 1."
)
REFERENCES = (
    "Silverstein & Bai, J. Multivariate Anal. 54 (1995); Couillet & Debbah (2011) Thm 3.13; "
    "Nica & Speicher (2006) Lect. 12 (free compound Poisson); library: laws/weighted_covariance.py"
)

c, s = sp.symbols("c s", positive=True)
z, m = sp.symbols("z m")


def fixed_point(mm, zz, atoms, probs, cc=c):
    return mm * (-zz + sum(p * t / (1 + cc * t * mm) for t, p in zip(atoms, probs))) - 1


def steps():
    w = sp.Symbol("w")
    t1, t2, pi_ = sp.symbols("t_1 t_2 pi", positive=True)
    atoms, probs = (t1, t2), (pi_, 1 - pi_)
    E = lambda k: pi_ * t1**k + (1 - pi_) * t2**k  # noqa: E731
    k1, k2, k3 = E(1), c * E(2), c**2 * E(3)
    M = [1, k1, k2 + k1**2, k3 + 3 * k1 * k2 + k1**3]
    m_ser = -w * sum(M[i] * w**i for i in range(4))
    # clear denominators: N(w) = w F(m) prod_k (1 + c t_k m), a polynomial in w
    prod = sp.Mul(*[(1 + c * t * m_ser) for t in atoms])
    Nw = -m_ser * prod + w * m_ser * sum(p * t * prod / (1 + c * t * m_ser) for t, p in zip(atoms, probs)) - w * prod
    Nw = sp.expand(sp.cancel(Nw))
    low = [Nw.coeff(w, k) for k in range(5)]
    n, p_ = sp.symbols("n p", positive=True)
    Et, Et2 = sp.symbols("E_t E_t2", positive=True)
    r = sp.Symbol("r", positive=True)
    kk = sp.Symbol("k", integer=True, nonnegative=True)
    T = sp.Symbol("t", integer=True, positive=True)
    kap = sp.Symbol("kappa", positive=True)
    return [
        Step("H = δ_s: the fixed point is the MP quadratic", fixed_point(m, z, (s,), (1,)) * (1 + c * s * m),
             -(c * s * z * m**2 + (z - s * (1 - c)) * m + 1), method=("cancel",),
             why="Equal weights reduce the generalised law to MP(c, s) exactly (derivation 3)."),
        Step("series at z = ∞ (two-atom H): F(m) = O(w⁵) with the free-cumulant moments",
             sp.Matrix(low).T, sp.zeros(1, 5), method=("expand",),
             why="m = -Σ_k m_k w^{k+1}, w = 1/z, with m₁ = κ₁, m₂ = κ₂ + κ₁², m₃ = κ₃ + 3κ₁κ₂ + κ₁³, "
             "κ_k = c^{k-1} E_H t^k; the denominators (1 + c t_k m) are cleared (library: moment(method='exact'))."),
        Step("m₂/m₁² - 1 = c E t²/(E t)² = p/n_eff", (c * Et2 + Et**2) / Et**2 - 1,
             (p_ / n) * Et2 / Et**2, subs={c: p_ / n},
             why="c = p/n and n_eff = n (E t)²/E t² (Kish, equal masses 1/n on the n weights)."),
        Step("α = m₁²/m₂ = 1/(1 + p/n_eff)", Et**2 / (c * Et2 + Et**2),
             1 / (1 + p_ / (n * Et**2 / Et2)), subs={c: p_ / n}, method=("cancel",),
             why="library: predicted_alpha(p, B, t, lr, wd) with n_eff from kish_effective_samples."),
        Step("discounted weights r^k, k < t: E_H t = (1 - r^t)/(t(1 - r))",
             sp.Sum((1 / (1 + kap)) ** kk, (kk, 0, T - 1)) / T, ((1 - r**T) / (T * (1 - r))).subs(r, 1 / (1 + kap)),
             doit=True, method=("cancel", "powsimp"), why="The mean eigenvalue of the discounted law (r = 1/(1+κ))."),
    ]


def check_numeric(rng):
    """WeightedCovarianceLaw (one weight) vs MP; fixed-point residual and exact moments at random H; predicted_alpha."""
    import mpmath

    try:
        from rmt_sparsity.laws import WeightedCovarianceLaw, discounted
        from rmt_sparsity.theory import kish_effective_samples, predicted_alpha
    except ImportError as exc:  # pragma: no cover
        return [unavailable("weighted covariance law", "rmt_sparsity.laws.WeightedCovarianceLaw", str(exc))]
    out = []
    got, ref, tol = [], [], []
    for _ in range(3):
        cv = float(np.exp(rng.uniform(np.log(0.05), np.log(4.0))))
        sv = float(np.exp(rng.uniform(np.log(0.2), np.log(5.0))))
        law = WeightedCovarianceLaw(cv, [sv])
        b = sv * (1 + np.sqrt(cv)) ** 2
        zs = rng.uniform(-0.2 * b, 1.2 * b, 3) + 1j * sv * 10 ** rng.uniform(-1, 0.5, 3)
        ml = np.asarray(law.stieltjes(zs))
        with mpmath.workdps(40):
            C, S = mpmath.mpf(cv), mpmath.mpf(sv)
            for zi, mi in zip(zs, ml):
                Z = mpmath.mpc(zi)
                A, Bq = C * S * Z, Z - S * (1 - C)
                D = mpmath.sqrt(Bq**2 - 4 * A)
                mr = max([(-Bq + D) / (2 * A), (-Bq - D) / (2 * A)], key=lambda t: t.imag)
                dF = -Z + S / (1 + C * S * mr) - mr * C * S**2 / (1 + C * S * mr) ** 2
                # solver certificate |F| <= 1e-12 (dimensionless) => |dm| <= 1e-12/|F'(m)| to first order; x4
                got.append(complex(mi)), ref.append(complex(mr)), tol.append(float(4e-12 / abs(dF) + 64 * EPS * abs(mr)))
    out.append(compare("equal weights: m = MP root", "WeightedCovarianceLaw.stieltjes", got, ref, tol,
                       "4·1e-12/|∂F/∂m| (the solver's residual certificate) + 64 eps |m|"))
    # random three-atom H: residual of the lambdified fixed point at the library's m, and exact moments
    ts = sp.symbols("t0:3", positive=True)
    ps = sp.symbols("p0:3", positive=True)
    zz = sp.Symbol("z")
    Fl = sp.lambdify((m, zz, c, *ts, *ps), fixed_point(m, zz, ts, ps), "numpy")
    Ek = lambda k, tt, pp: sum(p * t**k for t, p in zip(tt, pp))  # noqa: E731
    mom_expr = [None,
                Ek(1, ts, ps),
                c * Ek(2, ts, ps) + Ek(1, ts, ps) ** 2,
                c**2 * Ek(3, ts, ps) + 3 * c * Ek(1, ts, ps) * Ek(2, ts, ps) + Ek(1, ts, ps) ** 3]
    moms = [None] + [sp.lambdify((c, *ts, *ps), e, "mpmath") for e in mom_expr[1:]]
    res, rtol, gm, rm, tm = [], [], [], [], []
    for _ in range(2):
        cv = float(np.exp(rng.uniform(np.log(0.05), np.log(2.0))))
        tv = np.exp(rng.normal(0, 1, 3))
        pv = rng.dirichlet(np.ones(3))
        law = WeightedCovarianceLaw(cv, tv, pv)
        zs = rng.uniform(0, 2 * tv.max(), 3) + 1j * 10 ** rng.uniform(-1, 0, 3)
        ml = np.asarray(law.stieltjes(zs))
        Fv = Fl(ml, zs, cv, *tv, *pv)
        res += list(np.abs(Fv))
        terms = np.abs(ml * zs) + np.abs(ml) * np.sum(pv * tv / np.abs(1 + cv * tv[None, :] * ml[:, None]), axis=1) + 1
        rtol += list(1e-12 + 32 * EPS * terms)
        for k in (1, 2, 3):
            with mpmath.workdps(30):
                R = float(moms[k](cv, *tv, *pv))
            gm.append(law.moment(k)), rm.append(R), tm.append(16 * k * EPS * R)
    out.append(compare("fixed-point residual at the library's m (three-atom H)", "WeightedCovarianceLaw.stieltjes",
                       res, np.zeros(len(res)), rtol, "the solver's certificate 1e-12 + 32 eps × Σ|terms|"))
    out.append(compare("exact moments m₁, m₂, m₃ (free cumulants)", "WeightedCovarianceLaw.moment", gm, rm, tm,
                       "16 k eps relative (cumulant-to-moment recursion of positive terms)"))
    # predicted_alpha and the discounted law's mean
    ga, ra, ta, gmean, rmean, tmean = [], [], [], [], [], []
    for _ in range(6):
        p = int(rng.integers(1, 500))
        B = int(rng.integers(1, 16))
        t = int(rng.integers(1, 3000))
        lr, wd = float(rng.uniform(1e-3, 0.2)), float(rng.uniform(1e-3, 0.5))
        ne = kish_effective_samples(B, t, lr, wd)
        ga.append(predicted_alpha(p, B, t, lr, wd)), ra.append(1 / (1 + p / ne)), ta.append(4 * EPS)
        rv = 1 - lr * wd
        if rv ** min(t, 400) > 1e-300:
            T = min(t, 400)
            law = discounted(float(rng.uniform(0.05, 2)), rv, T)
            gmean.append(law.mean())
            with mpmath.workdps(30):
                R = mpmath.mpf(rv)
                rmean.append(float((1 - R**T) / (T * (1 - R))))
            # mean of T weights r^k computed as exp(k log r) and summed: (T|ln r| + log2 T + 4) eps relative
            tmean.append(4 * EPS * (T * abs(np.log(rv)) + np.log2(T) + 4) * rmean[-1])
    out.append(compare("α = 1/(1 + p/n_eff)", "theory.predicted_alpha", ga, ra, ta, "4 ulps (1/(1 + p/n), same n_eff)"))
    out.append(compare("discounted mean (1-r^t)/(t(1-r))", "laws.discounted(...).mean", gmean, rmean, tmean,
                       "4 (t|ln r| + log2 t + 4) eps relative"))
    return out
