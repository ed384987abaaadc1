"""Sparse kernels against the dense reference, as hypothesis properties.

Tolerance (used by every comparison here): a sum of n products computed in
floating point, in any order and with or without fused multiply-adds, satisfies

    |fl(sum_i a_i w_i) - sum_i a_i w_i| <= gamma_n * sum_i |a_i| |w_i|,
    gamma_n = n u / (1 - n u),   u = eps / 2 (unit roundoff)

(Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., §3.1 and
eq. 3.5). The references are computed in float64 from the same inputs (float32
inputs are exact in float64), so each comparison allows
gamma_n(dtype) + gamma_n(float64) times sum |a||w|, with n the accumulation
length. This is a rigorous worst-case bound, so the tests cannot fail by
chance; they fail on any wrong index, dropped row or double-counted row, whose
error is of the order of one term |a_i w_i| (>> gamma_n sum |a||w| except when
the whole bound is near zero, which the drawn data avoid by using O(1) entries).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmt_sparsity.kernels import (
    ffn_dense,
    fit_predictor,
    kernel_threads,
    random_activations,
    sparse_down,
    sparse_ffn,
    sparse_up,
)
from rmt_sparsity.testing import assert_sparse_matches_dense
from rmt_sparsity.testing.strategies import ffn_weights, sparse_activations

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def gamma(n: int, dtype) -> float:
    u = np.finfo(dtype).eps / 2
    return n * u / (1 - n * u)


def bound(n: int, dtype, absprod: np.ndarray) -> np.ndarray:
    """gamma_n(dtype) + gamma_n(float64), times sum |a||w| (see module docstring)."""
    return (gamma(n, dtype) + gamma(n, np.float64)) * absprod


@st.composite
def down_case(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    d_ff = draw(st.integers(1, 300))
    d_model = draw(st.integers(1, 70))
    batch = draw(st.one_of(st.none(), st.integers(1, 65)))
    density = draw(st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0)))
    empty_rows = draw(st.booleans())
    method = draw(st.sampled_from(["auto", "rows", "union", "dense"]))
    threads = draw(st.sampled_from([None, 1, 2]))  # None + "auto" + one token = the inlined hot path
    seed = draw(st.integers(0, 2**32 - 1))
    return dtype, d_ff, d_model, batch, density, empty_rows, method, threads, seed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(down_case())
def test_sparse_down_matches_dense(case):
    dtype, d_ff, d_model, batch, density, empty_rows, method, threads, seed = case
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((d_ff, d_model)).astype(dtype)
    h = random_activations(batch, d_ff, density, dtype=dtype, rng=rng)
    h = h * np.where(rng.random(h.shape) < 0.5, 1, -1).astype(dtype)  # signed values
    if empty_rows and h.ndim == 2:
        h[rng.random(h.shape[0]) < 0.5] = 0
    y, plan = sparse_down(h, w, method=method, threads=threads, return_plan=True)
    y_hot = sparse_down(h, w, method=method, threads=threads)
    np.testing.assert_array_equal(y_hot, y)  # same kernels, same summation order
    assert y.dtype == dtype and y.shape == h.shape[:-1] + (d_model,)
    assert_sparse_matches_dense(y, h, w)  # the bound of the module docstring, n = d_ff
    # rows with no active neuron give exact zeros
    zero_rows = ~np.any(np.atleast_2d(h) != 0, axis=1)
    assert np.all(np.atleast_2d(y)[zero_rows] == 0)
    assert plan["method"] in ("rows", "union", "dense")
    assert method == "auto" or plan["method"] == method
    assert plan["density"] == pytest.approx(np.count_nonzero(h) / h.size, abs=0)


@SETTINGS
@given(
    st.sampled_from([np.float32, np.float64]),
    st.integers(1, 200),
    st.integers(1, 40),
    st.integers(1, 9),
    st.data(),
)
def test_sparse_down_on_library_strategies(dtype, d_ff, d_model, batch, data):
    """FFN weights in the (out, in) layout and signed activations with exactly k active per row
    (rmt_sparsity.testing.strategies); the same gamma_n bound via assert_sparse_matches_dense."""
    w = data.draw(ffn_weights(d_model, d_ff, dtype))
    a = data.draw(sparse_activations(d_ff, (0.0, 0.3), batch, signed=True, dtype=dtype))
    y = sparse_down(a, w.w_out_t)
    assert y.dtype == dtype and y.shape == (batch, d_model)
    assert_sparse_matches_dense(y, a, w.w_out_t)


@SETTINGS
@given(
    st.sampled_from([np.float32, np.float64]),
    st.integers(1, 200),
    st.integers(1, 70),
    st.one_of(st.none(), st.integers(1, 65)),
    st.floats(0.0, 1.0),
    st.sampled_from([1, 2]),
    st.integers(0, 2**32 - 1),
)
def test_sparse_up_matches_dense(dtype, d_ff, d_model, batch, frac, threads, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((d_ff, d_model)).astype(dtype)
    x = rng.standard_normal((d_model,) if batch is None else (batch, d_model)).astype(dtype)
    idx = rng.choice(d_ff, size=int(frac * d_ff), replace=False)
    out = sparse_up(x, w, idx, threads=threads)
    assert out.shape == x.shape[:-1] + (idx.size,) and out.dtype == dtype
    assert_sparse_matches_dense(out, x, w[idx].T)  # n = d_model


@SETTINGS
@given(
    st.sampled_from([np.float32, np.float64]),
    st.integers(1, 200),
    st.integers(1, 40),
    st.one_of(st.none(), st.integers(1, 65)),
    st.floats(-3.0, 3.0),
    st.integers(0, 2**32 - 1),
)
def test_sparse_ffn_relu_matches_dense(dtype, d_ff, d_model, batch, bias_shift, seed):
    """Whole FFN vs float64 reference; ``bias_shift`` moves the density from ~0 to ~1.

    Tolerance: the pre-activation h has error dh <= g_m (|x||W_in|^T + |b|) with
    m = d_model + 1 terms; ReLU is 1-Lipschitz, so the activation error is <= dh
    and the down-projection adds W_out dh plus its own g_n sum |a||w|.
    """
    rng = np.random.default_rng(seed)
    w_in = rng.standard_normal((d_ff, d_model)).astype(dtype)
    w_out_t = rng.standard_normal((d_ff, d_model)).astype(dtype)
    b = (rng.standard_normal(d_ff) + bias_shift).astype(dtype)
    x = rng.standard_normal((d_model,) if batch is None else (batch, d_model)).astype(dtype)
    y = sparse_ffn(x, w_in, b, w_out_t, "relu")
    x64, wi, wo, b64 = (v.astype(np.float64) for v in (x, w_in, w_out_t, b))
    h = x64 @ wi.T + b64
    a = np.maximum(h, 0)
    ref = a @ wo
    dh = bound(d_model + 1, dtype, np.abs(x64) @ np.abs(wi).T + np.abs(b64))
    tol = dh @ np.abs(wo) + bound(d_ff, dtype, (np.abs(a) + dh) @ np.abs(wo))
    assert np.all(np.abs(y - ref) <= tol)
    # and the NumPy reference in the same dtype obeys the same bound
    assert np.all(np.abs(ffn_dense(x, w_in, b, w_out_t.T, "relu") - ref) <= tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["relu", "relu2", "jsrelu"])
def test_sparse_ffn_exact_structure(dtype, activation):
    """With a given h, sparse_ffn equals sparse_down(sigma(h)) bit for bit (same kernel, same order)."""
    rng = np.random.default_rng(1)
    w_in = rng.standard_normal((96, 24)).astype(dtype)
    w_out_t = rng.standard_normal((96, 24)).astype(dtype)
    b = rng.standard_normal(96).astype(dtype)
    x = rng.standard_normal((5, 24)).astype(dtype)
    from rmt_sparsity.kernels import ACTIVATIONS

    h = (w_in @ x.T).T + b  # the BLAS call sparse_ffn makes for a batch (same layout, same bits)
    a = np.ascontiguousarray(ACTIVATIONS[activation](h))
    assert a.dtype == dtype
    np.testing.assert_array_equal(sparse_ffn(x, w_in, b, w_out_t, activation), sparse_down(a, w_out_t))


def test_sparsifiers_keep_the_stated_entries():
    rng = np.random.default_rng(2)
    d_ff, d_model, B = 256, 16, 4
    w_in = rng.standard_normal((d_ff, d_model))
    w_out_t = rng.standard_normal((d_ff, d_model))
    x = rng.standard_normal((B, d_model))
    h = (w_in @ x.T).T  # the BLAS call sparse_ffn makes for a batch (same layout, same bits)
    a = np.maximum(h, 0)
    # top-k: exactly k non-zeros per row, the largest ones
    _, info = sparse_ffn(x, w_in, None, w_out_t, "relu", topk=10, return_info=True)
    assert info["density"] == pytest.approx(10 / d_ff)
    kth = -np.sort(-a, axis=1)[:, 9:10]
    a_top = np.where(a >= kth, a, 0)
    y = sparse_ffn(x, w_in, None, w_out_t, "relu", topk=10)
    np.testing.assert_allclose(y, a_top @ w_out_t, rtol=0, atol=bound(d_ff, np.float64, np.abs(a_top) @ np.abs(w_out_t)).max())
    # threshold: keep a > t
    t = float(np.median(a[a > 0]))
    a_t = np.where(a > t, a, 0)
    y = sparse_ffn(x, w_in, None, w_out_t, "relu", threshold=t)
    np.testing.assert_allclose(y, a_t @ w_out_t, rtol=0, atol=bound(d_ff, np.float64, np.abs(a_t) @ np.abs(w_out_t)).max())
    # statistical top-k: relu(h - theta), theta = mean + std * Phi^-1(1 - k/d), population std
    from scipy.stats import norm

    z = norm.ppf(1 - 32 / d_ff)
    mean, std = h.mean(1, keepdims=True), h.std(1, keepdims=True)
    a_s = np.maximum(h - (mean + std * z), 0)
    y, info = sparse_ffn(x, w_in, None, w_out_t, "relu", statistical_topk=32, return_info=True)
    # h is bit-identical (same BLAS call); theta may differ by the two Phi^-1 implementations
    # (each accurate to a few ulp) and the rounding of mean + std*z: allow 8 eps of its terms.
    # ReLU is 1-Lipschitz, so each a_i moves by <= dtheta; then add the down-projection's bound.
    dtheta = 8 * np.finfo(float).eps * (np.abs(mean) + std * abs(z))
    tol = dtheta * np.abs(w_out_t).sum(0) + bound(d_ff, np.float64, (a_s + dtheta) @ np.abs(w_out_t))
    assert np.all(np.abs(y - a_s @ w_out_t) <= tol)
    # Gaussian-like rows keep about k: 4 rows x 32 expected, binomial sd ~ sqrt(128) ~ 11; allow 5 sd
    assert abs(info["density"] * d_ff * B - 32 * B) <= 5 * np.sqrt(32 * B)
    # k = d_ff keeps every entry (no shift)
    np.testing.assert_array_equal(
        sparse_ffn(x, w_in, None, w_out_t, "relu", statistical_topk=d_ff), sparse_ffn(x, w_in, None, w_out_t, "relu")
    )


def test_predictor_path_exact_when_recall_is_one():
    """Inputs of rank 4 make a rank-4 predictor exact: recall 1 and the output equals the dense FFN."""
    rng = np.random.default_rng(3)
    d_ff, d_model = 200, 32
    w_in = rng.standard_normal((d_ff, d_model))
    w_out_t = rng.standard_normal((d_ff, d_model))
    basis = rng.standard_normal((4, d_model))
    sample = rng.standard_normal((400, 4)) @ basis
    b = -1.5 * (sample @ w_in.T).std(axis=0)  # density ~ P(N(0,1) > 1.5) ~ 7 %
    p = fit_predictor(sample, w_in, b, rank=4, rng=0)
    assert p.recall == 1.0
    x = rng.standard_normal((7, 4)) @ basis
    sc = p.score(x, w_in, b)
    assert sc["recall"] == 1.0
    y, info = sparse_ffn(x, w_in, b, w_out_t, "relu", predictor=p, return_info=True)
    _, info1 = sparse_ffn(x[0], w_in, b, w_out_t, "relu", predictor=p, return_info=True)
    assert info1["n_up"] < d_ff / 2  # one token: only its predicted rows of W_in are read
    x64 = x
    h = x64 @ w_in.T + b
    a = np.maximum(h, 0)
    dh = bound(d_model + 1, np.float64, np.abs(x) @ np.abs(w_in).T + np.abs(b))
    tol = dh @ np.abs(w_out_t) + bound(d_ff, np.float64, (a + dh) @ np.abs(w_out_t))
    assert np.all(np.abs(y - a @ w_out_t) <= tol)


def test_predictor_reports_recall_and_precision_on_held_out_data():
    rng = np.random.default_rng(4)
    d_ff, d_model = 300, 48
    w_in = rng.standard_normal((d_ff, d_model))
    spectrum = np.arange(1, d_model + 1) ** -1.0
    sample = rng.standard_normal((1200, d_model)) * spectrum
    p = fit_predictor(sample, w_in, rank=12, target_recall=0.95, rng=0)
    # held-out recall of a quantile rule with n_fit*rho*d_ff ~ 1.5e5 calibration points: within
    # a few binomial SEs of the target (SE ~ sqrt(.95*.05/1.5e5) ~ 6e-4; rows are correlated, so allow 0.02)
    assert abs(p.recall - 0.95) < 0.02
    assert 0 < p.precision <= 1
    fresh = rng.standard_normal((1000, d_model)) * spectrum
    sc = p.score(fresh, w_in)
    assert abs(sc["recall"] - 0.95) < 0.02
    assert sc["density_pred"] * sc["precision"] == pytest.approx(sc["density_true"] * sc["recall"])


def test_same_result_for_any_thread_count():
    """Column splits do not change any output's summation order: results are bit-identical."""
    rng = np.random.default_rng(5)
    w = rng.standard_normal((500, 300)).astype(np.float32)
    h = random_activations(9, 500, 0.2, rng=6)
    y1 = sparse_down(h, w, threads=1)
    with kernel_threads(2):
        y2 = sparse_down(h, w)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(sparse_down(h, w, method="union", threads=1), sparse_down(h, w, method="union", threads=2))
