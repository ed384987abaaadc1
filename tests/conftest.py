"""Shared test configuration.

Hypothesis runs derandomized by default, so CI and every developer see the same examples
(a failure is reproducible from the commit alone). Explore new examples locally with
``pytest --hypothesis-profile=explore``.
"""

import pytest
from hypothesis import settings

settings.register_profile("default", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", derandomize=False, deadline=None, max_examples=500, print_blob=True)
settings.load_profile("default")


@pytest.fixture
def short_dask_timeout(monkeypatch):
    """``dask_executor`` gives up connecting after 1 s (its default is 10 s), for tests of unreachable schedulers."""
    from rmt_sparsity.experiments.executors import dask_executor

    monkeypatch.setitem(dask_executor.__kwdefaults__, "timeout", "1s")
