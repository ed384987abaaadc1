"""Noise sharpness and SAM sharpness against closed forms (quadratic losses, float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from rmt_sparsity.flatness import noise_sharpness, sam_sharpness

EPS64 = np.finfo(np.float64).eps
N = 30


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


@pytest.fixture(scope="module")
def quad():
    rng = np.random.default_rng(0)
    G = rng.standard_normal((N, N))
    A = (G + G.T) / np.sqrt(2 * N)  # symmetric, indefinite (GOE-like), ||A|| ~ 2
    c = rng.standard_normal(N)
    # params: two leaves with different scales (rms ~ 1 and ~ 0.1), flattened to N entries
    w = {"a": rng.standard_normal((4, 5)), "b": 0.1 * rng.standard_normal(10)}
    return {"A": A, "c": c, "params": w}


def quad_loss(p, batch):
    A, c = batch
    x, _ = ravel_pytree(p)
    d = x - c
    return 0.5 * d @ A @ d


def test_noise_sharpness_quadratic_is_half_sigma2_trace(quad, x64):
    A, c = jnp.asarray(quad["A"]), jnp.asarray(quad["c"])
    params = jax.tree_util.tree_map(jnp.asarray, quad["params"])
    sigma, samples, key = 0.3, 2000, jax.random.key(11)
    r = noise_sharpness(quad_loss, params, (A, c), key=key, sigma=sigma, samples=samples)
    target = 0.5 * sigma**2 * np.trace(quad["A"])
    # unbiased with no truncation error for a quadratic: 4 SE (normal false-fail rate 6e-5)
    assert abs(float(r.sharpness) - target) <= 4 * float(r.se)
    # exactly, draw by draw: antithetic differences are 1/2 E^T A E (documented draw i = sigma * xi_i);
    # the only error is rounding of O(N^2) terms of size ~ |loss|: 1e3 eps * (1 + |L|).
    n = ravel_pytree(params)[0].shape[0]
    xi = np.stack([np.asarray(jax.random.normal(jax.random.fold_in(key, i), (n,), jnp.float64)) for i in range(5)])
    E = sigma * xi
    exact = 0.5 * np.einsum("si,ij,sj->s", E, quad["A"], E)
    np.testing.assert_allclose(np.asarray(r.values[:5]), exact, rtol=0, atol=1e3 * EPS64 * (1 + abs(float(r.loss))))
    # without the antithetic pair the gradient term g.E stays in each draw: still unbiased (4 SE)
    r1 = noise_sharpness(quad_loss, params, (A, c), key=key, sigma=sigma, samples=samples, antithetic=False)
    assert abs(float(r1.sharpness) - target) <= 4 * float(r1.se)
    assert float(r1.se) > float(r.se)  # g != 0 here: the first-order term adds variance


def test_noise_sharpness_relative_sigma_per_leaf(quad, x64):
    A, c = jnp.asarray(quad["A"]), jnp.asarray(quad["c"])
    params = jax.tree_util.tree_map(jnp.asarray, quad["params"])
    sigma = 0.5
    r = noise_sharpness(quad_loss, params, (A, c), key=jax.random.key(12), sigma=sigma, samples=2000, relative=True)
    rms = {k: np.sqrt(np.mean(np.asarray(v) ** 2)) for k, v in quad["params"].items()}
    for k in rms:  # sigma_leaf = sigma * rms(leaf), to rounding
        assert abs(float(r.sigma[k]) - sigma * rms[k]) <= 1e2 * EPS64 * sigma * rms[k]
    # E[1/2 E^T A E] = 1/2 sum_i s_i^2 A_ii with s the per-entry sigma in ravel order ("a" then "b")
    s = np.concatenate([np.full(20, sigma * rms["a"]), np.full(10, sigma * rms["b"])])
    target = 0.5 * np.sum(s**2 * np.diag(quad["A"]))
    assert abs(float(r.sharpness) - target) <= 4 * float(r.se)  # 4 SE, as above
    assert r.relative and r.antithetic and r.samples == 2000


def test_noise_sharpness_zero_sigma_is_zero(quad, x64):
    A, c = jnp.asarray(quad["A"]), jnp.asarray(quad["c"])
    params = jax.tree_util.tree_map(jnp.asarray, quad["params"])
    r = noise_sharpness(quad_loss, params, (A, c), key=jax.random.key(0), sigma=0.0, samples=2000)
    # E = 0 * xi = 0 exactly; the vectorised L(W + 0) may differ from L(W) only by the rounding of a
    # differently ordered O(N^2)-term sum: 1e2 eps (1 + |L|)
    tol = 1e2 * EPS64 * (1 + abs(float(r.loss)))
    assert abs(float(r.sharpness)) <= tol and np.all(np.abs(np.asarray(r.values)) <= tol)


def test_sam_sharpness_quadratic_closed_form(quad, x64):
    A, c = jnp.asarray(quad["A"]), jnp.asarray(quad["c"])
    params = jax.tree_util.tree_map(jnp.asarray, quad["params"])
    rho = 0.2
    r = sam_sharpness(quad_loss, params, (A, c), rho=rho)
    x = np.asarray(ravel_pytree(params)[0])
    g = quad["A"] @ (x - quad["c"])
    u = g / np.linalg.norm(g)
    exact = rho * np.linalg.norm(g) + 0.5 * rho**2 * u @ quad["A"] @ u  # L(x + rho u) - L(x), exact for a quadratic
    # rounding: the difference of two O(|L|) numbers, each with O(N^2) terms: 1e3 eps (1 + |L|)
    assert abs(float(r.sharpness) - exact) <= 1e3 * EPS64 * (1 + abs(float(r.loss)))
    assert abs(float(r.grad_norm[0]) - np.linalg.norm(g)) <= 1e3 * EPS64 * np.linalg.norm(g)
    assert r.chunks == 1 and r.m is None and np.isnan(float(r.se))
    # at the minimiser g = 0: epsilon = 0 and the sharpness is exactly 0
    at_min = jax.tree_util.tree_map(jnp.asarray, {"a": quad["c"][:20].reshape(4, 5), "b": quad["c"][20:]})
    assert float(sam_sharpness(quad_loss, at_min, (A, c), rho=rho).sharpness) == 0.0


def lsq_loss(w, batch):
    x, y = batch
    return 0.5 * jnp.mean((x @ w - y) ** 2)


def test_m_sharpness_averages_disjoint_chunks(x64):
    rng = np.random.default_rng(3)
    x, y, w = rng.standard_normal((12, 5)), rng.standard_normal(12), rng.standard_normal(5)
    rho, m = 0.1, 4
    r = sam_sharpness(lsq_loss, jnp.asarray(w), (jnp.asarray(x), jnp.asarray(y)), rho=rho, m=m)
    per = []
    for cidx in range(3):
        xc, yc = x[cidx * m:(cidx + 1) * m], y[cidx * m:(cidx + 1) * m]
        g = xc.T @ (xc @ w - yc) / m
        e = rho * g / np.linalg.norm(g)
        per.append(0.5 * np.mean((xc @ (w + e) - yc) ** 2) - 0.5 * np.mean((xc @ w - yc) ** 2))
    per = np.array(per)
    # rounding only: 1e3 eps * (1 + |L|)
    np.testing.assert_allclose(np.asarray(r.values), per, rtol=0, atol=1e3 * EPS64 * 10)
    assert abs(float(r.sharpness) - per.mean()) <= 1e3 * EPS64 * 10
    assert abs(float(r.se) - per.std(ddof=1) / np.sqrt(3)) <= 1e3 * EPS64 * 10
    assert r.chunks == 3 and r.m == 4
    # m = B is the ordinary (full-batch) first-order SAM sharpness
    full = sam_sharpness(lsq_loss, jnp.asarray(w), (jnp.asarray(x), jnp.asarray(y)), rho=rho)
    whole = sam_sharpness(lsq_loss, jnp.asarray(w), (jnp.asarray(x), jnp.asarray(y)), rho=rho, m=12)
    assert abs(float(full.sharpness) - float(whole.sharpness)) <= 1e3 * EPS64 * 10


def quartic_loss(w, batch):
    return 0.25 * jnp.sum(w**4)


def test_hessian_term_pairs_draws(quad, x64):
    # quadratic loss: d_i = q_i = 1/2 E^T A E draw by draw, so R = 1 up to rounding
    A, c = jnp.asarray(quad["A"]), jnp.asarray(quad["c"])
    params = jax.tree_util.tree_map(jnp.asarray, quad["params"])
    r = noise_sharpness(quad_loss, params, (A, c), key=jax.random.key(13), sigma=0.3, samples=64, hessian_term=True)
    scale = 1 + abs(float(r.loss))
    np.testing.assert_allclose(np.asarray(r.values), np.asarray(r.quadratic_values), rtol=0, atol=1e3 * EPS64 * scale)
    assert abs(float(r.ratio) - 1.0) <= 1e3 * EPS64 * scale / float(r.quadratic)
    # quartic L = sum w^4 / 4: antithetic d = sum(3/2 w^2 e^2 + e^4/4), q = sum(3/2 w^2 e^2), so d - q = sum e^4 / 4
    w = jnp.asarray(np.random.default_rng(4).standard_normal(8))
    key, sigma = jax.random.key(14), 0.2
    r = noise_sharpness(quartic_loss, w, None, key=key, sigma=sigma, samples=16, hessian_term=True)
    E = sigma * np.stack([np.asarray(jax.random.normal(jax.random.fold_in(key, i), (8,), jnp.float64)) for i in range(16)])
    np.testing.assert_allclose(np.asarray(r.values - r.quadratic_values), np.sum(E**4, axis=1) / 4,
                               rtol=0, atol=1e3 * EPS64 * float(jnp.sum(w**4)))  # rounding of O(|L|) terms
    Rn = np.asarray(r.values).mean() / np.asarray(r.quadratic_values).mean()
    assert abs(float(r.ratio) - Rn) <= 1e3 * EPS64 * Rn
