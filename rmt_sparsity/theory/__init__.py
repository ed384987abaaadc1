"""rmt_sparsity.theory: the theory's statements as pure, documented functions (docs/design.md §2, docs/science.md §5).

* weight-decay discounting: :func:`discount_factor`, :func:`effective_window`
  and :func:`discount_window` (the paper's T_eff), :func:`effective_ratio` and
  :func:`heuristic_mp` (the paper's heuristic MP), :func:`kish_effective_samples`,
  :func:`alpha_anisotropy`, :func:`predicted_alpha`;
* identities: :func:`key_gradient`, :func:`key_gradient_sq_norms`,
  :func:`augmented_flatness`, LayerNorm norm facts, :func:`noise_sharpness_prediction`;
* :func:`bound_re`, :func:`bound_im`: UNVERIFIED transcriptions of the paper code's bounds.
"""

from ._bounds import bound_im, bound_re
from ._identities import (
    augmented_flatness,
    key_gradient,
    key_gradient_sq_norms,
    layernorm_bound_attaining_configuration,
    layernorm_norm_lower_bound,
    layernorm_sq_norm,
    noise_sharpness_prediction,
    restricted_layernorm,
)
from ._window import (
    HeuristicMP,
    alpha_anisotropy,
    discount_factor,
    discount_window,
    effective_ratio,
    effective_window,
    heuristic_mp,
    kish_effective_samples,
    predicted_alpha,
)

__all__ = [
    "HeuristicMP",
    "alpha_anisotropy",
    "augmented_flatness",
    "bound_im",
    "bound_re",
    "discount_factor",
    "discount_window",
    "effective_ratio",
    "effective_window",
    "heuristic_mp",
    "key_gradient",
    "key_gradient_sq_norms",
    "kish_effective_samples",
    "layernorm_bound_attaining_configuration",
    "layernorm_norm_lower_bound",
    "layernorm_sq_norm",
    "noise_sharpness_prediction",
    "predicted_alpha",
    "restricted_layernorm",
]
