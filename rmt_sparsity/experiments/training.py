"""The digits training setup shared by the trained-network claims and the sweep experiments.

The digits sweep experiments (:mod:`rmt_sparsity.experiments.library`) train
the same kind of net: an MLP on scikit-learn's 8×8 digits (64 inputs, 10 classes), MSE
loss, AdamW at lr 3e-3, batch 128, with weight noise (when any) at the
gradient point, relative to rms(W) (arXiv 2309.03004). Paired designs draw the
key and the data split from one generator (:func:`digits_setup`) and give both
arms the same key, so both start from the same initialisation and see the same
minibatches. JAX is imported inside the functions only.
"""

from __future__ import annotations

__all__ = ["TRAIN_PROFILES", "train_profiles", "digits_setup", "digits_model", "train_digits", "seed_mean_se"]

_QUICK = {"width": 128, "depth": 2, "steps": 400, "eval_every": 100, "batch_size": 128, "lr": 3e-3,
          "optimizer": "adamw", "loss": "mse", "seeds": 3, "probe_size": 256}

#: Training settings of the trained-network claims by profile (claims override ``width``, ``steps``, ...).
#: ``seeds`` is the number of paired seeds; ``eval_every`` the probe interval in steps.
TRAIN_PROFILES = {
    "smoke": {"width": 16, "depth": 2, "steps": 20, "eval_every": 10, "batch_size": 32, "lr": 3e-3,
              "optimizer": "adamw", "loss": "mse", "seeds": 2, "probe_size": 64},
    "quick": _QUICK,
    "full": dict(_QUICK, steps=3000, eval_every=250, seeds=5),
}


def train_profiles(**extra) -> dict[str, dict]:
    """:data:`TRAIN_PROFILES` with the same ``extra`` settings added to every profile (a claim's ``profiles``).

    Examples
    --------
    >>> p = train_profiles(sigma=0.1)
    >>> sorted(p), p["quick"]["sigma"], p["quick"]["steps"], p["full"]["steps"]
    (['full', 'quick', 'smoke'], 0.1, 400, 3000)
    """
    return {name: dict(config, **extra) for name, config in TRAIN_PROFILES.items()}


def digits_setup(rng):
    """(JAX key, digits data set), both drawn from the NumPy generator ``rng`` (the key first).

    Examples
    --------
    >>> import numpy as np
    >>> key, ds = digits_setup(np.random.default_rng(0))
    >>> ds.x_train.shape[1], int(ds.y_train.max()) + 1
    (64, 10)
    """
    from .._rng import jax_key_from
    from ..nn import load_digits

    key = jax_key_from(rng)
    return key, load_digits(rng=rng)


def digits_model(config, **model_kw):
    """The digits MLP (64 inputs, 10 classes) of ``config["width"]`` and ``config["depth"]``; ``model_kw`` go to :class:`~rmt_sparsity.nn.MLP`.

    Examples
    --------
    >>> digits_model({"width": 8, "depth": 1}, activation="relu").layer_names
    ('layer0',)
    """
    from ..nn import MLP

    return MLP(d_in=64, d_out=10, width=config["width"], depth=config["depth"], **model_kw)


def train_digits(model, data, config, key, *, sigma, relative=None, eval_every=None, params=None):
    """One run of :func:`rmt_sparsity.nn.train` with the settings of ``config``.

    Parameters
    ----------
    model, data :
        From :func:`digits_model` and :func:`digits_setup`.
    config : mapping
        ``optimizer``, ``steps``, ``eval_every``, ``batch_size``, ``lr``, ``loss``, ``probe_size``
        (as in :data:`TRAIN_PROFILES`).
    key :
        JAX PRNG key (initialisation and minibatch stream).
    sigma : float or None
        Weight-noise standard deviation at the gradient point. ``None`` compiles no
        weight noise; ``0.0`` is the plain arm of a paired comparison (the same
        compiled program as the noise arm).
    relative : bool, optional
        ``sigma`` relative to rms(W); by default whenever ``sigma`` is given.
    eval_every : int, optional
        Probe interval (default ``config["eval_every"]``).
    params : pytree, optional
        Initial parameters (default: initialised from ``key``).

    Returns
    -------
    rmt_sparsity.nn.TrainResult

    Examples
    --------
    >>> import numpy as np
    >>> key, ds = digits_setup(np.random.default_rng(0))
    >>> cfg = dict(TRAIN_PROFILES["smoke"], width=8, depth=1, steps=4, eval_every=2)
    >>> res = train_digits(digits_model(cfg), ds, cfg, key, sigma=0.1)
    >>> res.history["step"].tolist()
    [0, 2, 4]
    """
    from ..nn import train

    return train(model, data, config["optimizer"], key=key, steps=config["steps"],
                 eval_every=eval_every or config["eval_every"], batch_size=config["batch_size"], lr=config["lr"],
                 loss=config["loss"], quiet=True, probe_size=config["probe_size"], params=params,
                 sigma=sigma, relative=sigma is not None if relative is None else relative)


def seed_mean_se(curves) -> tuple[list, list]:
    """Mean curve over seeds and its pointwise SE (:func:`rmt_sparsity._stats.mean_se`), as lists for a figure.

    ``curves`` holds one curve per seed (rows); with a single seed the SE band is
    drawn as zero (it is unknown, not zero: figures only).

    Examples
    --------
    >>> seed_mean_se([[1.0, 3.0], [3.0, 3.0]])
    ([2.0, 3.0], [1.0, 0.0])
    >>> seed_mean_se([[1.0, 3.0]])
    ([1.0, 3.0], [0.0, 0.0])
    """
    from .._stats import mean_se

    mean, se = mean_se(curves, axis=0)
    n = len(curves)
    return mean.tolist(), se.tolist() if n > 1 else [0.0] * mean.size
