"""The report directory as a whole: a reader sees the old report or the new one, never a mix."""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rmt_sparsity.cli import main
from rmt_sparsity.experiments import run_claim
from rmt_sparsity.report import layout, writer
from rmt_sparsity.report.writer import write_report

CLAIM = "tw_largest_eigenvalue"  # the cheapest claim


@pytest.fixture(scope="module")
def results():
    return [run_claim(CLAIM, profile="smoke", seed=0)]


def _snapshot(out: Path) -> dict:
    """What a reader of ``out`` sees: the seed in claims.json and in report.md, and the figures listed."""
    doc = json.loads((out / "claims.json").read_text())
    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    md_seed = re.search(r"\*\*seed\*\*: (\d+)", md).group(1)
    html_seed = re.search(r"<th>seed</th><td>(\d+)</td>", html).group(1)
    figs = sorted(p.name for p in (out / "figures").iterdir())
    return {"claims": doc["run"]["seed"], "md": int(md_seed), "html": int(html_seed),
            "stamp": doc["run"]["timestamp_utc"], "figures": figs,
            "listed": sorted(Path(f).name for r in doc["claims"] for f in r["figures"])}


def _consistent(snap: dict, seed: int) -> bool:
    return snap["claims"] == snap["md"] == snap["html"] == seed and snap["figures"] == snap["listed"]


def test_layout_links_into_latest(tmp_path, results):
    paths = write_report(results, tmp_path, profile="smoke", seed=3)
    assert os.readlink(tmp_path / "latest").startswith("verify-runs/")
    for name in ("claims.json", "claims-smoke.json", "report.md", "report.html", "figures"):
        assert os.readlink(tmp_path / name) == f"latest/{name}", name
    assert paths["claims"] == tmp_path / "claims.json" and paths["run_dir"] == layout.latest_run(tmp_path)
    assert _consistent(_snapshot(tmp_path), 3)
    assert not list(tmp_path.glob(".latest*"))  # no temporary link left behind


def test_error_between_writes_leaves_the_old_report(tmp_path, results, monkeypatch):
    write_report(results, tmp_path, profile="smoke", seed=1)
    before = _snapshot(tmp_path)
    real = writer.atomic_write_text

    def failing(path, text):
        if Path(path).name == "report.html":  # claims.json, claims-smoke.json, figures and report.md are written
            raise OSError("disk full (simulated)")
        return real(path, text)

    monkeypatch.setattr(writer, "atomic_write_text", failing)
    with pytest.raises(OSError, match="simulated"):
        write_report(results, tmp_path, profile="smoke", seed=2)
    after = _snapshot(tmp_path)
    assert after == before and _consistent(after, 1)
    monkeypatch.setattr(writer, "atomic_write_text", real)
    write_report(results, tmp_path, profile="smoke", seed=2)  # the next run publishes normally
    assert _consistent(_snapshot(tmp_path), 2)


def test_kill_between_writes_leaves_the_old_report(tmp_path, results):
    """A process killed (SIGKILL) right after writing the new claims.json: readers still see the old report."""
    write_report(results, tmp_path, profile="smoke", seed=1)
    before = _snapshot(tmp_path)
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from rmt_sparsity.experiments import run_claim
        from rmt_sparsity.report import writer
        real = writer.atomic_write_text
        def killing(path, text):
            if Path(path).name == "report.md":
                os.kill(os.getpid(), signal.SIGKILL)
            return real(path, text)
        writer.atomic_write_text = killing
        writer.write_report([run_claim({CLAIM!r}, profile="smoke", seed=0)], {str(tmp_path)!r}, profile="smoke", seed=2)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    runs = [d for d in (tmp_path / "verify-runs").iterdir() if d.is_dir()]
    assert len(runs) == 2 and any((d / "claims.json").is_file() and not (d / "report.md").exists() for d in runs)
    after = _snapshot(tmp_path)
    assert after == before and _consistent(after, 1)


def test_other_profiles_carried_over_and_old_runs_collected(tmp_path, results):
    write_report(results, tmp_path, profile="smoke", seed=0)
    doc = json.loads((tmp_path / "claims-smoke.json").read_text())
    doc["run"]["profile"] = "full"
    (tmp_path / "latest" / "claims-full.json").write_text(json.dumps(doc))
    for seed in range(1, 1 + layout.KEEP + 2):
        write_report(results, tmp_path, profile="smoke", seed=seed)
    assert json.loads((tmp_path / "claims-full.json").read_text())["run"]["profile"] == "full"
    assert "verdict (full)" in (tmp_path / "report.md").read_text()
    runs = sorted(d for d in (tmp_path / "verify-runs").iterdir() if d.is_dir())
    assert len(runs) == layout.KEEP and layout.latest_run(tmp_path) == runs[-1]


def test_legacy_report_is_moved_not_deleted(tmp_path, results):
    """A report written by an older version (plain files) is moved into verify-runs/<time>-legacy/."""
    (tmp_path / "claims.json").write_text(json.dumps({"schema_version": 2, "run": {"seed": 9}, "claims": []}))
    (tmp_path / "report.md").write_text("old report\n")
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "old.png").write_bytes(b"png")
    write_report(results, tmp_path, profile="smoke", seed=4)
    (legacy,) = (tmp_path / "verify-runs").glob("*-legacy")
    assert (legacy / "report.md").read_text() == "old report\n" and (legacy / "figures" / "old.png").is_file()
    assert _consistent(_snapshot(tmp_path), 4)


def test_out_dot_never_touches_foreign_files(tmp_path, monkeypatch):
    """`verify --out .` in a directory holding the user's own report.md is refused before any work."""
    (tmp_path / "report.md").write_text("my notes\n")
    (tmp_path / "data.csv").write_text("1,2\n")
    monkeypatch.chdir(tmp_path)
    assert main(["verify", "--profile", "smoke", "--only", CLAIM, "--quiet", "--out", "."]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "report.md"]
    assert (tmp_path / "report.md").read_text() == "my notes\n"


@pytest.mark.parametrize("name", ["latest", "verify-runs", "LATEST", "figures"])
def test_foreign_layout_names_are_refused(tmp_path, name):
    (tmp_path / name).mkdir()
    with pytest.raises(ValueError, match=f"already holds {name}"):
        layout.check_out_dir(tmp_path)


def test_empty_out_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["verify", "--profile", "smoke", "--only", CLAIM, "--quiet", "--out", ""]) == 2
    assert "--out" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_write_report_checks_before_writing(tmp_path, results):
    with pytest.raises(ValueError, match="out_dir"):
        write_report(results, "", profile="smoke", seed=0)
    with pytest.raises(ValueError, match="profile"):
        write_report(results, tmp_path / "r", profile="bogus", seed=0)
    with pytest.raises(ValueError, match="results"):
        write_report([], tmp_path / "r", profile="smoke", seed=0)
    assert not (tmp_path / "r").exists()


def test_without_symbolic_links_a_latest_file(tmp_path, results, monkeypatch):
    def no_links(*args, **kwargs):
        raise OSError("symbolic links are not supported here")

    monkeypatch.setattr(os, "symlink", no_links)
    paths = write_report(results, tmp_path, profile="smoke", seed=5)
    run = layout.latest_run(tmp_path)
    assert (tmp_path / "LATEST").read_text().strip() == f"verify-runs/{run.name}"
    assert paths["claims"] == run / "claims.json" and not (tmp_path / "claims.json").exists()
    assert _consistent(_snapshot(run), 5)
    write_report(results, tmp_path, profile="smoke", seed=6)
    assert _consistent(_snapshot(layout.latest_run(tmp_path)), 6)
