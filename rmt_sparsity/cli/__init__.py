"""The ``rmt-sparsity`` command line.

``rmt-sparsity verify`` runs every registered claim (prediction, measurement,
tolerance, verdict) and writes a report. Exit codes (DESIGN §3):

* 0 - every claim ran, whatever the verdicts;
* 1 - a claim crashed (or, with ``--strict``, any verdict is ``fail``);
* 2 - usage error (unknown claim or profile, unwritable ``--out``, unreachable scheduler).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


class UsageError(Exception):
    """A user error: printed as one line, exit status 2."""


def _progress_enabled(args) -> bool:
    return not args.quiet and sys.stderr.isatty()


def _executor_context(kind: str, scheduler: str | None):
    """A context manager yielding the executor for ``--executor`` (``None``: run in-process)."""
    import contextlib

    if kind == "local":
        if scheduler:
            raise UsageError("--scheduler is only valid with --executor dask")
        return contextlib.nullcontext(None)
    from .experiments.executors import dask_executor

    return dask_executor(scheduler)


def _cmd_verify(args) -> int:
    from .experiments.claims import PROFILES, all_claim_ids, run_claims
    from .report.writer import format_table, summarize, write_report

    if args.profile not in PROFILES:  # argparse choices already guard; kept for programmatic calls
        raise UsageError(f"unknown profile {args.profile!r}; choose from {', '.join(PROFILES)}")
    known = all_claim_ids()
    if args.only:
        unknown = [i for i in args.only if i not in known]
        if unknown:
            raise UsageError(f"unknown claim id(s): {', '.join(unknown)} (known: {', '.join(known)})")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".rmt-sparsity-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"--out {str(out)!r} is not writable: {exc.strerror or exc}") from None
    try:
        with _executor_context(args.executor, args.scheduler) as executor:
            results = run_claims(args.only or None, profile=args.profile, seed=args.seed,
                                 progress=_progress_enabled(args), executor=executor)
    except ConnectionError as exc:
        raise UsageError(str(exc)) from None
    paths = write_report(results, out, profile=args.profile, seed=args.seed)
    counts = summarize(results)
    if not args.quiet:
        print(format_table(results))
        print(
            f"\n{len(results)} claims: "
            + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("pass", "fail", "inconclusive", "not_implemented"))
            + f", {counts.get('crashed', 0)} crashed"
        )
        print(f"report: {paths['markdown']}  {paths['html']}  {paths['claims']}")
    for r in results:
        if r.crashed:
            print(f"claim {r.id} crashed: {r.verdict.reason}", file=sys.stderr)
    if counts.get("crashed", 0):
        return 1
    if args.strict and counts.get("fail", 0):
        return 1
    return 0


def _load_sweep_spec(path: Path) -> dict:
    import tomllib

    try:
        spec = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"sweep spec {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read sweep spec {str(path)!r}: {exc}") from None
    missing = [k for k in ("experiment", "grid") if k not in spec]
    if missing:
        raise UsageError(f"sweep spec {str(path)!r} lacks {', '.join(missing)}")
    return spec


def _cmd_sweep(args) -> int:
    from .experiments.library import get_experiment
    from .experiments.sweep import Sweep

    spec_path = Path(args.spec)
    spec = _load_sweep_spec(spec_path)
    try:
        fn = get_experiment(spec["experiment"])
        store = Path(args.store or spec.get("store", f"runs/{spec['experiment']}"))
        if not store.is_absolute() and args.store is None:
            store = spec_path.parent / store
        sweep = Sweep(fn, spec["grid"], seeds=spec.get("seeds", [0]), store=store, experiment=spec["experiment"])
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    from .experiments.ensemble_sweep import EnsembleExperiment

    if args.executor == "local":
        if args.scheduler:
            raise UsageError("--scheduler is only valid with --executor dask")
        import contextlib

        from .experiments.executors import local_executor

        # training experiments run as vectorised ensembles in this process; others on a process pool
        ctx = contextlib.nullcontext(None) if isinstance(fn, EnsembleExperiment) else local_executor(args.workers)
    else:
        from .experiments.executors import dask_executor

        ctx = dask_executor(args.scheduler, workers=args.workers or 2)
    try:
        with ctx as ex:
            sweep.executor = ex
            result = sweep.run(progress=_progress_enabled(args))
    except ConnectionError as exc:
        raise UsageError(str(exc)) from None
    if not args.quiet:
        print(f"{len(result.records)} points ({result.computed} computed, {result.reused} reused) in {store}")
    plot = spec.get("plot")
    if plot:
        from .report.sweeps import plot_sweep

        out = store / "sweep.png"
        plot_sweep(result.records, out, x=plot["x"], y=plot["y"], group=plot.get("group"),
                   logx=plot.get("logx", False), logy=plot.get("logy", False), title=spec["experiment"])
        if not args.quiet:
            print(f"plot: {out}")
    return 0


def _cmd_analyze(args) -> int:
    from .spectra.cli import main as analyze_main

    return int(analyze_main(args.rest))


def _cmd_bench(args) -> int:
    if args.target == "kernels":
        from .kernels.bench import main as bench_main
    else:  # pragma: no cover - argparse choices guard this
        raise UsageError(f"unknown benchmark {args.target!r}")
    return int(bench_main(args.rest))


def _cmd_proofs(args) -> int:
    # proofs/ lives in the source tree (not in the wheel): use the checkout this package was installed from.
    root = Path(__file__).resolve().parents[1]
    if (root / "proofs" / "__init__.py").is_file() and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        from proofs.__main__ import main as proofs_main
    except ImportError as exc:
        raise UsageError(f"the proofs package is not importable ({exc}); install from a source checkout (pip install -e .)") from None
    return int(proofs_main(args.rest))


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = argparse.ArgumentParser(prog="rmt-sparsity", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"rmt-sparsity {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser("verify", help="run every registered claim and write the report")
    v.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"), help="problem sizes (default: quick)")
    v.add_argument("--only", nargs="+", metavar="ID", help="run only these claim ids")
    v.add_argument("--out", default="rmt-sparsity-report", help="output directory (default: ./rmt-sparsity-report)")
    v.add_argument("--seed", type=int, default=0, help="run seed (default: 0)")
    v.add_argument("--quiet", action="store_true", help="no progress bars or table")
    v.add_argument("--strict", action="store_true", help="exit 1 when any verdict is 'fail'")
    v.add_argument("--executor", default="local", choices=("local", "dask"), help="where claims run")
    v.add_argument("--scheduler", default=None, metavar="ADDR", help="Dask scheduler address (with --executor dask)")
    v.set_defaults(func=_cmd_verify)

    sw = sub.add_parser("sweep", help="run a built-in experiment over a grid (resumable; local or Dask)")
    sw.add_argument("spec", help="TOML spec: experiment, grid, seeds, store, optional [plot]")
    sw.add_argument("--executor", default="local", choices=("local", "dask"))
    sw.add_argument("--scheduler", default=None, metavar="ADDR", help="Dask scheduler address (with --executor dask)")
    sw.add_argument("--workers", type=int, default=None, help="local processes, or LocalCluster workers for dask")
    sw.add_argument("--store", default=None, help="override the spec's store directory")
    sw.add_argument("--quiet", action="store_true")
    sw.set_defaults(func=_cmd_sweep)

    an = sub.add_parser("analyze", add_help=False,
                        help="spectral analysis of the 2-D weights in a .safetensors file: concentration, MP fit, spikes, tails",
                        description="Options are passed to rmt_sparsity.spectra.cli (PATH, --json, --out FILE, ...).")
    an.set_defaults(func=_cmd_analyze, passthrough=True)

    b = sub.add_parser("bench", help="speed benchmarks (ratios against a baseline timed in the same run)", add_help=False,
                       description="Run a benchmark; options after the target are passed to it "
                                   "(e.g. `rmt-sparsity bench kernels --quick --json out.json --check`).")
    b.add_argument("target", choices=("kernels",), help="which benchmark")
    b.set_defaults(func=_cmd_bench, passthrough=True)

    pr = sub.add_parser("proofs", help="verify the sympy derivations in proofs/ and render proofs/README.md", add_help=False,
                        description="Options are passed to `python -m proofs` (--out DIR, --only, --strict, ...).")
    pr.set_defaults(func=_cmd_proofs, passthrough=True)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``rmt-sparsity`` console script."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if getattr(args, "passthrough", False):
        args.rest = rest  # options of the delegated command (`bench kernels --quick`, `proofs --out DIR`)
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if getattr(args, "seed", 0) is not None and getattr(args, "seed", 0) < 0:
        print("rmt-sparsity: error: --seed must be a non-negative integer", file=sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"rmt-sparsity: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("rmt-sparsity: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
