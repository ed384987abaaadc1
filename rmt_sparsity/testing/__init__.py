"""rmt_sparsity.testing: hypothesis strategies and calibrated assertions for users' own tests.

Importing this package is light: it imports neither JAX nor Hypothesis nor
compiles Numba code. The strategies (which need Hypothesis) load on first
access of :mod:`rmt_sparsity.testing.strategies`.

Public API
----------
::

    assert_spectrum_matches     one matrix's spectrum vs a Marchenko-Pastur law (trace, tr S^2, edge sub-tests)
    assert_ratio_within_band    lambda_max / lambda_min in its Tracy-Widom band
    assert_close_statistically  |a - b| <= k se, or k from a (Bonferroni) level
    assert_sparse_matches_dense sparse product vs dense within the gamma_N rounding bound
    wishart_trace_moments       exact finite-n mean/variance of tr S and tr S^2 (beta-Laguerre)
    strategies                  hypothesis strategies (mp_parameters, wishart_matrices, matrices_with_spectrum,
                                spiked_matrices, sparse_activations, ffn_weights, layernorm_inputs)

Examples
--------
>>> from rmt_sparsity.testing import assert_close_statistically
>>> assert_close_statistically(0.51, 0.5, se=0.01, k=4)
>>> from hypothesis import find
>>> from rmt_sparsity.testing import strategies
>>> find(strategies.mp_parameters(), lambda rs: rs[0] > 2.0)  # shrinks to simple values
(3.0, 1.0)
"""

from __future__ import annotations

import importlib

from ._assertions import (
    EDGE_MIN_DIM,
    assert_close_statistically,
    assert_ratio_within_band,
    assert_sparse_matches_dense,
    assert_spectrum_matches,
    wishart_trace_moments,
)

__all__ = [
    "EDGE_MIN_DIM",
    "assert_close_statistically",
    "assert_ratio_within_band",
    "assert_sparse_matches_dense",
    "assert_spectrum_matches",
    "wishart_trace_moments",
    "strategies",
]


def __getattr__(name: str):
    if name == "strategies":
        mod = importlib.import_module(".strategies", __name__)
        globals()[name] = mod
        return mod
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
