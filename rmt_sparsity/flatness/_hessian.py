"""Hessian spectra without the Hessian: Hutchinson trace, Lanczos eigenvalues, SLQ density.

All three use Hessian-vector products of the flattened loss (see
:mod:`rmt_sparsity.flatness._common`). Results are frozen dataclasses
registered as JAX pytrees (counts and labels are static metadata), so every
function can be called under ``jax.jit`` and ``jax.vmap`` over ``params`` (for
ensembles); the one exception is :func:`hutchinson_trace` with ``tol=``, whose
early stopping needs concrete values.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

from .._checks import check_array, check_choice, check_int, check_key, check_size_budget
from .._stats import mean_se
from ._common import (
    _check_loss,
    _check_params,
    _flat_loss,
    _jit_static,
    _linearized_hvp,
    _map,
    _mean_se,
    _probe_keys,
    _rademacher,
    _raise_if_nonfinite,
    _real,
)

__all__ = [
    "TraceEstimate",
    "LanczosResult",
    "SLQDensity",
    "hutchinson_trace",
    "lanczos",
    "slq_density",
]


def _pytree_dataclass(data, meta):
    def wrap(cls):
        cls = dataclasses.dataclass(frozen=True)(cls)
        return jax.tree_util.register_dataclass(cls, data_fields=list(data), meta_fields=list(meta))

    return wrap


# ============================================================================= Hutchinson


@_pytree_dataclass(data=("estimate", "se", "values", "loss"), meta=("probes",))
class TraceEstimate:
    """Result of :func:`hutchinson_trace`.

    Attributes
    ----------
    estimate : jax.Array
        :math:`\\widehat{\\operatorname{tr} H} = \\frac1m \\sum_i z_i^\\top H z_i`.
    se : jax.Array
        Its standard error ``std(values, ddof=1) / sqrt(probes)`` (NaN for one probe).
    values : jax.Array, shape (probes,)
        The per-probe quadratic forms :math:`z_i^\\top H z_i`.
    loss : jax.Array
        :math:`L(W, \\text{batch})` at the evaluation point.
    probes : int
        Number of probes :math:`m` used (static).

    Examples
    --------
    A registered pytree: arrays are leaves (so results pass through ``jax.vmap``),
    counts are static metadata.

    >>> import jax
    >>> from rmt_sparsity.flatness import TraceEstimate
    >>> r = TraceEstimate(estimate=6.0, se=0.1, values=None, loss=0.5, probes=8)
    >>> jax.tree_util.tree_leaves(r), r.probes
    ([6.0, 0.1, 0.5], 8)
    """

    estimate: jax.Array
    se: jax.Array
    values: jax.Array
    loss: jax.Array
    probes: int


def _hutchinson_values(params, batch, keys, *, loss, chunk, method):
    if method == "hvp":
        value, x, _, matvec = _linearized_hvp(loss, params, batch)

        def one(k):
            z = _rademacher(k, x.shape[0], x.dtype)
            return jnp.vdot(z, matvec(z))

    elif method == "forward":  # second directional derivative d^2/dt^2 L(x + t z), forward-over-forward
        f, x, _ = _flat_loss(loss, params, batch)
        value = f(x)

        def one(k):
            z = _rademacher(k, x.shape[0], x.dtype)
            return jax.jvp(lambda y: jax.jvp(f, (y,), (z,))[1], (x,), (z,))[1]

    else:  # "taylor": the same derivative by second-order Taylor mode (jax.experimental.jet)
        from jax.experimental import jet

        f, x, _ = _flat_loss(loss, params, batch)
        value = f(x)

        def one(k):
            z = _rademacher(k, x.shape[0], x.dtype)
            _, (_, d2) = jet.jet(f, (x,), ((z, jnp.zeros_like(z)),))
            return d2

    return value, _map(one, keys, chunk)


_hutchinson_values_jit = _jit_static(_hutchinson_values, ("loss", "chunk", "method"))


def _taylor_guard(fun, method):
    """Turn jet's failures on unsupported primitives (custom_jvp functions) into a clear ValueError."""
    if method != "taylor":
        return fun

    def call(*args, **kwargs):
        try:
            return fun(*args, **kwargs)
        except (jax.errors.UnexpectedTracerError, NotImplementedError) as exc:
            raise ValueError(
                "method='taylor' needs a Taylor-mode (jax.experimental.jet) rule for every primitive of the loss; "
                "functions with a custom_jvp such as jax.nn.relu are not supported (write jnp.maximum(h, 0)), "
                f"or use method='hvp' ({type(exc).__name__}: {str(exc)[:200]})"
            ) from exc

    return call


def hutchinson_trace(loss, params, batch, *, key, probes=100, tol=None, block=10, chunk=1, method="hvp"):
    """Hutchinson estimate of the Hessian trace with Rademacher probes and its standard error.

    .. math::

        \\operatorname{tr} H \\approx \\frac1m \\sum_{i=1}^m z_i^\\top H z_i, \\qquad
        z_i \\in \\{-1, +1\\}^n \\text{ iid uniform},

    unbiased, with :math:`\\operatorname{Var}(z^\\top H z) = 2\\sum_{i\\ne j} H_{ij}^2`.
    The standard error is the sample standard deviation of the :math:`z_i^\\top H z_i`
    over :math:`\\sqrt m`. With ``method="hvp"`` each probe costs one
    Hessian-vector product (forward-over-reverse, primal pass shared by all
    probes). ``method="forward"`` computes the same number as the second
    directional derivative :math:`\\partial_t^2 L(W + t z)|_{t=0}`
    (forward-over-forward: no reverse pass, less memory), and
    ``method="taylor"`` computes it by second-order Taylor mode
    (``jax.experimental.jet``), the cheapest: about half the cost of an HVP
    (``benchmarks/flatness.py``). Taylor mode needs a Taylor rule for every
    primitive of the loss: functions with a ``custom_jvp`` (``jax.nn.relu``,
    ``jax.nn.softplus``, ...) are not supported and raise ``ValueError``;
    write ReLU as ``jnp.maximum(h, 0)``.

    Parameters
    ----------
    loss : callable
        ``loss(params, batch) -> scalar``.
    params : pytree of float arrays
    batch : pytree of arrays or None
    key : jax.random key
        Probe :math:`i` is drawn from ``jax.random.fold_in(key, i)``, so a run with
        ``tol`` reproduces the first probes of a run without it.
    probes : int, default 100
        Number of probes :math:`m \\ge 1`; with ``tol`` the maximum number.
    tol : float, optional
        Stop as soon as ``se <= tol`` (absolute), checking after every ``block``
        probes. This early stopping runs a Python loop on concrete values: it is
        **not** usable under ``jax.jit``/``jax.vmap`` (use ``tol=None`` there).
    block : int, default 10
        Probes per block when ``tol`` is given (>= 2).
    chunk : int, default 1
        Probes evaluated together (vectorised with ``vmap``). The default 1 is
        a sequential loop, the fastest on CPU for small and large models alike
        (``benchmarks/flatness.py``); larger chunks may pay off on accelerators.
        Memory is about ``chunk`` parameter vectors (plus activations).
    method : {"hvp", "forward", "taylor"}
        How :math:`z^\\top H z` is computed (same value up to rounding; all use
        the autodiff second derivative, so ReLU kinks count as 0).

    Returns
    -------
    TraceEstimate
        ``estimate``, ``se``, ``values``, ``loss`` and ``probes``.

    Raises
    ------
    ValueError
        ``probes < 1``, ``tol <= 0``, ``block < 2``, or a non-finite loss or
        Hessian quadratic form (when not traced).

    Notes
    -----
    vmap-compatible over ``params`` (and ``batch``) when ``tol is None``.

    References
    ----------
    Hutchinson, Commun. Stat. Simul. Comput. 1990; Avron & Toledo, J. ACM 2011;
    PyHessian, Yao et al., arXiv 1912.07145.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from rmt_sparsity.flatness import hutchinson_trace
    >>> loss = lambda w, b: 0.5 * jnp.sum(b * w**2)      # H = diag(b): tr H = 6 exactly
    >>> r = hutchinson_trace(loss, jnp.zeros(3), jnp.array([1.0, 2.0, 3.0]), key=jax.random.key(0), probes=8)
    >>> float(r.estimate), float(r.se), r.probes       # diagonal H: every probe is exact
    (6.0, 0.0, 8)
    """
    _check_loss(loss)
    n = _check_params(params)
    check_key("key", key)
    probes = check_int("probes", probes, min=1)
    check_size_budget("probes", probes, nbytes=16 * probes, iterations=probes * n,
                      what="one key, one Hessian-vector product and one value per probe")
    method = check_choice("method", method, ("hvp", "forward", "taylor"))
    chunk = check_int("chunk", chunk, min=1)
    block = check_int("block", block, min=2)  # checked even when unused (tol None): a bad setting is not carried
    # as requested (before the cap at probes): a vectorised chunk holds a few n-vectors per lane; a block, a key
    # and a value per probe and its Hessian-vector products
    check_size_budget("chunk", chunk, nbytes=4 * 8 * chunk * n, what="the Hessian-vector products of one chunk")
    check_size_budget("block", block, nbytes=16 * block, iterations=block * n,
                      what="one key, one Hessian-vector product and one value per probe of a block")
    if tol is None:
        keys = _probe_keys(key, 0, probes)
        chunk = min(chunk, probes)
        value, vals = _taylor_guard(_hutchinson_values_jit, method)(params, batch, keys, loss=loss, chunk=chunk,
                                                                    method=method)
    else:
        tol = _real("tol", tol, lo=0.0, lo_open=True)
        if probes < 2:
            raise ValueError(f"probes must be an integer >= 2 when tol is given (a standard error needs 2); got {probes}")
        parts = []
        used = 0
        while used < probes:
            m = min(block, probes - used)
            keys = _probe_keys(key, used, m)
            c = min(chunk, m)
            value, vals = _taylor_guard(_hutchinson_values_jit, method)(params, batch, keys, loss=loss, chunk=c,
                                                                        method=method)
            _raise_if_nonfinite("loss(params, batch)", value)
            _raise_if_nonfinite("a Hutchinson quadratic form z^T H z", vals)
            parts.append(vals)
            used += m
            if used >= 2 and mean_se(jnp.concatenate(parts))[1] <= tol:
                break
        vals = jnp.concatenate(parts)
    _raise_if_nonfinite("loss(params, batch)", value)
    _raise_if_nonfinite("a Hutchinson quadratic form z^T H z", vals)
    est, se = _mean_se(vals)
    return TraceEstimate(estimate=est, se=se, values=vals, loss=value, probes=int(vals.shape[0]))


# ============================================================================= Lanczos core


def _lanczos_tridiagonal(matvec, v0, iters, key):
    """``iters`` Lanczos steps with full reorthogonalisation.

    Each step applies the three-term recurrence, then one classical
    Gram-Schmidt pass against the whole basis, and a second pass only when the
    first removed more than ``1 - 1/sqrt(2)`` of the norm (the
    Daniel-Gragg-Kaufman-Stewart criterion; "twice is enough").

    Returns ``alpha`` (iters,), ``beta`` (iters,) -- ``beta[j]`` couples steps ``j``
    and ``j+1``, ``beta[-1]`` is the final residual norm -- and the basis ``V``
    (iters + 1, n). On breakdown (an invariant subspace: the residual vanishes
    relative to the running norm estimate) the next vector is a random vector
    (a cyclic shift of one Gaussian vector drawn from ``key``) orthogonalised
    against the basis, and the coupling is set to 0, so ``T`` stays a valid
    projection of ``H``.
    """
    n = v0.shape[0]
    dtype = v0.dtype
    eps = jnp.finfo(dtype).eps
    tiny = 8.0 * math.sqrt(iters) * eps
    V = jnp.zeros((iters + 1, n), dtype).at[0].set(v0 / jnp.linalg.norm(v0))
    r0 = jax.random.normal(key, (n,), dtype)  # restart j uses roll(r0, j): generic, and no RNG in the loop

    def cgs(V, w):
        return w - V.T @ (V @ w)  # rows not yet filled are zero and contribute nothing

    def orth(V, w):
        w1 = cgs(V, w)
        n0, n1 = jnp.linalg.norm(w), jnp.linalg.norm(w1)
        return jax.lax.cond(n1 < n0 / math.sqrt(2.0), lambda u: cgs(V, u), lambda u: u, w1)

    def body(j, state):
        V, alpha, beta, anorm = state
        v = V[j]
        w = matvec(v)
        a = jnp.vdot(v, w)
        prev = jnp.where(j > 0, beta[jnp.maximum(j - 1, 0)], 0.0)
        w = w - a * v - prev * V[jnp.maximum(j - 1, 0)] * (j > 0)  # three-term recurrence
        w = orth(V, w)
        b = jnp.linalg.norm(w)
        anorm = jnp.maximum(anorm, jnp.abs(a) + b + prev)
        broke = b <= tiny * anorm
        last = j == iters - 1

        def restart(_):
            r = cgs(V, cgs(V, jnp.roll(r0, j)))
            return r / jnp.linalg.norm(r)

        def proceed(_):
            return w / jnp.where(b > 0, b, 1.0)

        vnext = jax.lax.cond(broke & ~last, restart, proceed, None)
        vnext = jnp.where(broke & last, jnp.zeros_like(vnext), vnext)
        b = jnp.where(broke, jnp.zeros_like(b), b)
        V = V.at[j + 1].set(vnext)
        return V, alpha.at[j].set(a), beta.at[j].set(b), anorm

    init = (V, jnp.zeros(iters, dtype), jnp.zeros(iters, dtype), jnp.zeros((), dtype))
    V, alpha, beta, _ = jax.lax.fori_loop(0, iters, body, init)
    return alpha, beta, V


def _tridiag_eigh(alpha, beta):
    T = jnp.diag(alpha) + jnp.diag(beta[:-1], 1) + jnp.diag(beta[:-1], -1)
    return jnp.linalg.eigh(T)


# ============================================================================= Lanczos


@_pytree_dataclass(
    data=("eigenvalues", "residuals", "residual_bounds", "ritz_values", "vectors", "loss"),
    meta=("which", "k", "iters"),
)
class LanczosResult:
    """Result of :func:`lanczos`.

    Attributes
    ----------
    eigenvalues : jax.Array, shape (k,)
        Signed Ritz values, ordered by ``which``: ``"LA"`` largest algebraic
        first (the top eigenvalues), ``"LM"`` largest magnitude first (signed
        values kept: a large negative eigenvalue appears as negative), ``"SA"``
        smallest algebraic first.
    residuals : jax.Array, shape (k,)
        Ritz residual norms :math:`\\|H x_i - \\theta_i x_i\\|` computed with one
        extra Hessian-vector product per pair (:math:`\\|x_i\\| = 1`). By
        Kahan-Parlett-Jiang, an eigenvalue lies within ``residuals[i]`` of
        ``eigenvalues[i]`` (and within ``residuals[i]**2 / gap``).
    residual_bounds : jax.Array, shape (k,)
        The cheap Lanczos estimate :math:`|\\beta_m e_m^\\top y_i|` of the same residuals.
    ritz_values : jax.Array, shape (iters,)
        All Ritz values, ascending.
    vectors : jax.Array of shape (k, n), or None
        Ritz vectors in the flattened parameter space (``ravel_pytree`` order),
        if ``return_vectors``.
    loss : jax.Array
        :math:`L(W, \\text{batch})`.
    which : str
        ``"LA"``, ``"LM"`` or ``"SA"`` (static label of the ordering).
    k, iters : int
        Static counts.

    Examples
    --------
    >>> from rmt_sparsity.flatness import LanczosResult
    >>> r = LanczosResult(eigenvalues=[3.0], residuals=[1e-9], residual_bounds=[1e-9], ritz_values=[0.5, 3.0],
    ...                   vectors=None, loss=0.0, which="LA", k=1, iters=2)
    >>> r.which, r.eigenvalues[0]
    ('LA', 3.0)
    """

    eigenvalues: jax.Array
    residuals: jax.Array
    residual_bounds: jax.Array
    ritz_values: jax.Array
    vectors: jax.Array | None
    loss: jax.Array
    which: str
    k: int
    iters: int


_WHICH = ("LA", "LM", "SA")


def _lanczos_impl(params, batch, key, which_code, *, loss, k, iters, return_vectors):
    # ``which`` enters as a traced code (0: LA, 1: LM, 2: SA) so the orderings share one compilation.
    value, x, _, matvec = _linearized_hvp(loss, params, batch)
    k0, k1 = jax.random.split(key)
    v0 = jax.random.normal(k0, x.shape, x.dtype)
    alpha, beta, V = _lanczos_tridiagonal(matvec, v0, iters, k1)
    theta, Y = _tridiag_eigh(alpha, beta)
    sort_key = jnp.where(which_code == 0, -theta, jnp.where(which_code == 1, -jnp.abs(theta), theta))
    idx = jnp.argsort(sort_key, stable=True)[:k]
    lam = theta[idx]
    Ysel = Y[:, idx]  # (iters, k)
    bounds = jnp.abs(beta[-1] * Ysel[-1, :])
    X = Ysel.T @ V[:iters]  # (k, n) Ritz vectors
    HX = jax.lax.map(matvec, X)
    res = jnp.linalg.norm(HX - lam[:, None] * X, axis=1)
    return lam, res, bounds, theta, (X if return_vectors else None), value


_lanczos_jit = _jit_static(_lanczos_impl, ("loss", "k", "iters", "return_vectors"))


def lanczos(loss, params, batch, *, key, k=1, iters=None, which="LA", return_vectors=False):
    """Top-k signed Hessian eigenvalues by Lanczos with full reorthogonalisation.

    Builds the Krylov basis :math:`V_m = [v_1, \\dots, v_m]` of :math:`H` from a
    Gaussian start vector, with every new vector re-orthogonalised against all
    previous ones (classical Gram-Schmidt after the three-term recurrence, a
    second pass when the Daniel-Gragg-Kaufman-Stewart test asks), so that
    :math:`T_m = V_m^\\top H V_m` is tridiagonal and its eigenvalues (the Ritz
    values :math:`\\theta_i`) converge to the extreme eigenvalues of :math:`H`.

    The eigenvalues returned are **signed**. ``which="LA"`` (default) gives the
    *largest algebraic* ones -- the top eigenvalues. ``which="LM"`` gives the
    ``k`` of largest magnitude (labelled ``"LM"`` in the result; this is what
    power iteration returns, and what some libraries call "top"), still with
    their signs; ``which="SA"`` the most negative ones.

    Parameters
    ----------
    loss : callable
        ``loss(params, batch) -> scalar``.
    params : pytree of float arrays
    batch : pytree of arrays or None
    key : jax.random key
        Start vector and restart vectors.
    k : int, default 1
        Number of eigenvalues, ``1 <= k <= iters``.
    iters : int, optional
        Lanczos steps :math:`m` (Hessian-vector products), ``k <= m <= n``.
        Default ``min(n, max(2k + 20, 40))``. Cost: ``m + k`` Hessian-vector
        products plus :math:`O(m^2 n)` for reorthogonalisation; memory
        :math:`(m + 1) n` numbers.
    which : {"LA", "LM", "SA"}
        Ordering of the returned Ritz values (see above).
    return_vectors : bool, default False
        Also return the Ritz vectors, shape (k, n), in ``ravel_pytree`` order.

    Returns
    -------
    LanczosResult
        ``eigenvalues`` (signed), ``residuals`` :math:`\\|Hx_i-\\theta_i x_i\\|`, ...

    Raises
    ------
    ValueError
        ``k < 1``, ``k > n`` (the dimension), ``iters`` outside ``[k, n]``, an
        unknown ``which``, or a non-finite loss (when not traced).

    References
    ----------
    Lanczos 1950; Parlett, *The Symmetric Eigenvalue Problem* (1998), ch. 13;
    Ghorbani, Krishnan & Xiao, arXiv 1901.10159; Yao et al. (PyHessian), arXiv 1912.07145.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from rmt_sparsity.flatness import lanczos
    >>> d = jnp.array([3.0, -5.0, 1.0, 0.5])
    >>> loss = lambda w, b: 0.5 * jnp.sum(b * w**2)      # H = diag(3, -5, 1, 0.5)
    >>> r = lanczos(loss, jnp.zeros(4), d, key=jax.random.key(0), k=2, iters=4)
    >>> [round(float(v), 4) for v in r.eigenvalues], r.which
    ([3.0, 1.0], 'LA')
    >>> r = lanczos(loss, jnp.zeros(4), d, key=jax.random.key(0), k=1, iters=4, which="LM")
    >>> round(float(r.eigenvalues[0]), 4), r.which     # largest magnitude, sign kept
    (-5.0, 'LM')
    """
    _check_loss(loss)
    n = _check_params(params)
    check_key("key", key)
    which = check_choice("which", which, _WHICH)
    k = check_int("k", k, min=1)
    if k > n:
        raise ValueError(f"k must be <= the number of parameters n = {n}; got k = {k}")
    if iters is None:
        iters = min(n, max(2 * k + 20, 40))
    iters = check_int("iters", iters, min=k, max=n)
    lam, res, bounds, theta, X, value = _lanczos_jit(
        params, batch, key, _WHICH.index(which), loss=loss, k=k, iters=iters, return_vectors=bool(return_vectors)
    )
    res = LanczosResult(eigenvalues=lam, residuals=res, residual_bounds=bounds, ritz_values=theta, vectors=X,
                        loss=value, which=which, k=k, iters=iters)
    _raise_if_nonfinite("loss(params, batch)", res.loss)
    _raise_if_nonfinite("a Lanczos Ritz value", res.ritz_values)
    return res


# ============================================================================= SLQ


@_pytree_dataclass(
    data=("nodes", "weights", "grid", "density", "width", "trace", "trace_se", "loss"),
    meta=("runs", "iters", "dim"),
)
class SLQDensity:
    """Result of :func:`slq_density`.

    Attributes
    ----------
    nodes : jax.Array, shape (runs, iters)
        Ritz values :math:`\\theta_{rj}` of each run (ascending within a run).
    weights : jax.Array, shape (runs, iters)
        Quadrature weights :math:`\\tau_{rj}^2 / \\text{runs}` (they sum to 1).
    grid : jax.Array, shape (num,)
        Points where ``density`` is evaluated.
    density : jax.Array, shape (num,)
        :math:`\\hat\\phi(t) = \\sum_{r,j} w_{rj}\\, g_\\sigma(t - \\theta_{rj})`, with
        :math:`g_\\sigma` the Gaussian kernel of standard deviation ``width``;
        it integrates to 1 over the real line (eigenvalue density per parameter).
    width : jax.Array
        The smoothing width :math:`\\sigma` used.
    trace, trace_se : jax.Array
        :math:`n \\sum_{rj} w_{rj}\\theta_{rj}`, the Hutchinson trace estimate
        carried by the same probes, and its standard error over runs (NaN for one run).
    loss : jax.Array
    runs, iters, dim : int
        Static counts (``dim`` is :math:`n`).

    Examples
    --------
    >>> from rmt_sparsity.flatness import SLQDensity
    >>> r = SLQDensity(nodes=[[1.0, 2.0]], weights=[[0.5, 0.5]], grid=[1.5], density=[0.0], width=0.1,
    ...                trace=3.0, trace_se=float("nan"), loss=0.0, runs=1, iters=2, dim=2)
    >>> r.width, r.dim
    (0.1, 2)
    """

    nodes: jax.Array
    weights: jax.Array
    grid: jax.Array
    density: jax.Array
    width: jax.Array
    trace: jax.Array
    trace_se: jax.Array
    loss: jax.Array
    runs: int
    iters: int
    dim: int


def _slq_impl(params, batch, key, width, grid, *, loss, runs, iters, num):
    value, x, _, matvec = _linearized_hvp(loss, params, batch)
    n = x.shape[0]
    keys = _probe_keys(key, 0, runs)

    def one(kr):
        k0, k1 = jax.random.split(kr)
        v0 = _rademacher(k0, x.shape[0], x.dtype)
        alpha, beta, _ = _lanczos_tridiagonal(matvec, v0, iters, k1)
        theta, Y = _tridiag_eigh(alpha, beta)
        return theta, Y[0, :] ** 2

    nodes, tau2 = jax.lax.map(one, keys)
    weights = tau2 / runs
    per_run = n * jnp.sum(tau2 * nodes, axis=1)
    trace, trace_se = _mean_se(per_run)
    lo, hi = jnp.min(nodes), jnp.max(nodes)
    span = hi - lo
    if width is None:
        scale = jnp.maximum(span, jnp.maximum(jnp.abs(lo), jnp.abs(hi)))
        width = jnp.where(span > 0, span / 100.0, jnp.where(scale > 0, scale / 100.0, 1.0))
    width = jnp.asarray(width, x.dtype)
    if grid is None:
        grid = jnp.linspace(lo - 4.0 * width, hi + 4.0 * width, num, dtype=x.dtype)
    z = (grid[:, None] - nodes.reshape(-1)[None, :]) / width
    dens = jnp.exp(-0.5 * z**2) @ weights.reshape(-1) / (width * math.sqrt(2.0 * math.pi))
    return SLQDensity(
        nodes=nodes, weights=weights, grid=grid, density=dens, width=width,
        trace=trace, trace_se=trace_se, loss=value, runs=runs, iters=iters, dim=n,
    )


_slq_jit = _jit_static(_slq_impl, ("loss", "runs", "iters", "num"))


def slq_density(loss, params, batch, *, key, iters=50, runs=4, width=None, grid=None, num=400):
    """Hessian eigenvalue density by stochastic Lanczos quadrature (SLQ).

    For each of ``runs`` normalised Rademacher probes :math:`v_r`, ``iters``
    Lanczos steps (full reorthogonalisation) give the tridiagonal :math:`T_r`
    with eigenpairs :math:`(\\theta_{rj}, y_{rj})`. Gauss quadrature gives

    .. math::

        v_r^\\top f(H) v_r \\approx \\sum_j \\tau_{rj}^2 f(\\theta_{rj}), \\quad
        \\tau_{rj} = e_1^\\top y_{rj}, \\qquad
        \\phi(t) = \\frac1n\\sum_i \\delta(t - \\lambda_i) \\approx
        \\frac1{\\text{runs}}\\sum_{r,j} \\tau_{rj}^2 \\delta(t - \\theta_{rj}),

    and the delta functions are smoothed with a Gaussian of standard deviation
    ``width`` (stated in the result).

    Parameters
    ----------
    loss, params, batch
        As in :func:`hutchinson_trace`.
    key : jax.random key
        Run ``r`` uses ``jax.random.fold_in(key, r)``.
    iters : int, default 50
        Lanczos steps per run, ``1 <= iters <= n``.
    runs : int, default 4
        Independent probes, ``>= 1``.
    width : float, optional
        Gaussian smoothing width :math:`\\sigma > 0`. Default: 1/100 of the span
        of all Ritz values (of their largest magnitude if the span is 0, and 1
        if all are 0).
    grid : array_like, optional
        Points for the density; default ``num`` points spanning the Ritz values
        :math:`\\pm 4\\sigma`.
    num : int, default 400
        Grid size when ``grid`` is not given.

    Returns
    -------
    SLQDensity
        ``nodes``, ``weights``, ``grid``, ``density``, ``width``, and the trace
        estimate ``trace`` (:math:`n\\sum w\\theta`) with ``trace_se``.

    Notes
    -----
    The extreme Ritz values converge to the extreme eigenvalues quickly; the
    interior of the density has the resolution of ``width`` and the statistical
    error of ``runs`` probes. vmap-compatible over ``params``.

    References
    ----------
    Lin, Saad & Yang, SIAM Rev. 2016 (arXiv 1308.5467); Ubaru, Chen & Saad,
    SIAM J. Matrix Anal. Appl. 2017; Ghorbani, Krishnan & Xiao, arXiv 1901.10159.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from rmt_sparsity.flatness import slq_density
    >>> d = jnp.array([1.0, 1.0, 2.0, 4.0])
    >>> loss = lambda w, b: 0.5 * jnp.sum(b * w**2)
    >>> r = slq_density(loss, jnp.zeros(4), d, key=jax.random.key(0), iters=3, runs=2, width=0.1)
    >>> [round(float(t), 4) for t in r.nodes[0]]       # 3 distinct eigenvalues: exact nodes
    [1.0, 2.0, 4.0]
    >>> round(float(r.weights.sum()), 6), round(float(r.trace), 4)
    (1.0, 8.0)
    """
    _check_loss(loss)
    n = _check_params(params)
    check_key("key", key)
    iters = check_int("iters", iters, min=1, max=n)
    runs = check_int("runs", runs, min=1)
    num = check_int("num", num, min=2)
    check_size_budget("runs", runs, nbytes=8 * runs * iters * n, iterations=runs * iters * n,
                      what="runs x iters Lanczos vectors of n entries")
    if width is not None:
        width = _real("width", width, lo=0.0, lo_open=True)
    if grid is not None:
        grid = jnp.asarray(check_array("grid", grid, ndim=1))
    else:
        check_size_budget("num", num, nbytes=8 * num * runs * iters, what="the density grid against every Ritz node")
    res = _slq_jit(params, batch, key, width, grid, loss=loss, runs=runs, iters=iters, num=num)
    _raise_if_nonfinite("loss(params, batch)", res.loss)
    _raise_if_nonfinite("an SLQ Ritz value", res.nodes)
    return res
