"""Sphinx configuration of the rmt_sparsity docs site (built from this repository).

    sphinx-build -W -b html docs docs/_build/html

Pages: the API reference (numpydoc docstrings, autosummary), the design and science pages, the claims
catalog (generated from the registry at build time by ``_ext/claims_catalog.py``) and the notebooks of
``notebooks/``, executed by myst-nb at their small default size (``RMT_SPARSITY_QUICK`` unset).
Set ``RMT_SPARSITY_DOCS_EXECUTE=off`` to build without executing the notebooks (a quick local preview;
CI always executes them).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

import rmt_sparsity  # noqa: E402

project = "rmt_sparsity"
author = "rmt_sparsity developers"
copyright = "2026, rmt_sparsity developers (BSD-3-Clause)"
release = rmt_sparsity.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "claims_catalog",
]

# --- notebooks: copied from notebooks/ (their home) into the source tree, then executed by myst-nb
_NB_SRC, _NB_DST = ROOT / "notebooks", DOCS / "notebooks"
shutil.rmtree(_NB_DST, ignore_errors=True)
_NB_DST.mkdir()
for nb in sorted(_NB_SRC.glob("[0-9][0-9]_*.ipynb")):
    shutil.copy2(nb, _NB_DST / nb.name)

nb_execution_mode = os.environ.get("RMT_SPARSITY_DOCS_EXECUTE", "cache")
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

templates_path = ["_templates"]
exclude_patterns = ["_build", "_ext", "_templates", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "notebooks/README.md"]

# --- API reference: one page per subpackage listing its ``__all__``, generated here so it cannot drift
_SUBPACKAGES = ("laws", "ensembles", "spectra", "noise", "theory", "metrics", "kernels", "nn", "flatness",
                "experiments", "report", "testing")
_API = DOCS / "api" / "_autogen"
shutil.rmtree(_API, ignore_errors=True)
_API.mkdir(parents=True)


def _api_page(module: str, names, title: str | None = None, intro: str = "") -> str:
    title = title or module
    lines = [title, "=" * len(title), ""]
    if intro:
        lines += [intro, ""]
    else:
        lines += [f".. automodule:: {module}", "   :no-members:", ""]
    lines += [f".. currentmodule:: {module}", "", ".. autosummary::", "   :toctree: generated", ""]
    lines += [f"   {n}" for n in names]
    return "\n".join(lines) + "\n"


import importlib  # noqa: E402
import types  # noqa: E402


def _public_names(mod) -> list[str]:
    """The names of ``mod.__all__`` that are documented objects (not submodules, not private)."""
    return [n for n in mod.__all__ if not n.startswith("_") and not isinstance(getattr(mod, n), types.ModuleType)]


for _sub in _SUBPACKAGES:
    _mod = importlib.import_module(f"rmt_sparsity.{_sub}")
    (_API / f"{_sub}.rst").write_text(_api_page(f"rmt_sparsity.{_sub}", _public_names(_mod)))
(_API / "utilities.rst").write_text(_api_page(
    "rmt_sparsity", ["show_versions", "as_generator"], title="Package utilities",
    intro="Environment reporting for papers and bug reports, and the ``rng=`` normalisation every NumPy/Numba "
          "entry point uses."))

autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# --- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"rmt_sparsity {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
html_last_updated_fmt = None
