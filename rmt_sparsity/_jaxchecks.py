"""Value checks on JAX arrays shared by the JAX-based packages (``nn``, ``flatness``).

Kept apart from :mod:`rmt_sparsity._checks`, which never imports JAX (the core
install has none); only modules that already need JAX import this one.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._checks import is_tracer

__all__ = ["check_finite_named"]


@jax.jit
def _nonfinite_counts(leaves):
    """Non-finite entries of each array, in one compiled call (one dispatch and one transfer per check)."""
    return jnp.stack([jnp.sum(~jnp.isfinite(v)).astype(jnp.int32) for v in leaves])


def check_finite_named(named) -> None:
    """``ValueError`` naming the first of ``named`` (``(name, array)`` pairs) with NaN/inf entries.

    Tracers are skipped (their values are unknown); the concrete arrays are counted
    in one compiled call, evaluated eagerly even when the check runs inside a
    ``jit``/``vmap`` trace that closes over them. The message is
    ``"{name} must be finite; found {count} non-finite entries"``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> check_finite_named([("a", jnp.ones(2)), ("b", jnp.array([jnp.inf, 1.0]))])
    Traceback (most recent call last):
    ...
    ValueError: b must be finite; found 1 non-finite entries
    """
    named = [(n, v) for n, v in named if not is_tracer(v)]
    if not named:
        return
    with jax.ensure_compile_time_eval():  # concrete leaves closed over by a trace stay concrete
        counts = np.asarray(_nonfinite_counts([v for _, v in named]))
    if counts.any():
        i = int(np.flatnonzero(counts)[0])
        raise ValueError(f"{named[i][0]} must be finite; found {int(counts[i])} non-finite entries")
