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


def test_one_version_everywhere():
    """pyproject.toml (read from rmt_sparsity._version), the README's pinned install and CITATION.cff agree."""
    import re
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "rmt_sparsity._version.__version__"}
    readme_pins = re.findall(r"rmt-sparsity==([0-9A-Za-z.+-]+)", (ROOT / "README.md").read_text())
    cff = re.search(r"^version:\s*\"?([^\"\n]+)\"?", (ROOT / "CITATION.cff").read_text(), flags=re.M).group(1)
    assert readme_pins and set(readme_pins) == {rs.__version__} and cff == rs.__version__


def test_license_and_metadata():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "BSD-3-Clause" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License") and "Neither the name of the copyright holder" in text
    assert project["urls"]
    extras = project["optional-dependencies"]
    assert {"nn", "report", "dask", "distributed", "data", "testing", "proofs", "all", "dev"} <= set(extras)
    core = " ".join(project["dependencies"])
    for heavy in ("jax", "optax", "matplotlib", "sympy", "hypothesis", "scikit-learn", "dask"):
        assert heavy not in core, heavy


def test_readme_section_and_changelog():
    assert "## How to cite and reproduce" in (ROOT / "README.md").read_text()
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()


def test_show_versions_report():
    buf = io.StringIO()
    rs.show_versions(file=buf)
    text = buf.getvalue()
    for name in ("rmt_sparsity", "numpy", "scipy", "numba", "jax", "optax", "blas", "cpu"):
        assert name in text, name
