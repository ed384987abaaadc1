"""`rmt-sparsity sweep SPEC.toml`: built-in experiments, resume, plot, bad input."""

import json

import pytest

from rmt_sparsity.cli import main
from rmt_sparsity.experiments.library import EXPERIMENTS, get_experiment

SPEC = """
experiment = "wishart_concentration"
seeds = [0, 1]
store = "store"

[grid]
p = [20, 40]
n = [160]

[plot]
x = "p"
y = "ratio"
"""


def test_sweep_cli_runs_resumes_and_plots(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    assert main(["sweep", str(spec), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "4 points (4 computed, 0 reused)" in out
    assert (tmp_path / "store" / "sweep.png").is_file()
    assert main(["sweep", str(spec), "--workers", "1"]) == 0
    assert "(0 computed, 4 reused)" in capsys.readouterr().out
    recs = [json.loads(p.read_text()) for p in (tmp_path / "store" / "records").glob("*.json")]
    assert sorted((r["config"]["p"], r["seed"]) for r in recs) == [(20, 0), (20, 1), (40, 0), (40, 1)]


@pytest.mark.parametrize("text, msg", [
    ('experiment = "nope"\n[grid]\np = [1]\n', "unknown experiment 'nope'"),
    ('experiment = "wishart_concentration"\n[grid]\n', "grid must not be empty"),
    ('experiment = "wishart_concentration"\n', "lacks grid"),
    ("experiment = [", "cannot read sweep spec"),
])
def test_sweep_cli_bad_spec(tmp_path, capsys, text, msg):
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    assert main(["sweep", str(spec)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and msg in err[0]
    assert not (tmp_path / "store").exists() and not (tmp_path / "runs").exists()


def test_sweep_cli_missing_spec_and_scheduler(tmp_path, capsys, short_dask_timeout):  # nothing listens on port 9
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 2
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    assert main(["sweep", str(spec), "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "cannot reach Dask scheduler" in capsys.readouterr().err


def test_builtin_experiments_are_deterministic():
    for name, fn in EXPERIMENTS.items():
        assert get_experiment(name) is fn
    cfg = {"p": 16, "batch": 2, "steps": 50, "lr": 0.1, "weight_decay": 0.1}
    a = get_experiment("concentration_vs_effective_ratio")(cfg, 3)
    assert a == get_experiment("concentration_vs_effective_ratio")(cfg, 3)
    assert a["cov_ratio"] >= 1 and 0 < a["alpha"] <= 1
