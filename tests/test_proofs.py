"""Tests of proofs/: every derivation's steps verify symbolically, its numeric checks pass at
hypothesis-drawn points, a wrong library formula is caught, and the renderer lists every verdict.

Tolerances live in the derivation modules (each NumericCheck carries the rule it used:
machine epsilon times a condition number, or a solver's residual certificate).
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import proofs
from proofs._core import Case, Step, compare, manifestly_nonneg
from proofs.__main__ import main

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


# -------------------------------------------------------------------------------------------
# symbolic steps
# -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", proofs.MODULES)
def test_every_step_verifies(name):
    res = proofs.run(name, numeric=False)
    assert res.steps, "a derivation needs steps"
    for step, sr in res.steps:
        if step.unverified:
            # declared unverified: recorded as such, with its reason, never as verified
            assert sr.status == proofs.UNVERIFIED and len(sr.detail) > 20
        else:
            assert sr.status == proofs.VERIFIED, f"{name}: step {step.name!r} {sr.status}: {sr.detail}"


def test_only_the_paper_bounds_are_unverified():
    res = proofs.run("paper_bounds", numeric=False)
    assert res.status == proofs.UNVERIFIED
    names = [s.name for s, r in res.steps if r.status == proofs.UNVERIFIED]
    assert any("bound_re" in n for n in names) and any("bound_im" in n for n in names)


# negative controls: the verifier must be able to fail
def test_wrong_equality_fails():
    x = sp.Symbol("x", real=True)
    assert Step("wrong", (x + 1) ** 2, x**2 + 1).verify().status == proofs.FAILED
    assert Step("right", (x + 1) ** 2, x**2 + 2 * x + 1).verify().status == proofs.VERIFIED


def test_wrong_trig_identity_fails():
    p = sp.Symbol("phi", real=True)
    assert Step("ok", sp.sin(p) ** 2, 1 - sp.cos(p) ** 2, method=("trig",)).verify().status == proofs.VERIFIED
    assert Step("bad", sp.sin(p) ** 2, 1 + sp.cos(p) ** 2, method=("trig",)).verify().status == proofs.FAILED


def test_wrong_sum_identity_fails():
    from proofs.gradient_identity import d, eta, f, i, j, x

    frob = sp.Sum((eta[i] * x[j]) ** 2, (i, 1, f), (j, 1, d))
    prod = sp.Sum(x[j] ** 2, (j, 1, d)) * sp.Sum(eta[i] ** 2, (i, 1, f))
    assert Step("ok", frob, prod, method=("sums",)).verify().status == proofs.VERIFIED
    assert Step("bad", frob, 2 * prod, method=("sums",)).verify().status == proofs.FAILED


def test_inequality_certificates():
    u = sp.Symbol("u", nonnegative=True)
    y = sp.Symbol("y", real=True)
    # a correct certificate
    assert Step("ok", u + 1, 1, ">=", certificate=[u]).verify().status == proofs.VERIFIED
    # no certificate, a term that is not manifestly >= 0, a certificate that does not sum up
    assert Step("none", u + 1, 1, ">=").verify().status == proofs.FAILED
    assert Step("sign", y + 1, 1, ">=", certificate=[y]).verify().status == proofs.FAILED
    assert Step("sum", u + 2, 1, ">=", certificate=[u]).verify().status == proofs.FAILED
    # a false inequality cannot be certified
    assert Step("false", u, u + 1, ">=", certificate=[sp.Integer(-1)]).verify().status == proofs.FAILED
    P, Q = sp.symbols("P Q", nonnegative=True)
    case = [Case("p = P, q = -Q", {y: P}, [sp.Abs(P - Q) - (P - Q)])]
    assert Step("bad case", sp.Abs(y - Q), y + Q, ">=", certificate=case).verify().status == proofs.FAILED


def test_manifest_nonnegativity_rules():
    a = sp.Symbol("a", nonnegative=True)
    x = sp.Symbol("x", real=True)
    assert manifestly_nonneg(a * x**2 + sp.Abs(x) - x)
    assert manifestly_nonneg(1 - sp.cos(x))
    assert not manifestly_nonneg(x)
    assert not manifestly_nonneg(a - 1)
    assert not manifestly_nonneg(sp.Abs(x) - 2 * x)


def test_declared_unverified_step_is_not_passed():
    x = sp.Symbol("x")
    r = Step("cited", x, x, unverified="no proof available here").verify()
    assert r.status == proofs.UNVERIFIED and r.detail == "no proof available here"


def test_compare_reports_nan_and_worst_point():
    ok = compare("c", "f", [1.0, 2.0], [1.0, 2.0 + 1e-16], 1e-15, "rule")
    assert ok.status == proofs.VERIFIED and ok.max_ratio <= 1
    bad = compare("c", "f", [1.0, float("nan")], [1.0, 2.0], 1e-15, "rule")
    assert bad.status == proofs.FAILED and math.isinf(bad.max_error)


# -------------------------------------------------------------------------------------------
# numeric checks at hypothesis-drawn points (seeds of the point generator)
# -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", proofs.MODULES)
@settings(max_examples=2, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=SEEDS)
def test_numeric_checks_pass(name, seed):
    mod = proofs.load(name)
    checks = mod.check_numeric(np.random.default_rng(seed))
    assert checks
    for c in checks:
        # every library function used by the derivations exists in this checkout
        assert c.status == proofs.VERIFIED, f"{name}: {c.name} ({c.library}) {c.status}: {c.detail}"
        assert c.n_points > 0 and c.max_ratio <= 1.0


# -------------------------------------------------------------------------------------------
# mutation: a wrong library formula must be caught by the corresponding derivation
# -------------------------------------------------------------------------------------------
def _mp_module():
    # ``rmt_sparsity.laws.marchenko_pastur`` as an attribute is the scipy instance (it shadows the
    # submodule name), so fetch the module itself
    return importlib.import_module("rmt_sparsity.laws.marchenko_pastur")


def _wrong_mp_pdf(monkeypatch):
    mpmod = _mp_module()

    orig = mpmod._pdf

    def wrong(x, c, s=1.0, nonzero=False, log=False):
        # sign error: sqrt((b - x)(x + a)) instead of sqrt((b - x)(x - a)) inside the bulk
        p = orig(x, c, s, nonzero, log)
        if log:
            return p
        x = np.asarray(x, dtype=float)
        a = s * (1 - np.sqrt(c)) ** 2
        with np.errstate(all="ignore"):
            fac = np.sqrt(np.abs((x + a) / (x - a)))
        return np.where(np.isfinite(fac) & (p > 0), p * fac, p)

    monkeypatch.setattr(mpmod, "_pdf", wrong)
    return ("mp_normalization", "mp_cdf")


def _wrong_narayana(monkeypatch):
    mpmod = _mp_module()

    def wrong(k, c, s=1.0):
        c = np.asarray(c, dtype=float)
        tot = sum(c**r * (math.comb(k, r) * math.comb(k, r) / (r + 1)) for r in range(k))  # C(k, r) for C(k-1, r)
        return tot * np.asarray(s, dtype=float) ** k

    monkeypatch.setattr(mpmod, "_narayana_moment", wrong)
    return ("mp_moments",)


def _wrong_gradient_norm(monkeypatch):
    import rmt_sparsity.theory as th

    orig = th.key_gradient_sq_norms
    monkeypatch.setattr(th, "key_gradient_sq_norms", lambda x, eta: orig(x, eta) + np.sum(np.asarray(eta), axis=1) ** 2 * 0.01)
    return ("gradient_identity",)


def _wrong_window(monkeypatch):
    import rmt_sparsity.theory._window as w

    def floor_window(r, theta):  # floor instead of ceil: the tail then exceeds theta
        if r >= 1.0:
            return math.inf
        return float(max(0, math.floor(math.log(theta * (1.0 - r)) / math.log(r) - 1.0)))

    monkeypatch.setattr(w, "_window_from_r", floor_window)
    return ("effective_window",)


def _wrong_stieltjes_branch(monkeypatch):
    mpmod = _mp_module()

    orig = mpmod._stieltjes

    def wrong(z, c, s=1.0, nonzero=False):  # the other root of the quadratic
        m = orig(z, c, s, False)
        other = 1.0 / (c * s * np.asarray(z, dtype=complex) * m)  # Vieta: m+ m- = 1/(c s z)
        return c * other + (c - 1.0) / np.asarray(z, dtype=complex) if (nonzero and c > 1) else other

    monkeypatch.setattr(mpmod, "_stieltjes", wrong)
    return ("mp_stieltjes",)


@pytest.mark.parametrize(
    "mutate", [_wrong_mp_pdf, _wrong_narayana, _wrong_gradient_norm, _wrong_window, _wrong_stieltjes_branch]
)
def test_mutated_library_formula_is_caught(monkeypatch, mutate):
    for name in mutate(monkeypatch):
        checks = proofs.load(name).check_numeric(np.random.default_rng(0))
        failed = [c for c in checks if c.status == proofs.FAILED]
        assert failed, f"{mutate.__name__} was not caught by {name}"


# -------------------------------------------------------------------------------------------
# rendering
# -------------------------------------------------------------------------------------------
def test_render_lists_every_derivation_with_its_verdict(tmp_path):
    code = main(["--write", "--out", str(tmp_path), "--no-numeric", "--quiet"])
    assert code == 0  # nothing failed; the paper bounds are unverified, which is not a failure
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    for name in proofs.MODULES:
        mod = proofs.load(name)
        assert f'<a id="{name}"></a>' in text
        assert mod.TITLE in text
        section = text.split(f'<a id="{name}"></a>')[1]
        verdict = "✅ verified" if name != "paper_bounds" else "⚠️ unverified"
        assert f"**Verdict: {verdict}**" in section.split("<a id=")[0]
    assert "$$" in text  # LaTeX blocks
    assert main(["--write", "--out", str(tmp_path), "--no-numeric", "--quiet", "--strict"]) == 1  # unverified -> 1
    assert main(["--only", "not_a_derivation"]) == 2  # usage error


def test_render_with_numeric_subset(tmp_path):
    assert main(["--write", "--out", str(tmp_path), "--only", "jsrelu", "layernorm", "--quiet"]) == 0
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "Numeric checks against the library" in text and "rmt_sparsity.nn.jsrelu" in text


def test_failed_derivation_gives_exit_code_1(tmp_path, monkeypatch):
    _wrong_narayana(monkeypatch)
    assert main(["--write", "--out", str(tmp_path), "--only", "mp_moments", "--quiet"]) == 1
    assert "❌ FAILED" in (tmp_path / "README.md").read_text(encoding="utf-8")


def test_unknown_derivation_name():
    with pytest.raises(ValueError, match="unknown derivation"):
        proofs.load("nope")
