"""Built-in sweep experiments: named, picklable work functions ``fn(config, seed) -> dict``.

``rmt-sparsity sweep SPEC.toml`` runs one of these over a grid. A spec::

    experiment = "concentration_vs_effective_ratio"
    seeds = [0, 1, 2]
    store = "runs/concentration"          # relative to the spec file

    [grid]
    p = [64]
    batch = [1, 4, 16]
    steps = [2000]
    lr = [0.1]
    weight_decay = [0.0, 0.01, 0.1]

    [plot]                                # optional: mean ± SE over seeds
    x = "effective_ratio"                 # a config key or a result key
    y = "cov_ratio"
    group = "weight_decay"
    logx = true

Each function draws all its randomness from ``seed`` (numpy ``Generator`` or a
JAX key built from it), so a point's result depends on (config, seed) only.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .sparsing_law import activation_trajectory, sparsing_analysis
from .training import TRAIN_PROFILES, digits_model, digits_setup, train_digits

__all__ = ["EXPERIMENTS", "get_experiment", "digits_config", "concentration_vs_effective_ratio", "wishart_concentration",
           "zero_fraction_vs_sigma", "activation_ratio_vs_steps"]


def _finite_or_none(v):
    """``float(v)``, or None when it is not finite (sweep records hold no NaN: they are hashed canonically)."""
    v = float(v)
    return v if math.isfinite(v) else None


def concentration_vs_effective_ratio(config: dict, seed: int) -> dict:
    """Simulated spectral concentration of the discounted input covariance vs the paper's effective ratio.

    Config keys: ``p``, ``batch``, ``steps``, ``lr``, ``weight_decay`` (and
    optional ``d_out``, default 1 — only the covariance is studied). Returns
    the simulated eigenvalue ratio of C_t, α, the paper's heuristic ratio
    c = p/(B·min(t, T_eff)) with its MP eigenvalue ratio, and the Kish count.
    """
    from ..laws import MarchenkoPastur
    from ..noise import simulate_sgd_noise
    from ..theory import effective_ratio, kish_effective_samples

    p, b, t = int(config["p"]), int(config["batch"]), int(config["steps"])
    lr, wd = float(config["lr"]), float(config["weight_decay"])
    sim = simulate_sgd_noise(p, int(config.get("d_out", 1)), b, t, lr, wd, rng=seed, record_weights=False)
    c = float(effective_ratio(p, b, t, lr, wd))
    return {
        "cov_ratio": float(sim.cov_ratio[-1]),
        "alpha": float(sim.alpha[-1]),
        "effective_ratio": c,
        "heuristic_mp_ratio": float(MarchenkoPastur(c).extreme_ratio()),
        "kish_effective_samples": float(kish_effective_samples(b, t, lr, wd)),
    }


def wishart_concentration(config: dict, seed: int) -> dict:
    """Extreme-eigenvalue ratio of one Gaussian p×n matrix (exact bisection draw) and its limit.

    Config keys: ``p``, ``n``.
    """
    from ..ensembles import extreme_eigenvalues
    from ..laws import MarchenkoPastur

    p, n = int(config["p"]), int(config["n"])
    lmax, lmin = extreme_eigenvalues(p, n, 1.0, size=1, rng=seed)
    c = p / n
    limit = MarchenkoPastur(c).extreme_ratio() if c < 1 else float("inf")
    return {"ratio": float(lmax[0] / lmin[0]), "limit": limit, "c": c}



# ----------------------------------------------------------------------------- trained digits MLPs

# The trained-network claims' setup (experiments.training) at its quick size, one run per point.
_DIGITS_DEFAULTS = {**{k: v for k, v in TRAIN_PROFILES["quick"].items() if k not in ("eval_every", "seeds")},
                    "relative": True, "activation": "relu"}


def digits_config(config: dict) -> dict:
    """A digits experiment's config: the defaults merged with ``config``, validated before any JAX code runs.

    The defaults are the trained-network claims' quick setup
    (:data:`~rmt_sparsity.experiments.training.TRAIN_PROFILES`), one run per point:
    ``width`` 128, ``depth`` 2, ``steps`` 400, ``batch_size`` 128, ``lr`` 3e-3,
    ``optimizer`` "adamw", ``loss`` "mse", ``probe_size`` 256, ``relative`` True,
    ``activation`` "relu", ``sigma`` 0.

    Examples
    --------
    >>> c = digits_config({"sigma": 0.1, "width": 8})
    >>> c["width"], c["depth"], c["sigma"], c["relative"]
    (8, 2, 0.1, True)
    >>> digits_config({"optimizer": "lbfgs"})
    Traceback (most recent call last):
    ...
    ValueError: config['optimizer'] must be one of ...
    """
    from .._checks import check_choice, check_int, check_real

    c = {**_DIGITS_DEFAULTS, **config}
    c["sigma"] = check_real("config['sigma']", c.get("sigma", 0.0), lo=0.0)
    for k in ("width", "depth", "steps", "batch_size", "probe_size"):
        c[k] = check_int(f"config[{k!r}]", c[k], min=1)
    c["lr"] = check_real("config['lr']", c["lr"], lo=0.0, lo_open=True)
    check_choice("config['optimizer']", c["optimizer"], ("sgd", "momentum", "adam", "adamw"))
    check_choice("config['loss']", c["loss"], ("mse", "ce"))
    if not isinstance(c["relative"], bool):
        raise TypeError(f"config['relative'] must be a bool; got {c['relative']!r}")
    return c


def _train_digits(c: dict, seed: int, *, eval_every: int):
    """Train the digits MLP of config ``c`` with all randomness drawn from ``seed``; returns (model, TrainResult)."""
    import numpy as np

    key, ds = digits_setup(np.random.default_rng(seed))
    model = digits_model(c, activation=c["activation"])
    res = train_digits(model, ds, c, key, sigma=c["sigma"], relative=c["relative"], eval_every=eval_every)
    return model, res


def zero_fraction_vs_sigma(config: dict, seed: int) -> dict:
    r"""Final activation zero fraction, test loss and accuracy of a digits MLP trained with weight noise σ.

    .. math::

        \text{zero fraction} = \frac{1}{L}\sum_{\ell=1}^{L} \frac{\#\{(t, i) : a^{(\ell)}_{t,i} = 0\}}{T\,d_\ell},
        \qquad g = \nabla_W \bar L(W + \varepsilon),\ \varepsilon_{ij} \sim N(0, (\sigma\,\mathrm{rms}(W))^2)

    Weight noise at the gradient point (:func:`rmt_sparsity.nn.train` with ``sigma``;
    ``relative=True`` by default, i.e. σ·rms(W)), ReLU MLP on scikit-learn's digits
    with MSE and AdamW (arXiv 2309.03004).
    The zero fraction is the share of exact zeros in the key layers' activations
    on the first ``probe_size`` training examples, averaged over layers.

    Config keys: ``sigma`` (required, >= 0) and optionally ``relative`` (True),
    ``width`` (128), ``depth`` (2), ``steps`` (400), ``batch_size`` (128), ``lr``
    (3e-3), ``optimizer`` ("adamw"), ``loss`` ("mse"), ``activation`` ("relu"),
    ``probe_size`` (256).

    Returns
    -------
    dict
        ``zero_fraction``, ``zero_fraction_by_layer``, ``test_loss``, ``test_accuracy``, ``train_loss``.

    Examples
    --------
    >>> r = zero_fraction_vs_sigma({"sigma": 0.1, "width": 8, "depth": 1, "steps": 4, "batch_size": 8,
    ...                             "probe_size": 16}, seed=0)
    >>> sorted(r)
    ['test_accuracy', 'test_loss', 'train_loss', 'zero_fraction', 'zero_fraction_by_layer']
    """
    import numpy as np

    if "sigma" not in config:
        raise ValueError("config must give 'sigma' (weight-noise standard deviation, >= 0)")
    c = digits_config(config)
    model, res = _train_digits(c, seed, eval_every=c["steps"])
    h = res.history
    by_layer = [float(h[f"{n}.zero_fraction"][-1]) for n in model.layer_names]
    return {
        "zero_fraction": float(np.mean(by_layer)),
        "zero_fraction_by_layer": by_layer,
        "test_loss": float(h["test_loss"][-1]),
        "test_accuracy": float(h["test_accuracy"][-1]),
        "train_loss": float(h["train_loss"][-1]),
    }


def activation_ratio_vs_steps(config: dict, seed: int) -> dict:
    r"""Activation-ratio trajectory of a digits MLP and its ReLU sparsing-law fit.

    The activation ratio :math:`A = 1 - \text{zero fraction}` (mean over key
    layers, first ``probe_size`` training examples) is recorded every
    ``eval_every`` steps; :math:`A(D) = \exp(-cD^\alpha + b) + A_0`
    (:func:`rmt_sparsity.metrics.fit_sparsing_law`, arXiv 2411.02335) is fitted
    against :math:`D` = examples seen / 1000, step 0 dropped, with Wald errors; the
    AIC of a constant and of a pure power law :math:`kD^{-\beta}` are returned beside it.

    Config keys: ``steps`` (400), ``eval_every`` (``steps // 40``, at least 1; at
    least 5 evaluations are needed for the 4-parameter fit), ``sigma`` (0: no
    noise, same program as the noise runs) and the keys of :func:`zero_fraction_vs_sigma`.

    Returns
    -------
    dict
        ``step``, ``D``, ``activation_ratio_trajectory`` (lists, step 0 included);
        ``activation_ratio`` (final); the fit ``alpha``, ``b``, ``c``, ``a0``,
        ``a0_low``, ``a0_high``, ``r2``, ``aic``, ``fit_converged``; ``aic_constant``,
        ``aic_power_law``; ``test_accuracy``. Undefined values are ``None``.

    Examples
    --------
    >>> r = activation_ratio_vs_steps({"width": 8, "depth": 1, "steps": 12, "eval_every": 2, "batch_size": 8,
    ...                                "probe_size": 16}, seed=0)
    >>> len(r["activation_ratio_trajectory"]), r["step"][-1]
    (7, 12)
    """
    from .._checks import check_int

    c = digits_config(config)
    eval_every = check_int("config['eval_every']", config.get("eval_every", max(c["steps"] // 40, 1)), min=1, max=c["steps"])
    if c["steps"] // eval_every < 5:
        raise ValueError(f"need at least 5 evaluations after step 0 to fit the 4-parameter law; got steps = {c['steps']}, "
                         f"eval_every = {eval_every}")
    model, res = _train_digits(c, seed, eval_every=eval_every)
    steps, D, A = activation_trajectory(res.history, model.layer_names, c["batch_size"])
    an = sparsing_analysis(D[1:], A[1:], a0_method="wald")
    law = an["law"]
    out = {
        "step": [int(s) for s in steps],
        "D": D.tolist(),
        "activation_ratio_trajectory": A.tolist(),
        "activation_ratio": float(A[-1]),
        **{k: _finite_or_none(law[k]) for k in ("alpha", "b", "c", "a0", "r2", "aic")},
        "a0_low": _finite_or_none(law["a0_interval"][0]),
        "a0_high": _finite_or_none(law["a0_interval"][1]),
        "fit_converged": bool(law["optimizer_converged"]),
        "aic_constant": _finite_or_none(an["constant"]["aic"]),
        "aic_power_law": _finite_or_none(an["power_law"]["aic"]),
        "test_accuracy": float(res.history["test_accuracy"][-1]),
    }
    return out


EXPERIMENTS: dict[str, Callable[[dict, int], dict]] = {
    "concentration_vs_effective_ratio": concentration_vs_effective_ratio,
    "wishart_concentration": wishart_concentration,
    "zero_fraction_vs_sigma": zero_fraction_vs_sigma,
    "activation_ratio_vs_steps": activation_ratio_vs_steps,
}


def _ensemble_example():
    from .ensemble_sweep import EXAMPLE

    return EXAMPLE


def get_experiment(name: str) -> Callable[[dict, int], dict]:
    """The registered experiment ``name``; ``ValueError`` listing the known ones otherwise."""
    if name == "ensemble_example":  # a vectorised training experiment (trains each group as one ensemble)
        return _ensemble_example()
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(sorted([*EXPERIMENTS, 'ensemble_example']))}") from None
