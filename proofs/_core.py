r"""The machinery shared by every derivation: steps, certificates, numeric checks.

A derivation is a list of :class:`Step` objects. Each step is a named
equality or inequality between two sympy expressions built from symbols with
declared assumptions (``positive=True``, ``nonnegative=True``, ``real=True``).

* **Equalities** are verified by reducing ``lhs - rhs`` to a canonical form that
  is literally ``0``: ``expand``, ``cancel(together(.))``, a polynomial reduction
  modulo stated algebraic relations (``sin² + cos² = 1``, ``q² = 1 - ε``, ...),
  a canonicalisation of symbolic ``Sum`` objects (general dimension ``d``),
  ``gammasimp`` for hypergeometric terms, or ``doit()`` for unevaluated
  integrals, limits and sums. No general-purpose ``simplify`` is used unless a
  step names it (it is slow and its failures are silent).
* **Inequalities** ``lhs >= rhs`` need an explicit *certificate*: a list of
  terms with ``lhs - rhs = Σ terms`` (verified as an equality) and every term
  *manifestly* non-negative (:func:`manifestly_nonneg`: products, powers and sums
  of declared non-negative symbols, even powers, ``|w|``, ``|w| ± w``,
  ``1 ± cos``, ...). A case split (:class:`Case`) substitutes each case's
  parametrisation (e.g. ``a = ρ + α`` with ``α >= 0``) and carries its own
  certificate.
* A step that cannot be machine-checked is created with ``unverified="reason"``:
  it is rendered and counted as *unverified*, never as verified.

Numeric checks (:class:`NumericCheck`) compare the library's own functions
with the lambdified result at random points, with a per-point tolerance whose
derivation is stated in ``tolerance_rule``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from sympy.concrete.summations import Sum

__all__ = [
    "EPS",
    "Case",
    "Step",
    "StepResult",
    "NumericCheck",
    "compare",
    "unavailable",
    "manifestly_nonneg",
    "canon_sums",
    "trig_reduce",
    "gaussian_expectation",
]

#: Double-precision unit roundoff times 2 (machine epsilon, 2**-52).
EPS = float(np.finfo(float).eps)

VERIFIED = "verified"
FAILED = "failed"
UNVERIFIED = "unverified"


# ---------------------------------------------------------------------------------------
# canonical forms
# ---------------------------------------------------------------------------------------
def canon_sums(expr):
    """Canonicalise symbolic sums: split over ``+``, pull index-free factors out, evaluate index-free sums.

    Enough to verify identities such as ``Σ_i Σ_j η_i² x_j² = (Σ η_i²)(Σ x_j²)`` for a
    symbolic dimension.
    """
    expr = sp.expand(expr)
    for _ in range(8):
        new = expr.replace(lambda e: isinstance(e, Sum), _canon_one_sum)
        new = sp.expand(new)
        if new == expr:
            break
        expr = new
    return expr


def _canon_one_sum(s):
    body = sp.expand(s.function)
    if isinstance(body, sp.Add):
        return sp.Add(*[_canon_one_sum(Sum(t, *s.limits)) for t in body.args])
    # pull out factors free of every summation index (innermost limit first)
    (idx, lo, hi) = s.limits[-1]
    inner_limits = s.limits[:-1]
    if inner_limits:
        inner = _canon_one_sum(Sum(body, *inner_limits))
        return _canon_one_sum_single(inner, (idx, lo, hi))
    return _canon_one_sum_single(body, (idx, lo, hi))


def _canon_one_sum_single(body, lim):
    idx, lo, hi = lim
    body = sp.expand(body)
    if isinstance(body, sp.Add):
        return sp.Add(*[_canon_one_sum_single(t, lim) for t in body.args])
    const, dep = [], []
    for f in sp.Mul.make_args(body):
        (dep if f.has(idx) else const).append(f)
    c = sp.Mul(*const)
    if not dep:
        return c * (hi - lo + 1)
    # rename the bound index canonically (one name per range), so that sums written with
    # different dummy indices compare equal
    k = sp.Symbol(f"k_{sp.srepr(lo)}_{sp.srepr(hi)}", integer=True)
    return c * Sum(sp.Mul(*dep).xreplace({idx: k}), (k, lo, hi))


def trig_reduce(expr):
    """Numerator of ``expr`` as a polynomial in ``sin``/``cos`` symbols, reduced modulo ``sin² + cos² = 1``.

    Returns 0 exactly when ``expr`` vanishes identically as a rational function of
    ``(sin θ, cos θ)`` on the circle.
    """
    trig = sorted(expr.atoms(sp.sin, sp.cos), key=sp.default_sort_key)
    args = sorted({t.args[0] for t in trig}, key=sp.default_sort_key)
    subs, rels, gens = {}, [], []
    for k, a in enumerate(args):
        S, C = sp.Dummy(f"s{k}"), sp.Dummy(f"c{k}")
        subs[sp.sin(a)] = S
        subs[sp.cos(a)] = C
        rels.append(S**2 + C**2 - 1)
        gens += [S, C]
    e = sp.together(expr.xreplace(subs))
    num = sp.expand(sp.numer(e))
    if not rels:
        return num
    return reduce_modulo(num, rels, gens)


def reduce_modulo(num, relations, gens):
    """Remainder of polynomial ``num`` modulo ``relations`` (a Gröbner basis in lex order of ``gens``)."""
    num = sp.expand(num)
    if num == 0:
        return sp.S.Zero
    others = sorted(num.free_symbols - set(gens), key=sp.default_sort_key)
    allgens = list(gens) + others
    G = sp.groebner([sp.expand(r) for r in relations], *allgens, order="lex")
    _, rem = G.reduce(num)
    return sp.expand(rem)


def _strategy(name, d, step):
    if name == "expand":
        return sp.expand(d)
    if name == "cancel":
        return sp.cancel(sp.together(d))
    if name == "trig":
        return trig_reduce(d)
    if name == "expand_trig":
        return trig_reduce(sp.expand_trig(d))
    if name == "mod":
        e = sp.together(d)
        return reduce_modulo(sp.numer(e), step.relations, step.gens)
    if name == "sums":
        return canon_sums(d)
    if name == "gamma":
        return sp.gammasimp(sp.combsimp(sp.expand_func(d)))
    if name == "powsimp":
        return sp.expand(sp.powsimp(sp.expand_power_exp(d), force=True))
    if name == "log":
        return sp.expand(sp.expand_log(sp.powsimp(d.rewrite(sp.exp), force=True), force=True))
    if name == "radsimp":
        return sp.expand(sp.radsimp(sp.together(d)))
    if name == "simplify":
        return sp.simplify(d)
    raise ValueError(f"unknown strategy {name!r}")


def _is_zero(d, step):
    """Try ``step.method`` strategies in order; return (True, strategy) at the first literal 0."""
    if step.subs:
        d = d.subs(step.subs)
    if d == 0:
        return True, "literal"
    for m in step.method:
        if callable(m):
            out, label = m(d), getattr(m, "__name__", "custom")
        else:
            out, label = _strategy(m, d, step), m
        if out == 0:
            return True, label
    return False, "+".join(m if isinstance(m, str) else getattr(m, "__name__", "custom") for m in step.method)


# ---------------------------------------------------------------------------------------
# non-negativity certificates
# ---------------------------------------------------------------------------------------
def manifestly_nonneg(e) -> bool:
    """Structural proof that ``e >= 0`` for every admissible value of its symbols.

    Rules (each sound for real arguments): non-negative numbers; sympy's own
    assumption system (``e.is_nonnegative is True``: declared non-negative symbols,
    even powers of reals, ``|w|``, ``exp``, ...); products, sums and positive powers
    of manifestly non-negative factors; ``Sum`` of a non-negative summand;
    ``|w| + w`` and ``|w| - w``; ``1 ± cos(·)``, ``1 ± sin(·)``; ``log(1 + u)`` with
    ``u >= 0``; ``Max(0, ·)``.
    """
    e = sp.sympify(e)
    if e.is_Number:
        return bool(e >= 0)
    if e.is_nonnegative is True:
        return True
    if isinstance(e, sp.Max) and any(a.is_Number and a >= 0 for a in e.args):
        return True
    if isinstance(e, Sum):
        return manifestly_nonneg(e.function)
    if isinstance(e, sp.Mul):
        return all(manifestly_nonneg(f) for f in e.args)
    if isinstance(e, sp.Pow):
        b, x = e.args
        if x.is_Integer and x.is_even and b.is_real:
            return True
        return manifestly_nonneg(b) and x.is_real is True
    if isinstance(e, sp.log):
        u = sp.expand(e.args[0] - 1)
        return manifestly_nonneg(u)
    if isinstance(e, sp.Add):
        if all(manifestly_nonneg(t) for t in e.args):
            return True
        # |w| ± w
        absterms = [t for t in e.args if isinstance(t, sp.Abs)]
        for a in absterms:
            w = a.args[0]
            if not w.is_real:
                continue
            for sgn in (1, -1):  # e = (|w| + sgn w) + remainder, |w| ± w >= 0
                remainder = sp.expand(e - a - sgn * w)
                if remainder == 0 or manifestly_nonneg(remainder):
                    return True
        # 1 ± cos(.), 1 ± sin(.)
        if len(e.args) == 2:
            one = [t for t in e.args if t == 1]
            if one:
                other = [t for t in e.args if t != 1][0]
                core = -other if other.could_extract_minus_sign() else other
                if isinstance(core, (sp.cos, sp.sin)) and core.args[0].is_real:
                    return True
    return False


@dataclass(frozen=True)
class Case:
    """One case of a case split: a parametrisation ``subs`` and the certificate ``terms`` in it."""

    label: str
    subs: dict
    terms: Sequence
    relations: Sequence = ()
    gens: Sequence = ()


# ---------------------------------------------------------------------------------------
# steps
# ---------------------------------------------------------------------------------------
_REL_LATEX = {"==": "=", ">=": r"\ge", "<=": r"\le", "->": r"\to"}


@dataclass(frozen=True)
class StepResult:
    """Outcome of :meth:`Step.verify`: ``status`` is ``verified``, ``failed`` or ``unverified``."""

    name: str
    status: str
    method: str
    detail: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class Step:
    r"""A named equality or inequality between sympy expressions.

    Parameters
    ----------
    name : str
        Short name (rendered as the step's title).
    lhs, rhs : sympy expressions
    relation : {"==", ">=", "<="}
    why : str
        The justification in words (rendered).
    method : tuple
        Canonical-form strategies tried in order on ``lhs - rhs`` (see
        :func:`_strategy`): ``"expand"``, ``"cancel"``, ``"trig"``, ``"mod"``
        (with ``relations``/``gens``), ``"sums"``, ``"gamma"``, ``"powsimp"``,
        ``"log"``, ``"radsimp"``, ``"simplify"``, or a callable returning 0.
    doit : bool
        Evaluate unevaluated ``Integral``/``Limit``/``Sum``/``Derivative`` first.
    subs : dict
        Substitution applied to ``lhs - rhs`` before the strategies.
    relations, gens : sequences
        Polynomial relations ``== 0`` (and their main generators) for ``"mod"``.
    certificate : sequence of terms, or sequence of :class:`Case`
        Required for inequalities.
    unverified : str, optional
        If given, the step is not attempted and is recorded as unverified with this reason.
    """

    name: str
    lhs: object
    rhs: object
    relation: str = "=="
    why: str = ""
    method: tuple = ("expand", "cancel")
    doit: bool = False
    subs: dict = field(default_factory=dict)
    relations: tuple = ()
    gens: tuple = ()
    certificate: object = None
    unverified: str | None = None
    antiderivative: object = None

    def latex(self) -> str:
        return f"{sp.latex(self.lhs)} {_REL_LATEX.get(self.relation, self.relation)} {sp.latex(self.rhs)}"

    def _same(self):
        lhs, rhs = sp.sympify(self.lhs), sp.sympify(self.rhs)
        if self.doit:
            lhs, rhs = lhs.doit(), rhs.doit()
        return lhs == rhs and not lhs.has(sp.Limit, sp.Integral, Sum, sp.Derivative)

    def _diff(self, subs=None):
        lhs, rhs = sp.sympify(self.lhs), sp.sympify(self.rhs)
        if self.doit:
            lhs, rhs = lhs.doit(), rhs.doit()
        d = lhs - rhs if self.relation in ("==", ">=") else rhs - lhs
        if subs:
            d = d.subs(subs)
        return d

    def verify(self) -> StepResult:
        """Check the step symbolically; never raises for a mathematical failure."""
        t0 = time.perf_counter()
        if self.unverified:
            return StepResult(self.name, UNVERIFIED, "none", self.unverified, 0.0)
        try:
            if self.antiderivative is not None:
                ok, how, detail = self._verify_ftc()
            elif self.relation == "==" and self._same():
                ok, how, detail = True, "identical", ""
            elif self.relation == "==":
                ok, how = _is_zero(self._diff(), self)
                detail = "" if ok else "lhs - rhs did not reduce to 0"
            elif self.relation in (">=", "<="):
                ok, how, detail = self._verify_inequality()
            else:
                ok, how, detail = False, "none", f"unknown relation {self.relation!r}"
        except Exception as exc:  # a sympy failure is a failed verification, reported
            ok, how, detail = False, "error", f"{type(exc).__name__}: {exc}"
        return StepResult(self.name, VERIFIED if ok else FAILED, how, detail, time.perf_counter() - t0)

    def _verify_ftc(self):
        """lhs = Integral(f, (v, lo, hi)): check F' = f and F(hi) - F(lo) = rhs (F continuous: see why)."""
        integ = self.lhs
        if not isinstance(integ, sp.Integral) or len(integ.limits) != 1 or len(integ.limits[0]) != 3:
            return False, "ftc", "antiderivative needs lhs = Integral(f, (v, lo, hi))"
        v, lo, hi = integ.limits[0]
        F = self.antiderivative
        probe = Step(self.name, 0, 0, method=self.method, relations=self.relations, gens=self.gens)
        ok1, how1 = _is_zero(sp.diff(F, v) - integ.function, probe)
        if not ok1:
            return False, how1, "F' != integrand"
        ok2, how2 = _is_zero(F.subs(v, hi) - F.subs(v, lo) - self.rhs, Step(self.name, 0, 0))
        if not ok2:
            return False, how2, "F(hi) - F(lo) != rhs"
        return True, f"antiderivative({how1})", ""

    def _verify_inequality(self):
        cert = self.certificate
        if cert is None:
            return False, "none", "an inequality needs a certificate"
        cases = cert if cert and isinstance(cert[0], Case) else [Case("all", {}, cert)]
        hows = []
        for case in cases:
            d = self._diff(case.subs)
            total = sp.Add(*[sp.sympify(t) for t in case.terms])
            for t in case.terms:
                if not manifestly_nonneg(t):
                    return False, "certificate", f"case {case.label}: term {t} is not manifestly >= 0"
            probe = Step(
                self.name, d, total, "==", method=self.method, relations=tuple(case.relations) or self.relations,
                gens=tuple(case.gens) or self.gens,
            )
            ok, how = _is_zero(d - total, probe)
            if not ok:
                return False, how, f"case {case.label}: lhs - rhs != certificate"
            hows.append(how)
        return True, "certificate(" + ",".join(sorted(set(hows))) + ")", ""


# ---------------------------------------------------------------------------------------
# numeric checks against the library
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NumericCheck:
    """Library function vs lambdified derivation at random points.

    ``max_error`` is the largest absolute discrepancy, ``max_ratio`` the largest
    ``error / tolerance`` (per point); the check passes when ``max_ratio <= 1``.
    """

    name: str
    library: str
    n_points: int
    max_error: float
    max_ratio: float
    tolerance_rule: str
    status: str
    detail: str = ""


def compare(name, library, got, ref, tol, tolerance_rule, *, detail="") -> NumericCheck:
    """Compare ``got`` (library) with ``ref`` (derivation) pointwise against ``tol`` (scalar or per point).

    A NaN in ``got`` where ``ref`` is finite fails the check; the worst point is
    reported in ``detail``.
    """
    got = np.asarray(got, dtype=complex if np.iscomplexobj(got) or np.iscomplexobj(ref) else float).ravel()
    ref = np.asarray(ref, dtype=got.dtype).ravel()
    tol = np.broadcast_to(np.asarray(tol, dtype=float), ref.shape)
    with np.errstate(all="ignore"):
        err = np.abs(got - ref)
        same_inf = (got == ref) & ~np.isfinite(ref)
        err = np.where(same_inf, 0.0, err)
        err = np.where(np.isnan(err), np.inf, err)
        ratio = np.where(err == 0, 0.0, err / tol)
    if err.size == 0:
        return NumericCheck(name, library, 0, math.nan, math.nan, tolerance_rule, UNVERIFIED, "no points")
    w = int(np.argmax(ratio))
    ok = bool(np.all(ratio <= 1.0))
    msg = detail or ""
    if not ok:
        msg = (msg + "; " if msg else "") + f"worst point #{w}: library {got[w]!r} vs derivation {ref[w]!r}, tol {tol[w]:.3g}"
    return NumericCheck(
        name, library, int(err.size), float(np.max(err)), float(np.max(ratio)), tolerance_rule,
        VERIFIED if ok else FAILED, msg,
    )


def unavailable(name, library, reason) -> NumericCheck:
    """A numeric check that could not run (e.g. the library function does not exist): *unverified*."""
    return NumericCheck(name, library, 0, math.nan, math.nan, "-", UNVERIFIED, reason)


def mp_lambdify(args, expr, dps=40) -> Callable:
    """Lambdify ``expr`` to mpmath at ``dps`` digits; the result maps float arrays to float/complex arrays."""
    import mpmath

    f = sp.lambdify(args, expr, modules="mpmath")

    def g(*vals):
        arrs = np.broadcast_arrays(*[np.asarray(v) for v in vals])
        out = []
        with mpmath.workdps(dps):
            for pt in zip(*[a.ravel() for a in arrs]):
                conv = [mpmath.mpc(v) if np.iscomplexobj(v) else mpmath.mpf(float(v)) for v in pt]
                out.append(complex(f(*conv)))
        out = np.array(out).reshape(arrs[0].shape)
        return out.real if np.all(out.imag == 0) else out

    return g


# ---------------------------------------------------------------------------------------
# Gaussian expectations of polynomials
# ---------------------------------------------------------------------------------------
def gaussian_expectation(poly, noise_symbols, s):
    """``E[poly]`` for independent ``N(0, s²)`` noise symbols (polynomial in them).

    Uses ``E[ε^k] = s^k (k-1)!!`` for even ``k`` and 0 for odd ``k`` (the moments
    are themselves verified by integration in the weight-noise derivation).
    """
    P = sp.Poly(sp.expand(poly), *noise_symbols)
    out = sp.S.Zero
    for monom, coeff in P.terms():
        val = coeff
        for k in monom:
            val *= 0 if k % 2 else s**k * sp.factorial2(k - 1)
        out += val
    return sp.expand(out)
