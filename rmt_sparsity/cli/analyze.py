"""``rmt-sparsity analyze PATH [--include RE] [--exclude RE] [--out DIR] [--json] [--quiet]``: weight-spectrum table.

The analysis is :func:`rmt_sparsity.spectra.analyze` (PATH: a ``.safetensors``
file, a folder of shards, a ``model.safetensors.index.json`` or a ``.npz``);
this module parses the options, prints the table and, with ``--out DIR``, writes

* ``layers.csv`` and ``layers.json``: one row per matrix (lists as JSON in the
  CSV; non-finite numbers as ``"nan"``/``"inf"`` strings in the JSON, the
  NaN policy of :func:`rmt_sparsity._io.to_jsonable`);
* ``figures/NAME.png``: each matrix's eigenvalue histogram with the fitted
  Marchenko–Pastur density, its Tracy–Widom spikes and its tail fit (needs
  matplotlib, the ``[report]`` extra; without it the figures are skipped, with a message);
* ``report.html``: the summary, in the style of the ``verify`` report.

Exit codes: 0 - every matrix analysed; 1 - some tensors became error rows
(listed with their reasons on stderr; the others are analysed and written);
2 - usage error or unreadable checkpoint (one line on stderr, nothing written).
``--out`` is checked before any work: it must be a directory or a new path in
an existing directory.
"""

from __future__ import annotations

import argparse
import html
import io
import json
import math
import os
import re
import sys

from .._io import atomic_write_bytes, atomic_write_json, atomic_write_text, to_jsonable
from ._common import UsageError, progress_enabled

__all__ = ["add_parser", "run", "main", "build_parser", "format_table", "write_outputs"]

PROG = "rmt-sparsity analyze"


def add_parser(sub) -> None:
    """Register ``analyze`` on the top-level subparsers ``sub`` (its options are parsed by :func:`main`)."""
    an = sub.add_parser("analyze", add_help=False,
                        help="spectral analysis of every weight matrix of a checkpoint: concentration, MP fit, spikes, tails",
                        description="Options are passed to rmt_sparsity.cli.analyze (PATH, --out DIR, --json, ...).")
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
            "Weight-spectrum analysis of every matrix of a checkpoint (a .safetensors file, a folder of shards, "
            "a model.safetensors.index.json or a .npz; read tensor by tensor, no torch): spectral concentration "
            "with its Gaussian-null band, stable rank, calibrated Marchenko-Pastur fit with Tracy-Widom spikes, "
            "power-law tail. Layer roles come from the tensor names."
        ),
    )
    ap.add_argument("path", help="checkpoint: .safetensors file, folder of shards, index.json or .npz")
    ap.add_argument("--include", metavar="REGEX", help="analyse only matrices whose name matches (re.search)")
    ap.add_argument("--exclude", metavar="REGEX", help="skip matrices whose name matches (re.search)")
    ap.add_argument("--out", metavar="DIR", help="write layers.csv, layers.json, figures/ and report.html into DIR")
    ap.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    ap.add_argument("--quiet", action="store_true", help="no progress bar and no table (errors are still reported)")
    ap.add_argument("--zero-tol", type=float, default=0.1, help="concentration cut, in [0, 1) (default 0.1)")
    ap.add_argument("--relative-to", choices=("mean_all", "mean_nonzero"), default="mean_all")
    ap.add_argument("--alpha", type=float, default=0.05, help="level of each spike test (default 0.05)")
    ap.add_argument("--level", type=float, default=0.95, help="coverage of bands and intervals (default 0.95)")
    ap.add_argument("--n-boot", type=int, default=100, help="tail bootstrap replicates (0 = none; default 100)")
    ap.add_argument("--n-mc", type=int, default=200, help="Monte-Carlo draws for bands that need them (default 200)")
    ap.add_argument("--min-dim", type=int, default=2, help="smallest side of a matrix (default 2)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (results are reproducible; default 0)")
    return ap


def _fmt(v, spec=".3g"):
    if v is None:
        return "-"
    if isinstance(v, float) and not math.isfinite(v):
        return "nan"
    return format(v, spec)


def _records(df) -> list[dict]:
    """The rows as plain dicts (layer/expert as int or None)."""
    recs = df.astype(object).where(df.notna(), None).to_dict("records")
    for r, (_, row) in zip(recs, df.iterrows()):
        for col in df.columns:  # keep NaN floats as NaN (where() turned them into None)
            v = row[col]
            if isinstance(v, float) and math.isnan(v):
                r[col] = math.nan
    return recs


def format_table(df) -> str:
    """A plain-text table of :func:`rmt_sparsity.spectra.analyze` rows, with a legend and the skip counts."""
    head = ["name", "role", "layer", "shape", "dtype", "conc", "band", "p", "spikes", "tail_alpha", "srank"]
    rows = []
    for r in _records(df):
        if r["status"] != "ok":
            rows.append([r["name"], r["role"], "-", r["shape"] or "-", r["dtype"] or "-", f"ERROR: {r['error']}"])
            continue
        tail = f"{_fmt(r['tail_alpha'])}" if r["has_tail"] else "-"
        rows.append([
            r["name"], r["role"], "-" if r["layer"] is None else str(r["layer"]), r["shape"], r["dtype"],
            _fmt(r["concentration"]), f"[{_fmt(r['band_lo'])}, {_fmt(r['band_hi'])}]", _fmt(r["band_p_value"], ".2g"),
            str(r["n_spikes"]), tail, _fmt(r["stable_rank"]),
        ])
    full = [row for row in rows if len(row) == len(head)]
    widths = [max([len(h)] + [len(row[i]) for row in full]) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() if len(row) == len(head)
                     else "  ".join(c.ljust(w) for c, w in zip(row[:-1], widths)) + "  " + row[-1])
    st = df.attrs.get("settings", {})
    lines.append(
        f"conc = lambda_max/lambda_min(non-zero) of W W^T, cut {st.get('zero_tol', 0.1):g} x {st.get('relative_to', 'mean_all')}; "
        f"band = central {st.get('level', 0.95):.0%} for a Gaussian matrix of the same shape, p its two-sided p-value; "
        f"spikes = Tracy-Widom outliers at alpha = {st.get('alpha', 0.05):g}; tail_alpha = power-law exponent where a tail is found"
    )
    lines.append(_summary(df))
    return "\n".join(lines)


def _summary(df) -> str:
    a = df.attrs
    skipped = ", ".join(f"{v} {k}" for k, v in a.get("skipped", {}).items()) or "none"
    excl = f"; {a['excluded']} excluded by --include/--exclude" if a.get("excluded") else ""
    return (f"{a.get('n_analysed', 0)} matrices analysed, {a.get('n_errors', 0)} errors, from {a.get('n_tensors', 0)} tensors "
            f"({a.get('format', '?')}); skipped: {skipped}{excl}")


def _check_out(out) -> str | None:
    """Refuse a bad ``--out`` before any work: empty, an existing non-directory, a missing or read-only parent."""
    if out is None:
        return None
    if out == "":
        raise UsageError("--out '' is empty: give a directory")
    path = os.path.abspath(out)
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--out {out!r} exists and is not a directory")
    target = path if os.path.isdir(path) else os.path.dirname(path)
    if not os.path.isdir(target):
        raise UsageError(f"--out {out!r}: its parent directory {os.path.dirname(path)!r} does not exist")
    if not os.access(target, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out!r}: {target!r} is not writable")
    return path


# ----------------------------------------------------------------------------- files


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _esd_figure(name, row, spec):
    """PNG bytes: histogram of the non-zero eigenvalues (rescaled units), MP density, spikes, tail fit."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    from ..laws import MarchenkoPastur

    lam = np.asarray(spec["eigenvalues"], dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=90)
    try:
        lo, hi = float(lam.min()), float(lam.max())
        bins = np.geomspace(lo, hi * (1 + 1e-9), min(80, max(10, lam.size // 8))) if hi > lo else 10
        ax.hist(lam, bins=bins, density=True, alpha=0.45, color="C0", label=f"eigenvalues ({lam.size} non-zero)")
        scale, c = spec.get("mp_scale", math.nan), spec["ratio"]
        if math.isfinite(scale) and scale > 0:
            law = MarchenkoPastur(c, scale, nonzero=True)
            a, b = law.edges
            x = np.linspace(a, b, 400)[1:-1] if a > 0 else np.geomspace(max(b * 1e-6, lo), b, 400)[:-1]
            ax.plot(x, law.pdf(x), color="k", lw=1.5, label=f"MP fit, sigma^2 = {scale:.3g} (ratio {c:.3g})")
        for i, e in enumerate(spec.get("spikes", [])[:50]):
            ax.axvline(e, color="C3", lw=0.8, alpha=0.8, label=f"{row['n_spikes']} TW spikes" if i == 0 else None)
        ta = spec.get("tail_alpha", math.nan)
        if math.isfinite(ta) and ta > 1 and spec.get("tail_xmin", 0) > 0:
            xmin, xmax, beta = spec["tail_xmin"], spec["tail_xmax"], ta - 1.0
            x = np.geomspace(xmin, xmax, 100)
            norm = beta / xmin if spec["tail_model"] == "power law" else beta / (xmin * -math.expm1(-beta * math.log(xmax / xmin)))
            dens = spec["tail_fraction"] * norm * (x / xmin) ** (-ta)
            ax.plot(x, dens, "--", color="C2", lw=1.5,
                    label=f"{spec['tail_model']} alpha = {ta:.2f}" + (" (tail)" if spec.get("has_tail") else " (rejected)"))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("eigenvalue of W W^T / n, W rescaled to unit rms")
        ax.set_ylabel("density")
        ax.set_title(f"{name} [{row['role']}] {row['shape']}", fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(fig)


_HTML_COLUMNS = ("name", "role", "layer", "shape", "dtype", "concentration", "band", "band_p_value", "n_spikes",
                 "mp_scale", "mp_ks", "stable_rank", "tail")


def _html(df, figures: dict[str, str], figure_note: str) -> str:
    e = html.escape
    a = df.attrs
    st = a.get("settings", {})
    h = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>rmt-sparsity analyze report</title>",
        "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 6px;font-size:85%}.error{color:#b00}.spike{color:#a60}"
        ".tail{color:#070}img{max-width:100%}</style></head><body>",
        "<h1>rmt-sparsity analyze report</h1>",
        f"<p>{e(str(a.get('source', '')))} ({e(str(a.get('format', '')))}, {len(a.get('files', []))} file(s))</p>",
        f"<p>{e(_summary(df))}</p>",
        "<p>" + e(
            f"Settings: zero_tol {st.get('zero_tol')} x {st.get('relative_to')}, spike level alpha {st.get('alpha')}, "
            f"level {st.get('level')}, n_mc {st.get('n_mc')}, n_boot {st.get('n_boot')}, include {st.get('include')!r}, "
            f"exclude {st.get('exclude')!r}. Concentration = lambda_max/lambda_min(non-zero) of W W^T above the cut; "
            "band = central interval for a Gaussian matrix of the same shape (docs/science.md §5); spikes = sequential "
            "Tracy-Widom outliers of the MP fit; tail = power-law exponent where the tail test accepts one."
        ) + "</p>",
        "<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in _HTML_COLUMNS) + "</tr>",
    ]
    for r in _records(df):
        name = r["name"]
        link = f"<a href='#{e(_slug(name))}'>{e(name)}</a>" if name in figures else e(name)
        if r["status"] != "ok":
            h.append(f"<tr class='error'><td>{link}</td><td>{e(r['role'])}</td><td></td><td>{e(r['shape'] or '')}</td>"
                     f"<td>{e(r['dtype'] or '')}</td><td colspan='{len(_HTML_COLUMNS) - 5}'>error: {e(r['error'])}</td></tr>")
            continue
        cells = [
            link, e(r["role"]), "" if r["layer"] is None else str(r["layer"]), e(r["shape"]), e(r["dtype"]),
            _fmt(r["concentration"]), f"[{_fmt(r['band_lo'])}, {_fmt(r['band_hi'])}]", _fmt(r["band_p_value"], ".2g"),
            f"<span class='spike'>{r['n_spikes']}</span>" if r["n_spikes"] else "0", _fmt(r["mp_scale"]), _fmt(r["mp_ks"]),
            _fmt(r["stable_rank"]),
            f"<span class='tail'>alpha {_fmt(r['tail_alpha'])} [{_fmt(r['tail_alpha_lo'])}, {_fmt(r['tail_alpha_hi'])}]</span>"
            if r["has_tail"] else "none",
        ]
        h.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    h.append("</table>")
    if a.get("skipped_tensors"):
        h.append("<h2>Skipped tensors</h2><ul>" + "".join(
            f"<li>{e(n)}: {e(reason)}</li>" for n, reason in a["skipped_tensors"]) + "</ul>")
    h.append(f"<h2>Eigenvalue spectra</h2><p>{e(figure_note)}</p>")
    for name, rel in figures.items():
        h.append(f"<figure id='{e(_slug(name))}'><img alt='{e(name)}' src='{e(rel)}' loading='lazy'>"
                 f"<figcaption>{e(name)}</figcaption></figure>")
    h.append("</body></html>")
    return "\n".join(h) + "\n"


def write_outputs(df, spectra, out, *, progress=False, stderr=None) -> dict:
    """Write ``layers.csv``, ``layers.json``, ``figures/*.png`` and ``report.html`` into ``out`` (each file atomic).

    Returns the paths written (``csv``, ``json``, ``html``, and one ``figure:NAME`` per figure).
    """
    from pathlib import Path

    stderr = sys.stderr if stderr is None else stderr
    out = Path(out)
    out.mkdir(exist_ok=True)
    written = {}
    recs = _records(df)
    meta = {k: v for k, v in df.attrs.items()}
    written["json"] = atomic_write_json(out / "layers.json", to_jsonable({"rows": recs, "summary": meta}))
    csv_df = df.copy()
    for col in ("spike_eigenvalues", "spike_p_values", "spike_theta_ratio"):
        csv_df[col] = [json.dumps(to_jsonable(v)) for v in csv_df[col]]
    written["csv"] = atomic_write_text(out / "layers.csv", csv_df.to_csv(index=False))
    figures: dict[str, str] = {}
    try:
        import matplotlib  # noqa: F401

        have_mpl = True
    except ImportError:
        have_mpl = False
    if not have_mpl:
        note = "figures skipped: matplotlib is not installed (pip install 'rmt-sparsity[report]')"
        print(f"{PROG}: {note}", file=stderr)
    else:
        note = ("Histogram of the non-zero eigenvalues of W W^T/n with W rescaled to unit rms (log axes), the fitted "
                "Marchenko-Pastur density (black), Tracy-Widom spikes (red) and the power-law tail fit (green, dashed).")
        fig_dir = out / "figures"
        fig_dir.mkdir(exist_ok=True)
        from tqdm.auto import tqdm

        for name, spec in tqdm(spectra.items(), desc="figures", unit="fig", disable=not progress, leave=False):
            row = df.loc[df["name"] == name].iloc[0]
            if len(spec["eigenvalues"]) == 0:
                continue
            fname = f"{_slug(name)}.png"
            written[f"figure:{fname}"] = atomic_write_bytes(fig_dir / fname, _esd_figure(name, row, spec))
            figures[name] = f"figures/{fname}"
    written["html"] = atomic_write_text(out / "report.html", _html(df, figures, note))
    return written


def main(argv=None) -> int:
    """Run ``rmt-sparsity analyze``; returns the exit code (0 all analysed, 1 some error rows, 2 usage/unreadable).

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
        if args.seed < 0:
            raise UsageError(f"--seed must be a non-negative integer; got {args.seed}")
        out = _check_out(args.out)
        from ..spectra import analyze

        res = analyze(
            args.path,
            include=args.include,
            exclude=args.exclude,
            zero_tol=args.zero_tol,
            relative_to=args.relative_to,
            alpha=args.alpha,
            level=args.level,
            n_boot=args.n_boot,
            n_mc=args.n_mc,
            min_dim=args.min_dim,
            rng=args.seed,
            progress=progress_enabled(args),
            return_spectra=out is not None,
        )
        df, spectra = res if out is not None else (res, {})
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, TypeError) as exc:  # unreadable checkpoint or a bad option value: nothing written
        print(f"{PROG}: error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    if out is not None:
        paths = write_outputs(df, spectra, out, progress=progress_enabled(args))
    if args.json:
        print(json.dumps(to_jsonable(_records(df)), indent=2, allow_nan=False))
    elif not args.quiet:
        print(format_table(df))
        if out is not None:
            print(f"written: {paths['csv']}  {paths['json']}  {paths['html']}")
    errors = df[df["status"] != "ok"]
    for _, r in errors.iterrows():
        print(f"{PROG}: {r['name']}: {r['error']}", file=sys.stderr)
    return 1 if len(errors) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
