"""API contract of rmt_sparsity.flatness: bad input, determinism, vmap/jit, float32, the probe hook."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rmt_sparsity.flatness import (
    hutchinson_trace,
    hvp,
    lanczos,
    make_flatness_probe,
    noise_sharpness,
    num_params,
    sam_sharpness,
    slq_density,
)

EPS32 = float(np.finfo(np.float32).eps)
D = jnp.array([1.0, 2.0, 3.0, -0.5])


def quartic(p, b):
    """Non-quadratic test loss on a two-leaf pytree: H = diag(b) + 3 diag(w^2) on leaf "w"."""
    return 0.5 * jnp.sum(b * p["w"] ** 2) + 0.25 * jnp.sum(p["w"] ** 4) + 0.5 * jnp.sum(p["v"] ** 2)


def params_of(seed):
    rng = np.random.default_rng(seed)
    return {"w": jnp.asarray(rng.standard_normal(4), jnp.float32), "v": jnp.asarray(rng.standard_normal(2), jnp.float32)}


KEY = jax.random.key(0)
P = params_of(0)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: hutchinson_trace(quartic, P, D, key=KEY, probes=0), ValueError, "probes must be an integer >= 1; got 0"),
        (lambda: hutchinson_trace(quartic, P, D, key=KEY, probes=1.5), TypeError, "probes must be an integer"),
        (lambda: hutchinson_trace(quartic, P, D, key=KEY, probes=10, tol=-1.0), ValueError, "tol must be"),
        (lambda: hutchinson_trace(quartic, P, D, key=KEY, probes=1, tol=0.1), ValueError, "probes must be an integer >= 2"),
        (lambda: hutchinson_trace(quartic, P, D, key=0, probes=4), TypeError, "key must be a JAX PRNG key"),
        (lambda: hutchinson_trace("loss", P, D, key=KEY), TypeError, "loss must be a callable"),
        (lambda: hutchinson_trace(quartic, {}, D, key=KEY), ValueError, "params must be a non-empty pytree"),
        (lambda: hutchinson_trace(quartic, {"w": jnp.arange(4), "v": jnp.arange(2)}, D, key=KEY), TypeError,
         "params must hold float32 or float64"),
        (lambda: lanczos(quartic, {"w": P["w"].astype(jnp.float16), "v": P["v"]}, D, key=KEY), TypeError,
         "params must hold float32 or float64 arrays; leaf 1 has dtype float16"),
        (lambda: num_params({"w": jnp.array([1.0, jnp.nan])}), ValueError, r"params leaf 0 \(shape \(2,\)\) must be finite; found 1 non-finite entries"),
        (lambda: hvp(quartic, P, D, {"v": P["v"], "w": P["w"].astype(jnp.int32)}), TypeError,
         "vector must hold float32 or float64"),
        (lambda: hvp(quartic, P, D, {"v": P["v"], "w": P["w"][None]}), ValueError, "vector must have the shapes of params"),
        (lambda: hvp(quartic, P, D, {"v": P["v"], "w": P["w"].at[0].set(jnp.inf)}), ValueError, r"vector leaf 1 \(shape \(\d+,?\d*\)\) must be finite; found 1 non-finite entries"),
        (lambda: hutchinson_trace(quartic, P, D, key=KEY, probes=4, chunk=2**64), ValueError, r"chunk = 2\*\*64 needs"),
        (lambda: lanczos(quartic, P, D, key=KEY, k=7, iters=6), ValueError, r"k must be <= the number of parameters n = 6; got k = 7"),
        (lambda: lanczos(quartic, P, D, key=KEY, k=0), ValueError, "k must be an integer >= 1"),
        (lambda: lanczos(quartic, P, D, key=KEY, k=2, iters=7), ValueError, "iters must be an integer <= 6"),
        (lambda: lanczos(quartic, P, D, key=KEY, k=3, iters=2), ValueError, "iters must be an integer >= 3"),
        (lambda: lanczos(quartic, P, D, key=KEY, which="largest"), ValueError, "which must be one of 'LA', 'LM', 'SA'"),
        (lambda: slq_density(quartic, P, D, key=KEY, iters=7), ValueError, "iters must be an integer <= 6"),
        (lambda: slq_density(quartic, P, D, key=KEY, iters=3, runs=0), ValueError, "runs must be an integer >= 1"),
        (lambda: slq_density(quartic, P, D, key=KEY, iters=3, width=0.0), ValueError, "width must be a finite number > 0"),
        (lambda: noise_sharpness(quartic, P, D, key=KEY, sigma=-0.1), ValueError, "sigma must be a finite number >= 0"),
        (lambda: noise_sharpness(quartic, P, D, key=KEY, sigma=float("nan")), ValueError, "sigma must be a finite number"),
        (lambda: noise_sharpness(quartic, P, D, key=KEY, sigma=0.1, samples=0), ValueError, "samples must be an integer >= 1"),
        (lambda: sam_sharpness(quartic, P, D, rho=-1.0), ValueError, "rho must be a finite number >= 0"),
        (lambda: sam_sharpness(quartic, P, jnp.ones((10, 4)), rho=0.1, m=3), ValueError, "m must divide the batch size 10"),
        (lambda: hvp(quartic, P, D, {"w": jnp.ones(4)}), ValueError, "same pytree structure"),
        (lambda: make_flatness_probe(quartic, every=0), ValueError, "every must be an integer >= 1"),
        (lambda: make_flatness_probe(quartic, every=1, measures=("noise",)), ValueError, "sigma is required"),
        (lambda: make_flatness_probe(quartic, every=1, measures=("hessian",)), ValueError, "measures entry must be one of"),
    ],
)
def test_bad_input_raises_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


D_NAN = D.at[0].set(jnp.nan)  # NaN loss through the batch: reuses the compiled quartic functions


@pytest.mark.parametrize(
    "call",
    [
        lambda: hutchinson_trace(quartic, P, D_NAN, key=KEY, probes=16),
        lambda: hutchinson_trace(quartic, P, D_NAN, key=KEY, probes=16, tol=1e-3, block=16),
        lambda: lanczos(quartic, P, D_NAN, key=KEY, k=2, iters=6),
        lambda: slq_density(quartic, P, D_NAN, key=KEY, iters=4, runs=2, num=16),
        lambda: noise_sharpness(quartic, P, D_NAN, key=KEY, sigma=0.1, samples=16),
        lambda: sam_sharpness(quartic, P, D_NAN, rho=0.1),
    ],
)
def test_nonfinite_loss_raises(call):
    with pytest.raises(ValueError, match="is not finite"):
        call()


def test_nonfinite_perturbed_loss_raises():
    # finite at P, but w^4 overflows float32 (max ~3.4e38) at noise of sigma = 1e12
    with pytest.raises(ValueError, match=r"noise-perturbed point L\(W \+ E\) is not finite"):
        noise_sharpness(quartic, P, D, key=KEY, sigma=1e12, samples=16)


def test_non_scalar_loss_raises():
    with pytest.raises(TypeError, match="must return a scalar"):
        hutchinson_trace(lambda p, b: p["w"], P, D, key=KEY, probes=2)


# ----------------------------------------------------------------------------- determinism, vmap, jit, float32


def all_measures(p, key):
    return (
        hutchinson_trace(quartic, p, D, key=key, probes=16).estimate,
        lanczos(quartic, p, D, key=key, k=2, iters=6).eigenvalues,
        slq_density(quartic, p, D, key=key, iters=4, runs=2, num=16).density,
        noise_sharpness(quartic, p, D, key=key, sigma=0.1, samples=16).sharpness,
        noise_sharpness(quartic, p, D, key=key, sigma=0.1, samples=16, relative=True).sharpness,
        sam_sharpness(quartic, p, D, rho=0.1).sharpness,
    )


def test_same_key_is_bit_identical_and_other_key_differs():
    a = all_measures(P, KEY)
    b = all_measures(P, KEY)
    for x, y in zip(a, b):
        assert np.array_equal(np.asarray(x), np.asarray(y))
    c = all_measures(P, jax.random.key(1))
    # H is diagonal here, so Hutchinson is exact for every key; the noise measures must change with the key
    assert not np.array_equal(np.asarray(a[3]), np.asarray(c[3]))
    assert not np.array_equal(np.asarray(a[4]), np.asarray(c[4]))


def test_vmap_over_params_matches_loop():
    stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *[params_of(s) for s in (1, 2, 3)])
    vm = jax.vmap(lambda p: all_measures(p, KEY))(stacked)
    for i in range(3):
        one = all_measures(jax.tree_util.tree_map(lambda a: a[i], stacked), KEY)
        for a, b in zip(vm, one):
            # batched vs unbatched float32 kernels differ by rounding only: 1e3 eps relative to
            # the value's scale (O(10) terms per reduction, condition number O(10)).
            scale = float(np.abs(np.asarray(b)).max()) + 1.0
            np.testing.assert_allclose(np.asarray(a[i]), np.asarray(b), rtol=0, atol=1e3 * EPS32 * scale)


@jax.jit
def jitted_pair(p, b):
    return (hutchinson_trace(quartic, p, b, key=KEY, probes=16).estimate,
            lanczos(quartic, p, b, key=KEY, k=2, iters=6).eigenvalues)


def test_outer_jit_matches_eager():
    jitted = jitted_pair(P, D)
    eager = all_measures(P, KEY)[:2]
    for a, b in zip(jitted, eager):
        scale = float(np.abs(np.asarray(b)).max()) + 1.0
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e3 * EPS32 * scale)  # rounding only


def test_nonfinite_under_jit_propagates_nan_instead_of_raising():
    # documented: data-dependent checks need concrete values; under an outer jit the NaN propagates
    est, eig = jitted_pair(P, D_NAN)
    assert math.isnan(float(est)) and np.isnan(np.asarray(eig)).all()


def test_float32_default_and_exact_small_case():
    # H = diag(D + 3 w^2) on "w", identity on "v": diagonal, so every Rademacher quadratic form equals tr H.
    r = hutchinson_trace(quartic, P, D, key=KEY, probes=16)
    trace = float(jnp.sum(D + 3 * P["w"] ** 2) + 2.0)
    assert r.estimate.dtype == jnp.float32
    assert abs(float(r.estimate) - trace) <= 1e2 * EPS32 * trace  # rounding of a 6-term float32 sum
    assert float(r.se) <= 1e2 * EPS32 * trace
    assert num_params(P) == 6
    hv = hvp(quartic, P, D, {"w": jnp.ones(4), "v": jnp.ones(2)})
    np.testing.assert_allclose(np.asarray(hv["w"]), np.asarray(D + 3 * P["w"] ** 2), rtol=1e2 * EPS32)
    np.testing.assert_allclose(np.asarray(hv["v"]), 1.0, rtol=1e2 * EPS32)


def test_probe_hook_records_every_k_steps():
    probe = make_flatness_probe(quartic, every=5, measures=("trace", "top_eigenvalue", "noise", "sam"),
                                probes=16, iters=6, sigma=0.0, samples=16, rho=0.0)  # compiled shapes as above
    assert probe(3, P, D, key=KEY) is None
    out = probe(10, P, D, key=KEY)
    h = np.concatenate([np.asarray(D + 3 * P["w"] ** 2), np.ones(2)])
    assert out["step"] == 10
    assert abs(out["hessian_trace"] - h.sum()) <= 1e2 * EPS32 * h.sum()  # diagonal H: exact to rounding
    # 6 Lanczos steps on a 6x6 matrix: exact to rounding (1e2 eps ||H||)
    assert abs(out["hessian_top_eigenvalue"] - h.max()) <= 1e2 * EPS32 * h.max()
    # sigma = rho = 0: SAM evaluates L(W + 0) on the same code path (exactly 0); the vectorised noise
    # draws may reorder the loss sums (rounding: 1e2 eps (1 + |L|))
    assert out["sam_sharpness"] == 0.0
    assert abs(out["noise_sharpness"]) <= 1e2 * EPS32 * (1 + float(quartic(P, D)))
