"""rmt_sparsity.nn (see DESIGN §2)."""
