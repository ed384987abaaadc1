"""Fixed-point spectral laws (docs/design.md §2 ``laws/free.py``): the public module.

Re-exports, from their implementation modules:

* the certified Stieltjes fixed-point solver (:mod:`rmt_sparsity.laws.fixed_point`):
  :func:`solve_stieltjes`, :class:`FixedPointLaw`, :class:`FixedPointProblem`,
  :class:`CovarianceProblem`,
  :class:`StieltjesSolution`, :class:`ConvergenceError`;
* the weighted sample covariance / generalised MP law and SGD's discounted
  covariance (:mod:`rmt_sparsity.laws.weighted_covariance`):
  :class:`WeightedCovarianceLaw`, :func:`discounted`, :func:`kish_effective_size`
  (the paper's heuristic MP is :func:`rmt_sparsity.theory.heuristic_mp`);
* the information-plus-noise law (:mod:`rmt_sparsity.laws.information_plus_noise`):
  :class:`InformationPlusNoiseLaw`;
* free convolutions by subordination (:mod:`rmt_sparsity.laws.free_convolution`):
  :func:`free_additive_convolution`, :func:`free_multiplicative_convolution`,
  :class:`DiscreteMeasure`, :class:`FreeConvolutionLaw` and the moment /
  free-cumulant series helpers.

Conventions: ratio = p/n; spectra of ``(1/n)``-normalised ``p x p`` matrices;
``stieltjes`` is ``m(z) = ∫ μ(dx)/(x - z)`` (``Im m > 0`` for ``Im z > 0``).

Examples
--------
>>> from rmt_sparsity.laws.free import discounted
>>> round(discounted(100 / 3000, 0.99, 3000).ratio_of_edges(), 1)
20.0
"""

from .fixed_point import (
    ConvergenceError,
    CovarianceProblem,
    FixedPointLaw,
    FixedPointProblem,
    StieltjesSolution,
    solve_stieltjes,
)
from .free_convolution import (
    DiscreteMeasure,
    FreeConvolutionLaw,
    free_additive_convolution,
    free_cumulants_to_moments,
    free_multiplicative_convolution,
    moments_to_free_cumulants,
    multiplicative_moments,
)
from .information_plus_noise import InformationPlusNoiseLaw
from .weighted_covariance import WeightedCovarianceLaw, discounted, kish_effective_size

__all__ = [
    "ConvergenceError",
    "CovarianceProblem",
    "DiscreteMeasure",
    "FixedPointLaw",
    "FixedPointProblem",
    "FreeConvolutionLaw",
    "InformationPlusNoiseLaw",
    "StieltjesSolution",
    "WeightedCovarianceLaw",
    "discounted",
    "free_additive_convolution",
    "free_cumulants_to_moments",
    "free_multiplicative_convolution",
    "kish_effective_size",
    "moments_to_free_cumulants",
    "multiplicative_moments",
    "solve_stieltjes",
]
