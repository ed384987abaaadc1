"""Benchmark of ``rmt_sparsity.spectra.analyze`` on a 4096 x 1024 matrix (goal: <= 1 s without bootstraps).

Reports, timed in the same run (median of ``--repeats``):

* ``analyze`` with ``n_boot=0`` (everything but the tail bootstrap: eigenvalues, concentration with its
  band, stable rank, MP fit with TW outliers, power-law xmin scan and model comparison);
* the baseline: ``scipy.linalg.svdvals`` of the same matrix (the bare cost of its singular values),
  and the ratio analyze / baseline;
* the Gram eigenvalues alone and the bootstrap cost per replicate (``n_boot=20``), for reference.

BLAS threads are pinned (``--threads``, default 2 = the 2-core target). On a machine shared with other
jobs the absolute times are noisy; the ratio against the baseline is the robust figure.

Usage::

    python benchmarks/analyze.py --repeats 3 --threads 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, default=4096)
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    import scipy.linalg
    from threadpoolctl import threadpool_limits

    from rmt_sparsity.spectra import analyze, gram_eigenvalues

    W = np.random.default_rng(0).standard_normal((args.p, args.n))
    weights = {"w": W}
    with threadpool_limits(args.threads):
        analyze({"warm": W[:256, :64]}, n_boot=0)  # one-time costs (Tracy-Widom tables, imports)
        t_an = _median_time(lambda: analyze(weights, n_boot=0), args.repeats)
        t_svd = _median_time(lambda: scipy.linalg.svdvals(W), args.repeats)
        t_eig = _median_time(lambda: gram_eigenvalues(W), args.repeats)
        t_boot = (_median_time(lambda: analyze(weights, n_boot=20), 1) - t_an) / 20
    out = {
        "shape": [args.p, args.n],
        "threads": args.threads,
        "analyze_no_bootstrap_s": t_an,
        "baseline_svdvals_s": t_svd,
        "ratio_analyze_over_svdvals": t_an / t_svd,
        "gram_eigenvalues_s": t_eig,
        "bootstrap_per_replicate_s": t_boot,
        "target_s": 1.0,
        "meets_target": t_an <= 1.0,
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"analyze {args.p}x{args.n}, {args.threads} BLAS thread(s), median of {args.repeats}:")
        print(f"  analyze (n_boot=0)        {t_an:8.3f} s   (target <= 1 s: {'met' if t_an <= 1 else 'NOT met'})")
        print(f"  baseline svdvals          {t_svd:8.3f} s   ratio analyze/svdvals = {t_an / t_svd:.2f}")
        print(f"  gram_eigenvalues alone    {t_eig:8.3f} s")
        print(f"  bootstrap, per replicate  {t_boot:8.4f} s")
    return out


if __name__ == "__main__":
    main()
