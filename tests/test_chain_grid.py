"""The chain grid's rule, its scale, the restricted-LayerNorm bound as an identity, and reproducible arms."""

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from rmt_sparsity.experiments import chain_grid as G


@pytest.mark.parametrize("labels", [[0, 1, 2, 3], [0, 0, 0, 1, 2], list(np.random.default_rng(0).integers(0, 10, 300))])
def test_chance_loss_is_the_best_constant_predictor(labels):
    k = max(labels) + 1
    onehot = np.eye(k)[labels]

    def mse(f):
        return float(np.mean(0.5 * np.sum((f[None, :] - onehot) ** 2, axis=1)))

    def ce(f):
        logp = f - np.log(np.sum(np.exp(f)))
        return float(-np.mean(logp[labels]))

    for loss, fn in (("mse", mse), ("ce", ce)):
        best = minimize(fn, np.zeros(k), method="BFGS", options={"gtol": 1e-10}).fun
        # classes absent from the labels push the CE optimum to -inf logits: BFGS stops ~1e-6 short
        assert G.chance_loss(loss, labels, k) == pytest.approx(best, rel=1e-5, abs=1e-6)


def test_convergence_rule():
    rule = {"fit_fraction": 0.1, "settle_fraction": 0.01, "settle_window": 0.25}
    steps = [0, 250, 500, 750, 1000]
    ok = G.convergence_check(steps, [1.0, 0.2, 0.09, 0.085, 0.082], 1.0, rule)
    assert ok["converged"] and ok["earlier_step"] == 750 and ok["drop"] == pytest.approx(0.003)
    assert not G.convergence_check(steps, [1.0, 0.5, 0.3, 0.2, 0.11], 1.0, rule)["fitted"]
    still = G.convergence_check(steps, [1.0, 0.5, 0.3, 0.09, 0.05], 1.0, rule)
    assert still["fitted"] and not still["settled"] and not still["converged"]
    # a noisy rise at the end is settled (the drop is negative)
    assert G.convergence_check(steps, [1.0, 0.2, 0.05, 0.04, 0.06], 1.0, rule)["converged"]
    assert G.convergence_check(steps, [1.0, 0.2, 0.05, 0.04, 0.06], 1.0, rule, at=500)["earlier_step"] == 250


def test_grid_profiles():
    q = G.GRID_PROFILES["quick"]
    # 6 arms x 2 noise levels x 16 seeds: the seeds per cell are sized for power (docs/science.md, "Seeds per cell")
    assert len(G.arm_ids(q)) * 2 * q["seeds"] == 192 and q["seeds"] == 16
    assert G.GRID_PROFILES["full"]["seeds"] >= q["seeds"]  # no shared claim has less power on full than on quick
    for prof in G.GRID_PROFILES.values():  # one rule for every profile; only the cap differs
        assert prof["rule"] == q["rule"]
    full = G.arm_ids(G.GRID_PROFILES["full"])
    assert set(G.arm_ids(q)) <= set(full)
    assert {"mnist1d/mse/plain/adamw", "digits/ce/plain/sgd", "digits/mse/relu2/adamw", "digits/ce/magic/adamw"} <= set(full)


def test_restricted_layernorm_bound_holds_on_trained_nets():
    # With beta removed, |gamma| >= 1 and the zeroth bias clipped to 0.1|gamma|, every key-layer input obeys
    # ||x|| / sqrt(d) >= sqrt(v / (v + eps)) - 0.1 (docs/science.md §5; 0.9 as eps -> 0): an identity, so it must
    # hold for every token of a trained net, whatever training did.
    jax = pytest.importorskip("jax")
    from rmt_sparsity.nn import MLP, load_digits, train_ensemble

    ds = load_digits(rng=0)
    m = MLP(d_in=64, d_out=10, width=16, depth=2, variant="ffn", d_ff=32, **G.ARCHITECTURES["modules"])
    ens = train_ensemble(m, ds, "adamw", keys=jax.random.split(jax.random.key(0), 2), steps=60, lr=0.05,
                         batch_size=64, probes=False, quiet=True)  # large Adam steps: gamma and B move
    x = ds.x_train[:256]
    for k in range(2):
        p = ens.member(k).params
        zb, gamma = np.asarray(p["layer1"]["zb"]), np.asarray(p["layer1"]["ln"]["gamma"])
        assert np.all(np.isfinite(zb)) and np.max(np.abs(zb)) > 0  # the zeroth bias is in play
        assert np.any(np.isclose(np.abs(zb[0]), 0.1 * np.abs(gamma)))  # ... and some entries sit on the clip
        _, inter = m.apply_with_intermediates(p, x)
        for n in m.layer_names:
            xi = np.asarray(inter[n]["x"], np.float64)
            pre = np.asarray(_stream_before(m, p, x, n), np.float64)
            v = pre.var(axis=1)
            bound = np.sqrt(v / (v + m.ln_eps)) - 0.1
            ratio = np.linalg.norm(xi, axis=1) / math.sqrt(xi.shape[1])
            # float32 forward: a few roundings in a d-term norm, 1e-5 relative
            assert np.all(ratio >= bound * (1 - 1e-5)), (n, float((ratio - bound).min()))


def _stream_before(m, p, x, layer):
    """The residual stream entering ``layer``'s LayerNorm, rebuilt from the model's own pieces."""
    import jax.numpy as jnp

    z = jnp.asarray(x) @ p["embed"]["w"].T + p["embed"]["b"]
    _, inter = m.apply_with_intermediates(p, x)
    for n in m.layer_names:
        if n == layer:
            return z
        z = z + inter[n]["a"] @ p[n]["w_out"].T + p[n]["b_out"]
    raise KeyError(layer)


@pytest.mark.slow
def test_arm_is_reproducible():
    cfg = G.GRID_PROFILES["smoke"]
    a = G.run_arm(cfg, "digits/mse/plain/adamw", np.random.default_rng(5))
    b = G.run_arm(cfg, "digits/mse/plain/adamw", np.random.default_rng(5))
    a.pop("timings"), b.pop("timings")
    assert a == b
