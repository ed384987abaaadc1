"""``rmt-sparsity verify``: run every registered claim and write the report (``--list``: list the claims).

Exit status: 0 when every claim ran, whatever the verdicts (claims skipped for
a missing optional extra included); 1 when a claim
crashed (or, with ``--strict``, when any verdict is ``fail``); 2 for a usage
error (unknown claim or profile, an empty, unwritable or foreign ``--out``, unreachable scheduler),
reported before any claim runs.

The report directory's layout (a fresh run directory per run, published by switching
``--out/latest`` in one step) is :mod:`rmt_sparsity.report.layout`'s.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ._common import UsageError, executor_context, progress_enabled

__all__ = ["add_parser", "run", "list_claims"]


def add_parser(sub) -> None:
    """Register ``verify`` on the top-level subparsers ``sub``."""
    v = sub.add_parser("verify", help="run every registered claim and write the report",
                       description="Run every registered claim (prediction, measurement, tolerance, verdict) and write "
                                   "report.md, report.html, claims.json, claims-PROFILE.json and figures/ to --out. "
                                   "Each run writes into its own directory --out/verify-runs/TIME-.../ and then "
                                   "switches the link --out/latest to it in one step; --out/claims.json, "
                                   "--out/report.html ... are links into latest/, so they always show one complete "
                                   "run (the old one until the new one is finished). The three newest runs are kept. "
                                   "verify never replaces a file it did not write: a --out holding such a file under "
                                   "one of these names is refused before any work. Claims that need an "
                                   "optional extra that is not installed are marked 'skipped' with the install command.")
    v.add_argument("--list", action="store_true", help="print id, kind and statement of every claim, and exit")
    v.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"), help="problem sizes (default: quick)")
    v.add_argument("--only", nargs="+", metavar="ID", help="run only these claim ids (see --list)")
    v.add_argument("--out", default="rmt-sparsity-report",
                   help="report directory (default: ./rmt-sparsity-report); the newest report is read through "
                        "DIR/claims.json, DIR/report.html ... (links into DIR/latest/)")
    v.add_argument("--seed", type=int, default=0, help="run seed (default: 0)")
    v.add_argument("--quiet", action="store_true", help="no progress bars or table")
    v.add_argument("--strict", action="store_true", help="exit 1 when any verdict is 'fail'")
    v.add_argument("--executor", default="local", choices=("local", "dask"),
                   help="where claims run: in this process (local, default) or on Dask (needs the [dask] extra)")
    v.add_argument("--scheduler", default=None, metavar="ADDR", help="Dask scheduler address (with --executor dask)")
    v.set_defaults(func=run)


def list_claims(file=None) -> None:
    """Print one line per registered claim: id, kind and statement (``verify --list``); a claim that only the full
    profile runs says so."""
    from ..experiments.runner import registry

    claims = list(registry().values())
    w_id = max((len(c.id) for c in claims), default=2)
    w_kind = max((len(c.kind) for c in claims), default=4)
    out = file if file is not None else sys.stdout
    print(f"{'id':<{w_id}}  {'kind':<{w_kind}}  statement", file=out)
    for c in claims:
        only = "" if c.runs_in("quick") else " [full profile only]"
        print(f"{c.id:<{w_id}}  {c.kind:<{w_kind}}  {' '.join(c.statement.split())}{only}", file=out)


def _writable_dir(path: str) -> Path:
    """``--out`` checked before any work: non-empty, a directory (or creatable), writable, and holding no report
    names this layout did not write (:func:`~rmt_sparsity.report.layout.check_out_dir`)."""
    from ..report.layout import check_out_dir

    if not path or not path.strip():
        raise UsageError(f"--out {path!r} is empty: give a directory")
    try:
        out = check_out_dir(path, name="--out")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".rmt-sparsity-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"--out {str(out)!r} is not writable: {exc.strerror or exc}") from None
    return out


def run(args) -> int:
    """Run ``verify`` with the parsed ``args``; returns the exit status."""
    from ..experiments.claims import PROFILES
    from ..experiments.runner import all_claim_ids, run_claims
    from ..report.writer import format_table, summarize, write_report

    if args.list:
        list_claims()
        return 0
    if args.profile not in PROFILES:  # argparse choices already guard; kept for programmatic calls
        raise UsageError(f"unknown profile {args.profile!r}; choose from {', '.join(PROFILES)}")
    known = all_claim_ids()
    if args.only:
        unknown = [i for i in args.only if i not in known]
        if unknown:
            raise UsageError(f"unknown claim id(s): {', '.join(unknown)} (known: {', '.join(known)})")
    out = _writable_dir(args.out)
    from .._optional import available, install_hint

    if not available("matplotlib"):
        print(f"note: matplotlib is not installed, so the report has no figures ({install_hint('report')})",
              file=sys.stderr)
    try:
        with executor_context(args.executor, args.scheduler) as executor:
            results = run_claims(args.only or None, profile=args.profile, seed=args.seed,
                                 progress=progress_enabled(args), executor=executor, fixture_store=out / "fixtures")
    except ConnectionError as exc:
        raise UsageError(str(exc)) from None
    paths = write_report(results, out, profile=args.profile, seed=args.seed)
    counts = summarize(results)
    if not args.quiet:
        print(format_table(results))
        print(
            f"\n{len(results) - counts['identity']} judged claims: "
            + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("pass", "fail", "inconclusive", "skipped", "not_implemented"))
            + f", {counts.get('crashed', 0)} crashed; {counts['identity']} identities (not counted)"
        )
        print(f"report: {paths['markdown']}  {paths['html']}  {paths['claims']}")
    for r in results:
        if r.crashed:
            print(f"claim {r.id} crashed: {r.verdict.reason}", file=sys.stderr)
    skipped = [r for r in results if r.verdict.status == "skipped"]
    if skipped and not args.quiet:
        hints = sorted({r.verdict.reason.rsplit(": ", 1)[-1] for r in skipped})
        print(f"{len(skipped)} claims skipped for missing optional extras; install them with: {'; '.join(hints)}")
    if counts.get("crashed", 0):
        return 1
    if args.strict and counts.get("fail", 0):
        return 1
    return 0
