"""nn.chain_probes against a hand-written forward pass differentiated by plain jax.grad (no hooks)."""

import math

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

from rmt_sparsity.metrics import (  # noqa: E402
    DORMANT_TAUS,
    GRADIENT_LOG_EDGES,
    GRADIENT_SPARSITY_TAUS,
    RELATIVE_GRADIENT_TAUS,
    dormant_fraction,
    gradient_density_ratio,
    gradient_log_histogram,
    gradient_sparsity,
    relative_gradient_sparsity,
    zero_fraction,
)
from rmt_sparsity.nn import MLP, chain_probes  # noqa: E402


def _ln(z, gamma, beta, eps):
    c = z - z.mean()
    return gamma * c / jnp.sqrt(jnp.mean(c * c) + eps) + beta


def _manual(p, x, y, n_classes, eps):
    """eta_l = dL/dh_l and g_l = dL/da_l of a 2-layer ReLU FFN stack, each layer's a fed to the rest explicitly."""

    def head(z):
        out = p["head"]["w"] @ _ln(z, p["head"]["ln"]["gamma"], p["head"]["ln"]["beta"], eps) + p["head"]["b"]
        return 0.5 * jnp.sum((out - jax.nn.one_hot(y, n_classes, dtype=out.dtype)) ** 2)

    def layer_in(n, z):
        return _ln(z, p[n]["ln"]["gamma"], p[n]["ln"]["beta"], eps)

    z0 = p["embed"]["w"] @ x + p["embed"]["b"]
    x0 = layer_in("layer0", z0)
    h0 = p["layer0"]["w"] @ x0 + p["layer0"]["b"]

    def rest0(a0):
        z1 = z0 + p["layer0"]["w_out"] @ a0 + p["layer0"]["b_out"]
        h1 = p["layer1"]["w"] @ layer_in("layer1", z1) + p["layer1"]["b"]
        return rest1(jnp.maximum(h1, 0.0), z1)

    def rest1(a1, z1):
        return head(z1 + p["layer1"]["w_out"] @ a1 + p["layer1"]["b_out"])

    a0 = jnp.maximum(h0, 0.0)
    z1 = z0 + p["layer0"]["w_out"] @ a0 + p["layer0"]["b_out"]
    x1 = layer_in("layer1", z1)
    h1 = p["layer1"]["w"] @ x1 + p["layer1"]["b"]
    a1 = jnp.maximum(h1, 0.0)
    g0 = jax.grad(rest0)(a0)
    g1 = jax.grad(rest1)(a1, z1)
    return {"layer0": (x0, h0, a0, g0, g0 * (h0 > 0)), "layer1": (x1, h1, a1, g1, g1 * (h1 > 0))}


@pytest.fixture(scope="module")
def setup():
    with jax.enable_x64(True):
        m = MLP(d_in=5, d_out=3, width=6, depth=2, variant="ffn", d_ff=12)
        p = m.init(key=jax.random.key(3), dtype=np.float64)
        rng = np.random.default_rng(0)
        p = jax.tree_util.tree_map(lambda v: v + 0.3 * rng.standard_normal(v.shape), p)  # biases, gamma, beta off init
        x = rng.standard_normal((40, 5))
        y = rng.integers(0, 3, 40)
        probes = chain_probes(m, p, x, y, loss="mse", n_classes=3)
        manual = jax.jit(_manual, static_argnums=(3, 4))  # one compilation for the 40 tokens
        parts = [manual(p, jnp.asarray(x[i]), int(y[i]), 3, m.ln_eps) for i in range(len(x))]
        ref = {n: [np.stack([np.asarray(pt[n][k]) for pt in parts]) for k in range(5)] for n in m.layer_names}
        stacked = chain_probes(m, jax.tree_util.tree_map(lambda a: jnp.stack([a, 2 * a]), p), x, y, loss="mse",
                               n_classes=3, stacked=True)
        single2 = chain_probes(m, jax.tree_util.tree_map(lambda a: 2 * a, p), x, y, loss="mse", n_classes=3)
    return m, probes, ref, stacked, single2


def test_measures_equal_the_metrics_on_hand_computed_gradients(setup):
    m, probes, ref, _, _ = setup
    for n in m.layer_names:
        xi, h, a, g, eta = ref[n]
        assert np.any(a == 0) and np.any(a > 0)
        pre = f"{n}."
        # fractions: JAX takes the mean of a boolean mask in its default float dtype (float32 even under x64): the count
        # is exact, the scaling by 1/(40 x 12) rounds twice in float32: agreement to a few float32 ulps
        f32 = 2.0**-22
        assert probes[pre + "zero_fraction"] == pytest.approx(zero_fraction(a, reduce="mean"), rel=f32)
        assert probes[pre + "activation_concentration"] == pytest.approx(np.mean(h <= 0), rel=f32)  # relu' = 0 at h <= 0
        for tau, v in gradient_sparsity(eta, GRADIENT_SPARSITY_TAUS, reduce="mean").items():
            assert probes[pre + f"grad_sparsity@{tau:g}"] == pytest.approx(v, abs=f32)
        for tau, v in relative_gradient_sparsity(eta, RELATIVE_GRADIENT_TAUS, reduce="mean").items():
            assert probes[pre + f"rel_grad_sparsity@{tau:g}"] == pytest.approx(v, abs=f32)
        # float64 end to end: rounding ~1e-15 relative, amplified by sums over 40 x 12 entries
        assert probes[pre + "density_ratio"] == pytest.approx(gradient_density_ratio(g, h > 0), rel=1e-10)
        hist = gradient_log_histogram(g, h > 0)
        np.testing.assert_array_equal(probes[pre + "g2_hist_all"], hist["all"])
        np.testing.assert_array_equal(probes[pre + "g2_hist_active"], hist["active"])
        aug = np.mean(np.sum(xi**2, axis=1) * np.sum(eta**2, axis=1))
        assert probes[pre + "augmented_flatness"] == pytest.approx(aug, rel=1e-10)
        norms = np.linalg.norm(xi, axis=1) / math.sqrt(xi.shape[1])
        assert probes[pre + "x_norm_min_over_sqrt_d"] == pytest.approx(norms.min(), rel=1e-12)
        assert probes[pre + "x_norm_mean_over_sqrt_d"] == pytest.approx(norms.mean(), rel=1e-12)
        for tau, v in zip(DORMANT_TAUS, dormant_fraction(a, list(DORMANT_TAUS))):
            assert probes[pre + f"dormant@{tau:g}"] == pytest.approx(v, abs=f32)
        assert probes[pre + "eta_rms"] == pytest.approx(math.sqrt(np.mean(eta**2)), rel=1e-12)
        assert len(probes[pre + "g2_hist_all"]) == len(GRADIENT_LOG_EDGES) - 1


def test_stacked_equals_single_runs(setup):
    m, probes, _, stacked, single2 = setup
    for k, v in probes.items():
        np.testing.assert_allclose(stacked[k][0], v, rtol=1e-10, atol=0)
        np.testing.assert_allclose(stacked[k][1], single2[k], rtol=1e-10, atol=0)


def test_shifted_s_separates_flat_region_from_zeros():
    m = MLP(d_in=4, d_out=2, width=8, depth=1, variant="ffn", d_ff=16, activation="shifted_s",
            activation_params={"shift_x": -1.6, "shift_y": 1.6})
    p = m.init(key=jax.random.key(0))
    x = np.random.default_rng(1).standard_normal((64, 4)).astype("float32")
    pr = chain_probes(m, p, x, np.arange(64) % 2, n_classes=2)
    # flat at the output 1.6 on [-3.1, -0.1]: many zero derivatives, no exact zeros
    assert pr["layer0.zero_fraction"] == 0.0
    assert 0.2 < pr["layer0.activation_concentration"] < 0.9
    assert pr["layer0.grad_sparsity@1e-09"] >= pr["layer0.activation_concentration"]


def test_bad_arguments():
    m = MLP(d_in=3, d_out=2, width=4, depth=1)
    p = m.init(key=jax.random.key(0))
    x, y = np.zeros((2, 3), "float32"), np.zeros(2, int)
    with pytest.raises(ValueError, match="loss"):
        chain_probes(m, p, x, y, loss="hinge", n_classes=2)
    with pytest.raises(TypeError, match="stacked"):
        chain_probes(m, p, x, y, n_classes=2, stacked=1)
    with pytest.raises(ValueError, match="edges"):
        chain_probes(m, p, x, y, n_classes=2, edges=[0.0])
