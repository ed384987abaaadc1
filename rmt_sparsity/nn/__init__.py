"""rmt_sparsity.nn: JAX LayerNorm MLPs with the theory's modules, weight noise, training and probes.

Importing this subpackage imports JAX (``import rmt_sparsity`` does not).

Models are pure-JAX dict pytrees (see :class:`MLP`); weights are stored
(out, in). The modules of Peng et al. (arXiv 2309.03004):
J-SquaredReLU (:func:`jsrelu`), the zeroth bias, restricted LayerNorm,
the magic synapse (``MLP(noise_ratio=...)``) and weight noise at the gradient
point (:func:`weight_noise_value_and_grad`). One training loop serves
:func:`train` (one model, jit + scan chunks, :func:`compute_probes` recorded
between them) and :func:`train_ensemble` (K models that differ in seed, sigma,
lr or weight decay, as one ``jit(vmap(scan))`` program); :class:`TrainConfig`
holds the settings of both.
"""

from .._optional import require as _require

_require("jax", extra="nn", feature="rmt_sparsity.nn")  # an ImportError naming the [nn] extra when missing
_require("optax", extra="nn", feature="rmt_sparsity.nn")

from ._activations import (
    ACTIVATIONS,
    gelu,
    get_activation,
    jsrelu,
    mix_weight,
    relu,
    relu2,
    relu_jsrelu_mix,
    shifted_s,
    silu,
)
from ._data import Dataset, gaussian_mixture, load_digits, load_mnist1d, teacher_student
from ._layers import (
    clip_zeroth_bias,
    dense,
    layer_norm,
    magic_synapse_scale,
    project_restricted_gamma,
    restricted_gamma_lower,
)
from ._losses import per_example_loss
from ._memory import estimate_member_bytes
from ._models import HOOK_POINTS, LAYERNORMS, MLP, VARIANTS
from ._noise import default_noise_filter, perturb_weights, weight_noise_value_and_grad
from ._optim import OPTIMIZERS, make_optimizer, set_hyperparams
from ._probes import (
    DORMANT_TAUS,
    FLATNESS_MEASURES,
    compute_probes,
    gradient_identity_terms,
    key_matrix_spectra,
    per_token_eta,
)
from ._train import EnsembleResult, TrainConfig, Trainer, TrainResult, make_trainer, train, train_ensemble

__all__ = [
    "ACTIVATIONS",
    "DORMANT_TAUS",
    "HOOK_POINTS",
    "LAYERNORMS",
    "OPTIMIZERS",
    "VARIANTS",
    "MLP",
    "Dataset",
    "Trainer",
    "TrainConfig",
    "TrainResult",
    "clip_zeroth_bias",
    "compute_probes",
    "default_noise_filter",
    "dense",
    "gaussian_mixture",
    "gelu",
    "gradient_identity_terms",
    "get_activation",
    "jsrelu",
    "layer_norm",
    "load_digits",
    "load_mnist1d",
    "key_matrix_spectra",
    "magic_synapse_scale",
    "make_optimizer",
    "make_trainer",
    "mix_weight",
    "per_example_loss",
    "per_token_eta",
    "perturb_weights",
    "project_restricted_gamma",
    "relu",
    "relu2",
    "relu_jsrelu_mix",
    "restricted_gamma_lower",
    "set_hyperparams",
    "shifted_s",
    "silu",
    "teacher_student",
    "train",
    "weight_noise_value_and_grad",
    "EnsembleResult",
    "FLATNESS_MEASURES",
    "estimate_member_bytes",
    "train_ensemble",
]
