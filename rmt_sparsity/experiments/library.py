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

from collections.abc import Callable

__all__ = ["EXPERIMENTS", "get_experiment"]


def concentration_vs_effective_ratio(config: dict, seed: int) -> dict:
    """Simulated spectral concentration of the discounted input covariance vs the paper's effective ratio.

    Config keys: ``p``, ``batch``, ``steps``, ``lr``, ``weight_decay`` (and
    optional ``d_out``, default 1 — only the covariance is studied). Returns
    the simulated eigenvalue ratio of C_t, α, the paper's heuristic ratio
    c = p/(B·min(t, T_eff)) with its MP eigenvalue ratio, and the Kish count.
    """
    from ..noise import mp_ratio, simulate_sgd_noise
    from ..theory import effective_ratio, kish_effective_samples

    p, b, t = int(config["p"]), int(config["batch"]), int(config["steps"])
    lr, wd = float(config["lr"]), float(config["weight_decay"])
    sim = simulate_sgd_noise(p, int(config.get("d_out", 1)), b, t, lr, wd, rng=seed, record_weights=False)
    c = float(effective_ratio(p, b, t, lr, wd))
    return {
        "cov_ratio": float(sim.cov_ratio[-1]),
        "alpha": float(sim.alpha[-1]),
        "effective_ratio": c,
        "heuristic_mp_ratio": float(mp_ratio(c)),
        "kish_effective_samples": float(kish_effective_samples(b, t, lr, wd)),
    }


def wishart_concentration(config: dict, seed: int) -> dict:
    """Extreme-eigenvalue ratio of one Gaussian p×n matrix (exact bisection draw) and its limit.

    Config keys: ``p``, ``n``.
    """
    import math

    from ..ensembles import extreme_eigenvalues

    p, n = int(config["p"]), int(config["n"])
    lmax, lmin = extreme_eigenvalues(p, n, 1.0, size=1, rng=seed)
    c = p / n
    limit = ((1 + math.sqrt(c)) / (1 - math.sqrt(c))) ** 2 if c < 1 else float("inf")
    return {"ratio": float(lmax[0] / lmin[0]), "limit": limit, "c": c}


EXPERIMENTS: dict[str, Callable[[dict, int], dict]] = {
    "concentration_vs_effective_ratio": concentration_vs_effective_ratio,
    "wishart_concentration": wishart_concentration,
}


def get_experiment(name: str) -> Callable[[dict, int], dict]:
    """The registered experiment ``name``; ``ValueError`` listing the known ones otherwise."""
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(sorted(EXPERIMENTS))}") from None
