"""Bad input to the kernels raises a clear error before any Numba code runs; importing compiles nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rmt_sparsity.kernels import (
    crossover_density,
    down_plan,
    fit_predictor,
    kernel_threads,
    random_activations,
    sparse_down,
    sparse_ffn,
    sparse_up,
)

F32, F64 = np.float32, np.float64


def _weights(dtype=F32, d_ff=32, d_model=8):
    rng = np.random.default_rng(0)
    return (
        rng.standard_normal((d_ff, d_model)).astype(dtype),
        rng.standard_normal((d_ff, d_model)).astype(dtype),
        rng.standard_normal(d_ff).astype(dtype),
        rng.standard_normal(d_model).astype(dtype),
    )


W_IN, W_OUT_T, B_IN, X = _weights()
H = np.ones(32, F32)

BAD_CALLS = [
    # (callable, exception, fragment of the message)
    (lambda: sparse_down(np.ones(31, F32), W_OUT_T), ValueError, "d_ff = 32"),
    (lambda: sparse_down(H, W_OUT_T.astype(F64)), TypeError, "mixed dtypes"),
    (lambda: sparse_down(H.astype(F64), W_OUT_T), TypeError, "mixed dtypes"),
    (lambda: sparse_down(H, np.asfortranarray(W_OUT_T)), ValueError, "C-contiguous"),
    (lambda: sparse_down(np.ones((4, 64), F32)[:, ::2], W_OUT_T), ValueError, "C-contiguous"),
    (lambda: sparse_down(H, W_OUT_T.astype(np.int64)), TypeError, "float32 or float64"),
    (lambda: sparse_down(H.tolist(), W_OUT_T), TypeError, "numpy.ndarray"),
    (lambda: sparse_down(np.ones((2, 2, 32), F32), W_OUT_T), ValueError, "1-D"),
    (lambda: sparse_down(np.ones((0, 32), F32), W_OUT_T), ValueError, "at least one row"),
    (lambda: sparse_down(H, W_OUT_T, method="csr"), ValueError, "method"),
    (lambda: sparse_down(H, W_OUT_T, threads=0), ValueError, "threads"),
    (lambda: sparse_up(X, W_IN, [0, 32]), ValueError, "[0, 32)"),
    (lambda: sparse_up(X, W_IN, [-1]), ValueError, "[0, 32)"),
    (lambda: sparse_up(X, W_IN, np.ones(32, bool)), TypeError, "flatnonzero"),
    (lambda: sparse_up(X, W_IN, [0.5]), TypeError, "integer"),
    (lambda: sparse_up(np.ones(7, F32), W_IN, [0]), ValueError, "d_model = 8"),
    (lambda: sparse_up(X, W_IN, [0, 3], mask=np.ones(2, np.int8)), TypeError, "mask must be a boolean"),
    (lambda: sparse_up(X, W_IN, [0, 3], mask=np.ones(3, bool)), ValueError, "mask must have shape (2,)"),
    (lambda: sparse_up(np.ones((4, 8), F32), W_IN, [0, 3], mask=np.ones(2, bool)), ValueError, "mask must have shape (4, 2)"),
    (lambda: down_plan(H, 0), ValueError, "d_model"),
    (lambda: down_plan(np.ones((2, 2, 2)), 4), ValueError, "1-D or 2-D"),
    (lambda: crossover_density(0, 8, 32), ValueError, "batch"),
    (lambda: sparse_ffn(X, W_IN, B_IN, W_OUT_T[:, :7].copy(), "relu"), ValueError, "w_out_t must have shape"),
    (lambda: sparse_ffn(X, W_IN, B_IN, W_OUT_T.T.copy(), "relu"), ValueError, "w_out_t must have shape"),
    (lambda: sparse_ffn(X, W_IN, B_IN[:5].copy(), W_OUT_T, "relu"), ValueError, "b_in"),
    (lambda: sparse_ffn(X, W_IN, B_IN.astype(F64), W_OUT_T, "relu"), TypeError, "b_in"),
    (lambda: sparse_ffn(X, W_IN, B_IN, W_OUT_T.astype(F64), "relu"), TypeError, "share one dtype"),
    (lambda: sparse_ffn(X, W_IN, B_IN, W_OUT_T, "gelu"), ValueError, "activation"),
    (lambda: sparse_ffn(X, W_IN, B_IN, W_OUT_T, "relu", threshold=float("nan")), ValueError, "threshold"),
    (lambda: sparse_ffn(X, W_IN, B_IN, W_OUT_T, "relu", threshold=-1.0), ValueError, "threshold"),
    (lambda: sparse_ffn(X, W_IN, B_IN, W_OUT_T, "relu", topk=0), ValueError, "topk"),
    (lambda: sparse_ffn(X, W_IN, B_IN, W_OUT_T, "relu", topk=33), ValueError, "topk"),
    (lambda: sparse_ffn(X, W_IN, B_IN, W_OUT_T, "relu", topk=2.5), TypeError, "topk"),
    (lambda: sparse_ffn(X, W_IN, B_IN, W_OUT_T, "relu", statistical_topk=0), ValueError, "statistical_topk"),
    (lambda: sparse_ffn(X, W_IN, B_IN, W_OUT_T, "relu", statistical_topk=33), ValueError, "statistical_topk"),
    (lambda: sparse_ffn(X, W_IN, B_IN, W_OUT_T, "relu", topk=2, threshold=0.1), ValueError, "at most one"),
    (lambda: sparse_ffn(X, W_IN, B_IN, W_OUT_T, "relu", predictor="yes"), TypeError, "LowRankPredictor"),
    (lambda: random_activations(2, 32, 1.5), ValueError, "density"),
    (lambda: random_activations(2, 32, -0.1), ValueError, "density"),
    (lambda: random_activations(2, 32, float("nan")), ValueError, "density"),
    (lambda: random_activations(2, 32, 0.1, dtype=np.int32), TypeError, "dtype"),
    (lambda: fit_predictor(np.ones((10, 8), F32), W_IN, rank=6), ValueError, "rank"),
    (lambda: fit_predictor(np.ones((10, 8), F32), W_IN, rank=2, target_recall=1.5), ValueError, "target_recall"),
    (lambda: kernel_threads(0).__enter__(), ValueError, "n must be"),
]


@pytest.mark.parametrize("call, exc, fragment", BAD_CALLS)
def test_bad_input_raises_clear_error(call, exc, fragment):
    with pytest.raises(exc, match=None) as info:
        call()
    assert fragment in str(info.value)


def test_errors_raise_before_numba_is_imported():
    """In a fresh process, every bad call above fails without importing Numba at all."""
    code = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, {tests!r})
        import test_kernels_errors as t
        for call, exc, frag in t.BAD_CALLS:
            try:
                call()
            except exc:
                pass
            else:
                raise SystemExit("no error")
        assert "numba" not in sys.modules, "numba was imported"
        import rmt_sparsity.kernels
        assert "numba" not in sys.modules
        print("ok")
        """
    ).format(tests=str(__import__("pathlib").Path(__file__).parent))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_import_compiles_nothing():
    code = (
        "import sys, rmt_sparsity.kernels as k; from rmt_sparsity.kernels import sparse_down, sparse_ffn;"
        "assert 'numba' not in sys.modules; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def test_unknown_attribute():
    import rmt_sparsity.kernels as k

    with pytest.raises(AttributeError):
        k.no_such_kernel  # noqa: B018


def test_topk_propagates_nan_like_the_dense_reference():
    """A NaN pre-activation ranks first in top-k, so it reaches the output as it does through ffn_dense."""
    from rmt_sparsity.kernels import ffn_dense, sparse_ffn

    rng = np.random.default_rng(0)
    w_in = rng.standard_normal((16, 8)).astype(np.float32)
    w_out_t = rng.standard_normal((16, 8)).astype(np.float32)
    x = rng.standard_normal((3, 8)).astype(np.float32)
    w_in[5, 0] = np.nan
    dense = ffn_dense(x, w_in, None, np.ascontiguousarray(w_out_t.T), "relu")
    assert np.isnan(dense).all()
    for kw in ({"topk": 4}, {"topk": 1}, {"threshold": 0.5}, {}):
        assert np.isnan(sparse_ffn(x, w_in, None, w_out_t, "relu", **kw)).all(), kw


@pytest.mark.parametrize(
    "call, exc, fragment",
    [
        (lambda: __import__("rmt_sparsity.kernels", fromlist=["x"]).set_kernel_threads(2**64), ValueError, "n must be an integer <= 1024"),
        (lambda: __import__("rmt_sparsity.kernels", fromlist=["x"]).choose_down_path(0, 1, 1, 4, 4, 4), ValueError, "batch must be an integer >= 1"),
        (lambda: __import__("rmt_sparsity.kernels", fromlist=["x"]).choose_down_path(1, 1, 1, 4, 4, 4, threads=0), ValueError, "threads must be an integer >= 1"),
        (lambda: __import__("rmt_sparsity.kernels", fromlist=["x"]).choose_up_path(1, 1, 1, 4, 4, 4, model=1), TypeError, "model must be a CostModel"),
        (lambda: __import__("rmt_sparsity.kernels", fromlist=["x"]).CostModel(bandwidth=0.0), ValueError, "bandwidth must be a finite number > 0"),
        (lambda: __import__("rmt_sparsity.kernels", fromlist=["x"]).CostModel(margin=float("nan")), ValueError, "margin must be a finite number"),
        (lambda: __import__("rmt_sparsity.kernels", fromlist=["x"]).random_activations(2**40, 2**40, 0.1), ValueError, "batch, d_ff"),
        (lambda: __import__("rmt_sparsity.kernels", fromlist=["x"]).down_plan(np.ones((2, 4), np.int64), 4), TypeError, "h must hold float32 or float64"),
    ],
)
def test_planner_and_thread_arguments_are_validated(call, exc, fragment):
    with pytest.raises(exc, match=fragment):
        call()
