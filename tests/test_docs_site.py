"""The docs site's sources cover the package: every subpackage has an API page, every notebook a page.

The site itself is built by ``.ci/run`` (``sphinx-build -W``: warnings are errors, notebooks executed);
these checks are the cheap part that can run in ``pytest``.
"""

import ast
import re
from pathlib import Path

import rmt_sparsity as rs

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _conf_constant(name):
    tree = ast.parse((DOCS / "conf.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise KeyError(name)


def test_every_subpackage_has_an_api_page():
    subpackages = _conf_constant("_SUBPACKAGES")
    assert set(subpackages) == set(rs._SUBPACKAGES)
    index = (DOCS / "api" / "index.rst").read_text()
    for sub in (*subpackages, "utilities"):
        assert f"_autogen/{sub}\n" in index, sub


def test_every_notebook_is_in_the_site():
    notebooks = sorted(p.stem for p in (DOCS.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    listed = re.findall(r"^notebooks/(\S+)$", (DOCS / "index.md").read_text(), flags=re.M)
    assert notebooks and listed == notebooks


def test_guide_pages_and_catalog_directive():
    index = (DOCS / "index.md").read_text()
    for page in ("design", "science", "claims"):
        assert (DOCS / f"{page}.md").is_file() and f"\n{page}\n" in index, page
    assert "```{claims-catalog}" in (DOCS / "claims.md").read_text()
    assert "claims_catalog" in _conf_constant("extensions")
