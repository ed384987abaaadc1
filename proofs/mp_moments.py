r"""Marchenko–Pastur moments are the Narayana polynomials.

.. math:: \mathbb E X^k = s^k \sum_{j=0}^{k-1} \frac{c^j}{j+1}\binom kj\binom{k-1}j .

Two independent routes:

* **k ≤ 8 by integration.** In the angle variable
  :math:`x^k p(x)\,dx = \frac{2 s^k}{\pi}(1+c-2\sqrt c\cos\varphi)^{k-1}\sin^2\varphi\,d\varphi`
  (derivation 1), a trigonometric polynomial integrated exactly.
* **All k by the Stieltjes series.** With :math:`w = 1/z`,
  :math:`m = -w(1 + H)` turns the MP quadratic into :math:`H = w\,\phi(H)`,
  :math:`\phi(h) = s(1+h)(1+ch)`; Lagrange inversion gives
  :math:`[w^k]H = \frac1k[h^{k-1}]\phi(h)^k`, a Vandermonde-type sum whose
  terms equal the Narayana terms (a hypergeometric-term identity, checked for
  symbolic k and j).
"""

from __future__ import annotations

import sympy as sp

from . import _mp
from ._core import EPS, Step, compare, mp_lambdify

TITLE = "MP moments = Narayana polynomials (derivation 2)"
STATEMENT = r"\mathbb E X^k = s^k\sum_{j=0}^{k-1}\frac{c^j}{j+1}\binom kj\binom{k-1}j\quad(k\ge1)"
ASSUMPTIONS = "s = σ² > 0, r = √c > 0, φ ∈ [0, π]; k ≥ 1 and 0 ≤ j ≤ k-1 integers; w a formal variable."
REFERENCES = "arXiv math/0701314 (Narayana polynomials and MP); Lagrange–Bürmann inversion (Stanley, EC2 §5.4)"

s, r, phi = _mp.s, _mp.r, _mp.phi
KMAX = 8
KMAX_SERIES = 10


def narayana(k, c, ss):
    return ss**k * sum(c**j / (j + 1) * sp.binomial(k, j) * sp.binomial(k - 1, j) for j in range(k))


_COS_INT = {}


def _trig_integral(expr):
    """∫_0^π expr dφ for expr a polynomial in cos φ times sin²φ: term-wise exact integrals (cached)."""
    C = sp.Dummy("C")
    poly = sp.Poly(sp.expand(expr / sp.sin(phi) ** 2).subs(sp.cos(phi), C), C)
    out = sp.S.Zero
    for (j,), coeff in poly.terms():
        if j not in _COS_INT:
            _COS_INT[j] = sp.integrate(sp.cos(phi) ** j * sp.sin(phi) ** 2, (phi, 0, sp.pi))
        out += coeff * _COS_INT[j]
    return sp.expand(out)


def _integral_strategy(d):
    """Evaluate the unevaluated trigonometric-polynomial integral in d, then expand."""
    d = d.replace(lambda e: isinstance(e, sp.Integral), lambda e: _trig_integral(e.function))
    return sp.expand(d)


def steps():
    out = []
    for k in range(1, KMAX + 1):
        integrand = 2 * s**k / sp.pi * (1 + r**2 - 2 * r * sp.cos(phi)) ** (k - 1) * sp.sin(phi) ** 2
        out.append(
            Step(
                f"k = {k} by integration in the angle variable", sp.Integral(integrand, (phi, 0, sp.pi)),
                narayana(k, r**2, s), method=(_integral_strategy,),
                why="x^k p(x) dx in the angle variable (derivation 1); ∫₀^π cos^jφ sin²φ dφ term by term.",
            )
        )
    w, H, h, c = sp.symbols("w H h c")
    m = -w * (1 + H)
    zz = 1 / w
    quad = c * s * zz * m**2 + (zz - s * (1 - c)) * m + 1
    out.append(
        Step(
            "quadratic ⇔ H = w φ(H), φ(h) = s(1+h)(1+ch)", quad, s * w * (1 + H) * (1 + c * H) - H,
            why="m(z) = -Σ_k M_k z^{-k-1} = -w(1 + H(w)) with H = Σ_{k≥1} M_k w^k, w = 1/z, "
            "in c s z m² + (z - s(1-c)) m + 1 = 0.",
        )
    )
    # Lagrange inversion instances: series solution of H = w phi(H) vs (1/k)[h^{k-1}] phi^k
    # (sympy Poly arithmetic over QQ[w, s, c, h]: fast, exact)
    K = KMAX_SERIES
    gens = (w, s, c, h)
    one = sp.Poly(1, *gens)
    Hs = sp.Poly(0, *gens)
    W = sp.Poly(w * s, *gens)
    C = sp.Poly(c, *gens)

    def trunc(P):
        return sp.Poly.from_dict({m: v for m, v in P.as_dict().items() if m[0] <= K}, *gens)

    for _ in range(K):  # each fixed-point pass fixes one more coefficient; truncate at w^K
        Hs = trunc(W * (one + Hs) * (one + C * Hs))
    phi_h = sp.Poly(s * (1 + h) * (1 + c * h), *gens)
    lagr = sp.Poly(0, *gens)
    for k in range(1, K + 1):
        coeff = {m[:3] + (0,): v for m, v in (phi_h**k).as_dict().items() if m[3] == k - 1}
        lagr += sp.Poly.from_dict(coeff, *gens) * sp.Poly(w**k, *gens) * sp.Rational(1, k)
    out.append(
        Step(
            f"Lagrange inversion [w^k]H = (1/k)[h^(k-1)] φ(h)^k, k ≤ {K}", Hs.as_expr(), lagr.as_expr(),
            why="Lagrange–Bürmann theorem (φ(0) = s ≠ 0) for every k; checked here against the fixed-point "
            f"series of H = wφ(H) up to w^{K}.",
        )
    )
    kk = sp.Symbol("k", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, nonnegative=True)
    out.append(
        Step(
            "coefficient of h^(k-1) in (1+h)^k (1+ch)^k",
            sum(sp.expand((1 + h) ** n * (1 + c * h) ** n).coeff(h, n - 1) * w**n for n in range(1, K + 1)),
            sum(sum(sp.binomial(n, jj) * sp.binomial(n, n - 1 - jj) * c**jj for jj in range(n)) * w**n for n in range(1, K + 1)),
            why=f"Cauchy product of the two binomial expansions: Σ_j C(k,j) c^j · C(k, k-1-j) (all k; shown for k ≤ {K}).",
        )
    )
    out.append(
        Step(
            "term identity (symbolic k, j)", sp.binomial(kk, j) * sp.binomial(kk, kk - 1 - j) / kk,
            sp.binomial(kk, j) * sp.binomial(kk - 1, j) / (j + 1), method=("gamma",),
            why="C(k, k-1-j) = C(k, j+1) = k/(j+1)·C(k-1, j): Lagrange's coefficient is the Narayana term, "
            "so M_k = s^k Σ_j c^j C(k,j)C(k-1,j)/(j+1) for every k ≥ 1.",
        )
    )
    return out


def check_numeric(rng):
    """Library moments (law object, non-zero law, scipy instance) vs the lambdified Narayana polynomials."""
    from rmt_sparsity.laws import MarchenkoPastur, marchenko_pastur

    cc = sp.Symbol("c", positive=True)
    refs = {k: mp_lambdify((cc, s), narayana(k, cc, s)) for k in range(0, KMAX + 1) if k}
    cs, ss = _mp.draw_params(rng, 6)
    got, ref, tol, got_nz, ref_nz, tol_nz, got_sp, ref_sp, tol_sp = ([] for _ in range(9))
    for c, sc in zip(cs, ss):
        law = MarchenkoPastur(float(c), float(sc))
        nz = MarchenkoPastur(float(c), float(sc), nonzero=True)
        for k in range(1, KMAX + 1):
            M = float(refs[k](c, sc))
            # library: k positive terms c**r * (C C/(r+1)) (pow ~1 ulp, product and quotient of exact
            # integers 2 roundings, product 1) summed (k-1 roundings) times s**k (~2 ulps):
            # relative error <= (k + 6) eps; doubled as margin.
            t = 2 * (k + 6) * EPS * M
            got.append(law.moment(k)), ref.append(M), tol.append(t)
            mult = c if c > 1 else 1.0
            got_nz.append(nz.moment(k)), ref_nz.append(M * mult), tol_nz.append(t * mult + EPS * M * mult)
            if c <= 1:
                got_sp.append(float(marchenko_pastur.moment(k, c, scale=sc)))
                ref_sp.append(M), tol_sp.append(t + 4 * k * EPS * M)
    out = [
        compare("moment(k) = Narayana, k ≤ 8", "MarchenkoPastur.moment", got, ref, tol,
                "2(k+6)·eps·M_k (positive sum of k terms, pow and s^k)"),
        compare("non-zero law: c·M_k for c > 1", "MarchenkoPastur(nonzero=True).moment", got_nz, ref_nz, tol_nz,
                "as above, + 1 ulp for the factor c"),
    ]
    if got_sp:
        out.append(compare("scipy moment(k)", "marchenko_pastur.moment", got_sp, ref_sp, tol_sp,
                           "as above + 4k eps for scipy's scale**k algebra"))
    return out
