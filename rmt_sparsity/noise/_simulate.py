"""Streaming simulator of SGD gradient noise with weight-decay discounting (docs/science.md §5).

One linear layer ``W`` of shape ``(d_out, p)`` (stored (out, in)) sees, at each
step ``s``, a batch of ``B`` LayerNorm-ed inputs ``x_i`` (``‖x_i‖ = sqrt(p)``) and
per-sample output gradients ``g_i``. SGD with weight decay gives

.. math::

    W_t = r\\,W_{t-1} - \\frac{\\mathrm{lr}}{B} \\sum_{i} g_i x_i^\\top,
    \\qquad r = 1 - \\mathrm{lr}\\cdot\\mathrm{wd},

so ``W_t = r^t W_0 + ΔW_t`` with ``ΔW_t = -(lr/B) sum_s r^(t-s) G_sᵀ X_s``, and the
discounted (unnormalised) input covariance is

.. math:: C_t = r\\,C_{t-1} + \\sum_i x_i x_i^\\top = \\sum_{s \\le t} r^{t-s} X_s^\\top X_s .

Memory is O(p² + p·d_out + block·B·(p + d_out)), independent of ``steps``.
Reference: Peng et al., arXiv 2309.03004; Silverstein & Bai (1995) for the
weighted-covariance limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._checks import check_array, check_choice, check_int, check_real, check_size_budget
from .._rng import as_generator
from ..theory import alpha_anisotropy, discount_factor

__all__ = ["NoiseSimulation", "simulate_sgd_noise", "extreme_ratio", "BACKENDS"]

#: Update backends: blocked in-place BLAS (``dsyrk``/``dgemm``), a fused Numba
#: kernel, and the straightforward per-step NumPy loop (reference/baseline).
BACKENDS = ("blas", "numba", "numpy")

#: Rows per block (``block·B``) targeted by the blocked backends.
_BLOCK_ROWS = 512


def extreme_ratio(eigenvalues, zero_tol=1e-9) -> float:
    """``λ_max / λ_min(non-zero)`` of a non-negative spectrum.

    Eigenvalues ``<= zero_tol · λ_max`` count as (numerical) zeros: with the
    default ``1e-9`` this removes only structural zeros (rank deficiency,
    rounding level), never a genuine small eigenvalue of a ratio below 1e9.
    This is not the paper's ``0.1 × mean`` cut (``rmt_sparsity.spectra``
    implements that convention).

    ``eigenvalues`` must be a non-empty, finite 1-D array and ``zero_tol`` a
    number in ``[0, 1)``; the ratio is NaN when no eigenvalue is positive.

    Examples
    --------
    >>> extreme_ratio([0.0, 1e-14, 2.0, 8.0])
    4.0
    """
    ev = check_array("eigenvalues", eigenvalues, ndim=1)
    zero_tol = check_real("zero_tol", zero_tol, lo=0.0, hi=1.0, hi_open=True)
    top = float(ev.max())
    if not top > 0.0:
        return math.nan
    nz = ev[ev > zero_tol * top]
    return top / float(nz.min())


@dataclass(frozen=True)
class NoiseSimulation:
    """Result of :func:`simulate_sgd_noise`.

    Attributes
    ----------
    steps : ndarray of int, shape (n_rec,)
        Recorded steps ``t``.
    cov_eigenvalues : ndarray, shape (n_rec, p)
        Ascending eigenvalues of the unnormalised discounted covariance ``C_t``.
    cov_ratio : ndarray, shape (n_rec,)
        Eigenvalue ratio ``λ_max/λ_min(non-zero)`` of ``C_t`` (see :func:`extreme_ratio`).
    alpha, anisotropy : ndarray, shape (n_rec,)
        The paper's ``alpha = tr(aC)/p`` and ``A = sqrt(p)‖aC - I‖_F/p = sqrt(1 - alpha)``.
    weight_sv2 : ndarray, shape (n_rec, min(d_out, p)) or None
        Ascending squared singular values of ``W_t`` (None if not recorded).
    weight_ratio : ndarray, shape (n_rec,) or None
        ``σ_max²/σ_min²(non-zero)`` of ``W_t`` (the eigenvalue ratio of ``W Wᵀ``).
    cov : ndarray, shape (p, p)
        Final ``C_t`` (symmetric).
    weights : ndarray, shape (d_out, p)
        Final ``W_t``.
    params : dict
        The arguments (sizes, lr, weight_decay, r, models, backend).
    """

    steps: np.ndarray
    cov_eigenvalues: np.ndarray
    cov_ratio: np.ndarray
    alpha: np.ndarray
    anisotropy: np.ndarray
    weight_sv2: np.ndarray | None
    weight_ratio: np.ndarray | None
    cov: np.ndarray
    weights: np.ndarray
    params: dict = field(default_factory=dict)


def _model(name, value, dim, kinds):
    """Return (kind, per-coordinate std or None)."""
    if isinstance(value, str):
        return check_choice(name, value, kinds), None
    arr = check_array(name, value, ndim=1)
    if arr.shape[0] != dim:
        raise ValueError(f"{name} as a spectrum must have length {dim}; got {arr.shape[0]}")
    if np.any(arr <= 0):
        raise ValueError(f"{name} as a spectrum must hold variances > 0; got min {float(arr.min())!r}")
    return "spectrum", np.sqrt(arr.astype(np.float64))


def simulate_sgd_noise(
    p,
    d_out,
    batch,
    steps,
    lr,
    weight_decay,
    *,
    input_model="isotropic",
    grad_model="isotropic",
    w0=None,
    rng=None,
    record_every=None,
    record_weights=True,
    backend="blas",
    block=None,
    zero_tol=1e-9,
) -> NoiseSimulation:
    """Simulate the discounted input covariance and weight update of SGD on pure gradient noise.

    At each step ``s = 1..steps``, ``B = batch`` inputs and gradients are drawn:

    * ``x_i = sqrt(p) z_i / ‖z_i‖`` (``‖x_i‖ = sqrt(p)``, as after a LayerNorm
      without affine parameters), with ``z_i ~ N(0, I_p)`` for
      ``input_model="isotropic"``; ``"layernorm"`` also centres ``z_i`` first (as
      LayerNorm does, which leaves one structural zero eigenvalue along the
      all-ones vector); an array ``s`` of ``p`` variances gives
      ``z_i ~ N(0, diag(s))`` (population covariance ``→ diag(s)/mean(s)``);
    * ``g_i ~ N(0, I_{d_out})`` for ``grad_model="isotropic"``, or
      ``N(0, diag(v))`` for an array ``v`` of ``d_out`` variances;

    and the state advances as

    .. math::

        C_t = r C_{t-1} + \\sum_i x_i x_i^\\top, \\qquad
        W_t = r W_{t-1} - \\frac{\\mathrm{lr}}{B}\\sum_i g_i x_i^\\top, \\qquad r = 1 - \\mathrm{lr}\\cdot\\mathrm{wd},

    from ``C_0 = 0`` and ``W_0 = w0`` (zero if omitted). ``C_t`` is the
    unnormalised weighted sample covariance ``X̂ᵀ D X̂`` with weights
    ``r^(t-s)``; its limit law is the weighted (generalised) MP law with ratio
    ``p/(B t)`` (Silverstein & Bai 1995), *not* MP with the paper's heuristic
    ratio ``p/(B min(t, T_eff))``.

    Parameters
    ----------
    p : int
        Input dimension (>= 1).
    d_out : int
        Output dimension (>= 1); ``W`` has shape ``(d_out, p)``.
    batch : int
        Samples (tokens) per step ``B`` (>= 1).
    steps : int
        Number of SGD steps (>= 1).
    lr : float
        Learning rate (> 0).
    weight_decay : float
        Weight decay (>= 0), ``lr·weight_decay < 1``.
    input_model : {"isotropic", "layernorm"} or array_like of shape (p,)
    grad_model : {"isotropic"} or array_like of shape (d_out,)
    w0 : array_like of shape (d_out, p), optional
        Initial weights ("information"); decays as ``r^t W_0``.
    rng : None, int, Generator
        Normalised once with :func:`rmt_sparsity._rng.as_generator`. The noise
        is drawn step by step (``X_1, G_1, X_2, G_2, ...``), so the trajectory
        does not depend on ``record_every``, ``block`` or ``backend`` (beyond
        rounding); the same seed and backend give bit-identical results.
    record_every : int, optional
        Record every this many steps (the final step is always recorded);
        default: only the final step.
    record_weights : bool, default True
        Record the singular values of ``W_t`` (costs an SVD per record).
    backend : {"blas", "numba", "numpy"}, default "blas"
        ``"blas"``: blocks of steps merged into one in-place ``dsyrk`` and one
        ``dgemm`` per block (fastest, see ``benchmarks/noise_simulator.py``);
        ``"numba"``: a fused Numba kernel doing the same blocked update;
        ``"numpy"``: the straightforward per-step loop (reference).
    block : int, optional
        Steps merged per blocked update (default ``max(1, 512 // batch)``).
    zero_tol : float, default 1e-9
        Relative cut for numerical zero eigenvalues (:func:`extreme_ratio`).

    Returns
    -------
    NoiseSimulation

    Raises
    ------
    ValueError
        Non-positive sizes, ``lr <= 0``, ``weight_decay < 0``,
        ``lr·weight_decay >= 1``, NaN, or arrays of the wrong shape; sizes whose
        memory exceeds what is available, or whose work exceeds
        :data:`rmt_sparsity._checks.MAX_ITERATIONS` elementary steps (refused
        before anything is allocated). The message names the argument.

    References
    ----------
    Peng, Qi, Shi, Gao, arXiv 2309.03004; Silverstein & Bai, J. Multivariate
    Anal. 54 (1995); docs/science.md §5.

    Examples
    --------
    >>> sim = simulate_sgd_noise(32, 16, 4, 64, 0.1, 0.0, rng=0)
    >>> sim.cov_eigenvalues.shape, sim.weights.shape
    ((1, 32), (16, 32))
    >>> float(np.trace(sim.cov))            # no decay: sum of B t squared norms p
    8192.0
    >>> bool(sim.anisotropy[0] ** 2 + sim.alpha[0] - 1 < 1e-12)
    True
    """
    p = check_int("p", p, min=1)
    d_out = check_int("d_out", d_out, min=1)
    batch = check_int("batch", batch, min=1)
    steps = check_int("steps", steps, min=1)
    r = discount_factor(lr, weight_decay)
    lr = float(lr)
    weight_decay = float(weight_decay)
    in_kind, in_std = _model("input_model", input_model, p, ("isotropic", "layernorm"))
    g_kind, g_std = _model("grad_model", grad_model, d_out, ("isotropic",))
    if w0 is not None:
        w0 = check_array("w0", w0, ndim=2)
        if w0.shape != (d_out, p):
            raise ValueError(f"w0 must have shape (d_out, p) = {(d_out, p)}; got {w0.shape}")
    record_every = steps if record_every is None else check_int("record_every", record_every, min=1)
    backend = check_choice("backend", backend, BACKENDS)
    block = max(1, _BLOCK_ROWS // batch) if block is None else check_int("block", block, min=1)
    block = min(block, steps)  # a block never holds more steps than the run
    zero_tol = check_real("zero_tol", zero_tol, lo=0.0, hi=1.0, hi_open=True)
    # sizes refused up front: the p x p covariance (and its symmetric copy and eigvalsh work), W,
    # the noise buffers of one block, and the recorded spectra; then the work of the steps
    n_rec = steps // record_every + 1
    check_size_budget("p", p, nbytes=8 * 4 * p * p, what="the p x p covariance and its eigendecomposition")
    check_size_budget("d_out", d_out, nbytes=8 * 3 * d_out * p, what="the d_out x p weights and their SVD")
    rows = (block if backend != "numpy" else 1) * batch
    check_size_budget("batch", batch, nbytes=8 * rows * (p + d_out), what="one block of inputs and gradients")
    check_size_budget("record_every", record_every, nbytes=8 * n_rec * (p + min(p, d_out) + 4),
                      what=f"{n_rec} recorded spectra")
    check_size_budget("steps", steps, iterations=steps * batch * p * (p + d_out) + n_rec * p**3,
                      what="the simulated steps and the recorded eigendecompositions")
    gen = as_generator(rng)

    from . import _kernels

    center = in_kind == "layernorm"
    sqrt_p = math.sqrt(p)
    order = "F" if backend == "blas" else "C"
    cov = np.zeros((p, p), order=order)
    weights = np.zeros((d_out, p), order=order) if w0 is None else np.array(w0, dtype=np.float64, order=order)
    rows = (block if backend != "numpy" else 1) * batch
    xbuf = np.empty((rows, p))
    gbuf = np.empty((rows, d_out))

    def draw(k):
        """Draw k steps of noise into the buffers, step by step."""
        for j in range(k):
            xs = xbuf[j * batch : (j + 1) * batch]
            gs = gbuf[j * batch : (j + 1) * batch]
            gen.standard_normal(out=xs)
            gen.standard_normal(out=gs)
        n = k * batch
        x, g = xbuf[:n], gbuf[:n]
        if in_std is not None:
            x *= in_std
        _kernels.normalise_rows(x, sqrt_p, center)
        if g_std is not None:
            g *= g_std
        return x, g

    if backend == "blas":
        from scipy.linalg import blas as _blas

    rec_steps = sorted(set(range(record_every, steps + 1, record_every)) | {steps})
    out_steps, eigs, ratios, alphas, anis, sv2s, wratios = [], [], [], [], [], [], []
    t = 0
    coef = -lr / batch
    for target in rec_steps:
        while t < target:
            if backend == "numpy":
                x, g = draw(1)
                cov = r * cov + x.T @ x
                weights = r * weights + coef * (g.T @ x)
                t += 1
                continue
            k = min(block, target - t)
            x, g = draw(k)
            if r < 1.0:
                dec = np.repeat(r ** np.arange(k - 1, -1, -1, dtype=np.float64), batch)
            else:
                dec = np.ones(k * batch)
            r_block = r**k
            if backend == "blas":
                xs = x * np.sqrt(dec)[:, None] if r < 1.0 else x
                xw = x * dec[:, None] if r < 1.0 else x
                res = _blas.dsyrk(1.0, xs.T, beta=r_block, c=cov, trans=0, lower=0, overwrite_c=1)
                if res is not cov:  # pragma: no cover - f2py copies only on layout mismatch
                    cov[...] = res
                res = _blas.dgemm(coef, g.T, xw.T, beta=r_block, c=weights, trans_b=1, overwrite_c=1)
                if res is not weights:  # pragma: no cover
                    weights[...] = res
            else:
                _kernels.fused_update(cov, weights, x, g, dec, coef * dec, r_block)
            t += k
        full = _symmetric(cov, backend)
        ev = np.linalg.eigvalsh(full)
        a, aa = alpha_anisotropy(full)
        out_steps.append(t)
        eigs.append(ev)
        ratios.append(extreme_ratio(ev, zero_tol))
        alphas.append(a)
        anis.append(aa)
        if record_weights:
            sv2 = np.sort(np.linalg.svd(weights, compute_uv=False) ** 2)
            sv2s.append(sv2)
            wratios.append(extreme_ratio(sv2, zero_tol) if sv2.max() > 0 else math.nan)

    params = {
        "p": p,
        "d_out": d_out,
        "batch": batch,
        "steps": steps,
        "lr": lr,
        "weight_decay": weight_decay,
        "r": r,
        "input_model": in_kind,
        "grad_model": g_kind,
        "w0": w0 is not None,
        "backend": backend,
        "block": block,
        "zero_tol": zero_tol,
    }
    return NoiseSimulation(
        steps=np.asarray(out_steps, dtype=np.int64),
        cov_eigenvalues=np.asarray(eigs),
        cov_ratio=np.asarray(ratios),
        alpha=np.asarray(alphas),
        anisotropy=np.asarray(anis),
        weight_sv2=np.asarray(sv2s) if record_weights else None,
        weight_ratio=np.asarray(wratios) if record_weights else None,
        cov=_symmetric(cov, backend),
        weights=np.ascontiguousarray(weights),
        params=params,
    )


def _symmetric(cov, backend):
    if backend == "numpy":
        return np.array(cov)
    up = np.triu(cov)
    return up + np.triu(cov, 1).T
