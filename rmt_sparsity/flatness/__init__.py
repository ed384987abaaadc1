"""rmt_sparsity.flatness: Hessian-based flatness measures in JAX.

All measures take a scalar loss ``loss(params, batch)`` and a parameter pytree,
and use Hessian-vector products (``jax.jvp`` of ``jax.grad``, forward-over-reverse);
none forms the Hessian. Every result carries its uncertainty or residual.

hutchinson_trace   Hessian trace, Rademacher probes, standard error, optional early stop
lanczos            top-k signed eigenvalues (largest algebraic / magnitude / smallest), Ritz residuals
slq_density        stochastic Lanczos quadrature: nodes, weights, smoothed density, width
noise_sharpness    E[L(W+E)] - L(W) with Monte-Carlo standard error (absolute or relative sigma)
sam_sharpness      first-order SAM sharpness and m-sharpness
hvp, num_params    Hessian-vector product of a pytree; number of parameters
make_flatness_probe  training-loop hook (every k steps)

Importing this subpackage imports JAX.
"""

from .._optional import require as _require

_require("jax", extra="nn", feature="rmt_sparsity.flatness")  # an ImportError naming the [nn] extra when missing

from ._common import hvp, num_params
from ._hessian import LanczosResult, SLQDensity, TraceEstimate, hutchinson_trace, lanczos, slq_density
from ._probe import PROBE_MEASURES, make_flatness_probe
from ._sharpness import NoiseSharpness, SAMSharpness, noise_sharpness, sam_sharpness

__all__ = [
    "hvp",
    "num_params",
    "hutchinson_trace",
    "lanczos",
    "slq_density",
    "noise_sharpness",
    "sam_sharpness",
    "make_flatness_probe",
    "PROBE_MEASURES",
    "TraceEstimate",
    "LanczosResult",
    "SLQDensity",
    "NoiseSharpness",
    "SAMSharpness",
]
