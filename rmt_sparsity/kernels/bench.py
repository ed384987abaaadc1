r"""Sparse-FFN speed benchmark: every batch size, against dense BLAS and a reference kernel timed in the same loop.

Run it as ``rmt-sparsity bench kernels [--quick] [--check] [--json OUT] ...``
or ``python benchmarks/sparse_ffn.py ...``; :func:`run_benchmark` returns the
same numbers as a dict.

What is timed, at each batch size B and density ρ (independent Bernoulli(ρ)
neurons, a fresh active set on every call, so the expected union density of
B rows is ``u = 1 − (1 − ρ)^B``):

* ``dense``: dense BLAS, in the fastest of three memory layouts (``h @ W_out^T``
  on the kernel's own array, ``h @ W_out.T`` and ``(W_out @ h^T)^T`` on
  ``W_out`` stored (d_model, d_ff) as ``torch.nn.Linear`` does), picked per
  batch size by a pilot run and printed. Speed-ups are ``t_dense / t``;
* ``dense_same``: ``h @ w_out_t``, the BLAS call on the array the kernels
  read, which is what ``sparse_down``'s ``dense`` path runs;
* ``project``: :func:`~rmt_sparsity.kernels.sparse_down` on its batched path
  (``method="union"``; at batch 1 the plain call, i.e. the per-row kernel);
* ``auto``: the plain call ``sparse_down(h, w_out_t)``, with the path it chose;
* ``reference``: the "union rows accumulate" reference kernel (a
  compressed-sparse-column index of ``h``; each union row of ``W_out^T`` read
  once and accumulated into every batch row where that neuron is active; at
  batch 1, the active rows accumulated one at a time), a plain one-thread
  Numba transcription in ``benchmarks/reference_kernels.py`` (source
  checkouts only; the column is skipped elsewhere).

Rules: the calls of one repeat use the same activations and run back to back
in an order rotated from repeat to repeat, so drifts in machine load hit all
of them; kernel, Numba and BLAS threads are pinned (:func:`kernel_threads`);
time is the calling thread's CPU time by default (``clock="cpu"``: on a shared
machine, descheduling would stretch the long dense calls more than the short
sparse ones), the wall-clock ratio is reported beside it; the load average is
printed before and after each batch size. Each ratio is summarised by the
median of the per-repeat ratios, with a bootstrap standard error and a
distribution-free confidence interval for the median (order statistics of the
paired per-repeat log ratios; its exact coverage is recorded).

Roofline: the same run measures the streaming read bandwidth (one pass over
the benchmark's own weight matrix) and the peak GEMM rate (a square float32
product), both with the pinned threads. Each point reports the achieved GB/s
(bytes of weights the path must read over its time; the relevant limit at
batch 1) and the achieved GFlop/s (useful flops, ``2·nnz·d_model`` for the
sparse paths and ``2·B·d_ff·d_model`` for dense; the relevant limit at
batch >= 16) as fractions of those limits, and the roofline bound on the
speed-up, ``t_dense / max(u·bytes/bandwidth, 2·nnz·d_model/peak)``.

Whole FFN (``ffn=True``), on the same grid: the dense FFN (BLAS up-projection,
bias, ReLU, BLAS down-projection, each product in its fastest layout) against
``sparse_ffn`` without a predictor (dense up-projection, sparse down) and with
a :class:`~rmt_sparsity.kernels.LowRankPredictor` (at batch > 1, its cost model
chooses between computing only each row's predicted pre-activations and dense
BLAS); and the masked up-projection alone (predictor + masked
:func:`~rmt_sparsity.kernels.sparse_up`, whatever the cost model would choose)
against the BLAS up-projection. The predictor needs a predictable active set: inputs have a
power-law covariance spectrum ``λ_k ∝ (k + 10)^{-2}`` in a random basis, W_in
is Gaussian and the bias sets each neuron's firing rate to ρ; the held-out
recall and precision are reported with the speed-ups.

``check=True`` fails (``main`` exits 1) when, at some point of the grid, the
confidence interval of ``project``'s speed over the reference's lies wholly
below 1, or the interval of ``auto``'s speed over ``dense_same`` lies wholly
below 0.95 (``auto`` more than 5 % slower than the BLAS call it could have
made). The stated speed goals (batch 1: ``0.8/ρ``; batch 64, ρ = 10 %: 2.2×;
batch 16, ρ = 10 %: 3.2×, at 4096×16384 on one thread) are evaluated and
printed, but they are machine-dependent targets and do not fail the check.
"""

from __future__ import annotations

import importlib.util
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .._checks import check_choice, check_int, check_real, check_size_budget

__all__ = ["run_benchmark", "main", "GOAL_DENSITIES", "goal_speedup", "median_ci"]

#: Densities at which the batch-1 goal ``speed-up >= 0.8/ρ`` applies.
GOAL_DENSITIES = (0.05, 0.5)
#: The size (d_model, d_ff) at which the speed goals apply.
GOAL_SIZE = (4096, 16384)
#: Batched goals at GOAL_SIZE, one thread: {(batch, density): minimum speed-up over dense BLAS}.
BATCH_GOALS = {(64, 0.1): 2.2, (16, 0.1): 3.2}
#: ``auto`` may be at most this much slower than dense BLAS (beyond the noise) under ``check``.
AUTO_TOLERANCE = 0.05
#: Confidence level of the per-point intervals.
CI_LEVEL = 0.95

GRID_BATCHES = (1, 8, 16, 64, 256)
GRID_DENSITIES = (0.5, 0.2, 0.1, 0.05, 0.02)

FULL = dict(sizes=(GOAL_SIZE,), batches=GRID_BATCHES, densities=GRID_DENSITIES, repeats=6, ffn_repeats=3)
QUICK = dict(sizes=((2048, 8192),), batches=GRID_BATCHES, densities=GRID_DENSITIES, repeats=5, ffn_repeats=3)


def goal_speedup(density: float) -> float:
    """The batch-1 goal: speed-up >= 0.8/ρ."""
    return 0.8 / density


# ----------------------------------------------------------------------------- statistics


def _median_se(x, rng, n_boot=400):
    x = np.asarray(x, dtype=float)
    if x.size < 2:
        return float(np.median(x)), float("nan")
    boots = np.median(rng.choice(x, size=(n_boot, x.size), replace=True), axis=1)
    return float(np.median(x)), float(np.std(boots, ddof=1))


def median_ci(x, level: float = CI_LEVEL):
    r"""Distribution-free confidence interval for the median of ``x`` from its order statistics.

    With ``n`` independent draws, the interval :math:`[x_{(k)}, x_{(n-k+1)}]`
    covers the median with probability :math:`1 - 2 P(\mathrm{Bin}(n, 1/2) \le k-1)`;
    ``k`` is the largest index whose coverage is at least ``level`` (``k = 1``,
    the full range, when even that falls short, as for ``n <= 5`` at 95 %).

    Returns
    -------
    (lo, hi, coverage)

    Examples
    --------
    >>> median_ci([3.0, 1.0, 2.0, 5.0, 4.0, 7.0, 6.0])     # n = 7: the range, coverage 1 - 2/128
    (1.0, 7.0, 0.984375)
    """
    x = np.sort(np.asarray(x, dtype=float))
    n = x.size
    if n == 0:
        return float("nan"), float("nan"), 0.0
    cdf = np.cumsum([math.comb(n, j) for j in range(n + 1)]) / 2.0**n
    k = 1
    for kk in range(1, n // 2 + 1):
        if 1 - 2 * cdf[kk - 1] >= level:
            k = kk
    cover = 1 - 2 * cdf[k - 1] if n > 1 else 0.0
    return float(x[k - 1]), float(x[n - k]), float(cover)


def _timeit(fn):
    """(wall seconds, this thread's CPU seconds) of one call."""
    c0 = time.thread_time()
    t0 = time.perf_counter()
    fn()
    t1 = time.perf_counter()
    return t1 - t0, time.thread_time() - c0


def _loadavg():
    return tuple(round(v, 2) for v in os.getloadavg()) if hasattr(os, "getloadavg") else None


# ----------------------------------------------------------------------------- machine, roofline


def _first_result_seconds() -> dict:
    """Wall time of a fresh process from start to its first kernel result (cache warmed by a first run)."""
    code = (
        "import time; t0 = time.perf_counter(); import numpy as np; "
        "from rmt_sparsity.kernels import sparse_down; "
        "w = np.ones((64, 32), np.float32); h = np.zeros(64, np.float32); h[3] = 1; "
        "y = sparse_down(h, w); assert y[0] == 1; print(time.perf_counter() - t0)"
    )
    out = {}
    for label in ("cold_or_warm", "warm"):
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        wall = time.perf_counter() - t0
        if res.returncode != 0:
            return {"error": res.stderr[-500:]}
        out[label] = {"process_wall_s": wall, "import_to_result_s": float(res.stdout.strip().splitlines()[-1])}
    return out["warm"]


def _machine_info(threads: int) -> dict:
    import numba
    from threadpoolctl import threadpool_info

    blas = [
        {k: d.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
        for d in threadpool_info()
        if d.get("user_api") == "blas"
    ]
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "machine": platform.machine(),
        "processor": platform.processor() or platform.uname().machine,
        "cpu_count": os.cpu_count(),
        "kernel_threads": threads,
        "numba_threads": numba.get_num_threads(),
        "blas": blas,
        "loadavg": _loadavg(),
        "env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS") if k in os.environ},
    }


def _roofline(w, ci, repeats=5) -> dict:
    """Streaming read bandwidth over ``w`` and peak GEMM rate (best of ``repeats``), with the pinned threads."""
    from . import _nb

    _nb.stream_sum(w[:2])
    t_bw = min(_timeit(lambda: _nb.stream_sum(w))[ci] for _ in range(repeats))
    n = 2048
    a = np.ones((n, n), w.dtype)
    a @ a
    t_mm = min(_timeit(lambda: a @ a)[ci] for _ in range(repeats))
    return {
        "bandwidth_GBps": w.nbytes / t_bw / 1e9,
        "bandwidth_probe": f"one read pass over the {w.shape[0]}x{w.shape[1]} {w.dtype} weights (Numba sum)",
        "peak_GFlops": 2.0 * n**3 / t_mm / 1e9,
        "peak_probe": f"{n}x{n} @ {n}x{n} {w.dtype} BLAS GEMM",
    }


def _pick_fastest(candidates, ci, pilot=3):
    """Name of the fastest of ``{name: fn}`` by median of ``pilot`` interleaved calls, and the medians."""
    times = {k: [] for k in candidates}
    for _ in range(pilot):
        for k, fn in candidates.items():
            times[k].append(_timeit(fn)[ci])
    med = {k: float(np.median(v)) for k, v in times.items()}
    return min(med, key=med.get), med


def _load_reference():
    """The reference module from the source tree (``benchmarks/reference_kernels.py``), or None."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "reference_kernels.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("_rmt_sparsity_reference_kernels", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ----------------------------------------------------------------------------- down-projection grid


def _point_stats(times, ci_clock, rng):
    """Per-point summary of ``times[name] = [(wall, cpu), ...]`` (same repeats for every name)."""
    t = {k: np.array([v[ci_clock] for v in vals]) for k, vals in times.items()}
    tw = {k: np.array([v[0] for v in vals]) for k, vals in times.items()}
    out = {"ms": {k: float(np.median(v)) * 1e3 for k, v in t.items()}}
    sp, sp_se, sp_ci = {}, {}, {}
    cover = 0.0
    for k in t:
        if k == "dense":
            continue
        r = t["dense"] / t[k]
        sp[k], sp_se[k] = _median_se(r, rng)
        lo, hi, cover = median_ci(np.log(r))
        sp_ci[k] = (math.exp(lo), math.exp(hi))
    out["speedup"], out["speedup_se"], out["speedup_ci"] = sp, sp_se, sp_ci
    out["speedup_wall"] = {k: float(np.median(tw["dense"] / tw[k])) for k in t if k != "dense"}
    out["ci_coverage"] = cover
    if "reference" in t:
        d = np.log(t["reference"] / t["project"])
        lo, hi, _ = median_ci(d)
        out["project_vs_reference"] = (float(math.exp(np.median(d))), math.exp(lo), math.exp(hi))
    if "dense_same" in t:
        d = np.log(t["dense_same"] / t["auto"])
        lo, hi, _ = median_ci(d)
        out["auto_vs_dense_same"] = (float(math.exp(np.median(d))), math.exp(lo), math.exp(hi))
    return out


def _down_grid(d_model, d_ff, cfg, rng, roof, reference_mod, out_rows, log):
    from .plan import crossover_density
    from .sparse import random_activations, sparse_down

    ci = 1 if cfg["clock"] == "cpu" else 0
    dt = np.float32
    w_out = rng.standard_normal((d_model, d_ff), dtype=dt)
    w_out_t = np.ascontiguousarray(w_out.T)
    item = w_out_t.itemsize
    nbytes = w_out_t.nbytes
    if roof is None:
        roof = _roofline(w_out_t, ci)
        log(
            f"  roofline: streaming read {roof['bandwidth_GBps']:.2f} GB/s ({roof['bandwidth_probe']}), "
            f"peak GEMM {roof['peak_GFlops']:.1f} GFlop/s ({roof['peak_probe']})"
        )
    bw, peak = roof["bandwidth_GBps"] * 1e9, roof["peak_GFlops"] * 1e9
    ref = reference_mod.UnionRowsReference(w_out_t) if reference_mod is not None else None
    if ref is not None:
        ref.warm_up()  # compile outside the timings
    layouts = {}
    for B in cfg["batches"]:
        h0 = random_activations(None if B == 1 else B, d_ff, 0.1, rng=rng)
        if B == 1:
            dense_cands = {"h @ w_out_t": lambda h: h @ w_out_t, "w_out @ h": lambda h: w_out @ h}
        else:
            dense_cands = {
                "h @ w_out_t": lambda h: h @ w_out_t,
                "h @ w_out.T": lambda h: h @ w_out.T,
                "(w_out @ h.T).T": lambda h: (w_out @ h.T).T,
            }
        layout, pilot = _pick_fastest({k: (lambda f=f: f(h0)) for k, f in dense_cands.items()}, ci)
        dense_fn = dense_cands[layout]
        layouts[B] = (layout, dense_fn)
        proj_method = "auto" if B == 1 else "union"
        sparse_down(h0, w_out_t, method=proj_method)  # compile / load from cache
        sparse_down(h0, w_out_t)
        cross = crossover_density(B, d_model, d_ff, item, threads=cfg["threads"])
        log(
            f"  {d_model} x {d_ff}, batch {B}: dense layout {layout!r} "
            f"({', '.join(f'{k}: {v * 1e3:.1f} ms' for k, v in pilot.items())}); "
            f"model crossover to dense at rho = {cross:.3f}; load {_loadavg()}"
        )
        for rho in cfg["densities"]:
            names = ["dense", "dense_same", "project", "auto"] + (["reference"] if ref is not None else [])
            times = {k: [] for k in names}
            u_list, nnz_list, paths = [], [], {}
            for rep in range(cfg["repeats"]):
                h = random_activations(None if B == 1 else B, d_ff, rho, rng=rng)  # fresh active set, not timed
                calls = {
                    "dense": lambda: dense_fn(h),
                    "dense_same": lambda: h @ w_out_t,
                    "project": lambda: sparse_down(h, w_out_t, method=proj_method),
                    "auto": lambda: sparse_down(h, w_out_t),
                    "reference": lambda: ref(h),
                }
                k0 = rep % len(names)
                for k in names[k0:] + names[:k0]:
                    times[k].append(_timeit(calls[k]))
                _, plan = sparse_down(h, w_out_t, return_plan=True)  # not timed: the path auto took
                paths[plan["method"]] = paths.get(plan["method"], 0) + 1
                nz = np.count_nonzero(h)
                nnz_list.append(nz)
                u_list.append(np.count_nonzero(np.any(np.atleast_2d(h) != 0, axis=0)) / d_ff)
            st = _point_stats(times, ci, rng)
            u = float(np.mean(u_list))
            nnz = float(np.mean(nnz_list))
            rho_bar = nnz / (B * d_ff)
            t_proj = st["ms"]["project"] / 1e3
            t_dense = st["ms"]["dense"] / 1e3
            t_min = max(u * nbytes / bw, 2.0 * nnz * d_model / peak)
            row = {
                "d_model": d_model,
                "d_ff": d_ff,
                "batch": B,
                "density": rho,
                "density_measured": rho_bar,
                "union_density": u,
                "union_density_independent": 1 - (1 - rho) ** B,
                "speedup": st["speedup"]["project"],
                "speedup_se": st["speedup_se"]["project"],
                "speedup_ci": st["speedup_ci"]["project"],
                "speedup_wall": st["speedup_wall"]["project"],
                "speedup_auto": st["speedup"]["auto"],
                "speedup_auto_ci": st["speedup_ci"]["auto"],
                "speedup_dense_same": st["speedup"]["dense_same"],
                "speedup_reference": st["speedup"].get("reference"),
                "speedup_reference_ci": st["speedup_ci"].get("reference"),
                "project_vs_reference": st.get("project_vs_reference"),
                "auto_vs_dense_same": st["auto_vs_dense_same"],
                "ci_coverage": st["ci_coverage"],
                "auto_path": max(paths, key=paths.get),
                "auto_paths": paths,
                "project_method": proj_method,
                "clock": cfg["clock"],
                "ideal": 1 / u if u > 0 else float("inf"),
                "ideal_flops": 1 / rho_bar if rho_bar > 0 else float("inf"),
                "fraction_of_ideal": st["speedup"]["project"] * u,
                "roofline_bound": t_dense / t_min if t_min > 0 else float("inf"),
                "ms": st["ms"],
                "dense_ms": st["ms"]["dense"],
                "sparse_ms": st["ms"]["project"],
                "floor_ms": u * st["ms"]["dense"],
                "dense_GBps": nbytes / t_dense / 1e9,
                "sparse_GBps": u * nbytes / t_proj / 1e9,
                "dense_bandwidth_fraction": nbytes / t_dense / bw,
                "sparse_bandwidth_fraction": u * nbytes / t_proj / bw,
                "dense_GFlops": 2.0 * B * d_ff * d_model / t_dense / 1e9,
                "sparse_GFlops": 2.0 * nnz * d_model / t_proj / 1e9,
                "dense_peak_fraction": 2.0 * B * d_ff * d_model / t_dense / peak,
                "sparse_peak_fraction": 2.0 * nnz * d_model / t_proj / peak,
                "dense_layout": layout,
                "model_crossover": cross,
                "repeats": cfg["repeats"],
            }
            out_rows.append(row)
            ref_s = f"{row['speedup_reference']:6.2f}" if ref is not None else "   n/a"
            if B == 1:
                roof_s = f"{row['sparse_GBps']:5.2f} GB/s = {row['sparse_bandwidth_fraction']:4.2f} of stream (dense {row['dense_bandwidth_fraction']:4.2f})"
            else:
                roof_s = f"{row['sparse_GFlops']:5.1f} GF/s = {row['sparse_peak_fraction']:4.2f} of peak (dense {row['dense_peak_fraction']:4.2f})"
            lo, hi = row["speedup_ci"]
            log(
                f"    rho {rho:4.2f}  u {u:5.3f}  project {row['speedup']:6.2f} [{lo:5.2f}, {hi:5.2f}]  "
                f"reference {ref_s}  auto {row['speedup_auto']:6.2f} ({row['auto_path']:5s})  "
                f"dense same-array {row['speedup_dense_same']:5.2f}  bound {row['roofline_bound']:6.2f}  "
                f"ideal {row['ideal']:6.2f}/{row['ideal_flops']:5.1f}  {roof_s}"
            )
        log(f"    load {_loadavg()}")
    return roof, layouts, (w_out, w_out_t)


# ----------------------------------------------------------------------------- whole FFN grid


def _ffn_grid(d_model, d_ff, w_out, w_out_t, down_layouts, cfg, rng, log):
    from .predictor import fit_predictor
    from .sparse import sparse_ffn, sparse_up

    ci = 1 if cfg["clock"] == "cpu" else 0
    dt = np.float32
    w_in = (rng.standard_normal((d_ff, d_model), dtype=dt) / np.float32(np.sqrt(d_model))).astype(dt)
    w_in_t = np.ascontiguousarray(w_in.T)
    # Inputs: singular values 1/(k + 10) in a random orthonormal basis (covariance spectrum
    # (k + 10)^-2: no single dominant direction, ~4 % of the variance beyond rank 256).
    q, _ = np.linalg.qr(rng.standard_normal((d_model, d_model)))
    scale = 1.0 / (np.arange(1, d_model + 1) + 10.0)
    mix = (scale[:, None] * q.T).astype(dt)

    def draw(n):
        return np.ascontiguousarray((rng.standard_normal((n, d_model), dtype=dt) @ mix) * np.float32(np.sqrt(d_model)))

    n_fit = max(1024, 4 * max(64, d_model // 16))
    sample = draw(n_fit)
    h_sample = sample @ w_in.T
    rank = max(16, d_model // 16)
    up_cands = {
        "x @ w_in.T": lambda x: x @ w_in.T,
        "(w_in @ x.T).T": lambda x: (w_in @ x.T).T,
        "x @ w_in_t": lambda x: x @ w_in_t,
    }
    up_layouts = {}
    for B in cfg["batches"]:
        x0 = draw(B)
        x0 = x0[0] if B == 1 else x0
        cands = {"w_in @ x": lambda x: w_in @ x, "x @ w_in_t": lambda x: x @ w_in_t} if B == 1 else up_cands
        name, _ = _pick_fastest({k: (lambda f=f: f(x0)) for k, f in cands.items()}, ci)
        up_layouts[B] = (name, cands[name])
    rows = []
    for rho in cfg["densities"]:
        b_in = (-np.quantile(h_sample, 1 - rho, axis=0)).astype(dt)  # each neuron fires at rate rho
        t0 = time.perf_counter()
        pred = fit_predictor(sample, w_in, b_in, rank=rank, target_recall=0.99, rng=rng)
        fit_s = time.perf_counter() - t0
        for B in cfg["batches"]:
            up_name, up = up_layouts[B]
            down_name, down = down_layouts[B]

            def dense_ffn(x):
                h = up(x)
                h += b_in
                np.maximum(h, 0, out=h)
                return down(h)

            def predicted_up(x):
                m = pred.predict_mask(x)
                if x.ndim == 1:
                    return sparse_up(x, w_in, np.flatnonzero(m))
                idx = np.flatnonzero(m.any(axis=0))
                return sparse_up(x, w_in, idx, mask=np.ascontiguousarray(m[:, idx]))

            x0 = draw(B)
            x0 = x0[0] if B == 1 else x0
            sparse_ffn(x0, w_in, b_in, w_out_t, "relu")
            sparse_ffn(x0, w_in, b_in, w_out_t, "relu", predictor=pred)
            predicted_up(x0)
            names = ["dense_ffn", "no_predictor", "predictor", "dense_up", "predicted_up"]
            times = {k: [] for k in names}
            tp = npred = ntrue = 0
            up_dens, n_up, up_paths = [], [], {}
            for rep in range(cfg["ffn_repeats"]):
                x = draw(B)
                x = x[0] if B == 1 else x
                calls = {
                    "dense_ffn": lambda: dense_ffn(x),
                    "no_predictor": lambda: sparse_ffn(x, w_in, b_in, w_out_t, "relu"),
                    "predictor": lambda: sparse_ffn(x, w_in, b_in, w_out_t, "relu", predictor=pred),
                    "dense_up": lambda: up(x),
                    "predicted_up": lambda: predicted_up(x),
                }
                k0 = rep % len(names)
                for k in names[k0:] + names[:k0]:
                    times[k].append(_timeit(calls[k])[ci])
                _, info = sparse_ffn(x, w_in, b_in, w_out_t, "relu", predictor=pred, return_info=True)
                up_dens.append(info["up_density"])
                up_paths[info["up_path"]] = up_paths.get(info["up_path"], 0) + 1
                n_up.append(info["n_up"] / d_ff)
                true = (np.atleast_2d(x) @ w_in.T + b_in) > 0
                m = np.atleast_2d(pred.predict_mask(x))
                tp += int(np.count_nonzero(true & m))
                npred += int(np.count_nonzero(m))
                ntrue += int(np.count_nonzero(true))
            t = {k: np.array(v) for k, v in times.items()}
            s0, se0 = _median_se(t["dense_ffn"] / t["no_predictor"], rng)
            s1, se1 = _median_se(t["dense_ffn"] / t["predictor"], rng)
            s2, se2 = _median_se(t["dense_up"] / t["predicted_up"], rng)
            ud = float(np.mean(up_dens))
            pred_cost = pred.rank * (d_model + d_ff) / (d_model * d_ff)
            row = {
                "d_model": d_model,
                "d_ff": d_ff,
                "batch": B,
                "density": rho,
                "density_measured": ntrue / (cfg["ffn_repeats"] * B * d_ff),
                "speedup_no_predictor": s0,
                "speedup_no_predictor_se": se0,
                "ideal_no_predictor": 2 / (1 + rho),
                "speedup_predictor": s1,
                "speedup_predictor_se": se1,
                "ideal_predictor": 2 / (ud + rho + pred_cost),
                "speedup_up": s2,
                "speedup_up_se": se2,
                "ideal_up": 1 / (ud + pred_cost),
                "up_density": ud,
                "predictor_up_path": max(up_paths, key=up_paths.get),
                "up_rows_fraction": float(np.mean(n_up)),
                "recall": tp / ntrue if ntrue else 1.0,
                "precision": tp / npred if npred else 1.0,
                "recall_fit_heldout": pred.recall,
                "predictor_rank": pred.rank,
                "predictor_fit_s": fit_s,
                "dense_up_layout": up_name,
                "dense_down_layout": down_name,
                "ms": {k: float(np.median(v)) * 1e3 for k, v in t.items()},
                "repeats": cfg["ffn_repeats"],
            }
            rows.append(row)
            log(
                f"  FFN {d_model} x {d_ff}, B {B:3d}, rho {rho:4.2f} (measured {row['density_measured']:.3f}): "
                f"no predictor {s0:5.2f} (ideal {row['ideal_no_predictor']:4.2f}); predictor {s1:5.2f} "
                f"(ideal {row['ideal_predictor']:5.2f}, up path {row['predictor_up_path']}); "
                f"masked up alone {s2:5.2f} (ideal {row['ideal_up']:5.2f}); "
                f"recall {row['recall']:.3f}, precision {row['precision']:.3f}, up density {ud:.3f}, "
                f"W_in rows read {row['up_rows_fraction']:.3f}"
            )
        log(f"    load {_loadavg()}")
    return rows


# ----------------------------------------------------------------------------- summary, check, figures


def _crossing(pts):
    """Largest density where the speed-up is >= 1, log-interpolated between measured densities (None if never)."""
    pts = sorted(pts)
    if not pts:
        return None
    best = None
    for (r0, s0), (r1, s1) in zip(pts, pts[1:]):
        if s0 >= 1 > s1:
            f = np.log(s0) / (np.log(s0) - np.log(s1))
            best = float(np.exp(np.log(r0) + f * (np.log(r1) - np.log(r0))))
    if best is None:
        best = pts[-1][0] if pts[-1][1] >= 1 else (None if pts[0][1] < 1 else pts[0][0])
    return best


def _crossing_text(x, hi, lo):
    if x is None:
        return f"< {lo:g} (dense everywhere)"
    if x >= hi:
        return f">= {hi:g} (not reached)"
    return f"{x:.3f}"


def _break_even(rows, d_model, d_ff, batch, key="speedup"):
    """Measured crossover density of ``key`` (vs dense) at one size and batch."""
    return _crossing(
        [(r["density"], r[key]) for r in rows if (r["d_model"], r["d_ff"], r["batch"]) == (d_model, d_ff, batch)]
    )


def _evaluate_check(down, threads, reference_available):
    failures = []
    for r in down:
        where = f"{r['d_model']}x{r['d_ff']} B={r['batch']} rho={r['density']}"
        pvr = r.get("project_vs_reference")
        if pvr is not None and pvr[2] < 1.0:
            failures.append(
                f"{where}: project/reference = {pvr[0]:.3f}, CI [{pvr[1]:.3f}, {pvr[2]:.3f}] wholly below 1"
            )
        a = r["auto_vs_dense_same"]
        if a[2] < 1.0 - AUTO_TOLERANCE:
            failures.append(
                f"{where}: auto/dense = {a[0]:.3f}, CI [{a[1]:.3f}, {a[2]:.3f}] wholly below {1 - AUTO_TOLERANCE:.2f} "
                f"(auto took {r['auto_path']})"
            )
    if not reference_available:
        failures.append("reference kernel not found (benchmarks/reference_kernels.py is in source checkouts only)")
    goals = []
    for r in down:
        if (r["d_model"], r["d_ff"]) != tuple(GOAL_SIZE) or threads != 1:
            continue
        if r["batch"] == 1 and GOAL_DENSITIES[0] <= r["density"] <= GOAL_DENSITIES[1]:
            goals.append({"batch": 1, "density": r["density"], "goal": goal_speedup(r["density"]), "speedup": r["speedup"]})
        g = BATCH_GOALS.get((r["batch"], r["density"]))
        if g is not None:
            goals.append({"batch": r["batch"], "density": r["density"], "goal": g, "speedup": r["speedup"]})
    for g in goals:
        g["met"] = bool(g["speedup"] >= g["goal"])
    return {
        "rule": (
            f"fail if a point's {CI_LEVEL:.0%} CI of project/reference lies wholly below 1, or the CI of "
            f"auto/dense (BLAS on the same array) lies wholly below {1 - AUTO_TOLERANCE:.2f}"
        ),
        "evaluated": bool(down),
        "passed": bool(down) and not failures,
        "failures": failures,
        "goals": goals,
        "goals_note": f"speed goals at {GOAL_SIZE[0]}x{GOAL_SIZE[1]}, one thread: machine-dependent, reported, not checked",
    }


def _figures(down, ffn_rows, cfg, threads):
    figures = []
    for d_model, d_ff in cfg["sizes"]:
        sel = [r for r in down if (r["d_model"], r["d_ff"]) == (d_model, d_ff)]
        if not sel:
            continue
        dens = sorted({r["density"] for r in sel}, reverse=True)
        bs = [B for B in cfg["batches"] if any(r["batch"] == B for r in sel)]

        def col(B, key):
            return [next((r[key] for r in sel if r["batch"] == B and r["density"] == d), None) for d in dens]

        data = {
            "density": dens,
            "speedup": {str(B): col(B, "speedup") for B in bs},
            "auto": {str(B): col(B, "speedup_auto") for B in bs},
            "reference": {str(B): col(B, "speedup_reference") for B in bs},
            "roofline_bound": {str(B): col(B, "roofline_bound") for B in bs},
            "ideal_union": {str(B): col(B, "ideal") for B in bs},
            "ideal": [1 / d for d in dens],
            "ideal_ffn": [2 / (1 + d) for d in dens],
        }
        fsel = [r for r in ffn_rows if (r["d_model"], r["d_ff"]) == (d_model, d_ff)]
        if fsel:
            data["ffn_predictor"] = {
                str(B): [next((r["speedup_predictor"] for r in fsel if r["batch"] == B and r["density"] == d), None) for d in dens]
                for B in bs
            }
        figures.append(
            {
                "kind": "speedup_vs_density",
                "title": f"Sparse down-projection speed-up vs dense BLAS, {d_model}×{d_ff} float32, {threads} thread(s)",
                "data": data,
            }
        )
    return figures


def _table(down, log):
    log("")
    log("grid (speed-up over the fastest dense BLAS layout; median of interleaved repeats):")
    log(f"{'size':>11} {'B':>4} {'rho':>5} {'u':>6} {'project':>8} {'reference':>9} {'dense same':>10} {'auto':>6} {'path':>6} {'bound':>6} {'roofline frac':>13}")
    for r in down:
        ref = f"{r['speedup_reference']:9.2f}" if r["speedup_reference"] is not None else f"{'n/a':>9}"
        frac = r["sparse_bandwidth_fraction"] if r["batch"] == 1 else r["sparse_peak_fraction"]
        unit = "BW" if r["batch"] == 1 else "peak"
        log(
            f"{r['d_model']:>5}x{r['d_ff']:<5} {r['batch']:4d} {r['density']:5.2f} {r['union_density']:6.3f} "
            f"{r['speedup']:8.2f} {ref} {r['speedup_dense_same']:10.2f} {r['speedup_auto']:6.2f} {r['auto_path']:>6} "
            f"{r['roofline_bound']:6.2f} {frac:8.2f} {unit:>4}"
        )


def _items(name, value):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a sequence; got {type(value).__name__} {value!r}")
    items = list(value)
    if not items:
        raise ValueError(f"{name} must not be empty")
    return items


def _pairs(name, value):
    items = _items(name, value)
    for i, it in enumerate(items):
        if isinstance(it, (str, bytes)) or not hasattr(it, "__len__") or len(it) != 2:
            raise TypeError(f"{name}[{i}] must be a (d_model, d_ff) pair; got {it!r}")
    return items


def _check_out_path(name, path):
    """An output file path, checked before any work: not empty, not a directory, its directory exists."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike); got {type(path).__name__}")
    if str(path) == "":
        raise ValueError(f"{name} must not be empty")
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{name} must be a file path; {str(p)!r} is a directory")
    if not p.parent.is_dir():
        raise ValueError(f"{name}'s directory {str(p.parent)!r} does not exist")
    return p


def run_benchmark(
    quick: bool = False,
    json_out=None,
    check: bool = False,
    threads: int = 1,
    *,
    sizes=None,
    batches=None,
    densities=None,
    repeats=None,
    ffn_repeats=None,
    ffn: bool = True,
    reference: bool = True,
    first_result: bool = True,
    clock: str = "cpu",
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Run the sparse-FFN benchmark and return its numbers (see the module docstring for what is timed).

    Parameters
    ----------
    quick : bool
        2048×8192 instead of 4096×16384, fewer repeats (same batch × density grid).
    json_out : str or path, optional
        Also write the result as JSON (atomically, following the umask).
    check : bool
        Evaluate the pass/fail rule (``result["check"]["passed"]``; ``main``
        exits 1 when it fails): no point's CI of project/reference wholly
        below 1, and no point's CI of auto/dense wholly below 0.95.
    threads : int
        Kernel, Numba and BLAS threads (pinned to the same value).
    sizes, batches, densities : optional overrides of the grid.
    repeats, ffn_repeats : int, optional
        Interleaved repeats per point of the down-projection and FFN grids.
    ffn : bool
        Also time the whole FFN (and the predicted up-projection) on the grid.
    reference : bool
        Time the reference "union rows" kernel (needs a source checkout).
    first_result : bool
        Also time a fresh process's first kernel result (warm cache).
    clock : {"cpu", "wall"}
        Clock behind the ratios: the calling thread's CPU time
        (``time.thread_time``) or wall-clock time (required for threads > 1).
        The wall-clock ratio of ``project`` is reported in either case.
    seed : int
        Seed for the random weights, inputs and active sets.
    verbose : bool
        Print the table as it is measured.

    Returns
    -------
    dict
        ``machine``, ``roofline``, ``down`` (one row per size, batch, density),
        ``ffn``, ``summary``, ``figures`` (kind ``speedup_vs_density``),
        ``first_result`` and ``check``.

    Examples
    --------
    >>> r = run_benchmark(sizes=[(64, 256)], batches=[1, 8], densities=[0.1], repeats=3,
    ...                   ffn=False, first_result=False, verbose=False)
    >>> sorted(r["figures"][0]["data"])[:4]
    ['auto', 'density', 'ideal', 'ideal_ffn']
    >>> r["down"][1]["auto_path"] in ("rows", "union", "dense")
    True
    """
    from .threads import kernel_threads

    from .threads import MAX_THREADS

    threads = check_int("threads", threads, min=1, max=MAX_THREADS)
    cfg = dict(QUICK if quick else FULL)
    cfg["clock"] = check_choice("clock", clock, ("cpu", "wall"))
    cfg["threads"] = threads
    if threads > 1 and clock == "cpu":
        raise ValueError("clock='cpu' measures one thread's CPU time; use clock='wall' with threads > 1")
    if sizes is not None:
        cfg["sizes"] = tuple((check_int(f"sizes[{i}][0] (d_model)", a, min=1), check_int(f"sizes[{i}][1] (d_ff)", b, min=1))
                             for i, (a, b) in enumerate(_pairs("sizes", sizes)))
    if batches is not None:
        cfg["batches"] = tuple(check_int(f"batches[{i}]", b, min=1) for i, b in enumerate(_items("batches", batches)))
    if densities is not None:
        cfg["densities"] = tuple(check_real(f"densities[{i}]", d, lo=0.0, hi=1.0, lo_open=True)
                                 for i, d in enumerate(_items("densities", densities)))
    if repeats is not None:
        cfg["repeats"] = check_int("repeats", repeats, min=1)
        cfg["ffn_repeats"] = min(cfg["ffn_repeats"], cfg["repeats"]) if ffn_repeats is None else cfg["ffn_repeats"]
    if ffn_repeats is not None:
        cfg["ffn_repeats"] = check_int("ffn_repeats", ffn_repeats, min=1)
    seed = check_int("seed", seed, min=0)
    if json_out is not None:
        json_out = _check_out_path("json_out", json_out)
    # sizes refused up front: the float32 weights (W_in, W_out and W_out^T) and the largest batch of
    # activations; then the work of every timed call (one kernel pass ~ batch x d_ff x d_model products)
    bmax = max(cfg["batches"])
    check_size_budget("sizes, batches", (cfg["sizes"], bmax), nbytes=max(16 * a * b + 16 * bmax * (a + b) for a, b in cfg["sizes"]),
                      what="the weight matrices and one batch of activations")
    per_repeat = sum(bmax * a * b for a, b in cfg["sizes"]) * len(cfg["batches"]) * len(cfg["densities"]) * 8
    check_size_budget("repeats", cfg["repeats"], iterations=(cfg["repeats"] + cfg["ffn_repeats"]) * per_repeat,
                      what="the timed kernel calls of the grid")
    log = print if verbose else (lambda *a, **k: None)
    rng = np.random.default_rng(seed)
    reference_mod = _load_reference() if reference else None
    result = {"config": dict(cfg), "quick": quick}
    t_start = time.perf_counter()
    with kernel_threads(threads):
        result["machine"] = _machine_info(threads)
        m = result["machine"]
        log(
            f"sparse FFN benchmark ({'quick' if quick else 'full'}): float32, {cfg['clock']} clock, kernel/Numba/BLAS threads "
            f"{threads}/{m['numba_threads']}/{[b['num_threads'] for b in m['blas']]} ({m['blas'][0]['internal_api'] if m['blas'] else '?'}), "
            f"{m['cpu_count']} CPUs, load average {m['loadavg']}"
        )
        if reference and reference_mod is None:
            log("  reference kernel not found (benchmarks/reference_kernels.py is in source checkouts only): column skipped")
        down, ffn_rows, roofs = [], [], {}
        for d_model, d_ff in cfg["sizes"]:
            roof, layouts, (w_out, w_out_t) = _down_grid(d_model, d_ff, cfg, rng, None, reference_mod, down, log)
            roofs[f"{d_model}x{d_ff}"] = roof
            if ffn:
                ffn_rows += _ffn_grid(d_model, d_ff, w_out, w_out_t, layouts, cfg, rng, log)
            del w_out, w_out_t
        result["machine"]["loadavg_after"] = _loadavg()
    result["roofline"] = roofs
    result["down"] = down
    result["ffn"] = ffn_rows
    result["elapsed_s"] = time.perf_counter() - t_start
    if first_result:
        result["first_result"] = _first_result_seconds()
        fr = result["first_result"]
        if "error" in fr:
            log(f"fresh process: first kernel result failed: {fr['error']}")
        else:
            log(
                f"fresh process, warm cache: first kernel result after {fr['process_wall_s']:.2f} s wall "
                f"({fr['import_to_result_s']:.2f} s from the first import; target < 1 s)"
            )
    summary = {}
    for d_model, d_ff in cfg["sizes"]:
        from .plan import crossover_density

        key = f"{d_model}x{d_ff}"
        sel = [r for r in down if (r["d_model"], r["d_ff"]) == (d_model, d_ff)]
        summary[key] = {
            "batch1_speedup": {r["density"]: r["speedup"] for r in sel if r["batch"] == 1},
            "batch8_fraction_of_ideal": {r["density"]: r["fraction_of_ideal"] for r in sel if r["batch"] == 8},
            "crossover": {
                str(B): {
                    "model": crossover_density(B, d_model, d_ff, 4, threads=threads),
                    "measured_project": _break_even(down, d_model, d_ff, B, "speedup"),
                }
                for B in cfg["batches"]
            },
            "batch64_break_even_density": _break_even(down, d_model, d_ff, 64) if 64 in cfg["batches"] else None,
        }
    result["summary"] = summary
    result["figures"] = _figures(down, ffn_rows, cfg, threads)
    result["check"] = _evaluate_check(down, threads, reference_mod is not None or not reference)
    result["check"]["requested"] = bool(check)
    if verbose:
        _table(down, log)
        for key, s in summary.items():
            log(
                f"crossover density to dense BLAS, {key}: "
                + ", ".join(
                    f"B={B}: model {c['model']:.3f}, measured "
                    + _crossing_text(c["measured_project"], max(cfg["densities"]), min(cfg["densities"]))
                    for B, c in s["crossover"].items()
                )
            )
        for g in result["check"]["goals"]:
            log(f"goal B={g['batch']} rho={g['density']}: speed-up {g['speedup']:.2f} vs goal {g['goal']:.2f}: {'met' if g['met'] else 'NOT met'}")
        log(f"elapsed {result['elapsed_s']:.0f} s; load average {result['machine']['loadavg_after']}")
    if check:
        c = result["check"]
        log("check: " + ("PASSED" if c["passed"] else "FAILED:\n  " + "\n  ".join(c["failures"])))
    if json_out is not None:
        from .._io import atomic_write_json, to_jsonable

        atomic_write_json(json_out, to_jsonable(result))
    return result


def _int_list(s):
    return [int(v) for v in s.split(",") if v]


def _float_list(s):
    return [float(v) for v in s.split(",") if v]


def _size(s):
    a, _, b = s.lower().partition("x")
    return (int(a), int(b))


def main(argv=None) -> int:
    """Command-line entry (``rmt-sparsity bench kernels ...``); returns the exit status.

    Options: ``--quick``, ``--check``, ``--json OUT``, ``--threads N``,
    ``--clock {cpu,wall}``, ``--size DxF`` (repeatable), ``--batches 1,8,...``,
    ``--densities 0.5,0.1,...``, ``--repeats N``, ``--ffn-repeats N``,
    ``--no-ffn``, ``--no-reference``, ``--no-first-result``, ``--seed N``,
    ``--quiet``. Exit status 1 when ``--check`` fails, 2 on a usage error.
    """
    import argparse

    p = argparse.ArgumentParser(prog="rmt-sparsity bench kernels", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="2048x8192 and fewer repeats (about a minute)")
    p.add_argument("--json", dest="json_out", metavar="OUT", help="write the results as JSON")
    p.add_argument("--check", action="store_true", help="exit 1 if project < reference or auto < 0.95 dense beyond the noise")
    p.add_argument("--threads", type=int, default=1, help="kernel, Numba and BLAS threads (default 1)")
    p.add_argument("--clock", choices=("cpu", "wall"), default=None, help="cpu (default for 1 thread) or wall")
    p.add_argument("--size", type=_size, action="append", metavar="DxF", help="d_model x d_ff (repeatable)")
    p.add_argument("--batches", type=_int_list, metavar="LIST", help="comma-separated batch sizes")
    p.add_argument("--densities", type=_float_list, metavar="LIST", help="comma-separated densities in (0, 1)")
    p.add_argument("--repeats", type=int, help="interleaved repeats per point (down-projection)")
    p.add_argument("--ffn-repeats", type=int, help="interleaved repeats per point (whole FFN)")
    p.add_argument("--no-ffn", dest="ffn", action="store_false", help="skip the whole-FFN grid")
    p.add_argument("--no-reference", dest="reference", action="store_false", help="skip the reference kernel")
    p.add_argument("--no-first-result", dest="first_result", action="store_false", help="skip the fresh-process timing")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights and active sets (default 0)")
    p.add_argument("--quiet", action="store_true", help="print only the check's outcome")
    args = p.parse_args(argv)
    clock = args.clock or ("cpu" if args.threads == 1 else "wall")
    try:
        res = run_benchmark(
            quick=args.quick,
            json_out=args.json_out,
            check=args.check,
            threads=args.threads,
            clock=clock,
            sizes=args.size,
            batches=args.batches,
            densities=args.densities,
            repeats=args.repeats,
            ffn_repeats=args.ffn_repeats,
            ffn=args.ffn,
            reference=args.reference,
            first_result=args.first_result,
            seed=args.seed,
            verbose=not args.quiet,
        )
    except (ValueError, TypeError) as exc:
        print(f"rmt-sparsity bench kernels: error: {exc}", file=sys.stderr)
        return 2
    if args.check and args.quiet:
        print("check: " + ("PASSED" if res["check"]["passed"] else "FAILED: " + "; ".join(res["check"]["failures"])))
    return 1 if (args.check and not res["check"]["passed"]) else 0
