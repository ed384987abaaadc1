"""`rmt-sparsity verify`: outputs, exit codes, determinism and the HTML report."""

import json
import os
import stat
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rmt_sparsity.cli import main
from rmt_sparsity.experiments.runner import all_claim_ids, get_claim


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
    assert [r["id"] for r in doc["claims"]] == [i for i in all_claim_ids() if get_claim(i).runs_in("smoke")]
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
    n = sum(get_claim(i).runs_in("smoke") for i in all_claim_ids())
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
    (tmp_path / "latest" / "claims-full.json").write_text(json.dumps(doc))  # as if a full run had been published
    assert main(args) == 0
    md = (tmp_path / "report.md").read_text()
    assert "verdict (smoke) | verdict (full)" in md and "*Verdict on profile full:*" in md
    assert "verdict-full" in (tmp_path / "report.html").read_text()
    assert json.loads((tmp_path / "claims-full.json").read_text())["run"]["profile"] == "full"  # carried over


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


def test_unreachable_scheduler_exits_2(tmp_path, capsys, short_dask_timeout):  # nothing listens on port 9
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

    monkeypatch.setattr(R, "_REGISTRY", {"crashes": Claim("crashes", "x", "t", boom, lambda cfg, rng: None, within_band, {"smoke": {}})})
    assert main(["verify", "--profile", "smoke", "--out", str(tmp_path), "--quiet"]) == 1


def test_unrecognized_option_exits_2():
    r = _run("verify", "--bogus")
    assert r.returncode == 2 and "unrecognized arguments: --bogus" in r.stderr


def test_proofs_command_renders_only_with_write(tmp_path):
    code = main(["proofs", "--write", "--out", str(tmp_path), "--quiet", "--no-numeric", "--only", "jsrelu"])
    assert code == 0 and (tmp_path / "README.md").is_file()
    assert stat.S_IMODE((tmp_path / "README.md").stat().st_mode) == 0o666 & ~_umask()


def test_python_m_proofs_writes_nothing_without_write(tmp_path):
    import proofs

    readme = Path(proofs.__file__).parent / "README.md"
    before = readme.stat().st_mtime_ns
    r = subprocess.run([sys.executable, "-m", "proofs", "--only", "jsrelu", "--no-numeric"], capture_output=True,
                       text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(Path(proofs.__file__).parents[1])})
    assert r.returncode == 0, r.stderr
    assert "jsrelu" in r.stderr and readme.stat().st_mtime_ns == before and not list(tmp_path.iterdir())
    assert main(["proofs", "--out", str(tmp_path), "--only", "jsrelu"]) == 2  # --out alone is refused


def test_proofs_from_a_wheel_says_it_is_a_development_command(monkeypatch, capsys):
    import rmt_sparsity.cli.proofs as P

    monkeypatch.setattr(P, "source_checkout", lambda: None)  # as installed from a wheel: no proofs/ beside the package
    assert main(["proofs"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "development command" in err[0] and "pip install -e" in err[0]


def test_verify_list(capsys):
    from rmt_sparsity.experiments.runner import registry

    assert main(["verify", "--list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["id", "kind", "statement"]
    claims = list(registry().values())
    assert len(lines) == 1 + len(claims)
    for line, c in zip(lines[1:], claims):
        cid, kind, statement = line.split(None, 2)
        only = "" if c.runs_in("quick") else " [full profile only]"
        assert (cid, kind, statement) == (c.id, c.kind, " ".join(c.statement.split()) + only)


def test_missing_extra_marks_the_claim_skipped_and_exits_0(tmp_path, monkeypatch, capsys):
    from rmt_sparsity._optional import require
    from rmt_sparsity.experiments import runner as R
    from rmt_sparsity.experiments.claims import Claim, Measurement, Prediction, within_band

    def needs_extra(config, rng):
        require("no_such_module_xyz", extra="nn", feature="this claim")
        return Measurement(0.5)  # pragma: no cover

    ok = Claim("runs", "x", "t", lambda c: Prediction(0.5, (0, 1)), lambda c, r: Measurement(0.5), within_band, {"smoke": {}})
    skip = Claim("needs_nn", "y", "t", lambda c: Prediction(0.5, (0, 1)), needs_extra, within_band, {"smoke": {}})
    monkeypatch.setattr(R, "_REGISTRY", {"runs": ok, "needs_nn": skip})
    assert main(["verify", "--profile", "smoke", "--out", str(tmp_path), "--strict"]) == 0
    out = capsys.readouterr().out
    assert "1 skipped" in out and 'pip install "rmt-sparsity[nn]"' in out
    records = {r["id"]: r for r in json.loads((tmp_path / "claims.json").read_text())["claims"]}
    assert records["runs"]["verdict"]["status"] == "pass"
    assert records["needs_nn"]["verdict"]["status"] == "skipped"
    assert "rmt-sparsity[nn]" in records["needs_nn"]["verdict"]["reason"] and records["needs_nn"]["error"] is None


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _all_parsers():
    """(name, parser) of the top level, every subcommand and the parsers they delegate to."""
    import argparse

    from rmt_sparsity.cli import build_parser
    from rmt_sparsity.kernels import bench

    top = build_parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    out = [("rmt-sparsity", top), *sub.choices.items()]
    import proofs.__main__ as pm

    captured = {}

    class _Stop(Exception):
        pass

    def grab(self, *a, **k):  # capture the delegated parsers without running them
        captured[self.prog] = self
        raise _Stop

    orig = argparse.ArgumentParser.parse_args
    argparse.ArgumentParser.parse_args = grab
    try:
        for fn in (bench.main, pm.main):
            try:
                fn([])
            except _Stop:
                pass
    finally:
        argparse.ArgumentParser.parse_args = orig
    return out + list(captured.items())


def test_every_option_has_help_text():
    missing = []
    for name, parser in _all_parsers():
        if name == "analyze":  # its options are parsed by rmt_sparsity.cli.analyze, checked there
            continue
        for action in parser._actions:
            if action.option_strings and not (action.help or "").strip():
                missing.append(f"{name} {'/'.join(action.option_strings)}")
    assert not missing, f"options without help text: {missing}"


@pytest.mark.parametrize("argv", [["--help"], ["verify", "--help"], ["sweep", "--help"], ["bench", "--help"],
                                  ["bench", "kernels", "--help"], ["proofs", "--help"]])
def test_help_is_plain_text_and_exits_0(argv):
    r = _run(*argv)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage:") and "Traceback" not in r.stderr
    for markup in ("``", ":func:", ":class:", ":mod:", "DES" + "IGN"):
        assert markup not in r.stdout, (argv, markup)


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


def test_verify_list_marks_full_only_claims(capsys):
    from rmt_sparsity.cli.verify import list_claims
    from rmt_sparsity.experiments.runner import registry

    list_claims()
    lines = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines()[1:]}
    for cid, c in registry().items():
        assert lines[cid].endswith("[full profile only]") == (not c.runs_in("quick")), cid
