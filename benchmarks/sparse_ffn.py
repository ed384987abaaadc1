"""Sparse FFN kernels vs dense BLAS and the reference union-rows kernel: ``python benchmarks/sparse_ffn.py [--quick] [--check] [--json OUT] ...``.

Thin wrapper around :func:`rmt_sparsity.kernels.bench.main` (also ``rmt-sparsity bench kernels``).
"""

import sys

from rmt_sparsity.kernels.bench import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
