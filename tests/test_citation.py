"""Paper-readiness: CITATION.cff parses, versions agree, the README says how to cite and reproduce."""

import io
from pathlib import Path

import pytest

import rmt_sparsity as rs

ROOT = Path(__file__).resolve().parents[1]


def test_citation_cff():
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    for key in ("cff-version", "message", "title", "authors", "version"):
        assert key in data, key
    assert data["version"] == rs.__version__


def test_readme_section_and_changelog():
    assert "## How to cite and reproduce" in (ROOT / "README.md").read_text()
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()


def test_show_versions_report():
    buf = io.StringIO()
    rs.show_versions(file=buf)
    text = buf.getvalue()
    for name in ("rmt_sparsity", "numpy", "scipy", "numba", "jax", "optax", "blas", "cpu"):
        assert name in text, name
