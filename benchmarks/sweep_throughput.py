"""Sweep throughput: serial vs 1 and 2 local workers vs a 2-worker Dask LocalCluster, measured in one run.

    python benchmarks/sweep_throughput.py [--points 16] [--work 0.2] [--json OUT]

Each point runs ``_demo_random`` (the mean of n standard normals) with n sized to about ``--work``
seconds of CPU (so the ratio measures scheduling overhead against real work, not sleep).
Prints points/s for each executor and its ratio to serial execution timed in the same run.
Executor start-up (process spawn, cluster start) is timed separately and excluded from the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from rmt_sparsity.experiments import Sweep, dask_executor, local_executor
from rmt_sparsity.experiments.sweep import _demo_random as work_fn


def _work_config(work_s: float) -> dict:
    """A config of ``_demo_random`` (mean of n normals, single-threaded) costing about ``work_s`` seconds."""
    n = 1 << 16
    while True:
        t0 = time.perf_counter()
        work_fn({"x": 0, "n": n}, 0)
        dt = time.perf_counter() - t0
        if dt >= work_s / 2:
            return {"x": 0, "n": int(n * work_s / dt)}
        n *= 2


def _timed(fn, grid, seeds, executor) -> float:
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        Sweep(fn, grid, seeds=seeds, store=d, executor=executor).run(progress=False)
        return time.perf_counter() - t0


def run(points: int = 16, work: float = 0.2) -> dict:
    cfg = _work_config(work)
    grid = [dict(cfg, x=i) for i in range(points)]
    seeds = [0]
    out = {"cpu_count": os.cpu_count(), "points": points, "config": cfg, "results": {}}
    serial = _timed(work_fn, grid, seeds, "serial")
    out["results"]["serial"] = {"seconds": serial, "points_per_s": points / serial, "ratio": 1.0}
    for workers in (1, 2):
        t0 = time.perf_counter()
        with local_executor(workers) as ex:
            ex.submit(work_fn, cfg, 0).result()  # spawn + import + JIT load, excluded
            startup = time.perf_counter() - t0
            dt = _timed(work_fn, grid, seeds, ex)
        out["results"][f"local x{workers}"] = {"seconds": dt, "points_per_s": points / dt, "ratio": serial / dt,
                                               "startup_s": startup}
    t0 = time.perf_counter()
    with dask_executor(workers=2) as ex:
        for f in [ex.submit(work_fn, cfg, 0) for _ in range(2)]:
            f.result()
        startup = time.perf_counter() - t0
        dt = _timed(work_fn, grid, seeds, ex)
    out["results"]["dask LocalCluster x2"] = {"seconds": dt, "points_per_s": points / dt, "ratio": serial / dt,
                                              "startup_s": startup}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=16)
    ap.add_argument("--work", type=float, default=0.2, help="target seconds of CPU work per point")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    res = run(args.points, args.work)
    print(f"{res['points']} points of _demo_random(n={res['config']['n']}) on {res['cpu_count']} CPUs "
          "(run on an idle machine: other load distorts the ratios)")
    print(f"{'executor':<22}{'points/s':>10}{'vs serial':>11}{'start-up s':>12}")
    for name, r in res["results"].items():
        print(f"{name:<22}{r['points_per_s']:>10.2f}{r['ratio']:>10.2f}x{r.get('startup_s', 0.0):>12.2f}")
    if args.json:
        from rmt_sparsity._io import atomic_write_json, to_jsonable

        atomic_write_json(args.json, to_jsonable(res))  # atomic, readable by others (umask)
    return 0


if __name__ == "__main__":
    sys.exit(main())
