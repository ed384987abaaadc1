"""rmt_sparsity.noise: gradient-noise simulators (docs/design.md §2, docs/science.md §5).

* :func:`simulate_sgd_noise` - streaming simulation of the discounted input
  covariance ``C_t`` and weight update ``W_t`` of SGD on pure gradient noise;
* :func:`predict_vs_simulate` - exact (weighted-MP / information-plus-noise)
  and heuristic predictions beside simulated values, with Monte-Carlo SEs.
"""

from ._predict import predict_vs_simulate, wasserstein1_to_law
from ._simulate import BACKENDS, NoiseSimulation, extreme_ratio, simulate_sgd_noise

__all__ = [
    "BACKENDS",
    "NoiseSimulation",
    "extreme_ratio",
    "predict_vs_simulate",
    "simulate_sgd_noise",
    "wasserstein1_to_law",
]
