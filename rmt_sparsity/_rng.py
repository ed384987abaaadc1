"""Random-state normalisation: the one place where ``rng=`` arguments are interpreted.

Every NumPy/Numba entry point of rmt_sparsity takes a keyword ``rng=None`` and
passes it through :func:`as_generator` exactly once (SPEC 7 style). Global
NumPy state is never read or written.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_generator", "spawn", "numba_seeds", "jax_key_from", "seed_sequence"]

#: Largest seed handed to Numba kernels (they seed ``np.random`` per chunk with a 63-bit value).
_MAX_NUMBA_SEED = 2**63 - 1


def as_generator(rng=None) -> np.random.Generator:
    """Normalise ``rng`` to a :class:`numpy.random.Generator`.

    Parameters
    ----------
    rng : None, int, array_like of int, numpy.random.SeedSequence, numpy.random.BitGenerator or numpy.random.Generator
        ``None`` gives fresh OS entropy, an integer (or sequence of non-negative
        integers) seeds a new PCG64 generator, and a ``Generator`` is returned
        unchanged (so the caller's stream advances).

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    TypeError
        For a legacy ``numpy.random.RandomState`` (it would silently couple to
        global state conventions) or any other unsupported type.
    ValueError
        For a negative seed.

    Examples
    --------
    >>> from rmt_sparsity._rng import as_generator
    >>> a = as_generator(42).standard_normal(3)
    >>> b = as_generator(42).standard_normal(3)
    >>> bool((a == b).all())
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (np.random.SeedSequence, np.random.BitGenerator)):
        return np.random.default_rng(rng)
    if isinstance(rng, bool):
        raise TypeError(f"rng must be None, a seed or a numpy Generator; got bool {rng!r}")
    if isinstance(rng, numbers.Integral):
        if int(rng) < 0:
            raise ValueError(f"rng seed must be a non-negative integer; got {rng!r}")
        return np.random.default_rng(int(rng))
    if isinstance(rng, np.random.RandomState):
        raise TypeError(
            "rng must be None, a seed or a numpy.random.Generator; legacy RandomState is not "
            "accepted (use numpy.random.default_rng)"
        )
    if isinstance(rng, (list, tuple, np.ndarray)):
        arr = np.asarray(rng)
        if arr.dtype.kind not in "iu" or (arr < 0).any():
            raise ValueError(f"rng seed sequence must hold non-negative integers; got {rng!r}")
        return np.random.default_rng(arr)
    raise TypeError(
        f"rng must be None, an int seed, a SeedSequence or a numpy.random.Generator; "
        f"got {type(rng).__name__}"
    )


def spawn(rng, k: int) -> list[np.random.Generator]:
    """Return ``k`` statistically independent child generators of ``rng``.

    Uses :meth:`numpy.random.Generator.spawn` (SeedSequence spawning), so the
    children are independent of each other and of later draws from ``rng``.

    Examples
    --------
    >>> from rmt_sparsity._rng import spawn
    >>> [g.integers(10**6) for g in spawn(0, 2)] == [g.integers(10**6) for g in spawn(0, 2)]
    True
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0:
        raise ValueError(f"k must be a non-negative integer; got {k!r}")
    return list(as_generator(rng).spawn(int(k)))


def numba_seeds(rng, k: int) -> np.ndarray:
    """Draw ``k`` 63-bit seeds for Numba kernels (one per chunk, never a shared Generator).

    Examples
    --------
    >>> from rmt_sparsity._rng import numba_seeds
    >>> numba_seeds(1, 3).dtype
    dtype('int64')
    """
    return as_generator(rng).integers(0, _MAX_NUMBA_SEED, size=int(k), dtype=np.int64)


def jax_key_from(rng):
    """Derive a JAX PRNG key from a NumPy ``rng`` (for claims that receive a Generator).

    Imports JAX lazily.
    """
    import jax

    seed = int(as_generator(rng).integers(0, 2**32 - 1))
    return jax.random.key(seed)


def seed_sequence(seed: int, name: str) -> np.random.SeedSequence:
    """The seed sequence of the named stream ``name`` under run seed ``seed``: a function of those two only.

    ``SeedSequence([seed, d])`` with ``d`` the first 8 bytes (little endian) of SHA-256(``name``), so
    streams with different names are independent and adding or removing one never shifts another.

    Examples
    --------
    >>> a = np.random.default_rng(seed_sequence(0, "x")).random()
    >>> a == np.random.default_rng(seed_sequence(0, "x")).random(), a == np.random.default_rng(seed_sequence(0, "y")).random()
    (True, False)
    """
    import hashlib

    digest = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
    return np.random.SeedSequence([int(seed), digest])
