"""rmt_sparsity.theory (see DESIGN §2)."""
