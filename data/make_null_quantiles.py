"""Regenerate ``data/null_quantiles.json``: Monte-Carlo critical values of the claims at their own sizes.

Every spectral claim of ``rmt-sparsity verify`` judges a distance (or a seed-mean statistic)
against the quantiles of its sampling distribution under the hypothesis being judged, at
the claim's sizes and seed count (:mod:`rmt_sparsity.experiments.nulls`). Those draws take
seconds to minutes, too slow for every run, so they are precomputed here:

1. for every registered claim and every profile (``smoke``, ``quick``, ``full``), the
   claim's ``predict`` and each rival's ``predict`` run inside
   :func:`rmt_sparsity.experiments.nulls.recording`, which collects the
   :class:`~rmt_sparsity.experiments.nulls.NullSpec` each of them asks for;
2. each distinct spec (key: claim, hypothesis, statistic, sizes, number of draws) is
   simulated with its own seed, a hash of its key
   (:func:`rmt_sparsity.experiments.nulls.simulate_null`), so an entry is reproduced bit
   for bit from its key alone;
3. the quantiles at :data:`rmt_sparsity.experiments.nulls.LEVELS`, their distribution-free
   95 % order-statistic intervals, the median, mean and SD are written.

Run ``python data/make_null_quantiles.py`` (all profiles; tens of minutes on 2 cores, the
``full`` entries most of it), or with ``--profiles smoke quick`` and ``--only CLAIM ...``;
``--missing`` computes only keys absent from the file, ``--check`` recomputes and compares
instead of writing (the slow test ``tests/test_nulls.py`` does this for the smoke entries).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "null_quantiles.json")


def collect_specs(profiles, only=None):
    """The distinct null specs that the claims (and their rivals) ask for under ``profiles``."""
    from rmt_sparsity.experiments import nulls
    from rmt_sparsity.experiments.runner import registry

    specs = {}
    for cid, claim in registry().items():
        if only and cid not in only:
            continue
        for profile in profiles:
            if profile not in claim.profiles and profile != "smoke":
                # a profile the claim does not define falls back to a smaller one: same specs
                continue
            config = claim.config_for(profile)
            with nulls.recording() as rec:
                claim.predict(config)
                for rival in claim.rivals:
                    rival.predict(config)
            for spec in rec:
                specs.setdefault(spec.key, (profile, spec))
    return specs


def compute(spec) -> dict:
    """The table entry of one spec."""
    from rmt_sparsity.experiments import nulls

    t0 = time.perf_counter()
    values = nulls.simulate_null(spec)
    entry = nulls.summarize_null(values)
    entry.update(claim=spec.claim, hypothesis=spec.hypothesis, statistic=spec.statistic, sizes=dict(spec.sizes),
                 sampler=spec.sampler, seconds=round(time.perf_counter() - t0, 2))
    return entry


def write(table: dict, path: str = OUT) -> None:
    from rmt_sparsity._io import atomic_write_text
    from rmt_sparsity.experiments import nulls

    doc = {
        "generated_by": "data/make_null_quantiles.py",
        "levels": list(nulls.LEVELS),
        "note": "quantiles: conservative order statistics of the draws (upper: ceil(q (R+1)), lower: floor(q (R+1))); "
        "quantile_ci95: distribution-free 95 % interval of each quantile from the binomial law of order statistics",
        "entries": dict(sorted(table.items())),
    }
    atomic_write_text(path, json.dumps(doc, indent=1, sort_keys=False, allow_nan=False) + "\n")


def check(specs, table, rtol=1e-9) -> list[str]:
    """Recompute ``specs`` and list the keys whose quantiles differ from ``table`` (or are missing)."""
    import numpy as np

    bad = []
    for key, (_, spec) in specs.items():
        old = table.get(key)
        new = compute(spec)
        if old is None:
            bad.append(f"missing: {key}")
            continue
        for lev, q in new["quantiles"].items():
            if not np.isclose(q, old["quantiles"][lev], rtol=rtol, atol=0.0):
                bad.append(f"{key}: quantile {lev} {q!r} != {old['quantiles'][lev]!r}")
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profiles", nargs="+", default=["smoke", "quick", "full"])
    ap.add_argument("--only", nargs="+", metavar="CLAIM")
    ap.add_argument("--missing", action="store_true", help="compute only keys absent from the file")
    ap.add_argument("--check", action="store_true", help="recompute and compare instead of writing")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args(argv)

    from rmt_sparsity.experiments import nulls

    table = nulls.load_table(args.out) if os.path.isfile(args.out) else {}
    specs = collect_specs(args.profiles, args.only)
    if args.check:
        bad = check(specs, table)
        print("\n".join(bad) if bad else f"{len(specs)} entries reproduced")
        return 1 if bad else 0
    todo = {k: v for k, v in specs.items() if not (args.missing and k in table)}
    print(f"{len(specs)} null specs, {len(todo)} to compute", flush=True)
    for i, (key, (profile, spec)) in enumerate(todo.items(), 1):
        entry = compute(spec)
        table[key] = entry
        write(table, args.out)  # after each entry: an interrupted run keeps what it did
        print(f"[{i}/{len(todo)}] {profile:5s} {spec.claim} / {spec.hypothesis}: q95 {entry['quantiles']['0.95']:.5g} "
              f"({entry['draws']} draws, {entry['seconds']:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
