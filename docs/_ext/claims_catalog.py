"""Sphinx extension: the ``claims-catalog`` directive renders every registered claim at build time.

For each claim of :func:`rmt_sparsity.experiments.runner.registry`: the statement, source, kind, how the
prediction is made (the ``predict`` function's docstring and source), the compare rule (its docstring and
source), the rivals when the claim has them, and the config of each profile. Nothing is run: the catalog
is read from the registry, so it cannot drift from what ``rmt-sparsity verify`` judges.
"""

from __future__ import annotations

import inspect
import json
import textwrap

from docutils import nodes
from docutils.parsers.rst import Directive


def _first_paragraph(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n")[0].split())


def _source(obj) -> str | None:
    try:
        return textwrap.dedent(inspect.getsource(obj)).rstrip()
    except (OSError, TypeError):
        return None


def _name(obj) -> str:
    return getattr(obj, "__qualname__", None) or getattr(obj, "name", None) or type(obj).__name__


def _field(name: str, *body) -> nodes.field:
    f = nodes.field()
    f += nodes.field_name(text=name)
    fb = nodes.field_body()
    for b in body:
        fb += b
    f += fb
    return f


def _para(*parts) -> nodes.paragraph:
    p = nodes.paragraph()
    for part in parts:
        p += part if isinstance(part, nodes.Node) else nodes.Text(part)
    return p


def _code(text: str, language: str = "python") -> nodes.literal_block:
    block = nodes.literal_block(text, text)
    block["language"] = language
    return block


def _function_fields(label: str, fn) -> list:
    """A paragraph naming ``fn`` with its docstring's first paragraph, and its source."""
    module = getattr(fn, "__module__", "") or ""
    body = [_para(nodes.literal(text=_name(fn)), f" ({module})" if module else "",
                  ": " + _first_paragraph(fn) if _first_paragraph(fn) else "")]
    src = _source(fn)
    if src:
        body.append(_code(src))
    return [_field(label, *body)]


def _rivals(claim) -> list:
    rivals = getattr(claim, "rivals", None)
    if not rivals:
        return []
    items = rivals.items() if isinstance(rivals, dict) else [(None, r) for r in rivals]
    bl = nodes.bullet_list()
    for key, rival in items:
        name = key or getattr(rival, "name", None) or getattr(rival, "id", None) or _name(rival)
        text = getattr(rival, "description", None) or getattr(rival, "statement", None) or _first_paragraph(rival)
        li = nodes.list_item()
        li += _para(nodes.strong(text=str(name)), f": {' '.join(str(text).split())}" if text else "")
        bl += li
    return [_field("Rivals", bl)]


class ClaimsCatalog(Directive):
    """``.. claims-catalog::`` - a summary table, then one entry per registered claim."""

    has_content = False

    def run(self):
        from rmt_sparsity.experiments.runner import registry

        claims = list(registry().values())
        out: list[nodes.Node] = [_para(f"{len(claims)} claims, in registry order.")]

        table = nodes.table(classes=["claims-summary"])
        tgroup = nodes.tgroup(cols=3)
        table += tgroup
        for width in (30, 12, 58):
            tgroup += nodes.colspec(colwidth=width)
        thead, tbody = nodes.thead(), nodes.tbody()
        row = nodes.row()
        for head in ("claim", "kind", "statement"):
            row += nodes.entry("", _para(head))
        thead += row
        for c in claims:
            row = nodes.row()
            ref = nodes.reference("", "", internal=True, refid=f"claim-{c.id}")
            ref += nodes.literal(text=c.id)
            row += nodes.entry("", _para(ref))
            row += nodes.entry("", _para(c.kind))
            row += nodes.entry("", _para(" ".join(c.statement.split())))
            tbody += row
        tgroup += thead
        tgroup += tbody
        out.append(table)

        for c in claims:
            section = nodes.section(ids=[f"claim-{c.id}"], names=[f"claim-{c.id}"])
            section += nodes.title("", "", nodes.literal(text=c.id))
            fields = nodes.field_list()
            fields += _field("Statement", _para(" ".join(c.statement.split())))
            fields += _field("Source", _para(c.source))
            fields += _field("Kind", _para(c.kind))
            for f in _function_fields("Prediction", c.predict) + _function_fields("Rule", c.compare):
                fields += f
            for f in _rivals(c):
                fields += f
            profiles = {p: dict(cfg) for p, cfg in c.profiles.items()}
            if profiles:
                fields += _field("Profiles", _code(json.dumps(profiles, indent=1, default=str), "json"))
            section += fields
            out.append(section)
        return out


def setup(app):
    app.add_directive("claims-catalog", ClaimsCatalog)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
