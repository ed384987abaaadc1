"""Run the fuzz suite and print its table: calls, outcome classes, counts by area.

Usage (from the repository root, with the package installed)::

    python -m tests.fuzz.report                 # the full run (every spec, EXAMPLES per category)
    python -m tests.fuzz.report --fast          # the default pytest set (cheap specs, one draw each)
    python -m tests.fuzz.report --only laws. --show-bad
    python -m tests.fuzz.report --json out.json --workers 2
    python -m tests.fuzz.report --from-json out.json   # the table of a saved run

Each call is one public callable with one argument replaced by a bad value
(engine.py describes the classes). The table's "bad" column counts every
outcome other than ``ok``; ``--show-bad`` lists them, ``--known-bad`` prints
them as entries for known_bad.py.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import threading
import time
from collections import Counter, defaultdict

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    __package__ = "tests.fuzz"

from .cases import EXAMPLES, cases_for  # noqa: E402
from .engine import BAD_CLASSES, Runner  # noqa: E402
from .spec import area_group  # noqa: E402
from .specs import SPECS  # noqa: E402

#: The independent fuzz run the suite was built to reproduce (its table, for comparison).
ISSUE_TABLE = {"calls": 6488, "bad": 774, "internal": 301, "accepted": 245, "nonfinite": 98, "unclear": 66,
               "allocation": 54, "hang": 9, "abort": 1}
CLASS_LABELS = {
    "internal": "error from inside JAX/jaxlib/Numba",
    "accepted": "invalid input silently accepted",
    "nonfinite": "output gains NaN/inf",
    "wrong": "documented value expected, another returned",
    "unclear": "unclear Python error",
    "unnamed": "ValueError/TypeError not naming the argument",
    "allocation": "absurd size reaching an allocation",
    "hang": "hang over the time limit",
    "abort": "process abort",
    "spec_error": "suite's own baseline failed",
}


def plan(specs, *, fast=False, examples=None):
    """``[(spec, arg, Bad), ...]``: the baselines (arg None) and the bad calls."""
    work = []
    for s in specs:
        if s.exempt:
            continue
        n = 1 if fast else (examples or s.examples or EXAMPLES[s.cost])
        work.append((s, None, None))
        work.extend((s, arg, bad) for arg, bad in cases_for(s, n))
    return work


def run(work, *, workers=1, progress=True):
    """Run ``work`` on ``workers`` worker processes; returns the outcomes in order."""
    q = queue.Queue()
    for i, item in enumerate(work):
        q.put((i, item))
    results = [None] * len(work)
    done = [0]
    lock = threading.Lock()
    t0 = time.monotonic()

    def loop(k):
        runner = Runner(f"{__package__}.specs", log_path=os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                                                       f"rmt-fuzz-report-{os.getpid()}-{k}.log"))
        try:
            while True:
                try:
                    i, (spec, arg, bad) = q.get_nowait()
                except queue.Empty:
                    return
                results[i] = runner.run(spec.name, arg, bad, spec.timeout)
                with lock:
                    done[0] += 1
                    if progress and done[0] % 200 == 0:
                        print(f"  {done[0]}/{len(work)} calls, {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
        finally:
            runner.close()

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def table(outcomes) -> str:
    calls = [o for o in outcomes if o.category != "baseline"]
    bad = [o for o in calls if o.cls != "ok"]
    lines = []
    pct = 100 * len(bad) / max(len(calls), 1)
    lines.append(f"{len(calls)} calls ({len({o.spec for o in outcomes})} callables), "
                 f"{len(bad)} handled badly ({pct:.1f} %)")
    lines.append(f"(independent run in the issue: {ISSUE_TABLE['calls']} calls, {ISSUE_TABLE['bad']} bad, 11.9 %)")
    lines.append("")
    lines.append(f"| {'class':<46} | {'count':>5} | {'issue':>5} |")
    lines.append(f"|{'-' * 48}|{'-' * 7}|{'-' * 7}|")
    counts = Counter(o.cls for o in bad)
    for c in BAD_CLASSES:
        lines.append(f"| {CLASS_LABELS[c]:<46} | {counts.get(c, 0):>5} | {ISSUE_TABLE.get(c, '-'):>5} |")
    lines.append("")
    by_group = defaultdict(lambda: [0, 0])
    by_area = defaultdict(lambda: [0, 0])
    for o in calls:
        area = o.spec.split(".")[0].split("[")[0]
        for d in (by_group[area_group(area)], by_area[area]):
            d[0] += 1
            d[1] += o.cls != "ok"
    lines.append(f"| {'area':<22} | {'calls':>6} | {'bad':>5} | {'%':>6} |")
    lines.append(f"|{'-' * 24}|{'-' * 8}|{'-' * 7}|{'-' * 8}|")
    for name, (n, b) in sorted(by_group.items()):
        lines.append(f"| {name:<22} | {n:>6} | {b:>5} | {100 * b / max(n, 1):>5.1f}% |")
    lines.append("")
    for name, (n, b) in sorted(by_area.items()):
        lines.append(f"| {'  ' + name:<22} | {n:>6} | {b:>5} | {100 * b / max(n, 1):>5.1f}% |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="the default pytest set (cheap specs, one draw per category)")
    ap.add_argument("--examples", type=int, help="draws per category (default: by cost, see cases.EXAMPLES)")
    ap.add_argument("--only", nargs="*", default=(), help="spec name prefixes")
    ap.add_argument("--cost", nargs="*", default=(), help="only specs of these costs (cheap, jax, heavy)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--show-bad", action="store_true")
    ap.add_argument("--known-bad", action="store_true", help="print the bad (spec, arg, category, class) entries")
    ap.add_argument("--json", help="write every outcome to this file")
    ap.add_argument("--from-json", help="print the table of a run saved with --json instead of running")
    args = ap.parse_args(argv)
    if args.from_json:
        from .engine import Outcome

        with open(args.from_json) as fh:
            print(table([Outcome(**d) for d in json.load(fh)]))
        return 0
    specs = [s for s in SPECS if (not args.only or any(s.name.startswith(p) for p in args.only))
             and (not args.cost or s.cost in args.cost) and (not args.fast or s.cost == "cheap")]
    work = plan(specs, fast=args.fast, examples=args.examples)
    t0 = time.monotonic()
    outcomes = run(work, workers=args.workers)
    print(table(outcomes))
    print(f"\n({time.monotonic() - t0:.0f} s on {args.workers} worker(s); load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())})")
    bad = [o for o in outcomes if o.cls != "ok"]
    if args.show_bad:
        print()
        for o in bad:
            print(o.line()[:300])
    if args.known_bad:
        seen = {}
        for o in bad:
            if o.category == "baseline":
                continue
            seen.setdefault((o.spec, o.arg, o.category), o.cls)
        print()
        for (spec, arg, cat), cls in sorted(seen.items()):
            print(f"    ({spec!r}, {arg!r}, {cat!r}, {cls!r}),")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([o.__dict__ for o in outcomes], fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
