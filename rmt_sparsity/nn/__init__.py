"""rmt_sparsity.nn: JAX LayerNorm MLPs with the theory's modules, weight noise, training and probes.

Importing this subpackage imports JAX (``import rmt_sparsity`` does not).

Models are pure-JAX dict pytrees (see :class:`MLP`); weights are stored
(out, in). The modules of Peng et al. (arXiv 2309.03004; DESIGN §4.5):
J-SquaredReLU (:func:`jsrelu`), the zeroth bias, restricted LayerNorm,
the magic synapse (``MLP(noise_ratio=...)``) and weight noise at the gradient
point (:func:`weight_noise_value_and_grad`). :func:`train` runs jit + scan
chunks and records :func:`compute_probes`; :func:`train_ensemble` trains K
models that differ in seed, sigma, lr or weight decay as one
``jit(vmap(scan))`` program.
"""

from ._activations import (
    ACTIVATIONS,
    get_activation,
    gelu,
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
from ._models import HOOK_POINTS, LAYERNORMS, MLP, VARIANTS
from ._noise import default_noise_filter, perturb_weights, weight_noise_value_and_grad
from ._probes import (
    DORMANT_TAUS,
    GRAD_TAUS,
    compute_probes,
    gradient_identity_terms,
    key_matrix_spectra,
    per_example_loss,
    per_token_eta,
)
from ._train import OPTIMIZERS, Trainer, TrainResult, make_optimizer, make_trainer, set_hyperparams, train

# --- vectorised ensembles (issue 15) ---
from ._ensemble import FLATNESS_MEASURES, EnsembleResult, estimate_member_bytes, train_ensemble
# --- end vectorised ensembles ---

__all__ = [
    "ACTIVATIONS",
    "DORMANT_TAUS",
    "GRAD_TAUS",
    "HOOK_POINTS",
    "LAYERNORMS",
    "OPTIMIZERS",
    "VARIANTS",
    "MLP",
    "Dataset",
    "Trainer",
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
    # vectorised ensembles (issue 15)
    "EnsembleResult",
    "FLATNESS_MEASURES",
    "estimate_member_bytes",
    "train_ensemble",
]
