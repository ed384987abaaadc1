"""rmt_sparsity.flatness (see DESIGN §2)."""
