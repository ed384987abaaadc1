"""Benchmark of vectorised ensembles: model-steps/s of K members in one program vs K sequential runs.

Model: :class:`rmt_sparsity.nn.MLP` (pre-LN ReLU, ``--depth`` key layers of width
``--widths``), d_in = 64, 10 classes, MSE, AdamW, batch ``--batch``, relative
weight noise at the gradient point with a different sigma per member (the
seeds × noise-level use case), on a Gaussian-mixture data set held once on the
device. Per width, in the same run and interleaved round by round, it times
``--steps`` optimiser steps of

* the single-model program ``jit(scan(step))`` (:meth:`Trainer.run`, what
  :func:`rmt_sparsity.nn.train` runs): time :math:`t_1`;
* the ensemble program ``jit(vmap(scan(step)))`` of
  :func:`rmt_sparsity.nn.train_ensemble` for each K: time :math:`t_K`;

and reports the median model-steps/s :math:`K\\cdot\\text{steps}/t_K`, the speed-up
over K sequential single-model runs :math:`K t_1 / t_K` (median over rounds of the
paired ratio; the round order alternates so that drifting machine load cancels)
and K = 64 over K = 1 in model-steps/s. Compilation is excluded (reported
separately). A last table times the user-level calls end to end: K calls of
:func:`rmt_sparsity.nn.train` against one :func:`rmt_sparsity.nn.train_ensemble`
(width 128, probes and evaluations every 20 steps; both compiled first), which
adds the per-call overheads (validation, initialisation, evaluation, probes)
that the ensemble shares. The device name is printed. Targets: >= 1.5x at K = 16,
width 128 on 2 CPU cores; >= 30x model-steps/s at K = 64 over K = 1 on a GPU.

Usage::

    python benchmarks/ensemble.py                 # widths 128, 512; K = 1, 4, 16, 64
    python benchmarks/ensemble.py --quick         # width 128; K = 1, 4, 16; few steps (CPU check)
    python benchmarks/ensemble.py --depth 4 --steps 50 --repeats 7   # the 4 x 512 GPU setting
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time


def _end_to_end(ds, depth, d_in, batch, k, seed, repeats, quiet, width=128, steps=40, eval_every=20):
    """Wall time of ``k`` calls of :func:`train` against one :func:`train_ensemble` of ``k`` members (compiled, probes on)."""
    import jax

    from rmt_sparsity.nn import MLP, train, train_ensemble

    model = MLP(d_in=d_in, d_out=10, width=width, depth=depth)
    keys = jax.random.split(jax.random.key(seed), k)
    sig = [0.1 * j / max(k - 1, 1) for j in range(k)]
    kw = dict(steps=steps, eval_every=eval_every, batch_size=batch, relative=True, quiet=True, probe_size=256)

    def seq():
        t0 = time.perf_counter()
        for j in range(k):
            jax.block_until_ready(train(model, ds, key=keys[j], sigma=sig[j], **kw).params)
        return time.perf_counter() - t0

    def ens():
        t0 = time.perf_counter()
        jax.block_until_ready(train_ensemble(model, ds, keys=keys, sigma=sig, **kw).params)
        return time.perf_counter() - t0

    seq(), ens()  # compile both
    ratios, ts, te = [], [], []
    for r in range(repeats):
        if r % 2 == 0:
            a, b = seq(), ens()
        else:
            b, a = ens(), seq()
        ts.append(a)
        te.append(b)
        ratios.append(a / b)
    res = {"width": width, "K": k, "steps": steps, "eval_every": eval_every, "sequential_s": statistics.median(ts),
           "ensemble_s": statistics.median(te), "speedup": statistics.median(ratios)}
    if not quiet:
        print(f"\nend to end (train x {k} vs train_ensemble, width {width}, {steps} steps, probes every {eval_every}): "
              f"{res['sequential_s']:.2f} s vs {res['ensemble_s']:.2f} s, {res['speedup']:.2f}x")
    return res


def run(widths=(128, 512), ks=(1, 4, 16, 64), depth=2, d_in=64, batch=128, steps=10, repeats=5, seed=0, quiet=False,
        e2e_k=16):
    """Time the programs; return a dict of results per width and K."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from rmt_sparsity.nn import MLP, gaussian_mixture
    from rmt_sparsity.nn._train import _cached_programs

    dev = jax.devices()[0]
    device = f"{dev.platform}: {getattr(dev, 'device_kind', str(dev))}"
    ds = gaussian_mixture(n_train=4096, n_test=16, d=d_in, n_classes=10, rng=seed)
    x, y = jnp.asarray(ds.x_train), jnp.asarray(ds.y_train)
    out = {"device": device, "depth": depth, "d_in": d_in, "batch": batch, "steps": steps, "repeats": repeats,
           "load_average_at_start": os.getloadavg(), "widths": {}}
    if not quiet:
        print(f"device: {device}; load average (1, 5, 15 min): {out['load_average_at_start']}")
        print(f"{depth} x width pre-LN ReLU MLP, d_in {d_in}, AdamW, batch {batch}, relative weight noise; "
              f"{steps} steps per timing, median of {repeats} rounds")
    for width in widths:
        model = MLP(d_in=d_in, d_out=10, width=width, depth=depth)
        progs = _cached_programs(model, "adamw", loss="mse", n_classes=10, batch_size=batch, weight_noise=True,
                                 relative=True, track_covariance=False)
        tr = progs.trainer
        hp1 = {"sigma": jnp.float32(0.05), "noise_ratio": jnp.float32(0), "cov_discount": jnp.float32(1)}
        s1 = tr.init(jax.random.key(seed))
        t0 = time.perf_counter()
        jax.block_until_ready(tr.run(s1, hp1, x, y, n_steps=steps))
        compile_s = {1: time.perf_counter() - t0}
        ens = {}
        for k in ks:
            keys = jax.random.split(jax.random.key(seed), k)
            sk = progs.vinit(keys, None, stacked=False)
            hpk = {"sigma": jnp.linspace(0.0, 0.1, k, dtype=jnp.float32), "noise_ratio": jnp.zeros(k, jnp.float32),
                   "cov_discount": jnp.ones(k, jnp.float32)}
            t0 = time.perf_counter()
            jax.block_until_ready(progs.vrun(sk, hpk, x, y, n_steps=steps))
            compile_s[f"K={k}"] = time.perf_counter() - t0
            ens[k] = (sk, hpk)

        def time_single():
            t0 = time.perf_counter()
            jax.block_until_ready(tr.run(s1, hp1, x, y, n_steps=steps))
            return time.perf_counter() - t0

        def time_ens(k):
            sk, hpk = ens[k]
            t0 = time.perf_counter()
            jax.block_until_ready(progs.vrun(sk, hpk, x, y, n_steps=steps))
            return time.perf_counter() - t0

        t1s, tks, paired = [], {k: [] for k in ks}, {k: [] for k in ks}
        for r in range(repeats):
            order = list(ks) if r % 2 == 0 else list(ks)[::-1]
            for k in order:
                if r % 2 == 0:
                    a, b = time_single(), time_ens(k)
                else:
                    b, a = time_ens(k), time_single()
                t1s.append(a)
                tks[k].append(b)
                paired[k].append(k * a / b)
        t1 = statistics.median(t1s)
        rows = {}
        for k in ks:
            tk = statistics.median(tks[k])
            rows[k] = {"model_steps_per_s": k * steps / tk, "vs_sequential": statistics.median(paired[k]),
                       "time_s": tk}
        single_rate = steps / t1
        n_params = int(sum(np.prod(v.shape) for v in jax.tree_util.tree_leaves(s1["params"])))
        w = {"n_params": n_params, "single_model_steps_per_s": single_rate, "compile_s": compile_s,
             "K": {str(k): v for k, v in rows.items()}}
        if 1 in rows and max(ks) > 1:
            w[f"K{max(ks)}_over_K1"] = rows[max(ks)]["model_steps_per_s"] / rows[1]["model_steps_per_s"]
        out["widths"][str(width)] = w
        if not quiet:
            print(f"\nwidth {width} ({n_params:,} parameters per model); single model (train's program): "
                  f"{single_rate:,.1f} steps/s")
            print(f"{'K':>4s} {'model-steps/s':>14s} {'vs K sequential':>16s} {'compile s':>10s}")
            for k in ks:
                r = rows[k]
                print(f"{k:4d} {r['model_steps_per_s']:14,.1f} {r['vs_sequential']:15.2f}x {compile_s[f'K={k}']:10.2f}")
            if f"K{max(ks)}_over_K1" in w:
                print(f"K = {max(ks)} over K = 1 (model-steps/s): {w[f'K{max(ks)}_over_K1']:.1f}x")
    if e2e_k:
        out["end_to_end"] = _end_to_end(ds, depth, d_in, batch, e2e_k, seed, repeats, quiet)
    if not quiet:
        gpu = dev.platform == "gpu"
        if gpu and "512" in out["widths"] and "K64_over_K1" in out["widths"]["512"]:
            v = out["widths"]["512"]["K64_over_K1"]
            print(f"\ngoal (GPU: K = 64 >= 30 x K = 1, width 512): {v:.1f}x, {'met' if v >= 30 else 'NOT met'}")
        elif not gpu and "128" in out["widths"] and "16" in out["widths"]["128"]["K"]:
            v = out["widths"]["128"]["K"]["16"]["vs_sequential"]
            print(f"\ngoal (CPU: K = 16 >= 1.5 x sequential, width 128): {v:.2f}x, {'met' if v >= 1.5 else 'NOT met'}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--widths", type=int, nargs="+", default=None)
    ap.add_argument("--ks", type=int, nargs="+", default=None, help="ensemble sizes (default 1 4 16 64)")
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--d-in", type=int, default=64)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=None, help="optimiser steps per timing (default 10; 5 with --quick)")
    ap.add_argument("--repeats", type=int, default=None, help="timing rounds (default 5; 3 with --quick)")
    ap.add_argument("--quick", action="store_true", help="width 128, K = 1, 4, 16, few steps: the CPU check")
    ap.add_argument("--end-to-end", type=int, default=16, metavar="K",
                    help="also time K train() calls against one train_ensemble (probes on; 0 = skip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the result dict as JSON")
    args = ap.parse_args(argv)
    widths = args.widths or ([128] if args.quick else [128, 512])
    ks = args.ks or ([1, 4, 16] if args.quick else [1, 4, 16, 64])
    steps = args.steps or (5 if args.quick else 10)
    repeats = args.repeats or (3 if args.quick else 5)
    out = run(widths=tuple(widths), ks=tuple(ks), depth=args.depth, d_in=args.d_in, batch=args.batch, steps=steps,
              repeats=repeats, seed=args.seed, quiet=args.json, e2e_k=args.end_to_end)
    if args.json:
        print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
