"""Boundary checks of the nn building blocks: static checks on tracers, value checks on concrete input only."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rmt_sparsity.nn import (
    default_noise_filter,
    dense,
    get_activation,
    layer_norm,
    mix_weight,
    per_example_loss,
    perturb_weights,
    relu,
    relu_jsrelu_mix,
    restricted_gamma_lower,
)
from rmt_sparsity.nn._validate import check_jax_array, check_jax_int, check_jax_scalar, check_jax_tree


def test_value_checks_skip_tracers_but_not_closure_constants():
    # a NaN fed through jit is a tracer: not scanned, it propagates (no device sync, no ConcretizationTypeError)
    out = jax.jit(relu)(jnp.array([jnp.nan, 1.0]))
    assert np.isnan(out[0]) and out[1] == 1.0
    # the same NaN as a concrete constant closed over inside a trace is still refused
    w = jnp.array([[jnp.nan, 1.0]])
    with pytest.raises(ValueError, match=r"^w must be finite; found 1 non-finite entries"):
        jax.jit(lambda x: dense(x, w))(jnp.ones(2))
    # a pytree of closure constants inside jit and vmap: finite passes, a NaN is refused by its path
    def noisy(k, p):
        return perturb_weights(p, key=k, sigma=0.1, relative=True)["w"]

    good = {"w": jnp.ones((2, 3))}
    assert jax.jit(lambda k: noisy(k, good))(jax.random.key(0)).shape == (2, 3)
    keys = jax.random.split(jax.random.key(0), 4)
    assert jax.vmap(lambda k: noisy(k, good))(keys).shape == (4, 2, 3)
    bad = {"w": jnp.array([[jnp.nan, 1.0]])}
    with pytest.raises(ValueError, match=r"^params\['w'\] must be finite; found 1 non-finite entries"):
        jax.jit(lambda k: noisy(k, bad))(jax.random.key(0))
    with pytest.raises(ValueError, match=r"^params\['w'\] must be finite; found 1 non-finite entries"):
        jax.vmap(lambda k: noisy(k, bad))(keys)
    # static checks run on tracers too
    with pytest.raises(TypeError, match=r"^h must hold float32 or float64 numbers; got dtype int32"):
        jax.jit(relu)(jnp.arange(3))
    with pytest.raises(ValueError, match=r"x must have length 2 \(w.shape\[1\]\) along axis -1; got shape \(3,\)"):
        jax.jit(lambda x: dense(x, jnp.ones((1, 2))))(jnp.ones(3))


def test_model_checks_closed_over_params_when_only_x_is_traced():
    from rmt_sparsity.nn import MLP

    m = MLP(d_in=3, d_out=2, width=4, depth=1)
    p = m.init(key=jax.random.key(0))
    xs = jnp.ones((5, 3))
    assert jax.vmap(lambda x: m.apply(p, x))(xs).shape == (5, 2)
    bad = jax.tree_util.tree_map(lambda v: v, p)
    bad["head"]["w"] = bad["head"]["w"].at[0, 0].set(jnp.nan)
    # x is a tracer, the parameters are concrete constants of the trace: they are still checked, by path
    with pytest.raises(ValueError, match=r"^params\['head'\]\['w'\] must be finite; found 1 non-finite entries"):
        jax.vmap(lambda x: m.apply(bad, x))(xs)
    with pytest.raises(ValueError, match=r"^params\['head'\]\['w'\] must be finite"):
        jax.jit(lambda x: m.apply(bad, x))(xs)
    # traced parameters are not scanned: the NaN propagates
    assert np.isnan(np.asarray(jax.jit(m.apply)(bad, xs))).any()


def test_messages_name_the_argument_and_value():
    with pytest.raises(TypeError, match=r"^h must be an array of float32 or float64 numbers; got NoneType None$"):
        relu(None)
    with pytest.raises(ValueError, match=r"^h must be non-empty; got shape \(0,\)$"):
        relu(jnp.zeros(0))
    with pytest.raises(ValueError, match=r"^k must be a finite number >= 0.0 and <= 1.0; got 1.5$"):
        relu_jsrelu_mix(jnp.ones(2), k=1.5)
    with pytest.raises(ValueError, match=r"^gamma must have length 3 \(z.shape\[-1\]\) along axis 0; got shape \(2,\)$"):
        layer_norm(jnp.ones(3), jnp.ones(2))
    with pytest.raises(ValueError, match=r"^eps must be a finite number >= 0.0; got -1.0$"):
        layer_norm(jnp.ones(3), eps=-1.0)
    with pytest.raises(TypeError, match=r"^key must be a JAX PRNG key"):
        dense(jnp.ones(2), jnp.ones((1, 2)), noise_ratio=0.1, key=0)
    with pytest.raises(TypeError, match=r"^step must be an integer; got 2.5 of type float$"):
        mix_weight(2.5, 10)
    with pytest.raises(ValueError, match=r"^uplift_steps must be an integer >= 0; got -1$"):
        restricted_gamma_lower(1, -1)
    with pytest.raises(ValueError, match=r"^params key 'bogus' is not a parameter of 'relu'"):
        get_activation("relu", {"bogus": 1})
    with pytest.raises(TypeError, match=r"^params must be a mapping"):
        get_activation("relu", [1, 2])
    with pytest.raises(TypeError, match=r"^path must be a pytree key path"):
        default_noise_filter("w", None)
    with pytest.raises(TypeError, match=r"^where must be callable; got int 1$"):
        perturb_weights({"w": jnp.ones(2)}, key=jax.random.key(0), sigma=0.1, where=1)
    with pytest.raises(TypeError, match=r"^params\['w'\] must hold float32 or float64 numbers; got dtype int32$"):
        perturb_weights({"w": jnp.ones(2, jnp.int32)}, key=jax.random.key(0), sigma=0.1)


def test_per_example_loss_boundaries():
    out = jnp.array([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"^kind must be one of 'mse', 'ce'; got 'bogus'$"):
        per_example_loss("bogus", out, jnp.array([0, 1]), 2)
    with pytest.raises(ValueError, match=r"^out must have n_classes = 3 columns; got shape \(2, 2\)$"):
        per_example_loss("mse", out, jnp.array([0, 1]), 3)
    with pytest.raises(ValueError, match=r"^y must hold class labels in \[0, 2\); got range \[0, 2\]$"):
        per_example_loss("ce", out, jnp.array([0, 2]))
    with pytest.raises(TypeError, match=r"^y must hold integers; got dtype float32$"):
        per_example_loss("ce", out, jnp.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"^y must hold one label per row of out"):
        per_example_loss("ce", out, jnp.array([0]))
    # regression targets: the shape of out
    assert per_example_loss("mse", out, out).tolist() == [0.0, 0.0]
    # one example at a time (the probes vmap over examples): out (C,), a 0-d label
    assert float(per_example_loss("mse", out[0], jnp.array(0), 2)) == 0.0
    # documented propagation: a non-finite output gives a non-finite loss for that example only
    got = per_example_loss("ce", out.at[0, 0].set(jnp.nan), jnp.array([0, 1]))
    assert np.isnan(got[0]) and np.isfinite(got[1])


def test_helpers_accept_what_they_document():
    assert check_jax_array("x", [1.0, 2.0]).dtype == np.float64
    assert check_jax_array("y", np.array([1, 2]), dtypes="int").shape == (2,)
    # concrete 0-d arrays come back as Python numbers (weakly typed: a float64 sigma never promotes f32 weights)
    assert type(check_jax_scalar("s", np.float64(0.5), lo=0.0)) is float
    assert type(check_jax_int("t", jnp.array(3), min=0)) is int
    traced = jax.jit(lambda s: check_jax_scalar("s", s, lo=0.0))(jnp.float32(-1.0))  # no value check on a tracer
    assert float(traced) == -1.0
    with pytest.raises(TypeError, match=r"^t must be an integer \(a Python int or a 0-d integer array\)"):
        check_jax_int("t", jnp.array(3.0))
    with pytest.raises(TypeError, match=r"^params must be a pytree of arrays"):
        check_jax_tree("params", None)
    with pytest.raises(ValueError, match=r"^params must hold at least one array"):
        check_jax_tree("params", {})
    # huge Python step counts never reach JAX as integers
    assert float(mix_weight(2**64, 10)) == 1.0 and float(restricted_gamma_lower(5, 2**64)) < 1e-15
