"""rmt_sparsity.kernels: Numba sparse FFN kernels and their NumPy reference.

Importing this package is cheap: it imports neither Numba nor compiles any
kernel. The public names load on first access (PEP 562) and the Numba
kernels compile (or load from the on-disk cache, ``cache=True``) on their
first call.

Public API
----------
ffn_dense            NumPy reference FFN, weights in (out, in) layout
ACTIVATIONS          the named activations (each maps h <= 0 to 0)
sparse_down          down-projection reading only active rows of W_out^T (per-row, union or dense path)
sparse_up            up-projection reading only selected rows of W_in (optionally a per-row mask)
sparse_ffn           fused forward (threshold / top-k / statistical top-k / predictor)
down_plan            which path sparse_down takes, and the cost model's estimates
CostModel, DEFAULT_COST_MODEL, choose_down_path, choose_up_path, crossover_density
                     the cost models behind ``method="auto"`` and the batched predicted up-projection
random_activations   random sparse activations with a fresh active set per call
LowRankPredictor     low-rank active-set predictor (recall, precision)
fit_predictor        fit one on sample inputs
kernel_threads       pin kernel, BLAS and Numba threads in a block
get_kernel_threads, set_kernel_threads
run_benchmark        the sparse-FFN speed benchmark (``rmt-sparsity bench kernels``)
"""

from __future__ import annotations

import importlib

_LAZY = {
    "ffn_dense": "._reference",
    "ACTIVATIONS": "._reference",
    "sparse_down": ".sparse",
    "sparse_up": ".sparse",
    "sparse_ffn": ".sparse",
    "down_plan": ".sparse",
    "random_activations": ".sparse",
    "CostModel": ".plan",
    "DEFAULT_COST_MODEL": ".plan",
    "choose_down_path": ".plan",
    "choose_up_path": ".plan",
    "crossover_density": ".plan",
    "LowRankPredictor": ".predictor",
    "fit_predictor": ".predictor",
    "kernel_threads": ".threads",
    "get_kernel_threads": ".threads",
    "set_kernel_threads": ".threads",
    "run_benchmark": ".bench",
}

__all__ = [
    "ACTIVATIONS",
    "CostModel",
    "DEFAULT_COST_MODEL",
    "LowRankPredictor",
    "choose_down_path",
    "choose_up_path",
    "crossover_density",
    "down_plan",
    "ffn_dense",
    "fit_predictor",
    "get_kernel_threads",
    "kernel_threads",
    "random_activations",
    "run_benchmark",
    "set_kernel_threads",
    "sparse_down",
    "sparse_ffn",
    "sparse_up",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
