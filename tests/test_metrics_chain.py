"""Relative gradient sparsity, the gradient-density ratio and the log10 g^2 histogram against plain-Python references."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmt_sparsity.metrics import (
    GRADIENT_LOG_EDGES,
    RELATIVE_GRADIENT_TAUS,
    formulas,
    gradient_density_ratio,
    gradient_log_histogram,
    relative_gradient_sparsity,
)


def _ref_relative(eta, tau):
    """Entry-by-entry count with the rms of each row computed by a Python sum."""
    count = total = 0
    for row in eta:
        rms = math.sqrt(sum(float(v) ** 2 for v in row) / len(row))
        for v in row:
            count += abs(float(v)) <= tau * rms
            total += 1
    return count / total


def _ref_density(g, active):
    g2 = [float(v) ** 2 for v in np.ravel(g)]
    act = list(np.ravel(active))
    n_act = sum(act)
    cond = sum(v for v, a in zip(g2, act) if a) / n_act
    return cond / (sum(g2) / len(g2))


rows = st.lists(st.lists(st.floats(-1e3, 1e3, allow_nan=False, width=64), min_size=3, max_size=12), min_size=1,
                max_size=6).filter(lambda r: len({len(x) for x in r}) == 1)


@settings(max_examples=60, deadline=None)
@given(rows, st.sampled_from([1e-3, 1e-2, 0.5, 1.0]))
def test_relative_sparsity_matches_reference(eta, tau):
    got = relative_gradient_sparsity(eta, [tau], reduce="mean")[tau]
    assert got == pytest.approx(_ref_relative(eta, tau), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(rows, st.floats(1e-6, 1e6))
def test_relative_sparsity_is_scale_free(eta, c):
    e = np.asarray(eta)
    a = relative_gradient_sparsity(e, RELATIVE_GRADIENT_TAUS, reduce="none")
    b = relative_gradient_sparsity(c * e, RELATIVE_GRADIENT_TAUS, reduce="none")
    # the comparison |eta| <= tau rms is exactly scale-invariant up to rounding at the boundary: allow one entry per row
    for t in RELATIVE_GRADIENT_TAUS:
        assert np.all(np.abs(a[t] - b[t]) <= 1.0 / e.shape[-1] + 1e-12)


def test_relative_sparsity_zero_token_and_errors():
    out = relative_gradient_sparsity([[0.0, 0.0, 0.0], [1.0, 1.0, 1e-4]], [1e-3], reduce="none")[1e-3]
    assert out.tolist() == [1.0, pytest.approx(1 / 3)]
    with pytest.raises(ValueError, match="taus"):
        relative_gradient_sparsity([[1.0]], [0.0])
    with pytest.raises(ValueError, match="taus"):
        relative_gradient_sparsity([[1.0]], [])
    with pytest.raises(ValueError, match="eta"):
        relative_gradient_sparsity([[np.nan, 1.0]])


def test_density_ratio_matches_reference():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((50, 20)) * rng.exponential(size=(1, 20))
    active = rng.random((50, 20)) < 0.4
    assert gradient_density_ratio(g, active) == pytest.approx(_ref_density(g, active), rel=1e-12)
    # all active: the ratio is exactly 1; g only on inactive entries: 0
    assert gradient_density_ratio(g, np.ones_like(active)) == pytest.approx(1.0, rel=1e-14)
    g0 = np.where(active, 0.0, g)
    assert gradient_density_ratio(g0, active) == 0.0


def test_density_ratio_undefined_and_errors():
    g = np.ones((3, 4))
    assert math.isnan(gradient_density_ratio(g, np.zeros((3, 4), bool)))
    assert math.isnan(gradient_density_ratio(np.zeros((3, 4)), np.ones((3, 4), bool)))
    with pytest.raises(TypeError, match="boolean"):
        gradient_density_ratio(g, np.ones((3, 4)))
    with pytest.raises(ValueError, match="shape"):
        gradient_density_ratio(g, np.ones((4, 3), bool))


def test_log_histogram_matches_numpy_histogram():
    rng = np.random.default_rng(1)
    g = rng.standard_normal(4000) * 10.0 ** rng.uniform(-12, 3, 4000)
    g[:50] = 0.0
    active = rng.random(4000) < 0.5
    edges = np.asarray(GRADIENT_LOG_EDGES)
    h = gradient_log_histogram(g, active)
    with np.errstate(divide="ignore"):
        v = np.clip(np.log10(g * g), edges[0], edges[-1])  # -inf -> first edge: the clamp of the paper's code
    want_all, _ = np.histogram(v, bins=edges)
    want_act, _ = np.histogram(v[active], bins=edges)
    np.testing.assert_array_equal(h["all"], want_all)
    np.testing.assert_array_equal(h["active"], want_act)
    assert h["all"].sum() == g.size and h["all"][0] >= 50
    with pytest.raises(ValueError, match="edges"):
        gradient_log_histogram(g, edges=[1.0, 0.0])


def test_jax_formulas_equal_numpy():
    jnp = pytest.importorskip("jax.numpy")
    rng = np.random.default_rng(2)
    g = rng.standard_normal((30, 16)).astype(np.float32)
    act = rng.random((30, 16)) < 0.3
    edges = np.asarray(GRADIENT_LOG_EDGES, np.float32)
    for tau in RELATIVE_GRADIENT_TAUS:
        a = float(formulas.relative_gradient_sparsity(jnp.asarray(g), tau, axis=None, xp=jnp))
        assert a == pytest.approx(float(formulas.relative_gradient_sparsity(g, tau, axis=None)), abs=1e-7)
    r_j = float(formulas.gradient_density_ratio(jnp.asarray(g), jnp.asarray(act), xp=jnp))
    assert r_j == pytest.approx(float(formulas.gradient_density_ratio(g, act)), rel=1e-5)
    h_j = np.asarray(formulas.log10_square_histogram(jnp.asarray(g), jnp.asarray(edges), where=jnp.asarray(act), xp=jnp))
    np.testing.assert_array_equal(h_j, formulas.log10_square_histogram(g, edges, where=act))


# ------------------------------------------------------------------ the formulas' own boundary (NumPy and traced)
@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: formulas.zero_fraction(np.array([[0.0, np.nan]])), ValueError, "a must be finite"),
        (lambda: formulas.zero_fraction(np.zeros((2, 3)), axis=2), ValueError, "axis must be None or an integer"),
        (lambda: formulas.zero_fraction(np.zeros(3), atol=-1.0), ValueError, "atol"),
        (lambda: formulas.zero_fraction(np.zeros(3, complex)), TypeError, "a must be an array of real numbers"),
        (lambda: formulas.gradient_sparsity(np.zeros(0), 1e-3), ValueError, "eta must be non-empty"),
        (lambda: formulas.gradient_sparsity(np.zeros(3), float("nan")), ValueError, "tau"),
        (lambda: formulas.relative_gradient_sparsity(np.float64(1.0), 1e-2), ValueError, "eta must have at least 1 axis"),
        (lambda: formulas.gradient_density_ratio(np.ones(3), np.ones(3)), TypeError, "active must be a boolean"),
        (lambda: formulas.gradient_density_ratio(np.ones(3), np.ones(2, bool)), ValueError, "active must have the shape"),
        (lambda: formulas.log10_square_histogram(np.ones(3), np.array([0.0, 0.0])), ValueError, "strictly increasing"),
        (lambda: formulas.dormant_scores(np.ones(3)), ValueError, "a must be 2-D"),
        (lambda: formulas.dormant_fraction(np.array([]), 0.0), ValueError, "scores must be non-empty"),
    ],
)
def test_formulas_refuse_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_formulas_trace_and_give_nan_for_nonfinite_traced_input():
    """Under jit the values are unknown: the static checks still run, and a NaN/inf entry gives NaN, not a count."""
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    a = np.array([[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, np.nan, 3.0]], np.float32)
    zf = jax.jit(lambda x: formulas.zero_fraction(x, xp=jnp))(a)
    assert float(zf[0]) == 0.5 and np.isnan(float(zf[1]))   # the clean row is counted, the NaN row is NaN
    assert np.isnan(float(jax.jit(lambda x: formulas.gradient_sparsity(x, 1e-3, axis=None, xp=jnp))(a)))
    assert np.isnan(float(jax.jit(lambda x: formulas.relative_gradient_sparsity(x, 1e-2, axis=0, xp=jnp))(a)[0]))
    s = jax.jit(lambda x: formulas.dormant_scores(x, xp=jnp))(a)
    assert np.isnan(np.asarray(s)).all()
    assert np.isnan(float(jax.jit(lambda s: formulas.dormant_fraction(s, 0.0, xp=jnp))(s)))
    h = jax.jit(lambda g, e: formulas.log10_square_histogram(g, e, xp=jnp))(a, jnp.array([-4.0, 0.0, 4.0]))
    assert np.isnan(np.asarray(h)).all()
    # clean traced input: the same numbers as NumPy; a traced tau passes through
    clean = np.nan_to_num(a)
    assert float(jax.jit(lambda x, t: formulas.gradient_sparsity(x, t, axis=None, xp=jnp))(clean, 1e-3)) == \
        float(formulas.gradient_sparsity(clean, 1e-3, axis=None))
    with pytest.raises(ValueError, match="a must be 2-D"):  # a static check raises while tracing
        jax.jit(lambda x: formulas.dormant_scores(x, xp=jnp))(clean[0])
