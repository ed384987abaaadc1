"""Package-level promises: light import, lazy subpackages, version."""

import subprocess
import sys

import pytest

import rmt_sparsity as rs


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def test_import_is_light():
    out = _fresh(
        "import sys, rmt_sparsity as rs; "
        "print(any(m == 'jax' or m.startswith('jax.') for m in sys.modules), 'numba' in sys.modules)"
    )
    assert out == "False False"


def test_laws_do_not_pull_jax():
    out = _fresh("import sys, rmt_sparsity as rs; rs.laws; rs.experiments.registry(); print('jax' in sys.modules)")
    assert out == "False"


def test_version_single_source():
    from importlib.metadata import version

    assert rs.__version__ == version("rmt-sparsity")


def test_public_names_resolve():
    missing = []
    for name in rs.__all__:
        try:
            getattr(rs, name)
        except (AttributeError, ImportError):
            missing.append(name)
    assert not missing, f"__all__ names that do not resolve: {missing}"


def test_all_lists_exactly_the_lazy_names():
    # the public names are written out explicitly; they must name every subpackage and flat re-export, and
    # nothing else. __all__ is that list less the names of subpackages whose extra is missing (none here).
    assert len(rs._PUBLIC) == len(set(rs._PUBLIC))
    assert set(rs._PUBLIC) == {"__version__", *rs._SUBPACKAGES, *rs._LAZY}
    pytest.importorskip("jax")
    assert rs.__all__ == rs._PUBLIC


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        rs.nope
