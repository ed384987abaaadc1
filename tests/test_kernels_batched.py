"""Batched sparse paths against the dense product: the blocked union pass, the masked up-projection, the cost model.

Every comparison with a dense product uses the worst-case rounding bound of
``assert_sparse_matches_dense`` (Higham, Accuracy and Stability of Numerical
Algorithms, 2nd ed., eq. 3.5: ``gamma_N sum |a||w|`` for the computation plus the
same for the float64 reference), so it cannot fail by chance and fails on any
dropped, duplicated or misplaced term. Equalities between thread counts, tile
widths and column splits are exact (``assert_array_equal``): every output's sum
runs over the same non-zeros in the same order whatever the split.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmt_sparsity.kernels import (
    DEFAULT_COST_MODEL,
    choose_down_path,
    choose_up_path,
    crossover_density,
    down_plan,
    fit_predictor,
    random_activations,
    sparse_down,
    sparse_ffn,
    sparse_up,
)
from rmt_sparsity.testing import assert_sparse_matches_dense

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def batch_case(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    d_ff = draw(st.integers(1, 400))
    d_model = draw(st.integers(1, 90))
    batch = draw(st.integers(1, 40))
    density = draw(st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0)))
    rows = draw(st.sampled_from(["random", "some empty", "some full"]))
    seed = draw(st.integers(0, 2**32 - 1))
    return dtype, d_ff, d_model, batch, density, rows, seed


def _activations(rng, batch, d_ff, density, dtype, rows):
    h = random_activations(batch, d_ff, density, dtype=dtype, rng=rng)
    h *= np.where(rng.random(h.shape) < 0.5, 1, -1).astype(dtype)  # signed values
    if rows == "some empty":
        h[rng.random(batch) < 0.5] = 0
    elif rows == "some full":
        full = rng.random(batch) < 0.5
        h[full] = rng.standard_normal((int(full.sum()), d_ff)).astype(dtype)
    return h


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch_case())
def test_every_path_matches_dense(case):
    dtype, d_ff, d_model, batch, density, rows, seed = case
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((d_ff, d_model)).astype(dtype)
    h = _activations(rng, batch, d_ff, density, dtype, rows)
    for method in ("union", "rows", "dense", "auto"):
        y, plan = sparse_down(h, w, method=method, threads=1, return_plan=True)
        assert y.dtype == dtype and y.shape == (batch, d_model)
        assert_sparse_matches_dense(y, h, w)
        if method != "auto":
            assert plan["method"] == method
    # rows of h without a non-zero give exact zeros on the sparse paths
    zero = ~np.any(h != 0, axis=1)
    assert np.all(sparse_down(h, w, method="union")[zero] == 0)


@SETTINGS
@given(batch_case(), st.integers(2, 4))
def test_union_path_bit_identical_for_any_thread_count(case, threads):
    dtype, d_ff, d_model, batch, density, rows, seed = case
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((d_ff, d_model)).astype(dtype)
    h = _activations(rng, batch, d_ff, density, dtype, rows)
    y1 = sparse_down(h, w, method="union", threads=1)
    np.testing.assert_array_equal(sparse_down(h, w, method="union", threads=threads), y1)
    np.testing.assert_array_equal(sparse_down(h, w, method="rows", threads=threads), sparse_down(h, w, method="rows", threads=1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [1, 3, 17, 40])
def test_union_path_across_several_tiles_and_blocks(dtype, batch):
    """d_model spans several column tiles with a ragged last one; d_ff spans several neuron blocks."""
    rng = np.random.default_rng(batch)
    d_ff, d_model = 333, 2 * 4096 + 37  # tiles of 1024-4096 columns: 3 to 9 tiles, the last one partial
    w = rng.standard_normal((d_ff, d_model)).astype(dtype)
    h = _activations(rng, batch, d_ff, 0.2, dtype, "random")  # blocks of 8/0.2 -> 32 neurons: 11 blocks
    y = sparse_down(h, w, method="union")
    assert_sparse_matches_dense(y, h, w)
    np.testing.assert_array_equal(sparse_down(h, w, method="union", threads=2), y)
    np.testing.assert_array_equal(sparse_down(h, w, method="union", threads=3), y)


def test_blocked_kernel_result_does_not_depend_on_tile_or_split():
    """The kernel itself, called with different tile widths and column splits, gives the same bits."""
    from rmt_sparsity.kernels import _nb

    rng = np.random.default_rng(7)
    d_ff, d_model, B = 257, 1000, 9
    w = rng.standard_normal((d_ff, d_model)).astype(np.float32)
    a = _activations(rng, B, d_ff, 0.3, np.float32, "random")
    idx = np.arange(d_ff, dtype=np.int64)
    cnt, nu = _nb.chunk_counts(a)
    assert nu == np.count_nonzero(np.any(a != 0, axis=0)) and cnt.sum() == np.count_nonzero(a)
    ptr, cols, vals = _nb.block_csr(a, cnt, 64)
    outs = []
    for tile, cuts in [(1000, [0, 1000]), (64, [0, 1000]), (128, [0, 448, 1000]), (333, [0, 192, 640, 1000])]:
        y = np.zeros((B, d_model), np.float32)
        for lo, hi in zip(cuts, cuts[1:]):
            _nb.down_blocked(ptr, cols, vals, idx, w, y, lo, hi, tile)
        outs.append(y)
    for y in outs[1:]:
        np.testing.assert_array_equal(y, outs[0])
    assert_sparse_matches_dense(outs[0], a, w)


@pytest.mark.parametrize("kb", [32, 64, 96, 512])
def test_block_index_lists_every_nonzero_once_in_order(kb):
    from rmt_sparsity.kernels import _nb

    rng = np.random.default_rng(kb)
    B, m = 7, 300
    a = _activations(rng, B, m, 0.15, np.float64, "some empty")
    cnt, _ = _nb.chunk_counts(a)
    ptr, cols, vals = _nb.block_csr(a, cnt, kb)
    nblk = -(-m // kb)
    assert ptr.shape == (B * nblk + 1,) and ptr[-1] == np.count_nonzero(a)
    rebuilt = np.zeros_like(a)
    for b in range(B):
        for k in range(nblk):
            seg = slice(ptr[b * nblk + k], ptr[b * nblk + k + 1])
            c = cols[seg]
            assert np.all(np.diff(c) > 0)  # increasing columns, no repeats
            assert np.all((c >= k * kb) & (c < (k + 1) * kb))  # inside the block
            rebuilt[b, c] = vals[seg]
    np.testing.assert_array_equal(rebuilt, a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_token_paths_agree(dtype):
    """Batch 1: the inlined hot path, the general per-row path and the union path."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((1000, 77)).astype(dtype)
    for density in (0.0, 0.02, 0.5, 0.95, 1.0):
        h = _activations(rng, 1, 1000, density, dtype, "random")[0]
        y = sparse_down(h, w)
        y_plan, plan = sparse_down(h, w, return_plan=True)
        np.testing.assert_array_equal(y, y_plan)  # the hot path and the general path make the same choice
        assert plan["method"] == down_plan(h, 77)["method"]
        for method in ("rows", "union", "dense"):
            assert_sparse_matches_dense(sparse_down(h, w, method=method), h, w)
        assert_sparse_matches_dense(y, h, w)


def test_plan_matches_the_path_taken():
    """down_plan (NumPy statistics) and sparse_down (Numba statistics) choose the same path."""
    rng = np.random.default_rng(4)
    w = rng.standard_normal((2048, 64)).astype(np.float32)
    for batch, density in [(1, 0.1), (4, 0.05), (32, 0.5), (64, 0.1), (300, 0.6)]:
        h = random_activations(batch, 2048, density, rng=rng)
        _, plan = sparse_down(h, w, return_plan=True)
        ref = down_plan(h, 64)
        assert plan["method"] == ref["method"]
        assert plan["density"] == pytest.approx(ref["density"], abs=0)
        assert plan["union_density"] == pytest.approx(ref["union_density"], abs=0)


# ----------------------------------------------------------------------------- cost model


def _grid_point(batch, rho, d_model=4096, d_ff=16384):
    return batch, rho * batch * d_ff, (1 - (1 - rho) ** batch) * d_ff, d_ff, d_model, 4


@pytest.mark.parametrize(
    "batch, rho, want",
    [
        (1, 0.02, "rows"),  # one token: stream the active rows
        (1, 0.5, "rows"),
        (64, 0.02, "union"),  # union ~ 73 %, but only 2 % of the products
        (64, 0.1, "union"),
        (256, 0.05, "union"),
        (256, 0.5, "dense"),  # half the products at a fraction of BLAS's rate
        (64, 0.9, "dense"),
    ],
)
def test_auto_choice_on_clear_cut_cases(batch, rho, want):
    assert choose_down_path(*_grid_point(batch, rho))[0] == want


def test_auto_choice_edge_cases():
    assert choose_down_path(8, 0, 0, 1000, 64, 4)[0] == "rows"  # nothing to do
    assert choose_down_path(1, 1000, 1000, 1000, 4096, 4)[0] == "dense"  # a fully dense token
    # a union that covers few neurons is cheap whatever the batch
    assert choose_down_path(256, 256 * 50, 50, 16384, 4096, 4)[0] == "union"


def test_crossover_falls_with_batch_and_matches_the_choice():
    xs = [crossover_density(b, 4096, 16384) for b in (16, 64, 256)]
    assert xs[0] > xs[1] > xs[2] > 0
    for b, x in zip((16, 64, 256), xs):
        assert choose_down_path(*_grid_point(b, x))[0] == "dense"
        assert choose_down_path(*_grid_point(b, x / 1.05))[0] != "dense"
    # a zero margin moves the crossover up (dense must no longer be beaten by a margin)
    loose = DEFAULT_COST_MODEL.replace(margin=0.0)
    assert crossover_density(64, 4096, 16384, model=loose) > xs[1]


# ----------------------------------------------------------------------------- masked up-projection


@SETTINGS
@given(
    st.sampled_from([np.float32, np.float64]),
    st.integers(1, 300),
    st.integers(1, 70),
    st.integers(1, 40),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.integers(0, 2**32 - 1),
)
def test_masked_up_matches_dense(dtype, d_ff, d_model, batch, frac, p_mask, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((d_ff, d_model)).astype(dtype)
    x = rng.standard_normal((batch, d_model)).astype(dtype)
    idx = rng.choice(d_ff, size=int(frac * d_ff), replace=False)
    mask = rng.random((batch, idx.size)) < p_mask
    out = sparse_up(x, w, idx, mask=mask)
    assert out.shape == (batch, idx.size) and out.dtype == dtype
    assert np.all(out[~mask] == 0)  # entries outside the mask are exact zeros
    # computed entries: the dense product within the rounding bound (n = d_model terms)
    assert_sparse_matches_dense(np.where(mask, out, sparse_up(x, w, idx)), x, w[idx].T)
    np.testing.assert_array_equal(sparse_up(x, w, idx, mask=mask, threads=3), out)


def test_masked_up_one_token_and_full_mask():
    rng = np.random.default_rng(9)
    w = rng.standard_normal((50, 12))
    x = rng.standard_normal(12)
    idx = np.array([4, 0, 49, 7])
    mask = np.array([True, False, True, True])
    out = sparse_up(x, w, idx, mask=mask)
    assert out.shape == (4,) and out[1] == 0
    full = sparse_up(x, w, idx)
    np.testing.assert_allclose(out[mask], full[mask], rtol=0, atol=8 * 12 * np.finfo(float).eps * np.abs(w).max() * np.abs(x).sum())


@pytest.mark.parametrize("up_path", ["masked", "dense"])
def test_batched_predictor_path(up_path, monkeypatch):
    """With a predictor of recall 1, the batched FFN is exact on either up-projection path.

    The masked path computes only each row's predicted pre-activations; the
    cost model picks it (forced here by a model with a free masked pass) or
    dense BLAS (the default at this tiny size, where BLAS wins).
    """
    import rmt_sparsity.kernels.plan as plan

    if up_path == "masked":
        monkeypatch.setattr(plan, "DEFAULT_COST_MODEL", plan.DEFAULT_COST_MODEL.replace(up_flops=1e30, index_seconds=0.0))
    rng = np.random.default_rng(3)
    d_ff, d_model = 240, 32
    w_in = rng.standard_normal((d_ff, d_model))
    w_out_t = rng.standard_normal((d_ff, d_model))
    basis = rng.standard_normal((4, d_model))
    sample = rng.standard_normal((400, 4)) @ basis
    b = -1.5 * (sample @ w_in.T).std(axis=0)
    p = fit_predictor(sample, w_in, b, rank=4, rng=0)
    x = rng.standard_normal((33, 4)) @ basis
    assert p.score(x, w_in, b)["recall"] == 1.0
    y, info = sparse_ffn(x, w_in, b, w_out_t, "relu", predictor=p, return_info=True)
    assert info["up_path"] == up_path
    pm = p.predict_mask(x)
    if up_path == "masked":
        assert info["up_density"] == pytest.approx(pm.mean(), abs=0)
        assert info["n_up"] == int(pm.any(axis=0).sum())
    else:
        assert info["up_density"] == 1.0 and info["n_up"] == d_ff
    a = np.maximum(x @ w_in.T + b, 0)
    # up-projection error (d_model + 1 terms) propagated through the 1-Lipschitz ReLU, then the down bound
    g = lambda n: n * np.finfo(float).eps / (1 - n * np.finfo(float).eps)  # noqa: E731  (u = eps/2, both sides)
    dh = g(d_model + 1) * (np.abs(x) @ np.abs(w_in).T + np.abs(b))
    tol = dh @ np.abs(w_out_t) + g(d_ff) * ((a + dh) @ np.abs(w_out_t))
    assert np.all(np.abs(y - a @ w_out_t) <= tol)
    if up_path == "masked":  # BLAS (dense path) promises no bit-identity across its thread counts
        np.testing.assert_array_equal(sparse_ffn(x, w_in, b, w_out_t, "relu", predictor=p, threads=2), y)


def test_up_path_choice_on_clear_cut_cases():
    assert choose_up_path(8, 8 * 800, 6000, 16384, 4096, 4)[0] == "masked"  # 5 % predicted, batch 8
    assert choose_up_path(256, 256 * 8000, 16384, 16384, 4096, 4)[0] == "dense"  # half predicted, batch 256


# ----------------------------------------------------------------------------- reference kernel (benchmarks/)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reference_union_rows_kernel(dtype):
    from benchmarks.reference_kernels import UnionRowsReference, union_rows

    rng = np.random.default_rng(11)
    w_out_t = rng.standard_normal((150, 40)).astype(dtype)
    ref = UnionRowsReference(w_out_t)
    ref.warm_up()
    for batch, density in [(None, 0.1), (None, 0.0), (1, 0.0), (9, 0.1), (9, 1.0), (64, 0.05)]:
        h = random_activations(batch, 150, density, rng=rng).astype(dtype)
        y = ref(h)
        assert y.shape == h.shape[:-1] + (40,) and y.dtype == dtype
        assert_sparse_matches_dense(y, h, w_out_t)
        np.testing.assert_array_equal(union_rows(h, w_out_t), y)
    # rows of h that are all zero give exact zeros; one active neuron gives its scaled row exactly
    h = np.zeros((5, 150), dtype)
    h[3, 7] = 2
    y = ref(h)
    np.testing.assert_array_equal(y[[0, 1, 2, 4]], 0)
    np.testing.assert_array_equal(y[3], 2 * w_out_t[7])
    with pytest.raises(ValueError, match="h must be"):
        ref(h.astype(np.float16))


# ----------------------------------------------------------------------------- the benchmark's interval


def test_median_ci_order_statistics():
    from rmt_sparsity.kernels.bench import median_ci

    x = np.arange(20.0)[::-1]
    lo, hi, cover = median_ci(x)
    # Bin(20, 1/2): P(X <= 5) = 21700/2^20, so [x(6), x(15)] covers with 1 - 2*0.0207 = 0.9586 >= 0.95,
    # and [x(7), x(14)] with 0.885 < 0.95
    p5 = sum(math.comb(20, j) for j in range(6)) / 2**20
    assert (lo, hi) == (5.0, 14.0) and cover == pytest.approx(1 - 2 * p5)
    lo, hi, cover = median_ci([2.0, 1.0, 3.0])
    assert (lo, hi) == (1.0, 3.0) and cover == pytest.approx(0.75)
