"""Write the ``verify`` report: ``claims.json``, ``report.md``, a self-contained ``report.html`` and PNG figures.

Every file is written atomically (temporary file, then ``os.replace``).
"""

from __future__ import annotations

import base64
import html
import math
import re
import warnings
from collections import Counter
from pathlib import Path

from .._io import atomic_write_json, atomic_write_text
from .._optional import MissingExtraError
from .figures import RENDERERS, render

__all__ = ["write_report", "format_table", "summarize"]


def _fmt(x, digits: int = 4) -> str:
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(xf):
        return str(xf)
    return f"{xf:.{digits}g}"


def _pred(pred) -> str:
    """The point prediction; '—' when the claim predicts only a band (value NaN) or nothing."""
    if pred is None or (isinstance(pred.value, float) and math.isnan(pred.value)):
        return "—"
    return _fmt(pred.value)


def _band(pred) -> str:
    if pred is None or pred.band is None:
        return "—"
    lo, hi = pred.band
    return f"[{_fmt(lo)}, {_fmt(hi)}] ({pred.level:.0%})"


def summarize(results) -> Counter:
    """Count verdict statuses (crashes counted separately as ``crashed``)."""
    c = Counter(r.verdict.status for r in results)
    c["crashed"] = sum(r.crashed for r in results)
    return c


def format_table(results) -> str:
    """A plain-text table of claims for the terminal.

    Examples
    --------
    >>> print(format_table([]).splitlines()[0].split())
    ['claim', 'verdict', 'prediction', 'band', 'measurement', 'se']
    """
    rows = [("claim", "verdict", "prediction", "band", "measurement", "se")]
    for r in results:
        status = "CRASH" if r.crashed else r.verdict.status
        rows.append(
            (
                r.id,
                status,
                _pred(r.prediction),
                _band(r.prediction),
                _fmt(r.measurement.value) if r.measurement else "—",
                _fmt(r.measurement.se) if r.measurement else "—",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def write_report(results, out_dir, *, profile: str, seed: int) -> dict[str, Path]:
    """Write ``claims.json``, ``report.md``, ``report.html`` and ``figures/*.png`` into ``out_dir``.

    Parameters
    ----------
    results : list of ClaimResult
    out_dir : path-like
        Created if missing.
    profile, seed
        Recorded in the report header.

    Returns
    -------
    dict
        Paths of the files written (``claims``, ``markdown``, ``html``, and one ``figure:<name>`` per figure).
    """
    out = Path(out_dir)
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    records = []
    figure_files: dict[str, list[tuple[str, Path]]] = {}
    for r in results:
        rec = r.to_json()
        figs = []
        if r.measurement is not None:
            for i, fig in enumerate(r.measurement.figures):
                if fig.kind not in RENDERERS:
                    warnings.warn(f"claim {r.id!r}: figure kind {fig.kind!r} has no renderer; skipped", stacklevel=2)
                    continue
                name = f"{_slug(r.id)}_{i}.png"
                try:
                    path = render(fig, fig_dir / name)
                except MissingExtraError:  # no matplotlib (the [report] extra): no figures; `verify` says so
                    continue
                figs.append((fig.title, path))
                written[f"figure:{name}"] = path
        rec["figures"] = [f"figures/{p.name}" for _, p in figs]
        figure_files[r.id] = figs
        records.append(rec)
    written["claims"] = atomic_write_json(out / "claims.json", records)

    counts = summarize(results)
    header = (
        f"profile `{profile}`, seed {seed}; "
        + ", ".join(f"{k}: {counts.get(k, 0)}" for k in ("pass", "fail", "inconclusive", "skipped", "not_implemented"))
        + f"; crashed: {counts.get('crashed', 0)}"
    )

    # ---- Markdown
    md = ["# rmt-sparsity verify report", "", header, "", "| claim | kind | verdict | prediction | band | measurement | se | n |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        md.append(
            f"| `{r.id}` | {r.kind} | **{'CRASH' if r.crashed else r.verdict.status}** | "
            f"{_pred(r.prediction)} | {_band(r.prediction)} | "
            f"{_fmt(r.measurement.value) if r.measurement else '—'} | "
            f"{_fmt(r.measurement.se) if r.measurement else '—'} | {r.measurement.n if r.measurement else '—'} |"
        )
    for r in results:
        md += ["", f"## `{r.id}`", "", r.statement, "", f"*Source:* {r.source}", "", f"*Verdict:* **{r.verdict.status}** — {r.verdict.reason}"]
        if r.prediction is not None:
            md += ["", f"*Prediction:* {_pred(r.prediction)}, band {_band(r.prediction)}"]
            for k, v in r.prediction.details.items():
                md.append(f"- {k}: {_fmt(v) if not isinstance(v, (list, dict)) else v}")
        if r.measurement is not None:
            md += ["", f"*Measurement:* {_fmt(r.measurement.value)} (se {_fmt(r.measurement.se)}, n = {r.measurement.n})"]
            for k, v in r.measurement.details.items():
                md.append(f"- {k}: {_fmt(v) if not isinstance(v, (list, dict)) else v}")
        for title, path in figure_files[r.id]:
            md += ["", f"![{title}](figures/{path.name})"]
        if r.error:
            md += ["", "```", r.error.rstrip(), "```"]
        prov = r.provenance
        md += ["", f"*Provenance:* profile {prov.get('profile')}, seed {prov.get('seed')}, config hash `{prov.get('config_hash', '—')}`"]
    written["markdown"] = atomic_write_text(out / "report.md", "\n".join(md) + "\n")

    # ---- HTML (self-contained: figures embedded as base64 PNG)
    e = html.escape
    h = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>rmt-sparsity verify report</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 6px;font-size:90%}.pass{color:#070}.fail{color:#b00}"
        ".inconclusive{color:#a60}.not_implemented{color:#666}img{max-width:100%}</style></head><body>",
        "<h1>rmt-sparsity verify report</h1>",
        f"<p>{e(header)}</p>",
        "<table><tr><th>claim</th><th>kind</th><th>verdict</th><th>prediction</th><th>band</th>"
        "<th>measurement</th><th>uncertainty (se)</th><th>n</th></tr>",
    ]
    for r in results:
        st = "CRASH" if r.crashed else r.verdict.status
        h.append(
            f"<tr class='claim' data-claim='{e(r.id)}'><td><a href='#{e(r.id)}'>{e(r.id)}</a></td><td>{e(r.kind)}</td>"
            f"<td class='verdict {e(r.verdict.status)}'>{e(st)}</td>"
            f"<td class='prediction'>{e(_pred(r.prediction))}</td>"
            f"<td class='band'>{e(_band(r.prediction))}</td>"
            f"<td class='measurement'>{e(_fmt(r.measurement.value) if r.measurement else '—')}</td>"
            f"<td class='uncertainty'>{e(_fmt(r.measurement.se) if r.measurement else '—')}</td>"
            f"<td>{r.measurement.n if r.measurement else '—'}</td></tr>"
        )
    h.append("</table>")
    for r in results:
        h += [f"<h2 id='{e(r.id)}'>{e(r.id)}</h2>", f"<p>{e(r.statement)}</p>", f"<p><i>Source:</i> {e(r.source)}</p>"]
        h.append(f"<p><b class='{e(r.verdict.status)}'>{e(r.verdict.status)}</b> — {e(r.verdict.reason)}</p>")
        for title, path in figure_files[r.id]:
            b64 = base64.b64encode(path.read_bytes()).decode("ascii")
            h.append(f"<figure><img alt='{e(title)}' src='data:image/png;base64,{b64}'><figcaption>{e(title)}</figcaption></figure>")
        if r.error:
            h.append(f"<pre>{e(r.error)}</pre>")
    h.append("</body></html>")
    written["html"] = atomic_write_text(out / "report.html", "\n".join(h) + "\n")
    return written
