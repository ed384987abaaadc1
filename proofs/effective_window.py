r"""What T_eff means, the Kish effective sample size of geometric weights, and the gap between them.

With discount :math:`r = 1 - \mathrm{lr}\cdot\mathrm{wd} \in (0, 1)` and
:math:`T^* = \log(\theta(1-r))/\log r - 1`:

* the absolute geometric tail :math:`\sum_{j>T} r^j = r^{T+1}/(1-r)` is
  decreasing in T and equals θ at :math:`T = T^*`, so
  :math:`T_\mathrm{eff} = \max(0, \lceil T^*\rceil)` is the smallest integer
  T with tail ≤ θ; the *relative* tail is :math:`r^{T+1} \le \theta(1-r)`, not θ;
* the Kish size of B samples per step with weights :math:`r^k`, k < t, is
  :math:`n_\mathrm{eff} = B\frac{1+r}{1-r}\frac{1-r^t}{1+r^t} \to B\frac{1+r}{1-r}`;
* as :math:`r \to 1`, :math:`(1-r)T^* \sim \ln\frac1{\theta(1-r)}` while
  :math:`(1-r)n_\mathrm{eff}/B \to 2`: the window overstates the effective
  sample count by a factor :math:`\sim\frac12\ln\frac1{\theta(1-r)} \to \infty`.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ._core import EPS, Step, compare

TITLE = "T_eff (absolute geometric tail ≤ θ), Kish effective sample size, and the gap (derivation 10)"
STATEMENT = (
    r"T_\mathrm{eff} = \min\{T\in\mathbb N: \tfrac{r^{T+1}}{1-r}\le\theta\} = \max(0,\lceil T^*\rceil),\ "
    r"n_\mathrm{eff} = B\frac{1+r}{1-r}\frac{1-r^t}{1+r^t},\ "
    r"\frac{T^*}{n_\mathrm{eff}/B} \sim \tfrac12\ln\tfrac{1}{\theta(1-r)}\ (r\to1)"
)
ASSUMPTIONS = "0 < r < 1 (r = 1/(1+κ), κ > 0 where a sign matters), 0 < θ < 1, B, t positive integers, q = r^t ∈ (0, 1)."
REFERENCES = "Peng et al., arXiv 2309.03004 (T_eff); Kish (1965) Survey Sampling; library: theory/_window.py"

r = sp.Symbol("r", positive=True)
th = sp.Symbol("theta", positive=True)
Tstar = sp.log(th * (1 - r)) / sp.log(r) - 1


def steps():
    kap = sp.Symbol("kappa", positive=True)
    T = sp.Symbol("T", nonnegative=True)
    Ti = sp.Symbol("T", integer=True, nonnegative=True)
    jj = sp.Symbol("j", integer=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    t = sp.Symbol("t", integer=True, positive=True)
    B = sp.Symbol("B", integer=True, positive=True)
    q = sp.Symbol("q", positive=True)  # r**t
    de = sp.Symbol("delta", positive=True)  # 1 - r
    rk = 1 / (1 + kap)
    tail = lambda TT: r ** (TT + 1) / (1 - r)  # noqa: E731
    neff = B * (1 + r) / (1 - r) * (1 - q) / (1 + q)
    return [
        Step("absolute tail Σ_{j>T} r^j = r^{T+1}/(1-r)", sp.Sum(rk**jj, (jj, Ti + 1, sp.oo)), tail(Ti).subs(r, rk),
             doit=True, method=("cancel", "powsimp"), why="Geometric series, r = 1/(1+κ) < 1."),
        Step("the tail equals θ at T* = log(θ(1-r))/log r - 1", tail(Tstar), th, method=("log", "powsimp"),
             why="r^{T*+1} = exp(log(θ(1-r))) = θ(1-r)."),
        Step("the tail decreases in T", -sp.diff(tail(T), T).subs(r, rk), 0, ">=",
             certificate=[rk ** (T + 1) * sp.log(1 + kap) / (1 - rk)], method=("log", "cancel"),
             why="-d/dT r^{T+1}/(1-r) = r^{T+1}(-log r)/(1-r) with -log r = log(1+κ) > 0; hence "
             "tail(T) ≤ θ ⇔ T ≥ T*, and T_eff = max(0, ⌈T*⌉) is the smallest such integer (library: effective_window)."),
        Step("relative tail at T: r^{T+1} = (1-r)·tail ≤ θ(1-r)", (1 - r) * tail(T), r ** (T + 1),
             why="The neglected fraction of the total weight 1/(1-r) is θ(1-r), not θ (1e-5 at r = 0.99, θ = 1e-3)."),
        Step("Σ_{k<t} r^k = (1-r^t)/(1-r)", sp.Sum(rk**k, (k, 0, t - 1)), ((1 - r**t) / (1 - r)).subs(r, rk),
             doit=True, method=("cancel", "powsimp")),
        Step("Σ_{k<t} r^{2k} = (1-r^{2t})/(1-r²)", sp.Sum(rk ** (2 * k), (k, 0, t - 1)),
             ((1 - r ** (2 * t)) / (1 - r**2)).subs(r, rk), doit=True, method=("cancel", "powsimp", "simplify")),
        Step("Kish: (Σw)²/Σw² = B(1+r)/(1-r)·(1-r^t)/(1+r^t)",
             (B * (1 - q) / (1 - r)) ** 2 / (B * (1 - q**2) / (1 - r**2)), neff, method=("cancel",),
             why="B samples per step with weights r^k, q = r^t; 1 - q² = (1-q)(1+q)."),
        Step("stationary limit t → ∞", sp.Limit(neff, q, 0, "+"), B * (1 + r) / (1 - r), doit=True,
             why="q = r^t → 0 (library: kish_effective_samples(…, t=inf))."),
        Step("no decay: n_eff → B t as r → 1",
             sp.Limit(B * (1 + r) / (1 - r) * (1 - r**t) / (1 + r**t), r, 1), B * t, doit=True),
        Step("window: (1-r) T* / ln(1/(θ(1-r))) → 1 as r → 1",
             sp.Limit((Tstar * (1 - r) / sp.log(1 / (th * (1 - r)))).subs(r, 1 - de), de, 0, "+"), 1, doit=True),
        Step("Kish: (1-r) n_eff/B → 2 as r → 1 (t = ∞)", sp.Limit((1 - r) * (B * (1 + r) / (1 - r)) / B, r, 1), 2, doit=True,
             why="So T*/(n_eff/B) ~ ½ ln(1/(θ(1-r))) → ∞: T_eff is not an effective sample count "
             "(r = 0.99, θ = 1e-3: T_eff = 1145 vs n_eff = 199)."),
    ]


def check_numeric(rng):
    """effective_window vs the defining tail property, kish_effective_samples / kish_effective_size / heuristic_mp."""
    import mpmath

    from rmt_sparsity.laws import kish_effective_size
    from rmt_sparsity.theory import effective_window, heuristic_mp, kish_effective_samples

    tail = sp.lambdify((r, sp.Symbol("T")), r ** (sp.Symbol("T") + 1) / (1 - r), "mpmath")
    tt, BB = sp.symbols("t B", positive=True)
    kish = sp.lambdify((r, tt, BB), BB * (1 + r) / (1 - r) * (1 - r**tt) / (1 + r**tt), "mpmath")
    out = []
    bad, tol0 = [], []
    got_k, ref_k, tol_k, got_s, ref_s, tol_s, got_h, got_w, ref_w = ([] for _ in range(9))
    for _ in range(12):
        lr = float(np.exp(rng.uniform(np.log(1e-4), np.log(0.5))))
        wd = float(np.exp(rng.uniform(np.log(1e-3), np.log(1.0))))
        theta = float(np.exp(rng.uniform(np.log(1e-8), np.log(0.5))))
        rv = 1.0 - lr * wd  # the library's discount_factor (same float)
        T = effective_window(lr, wd, theta)
        with mpmath.workdps(40):
            R = mpmath.mpf(rv)
            ok_T = tail(R, T) <= theta
            ok_prev = T == 0 or tail(R, T - 1) > theta
            # ceil() of a float T* can land one off only if T* is within rounding of an integer:
            # |δT*| <= 8 eps |T*| (log, log, division); allow the neighbour then.
            Ts = float(mpmath.log(theta * (1 - R)) / mpmath.log(R) - 1)
        near = abs(Ts - round(Ts)) <= 8 * EPS * max(1.0, abs(Ts))
        bad.append(0.0 if (ok_T and ok_prev) or near else 1.0)
        tol0.append(0.5)
        t = int(rng.integers(1, 5000))
        B = int(rng.integers(1, 64))
        got_k.append(kish_effective_samples(B, t, lr, wd))
        ref = float(kish(mpmath.mpf(rv), t, B))
        ref_k.append(ref)
        # r^t via exp(t log r): relative error ~ eps (2 + t |ln r|); 1 - r^t then amplifies it by
        # r^t/(1-r^t); 1 - r and 1 + r are exact for the same float r (Sterbenz); ~8 other roundings
        rt = rv**t
        rel = EPS * ((4 + t * abs(math.log(rv))) * (1 + rt / (1 - rt)) + 8)
        tol_k.append(4 * rel * ref)
        if t <= 20000:
            w = np.repeat(rv ** np.arange(t, dtype=float), B)
            got_s.append(kish_effective_size(w)), ref_s.append(ref)
            # rv**k per weight (pow, ~1 ulp + k·ulp of r... relative k eps|ln r|), sums of t·B positive
            # terms (gamma_n with pairwise summation: ~log2(tB) eps): 4 (t|ln r| + log2(tB) + 4) eps
            tol_s.append(4 * EPS * (t * abs(math.log(rv)) + math.log2(t * B) + 4) * ref + tol_k[-1])
        h = heuristic_mp(int(rng.integers(1, 500)), rv, t, batch=B, theta=theta)
        got_h.append(h.n_eff_kish)
        got_w.append(h.window), ref_w.append(T)
    out.append(compare("T_eff = smallest T with tail ≤ θ", "theory.effective_window", bad, np.zeros(len(bad)), tol0,
                       "exact property (0/1); a neighbour allowed only when T* is within 8 eps of an integer"))
    out.append(compare("Kish n_eff closed form", "theory.kish_effective_samples", got_k, ref_k, tol_k,
                       "4 eps (8 + (4 + t|ln r|)(1 + r^t/(1-r^t))) relative: r^t = exp(t ln r) and 1 - r^t"))
    out.append(compare("Kish size of the explicit weight vector", "laws.kish_effective_size", got_s, ref_s, tol_s,
                       "4 (t|ln r| + log2(tB) + 4) eps relative (powers and positive sums) + the closed form's"))
    out.append(compare("heuristic_mp n_eff", "theory.heuristic_mp(...).n_eff_kish", got_h, ref_k, tol_k, "as for n_eff"))
    out.append(compare("heuristic_mp window = effective_window", "theory.heuristic_mp(...).window", got_w, ref_w,
                       np.full(len(ref_w), 0.5), "identical integers"))
    return out
