"""Tests of the gradient identity, augmented flatness, LayerNorm facts and weight-noise relation."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmt_sparsity.theory import (
    augmented_flatness,
    bound_im,
    bound_re,
    key_gradient,
    key_gradient_sq_norms,
    layernorm_bound_attaining_configuration,
    layernorm_norm_lower_bound,
    layernorm_sq_norm,
    noise_sharpness_prediction,
    restricted_layernorm,
)


def _mlp_loss(K, x, W, y):
    h = K @ x
    return 0.5 * float(np.sum((W @ np.maximum(h, 0.0) - y) ** 2))


def test_key_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    d, dff, dout = 5, 7, 3
    K = rng.standard_normal((dff, d))
    W = rng.standard_normal((dout, dff))
    x = rng.standard_normal(d)
    y = rng.standard_normal(dout)
    h = K @ x
    g = W.T @ (W @ np.maximum(h, 0) - y)  # dL/da
    eta = g * (h > 0)
    grad = key_gradient(x[None], eta[None])[0]
    # central differences: truncation O(step^2 |L'''|) ~ 1e-12 (piecewise quadratic loss; no kink
    # is crossed since min|h| >> step) plus rounding eps*|L|/step ~ 1e-10
    step = 1e-6
    assert np.min(np.abs(h)) > 1e-3
    fd = np.zeros_like(K)
    for i in range(dff):
        for j in range(d):
            e = np.zeros_like(K)
            e[i, j] = step
            fd[i, j] = (_mlp_loss(K + e, x, W, y) - _mlp_loss(K - e, x, W, y)) / (2 * step)
    np.testing.assert_allclose(grad, fd, atol=1e-7)
    # the identity ||dL/dK||_F^2 = ||x||^2 ||eta||^2 (relative rounding O(d eps))
    assert key_gradient_sq_norms(x[None], eta[None])[0] == pytest.approx(np.sum(fd**2), rel=1e-6)


def test_augmented_flatness_is_sum_of_per_token_norms_not_batch_norm():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 4))
    eta = rng.standard_normal((6, 9))
    per_token = np.sum(key_gradient(x, eta) ** 2, axis=(1, 2))
    np.testing.assert_allclose(key_gradient_sq_norms(x, eta), per_token, rtol=1e-13)  # O(d eps) rounding
    assert augmented_flatness(x, eta) == pytest.approx(per_token.sum(), rel=1e-13)
    batch = np.sum((eta.T @ x) ** 2)
    assert abs(batch - augmented_flatness(x, eta)) > 1e-3 * batch  # cross terms differ


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="tokens"):
        augmented_flatness(np.ones((2, 3)), np.ones((3, 3)))


@pytest.mark.parametrize("v_scale", [1e-8, 1e-5, 1.0, 100.0])
def test_layernorm_sq_norm_matches_direct(v_scale):
    rng = np.random.default_rng(2)
    h = math.sqrt(v_scale) * rng.standard_normal(32)
    v = float(np.var(h))
    x = restricted_layernorm(h, eps=1e-5)
    # relative rounding O(d eps) in the sum of squares
    assert float(np.sum(x**2)) == pytest.approx(layernorm_sq_norm(32, v, 1e-5), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    d=st.integers(2, 40),
    seed=st.integers(0, 2**32 - 1),
    gamma_extra=st.floats(0.0, 3.0),
    rho=st.sampled_from([0.0, 0.1, 0.3]),
)
def test_layernorm_lower_bounds_hold(d, seed, gamma_extra, rho):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal(d) * 3.0
    if np.var(h) == 0:
        return
    gamma = rng.choice([-1.0, 1.0], d) * (1.0 + gamma_extra * rng.random(d))
    bias = rho * np.abs(gamma) * rng.uniform(-1, 1, d)
    x0 = restricted_layernorm(h, gamma, eps=0.0)
    x1 = restricted_layernorm(h, gamma, bias, eps=0.0)
    # exact inequalities; slack 1e-12 relative for rounding in the norms
    assert np.linalg.norm(x0) >= layernorm_norm_lower_bound(d) * (1 - 1e-12)
    assert np.linalg.norm(x1) >= layernorm_norm_lower_bound(d, zeroth_bias=True, bias_ratio=rho) * (1 - 1e-12)


def test_attaining_configuration():
    for d in (2, 10, 64):
        cfg = layernorm_bound_attaining_configuration(d)
        assert cfg["norm"] == pytest.approx(0.9 * math.sqrt(d), rel=1e-14)  # exact up to rounding
        assert np.all(np.abs(cfg["bias"]) <= 0.1 * np.abs(cfg["gamma"]) + 1e-15)
    with pytest.raises(ValueError, match="even"):
        layernorm_bound_attaining_configuration(5)


def test_noise_sharpness_exact_for_quadratic_by_monte_carlo():
    rng = np.random.default_rng(3)
    n, s, m = 30, 0.3, 20000
    a = rng.standard_normal((n, n))
    H = a @ a.T / n
    b = rng.standard_normal(n)
    w = rng.standard_normal(n)
    L = lambda v: 0.5 * np.einsum("...i,ij,...j->...", v, H, v) + v @ b  # noqa: E731
    e = s * rng.standard_normal((m, n))
    diffs = L(w + e) - L(w)
    mean, se = diffs.mean(), diffs.std(ddof=1) / math.sqrt(m)
    pred = noise_sharpness_prediction(s, np.trace(H))
    assert abs(mean - pred) < 4 * se  # 4 SE: false-fail rate < 1e-4
    # and the prediction is not trivially satisfied: a 20 % error would be detected
    assert 0.2 * pred > 4 * se


def test_unverified_bounds_are_marked_and_finite():
    assert "UNVERIFIED" in bound_re.__doc__ and "UNVERIFIED" in bound_im.__doc__
    assert bound_im(0.1, 0.5, 0.7, 1e-2, 128) > bound_re(0.1, 0.5, 0.7, 1e-2, 128) > 0
    with pytest.raises(ValueError, match="v"):
        bound_re(0.1, 0.5, 0.7, 0.0, 128)
