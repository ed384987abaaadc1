"""Weight noise at the gradient point and the magic synapse (docs/science.md §5)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rmt_sparsity.nn import (
    MLP,
    dense,
    make_optimizer,
    make_trainer,
    per_example_loss,
    perturb_weights,
    weight_noise_value_and_grad,
)


def test_perturb_scale_and_selection():
    rng = np.random.default_rng(0)
    w = jnp.asarray(3.0 * rng.standard_normal((200, 200)), jnp.float32)
    params = {"layer0": {"w": w, "b": jnp.zeros(200), "ln": {"gamma": jnp.ones(200)}}}
    n = w.size
    for relative, sigma, want in ((False, 0.2, 0.2), (True, 0.2, 0.2 * float(jnp.sqrt(jnp.mean(w**2))))):
        q = perturb_weights(params, key=jax.random.key(1), sigma=sigma, relative=relative)
        eps = np.asarray(q["layer0"]["w"] - w, np.float64)
        # sample std of n iid normals has relative SE 1/sqrt(2n) = 0.35 %; allow 4 SE
        assert abs(eps.std() / want - 1) < 4 / np.sqrt(2 * n)
        assert abs(eps.mean()) < 4 * want / np.sqrt(n)
        assert (q["layer0"]["b"] == 0).all() and (q["layer0"]["ln"]["gamma"] == 1).all()  # only weights


def test_sigma_validation():
    with pytest.raises(ValueError, match="sigma must be a finite number >= 0"):
        perturb_weights({"w": jnp.ones((2, 2))}, key=jax.random.key(0), sigma=-0.1)
    with pytest.raises(ValueError, match="sigma"):
        perturb_weights({"w": jnp.ones((2, 2))}, key=jax.random.key(0), sigma=float("nan"))


def test_wrapper_gradient_is_taken_at_the_noisy_point():
    def loss(p, x):
        return jnp.sum(jnp.sin(p["w"] @ x))

    params = {"w": jnp.asarray(np.random.default_rng(0).standard_normal((3, 4)), jnp.float32)}
    x = jnp.arange(4.0)
    key = jax.random.key(5)
    val, g = weight_noise_value_and_grad(loss)(params, x, key=key, sigma=0.3)
    noisy = perturb_weights(params, key=key, sigma=0.3)
    np.testing.assert_array_equal(np.asarray(g["w"]), np.asarray(jax.grad(loss)(noisy, x)["w"]))
    assert float(val) == float(loss(noisy, x))
    assert not np.allclose(np.asarray(g["w"]), np.asarray(jax.grad(loss)(params, x)["w"]))


def test_trainer_step_matches_hand_written_step():
    # The documented step: split the state key into (key, kb, kn, km); batch indices from kb; weights
    # perturbed with kn; gradient at W + eps; SGD update applied to the clean W.
    m = MLP(d_in=4, d_out=3, width=6, depth=2)
    lr, sigma, bsz, relative = 0.1, 0.2, 8, True
    tr = make_trainer(m, make_optimizer("sgd", lr=lr), n_classes=3, batch_size=bsz, weight_noise=True, relative=relative)
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.standard_normal((32, 4)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 3, 32))
    hp = {"sigma": jnp.float32(sigma), "noise_ratio": jnp.float32(0), "cov_discount": jnp.float32(1)}
    state = tr.init(jax.random.key(0))
    new_state, loss_val = tr.step(state, hp, x, y)

    @jax.jit
    def hand(params, key):
        _, kb, kn, _ = jax.random.split(key, 4)
        idx = jax.random.randint(kb, (bsz,), 0, 32)
        noisy = perturb_weights(params, key=kn, sigma=sigma, relative=relative)

        def lossf(p):
            return jnp.mean(per_example_loss("mse", m.forward(p, x[idx])[0], y[idx], 3))

        g = jax.grad(lossf)(noisy)
        g_clean = jax.grad(lossf)(params)
        return jax.tree_util.tree_map(lambda w, gw: w - lr * gw, params, g), g, g_clean

    want, g, g_clean = hand(state["params"], state["key"])
    for path, got in jax.tree_util.tree_leaves_with_path(new_state["params"]):
        ref = dict(jax.tree_util.tree_leaves_with_path(want))[path]
        # same float32 operations up to XLA fusion order: a few ulps of |W| + lr|g| ~ 1e-6
        np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-5, atol=1e-6)
    # the noise mattered (gradient at W + eps differs from the clean one)
    assert not np.allclose(np.asarray(g["layer0"]["w"]), np.asarray(g_clean["layer0"]["w"]), rtol=1e-3)


def test_magic_synapse_matches_weight_noise_in_law():
    # Per token, W x + s||x|| eps and (W + E) x with E_ij ~ N(0, s^2), s = rho * rms(W), are both
    # N(W x, s^2 ||x||^2 I). Compare means and covariances of 1e4 draws of each within 4 SE
    # (Gaussian SE of a sample covariance entry: sqrt((S_ii S_jj + S_ij^2)/N); doubled variance for a difference).
    n, rho = 10_000, 0.3
    rng = np.random.default_rng(0)
    w = jnp.asarray(rng.standard_normal((3, 5)), jnp.float32)
    x = jnp.asarray(rng.standard_normal(5), jnp.float32)

    @jax.jit
    def draws(k1, k2):
        magic = dense(jnp.broadcast_to(x, (n, 5)), w, noise_ratio=rho, key=k1)
        keys = jax.random.split(k2, n)
        noisy = jax.vmap(lambda k: perturb_weights({"w": w}, key=k, sigma=rho, relative=True)["w"] @ x)(keys)
        return magic, noisy

    a, b = (np.asarray(v, np.float64) for v in draws(jax.random.key(1), jax.random.key(2)))
    s2 = (rho**2) * float(np.mean(np.asarray(w, np.float64) ** 2)) * float(np.sum(np.asarray(x, np.float64) ** 2))
    sig = s2 * np.eye(3)
    mean_se = np.sqrt(2 * s2 / n)
    assert np.all(np.abs(a.mean(0) - b.mean(0)) < 4 * mean_se)
    assert np.all(np.abs(a.mean(0) - np.asarray(w @ x)) < 4 * np.sqrt(s2 / n))
    cov_se = np.sqrt((np.outer(np.diag(sig), np.diag(sig)) + sig**2) / n)
    ca, cb = np.cov(a.T), np.cov(b.T)
    assert np.all(np.abs(ca - cb) < 4 * np.sqrt(2) * cov_se)
    assert np.all(np.abs(ca - sig) < 4 * cov_se)
