"""Limiting spectral laws: closed forms and fixed-point solutions, no sampling of matrices.

Each helper/capability owns one section below; keep imports light (scipy only).
"""

# --- Marchenko-Pastur (issue 2) ---
from .marchenko_pastur import MarchenkoPastur, marchenko_pastur  # noqa: E402

__all__ = globals().get("__all__", []) + ["MarchenkoPastur", "marchenko_pastur"]

# --- Tracy-Widom and finite-size edge bands (issue 3) ---
from .edges import EdgeBand, edge_band, soft_edge_params  # noqa: E402
from .tracy_widom import TW_MEAN, TW_VAR, TracyWidom  # noqa: E402

__all__ = globals().get("__all__", []) + [
    "TracyWidom",
    "TW_MEAN",
    "TW_VAR",
    "EdgeBand",
    "edge_band",
    "soft_edge_params",
]

# --- fixed-point laws: weighted covariance, information-plus-noise, free convolutions (issue 5) ---
from .free import (  # noqa: E402
    ConvergenceError,
    DiscreteMeasure,
    FixedPointLaw,
    FreeConvolutionLaw,
    HeuristicMP,
    InformationPlusNoiseLaw,
    WeightedCovarianceLaw,
    discounted,
    free_additive_convolution,
    free_multiplicative_convolution,
    heuristic_mp,
    kish_effective_size,
    solve_stieltjes,
)

__all__ = globals().get("__all__", []) + [
    "ConvergenceError",
    "DiscreteMeasure",
    "FixedPointLaw",
    "FreeConvolutionLaw",
    "HeuristicMP",
    "InformationPlusNoiseLaw",
    "WeightedCovarianceLaw",
    "discounted",
    "free_additive_convolution",
    "free_multiplicative_convolution",
    "heuristic_mp",
    "kish_effective_size",
    "solve_stieltjes",
]
