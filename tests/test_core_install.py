"""Smoke tests of the core install (``pip install rmt-sparsity``, no extras).

This module needs nothing beyond the core dependencies and pytest, so ``.ci/run`` also runs it in a fresh
virtual environment with ``pip install .`` only (copied out of the source tree, without ``conftest.py``).
In the full development environment it runs too; the checks that are only meaningful without an extra
are skipped there.
"""

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

import rmt_sparsity as rs

HAS_JAX = importlib.util.find_spec("jax") is not None
HAS_MPL = importlib.util.find_spec("matplotlib") is not None


def test_core_api_runs_without_jax():
    code = """
import sys, numpy as np, rmt_sparsity as rs
mp = rs.MarchenkoPastur(0.25)
assert mp.support() == (0.25, 2.25)
tw = rs.TracyWidom(1)
assert abs(tw.mean() + 1.2065335745820) < 1e-9
eig = rs.laguerre_eigenvalues(50, 200, rng=0)
conc = rs.spectral_concentration(np.random.default_rng(0).standard_normal((64, 16)))
acts = np.maximum(np.random.default_rng(1).standard_normal((8, 64)), 0)
zf = rs.zero_fraction(acts, reduce="mean")
h = rs.kernels.random_activations(1, 256, 0.1, rng=0)
w = np.random.default_rng(2).standard_normal((256, 32)).astype(h.dtype)
y = rs.sparse_down(h, w)
from rmt_sparsity.testing import assert_sparse_matches_dense
assert_sparse_matches_dense(y, h, w)  # within the gamma_N rounding bound
sim = rs.simulate_sgd_noise(16, 4, 2, 50, lr=0.1, weight_decay=0.1, rng=0)
T = rs.effective_window(0.1, 0.1)
print(any(m == "jax" or m.startswith("jax.") for m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"  # the core API never imports JAX


def test_analyze_a_checkpoint(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "w.safetensors"
    save_file({"ffn.weight": np.random.default_rng(0).standard_normal((96, 24)).astype(np.float32)}, str(path))
    table = rs.analyze(path, n_boot=0, rng=0)  # a pandas DataFrame, one row per matrix
    assert list(table["name"]) == ["ffn.weight"] and list(table["status"]) == ["ok"]


def _main_sweep_script(store):
    return f"""
from rmt_sparsity.experiments import Sweep

def square(config, seed):          # defined in __main__: shipped to the workers by value
    return {{"y": config["x"] ** 2 + seed}}

res = Sweep(square, {{"x": [1, 2, 3]}}, seeds=[0, 1], store={str(store)!r}, workers=2).run(progress=False)
print(sorted(r["result"]["y"] for r in res.records), res.computed)
"""


def test_sweep_of_a_main_function_on_the_local_pool(tmp_path):
    out = subprocess.run([sys.executable, "-c", _main_sweep_script(tmp_path)], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[1,", "2,", "4,", "5,", "9,", "10]", "6"]
    assert len(list((tmp_path / "records").glob("*.json"))) == 6


def test_sweep_to_pandas(tmp_path):
    from rmt_sparsity.experiments.sweep import Sweep, _demo_square

    df = Sweep(_demo_square, {"x": [1, 2]}, seeds=[0], store=tmp_path, executor="serial").run(progress=False).to_pandas()
    assert list(df["result.y"]) == [1, 4]


@pytest.mark.skipif(HAS_JAX, reason="jax is installed: the [nn] extra is present")
def test_missing_nn_extra_names_it():
    from rmt_sparsity._optional import MissingExtraError

    with pytest.raises(MissingExtraError, match=r'pip install "rmt-sparsity\[nn\]"'):
        rs.nn
    with pytest.raises(ImportError, match=r"rmt-sparsity\[nn\]"):
        import rmt_sparsity.flatness  # noqa: F401


def test_star_import_works_on_any_install():
    out = subprocess.run([sys.executable, "-c", "from rmt_sparsity import *; print(MarchenkoPastur(0.25).support())"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(0.25, 2.25)"


@pytest.mark.skipif(HAS_JAX, reason="jax is installed: every claim can run")
def test_verify_on_a_core_install_skips_what_needs_extras(tmp_path):
    from rmt_sparsity.cli import main
    from rmt_sparsity.experiments.runner import registry

    assert main(["verify", "--profile", "smoke", "--out", str(tmp_path), "--quiet"]) == 0
    records = json.loads((tmp_path / "claims.json").read_text())["claims"]  # schema 2: {"schema_version", "run", "claims"}
    assert [r["id"] for r in records] == [i for i, c in registry().items() if c.runs_in("smoke")]
    status = {r["id"]: r["verdict"]["status"] for r in records}
    skipped = [r for r in records if r["verdict"]["status"] == "skipped"]
    assert skipped and all("pip install" in r["verdict"]["reason"] for r in skipped)
    assert status["mp_extreme_ratio"] != "skipped" and status["gradient_identity"] == "skipped"
    assert not any(r["error"] for r in records)  # nothing crashed
    assert bool(list((tmp_path / "figures").glob("*.png"))) == HAS_MPL


def test_verify_list_on_any_install(capsys):
    from rmt_sparsity.cli import main

    assert main(["verify", "--list"]) == 0
    assert "mp_extreme_ratio" in capsys.readouterr().out
