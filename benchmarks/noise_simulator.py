"""Benchmark of the gradient-noise simulator.

Simulates p=512, d_out=2048, batch 64 for 10^4 steps (``--steps`` reduces the
count on a loaded machine; steps/s extrapolate linearly because the cost per
step is constant) and reports, all timed in the same run:

* steps/s of each backend of :func:`rmt_sparsity.noise.simulate_sgd_noise`
  (``blas``: blocked in-place dsyrk/dgemm; ``numba``: fused Numba kernel;
  ``numpy``: the straightforward per-step NumPy loop, the baseline);
* the speed ratio of each backend against the NumPy loop;
* the update arithmetic alone (noise pre-drawn) in GFLOP/s, as a fraction of the
  BLAS GEMM throughput measured in the same run (a square 1024³ dgemm);
* the cost of drawing the noise (NumPy ``standard_normal``) per step.

Thread counts of BLAS and Numba are pinned (``--threads``, default 1) to avoid
oversubscription (docs/science.md §7).

Usage::

    python benchmarks/noise_simulator.py --steps 500
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np


def _flops_per_step(p, d_out, batch):
    # dsyrk on the upper triangle: B p (p+1) flops; dgemm: 2 B p d_out flops
    return batch * p * (p + 1) + 2.0 * batch * p * d_out


def _best(fn, repeats):
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run(p=512, d_out=2048, batch=64, steps=10_000, threads=1, repeats=1, numpy_steps=None, seed=0, quiet=False):
    """Run the benchmark and return a dict of figures (see module docstring)."""
    import numba
    from scipy.linalg import blas
    from threadpoolctl import threadpool_limits

    from rmt_sparsity.noise import simulate_sgd_noise
    from rmt_sparsity.noise import _kernels

    numpy_steps = steps if numpy_steps is None else numpy_steps
    lr, wd = 1e-2, 1e-1
    out = {"p": p, "d_out": d_out, "batch": batch, "steps": steps, "numpy_steps": numpy_steps, "threads": threads}
    flops = _flops_per_step(p, d_out, batch)
    with threadpool_limits(limits=threads):
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
        # warm-up (Numba compilation, BLAS init)
        for be in ("blas", "numba", "numpy"):
            simulate_sgd_noise(32, 16, 4, 3, lr, wd, rng=0, backend=be, record_weights=False)

        def sim(be, n):
            return lambda: simulate_sgd_noise(p, d_out, batch, n, lr, wd, rng=seed, backend=be, record_weights=False)

        # the final record (one eigvalsh of p x p) is included; it is timed separately and removed
        cov = np.random.default_rng(0).standard_normal((p, p))
        cov = cov @ cov.T
        t_rec = _best(lambda: np.linalg.eigvalsh(cov), 3)
        for be, n in (("blas", steps), ("numba", steps), ("numpy", numpy_steps)):
            t = _best(sim(be, n), repeats) - t_rec
            out[f"{be}_steps_per_s"] = n / t
            if not quiet:
                print(f"{be:>6}: {n} steps in {t:.2f} s -> {n / t:.1f} steps/s", flush=True)
        for be in ("blas", "numba"):
            out[f"{be}_vs_numpy"] = out[f"{be}_steps_per_s"] / out["numpy_steps_per_s"]

        # update arithmetic alone, noise pre-drawn (blocks of 512 // batch steps, as in the simulator)
        rng = np.random.default_rng(seed)
        k = max(1, 512 // batch)
        n = k * batch
        x = rng.standard_normal((n, p))
        _kernels.normalise_rows(x, math.sqrt(p), False)
        g = rng.standard_normal((n, d_out))
        r = 1 - lr * wd
        dec = np.repeat(r ** np.arange(k - 1, -1, -1, dtype=np.float64), batch)
        c_f = np.zeros((p, p), order="F")
        w_f = np.zeros((d_out, p), order="F")
        c_c = np.zeros((p, p))
        w_c = np.zeros((d_out, p))
        blocks = max(2, min(50, steps // k))

        def upd_blas():
            for _ in range(blocks):
                xs = x * np.sqrt(dec)[:, None]
                xw = x * dec[:, None]
                blas.dsyrk(1.0, xs.T, beta=r**k, c=c_f, trans=0, lower=0, overwrite_c=1)
                blas.dgemm(-lr / batch, g.T, xw.T, beta=r**k, c=w_f, trans_b=1, overwrite_c=1)

        def upd_numba():
            for _ in range(blocks):
                _kernels.fused_update(c_c, w_c, x, g, dec, (-lr / batch) * dec, r**k)

        def upd_numpy():
            cc, ww = np.zeros((p, p)), np.zeros((d_out, p))
            for j in range(blocks * k):
                xb, gb = x[(j % k) * batch : (j % k + 1) * batch], g[(j % k) * batch : (j % k + 1) * batch]
                cc = r * cc + xb.T @ xb
                ww = r * ww - (lr / batch) * (gb.T @ xb)

        a = rng.standard_normal((1024, 1024))
        b = rng.standard_normal((1024, 1024))
        t_gemm = _best(lambda: a @ b, 5)
        gemm_gflops = 2 * 1024**3 / t_gemm / 1e9
        out["gemm_gflops"] = gemm_gflops
        for name, fn in (("blas", upd_blas), ("numba", upd_numba), ("numpy", upd_numpy)):
            t = _best(fn, 3) / (blocks * k)
            out[f"{name}_update_gflops"] = flops / t / 1e9
            out[f"{name}_update_fraction_of_gemm"] = flops / t / 1e9 / gemm_gflops
        gen = np.random.default_rng(seed)
        xb = np.empty((batch, p))
        gb = np.empty((batch, d_out))

        def draw():
            for _ in range(50):
                gen.standard_normal(out=xb)
                gen.standard_normal(out=gb)

        out["draw_ms_per_step"] = _best(draw, 3) / 50 * 1e3
        out["update_ms_per_step_blas"] = flops / out["blas_update_gflops"] / 1e6
    if not quiet:
        print(
            f"GEMM {gemm_gflops:.1f} GFLOP/s; update arithmetic: "
            f"blas {out['blas_update_gflops']:.1f} GFLOP/s ({out['blas_update_fraction_of_gemm']:.0%}), "
            f"numba {out['numba_update_gflops']:.1f} ({out['numba_update_fraction_of_gemm']:.0%}), "
            f"numpy {out['numpy_update_gflops']:.1f} ({out['numpy_update_fraction_of_gemm']:.0%})"
        )
        print(f"noise draw {out['draw_ms_per_step']:.2f} ms/step; blas update {out['update_ms_per_step_blas']:.2f} ms/step")
        print(f"speed vs NumPy loop: blas {out['blas_vs_numpy']:.2f}x, numba {out['numba_vs_numpy']:.2f}x")
        print(f"extrapolated time for 1e4 steps (blas): {1e4 / out['blas_steps_per_s']:.1f} s")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, default=512)
    ap.add_argument("--d-out", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--numpy-steps", type=int, default=None, help="steps for the NumPy baseline (default: --steps)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    args = ap.parse_args(argv)
    res = run(
        p=args.p,
        d_out=args.d_out,
        batch=args.batch,
        steps=args.steps,
        threads=args.threads,
        repeats=args.repeats,
        numpy_steps=args.numpy_steps,
    )
    if args.json:
        print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
