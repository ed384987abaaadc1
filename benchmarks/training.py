"""Benchmark of the training loop: steps/s, scan loop against a per-step Python loop.

Model: :class:`rmt_sparsity.nn.MLP` with 4 hidden layers of width 512 (``depth=4,
width=512``, pre-LN, ReLU), d_in = 128, 10 classes, MSE, AdamW, batch 128, on a
Gaussian-mixture data set held on the device. Three arms:

* ``plain``: no noise;
* ``weight noise``: the gradient taken at W + eps, eps ~ N(0, (0.05 rms W)^2) (``sigma``, ``relative=True``);
* ``magic synapse``: per-token noise on the key layers (``noise_ratio=0.05``).

For each arm, in the same run and interleaved round by round, it times ``--chunk``
optimiser steps done by

* the compiled ``lax.scan`` loop (:meth:`Trainer.run`, what :func:`rmt_sparsity.nn.train` uses), and
* a Python loop calling the jitted single step (:meth:`Trainer.step`) ``--chunk`` times,

and reports the median steps/s of each and the median over rounds of the
paired ratio (loop time / scan time, order alternated each round so that a
drifting machine load cancels). Targets:
scan >= loop on CPU; scan >= 10x loop on a GPU. Compilation is
excluded (reported separately). The device name is printed.

Usage::

    python benchmarks/training.py                      # 4 x 512, batch 128
    python benchmarks/training.py --width 128 --repeats 5   # quick check
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time


def _pin_threads(threads):
    if "jax" in sys.modules or threads is None:
        return False
    flags = os.environ.get("XLA_FLAGS", "")
    if threads == 1 and "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
    return True


def run(width=512, depth=4, d_in=128, batch=128, chunk=20, repeats=15, threads=None, seed=0, quiet=False):
    """Time the arms; return a dict of medians (steps/s) and ratios."""
    _pin_threads(threads)
    import jax
    import jax.numpy as jnp

    from rmt_sparsity.nn import MLP, gaussian_mixture, make_optimizer, make_trainer

    dev = jax.devices()[0]
    device = f"{dev.platform}: {getattr(dev, 'device_kind', str(dev))}"
    ds = gaussian_mixture(n_train=8192, n_test=16, d=d_in, n_classes=10, rng=seed)
    x, y = jnp.asarray(ds.x_train), jnp.asarray(ds.y_train)
    arms = {
        "plain": (MLP(d_in=d_in, d_out=10, width=width, depth=depth), False),
        "weight noise": (MLP(d_in=d_in, d_out=10, width=width, depth=depth), True),
        "magic synapse": (MLP(d_in=d_in, d_out=10, width=width, depth=depth, noise_ratio=0.05), False),
    }
    hp = {"sigma": jnp.float32(0.05), "noise_ratio": jnp.float32(0.05), "cov_discount": jnp.float32(1.0)}
    opt = make_optimizer("adamw", lr=1e-3)
    prepared = {}
    for name, (model, wn) in arms.items():
        tr = make_trainer(model, opt, n_classes=10, batch_size=batch, weight_noise=wn, relative=True)
        state = tr.init(jax.random.key(seed))
        t0 = time.perf_counter()
        jax.block_until_ready(tr.run(state, hp, x, y, n_steps=chunk))
        t1 = time.perf_counter()
        jax.block_until_ready(tr.step(state, hp, x, y))
        t2 = time.perf_counter()
        prepared[name] = (tr, state, {"scan": t1 - t0, "step": t2 - t1})

    def time_scan(tr, state):
        t0 = time.perf_counter()
        jax.block_until_ready(tr.run(state, hp, x, y, n_steps=chunk))
        return time.perf_counter() - t0

    def time_loop(tr, state):
        t0 = time.perf_counter()
        s = state
        for _ in range(chunk):
            s, lv = tr.step(s, hp, x, y)
        jax.block_until_ready((s, lv))
        return time.perf_counter() - t0

    times = {name: {"scan": [], "loop": [], "paired": []} for name in arms}
    for r in range(repeats):
        for name, (tr, state, _) in prepared.items():
            # alternate the order every round so that a drifting machine load cancels in the paired ratio
            if r % 2 == 0:
                ts, tl = time_scan(tr, state), time_loop(tr, state)
            else:
                tl, ts = time_loop(tr, state), time_scan(tr, state)
            times[name]["scan"].append(ts)
            times[name]["loop"].append(tl)
            times[name]["paired"].append(tl / ts)

    n_params = sum(int(v.size) for v in jax.tree_util.tree_leaves(prepared["plain"][1]["params"]))
    out = {"device": device, "model": f"{depth} x {width} pre-LN ReLU MLP, d_in {d_in}", "n_params": n_params,
           "batch": batch, "chunk": chunk, "repeats": repeats, "load_average": os.getloadavg(), "arms": {}}
    for name in arms:
        scan = chunk / statistics.median(times[name]["scan"])
        loop = chunk / statistics.median(times[name]["loop"])
        out["arms"][name] = {"scan_steps_per_s": scan, "loop_steps_per_s": loop,
                             "scan_over_loop": statistics.median(times[name]["paired"]),
                             "compile_s": prepared[name][2]}
    plain = out["arms"]["plain"]["scan_steps_per_s"]
    for name in arms:
        out["arms"][name]["scan_vs_plain"] = out["arms"][name]["scan_steps_per_s"] / plain
    if not quiet:
        print(f"device: {device}; load average (1, 5, 15 min): {out['load_average']}")
        print(f"{out['model']}: {n_params:,} parameters, batch {batch}, {chunk} steps per timing, median of {repeats}")
        print(f"{'arm':15s} {'scan steps/s':>13s} {'loop steps/s':>13s} {'scan/loop':>10s} {'vs plain':>9s} {'compile s':>10s}")
        for name, r in out["arms"].items():
            print(f"{name:15s} {r['scan_steps_per_s']:13.1f} {r['loop_steps_per_s']:13.1f} {r['scan_over_loop']:10.2f} "
                  f"{r['scan_vs_plain']:9.2f} {r['compile_s']['scan']:10.2f}")
        goal = 10.0 if dev.platform == "gpu" else 1.0
        ok = all(r["scan_over_loop"] >= goal for r in out["arms"].values())
        print(f"goal (scan >= {goal:g} x loop on {dev.platform}): {'met' if ok else 'NOT met'}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--d-in", type=int, default=128)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--chunk", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--threads", type=int, default=None, help="pin XLA CPU threads (1 = single-threaded)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the result dict as JSON")
    args = ap.parse_args(argv)
    out = run(width=args.width, depth=args.depth, d_in=args.d_in, batch=args.batch, chunk=args.chunk,
              repeats=args.repeats, threads=args.threads, seed=args.seed, quiet=args.json)
    if args.json:
        print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
