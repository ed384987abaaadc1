"""A training-loop hook that records flatness measures every ``every`` steps."""

from __future__ import annotations

from .._checks import check_choice, check_int, check_size_budget
from ._common import _check_loss, _real

__all__ = ["make_flatness_probe", "PROBE_MEASURES"]

#: Measures a probe can record, in the order they are computed.
PROBE_MEASURES = ("trace", "top_eigenvalue", "noise", "sam")


def make_flatness_probe(
    loss,
    *,
    every: int,
    measures=("trace", "top_eigenvalue"),
    probes: int = 20,
    iters: int = 20,
    sigma: float | None = None,
    relative: bool = False,
    samples: int = 32,
    rho: float | None = None,
):
    """Build ``probe(step, params, batch, *, key) -> dict | None`` for a training loop.

    The probe returns ``None`` unless ``step % every == 0``; then it returns plain
    floats (JSON-ready), computed with the functions of this subpackage:

    * ``"trace"``: ``hessian_trace``, ``hessian_trace_se`` (:func:`hutchinson_trace`, ``probes``);
    * ``"top_eigenvalue"``: ``hessian_top_eigenvalue`` (largest *algebraic*, signed),
      ``hessian_top_residual`` (:func:`lanczos`, ``iters`` steps, capped at :math:`n`);
    * ``"noise"``: ``noise_sharpness``, ``noise_sharpness_se``
      (:func:`noise_sharpness` with ``sigma``, ``relative``, ``samples``);
    * ``"sam"``: ``sam_sharpness`` (:func:`sam_sharpness` with ``rho``).

    Each measure uses its own key, ``jax.random.fold_in(key, j)`` for the j-th
    entry of :data:`PROBE_MEASURES`, so adding a measure does not change the others.

    Parameters
    ----------
    loss : callable
        ``loss(params, batch) -> scalar``.
    every : int
        Probe period in steps (>= 1).
    measures : sequence of str
        Subset of :data:`PROBE_MEASURES`.
    probes, iters, sigma, relative, samples, rho
        Settings of the measures (``sigma`` is required for ``"noise"``, ``rho`` for ``"sam"``).

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from rmt_sparsity.flatness import make_flatness_probe
    >>> loss = lambda w, b: 0.5 * jnp.sum(b * w**2)
    >>> probe = make_flatness_probe(loss, every=10, measures=("trace", "top_eigenvalue"), iters=3)
    >>> probe(5, jnp.zeros(3), jnp.array([1.0, 2.0, 3.0]), key=jax.random.key(0)) is None
    True
    >>> out = probe(10, jnp.zeros(3), jnp.array([1.0, 2.0, 3.0]), key=jax.random.key(0))
    >>> round(out["hessian_trace"], 4), round(out["hessian_top_eigenvalue"], 4)
    (6.0, 3.0)
    """
    _check_loss(loss)
    every = check_int("every", every, min=1)
    if isinstance(measures, str) or not hasattr(measures, "__iter__"):
        raise TypeError(f"measures must be a sequence of measure names; got {type(measures).__name__}")
    measures = tuple(measures)
    if not measures:
        raise ValueError("measures must name at least one of " + ", ".join(map(repr, PROBE_MEASURES)))
    for m in measures:
        check_choice("measures entry", m, PROBE_MEASURES)
    probes = check_int("probes", probes, min=1)
    iters = check_int("iters", iters, min=1)
    samples = check_int("samples", samples, min=1)
    check_size_budget("probes", probes, nbytes=16 * probes, what="one key and one value per probe")
    check_size_budget("samples", samples, nbytes=16 * samples, what="one key and one value per sample")
    if "noise" in measures and sigma is None:
        raise ValueError("sigma is required when measures include 'noise'")
    if "sam" in measures and rho is None:
        raise ValueError("rho is required when measures include 'sam'")
    if sigma is not None:  # checked even when unused, so a bad setting is not carried silently
        sigma = _real("sigma", sigma, lo=0.0)
    if rho is not None:
        rho = _real("rho", rho, lo=0.0)

    def probe(step, params, batch, *, key):
        import jax

        from ._common import num_params
        from ._hessian import hutchinson_trace, lanczos
        from ._sharpness import noise_sharpness, sam_sharpness

        step = check_int("step", step, min=0)
        if step % every:
            return None
        keys = {m: jax.random.fold_in(key, j) for j, m in enumerate(PROBE_MEASURES)}
        out: dict[str, float] = {"step": step}
        if "trace" in measures:
            r = hutchinson_trace(loss, params, batch, key=keys["trace"], probes=probes)
            out["hessian_trace"] = float(r.estimate)
            out["hessian_trace_se"] = float(r.se)
        if "top_eigenvalue" in measures:
            it = min(iters, num_params(params))
            r = lanczos(loss, params, batch, key=keys["top_eigenvalue"], k=1, iters=it, which="LA")
            out["hessian_top_eigenvalue"] = float(r.eigenvalues[0])
            out["hessian_top_residual"] = float(r.residuals[0])
        if "noise" in measures:
            r = noise_sharpness(loss, params, batch, key=keys["noise"], sigma=sigma, samples=samples,
                                relative=relative)
            out["noise_sharpness"] = float(r.sharpness)
            out["noise_sharpness_se"] = float(r.se)
        if "sam" in measures:
            r = sam_sharpness(loss, params, batch, rho=rho)
            out["sam_sharpness"] = float(r.sharpness)
        return out

    return probe
