"""`rmt-sparsity verify`: outputs, exit codes, determinism and the HTML report."""

import json
import os
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from rmt_sparsity.cli import main
from rmt_sparsity.experiments.runner import all_claim_ids


def _run(*args):
    return subprocess.run([sys.executable, "-m", "rmt_sparsity.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def smoke_reports(tmp_path_factory):
    """Two full smoke runs with the same seed (the determinism acceptance test)."""
    import warnings

    outs = []
    for i in range(2):
        out = tmp_path_factory.mktemp(f"report{i}")
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # e.g. a figure kind without a renderer
            assert main(["verify", "--profile", "smoke", "--out", str(out), "--quiet", "--seed", "1"]) == 0
        outs.append(out)
    return outs


def _strip_timings(doc):
    """The claims.json document without what legitimately differs between runs (timings, timestamp)."""
    doc["run"].pop("timestamp_utc", None)
    for r in doc["claims"]:
        r.pop("timings", None)
        if r.get("kind") == "performance":  # timings *are* the measurement of performance claims
            for k in ("measurement", "verdict", "theory_verdict", "rivals", "thresholds"):
                r.pop(k, None)
    return doc


def test_outputs_written(smoke_reports):
    out = smoke_reports[0]
    for name in ("claims.json", "report.md", "report.html"):
        assert (out / name).is_file()
    doc = json.loads((out / "claims.json").read_text())
    from rmt_sparsity.experiments.claims import SCHEMA_VERSION

    assert doc["schema_version"] == SCHEMA_VERSION and doc["run"]["profile"] == "smoke"
    assert [r["id"] for r in doc["claims"]] == all_claim_ids()
    assert json.loads((out / "claims-smoke.json").read_text())["claims"] == [
        dict(r, run=doc["run"]) for r in doc["claims"]]
    assert list((out / "figures").glob("*.png"))


def test_determinism(smoke_reports):
    a, b = (_strip_timings(json.loads((o / "claims.json").read_text())) for o in smoke_reports)
    assert a == b


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.cells, self._cls = [], [], None

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        if tag == "img":
            self.imgs.append(d.get("src", ""))
        self._cls = d.get("class") if tag == "td" else None

    def handle_data(self, data):
        if self._cls:
            self.cells.append((self._cls, data))
            self._cls = None


def test_html_self_contained(smoke_reports):
    out = smoke_reports[0]
    p = _Collect()
    p.feed((out / "report.html").read_text())
    n_png = len(list((out / "figures").glob("*.png")))
    assert len(p.imgs) == n_png and all(s.startswith("data:image/png;base64,") for s in p.imgs)
    classes = [c.split()[0] for c, _ in p.cells]
    n = len(all_claim_ids())
    for col in ("prediction", "band", "measurement", "uncertainty", "verdict"):
        assert classes.count(col) == n, col


def test_report_sections(smoke_reports):
    """Provenance, the tally without identities, expected chance failures, identities apart, rivals per claim."""
    out = smoke_reports[0]
    md = (out / "report.md").read_text()
    doc = json.loads((out / "claims.json").read_text())
    for needle in ("## Run", "**git commit**", "**config hash**", "## Summary", "Chance failures to expect",
                   "## Identities (true by construction; outside the tally)", "*Rivals* (same rule, same measurement)",
                   "*Thresholds:*"):
        assert needle in md, needle
    idents = [r["id"] for r in doc["claims"] if r["kind"] == "identity"]
    assert {"gradient_identity", "layernorm_norm_facts", "noise_sharpness_taylor"} <= set(idents)
    claims_table = md.split("## Claims")[1].split("## Identities")[0]
    assert all(f"`{i}`" not in claims_table for i in idents)
    judged = len(doc["claims"]) - len(idents)
    assert f"{judged} judged claims" in md
    # every threshold carries its derivation or justification
    for r in doc["claims"]:
        for t in r["thresholds"] + [t for rv in r["rivals"] for t in rv["prediction"].get("thresholds", [])]:
            assert t.get("derivation") or t.get("justification"), (r["id"], t)


def test_report_shows_other_profiles_side_by_side(tmp_path):
    args = ["verify", "--profile", "smoke", "--only", "info_plus_noise_concentration", "--out", str(tmp_path), "--quiet"]
    assert main(args) == 0
    doc = json.loads((tmp_path / "claims-smoke.json").read_text())
    doc["run"]["profile"] = "full"
    (tmp_path / "claims-full.json").write_text(json.dumps(doc))
    assert main(args) == 0
    md = (tmp_path / "report.md").read_text()
    assert "verdict (smoke) | verdict (full)" in md and "*Verdict on profile full:*" in md
    assert "verdict-full" in (tmp_path / "report.html").read_text()


def test_unknown_claim_exits_2_one_line(tmp_path):
    r = _run("verify", "--only", "nonexistent", "--out", str(tmp_path))
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "nonexistent" in r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_profile_exits_2(tmp_path):
    r = _run("verify", "--profile", "huge", "--out", str(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; use a path under a file instead")
def test_unwritable_out_exits_2_nonroot(tmp_path):  # pragma: no cover - CI runs as root
    d = tmp_path / "ro"
    d.mkdir(mode=0o500)
    assert main(["verify", "--only", "mp_extreme_ratio", "--out", str(d / "x"), "--quiet"]) == 2


def test_unwritable_out_exits_2(tmp_path, capsys):
    f = tmp_path / "a_file"
    f.write_text("")
    assert main(["verify", "--only", "mp_extreme_ratio", "--out", str(f / "sub"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not writable" in err[0]


def test_unreachable_scheduler_exits_2(tmp_path, capsys):
    code = main(["verify", "--only", "mp_extreme_ratio", "--out", str(tmp_path), "--quiet",
                 "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scheduler" in err[0]


def test_strict_exit_code(tmp_path, monkeypatch):
    from rmt_sparsity.experiments import runner as R
    from rmt_sparsity.experiments.claims import Claim, Measurement, Prediction, within_band

    failing = Claim("always_fails", "x", "test", lambda c: Prediction(0.0, (0, 1)),
                    lambda c, r: Measurement(5.0), within_band, {"smoke": {}})
    monkeypatch.setattr(R, "_REGISTRY", {"always_fails": failing})
    assert main(["verify", "--profile", "smoke", "--out", str(tmp_path), "--quiet"]) == 0
    assert main(["verify", "--profile", "smoke", "--out", str(tmp_path), "--quiet", "--strict"]) == 1


def test_crash_exits_1(tmp_path, monkeypatch):
    from rmt_sparsity.experiments import runner as R
    from rmt_sparsity.experiments.claims import Claim, within_band

    def boom(cfg):
        raise RuntimeError("kaput")

    monkeypatch.setattr(R, "_REGISTRY", {"crashes": Claim("crashes", "x", "t", boom, None, within_band, {"smoke": {}})})
    assert main(["verify", "--profile", "smoke", "--out", str(tmp_path), "--quiet"]) == 1


def test_unrecognized_option_exits_2():
    r = _run("verify", "--bogus")
    assert r.returncode == 2 and "unrecognized arguments: --bogus" in r.stderr


def test_proofs_command_renders(tmp_path):
    code = main(["proofs", "--out", str(tmp_path), "--quiet", "--no-numeric", "--only", "jsrelu"])
    assert code == 0 and (tmp_path / "README.md").is_file()


def test_bench_passes_options_through(monkeypatch):
    import rmt_sparsity.kernels.bench as bench

    seen = {}
    monkeypatch.setattr(bench, "main", lambda argv: seen.setdefault("argv", argv) and 0)
    assert main(["bench", "kernels", "--quick", "--json", "x.json"]) == 0
    assert seen["argv"] == ["--quick", "--json", "x.json"]


def test_analyze_command(tmp_path, capsys):
    import numpy as np
    from safetensors.numpy import save_file

    path = tmp_path / "w.safetensors"
    save_file({"layer.weight": np.random.default_rng(0).standard_normal((128, 32)).astype(np.float32)}, str(path))
    assert main(["analyze", str(path), "--json", "--n-boot", "0"]) == 0
    out = capsys.readouterr().out
    records = json.loads(out)
    assert isinstance(records, (list, dict)) and "layer.weight" in out
    assert main(["analyze", str(tmp_path / "missing.safetensors")]) == 2


def test_verify_on_dask_local_cluster_equals_local(tmp_path):
    pytest.importorskip("distributed")
    args = ["verify", "--profile", "smoke", "--only", "mp_esd_matches_wishart", "tw_largest_eigenvalue", "--quiet", "--seed", "2"]
    assert main(args + ["--out", str(tmp_path / "local")]) == 0
    assert main(args + ["--out", str(tmp_path / "dask"), "--executor", "dask"]) == 0
    a, b = (_strip_timings(json.loads((tmp_path / d / "claims.json").read_text())) for d in ("local", "dask"))
    assert a == b
