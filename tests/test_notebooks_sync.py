"""The notebooks' jupytext percent-format ``.py`` files are the source; the paired ``.ipynb`` must match them.

Regenerate the notebooks with ``jupytext --to ipynb notebooks/*.py`` after editing a ``.py`` file
(see ``notebooks/README.md``). Executing them is nbmake's job (``pytest --nbmake notebooks/*.ipynb``);
this module only checks that what nbmake runs is what the sources say, which takes well under a second.
"""

from __future__ import annotations

import pathlib
import re

import pytest

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
EXPECTED = [
    "01_mp_and_tracy_widom",
    "02_gradient_noise_weighted_mp",
    "03_training_with_weight_noise",
    "04_sparsity_metrics_and_flatness",
    "05_compute_savings",
    "06_analysing_real_weights",
    "07_causal_chain",
]


def _cells(nb):
    """(cell_type, source) of every cell: the content that must agree (metadata and outputs aside)."""
    return [(c.cell_type, c.source) for c in nb.cells]


def test_the_notebooks_exist_in_both_formats():
    assert [p.stem for p in SOURCES] == EXPECTED
    assert sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) == EXPECTED


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_ipynb_matches_its_percent_source(source):
    from_py = jupytext.read(source)
    ipynb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    expected, actual = _cells(from_py), _cells(ipynb)
    assert len(actual) == len(expected), (
        f"{source.name}: {len(expected)} cells in the .py but {len(actual)} in the .ipynb; "
        "run `jupytext --to ipynb notebooks/*.py`"
    )
    for i, (e, a) in enumerate(zip(expected, actual)):
        assert a == e, f"{source.name}: cell {i} differs from the .py source; run `jupytext --to ipynb notebooks/*.py`"
    assert ipynb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_committed_notebook_has_no_outputs(source):
    ipynb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    code = [c for c in ipynb.cells if c.cell_type == "code"]
    assert code, f"{source.name}: no code cells"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
        f"{source.with_suffix('.ipynb').name} carries outputs: regenerate it from the .py"
    )


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_notebook_has_the_quick_switch(source):
    text = source.read_text(encoding="utf-8")
    # default small: unset (or "1") means QUICK, only "0" selects the full size
    assert re.search(r'QUICK = os\.environ\.get\("RMT_SPARSITY_QUICK", "1"\) != "0"', text), source.name
    assert "matplotlib.use(\"Agg\")" in text, source.name


def test_sync_check_detects_an_edited_cell():
    """The comparison is not vacuous: one changed character in a code cell is a mismatch."""
    source = SOURCES[0]
    from_py = jupytext.read(source)
    ipynb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    assert _cells(from_py) == _cells(ipynb)
    i = next(k for k, c in enumerate(ipynb.cells) if c.cell_type == "code")
    ipynb.cells[i].source += "\n# edited"
    assert _cells(from_py) != _cells(ipynb)
