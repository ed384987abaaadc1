"""``rmt-sparsity sweep SPEC.toml``: run a built-in experiment over a grid (resumable; local or Dask).

A spec names the ``experiment`` (:mod:`rmt_sparsity.experiments.library`), its
``grid``, optional ``seeds`` and ``store`` (relative to the spec file) and an
optional ``[plot]`` (mean ± SE over seeds). Exit status 0, or 2 for a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ._common import UsageError, executor_context, progress_enabled

__all__ = ["add_parser", "run", "load_spec"]


def add_parser(sub) -> None:
    """Register ``sweep`` on the top-level subparsers ``sub``."""
    sw = sub.add_parser("sweep", help="run a built-in experiment over a grid (resumable; local or Dask)",
                        description="Run a built-in experiment over the grid of a TOML spec. Points already in the "
                                    "store are reused; concurrent sweeps on one store compute each point once. "
                                    "Example specs: examples/*.toml.")
    sw.add_argument("spec", help="TOML spec: experiment, grid, seeds, store, optional [plot]")
    sw.add_argument("--executor", default="local", choices=("local", "dask"),
                    help="local process pool (default) or Dask (needs the [dask] extra)")
    sw.add_argument("--scheduler", default=None, metavar="ADDR", help="Dask scheduler address (with --executor dask)")
    sw.add_argument("--workers", type=int, default=None, help="local processes, or LocalCluster workers for dask")
    sw.add_argument("--store", default=None, help="override the spec's store directory")
    sw.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    sw.set_defaults(func=run)


def load_spec(path: Path) -> dict:
    """The sweep spec at ``path`` (TOML); :class:`UsageError` when it is missing, unreadable or incomplete."""
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


def run(args) -> int:
    """Run ``sweep`` with the parsed ``args``; returns the exit status."""
    from ..experiments.ensemble_sweep import EnsembleExperiment
    from ..experiments.executors import local_executor
    from ..experiments.library import get_experiment
    from ..experiments.sweep import Sweep

    spec_path = Path(args.spec)
    spec = load_spec(spec_path)
    try:
        fn = get_experiment(spec["experiment"])
        store = Path(args.store or spec.get("store", f"runs/{spec['experiment']}"))
        if not store.is_absolute() and args.store is None:
            store = spec_path.parent / store
        sweep = Sweep(fn, spec["grid"], seeds=spec.get("seeds", [0]), store=store, experiment=spec["experiment"])
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    # training experiments run as vectorised ensembles in this process; others on a process pool
    local = None if isinstance(fn, EnsembleExperiment) else (lambda: local_executor(args.workers))
    ctx = executor_context(args.executor, args.scheduler, local=local, workers=args.workers or 2)
    try:
        with ctx as ex:
            sweep.executor = ex
            result = sweep.run(progress=progress_enabled(args))
    except ConnectionError as exc:
        raise UsageError(str(exc)) from None
    if not args.quiet:
        print(f"{len(result.records)} points ({result.computed} computed, {result.reused} reused) in {store}")
    plot = spec.get("plot")
    if plot:
        from .._optional import MissingExtraError
        from ..report.sweeps import plot_sweep

        out = store / "sweep.png"
        try:
            plot_sweep(result.records, out, x=plot["x"], y=plot["y"], group=plot.get("group"),
                       logx=plot.get("logx", False), logy=plot.get("logy", False), title=spec["experiment"])
        except MissingExtraError as exc:  # no matplotlib: the records are stored, the plot is skipped
            print(f"plot skipped: {exc}", file=sys.stderr)
        else:
            if not args.quiet:
                print(f"plot: {out}")
    return 0
