"""LayerNorm facts, restricted LayerNorm, zeroth bias and activations (docs/science.md §5)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rmt_sparsity.nn import (
    MLP,
    clip_zeroth_bias,
    get_activation,
    jsrelu,
    layer_norm,
    mix_weight,
    project_restricted_gamma,
    relu2,
    restricted_gamma_lower,
    shifted_s,
)


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def test_layernorm_norm_identity_float64(x64):
    # ||LN(z)||^2 = d v/(v+eps). In float64 both sides are sums of d terms, each with relative
    # rounding ~1e-16, so the relative error is <= d * 1e-16 ~ 1e-14; we assert the acceptance bound 1e-6.
    rng = np.random.default_rng(0)
    d, eps = 64, 1e-5
    scales = 10.0 ** rng.uniform(-5, 2, size=200)  # variances from 1e-10 (eps dominates) to 1e4
    z = rng.standard_normal((200, d)) * scales[:, None] + rng.standard_normal((200, 1))
    y = np.asarray(layer_norm(jnp.asarray(z), eps=eps))
    assert y.dtype == np.float64
    v = z.var(axis=1)  # biased variance
    want = d * v / (v + eps)
    rel = np.abs((y**2).sum(1) - want) / want
    assert rel.max() < 1e-6
    # the eps term matters for small inputs: the norm really falls below sqrt(d) there
    assert want.min() < 0.5 * d


def test_layernorm_norm_identity_float32():
    # float32: relative rounding ~6e-8 per term, accumulated over d = 64 terms and the rsqrt:
    # bound d * 6e-8 ~ 4e-6; assert 1e-5.
    rng = np.random.default_rng(1)
    d, eps = 64, 1e-5
    z = (rng.standard_normal((50, d)) * 10.0 ** rng.uniform(-2, 1, (50, 1))).astype(np.float32)
    y = np.asarray(layer_norm(jnp.asarray(z), eps=eps)).astype(np.float64)
    v = z.astype(np.float64).var(axis=1)
    assert (np.abs((y**2).sum(1) - d * v / (v + eps)) / (d * v / (v + eps))).max() < 1e-5


def test_restricted_projection_and_uplift():
    g = jnp.array([0.3, -0.3, 0.0, -2.0, 5.0])
    out = project_restricted_gamma(g, 1.0)
    np.testing.assert_array_equal(np.asarray(out), [1.0, -1.0, 1.0, -2.0, 5.0])  # signs kept, sign(0) = +
    assert float(restricted_gamma_lower(5, 20)) == 0.25
    assert float(restricted_gamma_lower(40, 20)) == 1.0
    assert float(restricted_gamma_lower(3, 0)) == 1.0


def test_zeroth_bias_bound_and_attained(x64):
    # With eps = 0, no beta, |gamma| >= 1 and |B_j| <= 0.1|gamma_j|: ||x|| >= 0.9 sqrt(d) (Jensen), attained
    # when |z_j| = 1 for all j and B_j = -0.1 gamma_j sign(z_j). Checked through the real model's forward.
    d = 16
    model = MLP(d_in=d, d_out=2, width=4, depth=1, layernorm="restricted", ln_eps=0.0, zeroth_bias=True)
    rng = np.random.default_rng(2)
    params = model.init(key=jax.random.key(0))
    gamma = np.sign(rng.standard_normal(d)) * (1.0 + rng.exponential(size=d))
    params["layer0"]["ln"]["gamma"] = jnp.asarray(gamma)
    params["layer0"]["zb"] = jnp.asarray(5.0 * rng.standard_normal((1, d)))  # far outside the clip
    params = model.project(params, 1)
    b = np.asarray(params["layer0"]["zb"])
    assert np.all(np.abs(b) <= 0.1 * np.abs(gamma) + 1e-15)
    z = rng.standard_normal((2000, d)) * rng.exponential(size=(2000, 1))
    _, inter = model.apply_with_intermediates(params, z)
    norms = np.linalg.norm(np.asarray(inter["layer0"]["x"]), axis=1)
    # float64 rounding of a norm of d terms: relative 1e-15 * d; allow 1e-12
    assert norms.min() >= 0.9 * np.sqrt(d) * (1 - 1e-12)

    # attainment: z_j = +-1 (mean 0, variance 1, so LN(z) = z exactly), gamma = 1, B = -0.1 sign(z)
    zs = np.tile([1.0, -1.0], d // 2)
    params["layer0"]["ln"]["gamma"] = jnp.ones(d)
    params["layer0"]["zb"] = jnp.asarray(-0.1 * zs[None, :])
    _, inter = model.apply_with_intermediates(params, zs[None, :])
    got = float(np.linalg.norm(np.asarray(inter["layer0"]["x"])))
    assert abs(got - 0.9 * np.sqrt(d)) < 1e-12 * np.sqrt(d)


def test_clip_zeroth_bias_without_gamma():
    out = np.asarray(clip_zeroth_bias(jnp.array([[0.5, -0.5, 0.01]])))
    np.testing.assert_allclose(out, [[0.1, -0.1, 0.01]], rtol=1e-7)  # float32 representation of 0.1


def test_jsrelu_values_and_c1_knee(x64):
    f = jsrelu
    df = jax.vmap(jax.grad(f))
    h = jnp.array([-2.0, -1e-3, 1e-3, 1.0, 3.999, 4.0, 4.001, 10.0])
    np.testing.assert_allclose(
        np.asarray(f(h)),
        [0, 0, 1e-6 / 2 + 1e-3, 1.5, 3.999**2 / 2 + 3.999, 12.0, 12.0 + 5 * 0.001, 12.0 + 30.0],
        rtol=1e-14,  # exact arithmetic on these inputs up to float64 rounding
    )
    np.testing.assert_allclose(np.asarray(df(h)), [0, 0, 1.001, 2.0, 4.999, 5.0, 5.0, 5.0], rtol=1e-14)
    # C^1 at the knee: one-sided difference quotients agree with f'(4) = 5 to O(delta)
    for delta in (1e-4, -1e-4):
        q = (float(f(4.0 + delta)) - 12.0) / delta
        assert abs(q - 5.0) <= 1e-4  # parabola side: |q - 5| = delta/2


def test_shifted_s_and_relu2_and_mix():
    h = jnp.array([-4.0, -1.0, 0.0, 1.4, 3.0])
    # S(u) = relu(u-1.5)^2 - relu(-u-1.5)^2 at u = h - 1, plus 0.5
    u = np.asarray(h) - 1.0
    want = np.maximum(u - 1.5, 0) ** 2 - np.maximum(-u - 1.5, 0) ** 2 + 0.5
    np.testing.assert_allclose(np.asarray(shifted_s(h, shift_x=1.0, shift_y=0.5)), want, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(relu2(jnp.array([-1.0, 2.0]))), [0.0, 4.0])
    mix = get_activation("relu_jsrelu_mix", {"mix_steps": 10})
    x = jnp.array(2.0)
    assert float(mix(x, step=0)) == 2.0  # pure ReLU
    assert float(mix(x, step=10)) == 4.0  # pure JSReLU
    assert float(mix(x, step=5)) == 3.0  # halfway
    assert float(mix_weight(30, 10)) == 1.0


def test_activation_errors():
    with pytest.raises(ValueError, match="name must be one of"):
        get_activation("tanh")
    with pytest.raises(ValueError, match="mix_steps"):
        get_activation("relu_jsrelu_mix")
    with pytest.raises(ValueError, match="not a parameter"):
        get_activation("relu", {"shift_x": 1.0})
    with pytest.raises(ValueError, match="needs the training step"):
        get_activation("relu_jsrelu_mix", {"mix_steps": 3})(jnp.ones(2))
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP(d_in=2, d_out=1, activation="swish")
