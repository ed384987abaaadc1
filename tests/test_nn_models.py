"""Models: shapes, hooks, validation, and the gradient identity through autodiff of the real model."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rmt_sparsity.nn import MLP, gradient_identity_terms


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


@pytest.mark.parametrize("variant", ["mlp", "residual", "ffn"])
def test_shapes_and_determinism(variant):
    m = MLP(d_in=5, d_out=3, width=6, depth=2, variant=variant, d_ff=10)
    p1, p2 = m.init(key=jax.random.key(3)), m.init(key=jax.random.key(3))
    assert jax.tree_util.tree_all(jax.tree_util.tree_map(lambda a, b: bool((a == b).all()), p1, p2))
    k_out, k_in = m.key_shape(0)
    assert p1["layer0"]["w"].shape == (k_out, k_in)  # stored (out, in)
    x = np.random.default_rng(0).standard_normal((7, 5))
    out, inter = m.apply_with_intermediates(p1, x)
    assert out.shape == (7, 3)
    assert inter["layer1"]["a"].shape == (7, k_out)


def test_ffn_down_projection_follows_activation():
    # z_next = z + W_out a + b_out exactly: the CETT decomposition sum_i a_i W_out[:, i] is the block output
    m = MLP(d_in=3, d_out=2, width=4, depth=1, variant="ffn", d_ff=8)
    p = m.init(key=jax.random.key(0))
    x = jnp.asarray(np.random.default_rng(1).standard_normal((5, 3)), jnp.float32)
    out, inter = m.apply_with_intermediates(p, x)
    z = x @ p["embed"]["w"].T + p["embed"]["b"]
    contrib = jnp.einsum("ti,di->td", inter["layer0"]["a"], p["layer0"]["w_out"])
    z1 = z + contrib + p["layer0"]["b_out"]
    from rmt_sparsity.nn import layer_norm

    head = p["head"]
    ref = layer_norm(z1, head["ln"]["gamma"], head["ln"]["beta"], eps=m.ln_eps) @ head["w"].T + head["b"]
    np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=2e-5, atol=2e-6)  # float32, depth-1 sums


def test_hooks_change_the_computation():
    m = MLP(d_in=4, d_out=2, width=8, depth=2)
    p = m.init(key=jax.random.key(0))
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    base = np.asarray(m.apply(p, x))
    # killing layer1's activations makes the output independent of x
    dead = np.asarray(m.apply(p, x, hooks={"layer1.post": lambda a: 0.0 * a}))
    assert np.ptp(dead, axis=0).max() == 0.0
    assert np.ptp(base, axis=0).max() > 0.0
    shifted = np.asarray(m.apply(p, x, hooks={"layer0.pre": lambda h: h + 1.0}))
    assert not np.allclose(shifted, base)


def test_zeroth_bias_is_per_position():
    m = MLP(d_in=3, d_out=2, width=4, depth=1, zeroth_bias=True, n_tokens=5)
    p = m.init(key=jax.random.key(0))
    assert p["layer0"]["zb"].shape == (5, 3)
    p["layer0"]["zb"] = p["layer0"]["zb"].at[2].set(0.05)
    x = np.ones((2, 5, 3), np.float32) * np.arange(3, dtype=np.float32)
    _, inter = m.apply_with_intermediates(p, x)
    xi = np.asarray(inter["layer0"]["x"])
    np.testing.assert_allclose(xi[:, 2] - xi[:, 1], 0.05, rtol=1e-5)  # only position 2 is shifted
    with pytest.raises(ValueError, match="n_tokens"):
        m.apply(p, np.ones((2, 4, 3)))


def test_bad_input_errors():
    m = MLP(d_in=3, d_out=2, width=4, depth=1)
    p = m.init(key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"x must have shape \(n, 3\)"):
        m.apply(p, np.ones((2, 4)))
    with pytest.raises(ValueError, match="x must be 1-D or 2-D"):
        m.apply(p, np.ones((1, 2, 2, 3)))
    with pytest.raises(TypeError, match="x must hold float32 or float64 numbers; got dtype int64"):
        m.apply(p, np.ones((2, 3), np.int64))
    with pytest.raises(TypeError, match=r"params\['\w+'\]\['\w+'\] must hold float32 or float64"):
        m.apply(jax.tree_util.tree_map(lambda a: a.astype(jnp.float16), p), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"params\['head'\]\['b'\] must be finite"):
        m.apply(dict(p, head=dict(p["head"], b=p["head"]["b"].at[0].set(jnp.nan))), np.ones((2, 3)))
    with pytest.raises(TypeError, match="key must be a JAX PRNG key"):  # checked even where unused
        m.apply(p, np.ones((2, 3)), key=0)
    with pytest.raises(ValueError, match="step must be an integer >= 0"):
        m.apply(p, np.ones((2, 3)), step=-1)
    with pytest.raises(ValueError, match="finite"):
        m.apply(p, np.array([[1.0, np.nan, 0.0]]))
    bad = dict(p, layer0=dict(p["layer0"], w=jnp.ones((4, 5))))
    with pytest.raises(ValueError, match=r"\['layer0'\]\['w'\] has shape \(4, 5\)"):
        m.apply(bad, np.ones((2, 3)))
    with pytest.raises(ValueError, match="unknown hook name"):
        m.apply(p, np.ones((2, 3)), hooks={"layer7.pre": lambda h: h})
    with pytest.raises(TypeError, match="PRNG key"):
        m.init(key=0)
    stoch = MLP(d_in=3, d_out=2, width=4, depth=1, noise_ratio=0.1)
    with pytest.raises(ValueError, match="stochastic"):
        stoch.apply(stoch.init(key=jax.random.key(0)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="noise_ratio must be a finite number >= 0"):
        MLP(d_in=3, d_out=2, noise_ratio=-0.1)
    with pytest.raises(ValueError, match="variant"):
        MLP(d_in=3, d_out=2, variant="cnn")
    with pytest.raises(ValueError, match="zeroth_bias"):
        MLP(d_in=3, d_out=2, layernorm="none", zeroth_bias=True)


def test_sizes_refused_on_construction():
    """Absurd widths/depths are refused before anything is allocated or traced (no abort, no hang)."""
    with pytest.raises(ValueError, match=r"d_out must be an integer <= 2147483647"):
        MLP(d_in=4, d_out=10**12, width=8, depth=1)
    with pytest.raises(ValueError, match=r"depth must be an integer <= 10000"):
        MLP(d_in=4, d_out=2, width=8, depth=10**12)
    with pytest.raises(ValueError, match=r"d_in, d_out, width, depth = .* needs about .* of memory for the"):
        MLP(d_in=4, d_out=2, width=10**6, depth=10**3)
    for kw in ({}, {"variant": "ffn", "d_ff": 6, "zeroth_bias": True, "n_tokens": 2, "depth": 3},
               {"variant": "residual", "layernorm": "restricted", "depth": 2}, {"layernorm": "none"}):
        m = MLP(**{"d_in": 3, "d_out": 2, "width": 4, "depth": 1, **kw})
        assert m.n_params == sum(a.size for a in jax.tree_util.tree_leaves(m.init(key=jax.random.key(0))))


def test_magic_synapse_is_keyed_and_deterministic():
    m = MLP(d_in=3, d_out=2, width=4, depth=1, noise_ratio=0.5)
    p = m.init(key=jax.random.key(0))
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    a = np.asarray(m.apply(p, x, key=jax.random.key(1)))
    b = np.asarray(m.apply(p, x, key=jax.random.key(1)))
    c = np.asarray(m.apply(p, x, key=jax.random.key(2)))
    clean = np.asarray(m.apply(p, x, key=jax.random.key(2), noise_ratio=0.0))
    assert (a == b).all() and not np.allclose(a, c) and not np.allclose(a, clean)


@pytest.mark.parametrize("variant,activation", [("mlp", "relu"), ("ffn", "jsrelu")])
def test_gradient_identity_per_token(x64, variant, activation):
    # For h = Kx, a = sigma(h), eta = dL/dh = g * sigma'(h): dL_t/dK = eta_t x_t^T, so
    # ||dL_t/dK||_F^2 = ||x_t||^2 ||eta_t||^2 exactly (up to float64 rounding ~1e-15 * d); asserted to 1e-6.
    # grad_sq comes from vmap(grad) over the real model's parameters; x from the forward pass; eta and g
    # from additive perturbations of h and a through the hooks: three independent autodiff routes.
    # ReLU: ||eta||^2 = sum_active g_i^2; J-SquaredReLU: sigma' >= 1 on the active set, so ||eta||^2 >= it.
    m = MLP(d_in=6, d_out=3, width=8, depth=2, variant=variant, d_ff=12, activation=activation, zeroth_bias=True)
    p = m.init(key=jax.random.key(0))
    rng = np.random.default_rng(0)
    p = jax.tree_util.tree_map(lambda v: v + 0.05 * rng.standard_normal(v.shape), p)  # non-zero biases / zeroth bias
    x = rng.standard_normal((20, 6))
    y = rng.integers(0, 3, 20)
    terms = gradient_identity_terms(m, p, x, y, loss="mse", n_classes=3)
    for name, t in terms.items():
        lhs, xn2, en2, ga2 = t["grad_sq"], t["x_sq"][:, 0], t["eta_sq"][:, 0], t["active_g_sq"][:, 0]
        assert lhs.dtype == np.float64 and (lhs > 0).mean() > 0.5  # a token may have no active neuron
        np.testing.assert_allclose(lhs, xn2 * en2, rtol=1e-6)
        if activation == "relu":
            np.testing.assert_allclose(lhs, xn2 * ga2, rtol=1e-6)
        else:
            assert np.all(lhs >= xn2 * ga2 * (1 - 1e-6))
            assert np.any(lhs > 1.5 * xn2 * ga2)  # strict somewhere: sigma' = h + 1 > 1 on the active set
