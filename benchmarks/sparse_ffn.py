"""Sparse FFN kernels vs dense BLAS (docs/science.md §7): ``python benchmarks/sparse_ffn.py [--quick] [--json OUT] [--check]``.

Thin wrapper around :func:`rmt_sparsity.kernels.bench.main` (also ``rmt-sparsity bench kernels``).
"""

import sys

from rmt_sparsity.kernels.bench import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
