"""Claim definitions, one module per capability; each module exposes ``CLAIMS: list[Claim]``.

Modules here are discovered by :func:`rmt_sparsity.experiments.claims.registry`.
They must import cheaply: heavy imports (jax, numba kernels) go inside the
``predict``/``measure`` functions.
"""
