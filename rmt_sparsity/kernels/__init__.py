"""rmt_sparsity.kernels (see DESIGN §2)."""
