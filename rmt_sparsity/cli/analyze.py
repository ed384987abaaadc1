"""``rmt-sparsity analyze PATH [--json] [--out FILE]``: weight-spectrum analysis of a safetensors file.

The analysis is :func:`rmt_sparsity.spectra.analyze`; this module only parses
the options and prints. The top-level CLI calls :func:`main` with the arguments
after ``analyze`` (a leading ``"analyze"`` is accepted too). Exit codes: 0 on
success, 2 on a usage error or unreadable input (one line on stderr, no
traceback). The JSON records follow :func:`rmt_sparsity._io.to_jsonable`:
undefined values (no tail, no band) are written as the string ``"nan"``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from .._io import atomic_write_json, to_jsonable
from ._common import UsageError

__all__ = ["add_parser", "run", "main", "build_parser", "format_table"]

PROG = "rmt-sparsity analyze"


def add_parser(sub) -> None:
    """Register ``analyze`` on the top-level subparsers ``sub`` (its options are parsed by :func:`main`)."""
    an = sub.add_parser("analyze", add_help=False,
                        help="spectral analysis of the 2-D weights in a .safetensors file: concentration, MP fit, spikes, tails",
                        description="Options are passed to rmt_sparsity.cli.analyze (PATH, --json, --out FILE, ...).")
    an.set_defaults(func=run, passthrough=True)


def run(args) -> int:
    """Run ``analyze`` with the options ``args.rest``; returns the exit status."""
    return int(main(args.rest))


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print usage and sys.exit(2)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``rmt-sparsity analyze``."""
    ap = _Parser(
        prog=PROG,
        description=(
            "Weight-spectrum analysis of every 2-D weight in a .safetensors file (numpy backend, no torch): "
            "spectral concentration with its Gaussian-null band, stable rank, calibrated Marchenko-Pastur fit "
            "with Tracy-Widom outliers, power-law tail."
        ),
    )
    ap.add_argument("path", help="a .safetensors file")
    ap.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    ap.add_argument("--out", metavar="FILE", help="also write the JSON records to FILE (atomically)")
    ap.add_argument("--zero-tol", type=float, default=0.1, help="concentration cut, in [0, 1) (default 0.1)")
    ap.add_argument("--relative-to", choices=("mean_all", "mean_nonzero"), default="mean_all")
    ap.add_argument("--alpha", type=float, default=0.05, help="outlier test level (default 0.05)")
    ap.add_argument("--n-boot", type=int, default=100, help="tail bootstrap replicates (0 = none)")
    ap.add_argument("--n-mc", type=int, default=200, help="Monte-Carlo draws for bands that need them")
    ap.add_argument("--seed", type=int, default=0, help="random seed (results are reproducible)")
    return ap


def _fmt(v, spec=".3g"):
    if v is None:
        return "-"
    if isinstance(v, float) and not math.isfinite(v):
        return "nan"
    return format(v, spec)


def format_table(records) -> str:
    """A plain-text table of :func:`rmt_sparsity.spectra.analyze` records."""
    head = ["name", "shape", "conc", "band95", "p", "regime", "srank", "sigma2", "spikes", "tail"]
    rows = []
    for r in records:
        band = r.get("concentration_band") or [math.nan, math.nan]
        tail = "-" if r["tail"] != "power-law tail" else f"alpha={_fmt(r['tail_alpha'])}"
        rows.append(
            [
                r["name"],
                "x".join(str(s) for s in r["shape"]),
                _fmt(r["concentration"]),
                f"[{_fmt(band[0])}, {_fmt(band[1])}]",
                _fmt(r.get("concentration_p_value"), ".2g"),
                r["concentration_regime"],
                _fmt(r["stable_rank"]),
                _fmt(r["mp_scale"]),
                str(r["mp_n_spikes"]),
                tail,
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    conv = records[0]["relative_to"] if records else "mean_all"
    lines.append(
        f"conc = lambda_max/lambda_min(non-zero) of W W^T, cut {records[0]['zero_tol'] if records else 0.1:g} x "
        f"{conv}; band = central 95% for a Gaussian matrix of the same shape; spikes = TW outliers at alpha"
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    """Run ``rmt-sparsity analyze``; returns the exit code (0 ok, 2 usage error or unreadable input).

    Examples
    --------
    >>> from rmt_sparsity.cli.analyze import main
    >>> main(["analyze", "/nonexistent.safetensors"])
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "analyze":
        argv = argv[1:]
    try:
        args = build_parser().parse_args(argv)
        if not (0.0 <= args.zero_tol < 1.0):
            raise UsageError(f"--zero-tol must be in [0, 1); got {args.zero_tol}")
        from ..spectra import analyze

        records = analyze(
            args.path,
            zero_tol=args.zero_tol,
            relative_to=args.relative_to,
            alpha=args.alpha,
            n_boot=args.n_boot,
            n_mc=args.n_mc,
            rng=args.seed,
        )
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, TypeError) as exc:
        print(f"{PROG}: error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    payload = to_jsonable(records)
    if args.out:
        atomic_write_json(args.out, payload)
    if args.json:
        print(json.dumps(payload, indent=2, allow_nan=False))
    else:
        print(format_table(records))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
