"""Claim definitions, one module per capability; each module exposes ``CLAIMS: list[Claim]``.

Modules here are discovered by :func:`rmt_sparsity.experiments.runner.registry`.
They must import cheaply: heavy imports (jax, numba kernels) go inside the
``predict``/``measure`` functions. They hold claims only: code that several
claims share lives in :mod:`rmt_sparsity.experiments` (``claims``, ``training``,
``sparsing_law``) or in the subpackage it belongs to.
"""

__all__: list[str] = []
