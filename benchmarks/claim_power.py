"""Power and calibration of the verify claims: each rival's failure rate, and the theory's, over many seeds.

For every claim with rivals (by default the RMT and flatness claims; trained-network and
performance claims with ``--only``), run the claim with run seeds ``0 .. N-1`` at a profile
and count

* how often each **rival** fails under the claim's rule on the claim's measurement: the
  claim's *power* against that rival (the brief asks >= 80 % at the quick size);
* how often the **theory** fails: its false-fail rate where the theory is the truth (the
  rules are built so that this is at most their level alpha, up to the finite-size error of
  a limit law), and how often it passes / is inconclusive;

each with its exact (Clopper-Pearson) 95 % interval. The load average is printed before
and after (timings are informative only). Results are also written as JSON (``--json``).

Run: ``python benchmarks/claim_power.py --profile quick --seeds 20`` (tens of minutes on
2 cores; ``--only CLAIM ...`` for a subset).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval for a rate k/n.

    Examples
    --------
    >>> [round(x, 4) for x in clopper_pearson(0, 20)]
    [0.0, 0.1684]
    """
    from scipy.stats import beta

    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.isf(a, k + 1, n - k))
    return lo, hi


DEFAULT_EXCLUDE_KINDS = ("empirical", "performance", "identity")


def run(ids, profile: str, seeds: int, out=None) -> dict:
    """Run every claim of ``ids`` at run seeds ``0 .. seeds-1``, seed by seed.

    Seeds are the outer loop, so the claims on the shared trained grid train one grid per seed and share it
    (the fixture cache is cleared after each seed), and the JSON written after every seed holds every
    finished seed: an interrupted run keeps what it measured.
    """
    from rmt_sparsity.experiments.fixtures import clear_fixture_cache
    from rmt_sparsity.experiments.runner import run_claim

    table = {cid: {"profile": profile, "seeds": 0, "seconds": 0.0, "runs": []} for cid in ids}
    for s in range(seeds):
        for cid in ids:
            t0 = time.perf_counter()
            r = run_claim(cid, profile=profile, seed=s)
            if r.error:
                raise RuntimeError(f"{cid} seed {s} crashed:\n{r.error}")
            t = table[cid]
            t["runs"].append({"seed": s, "verdict": r.verdict.status, "theory": r.theory_verdict.status,
                              "theory_alpha": r.theory_verdict.alpha,
                              "rivals": {rv.name: rv.verdict.status for rv in r.rivals},
                              "statistic": r.measurement.value,
                              "rival_statistics": {rv.name: rv.statistic.value for rv in r.rivals}})
            t["seeds"] = len(t["runs"])
            t["seconds"] += time.perf_counter() - t0
        clear_fixture_cache()
        print(f"seed {s} done ({time.strftime('%H:%M:%S')}, load {os.getloadavg()[0]:.2f})", flush=True)
        if out:
            with open(out, "w") as fh:
                json.dump(table, fh, indent=1, default=float)
    for cid in ids:
        _print_claim(cid, table[cid])
    return table


def _rate(k, n):
    lo, hi = clopper_pearson(k, n)
    return f"{k}/{n} = {k / n:.2f} [{lo:.2f}, {hi:.2f}]"


def _print_claim(cid, t):
    runs = t["runs"]
    n = len(runs)
    th = [r["theory"] for r in runs]
    alpha = runs[0]["theory_alpha"]
    print(f"\n{cid}  ({t['profile']}, {n} seeds, {t['seconds'] / n:.1f} s per run)")
    print(f"  theory  fail {_rate(th.count('fail'), n)}  pass {th.count('pass')}  inconclusive "
          f"{th.count('inconclusive')}  (rule level alpha = {alpha})")
    for name in runs[0]["rivals"]:
        k = sum(r["rivals"][name] == "fail" for r in runs)
        print(f"  rival   {name:36s} fails {_rate(k, n)}  (power)")
    v = [r["verdict"] for r in runs]
    print(f"  claim verdicts: pass {v.count('pass')}, inconclusive {v.count('inconclusive')}, fail {v.count('fail')}")
    sys.stdout.flush()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"))
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--only", nargs="+", metavar="CLAIM")
    ap.add_argument("--json", default=None, help="write the per-seed verdicts here")
    args = ap.parse_args(argv)
    from rmt_sparsity.experiments.runner import registry

    reg = registry()
    ids = args.only or [cid for cid, c in reg.items() if c.rivals and c.kind not in DEFAULT_EXCLUDE_KINDS]
    print(f"load average before: {os.getloadavg()}", flush=True)
    run(ids, args.profile, args.seeds, args.json)
    print(f"\nload average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
