"""Hypothesis strategies for the project's tests (docs/design.md §2).

A thin re-export of :mod:`rmt_sparsity.testing.strategies` (the same
strategies users get) plus test-only helpers: shared settings profiles.
"""

from hypothesis import HealthCheck, settings

from rmt_sparsity.testing.strategies import *  # noqa: F401,F403
from rmt_sparsity.testing.strategies import __all__ as _public

#: Deterministic property-test settings: fixed example sequence (no flaky CI), no deadline
#: (first calls compile Numba), no example database.
DETERMINISTIC = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow])

__all__ = list(_public) + ["DETERMINISTIC"]
