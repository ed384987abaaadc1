"""The report directory as a whole: each run in a fresh subdirectory, published by one atomic switch.

Layout of ``--out DIR``::

    DIR/
      verify-runs/<UTC time>-<pid>-<tag>/     one directory per run: claims.json, claims-<profile>.json,
                                              report.md, report.html, figures/ (and .complete when finished)
      latest -> verify-runs/<newest run>      switched by one os.replace of a temporary link
      claims.json -> latest/claims.json       fixed links into latest/ (made once): reading DIR/claims.json,
      report.md, report.html, figures,        DIR/report.html ... always reads the newest complete run
      claims-<profile>.json -> latest/...
      fixtures/                               the fixture store, reused across runs

A run writes everything into its own new directory, and only then repoints ``latest``
(a symbolic link replaced with ``os.replace``, which is atomic): a reader sees either the
old report or the new one, never a mix, whenever the run is interrupted. Where symbolic
links are not available the switch is a ``LATEST`` file holding the run directory's name
(written atomically); :func:`latest_run` resolves either.

Nothing in ``DIR`` that a run did not write is touched: before any work starts
:func:`check_out_dir` refuses a ``DIR`` where one of the names above exists but is not
what this layout made (``--out .`` is safe). A report written by an older version (plain
files ``claims.json``, ``report.md`` ...) is moved, not deleted, into
``verify-runs/<time>-legacy/`` and kept. The newest :data:`KEEP` finished runs are kept;
older finished runs are removed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from pathlib import Path

from ..experiments.claims import PROFILES
from ..experiments.store import as_path

__all__ = ["RUNS", "LATEST", "LATEST_FILE", "KEEP", "REPORT_NAMES", "check_out_dir", "latest_run", "new_run_dir",
           "publish"]

#: Subdirectory of the run directories, the switched link, and its fallback file.
RUNS, LATEST, LATEST_FILE = "verify-runs", "latest", "LATEST"
#: Marker files: ``RUNS/.rmt-sparsity`` (the directory is this layout's), ``<run>/.complete`` (the run finished).
_RUNS_MARKER, _COMPLETE = ".rmt-sparsity", ".complete"
#: Finished runs kept (older ones are removed; runs moved from an older layout are always kept).
KEEP = 3
#: The report's names in ``DIR``: links into ``latest/``.
REPORT_NAMES = ("claims.json", "report.md", "report.html", "figures") + tuple(f"claims-{p}.json" for p in PROFILES)
_STALE_S = 24 * 3600.0  # an unfinished run directory older than this is a crashed run


def _link_target(name: str) -> str:
    return f"{LATEST}/{name}"


def _is_our_link(p: Path, target_prefix: str) -> bool:
    try:
        return p.is_symlink() and os.readlink(p).replace("\\", "/").startswith(target_prefix)
    except OSError:  # pragma: no cover
        return False


def _is_our_latest_file(p: Path) -> bool:
    try:
        return p.is_file() and not p.is_symlink() and p.stat().st_size < 4096 and \
            p.read_text().strip().startswith(RUNS + "/")
    except (OSError, UnicodeDecodeError):
        return False


def _legacy_report(out: Path) -> bool:
    """``DIR/claims.json`` is a plain file holding a claims document: a report written by an older version."""
    p = out / "claims.json"
    if p.is_symlink() or not p.is_file():
        return False
    try:
        doc = json.loads(p.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(doc, dict) and {"schema_version", "run", "claims"} <= set(doc)


def check_out_dir(out_dir, *, name: str = "out_dir") -> Path:
    """``out_dir`` as a Path, checked before any work: a usable report directory whose report names are ours.

    Raises ``TypeError``/``ValueError`` naming ``name`` for ``''``, a non-path, a file, or a directory
    holding one of :data:`REPORT_NAMES`, ``latest``, ``LATEST`` or ``verify-runs`` that this layout did
    not make (a report written by an older version is accepted: it is moved aside, not deleted).

    Examples
    --------
    >>> import tempfile
    >>> check_out_dir(tempfile.mkdtemp()).is_dir()
    True
    >>> check_out_dir("")
    Traceback (most recent call last):
    ...
    ValueError: out_dir must be a non-empty path; got ''
    """
    out = as_path(name, out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{name} {str(out)!r} exists and is not a directory")
    if not out.exists():
        return out
    legacy = _legacy_report(out)
    foreign = []
    for n in REPORT_NAMES:
        p = out / n
        if not (p.exists() or p.is_symlink()) or _is_our_link(p, _link_target(n)):
            continue
        if legacy and not p.is_symlink() and (p.is_file() or (n == "figures" and p.is_dir())):
            continue  # an older version's report: moved into verify-runs/, not deleted
        foreign.append(n)
    p = out / LATEST
    if (p.exists() or p.is_symlink()) and not _is_our_link(p, RUNS + "/"):
        foreign.append(LATEST)
    p = out / LATEST_FILE
    if p.exists() and not _is_our_latest_file(p):
        foreign.append(LATEST_FILE)
    p = out / RUNS
    if (p.exists() or p.is_symlink()) and (p.is_symlink() or not (p / _RUNS_MARKER).is_file()):
        foreign.append(RUNS)
    if foreign:
        raise ValueError(f"{name} {str(out)!r} already holds {', '.join(foreign)}, which the report layout did not "
                         "write; verify never replaces files it does not own: move them away or choose another "
                         "output directory")
    return out


def latest_run(out_dir) -> Path | None:
    """The directory of the newest finished run in ``out_dir`` (``latest`` link or ``LATEST`` file), or None.

    Examples
    --------
    >>> import tempfile
    >>> latest_run(tempfile.mkdtemp()) is None
    True
    """
    out = as_path("out_dir", out_dir)
    link = out / LATEST
    if _is_our_link(link, RUNS + "/") and link.is_dir():
        return out / os.readlink(link)
    f = out / LATEST_FILE
    if _is_our_latest_file(f):
        run = out / f.read_text().strip()
        if run.is_dir():
            return run
    return None


def _stamp() -> str:
    now = time.time()
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"


def new_run_dir(out: Path) -> Path:
    """Create and return a fresh run directory ``out/verify-runs/<UTC time>-<pid>-<tag>`` (nothing points at it yet)."""
    runs = out / RUNS
    runs.mkdir(parents=True, exist_ok=True)
    marker = runs / _RUNS_MARKER
    if not marker.exists():
        marker.write_text("run directories of `rmt-sparsity verify` (see rmt_sparsity.report.layout)\n")
    run = runs / f"{_stamp()}-{os.getpid()}-{secrets.token_hex(3)}"
    run.mkdir()
    return run


def migrate_legacy(out: Path) -> Path | None:
    """Move an older version's plain report files into a finished run directory and publish it; its path, or None."""
    if not _legacy_report(out):
        return None
    run = new_run_dir(out)
    run = run.rename(run.with_name(run.name + "-legacy"))
    for n in REPORT_NAMES:
        p = out / n
        if (p.is_file() or (n == "figures" and p.is_dir())) and not p.is_symlink():
            os.replace(p, run / n)
    publish(out, run)
    return run


def _switch(out: Path, run: Path) -> bool:
    """Point ``out/latest`` at ``run`` atomically; False where symbolic links are unavailable (``LATEST`` file then)."""
    from .._io import atomic_write_text

    rel = f"{RUNS}/{run.name}"
    tmp = out / f".{LATEST}.{os.getpid()}.{secrets.token_hex(3)}"
    try:
        os.symlink(rel, tmp, target_is_directory=True)
    except (OSError, NotImplementedError, AttributeError):
        atomic_write_text(out / LATEST_FILE, rel + "\n")
        return False
    try:
        os.replace(tmp, out / LATEST)
    except OSError:
        tmp.unlink()
        raise
    lf = out / LATEST_FILE
    if _is_our_latest_file(lf):  # a fallback file from an earlier run would disagree with the link
        lf.unlink()
    return True


def _links(out: Path, run: Path) -> None:
    """Make the fixed links ``DIR/<name> -> latest/<name>`` for the names the run holds (once; never replaced)."""
    for n in REPORT_NAMES:
        p = out / n
        if not (run / n).exists() or p.exists() or p.is_symlink():
            continue
        try:
            os.symlink(_link_target(n), p, target_is_directory=(n == "figures"))
        except FileExistsError:  # a concurrent run made it
            pass


def _collect(out: Path, current: Path) -> None:
    """Remove finished runs beyond the newest :data:`KEEP` (never ``current``, a legacy run or an unfinished one
    younger than a day)."""
    runs = out / RUNS
    done, now = [], time.time()
    shown = latest_run(out)
    for d in sorted(runs.iterdir()):
        if not d.is_dir() or d.is_symlink() or d == current or d == shown or d.name.endswith("-legacy"):
            continue
        if (d / _COMPLETE).is_file():
            done.append(d)
        elif now - d.stat().st_mtime > _STALE_S:
            shutil.rmtree(d, ignore_errors=True)
    for d in done[: max(len(done) - (KEEP - 1), 0)]:
        shutil.rmtree(d, ignore_errors=True)


def publish(out: Path, run: Path) -> Path:
    """Mark ``run`` finished, switch ``latest`` to it, make the links in ``out`` and remove old runs.

    Returns the directory through which the report is read: ``out`` when the links exist,
    else ``run`` itself (no symbolic links).
    """
    (run / _COMPLETE).write_text("")
    linked = _switch(out, run)
    if linked:
        _links(out, run)
    _collect(out, run)
    return out if linked else run
