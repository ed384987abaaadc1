"""rmt_sparsity.noise (see DESIGN §2)."""
