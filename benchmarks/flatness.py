"""Benchmark of the flatness measures: cost in gradient-equivalents.

On a ReLU MLP with 4 hidden layers of width 512 (d_in = 128, d_out = 10, biases;
~0.86 M parameters; ReLU written ``jnp.maximum(h, 0)`` so that every method
applies) and an MSE loss on a batch of 256 examples, it times, in the same run
and interleaved round by round:

* the baseline: one jitted ``jax.value_and_grad`` of the loss;
* one Hessian-vector product (:func:`rmt_sparsity.flatness.hvp`, jitted);
* :func:`hutchinson_trace` with 20 probes: ``method="hvp"`` (forward-over-reverse) with
  the default ``chunk=1`` (sequential) and all 20 vectorised; ``method="forward"``
  (forward-over-forward second directional derivatives); ``method="taylor"``
  (second-order Taylor mode, ``jax.experimental.jet``);
* :func:`lanczos` (k = 1, 20 steps), :func:`slq_density` (1 run, 20 steps);
* :func:`noise_sharpness` (20 antithetic draws = 40 loss evaluations);
* :func:`sam_sharpness` (one gradient + one loss).

Each figure is the median wall time over ``--repeats`` rounds divided by the
median gradient time (steady state: every function is compiled and warmed up
first; compile times are reported separately). The target is
Hutchinson with 20 probes in at most 30 gradient-equivalents.

XLA's CPU thread pool is pinned to ``--threads`` (default 1) through
``XLA_FLAGS`` when JAX has not been imported yet.

Usage::

    python benchmarks/flatness.py --repeats 5
    python benchmarks/flatness.py --width 128 --repeats 3      # quick check on a loaded machine
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time


def _pin_threads(threads):
    if "jax" in sys.modules:
        return False
    flags = os.environ.get("XLA_FLAGS", "")
    if threads == 1 and "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
    return True


def run(width=512, depth=4, d_in=128, d_out=10, batch=256, probes=20, iters=20, samples=20, repeats=5,
        threads=1, seed=0, quiet=False):
    """Run the benchmark; return a dict of times (s), gradient-equivalents and compile times."""
    pinned = _pin_threads(threads)
    import jax
    import jax.numpy as jnp
    import numpy as np

    from rmt_sparsity.flatness import (
        hutchinson_trace,
        hvp,
        lanczos,
        noise_sharpness,
        num_params,
        sam_sharpness,
        slq_density,
    )

    rng = np.random.default_rng(seed)
    sizes = [d_in] + [width] * depth + [d_out]
    params = [
        {"w": jnp.asarray(rng.standard_normal((o, i)) / np.sqrt(i), jnp.float32), "b": jnp.zeros(o, jnp.float32)}
        for i, o in zip(sizes[:-1], sizes[1:])
    ]  # weights stored (out, in)
    data = (jnp.asarray(rng.standard_normal((batch, d_in)), jnp.float32),
            jnp.asarray(rng.standard_normal((batch, d_out)), jnp.float32))

    def loss(p, b):
        h = b[0]
        for i, layer in enumerate(p):
            h = h @ layer["w"].T + layer["b"]
            if i < len(p) - 1:
                h = jnp.maximum(h, 0.0)  # ReLU without custom_jvp, so Taylor mode (jet) applies
        return 0.5 * jnp.mean(jnp.sum(jnp.square(h - b[1]), axis=-1))

    key = jax.random.key(seed + 1)
    grad = jax.jit(jax.value_and_grad(loss))
    hvp_j = jax.jit(lambda p, b, v: hvp(loss, p, b, v))
    vec = jax.tree_util.tree_map(jnp.ones_like, params)

    def block(x):
        jax.tree_util.tree_map(lambda a: a.block_until_ready() if hasattr(a, "block_until_ready") else a, x)
        return x

    cases = {
        "gradient (baseline)": lambda: grad(params, data),
        "hvp (one product)": lambda: hvp_j(params, data, vec),
        f"hutchinson {probes} probes (hvp, default)": lambda: hutchinson_trace(loss, params, data, key=key,
                                                                              probes=probes),
        f"hutchinson {probes} probes (hvp, all vectorised)": lambda: hutchinson_trace(loss, params, data, key=key,
                                                                                     probes=probes, chunk=probes),
        f"hutchinson {probes} probes (forward)": lambda: hutchinson_trace(loss, params, data, key=key,
                                                                         probes=probes, method="forward"),
        f"hutchinson {probes} probes (taylor)": lambda: hutchinson_trace(loss, params, data, key=key,
                                                                        probes=probes, method="taylor"),
        f"lanczos k=1, {iters} steps": lambda: lanczos(loss, params, data, key=key, k=1, iters=iters),
        f"slq 1 run, {iters} steps": lambda: slq_density(loss, params, data, key=key, iters=iters, runs=1),
        f"noise_sharpness {samples} antithetic draws": lambda: noise_sharpness(loss, params, data, key=key, sigma=1e-3,
                                                                               samples=samples),
        "sam_sharpness": lambda: sam_sharpness(loss, params, data, rho=0.05),
    }
    compile_s = {}
    for name, fn in cases.items():  # compile + warm up
        t0 = time.perf_counter()
        block(fn())
        compile_s[name] = time.perf_counter() - t0
        block(fn())
    times = {name: [] for name in cases}
    for _ in range(repeats):  # interleaved rounds: load changes hit every case alike
        for name, fn in cases.items():
            t0 = time.perf_counter()
            block(fn())
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    g = med["gradient (baseline)"]
    out = {
        "model": f"MLP {depth} hidden layers x {width}, d_in={d_in}, d_out={d_out}, ReLU, MSE",
        "n_params": num_params(params),
        "batch": batch,
        "threads": threads if pinned else "unpinned (jax imported before the benchmark)",
        "device": str(jax.devices()[0]),
        "repeats": repeats,
        "load_average": os.getloadavg(),
        "median_s": med,
        "gradient_equivalents": {k: v / g for k, v in med.items()},
        "compile_and_first_call_s": compile_s,
        "goal": f"hutchinson {probes} probes <= 30 gradient-equivalents",
    }
    h = out["gradient_equivalents"][f"hutchinson {probes} probes (hvp, default)"]
    hf = out["gradient_equivalents"][f"hutchinson {probes} probes (forward)"]
    ht = out["gradient_equivalents"][f"hutchinson {probes} probes (taylor)"]
    out["goal_met"] = {"hvp (default)": bool(h <= 30.0), "forward": bool(hf <= 30.0), "taylor": bool(ht <= 30.0)}
    if not quiet:
        print(f"{out['model']}: n = {out['n_params']:,} parameters, batch {batch}, threads {out['threads']}, "
              f"{out['device']}, median of {repeats}; load average (1, 5, 15 min): {out['load_average']}")
        print(f"{'measure':45s} {'median ms':>10s} {'grad-equiv':>11s} {'compile s':>10s}")
        for k in cases:
            print(f"{k:45s} {1e3 * med[k]:10.2f} {med[k] / g:11.2f} {compile_s[k]:10.2f}")
        verdict = lambda v: f"{'met' if v <= 30 else 'NOT met'} ({v:.1f})"  # noqa: E731
        print(f"goal (Hutchinson {probes} probes <= 30 gradient-equivalents): method='hvp' {verdict(h)}; "
              f"'forward' {verdict(hf)}; 'taylor' {verdict(ht)}")
    return out


def main(argv=None):
    """Command-line entry point (``python benchmarks/flatness.py --help``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--d-in", type=int, default=128)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--probes", type=int, default=20)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="XLA CPU threads (1 pins; 0 leaves XLA's default)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the result dict as JSON")
    args = ap.parse_args(argv)
    out = run(width=args.width, depth=args.depth, d_in=args.d_in, batch=args.batch, probes=args.probes,
              iters=args.iters, samples=args.samples, repeats=args.repeats, threads=args.threads, seed=args.seed,
              quiet=args.json)
    if args.json:
        print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
