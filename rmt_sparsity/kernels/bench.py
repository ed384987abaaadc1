r"""Sparse-FFN speed benchmark: measured savings against dense BLAS timed in the same loop (docs/science.md §7).

Run it as ``python benchmarks/sparse_ffn.py [--quick] [--json OUT] [--check]``
or ``rmt-sparsity bench kernels ...``; :func:`run_benchmark` returns the same
numbers as a dict.

Rules (docs/science.md §7):

* a fresh random active set on every call (:func:`random_activations`,
  independent Bernoulli(ρ) neurons, so the expected union density of B rows is
  ``1 − (1 − ρ)^B``);
* dense BLAS timed in the same interleaved loop, one dense and one sparse call
  per iteration, so drifts in machine load hit both; the dense layout is the
  faster of ``h @ W_out^T`` (the array the kernel reads) and ``h @ W_out.T``
  (W_out stored (d_model, d_ff)), picked by a pilot run and printed;
* Numba, kernel and BLAS threads pinned (:func:`kernel_threads`) and printed;
* time is the calling thread's CPU time by default (``clock="cpu"``: on a
  shared machine, descheduling stretches the long dense calls more than the
  short sparse ones and would flatter the kernel); the wall-clock ratio is
  reported beside it;
* the per-iteration ratio ``t_dense / t_sparse`` is summarised by its median
  (with a bootstrap standard error of the median), the union density ``u`` is
  measured, the fraction of ideal is ``speed-up × u`` (1 = as fast as reading
  only the union rows at the dense kernel's bandwidth), and the bytes-read
  floor is ``u × t_dense`` at that bandwidth.

Whole FFN at batch 1: ``sparse_ffn`` without a predictor (ideal 2/(1+ρ)) and
with a :class:`LowRankPredictor` (ideal about 1/ρ plus the predictor's cost).
The predictor needs a predictable active set: the benchmark's inputs have a
power-law covariance spectrum ``λ_k ∝ (k + 10)^{-2}`` in a random basis
and W_in is Gaussian; the measured held-out recall and precision
are reported with the speed-up. With isotropic inputs and random weights no
low-rank predictor works, so that number depends on this assumption.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time

import numpy as np

from .._checks import check_choice, check_int, check_real

__all__ = ["run_benchmark", "main", "GOAL_DENSITIES", "goal_speedup"]

#: Densities at which the batch-1 goal (:func:`goal_speedup`) applies.
GOAL_DENSITIES = (0.05, 0.5)
#: The size (d_model, d_ff) at which the batch-1 goal applies.
GOAL_SIZE = (4096, 16384)

FULL = dict(
    sizes=((4096, 16384), (1024, 4096)),
    batches=(1, 8, 64),
    densities=(0.5, 0.2, 0.1, 0.05, 0.01),
    repeats=21,
    ffn_densities=(0.2, 0.1, 0.05),
    ffn_repeats=21,
)
QUICK = dict(
    sizes=((2048, 8192),),
    batches=(1, 8, 64),
    densities=(0.5, 0.2, 0.1, 0.05, 0.01),
    repeats=9,
    ffn_densities=(0.1,),
    ffn_repeats=9,
)


def goal_speedup(density: float) -> float:
    """The batch-1 goal: speed-up >= 0.8/ρ, i.e. 80 % of the ideal 1/ρ (docs/science.md §7)."""
    return 0.8 / density


def _median_se(x, rng, n_boot=400):
    x = np.asarray(x, dtype=float)
    if x.size < 2:
        return float(np.median(x)), float("nan")
    boots = np.median(rng.choice(x, size=(n_boot, x.size), replace=True), axis=1)
    return float(np.median(x)), float(np.std(boots, ddof=1))


def _timeit(fn):
    """(wall seconds, this thread's CPU seconds) of one call."""
    c0 = time.thread_time()
    t0 = time.perf_counter()
    fn()
    t1 = time.perf_counter()
    return t1 - t0, time.thread_time() - c0


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
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS") if k in os.environ},
    }


def _pick_layout(candidates, pilot=5):
    """Name of the fastest of ``{name: fn}`` by median of ``pilot`` interleaved calls."""
    times = {k: [] for k in candidates}
    for _ in range(pilot):
        for k, fn in candidates.items():
            times[k].append(_timeit(fn)[1])
    med = {k: float(np.median(v)) for k, v in times.items()}
    return min(med, key=med.get), med


def _down_rows_for_size(d_model, d_ff, cfg, rng, out, log):
    from .sparse import down_plan, random_activations, sparse_down

    ci = 1 if cfg["clock"] == "cpu" else 0

    dt = np.float32
    w_out = rng.standard_normal((d_model, d_ff), dtype=dt)
    w_out_t = np.ascontiguousarray(w_out.T)
    nbytes = w_out_t.nbytes
    rows = []
    for B in cfg["batches"]:
        h0 = random_activations(B, d_ff, 0.1, rng=rng)
        y = np.empty((B, d_model), dt)
        layout, pilot = _pick_layout(
            {
                "h @ w_out_t": lambda: np.matmul(h0, w_out_t, out=y),
                "h @ w_out.T": lambda: np.matmul(h0, w_out.T, out=y),
            }
        )
        dense_w = w_out_t if layout == "h @ w_out_t" else w_out.T
        sparse_down(h0, w_out_t)  # compile / load from cache
        sparse_down(h0[0], w_out_t)
        log(f"  d_model x d_ff = {d_model} x {d_ff}, batch {B}: dense layout {layout!r} "
            f"(pilot medians {', '.join(f'{k}: {v * 1e3:.2f} ms' for k, v in pilot.items())})")
        for rho in cfg["densities"]:
            td, ts, ratio, ratio_wall, un, methods = [], [], [], [], [], {}
            for _ in range(cfg["repeats"]):
                h = random_activations(B, d_ff, rho, rng=rng)  # fresh active set, not timed
                t_d = _timeit(lambda: np.matmul(h, dense_w, out=y))
                t_s = _timeit(lambda: sparse_down(h[0] if B == 1 else h, w_out_t))  # the plain user call
                plan = down_plan(h)  # not timed
                td.append(t_d[ci])
                ts.append(t_s[ci])
                ratio.append(t_d[ci] / t_s[ci])
                ratio_wall.append(t_d[0] / t_s[0])
                un.append(plan["union_density"])
                methods[plan["method"]] = methods.get(plan["method"], 0) + 1
            sp, se = _median_se(ratio, rng)
            sp_wall, _ = _median_se(ratio_wall, rng)
            u = float(np.mean(un))
            t_dense = float(np.median(td))
            t_sparse = float(np.median(ts))
            row = {
                "d_model": d_model,
                "d_ff": d_ff,
                "batch": B,
                "density": rho,
                "union_density": u,
                "union_density_independent": 1 - (1 - rho) ** B,
                "speedup": sp,
                "speedup_se": se,
                "speedup_wall": sp_wall,
                "clock": cfg["clock"],
                "ideal": 1 / u if u > 0 else float("inf"),
                "fraction_of_ideal": sp * u,
                "dense_ms": t_dense * 1e3,
                "sparse_ms": t_sparse * 1e3,
                "floor_ms": u * t_dense * 1e3,
                "dense_GBps": nbytes / t_dense / 1e9,
                "sparse_GBps": u * nbytes / t_sparse / 1e9,
                "method": max(methods, key=methods.get),
                "dense_layout": layout,
                "repeats": cfg["repeats"],
            }
            rows.append(row)
            log(
                f"    rho {rho:5.2f}  union {u:5.3f}  speed-up {sp:7.2f} ± {se:5.2f}  ideal {row['ideal']:7.2f}  "
                f"fraction {row['fraction_of_ideal']:5.2f}  (wall-clock speed-up {sp_wall:7.2f})  dense {row['dense_ms']:8.3f} ms  sparse {row['sparse_ms']:8.3f} ms  "
                f"floor {row['floor_ms']:8.3f} ms  ({row['sparse_GBps']:5.1f} vs {row['dense_GBps']:5.1f} GB/s, {row['method']})"
            )
    out.extend(rows)
    return w_out, w_out_t


def _ffn_for_size(d_model, d_ff, w_out, w_out_t, cfg, rng, log):
    from .predictor import fit_predictor
    from .sparse import sparse_ffn

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
    rows = []
    for rho in cfg["ffn_densities"]:
        b_in = (-np.quantile(h_sample, 1 - rho, axis=0)).astype(dt)  # each neuron fires at rate rho
        t0 = time.perf_counter()
        pred = fit_predictor(sample, w_in, b_in, rank=rank, target_recall=0.99, rng=rng)
        fit_s = time.perf_counter() - t0
        x0 = draw(1)[0]
        a_buf = np.empty(d_ff, dt)
        y = np.empty(d_model, dt)

        def dense_ffn(x, up):
            h = up(x)
            h += b_in
            np.maximum(h, 0, out=a_buf)
            return np.matmul(a_buf, w_out_t, out=y)

        up_layout, _ = _pick_layout(
            {"w_in @ x": lambda: dense_ffn(x0, lambda x: w_in @ x), "x @ w_in_t": lambda: dense_ffn(x0, lambda x: x @ w_in_t)}
        )
        up = (lambda x: w_in @ x) if up_layout == "w_in @ x" else (lambda x: x @ w_in_t)
        sparse_ffn(x0, w_in, b_in, w_out_t, "relu")
        sparse_ffn(x0, w_in, b_in, w_out_t, "relu", predictor=pred)
        r_nopred, r_pred, tp, npred, ntrue, nup = [], [], 0, 0, 0, []
        for _ in range(cfg["ffn_repeats"]):
            x = draw(1)[0]
            t_d = _timeit(lambda: dense_ffn(x, up))
            t_s = _timeit(lambda: sparse_ffn(x, w_in, b_in, w_out_t, "relu"))
            res = {}
            t_p = _timeit(lambda: res.setdefault("r", sparse_ffn(x, w_in, b_in, w_out_t, "relu", predictor=pred, return_info=True)))
            r_nopred.append(t_d[ci] / t_s[ci])
            r_pred.append(t_d[ci] / t_p[ci])
            nup.append(res["r"][1]["n_up"] / d_ff)
            true = (w_in @ x + b_in) > 0
            m = pred.predict_mask(x)
            tp += int(np.count_nonzero(true & m))
            npred += int(np.count_nonzero(m))
            ntrue += int(np.count_nonzero(true))
        s0, se0 = _median_se(r_nopred, rng)
        s1, se1 = _median_se(r_pred, rng)
        row = {
            "d_model": d_model,
            "d_ff": d_ff,
            "batch": 1,
            "density": rho,
            "speedup_no_predictor": s0,
            "speedup_no_predictor_se": se0,
            "ideal_no_predictor": 2 / (1 + rho),
            "speedup_predictor": s1,
            "speedup_predictor_se": se1,
            "density_measured": ntrue / (cfg["ffn_repeats"] * d_ff),
            "recall": tp / ntrue if ntrue else 1.0,
            "precision": tp / npred if npred else 1.0,
            "recall_fit_heldout": pred.recall,
            "predictor_rank": pred.rank,
            "up_rows_fraction": float(np.mean(nup)),
            "ideal_predictor": 2 / (float(np.mean(nup)) + rho + pred.rank * (d_model + d_ff) / (d_model * d_ff)),
            "predictor_fit_s": fit_s,
            "dense_up_layout": up_layout,
        }
        rows.append(row)
        log(
            f"  FFN {d_model} x {d_ff}, batch 1, rho {rho:4.2f} (measured {row['density_measured']:.3f}): no predictor {s0:5.2f} ± {se0:4.2f} "
            f"(ideal {row['ideal_no_predictor']:4.2f});  predictor rank {pred.rank}: {s1:5.2f} ± {se1:4.2f} "
            f"(ideal {row['ideal_predictor']:5.2f}), recall {row['recall']:.4f}, precision {row['precision']:.3f}, "
            f"W_in rows read {row['up_rows_fraction']:.3f}"
        )
    return rows


def _break_even(rows, d_model, d_ff, batch):
    """Largest density where sparse >= dense, log-interpolated between measured densities (None if never)."""
    pts = sorted((r["density"], r["speedup"]) for r in rows if (r["d_model"], r["d_ff"], r["batch"]) == (d_model, d_ff, batch))
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
    ffn: bool = True,
    first_result: bool = True,
    clock: str = "cpu",
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Run the sparse-FFN benchmark and return its numbers.

    Parameters
    ----------
    quick : bool
        Smaller sizes (2048×8192) and fewer repeats (about half a minute).
    json_out : str or path, optional
        Also write the result as JSON (atomically).
    check : bool
        Evaluate the batch-1 goal (speed-up >= 0.8/ρ for 5 % <= ρ <= 50 % at
        4096×16384; that size is measured at batch 1 even when the profile
        does not include it); ``check["passed"]`` says whether it held
        (``main`` exits 1 if not).
    threads : int
        Kernel, Numba and BLAS threads (pinned to the same value).
    sizes, batches, densities, repeats : optional overrides of the profile.
    ffn : bool
        Also time the whole FFN without and with the predictor.
    first_result : bool
        Also time a fresh process's first kernel result (warm cache).
    clock : {"cpu", "wall"}
        Clock behind ``speedup``: the calling thread's CPU time
        (``time.thread_time``, immune to the process being descheduled on a
        shared, loaded machine, which otherwise stretches the long dense calls
        more than the short sparse ones) or wall-clock time. Both ratios are
        reported (``speedup_wall``); on an idle machine they agree.
    seed : int
        Seed for the random weights and active sets.
    verbose : bool
        Print the table as it is measured.

    Returns
    -------
    dict
        ``machine``, ``down`` (one row per size, batch, density), ``ffn``,
        ``summary``, ``figures`` (plain data, kind ``speedup_vs_density``),
        ``first_result`` and ``check``.

    Examples
    --------
    >>> r = run_benchmark(sizes=[(64, 256)], batches=[1], densities=[0.1], repeats=3,
    ...                   ffn=False, first_result=False, verbose=False)
    >>> sorted(r["figures"][0]["data"])
    ['density', 'ideal', 'ideal_ffn', 'speedup']
    """
    from .threads import kernel_threads

    threads = check_int("threads", threads, min=1)
    cfg = dict(QUICK if quick else FULL)
    cfg["clock"] = check_choice("clock", clock, ("cpu", "wall"))
    if threads > 1 and clock == "cpu":
        raise ValueError("clock='cpu' measures one thread's CPU time; use clock='wall' with threads > 1")
    if sizes is not None:
        cfg["sizes"] = tuple((check_int("d_model", a, min=1), check_int("d_ff", b, min=1)) for a, b in sizes)
    if batches is not None:
        cfg["batches"] = tuple(check_int("batch", b, min=1) for b in batches)
    if densities is not None:
        cfg["densities"] = tuple(check_real("density", d, lo=0.0, hi=1.0, lo_open=True) for d in densities)
        cfg["ffn_densities"] = tuple(d for d in cfg["densities"] if d < 1)[:1] or (0.1,)
    if repeats is not None:
        cfg["repeats"] = cfg["ffn_repeats"] = check_int("repeats", repeats, min=1)
    log = print if verbose else (lambda *a, **k: None)
    rng = np.random.default_rng(seed)
    result = {"config": {k: v for k, v in cfg.items()}, "quick": quick}
    with kernel_threads(threads):
        result["machine"] = _machine_info(threads)
        m = result["machine"]
        log(
            f"sparse FFN benchmark ({'quick' if quick else 'full'}): float32, {cfg['clock']} clock, kernel/Numba/BLAS threads "
            f"{threads}/{m['numba_threads']}/{[b['num_threads'] for b in m['blas']]} ({m['blas'][0]['internal_api'] if m['blas'] else '?'}), "
            f"{m['cpu_count']} CPUs, load average {m['loadavg']}"
        )
        down, ffn_rows = [], []
        for d_model, d_ff in cfg["sizes"]:
            w_out, w_out_t = _down_rows_for_size(d_model, d_ff, cfg, rng, down, log)
            if ffn:
                ffn_rows += _ffn_for_size(d_model, d_ff, w_out, w_out_t, cfg, rng, log)
            del w_out, w_out_t
        if check and tuple(GOAL_SIZE) not in {tuple(sz) for sz in cfg["sizes"]}:
            log(f"  --check: the goal applies at {GOAL_SIZE[0]} x {GOAL_SIZE[1]}, batch 1; measuring it too")
            goal_cfg = dict(cfg, batches=(1,), densities=(0.5, 0.2, 0.1, 0.05))
            _down_rows_for_size(*GOAL_SIZE, goal_cfg, rng, down, log)
        result["machine"]["loadavg_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    result["down"] = down
    result["ffn"] = ffn_rows
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
    # summary
    summary = {}
    figures = []
    for d_model, d_ff in cfg["sizes"]:
        key = f"{d_model}x{d_ff}"
        sel = [r for r in down if (r["d_model"], r["d_ff"]) == (d_model, d_ff)]
        b1 = {r["density"]: r["speedup"] for r in sel if r["batch"] == 1}
        b8 = {r["density"]: r["fraction_of_ideal"] for r in sel if r["batch"] == 8}
        summary[key] = {
            "batch1_speedup": b1,
            "batch8_fraction_of_ideal": b8,
            "batch64_break_even_density": _break_even(down, d_model, d_ff, 64) if 64 in cfg["batches"] else None,
        }
        dens = sorted({r["density"] for r in sel}, reverse=True)
        figures.append(
            {
                "kind": "speedup_vs_density",
                "title": f"Sparse down-projection speed-up vs dense BLAS, {d_model}×{d_ff} float32, {threads} thread(s)",
                "data": {
                    "density": dens,
                    "speedup": {
                        str(B): [next(r["speedup"] for r in sel if r["batch"] == B and r["density"] == d) for d in dens]
                        for B in cfg["batches"]
                    },
                    "ideal": [1 / d for d in dens],
                    "ideal_ffn": [2 / (1 + d) for d in dens],
                },
            }
        )
    result["summary"] = summary
    result["figures"] = figures
    # goal check: batch 1, 0.05 <= rho <= 0.5, at GOAL_SIZE (measured whenever check is requested)
    goal_rows = [
        r
        for r in down
        if (r["d_model"], r["d_ff"]) == tuple(GOAL_SIZE) and r["batch"] == 1 and GOAL_DENSITIES[0] <= r["density"] <= GOAL_DENSITIES[1]
    ]
    failures = [
        {"size": f"{r['d_model']}x{r['d_ff']}", "density": r["density"], "speedup": r["speedup"], "goal": goal_speedup(r["density"])}
        for r in goal_rows
        if r["speedup"] < goal_speedup(r["density"])
    ]
    result["check"] = {
        "requested": bool(check),
        "goal": f"batch-1 speed-up >= 0.8/rho for 5% <= rho <= 50% at {GOAL_SIZE[0]}x{GOAL_SIZE[1]}, {threads} thread(s)",
        "evaluated": bool(goal_rows),
        "passed": bool(goal_rows) and not failures,
        "failures": failures,
    }
    if check:
        log("check: " + ("PASSED" if result["check"]["passed"] else f"FAILED at {failures}"))
    if json_out is not None:
        from .._io import atomic_write_json, to_jsonable

        atomic_write_json(json_out, to_jsonable(result), indent=1)  # atomic, and readable by others (umask)
    return result


def main(argv=None) -> int:
    """Command-line entry: ``[--quick] [--json OUT] [--check] [--threads N]``; returns the exit status."""
    import argparse

    p = argparse.ArgumentParser(prog="rmt-sparsity bench kernels", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (~30 s)")
    p.add_argument("--json", dest="json_out", metavar="OUT", help="write the results as JSON")
    p.add_argument("--check", action="store_true", help="exit 1 if the batch-1 goal (>= 0.8/rho, 5-50%%) is missed")
    p.add_argument("--threads", type=int, default=1, help="kernel, Numba and BLAS threads (default 1)")
    p.add_argument("--clock", choices=("cpu", "wall"), default=None, help="cpu (default for 1 thread) or wall")
    args = p.parse_args(argv)
    clock = args.clock or ("cpu" if args.threads == 1 else "wall")
    res = run_benchmark(quick=args.quick, json_out=args.json_out, check=args.check, threads=args.threads, clock=clock)
    return 1 if (args.check and not res["check"]["passed"]) else 0
