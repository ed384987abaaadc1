"""Contract tests of the hypothesis strategies in rmt_sparsity.testing.strategies.

Each strategy's contract (shape, dtype, requested spectrum / density / structure)
is checked as a property over drawn examples. The example sequence is fixed
(``derandomize=True``), so the few statistical checks below (each with a stated
false-alarm rate per example) are deterministic in CI.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp
from strategies import (
    DETERMINISTIC,
    MP_EDGE_RATIOS,
    MP_EDGE_SCALES,
    FFNWeights,
    SpikedMatrix,
    bbp_threshold,
    ffn_weights,
    layernorm_inputs,
    matrices_with_spectrum,
    mp_category,
    mp_parameters,
    sparse_activations,
    spiked_matrices,
    wishart_matrices,
)

from rmt_sparsity.laws import MarchenkoPastur, edge_band

DTYPES = st.sampled_from([np.float32, np.float64])


# ---------------------------------------------------------------------------------------
# mp_parameters
# ---------------------------------------------------------------------------------------
@DETERMINISTIC
@given(mp_parameters())
def test_mp_parameters_valid_by_default(params):
    ratio, scale = params
    assert isinstance(ratio, float) and isinstance(scale, float)
    assert 1e-3 <= ratio <= 1e3 and 1e-3 <= scale <= 1e3
    law = MarchenkoPastur(ratio, scale)
    assert 0.0 <= law.cdf(law.mean()) <= 1.0
    assert math.isfinite(law.moment(2))


def test_mp_parameters_mix_categories_and_laws_respond_correctly():
    """With allow_invalid=True every category appears; valid ones build a law, the others make it raise."""
    seen = Counter()

    @settings(DETERMINISTIC, max_examples=300)
    @given(mp_parameters(allow_invalid=True))
    def run(params):
        ratio, scale = params
        cat = mp_category(ratio, scale)
        edge = cat == "valid" and (ratio in MP_EDGE_RATIOS or scale in MP_EDGE_SCALES)
        seen["edge" if edge else cat] += 1
        if cat == "valid":
            law = MarchenkoPastur(ratio, scale)
            lo, hi = law.support()
            assert 0.0 <= lo <= hi
            F = law.cdf(0.5 * (lo + hi))
            assert 0.0 <= F <= 1.0
        else:
            with pytest.raises(ValueError, match="ratio|scale"):
                MarchenkoPastur(ratio, scale)

    run()
    assert set(seen) == {"valid", "edge", "invalid", "nan"}, seen
    # draws are 50/20/20/10 %, but duplicate examples are not re-run, so the small discrete
    # categories are under-represented among executed examples (strategy docstring): only
    # check that none is starved, each >= 5 % (deterministic: derandomized)
    total = sum(seen.values())
    assert all(v >= 0.05 * total for v in seen.values()), seen


def test_mp_parameters_shrinks_to_simple_values():
    from hypothesis import find

    assert find(mp_parameters(), lambda rs: rs[0] > 5.0) == (6.0, 1.0)
    assert find(mp_parameters(allow_invalid=True), lambda rs: mp_category(*rs) == "nan")[0] != 0  # found at all


# ---------------------------------------------------------------------------------------
# wishart_matrices
# ---------------------------------------------------------------------------------------
@DETERMINISTIC
@given(wishart_matrices(st.integers(1, 40), st.integers(1, 40), scale=st.floats(0.01, 100.0), dtype=DTYPES))
def test_wishart_matrices_contract(W):
    assert W.ndim == 2 and 1 <= W.shape[0] <= 40 and 1 <= W.shape[1] <= 40
    assert W.dtype in (np.float32, np.float64) and np.isfinite(W).all()


@DETERMINISTIC
@given(wishart_matrices(st.integers(20, 40), st.integers(20, 40), scale=st.sampled_from([0.25, 1.0, 9.0])))
def test_wishart_matrices_entry_variance(W):
    """Sample second moment of N >= 400 N(0, s2) entries: mean s2, sd s2 sqrt(2/N).

    The scale is recovered as the only value in {0.25, 1, 9} within 6 sd (the
    others are > 100 sd away); P(chi^2_N/N off by 6 sd) < 1e-6 per example.
    """
    N = W.size
    m2 = float((W.astype(np.float64) ** 2).mean())
    matches = [s for s in (0.25, 1.0, 9.0) if abs(m2 / s - 1) <= 6 * math.sqrt(2 / N)]
    assert len(matches) == 1


def test_wishart_matrices_reproducible_from_seed():
    from hypothesis import find

    a = find(wishart_matrices(3, 4), lambda W: True)  # shrinks to seed 0
    np.testing.assert_array_equal(a, np.random.default_rng(0).standard_normal((3, 4)))


# ---------------------------------------------------------------------------------------
# matrices_with_spectrum
# ---------------------------------------------------------------------------------------
@st.composite
def spectrum_and_shape(draw):
    k = draw(st.integers(1, 12))
    s = draw(hnp.arrays(np.float64, k, elements=st.floats(0.0, 1e3)))
    p = draw(st.integers(k, 40))
    n = draw(st.integers(k, 40))
    return s, (p, n)


@DETERMINISTIC
@given(st.data())
def test_matrices_with_spectrum_contract(data):
    """Singular values within 1e-10 max(1, s_max) of those requested (derivation: strategy docstring)."""
    s, shape = data.draw(spectrum_and_shape())
    M = data.draw(matrices_with_spectrum(s, shape=shape))
    assert M.shape == shape and M.dtype == np.float64
    got = np.linalg.svd(M, compute_uv=False)
    want = np.zeros(min(shape))
    want[: s.size] = np.sort(s)[::-1]
    assert np.all(np.abs(got - want) <= 1e-10 * max(1.0, float(s.max())))


@DETERMINISTIC
@given(matrices_with_spectrum(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(0.1, 10.0))))
def test_matrices_with_spectrum_square_default(M):
    assert M.shape[0] == M.shape[1]
    assert np.linalg.svd(M, compute_uv=False).min() >= 0.1 - 1e-12


# ---------------------------------------------------------------------------------------
# spiked_matrices
# ---------------------------------------------------------------------------------------
def _top_eig(W):
    return float(np.linalg.svd(W, compute_uv=False)[0] ** 2 / W.shape[1])


@settings(DETERMINISTIC, max_examples=30)
@given(spiked_matrices())
def test_spiked_matrices_contract_and_bbp_separation(sp):
    """Default strengths: <= 0.5 (no outlier) or >= 3 (outlier), both sides drawn.

    Separation is checked against the TW band of lambda_max(WW^T/n) at level
    1 - 1e-6 (the subcritical top eigenvalue exceeds it with probability ~1e-6; the
    supercritical outlier sits more than 10 TW units above the edge at p, n >= 40).
    """
    assert isinstance(sp, SpikedMatrix)
    W = sp.matrix
    p, n = W.shape
    assert 40 <= p <= 120 and 40 <= n <= 120 and W.dtype == np.float64
    assert sp.threshold == pytest.approx(bbp_threshold(p, n), rel=1e-15)
    np.testing.assert_allclose(sp.theta, sp.strength * sp.threshold, rtol=1e-15)
    np.testing.assert_allclose(sp.u.T @ sp.u, np.eye(1), atol=1e-13)
    np.testing.assert_allclose(sp.v.T @ sp.v, np.eye(1), atol=1e-13)
    hi = edge_band(p, n, which="max", level=1 - 2e-6).band[1]
    top = _top_eig(W)
    if sp.supercritical[0]:
        assert sp.strength[0] >= 3.0 and top > hi
    else:
        assert sp.strength[0] <= 0.5 and top < hi


def test_spiked_matrices_default_covers_both_sides():
    sides = Counter()

    @settings(DETERMINISTIC, max_examples=60)
    @given(spiked_matrices(p=10, n=10))
    def run(sp):
        sides[bool(sp.supercritical[0])] += 1

    run()
    assert sides[True] > 0 and sides[False] > 0


@settings(DETERMINISTIC, max_examples=10)
@given(spiked_matrices(strength=st.floats(3.0, 5.0), p=30, n=50, scale=4.0, rank=3))
def test_spiked_matrices_rank_and_scale(sp):
    assert sp.matrix.shape == (30, 50) and sp.theta.shape == (3,)
    np.testing.assert_allclose(sp.u.T @ sp.u, np.eye(3), atol=1e-13)
    np.testing.assert_allclose(sp.v.T @ sp.v, np.eye(3), atol=1e-13)
    assert sp.threshold == pytest.approx(2.0 * (30 * 50) ** 0.25)
    G = sp.matrix - (sp.u * sp.theta) @ sp.v.T  # the Gaussian part, entry variance 4
    # 1500 entries: second moment 4 +- 4 sqrt(2/1500) = 4 +- 0.146; allow 6 sd (P < 1e-6)
    assert abs(float((G**2).mean()) - 4.0) <= 6 * 4.0 * math.sqrt(2 / 1500)


# ---------------------------------------------------------------------------------------
# sparse_activations
# ---------------------------------------------------------------------------------------
@st.composite
def activation_case(draw):
    d_ff = draw(st.integers(1, 300))
    batch = draw(st.one_of(st.none(), st.integers(1, 8)))
    tau = draw(st.sampled_from([0.0, 1e-9, 1e-3, 2.0, 1e4]))
    signed = draw(st.booleans())
    dtype = draw(DTYPES)
    kind = draw(st.sampled_from(["float", "range", "strategy"]))
    if kind == "float":
        density = draw(st.floats(0.0, 1.0))
    elif kind == "range":
        lo = draw(st.floats(0.0, 1.0))
        hi = draw(st.floats(lo, 1.0))
        # widen to an achievable range: at least one k/d_ff inside
        if math.floor(hi * d_ff) < math.ceil(lo * d_ff):
            hi = min(1.0, lo + 1.0 / d_ff)
        density = (lo, hi)
    else:
        density = st.floats(0.0, 1.0)
    return d_ff, batch, tau, signed, dtype, kind, density


@DETERMINISTIC
@given(st.data())
def test_sparse_activations_contract(data):
    d_ff, batch, tau, signed, dtype, kind, density = data.draw(activation_case())
    a = data.draw(sparse_activations(d_ff, density, batch, threshold=tau, signed=signed, dtype=dtype))
    assert a.shape == ((d_ff,) if batch is None else (batch, d_ff)) and a.dtype == dtype
    assert np.isfinite(a).all()
    rows = np.atleast_2d(a).astype(np.float64)
    active = np.abs(rows) > tau
    k = active.sum(axis=1)
    assert np.all(k == k[0])  # the same count in every row
    rho = k[0] / d_ff
    if kind == "float":
        assert abs(rho - density) <= 0.5 / d_ff
    elif kind == "range":
        assert density[0] <= rho <= density[1]
    if tau == 0.0:
        assert np.all(rows[~active] == 0.0)  # exact zeros
    else:
        assert np.all(np.abs(rows[~active]) <= tau)
    if not signed:
        assert np.all(rows >= 0)


def test_sparse_activations_fresh_active_set_per_row():
    from hypothesis import find

    a = find(sparse_activations(200, 0.1, batch=8), lambda a: True)
    sets = {tuple(np.flatnonzero(r)) for r in a}
    assert len(sets) == 8  # P(two rows share a 20-subset of 200) ~ 28 / C(200, 20) ~ 0


# ---------------------------------------------------------------------------------------
# ffn_weights, layernorm_inputs
# ---------------------------------------------------------------------------------------
@DETERMINISTIC
@given(st.integers(1, 40), st.integers(1, 80), DTYPES, st.booleans(), st.data())
def test_ffn_weights_contract(d_model, d_ff, dtype, bias, data):
    w = data.draw(ffn_weights(d_model, d_ff, dtype, bias=bias))
    assert isinstance(w, FFNWeights)
    assert w.w_in.shape == (d_ff, d_model) and w.w_out.shape == (d_model, d_ff)
    assert w.w_in.dtype == w.w_out.dtype == dtype
    wt = w.w_out_t
    assert wt.shape == (d_ff, d_model) and wt.flags.c_contiguous and np.array_equal(wt, w.w_out.T)
    if bias:
        assert w.b_in.shape == (d_ff,) and w.b_in.dtype == dtype
    else:
        assert w.b_in is None


@DETERMINISTIC
@given(st.integers(1, 64), st.one_of(st.none(), st.integers(1, 16)), DTYPES, st.data())
def test_layernorm_inputs_raw_rows(p, batch, dtype, data):
    x = data.draw(layernorm_inputs(p, batch, dtype=dtype))
    assert x.shape == ((p,) if batch is None else (batch, p)) and x.dtype == dtype and np.isfinite(x).all()


@DETERMINISTIC
@given(st.integers(2, 64), st.integers(1, 16), st.sampled_from([0.0, 1e-5, 1e-2]), st.data())
def test_layernorm_inputs_normalized(p, batch, eps, data):
    """Row mean 0 and ||LN(x)||^2 = p v/(v + eps) <= p (docs/science.md §5).

    Rounding: each entry of LN(x) carries a relative error of a few u, so the
    row sum is within ~p u sqrt(p) and ||x||^2 within ~4 p u of exact; 100 u bounds both.
    """
    x = data.draw(layernorm_inputs(p, batch, normalized=True, eps=eps))
    u = np.finfo(np.float64).eps / 2
    sq = (x * x).sum(axis=1)
    assert np.all(np.abs(x.sum(axis=1)) <= 100 * u * p * math.sqrt(p))
    assert np.all(sq <= p * (1 + 100 * u))
    if eps == 0.0:
        assert np.all((np.abs(sq - p) <= 100 * u * p) | (sq == 0))


def test_layernorm_inputs_span_variances_around_eps():
    """The raw rows include constant rows, variances far below eps = 1e-5 and far above it."""
    seen = Counter()

    @settings(DETERMINISTIC, max_examples=50)
    @given(layernorm_inputs(32, batch=8))
    def run(x):
        v = x.var(axis=1)
        seen["const"] += int(np.sum(v == 0))
        seen["below"] += int(np.sum((v > 0) & (v < 1e-7)))
        seen["above"] += int(np.sum(v > 1e-3))

    run()
    assert seen["const"] > 0 and seen["below"] > 0 and seen["above"] > 0, seen


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: sparse_activations(10, 1.5), "density must be a finite number >= 0.0 and <= 1.0; got 1.5"),
        (lambda: sparse_activations(10, -0.1), "density"),
        (lambda: sparse_activations(10, (0.3, 0.2)), "lo <= hi"),
        (lambda: sparse_activations(5, (0.1, 0.15)), "no density k/d_ff lies in"),
        (lambda: sparse_activations(-3, 0.5), "d_ff must be an integer >= 1; got -3"),
        (lambda: sparse_activations(10, 0.5, batch=0), "batch"),
        (lambda: sparse_activations(10, 0.5, threshold=-1.0), "threshold"),
        (lambda: sparse_activations(10, 0.5, dtype=np.int32), "dtype must be float32 or float64"),
        (lambda: wishart_matrices(-1, 5), "p must be an integer >= 1; got -1"),
        (lambda: wishart_matrices(3, 0), "n must be"),
        (lambda: wishart_matrices(3, 4, scale=float("nan")), "scale"),
        (lambda: wishart_matrices(3, 4, scale=-1.0), "scale"),
        (lambda: matrices_with_spectrum([1.0, 2.0, 3.0], shape=(2, 5)), "does not fit a 2x5 matrix"),
        (lambda: matrices_with_spectrum([1.0, -2.0]), "singular_values must be >= 0"),
        (lambda: matrices_with_spectrum([1.0, np.nan]), "singular_values must be finite"),
        (lambda: matrices_with_spectrum([1.0], shape=(2, -1)), "shape"),
        (lambda: spiked_matrices(-1.0), "strength"),
        (lambda: spiked_matrices(2.0, p=3, n=5, rank=4), "rank must be <= min"),
        (lambda: spiked_matrices(2.0, p=-3, n=5), "p must be"),
        (lambda: ffn_weights(0, 4), "d_model"),
        (lambda: ffn_weights(4, -4), "d_ff"),
        (lambda: ffn_weights(4, 4, "float16"), "dtype"),
        (lambda: layernorm_inputs(-2), "p must be"),
        (lambda: layernorm_inputs(4, eps=-1e-5), "eps"),
        (lambda: mp_parameters(allow_invalid=1), "allow_invalid must be a bool"),
    ],
)
def test_bad_arguments_raise_invalid_argument(make, match):
    with pytest.raises(InvalidArgument, match=match):
        make()


@pytest.mark.parametrize(
    "strategy, match",
    [
        (lambda: wishart_matrices(st.just(-2), 3), "p must be an integer >= 1; got -2"),
        (lambda: sparse_activations(st.just(4), (0.3, 0.4)), "no density k/d_ff lies in"),
        (lambda: sparse_activations(10, st.just(1.5)), "density"),
        (lambda: matrices_with_spectrum(st.just(np.ones(5)), shape=(3, 8)), "does not fit"),
        (lambda: spiked_matrices(2.0, p=st.just(2), n=9, rank=3), "rank must be <= min"),
    ],
)
def test_drawn_bad_arguments_raise_invalid_argument_when_drawn(strategy, match):
    @settings(max_examples=1, database=None)
    @given(strategy())
    def run(x):
        pass

    with pytest.raises(InvalidArgument, match=match):
        run()


def test_importing_rmt_sparsity_testing_imports_neither_jax_nor_hypothesis():
    import subprocess
    import sys

    code = (
        "import sys, rmt_sparsity.testing as t; "
        "assert 'jax' not in sys.modules and 'hypothesis' not in sys.modules, sorted(sys.modules); "
        "t.strategies; assert 'hypothesis' in sys.modules and 'jax' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
