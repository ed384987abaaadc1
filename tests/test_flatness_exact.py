"""Flatness measures against the exact Hessian of a small network (float64).

The network: a 5-16-10-2 tanh MLP with biases (n = 288 parameters) and a mean
squared error on 64 random examples. Its exact Hessian comes from jax.hessian
(only in tests). Everything runs under ``jax.enable_x64(True)`` (a context, so
other tests keep JAX's default float32).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from rmt_sparsity.flatness import hutchinson_trace, lanczos, slq_density

EPS64 = np.finfo(np.float64).eps
SIZES = (5, 16, 10, 2)


def mlp_loss(params, batch):
    x, y = batch
    h = x
    for i, layer in enumerate(params):
        h = h @ layer["W"].T + layer["b"]
        if i < len(params) - 1:
            h = jnp.tanh(h)
    return 0.5 * jnp.mean(jnp.sum((h - y) ** 2, axis=-1))


def make_params(seed):
    # NumPy draws (eager jax.random calls would compile one kernel per shape)
    rng = np.random.default_rng(seed)
    return [
        {
            "W": jnp.asarray(rng.standard_normal((SIZES[i + 1], SIZES[i])) / np.sqrt(SIZES[i])),
            "b": jnp.asarray(0.1 * rng.standard_normal(SIZES[i + 1])),
        }
        for i in range(len(SIZES) - 1)
    ]


@pytest.fixture(scope="module")
def net():
    with jax.enable_x64(True):
        params = make_params(0)
        rng = np.random.default_rng(1)
        x = jnp.asarray(rng.standard_normal((64, SIZES[0])))
        y = jnp.asarray(rng.standard_normal((64, SIZES[-1])))
        flat, unravel = ravel_pytree(params)
        H = np.asarray(jax.jit(jax.hessian(lambda z: mlp_loss(unravel(z), (x, y))))(flat))
    assert flat.dtype == jnp.float64 and H.shape == (288, 288)
    evals = np.linalg.eigvalsh(H)
    return {"params": params, "batch": (x, y), "H": H, "evals": evals, "n": H.shape[0]}


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def test_hutchinson_within_4se_of_exact_trace(net, x64):
    r = hutchinson_trace(mlp_loss, net["params"], net["batch"], key=jax.random.key(3), probes=200)
    trace = np.trace(net["H"])
    assert r.probes == 200 and r.values.shape == (200,)
    # Monte-Carlo: the estimate is unbiased; 4 SE bounds a normal error with probability 1 - 6e-5.
    assert abs(float(r.estimate) - trace) <= 4 * float(r.se)
    # The SE estimates sqrt(Var/m) with Var = 2 sum_{i != j} H_ij^2 for Rademacher probes. With
    # m = 200 the relative error of a sample SD is ~ sqrt((kurt - 1)/(4m)) ~ 0.1 for moderate kurtosis;
    # allow a factor 1.5 either way (> 4 of those relative errors).
    H = net["H"]
    sd_exact = np.sqrt(2 * (np.sum(H**2) - np.sum(np.diag(H) ** 2)) / 200)
    assert sd_exact / 1.5 <= float(r.se) <= 1.5 * sd_exact
    # forward-over-forward second directional derivatives are the same quadratic forms (same probes):
    # rounding only, 1e3 eps * ||H||_F * n (each form sums n^2 terms of size |H_ij|).
    for method in ("forward", "taylor"):
        f = hutchinson_trace(mlp_loss, net["params"], net["batch"], key=jax.random.key(3), probes=200, method=method)
        np.testing.assert_allclose(np.asarray(f.values), np.asarray(r.values), rtol=0,
                                   atol=1e3 * EPS64 * np.linalg.norm(H) * net["n"])


def test_taylor_method_rejects_custom_jvp_clearly(x64):
    relu_loss = lambda w, b: jnp.sum(jax.nn.relu(w) ** 2)  # jax.nn.relu has a custom_jvp: no jet rule
    with pytest.raises(ValueError, match="method='taylor' needs a Taylor-mode"):
        hutchinson_trace(relu_loss, jnp.ones(3), None, key=jax.random.key(0), probes=2, method="taylor")


def test_hutchinson_tol_stops_early_and_reproduces_prefix(net, x64):
    full = hutchinson_trace(mlp_loss, net["params"], net["batch"], key=jax.random.key(3), probes=200)
    tol = 2.0 * float(full.se)  # reachable after roughly a quarter of the probes
    r = hutchinson_trace(mlp_loss, net["params"], net["batch"], key=jax.random.key(3), probes=200, tol=tol, block=10)
    assert float(r.se) <= tol
    assert r.probes % 10 == 0 and r.probes < 200
    # probe i is drawn from fold_in(key, i): the early-stopped values are the prefix of the full run
    # (only the vectorised batch size differs, so agreement is to rounding: 1e3 eps * |values|).
    np.testing.assert_allclose(np.asarray(r.values), np.asarray(full.values[: r.probes]),
                               rtol=0, atol=1e3 * EPS64 * float(np.abs(full.values).max()))


@pytest.mark.parametrize("which", ["LA", "LM", "SA"])
def test_lanczos_top_eigenvalues_match_exact(net, x64, which):
    r = lanczos(mlp_loss, net["params"], net["batch"], key=jax.random.key(4), k=3, iters=50, which=which)
    ev = net["evals"]
    if which == "LA":
        ref = ev[::-1][:3]
    elif which == "SA":
        ref = ev[:3]
    else:
        ref = ev[np.argsort(-np.abs(ev))][:3]
    assert r.which == which and r.eigenvalues.shape == (3,)
    lam = np.asarray(r.eigenvalues)
    # Acceptance: 1e-6 relative. Converged Ritz values are accurate to ~ eps * ||H|| * sqrt(iters)
    # (full reorthogonalisation), far inside 1e-6 relative for eigenvalues of order ||H||.
    np.testing.assert_allclose(lam, ref, rtol=1e-6, atol=0)
    # Kahan-Parlett-Jiang: each Ritz value lies within its residual norm of an eigenvalue
    # (+ a rounding floor of 1e3 eps ||H||).
    dist = np.min(np.abs(lam[:, None] - ev[None, :]), axis=1)
    assert np.all(dist <= np.asarray(r.residuals) + 1e3 * EPS64 * np.abs(ev).max())


def test_lanczos_signed_lm_label(x64):
    # H = diag(3, -5, 1, 0.5): the largest algebraic eigenvalue is 3 but the largest magnitude is -5.
    d = jnp.array([3.0, -5.0, 1.0, 0.5])
    loss = lambda w, b: 0.5 * jnp.sum(b * w**2)
    la = lanczos(loss, jnp.zeros(4), d, key=jax.random.key(0), k=1, iters=4, which="LA")
    lm = lanczos(loss, jnp.zeros(4), d, key=jax.random.key(0), k=1, iters=4, which="LM")
    # 4 steps on a 4x4 matrix are exact up to rounding (1e2 eps * ||H||).
    assert abs(float(la.eigenvalues[0]) - 3.0) <= 1e2 * EPS64 * 5
    assert abs(float(lm.eigenvalues[0]) + 5.0) <= 1e2 * EPS64 * 5
    assert (la.which, lm.which) == ("LA", "LM")


def test_lanczos_full_dimension_recovers_whole_spectrum(x64):
    # iters = n on a matrix with repeated eigenvalues exercises breakdown + restart:
    # the Krylov space of one start vector has dimension 3 (three distinct eigenvalues) < n = 6.
    d = jnp.array([2.0, 2.0, 2.0, -1.0, -1.0, 0.5])
    loss = lambda w, b: 0.5 * jnp.sum(b * w**2)
    r = lanczos(loss, jnp.zeros(6), d, key=jax.random.key(1), k=6, iters=6)
    # all Ritz values are eigenvalues to rounding (1e2 eps ||H||); the restarts find the multiplicities
    np.testing.assert_allclose(np.sort(np.asarray(r.ritz_values)), np.sort(np.asarray(d)), rtol=0, atol=1e2 * EPS64 * 2)
    assert np.all(np.isfinite(np.asarray(r.residuals)))


def test_slq_extreme_ritz_values_and_trace(net, x64):
    ev = net["evals"]
    r = slq_density(mlp_loss, net["params"], net["batch"], key=jax.random.key(5), iters=50, runs=20)
    scale = np.abs(ev).max()
    # Acceptance: extreme Ritz values within 1e-3 (relative to ||H|| = max |lambda|; the smallest
    # eigenvalue is not bounded away from 0, so a relative error on it alone is not meaningful).
    assert np.all(np.abs(np.asarray(r.nodes.max(axis=1)) - ev[-1]) <= 1e-3 * scale)
    assert np.all(np.abs(np.asarray(r.nodes.min(axis=1)) - ev[0]) <= 1e-3 * scale)
    # weights: squared first components of orthonormal eigenvectors, one unit per run / runs
    assert abs(float(r.weights.sum()) - 1.0) <= 1e3 * EPS64
    # n sum w theta is a Hutchinson estimate over 20 normalised Rademacher probes: 4 SE
    # (Student t with 19 dof: P(|t| > 4) ~ 8e-4).
    assert abs(float(r.trace) - np.trace(net["H"])) <= 4 * float(r.trace_se)
    # the smoothed density integrates to 1: the grid spans the nodes +- 4 width (Gaussian tail mass
    # 6.3e-5 per side) and the trapezoid rule on 400 points is accurate to far below that.
    mass = float(np.trapezoid(np.asarray(r.density), np.asarray(r.grid)))
    assert abs(mass - 1.0) <= 2e-4
    assert float(r.width) > 0 and r.dim == net["n"]


def test_jit_wrapping_and_determinism(net, x64):
    key = jax.random.key(8)
    f = jax.jit(lambda p, b: hutchinson_trace(mlp_loss, p, b, key=key, probes=200).estimate)
    eager = hutchinson_trace(mlp_loss, net["params"], net["batch"], key=key, probes=200)
    # same computation under an outer jit: identical to rounding (1e3 eps relative)
    np.testing.assert_allclose(float(f(net["params"], net["batch"])), float(eager.estimate), rtol=1e3 * EPS64)
    again = hutchinson_trace(mlp_loss, net["params"], net["batch"], key=key, probes=200)
    assert np.array_equal(np.asarray(again.values), np.asarray(eager.values))  # same key: bit-identical
    other = hutchinson_trace(mlp_loss, net["params"], net["batch"], key=jax.random.key(9), probes=200)
    assert not np.array_equal(np.asarray(other.values), np.asarray(eager.values))
