"""Speed of the beta-Laguerre samplers, as ratios against baselines timed in the same run.

* tridiagonal sampler (``laguerre_eigenvalues``, Dumitriu-Edelman + LAPACK dsterf) vs
  numpy dense ``eigvalsh(W W^T / n)`` with W generated in the loop, at p = n/2;
* Sturm-count histogram (``laguerre_histogram``) of a 1e6-column matrix with 200 bins
  (goal < 10 s), against a dense eigvalsh of a 2000 x 2000 matrix as the time unit.

Run: ``python benchmarks/samplers.py [--quick]``. BLAS and Numba threads are pinned to
the same count so neither side oversubscribes the cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def _time(fn, repeat):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="n = 1000 only and a 1e5 histogram")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)

    import numba
    import numpy as np
    from threadpoolctl import threadpool_limits

    from rmt_sparsity.ensembles import laguerre_eigenvalues, laguerre_histogram

    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    rng = np.random.default_rng(0)
    print(f"threads: {args.threads} (BLAS and Numba); load average: {os.getloadavg()}")
    with threadpool_limits(args.threads):
        laguerre_eigenvalues(10, 20, rng=rng)  # compile / load the Numba cache
        laguerre_histogram(10, 20, 4, rng=rng)
        sizes = [1000] if args.quick else [1000, 4000]
        for n in sizes:
            p = n // 2
            rep_dense = 3 if n <= 1000 else 1
            t_dense = _time(lambda: laguerre_eigenvalues(p, n, rng=rng, method="dense"), rep_dense)
            t_tri = _time(lambda: laguerre_eigenvalues(p, n, rng=rng), 5)
            print(
                f"p={p:5d} n={n:5d}: dense eigvalsh(WW^T/n) {t_dense * 1e3:9.1f} ms | "
                f"tridiagonal (sterf) {t_tri * 1e3:7.1f} ms | speed-up {t_dense / t_tri:6.1f}x"
                + ("  (goal >= 25x)" if n == 4000 else "")
            )
        n_h = 100_000 if args.quick else 1_000_000
        unit = _time(lambda: np.linalg.eigvalsh(np.cov(rng.standard_normal((2000, 2200)))), 1)
        t_h = _time(lambda: laguerre_histogram(n_h // 2, n_h, 200, rng=rng), 1)
        print(
            f"Sturm histogram p={n_h // 2} n={n_h} 200 bins: {t_h:6.2f} s (goal < 10 s); "
            f"= {t_h / unit:5.2f} x a dense 2000x2000 eigvalsh ({unit:.2f} s)"
        )


if __name__ == "__main__":
    main()
