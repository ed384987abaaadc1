"""Sparsity metrics from the literature (docs/science.md §6).

Pure functions of arrays (NumPy, or anything ``numpy.asarray`` accepts, such as
JAX arrays) or of callables; nothing here depends on :mod:`rmt_sparsity.nn`.
Shapes follow docs/design.md §3: activations are ``(tokens, d_ff)`` (last axis =
neurons), ``w_out`` is ``(d_model, d_ff)`` with ``w_out[:, i]`` neuron ``i``'s
output column, and weight matrices are ``(out, in)``.

- Basic fractions: :func:`zero_fraction`, :func:`activation_ratio`,
  :func:`activation_concentration`, :func:`gradient_sparsity`,
  :func:`relative_gradient_sparsity`, :func:`gradient_density_ratio`,
  :func:`gradient_log_histogram` (Li et al. 2022,
  arXiv:2210.06313; Peng et al., arXiv:2309.03004).
- CETT and PPL-p%: :func:`neuron_scores`, :func:`cett`, :func:`cett_pruned_fraction`,
  :func:`threshold_for_cett`, :func:`ppl_p_sparsity` (arXiv:2411.02335, arXiv:2402.03804).
- tau-dormant neurons: :func:`dormant_scores`, :func:`dormant_fraction` (ReDo, arXiv:2302.12902).
- :mod:`~rmt_sparsity.metrics.formulas`: the fractions above as array formulas
  with an ``xp`` namespace argument, the one definition shared by these NumPy
  functions and the JAX training probes of :func:`rmt_sparsity.nn.compute_probes`;
  they check shapes and dtypes always and values on concrete input only, so
  they trace (a NaN/inf entry of a traced input gives NaN).
- Pruning and essential sparsity: :func:`magnitude_prune`, :func:`nm_prune`,
  :func:`magnitude_pruning_curve`, :func:`nm_pruning_curve`, :func:`essential_sparsity`
  (arXiv:2306.03805).
- Top-k: :func:`statistical_topk`, :func:`exact_topk`, :func:`kept_fraction`
  (Spark Transformer, arXiv:2506.06644).
- Sparsing-law fits: :func:`fit_sparsing_law`, :func:`fit_breakpoint_linear`
  (arXiv:2411.02335).
"""

from . import formulas
from ._cett import (
    DEFAULT_CETT_GRID,
    PPLpResult,
    cett,
    cett_pruned_fraction,
    neuron_scores,
    ppl_p_sparsity,
    threshold_for_cett,
)
from ._fractions import (
    DORMANT_TAUS,
    GRADIENT_LOG_EDGES,
    GRADIENT_SPARSITY_TAUS,
    RELATIVE_GRADIENT_TAUS,
    activation_concentration,
    activation_ratio,
    dormant_fraction,
    dormant_scores,
    gradient_density_ratio,
    gradient_log_histogram,
    gradient_sparsity,
    relative_gradient_sparsity,
    zero_fraction,
)
from ._pruning import (
    EssentialSparsity,
    PruningCurve,
    essential_sparsity,
    magnitude_mask,
    magnitude_prune,
    magnitude_pruning_curve,
    nm_mask,
    nm_prune,
    nm_pruning_curve,
)
from ._sparsing_law import (
    SPARSING_LAW_0P1B_RELU,
    BreakpointFit,
    SparsingLawFit,
    fit_breakpoint_linear,
    fit_sparsing_law,
    sparsing_law_relu,
    sparsing_law_silu,
)
from ._topk import exact_topk, kept_fraction, statistical_topk, statistical_topk_threshold

__all__ = [
    "zero_fraction",
    "activation_ratio",
    "activation_concentration",
    "gradient_sparsity",
    "GRADIENT_SPARSITY_TAUS",
    "relative_gradient_sparsity",
    "RELATIVE_GRADIENT_TAUS",
    "gradient_density_ratio",
    "gradient_log_histogram",
    "GRADIENT_LOG_EDGES",
    "dormant_scores",
    "dormant_fraction",
    "DORMANT_TAUS",
    "formulas",
    "neuron_scores",
    "cett",
    "cett_pruned_fraction",
    "threshold_for_cett",
    "ppl_p_sparsity",
    "PPLpResult",
    "DEFAULT_CETT_GRID",
    "magnitude_mask",
    "magnitude_prune",
    "nm_mask",
    "nm_prune",
    "PruningCurve",
    "magnitude_pruning_curve",
    "nm_pruning_curve",
    "EssentialSparsity",
    "essential_sparsity",
    "statistical_topk",
    "statistical_topk_threshold",
    "exact_topk",
    "kept_fraction",
    "sparsing_law_relu",
    "sparsing_law_silu",
    "SPARSING_LAW_0P1B_RELU",
    "SparsingLawFit",
    "fit_sparsing_law",
    "BreakpointFit",
    "fit_breakpoint_linear",
]
