"""Write the ``verify`` report: ``claims.json``, ``report.md``, a self-contained ``report.html`` and PNG figures.

The report renders the ``claims.json`` records (this module computes nothing): a run
provenance block; a summary that tallies the judged claims (identities excluded) and states
how many chance failures their levels lead one to expect; one table row per claim with its
prediction, measurement ± SE, threshold and each rival's verdict (and the verdicts of other
profiles whose ``claims-<profile>.json`` sits in the same directory); identities in their own
section; then every claim's details (thresholds with their derivation or justification, the
rivals with their statistics and reasons, training evidence, figures with the rivals'
densities overlaid).

Every file is written atomically (temporary file, then ``os.replace``), and the report as a whole
too: each run writes into its own directory and then switches ``latest`` to it in one step
(:mod:`rmt_sparsity.report.layout`).
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import warnings
from collections import Counter
from pathlib import Path

from .._io import atomic_write_json, atomic_write_text
from ..experiments.claims import PROFILES, SCHEMA_VERSION
from ..experiments.runner import run_provenance
from .._optional import MissingExtraError
from .figures import RENDERERS, render

__all__ = ["write_report", "format_table", "summarize", "claims_document", "merge_profile_document",
           "expected_chance_failures"]


def _fmt(x, digits: int = 4) -> str:
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_fmt(v, digits) for v in x) + "]"
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(xf):
        return str(xf)
    return f"{xf:.{digits}g}"


def _num(x):
    """A JSON number back to float (the NaN policy stores "nan"/"inf" strings)."""
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            return x
    return x


def _pred_value(pred) -> str:
    """The point prediction; '—' when the claim predicts only a region (value NaN) or nothing."""
    if not pred:
        return "—"
    v = _num(pred.get("value"))
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return _fmt(v)


def _band(pred) -> str:
    """The predicted region (its level, when it is a predictive band, is in the thresholds and details)."""
    if not pred or pred.get("band") is None:
        return "—"
    lo, hi = (_num(b) for b in pred["band"])
    return f"[{_fmt(lo)}, {_fmt(hi)}]"


def _meas(rec) -> str:
    m = rec.get("measurement")
    if not m:
        return "—"
    v, se = _fmt(_num(m.get("value"))), m.get("se")
    return v if se is None else f"{v} ± {_fmt(_num(se), 2)}"


def _status(rec) -> str:
    return "CRASH" if rec.get("error") else rec["verdict"]["status"]


def _threshold_short(t) -> str:
    tag = "critical value" if t["kind"] == "critical_value" else "margin"
    return f"{t['name']} = {_fmt(_num(t['value']) if not isinstance(t['value'], list) else [_num(v) for v in t['value']])} ({tag})"


def _rivals_short(rec) -> str:
    rv = rec.get("rivals") or []
    return "; ".join(f"{r['name']}: {r['verdict']['status']}" for r in rv) if rv else "—"


# ----------------------------------------------------------------------------- tallies


def summarize(results) -> Counter:
    """Count verdict statuses of the judged claims (identities excluded: they are true by construction).

    Crashes are counted separately as ``crashed`` (all kinds), identities as ``identity``.
    Accepts :class:`~rmt_sparsity.experiments.runner.ClaimResult` objects or their JSON records.
    """
    recs = [r if isinstance(r, dict) else r.to_json() for r in results]
    judged = [r for r in recs if r["kind"] != "identity"]
    c = Counter(r["verdict"]["status"] for r in judged)
    c["crashed"] = sum(bool(r.get("error")) for r in recs)
    c["identity"] = len(recs) - len(judged)
    return c


def expected_chance_failures(records) -> tuple[float, int, int]:
    """``(expected, with_level, judged)``: the number of ``fail`` verdicts to expect by chance if every judged claim
    were true, the sum of their rules' false-fail levels ``alpha`` (claims whose rule states none are not counted).

    Examples
    --------
    >>> expected_chance_failures([{"kind": "theorem", "verdict": {"status": "pass", "alpha": 0.05}},
    ...                           {"kind": "identity", "verdict": {"status": "pass", "alpha": 0.05}}])
    (0.05, 1, 1)
    """
    judged = [r for r in records if r["kind"] != "identity"]
    levels = [float(_num(r["verdict"]["alpha"])) for r in judged if r["verdict"].get("alpha") is not None]
    return float(sum(levels)), len(levels), len(judged)


def claims_document(records, *, run: dict) -> dict:
    """The ``claims.json`` document: ``{"schema_version", "run", "claims"}``.

    ``run`` is :func:`~rmt_sparsity.experiments.runner.run_provenance`'s block; ``claims`` the
    records (:meth:`~rmt_sparsity.experiments.runner.ClaimResult.to_json`).

    Examples
    --------
    >>> sorted(claims_document([], run={}))
    ['claims', 'run', 'schema_version']
    """
    return {"schema_version": SCHEMA_VERSION, "run": run, "claims": list(records)}


def merge_profile_document(path, doc: dict) -> dict:
    """``doc`` merged into the per-profile file at ``path`` (records replaced by id, others kept).

    Running ``verify --profile full --only a`` then ``--only b`` accumulates both claims in
    ``claims-full.json``; each record keeps the ``run`` block it was made in
    (``record["run"]``). A file with another schema version is replaced.
    """
    p = Path(path)
    old = {}
    if p.is_file():
        try:
            prev = json.loads(p.read_text())
        except (OSError, ValueError):
            prev = None
        if isinstance(prev, dict) and prev.get("schema_version") == doc["schema_version"]:
            old = {r["id"]: r for r in prev.get("claims", [])}
    new = {r["id"]: dict(r, run=doc["run"]) for r in doc["claims"]}
    merged = {**old, **new}
    return {"schema_version": doc["schema_version"], "run": doc["run"], "claims": list(merged.values())}


def _other_profiles(out: Path, profile: str) -> dict[str, dict[str, dict]]:
    """``{profile: {claim id: record}}`` from the ``claims-<profile>.json`` files beside this run (other profiles)."""
    found = {}
    for p in PROFILES:
        f = out / f"claims-{p}.json"
        if p == profile or not f.is_file():
            continue
        try:
            doc = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("schema_version") == SCHEMA_VERSION:
            found[p] = {r["id"]: r for r in doc.get("claims", [])}
    return found


def format_table(results) -> str:
    """A plain-text table of claims for the terminal.

    Examples
    --------
    >>> print(format_table([]).splitlines()[0].split())
    ['claim', 'verdict', 'prediction', 'band', 'measurement', 'rivals']
    """
    rows = [("claim", "verdict", "prediction", "band", "measurement", "rivals")]
    for r in results:
        rec = r if isinstance(r, dict) else r.to_json()
        status = _status(rec) + (" (identity)" if rec["kind"] == "identity" else "")
        rows.append((rec["id"], status, _pred_value(rec.get("prediction")), _band(rec.get("prediction")), _meas(rec),
                     _rivals_short(rec)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _summary_lines(records, run) -> list[str]:
    counts = summarize(records)
    judged = len(records) - counts["identity"]
    expected, with_level, _ = expected_chance_failures(records)
    tally = ", ".join(f"{k}: {counts.get(k, 0)}" for k in ("pass", "fail", "inconclusive", "skipped", "not_implemented"))
    lines = [
        f"{judged} judged claims ({tally}; crashed: {counts.get('crashed', 0)}); {counts['identity']} identities "
        "(true by construction) are reported apart and not counted.",
        f"Chance failures to expect if every judged claim were true: {expected:.2f} (the sum of the {with_level} "
        "rules' false-fail levels alpha; a rule's alpha bounds the probability that a true claim fails by chance).",
        "A claim passes only when its theory passes and every rival fails under the same rule on the same "
        "measurement; a rival that passes too makes it inconclusive (cannot discriminate at this size).",
    ]
    return lines


def _provenance_items(run) -> list[tuple[str, str]]:
    versions = run.get("versions", {})
    return [
        ("profile", str(run.get("profile"))),
        ("seed", str(run.get("seed"))),
        ("git commit", str(run.get("git_commit") or "— (not run from a git checkout)")),
        ("timestamp (UTC)", str(run.get("timestamp_utc"))),
        ("config hash", str(run.get("config_hash"))),
        ("schema version", str(run.get("schema_version"))),
        ("versions", ", ".join(f"{k} {v}" for k, v in versions.items())),
    ]


def write_report(results, out_dir, *, profile: str, seed: int) -> dict[str, Path]:
    """Write the report of one run into a fresh run directory of ``out_dir``, then publish it atomically.

    The run directory (``out_dir/verify-runs/<UTC time>-...``) receives ``claims.json``,
    ``claims-<profile>.json`` (merged with the previous run's, and the previous run's files of the
    other profiles carried over, so the report shows their verdicts side by side), ``report.md``,
    ``report.html`` and ``figures/*.png``. Only when every file is written does ``out_dir/latest``
    switch to it (:mod:`rmt_sparsity.report.layout`), so a reader of ``out_dir/claims.json``,
    ``out_dir/report.html`` ... (fixed links into ``latest/``) sees the old report or the new one,
    never a mix, even when the run is killed between two writes.

    Parameters
    ----------
    results : sequence of ClaimResult
        At least one.
    out_dir : path-like
        The report directory (created if missing). Checked before anything is written:
        ``''`` and directories holding report names this layout did not write are refused
        (:func:`~rmt_sparsity.report.layout.check_out_dir`).
    profile : {"smoke", "quick", "full"}
    seed : int
        Recorded in the run provenance (an integer >= 0).

    Returns
    -------
    dict
        Paths of the files written (``claims``, ``claims_profile``, ``markdown``, ``html``, and
        one ``figure:<name>`` per figure), as read through ``out_dir`` (or inside the run
        directory where symbolic links are unavailable), and ``run_dir``.
    """
    from ..experiments.runner import ClaimResult
    from .._checks import check_choice, check_int
    from . import layout

    out = layout.check_out_dir(out_dir)
    if isinstance(results, (str, bytes, dict)) or not hasattr(results, "__iter__"):
        raise TypeError(f"results must be a sequence of ClaimResult; got {type(results).__name__} {results!r:.80}")
    results = list(results)
    if not results:
        raise ValueError("results must hold at least one ClaimResult; got an empty sequence")
    for r in results:
        if not isinstance(r, ClaimResult):
            raise TypeError(f"results must hold ClaimResult records; got {type(r).__name__} {r!r:.80}")
    check_choice("profile", profile, PROFILES)
    seed = check_int("seed", seed, min=0)

    out.mkdir(parents=True, exist_ok=True)
    layout.migrate_legacy(out)
    prev = layout.latest_run(out)
    run_dir = layout.new_run_dir(out)
    fig_dir = run_dir / "figures"
    fig_dir.mkdir()
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
                written[f"figure:{name}"] = Path("figures") / name
        rec["figures"] = [f"figures/{p.name}" for _, p in figs]
        figure_files[r.id] = figs
        records.append(rec)
    run = run_provenance(results, profile=profile, seed=seed)
    doc = claims_document(records, run=run)
    atomic_write_json(run_dir / "claims.json", doc)
    written["claims"] = Path("claims.json")
    prev_profile = prev / f"claims-{profile}.json" if prev is not None else run_dir / "none.json"
    atomic_write_json(run_dir / f"claims-{profile}.json", merge_profile_document(prev_profile, doc))
    written["claims_profile"] = Path(f"claims-{profile}.json")
    if prev is not None:  # the other profiles' records, carried over so that the run directory is self-contained
        for p in PROFILES:
            src = prev / f"claims-{p}.json"
            if p != profile and src.is_file():
                atomic_write_text(run_dir / src.name, src.read_text())
    others = _other_profiles(run_dir, profile)
    atomic_write_text(run_dir / "report.md", _markdown(records, run, others, figure_files))
    atomic_write_text(run_dir / "report.html", _html(records, run, others, figure_files))
    written["markdown"], written["html"] = Path("report.md"), Path("report.html")
    base = layout.publish(out, run_dir)
    paths = {k: base / v for k, v in written.items()}
    paths["run_dir"] = run_dir
    return paths


# ----------------------------------------------------------------------------- Markdown


def _md_cell(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _threshold_cell(rec) -> str:
    ts = rec.get("thresholds") or []
    return "; ".join(_threshold_short(t) for t in ts) if ts else "—"


def _markdown(records, run, others, figure_files) -> str:
    profile = run.get("profile")
    cols = [profile] + [p for p in PROFILES if p in others]
    md = ["# rmt-sparsity verify report", "", "## Run", ""]
    md += [f"- **{k}**: {v}" for k, v in _provenance_items(run)]
    md += ["", "## Summary", ""] + [f"- {line}" for line in _summary_lines(records, run)]
    judged = [r for r in records if r["kind"] != "identity"]
    idents = [r for r in records if r["kind"] == "identity"]
    head = ["claim", "kind"] + [f"verdict ({p})" for p in cols] + ["prediction", "band", "measurement ± SE",
                                                                    "threshold", "rivals"]
    md += ["", "## Claims", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in judged:
        verdicts = [f"**{_status(r)}**"] + [
            (others[p][r["id"]]["verdict"]["status"] if r["id"] in others[p] else "—") for p in cols[1:]]
        md.append("| " + " | ".join(_md_cell(c) for c in [f"`{r['id']}`", r["kind"], *verdicts, _pred_value(
            r.get("prediction")), _band(r.get("prediction")), _meas(r), _threshold_cell(r), _rivals_short(r)]) + " |")
    if idents:
        md += ["", "## Identities (true by construction; outside the tally)", "",
               "| claim | verdict | prediction | band | measurement ± SE | threshold |", "|---|---|---|---|---|---|"]
        for r in idents:
            md.append("| " + " | ".join(_md_cell(c) for c in [f"`{r['id']}`", f"**{_status(r)}**", _pred_value(
                r.get("prediction")), _band(r.get("prediction")), _meas(r), _threshold_cell(r)]) + " |")
    md += ["", "## Details"]
    for r in records:
        md += _md_details(r, others, figure_files)
    return "\n".join(md) + "\n"


def _kv_lines(d) -> list[str]:
    out = []
    for k, v in (d or {}).items():
        s = _fmt(_num(v)) if not isinstance(v, (list, dict)) else json.dumps(v)
        if len(s) > 400:
            s = s[:400] + " …"
        out.append(f"- {k}: {s}")
    return out


def _md_details(r, others, figure_files) -> list[str]:
    md = ["", f"### `{r['id']}`", "", r["statement"], "", f"*Source:* {r['source']}", "",
          f"*Kind:* {r['kind']}" + (" (true by construction: outside the tally)" if r["kind"] == "identity" else ""),
          "", f"*Verdict:* **{_status(r)}** — {r['verdict']['reason']}"]
    tv = r.get("theory_verdict")
    if tv and r.get("rivals"):
        md += ["", f"*Theory alone:* {tv['status']} — {tv['reason']}"]
    for p, recs in others.items():
        if r["id"] in recs:
            o = recs[r["id"]]
            md += ["", f"*Verdict on profile {p}:* **{o['verdict']['status']}** — {o['verdict']['reason'][:300]}"]
    pred = r.get("prediction")
    if pred:
        md += ["", f"*Prediction:* {_pred_value(pred)}, region {_band(pred)}"] + _kv_lines(pred.get("details"))
    meas = r.get("measurement")
    if meas:
        md += ["", f"*Measurement:* {_meas(r)} (n = {meas.get('n')})"] + _kv_lines(meas.get("details"))
    ts = r.get("thresholds") or []
    if ts:
        md += ["", "*Thresholds:*"]
        for t in ts:
            how = t.get("derivation") or t.get("justification")
            md.append(f"- {_threshold_short(t)}: {how}")
    if r.get("rivals"):
        md += ["", "*Rivals* (same rule, same measurement):", "",
               "| rival | prediction | region | statistic | verdict | reason |", "|---|---|---|---|---|---|"]
        for rv in r["rivals"]:
            st = rv["statistic"]
            stat = _fmt(_num(st.get("value"))) + ("" if st.get("se") is None else f" ± {_fmt(_num(st['se']), 2)}")
            md.append("| " + " | ".join(_md_cell(c) for c in [
                rv["name"], _pred_value(rv["prediction"]), _band(rv["prediction"]), stat,
                f"**{rv['verdict']['status']}**", rv["verdict"]["reason"][:300]]) + " |")
        for rv in r["rivals"]:
            for t in rv["prediction"].get("thresholds") or []:
                md.append(f"- {rv['name']}: {_threshold_short(t)}: {t.get('derivation') or t.get('justification')}")
    tr = r.get("training")
    if tr:
        md += ["", f"*Training:* {'reached' if tr['reached'] else 'NOT reached'} — {tr['reason']} "
               f"(rule: {tr['rule'].get('justification', '')})"]
    for title, path in figure_files.get(r["id"], []):
        md += ["", f"![{title}](figures/{path.name})"]
    if r.get("error"):
        md += ["", "```", r["error"].rstrip(), "```"]
    prov = r.get("provenance") or {}
    md += ["", f"*Provenance:* profile {prov.get('profile')}, seed {prov.get('seed')}, config hash "
           f"`{prov.get('config_hash', '—')}`"]
    return md


# ----------------------------------------------------------------------------- HTML


_CSS = ("body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse;margin:6px 0}"
        "td,th{border:1px solid #ccc;padding:3px 6px;font-size:88%;vertical-align:top}.pass{color:#070}"
        ".fail{color:#b00}.inconclusive{color:#a60}.not_implemented,.skipped{color:#666}img{max-width:100%}"
        "details{margin:4px 0}small{color:#555}")


def _html_row(r, cols, others, e) -> str:
    st = _status(r)
    cells = [f"<td><a href='#{e(r['id'])}'>{e(r['id'])}</a></td>", f"<td>{e(r['kind'])}</td>",
             f"<td class='verdict {e(r['verdict']['status'])}'>{e(st)}</td>"]
    for p in cols[1:]:
        o = others[p].get(r["id"])
        s = o["verdict"]["status"] if o else "—"
        cells.append(f"<td class='verdict-{e(p)} {e(s)}'>{e(s)}</td>")
    m = r.get("measurement") or {}
    cells += [
        f"<td class='prediction'>{e(_pred_value(r.get('prediction')))}</td>",
        f"<td class='band'>{e(_band(r.get('prediction')))}</td>",
        f"<td class='measurement'>{e(_fmt(_num(m.get('value'))) if m else '—')}</td>",
        f"<td class='uncertainty'>{e(_fmt(_num(m.get('se')), 2) if m else '—')}</td>",
        f"<td class='threshold'>{e(_threshold_cell(r))}</td>",
        f"<td class='rivals'>{e(_rivals_short(r))}</td>",
    ]
    return f"<tr class='claim' data-claim='{e(r['id'])}'>" + "".join(cells) + "</tr>"


def _html(records, run, others, figure_files) -> str:
    e = html.escape
    profile = run.get("profile")
    cols = [profile] + [p for p in PROFILES if p in others]
    h = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>rmt-sparsity verify report</title>",
         f"<style>{_CSS}</style></head><body>", "<h1>rmt-sparsity verify report</h1>", "<h2>Run</h2>",
         "<table class='provenance'>"]
    h += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _provenance_items(run)]
    h += ["</table>", "<h2>Summary</h2>", "<ul>"] + [f"<li>{e(line)}</li>" for line in _summary_lines(records, run)]
    h.append("</ul>")
    head = ["claim", "kind"] + [f"verdict ({p})" for p in cols] + ["prediction", "band", "measurement",
                                                                    "uncertainty (se)", "threshold", "rivals"]
    th = "<tr>" + "".join(f"<th>{e(c)}</th>" for c in head) + "</tr>"
    judged = [r for r in records if r["kind"] != "identity"]
    idents = [r for r in records if r["kind"] == "identity"]
    h += ["<h2>Claims</h2>", "<table class='claims'>", th] + [_html_row(r, cols, others, e) for r in judged]
    h.append("</table>")
    if idents:
        h += ["<h2>Identities (true by construction; outside the tally)</h2>", "<table class='identities'>", th]
        h += [_html_row(r, cols, others, e) for r in idents] + ["</table>"]
    h.append("<h2>Details</h2>")
    for r in records:
        h += _html_details(r, others, figure_files, e)
    h.append("</body></html>")
    return "\n".join(h) + "\n"


def _html_kv(d, e) -> str:
    rows = []
    for k, v in (d or {}).items():
        s = _fmt(_num(v)) if not isinstance(v, (list, dict)) else json.dumps(v)
        if len(s) > 600:
            s = s[:600] + " …"
        rows.append(f"<tr><th>{e(str(k))}</th><td>{e(s)}</td></tr>")
    return "<table>" + "".join(rows) + "</table>" if rows else ""


def _html_details(r, others, figure_files, e) -> list[str]:
    st = r["verdict"]["status"]
    h = [f"<h3 id='{e(r['id'])}'>{e(r['id'])}</h3>", f"<p>{e(r['statement'])}</p>",
         f"<p><i>Source:</i> {e(r['source'])} &nbsp; <i>Kind:</i> {e(r['kind'])}"
         + (" (true by construction: outside the tally)" if r["kind"] == "identity" else "") + "</p>",
         f"<p><b class='{e(st)}'>{e(_status(r))}</b> — {e(r['verdict']['reason'])}</p>"]
    tv = r.get("theory_verdict")
    if tv and r.get("rivals"):
        h.append(f"<p><i>Theory alone:</i> <span class='{e(tv['status'])}'>{e(tv['status'])}</span> — {e(tv['reason'])}</p>")
    for p, recs in others.items():
        if r["id"] in recs:
            o = recs[r["id"]]
            h.append(f"<p><i>Verdict on profile {e(p)}:</i> <span class='{e(o['verdict']['status'])}'>"
                     f"{e(o['verdict']['status'])}</span> — {e(o['verdict']['reason'][:300])}</p>")
    pred, meas = r.get("prediction"), r.get("measurement")
    if pred:
        h.append(f"<p><i>Prediction:</i> {e(_pred_value(pred))}, region {e(_band(pred))}</p>")
        h.append(f"<details><summary>prediction details</summary>{_html_kv(pred.get('details'), e)}</details>")
    if meas:
        h.append(f"<p><i>Measurement:</i> {e(_meas(r))} (n = {e(str(meas.get('n')))})</p>")
        h.append(f"<details><summary>measurement details</summary>{_html_kv(meas.get('details'), e)}</details>")
    ts = r.get("thresholds") or []
    if ts:
        h.append("<p><i>Thresholds:</i></p><ul>" + "".join(
            f"<li>{e(_threshold_short(t))}: <small>{e(t.get('derivation') or t.get('justification') or '')}</small></li>"
            for t in ts) + "</ul>")
    if r.get("rivals"):
        rows = ["<tr><th>rival</th><th>prediction</th><th>region</th><th>statistic</th><th>verdict</th><th>reason</th></tr>"]
        for rv in r["rivals"]:
            st_ = rv["statistic"]
            stat = _fmt(_num(st_.get("value"))) + ("" if st_.get("se") is None else f" ± {_fmt(_num(st_['se']), 2)}")
            s = rv["verdict"]["status"]
            rows.append(f"<tr class='rival'><td>{e(rv['name'])}<br><small>{e(rv.get('description', ''))}</small></td>"
                        f"<td>{e(_pred_value(rv['prediction']))}</td><td>{e(_band(rv['prediction']))}</td>"
                        f"<td>{e(stat)}</td><td class='{e(s)}'>{e(s)}</td><td><small>{e(rv['verdict']['reason'])}"
                        "</small></td></tr>")
        h.append("<p><i>Rivals</i> (same rule, same measurement):</p><table class='rivals'>" + "".join(rows) + "</table>")
    tr = r.get("training")
    if tr:
        h.append(f"<p><i>Training:</i> {'reached' if tr['reached'] else 'NOT reached'} — {e(tr['reason'])}</p>")
    for title, path in figure_files.get(r["id"], []):
        b64 = base64.b64encode(path.read_bytes()).decode("ascii")
        h.append(f"<figure><img alt='{e(title)}' src='data:image/png;base64,{b64}'><figcaption>{e(title)}</figcaption></figure>")
    if r.get("error"):
        h.append(f"<pre>{e(r['error'])}</pre>")
    prov = r.get("provenance") or {}
    h.append(f"<p><small>Provenance: profile {e(str(prov.get('profile')))}, seed {e(str(prov.get('seed')))}, "
             f"config hash {e(str(prov.get('config_hash')))}</small></p>")
    return h
