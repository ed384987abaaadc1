"""Limiting spectral laws: closed forms and fixed-point solutions, no sampling of matrices.

Marchenko–Pastur, Tracy–Widom and the finite-size edge bands built on them;
the weighted-covariance (generalised MP), information-plus-noise and free
convolution laws, solved by one certified Stieltjes fixed-point solver. Imports
are light (NumPy and SciPy; Numba compiles only on first use of a large problem).
"""

from .edges import EdgeBand, edge_band, min_edge_method, soft_edge_params
from .free import (
    ConvergenceError,
    CovarianceProblem,
    DiscreteMeasure,
    FixedPointLaw,
    FixedPointProblem,
    FreeConvolutionLaw,
    InformationPlusNoiseLaw,
    WeightedCovarianceLaw,
    discounted,
    free_additive_convolution,
    free_multiplicative_convolution,
    kish_effective_size,
    solve_stieltjes,
)
from .marchenko_pastur import MarchenkoPastur, marchenko_pastur
from .tracy_widom import TW_MEAN, TW_VAR, TracyWidom

__all__ = [
    "ConvergenceError",
    "CovarianceProblem",
    "DiscreteMeasure",
    "EdgeBand",
    "FixedPointLaw",
    "FixedPointProblem",
    "FreeConvolutionLaw",
    "InformationPlusNoiseLaw",
    "MarchenkoPastur",
    "TW_MEAN",
    "TW_VAR",
    "TracyWidom",
    "WeightedCovarianceLaw",
    "discounted",
    "edge_band",
    "free_additive_convolution",
    "free_multiplicative_convolution",
    "kish_effective_size",
    "marchenko_pastur",
    "min_edge_method",
    "soft_edge_params",
    "solve_stieltjes",
]
