"""rmt_sparsity: verify the gradient-sparsity / spectral-concentration theory with numbers.

``import rmt_sparsity as rs`` is light: it imports neither JAX nor compiles any
Numba code. Subpackages and the flat re-exports below load on first use
(PEP 562 module ``__getattr__``). ``nn`` and ``flatness`` need the ``[nn]``
extra (``pip install "rmt-sparsity[nn]"``): without it they raise an
``ImportError`` that names it, and ``from rmt_sparsity import *`` leaves them out.

Subpackages
-----------
laws         limiting spectral laws (Marchenko-Pastur, Tracy-Widom, fixed-point laws)
ensembles    matrix and spectrum samplers
spectra      analysis of a given matrix (concentration, MP fits, spikes, tails)
noise        gradient-noise simulators
theory       the theory's statements as pure functions
nn           JAX LayerNorm MLPs, modules, weight noise and training
metrics      sparsity metrics from the literature
flatness     Hessian-based flatness measures (JAX)
kernels      Numba sparse FFN kernels
experiments  claims registry, sweeps, executors and results store
report       the ``verify`` report writer
testing      hypothesis strategies and calibrated assertions for users' tests
cli          the ``rmt-sparsity`` command line (not re-exported)

Examples
--------
>>> import rmt_sparsity as rs
>>> rs.MarchenkoPastur(0.25).support()
(0.25, 2.25)
"""

from __future__ import annotations

import importlib

from ._version import __version__  # noqa: F401  (public: listed in _PUBLIC)

_SUBPACKAGES = (
    "laws",
    "ensembles",
    "spectra",
    "noise",
    "theory",
    "nn",
    "metrics",
    "flatness",
    "kernels",
    "experiments",
    "report",
    "testing",
)

# Flat re-exports: public name -> subpackage that defines it. Resolved lazily.
_LAZY = {
    # laws
    "MarchenkoPastur": "laws",
    "marchenko_pastur": "laws",
    "TracyWidom": "laws",
    "edge_band": "ensembles",
    "WeightedCovarianceLaw": "laws",
    "discounted": "laws",
    "heuristic_mp": "theory",
    "InformationPlusNoiseLaw": "laws",
    "free_additive_convolution": "laws",
    "free_multiplicative_convolution": "laws",
    # ensembles
    "wishart_eigenvalues": "ensembles",
    "laguerre_eigenvalues": "ensembles",
    "laguerre_histogram": "ensembles",
    "extreme_eigenvalues": "ensembles",
    "count_below": "ensembles",
    # metrics
    "zero_fraction": "metrics",
    "activation_ratio": "metrics",
    "activation_concentration": "metrics",
    "gradient_sparsity": "metrics",
    "dormant_fraction": "metrics",
    "cett": "metrics",
    "threshold_for_cett": "metrics",
    "ppl_p_sparsity": "metrics",
    "magnitude_prune": "metrics",
    "nm_prune": "metrics",
    "magnitude_pruning_curve": "metrics",
    "essential_sparsity": "metrics",
    "statistical_topk": "metrics",
    "exact_topk": "metrics",
    "fit_sparsing_law": "metrics",
    "fit_breakpoint_linear": "metrics",
    # nn (JAX; loaded on first use)
    "MLP": "nn",
    "train": "nn",
    "make_trainer": "nn",
    "make_optimizer": "nn",
    "load_digits": "nn",
    "load_mnist1d": "nn",
    "teacher_student": "nn",
    "gaussian_mixture": "nn",
    "compute_probes": "nn",
    "train_ensemble": "nn",
    "weight_noise_value_and_grad": "nn",
    # flatness (JAX; loaded on first use)
    "hutchinson_trace": "flatness",
    "lanczos": "flatness",
    "slq_density": "flatness",
    "noise_sharpness": "flatness",
    "sam_sharpness": "flatness",
    "hvp": "flatness",
    # kernels
    "sparse_down": "kernels",
    "sparse_up": "kernels",
    "sparse_ffn": "kernels",
    "ffn_dense": "kernels",
    "fit_predictor": "kernels",
    "kernel_threads": "kernels",
    # spectra
    "gram_eigenvalues": "spectra",
    "singular_values": "spectra",
    "numerical_rank": "spectra",
    "stable_rank": "spectra",
    "spectral_concentration": "spectra",
    "concentration_vs_random": "spectra",
    "fit_mp": "spectra",
    "bbp_threshold": "spectra",
    "bbp_outlier": "spectra",
    "fit_power_law": "spectra",
    "analyze": "spectra",
    "load_weights": "spectra",
    # noise
    "simulate_sgd_noise": "noise",
    "predict_vs_simulate": "noise",
    "NoiseSimulation": "noise",
    # theory
    "effective_window": "theory",
    "effective_ratio": "theory",
    "kish_effective_samples": "theory",
    "alpha_anisotropy": "theory",
    "augmented_flatness": "theory",
    "layernorm_sq_norm": "theory",
    "noise_sharpness_prediction": "theory",
    # experiments
    "Claim": "experiments",
    "Prediction": "experiments",
    "Measurement": "experiments",
    "Verdict": "experiments",
    "registry": "experiments",
    "run_claims": "experiments",
    "Sweep": "experiments",
    # package utilities
    "as_generator": "_rng",
    "show_versions": "_versions",
}

_PUBLIC = [
    "__version__",
    # subpackages
    "laws", "ensembles", "spectra", "noise", "theory", "nn", "metrics", "flatness", "kernels",
    "experiments", "report", "testing",
    # laws
    "MarchenkoPastur",
    "marchenko_pastur",
    "TracyWidom",
    "edge_band",
    "WeightedCovarianceLaw",
    "discounted",
    "heuristic_mp",
    "InformationPlusNoiseLaw",
    "free_additive_convolution",
    "free_multiplicative_convolution",
    # ensembles
    "wishart_eigenvalues",
    "laguerre_eigenvalues",
    "laguerre_histogram",
    "extreme_eigenvalues",
    "count_below",
    # metrics
    "zero_fraction",
    "activation_ratio",
    "activation_concentration",
    "gradient_sparsity",
    "dormant_fraction",
    "cett",
    "threshold_for_cett",
    "ppl_p_sparsity",
    "magnitude_prune",
    "nm_prune",
    "magnitude_pruning_curve",
    "essential_sparsity",
    "statistical_topk",
    "exact_topk",
    "fit_sparsing_law",
    "fit_breakpoint_linear",
    # nn (JAX; loaded on first use)
    "MLP",
    "train",
    "make_trainer",
    "make_optimizer",
    "load_digits",
    "load_mnist1d",
    "teacher_student",
    "gaussian_mixture",
    "compute_probes",
    "train_ensemble",
    "weight_noise_value_and_grad",
    # flatness (JAX; loaded on first use)
    "hutchinson_trace",
    "lanczos",
    "slq_density",
    "noise_sharpness",
    "sam_sharpness",
    "hvp",
    # kernels
    "sparse_down",
    "sparse_up",
    "sparse_ffn",
    "ffn_dense",
    "fit_predictor",
    "kernel_threads",
    # spectra
    "gram_eigenvalues",
    "singular_values",
    "numerical_rank",
    "stable_rank",
    "spectral_concentration",
    "concentration_vs_random",
    "fit_mp",
    "bbp_threshold",
    "bbp_outlier",
    "fit_power_law",
    "analyze",
    "load_weights",
    # noise
    "simulate_sgd_noise",
    "predict_vs_simulate",
    "NoiseSimulation",
    # theory
    "effective_window",
    "effective_ratio",
    "kish_effective_samples",
    "alpha_anisotropy",
    "augmented_flatness",
    "layernorm_sq_norm",
    "noise_sharpness_prediction",
    # experiments
    "Claim",
    "Prediction",
    "Measurement",
    "Verdict",
    "registry",
    "run_claims",
    "Sweep",
    # package utilities
    "as_generator",
    "show_versions",
]


# Subpackages that need an extra (docs/design.md §3): without it, `rs.nn` raises an ImportError naming the
# extra, and `from rmt_sparsity import *` leaves their names out instead of failing.
_EXTRA_MODULES = {"nn": "jax", "flatness": "jax"}


def _star_names() -> list[str]:
    """The public names, less those of subpackages whose extra is not installed."""
    from ._optional import available

    missing = {sub for sub, module in _EXTRA_MODULES.items() if not available(module)}
    return [n for n in _PUBLIC if n not in missing and _LAZY.get(n) not in missing]


__all__ = _star_names()


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        mod = importlib.import_module(f".{name}", __name__)
        globals()[name] = mod
        return mod
    if name in _LAZY:
        mod = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = getattr(mod, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
