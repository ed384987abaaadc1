"""Root test configuration: the tutorial notebooks belong to the long test set.

Executing the seven notebooks of ``notebooks/`` takes about two and a half minutes on
two cores, so when ``pytest`` collects them from ``testpaths`` they are marked
``slow``: ``pytest -m slow`` executes them (as does the docs build, which runs every
notebook with errors raised). Named on the command line
(``pytest --nbmake notebooks/*.ipynb``) they run as they are.
"""

from pathlib import Path

import pytest

_NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


@pytest.hookimpl(tryfirst=True)  # before the -m selection deselects by marker
def pytest_collection_modifyitems(config, items):
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return
    for item in items:
        if item.path.suffix == ".ipynb" and item.path.parent == _NOTEBOOKS:
            item.add_marker(pytest.mark.slow)
