"""rmt_sparsity.metrics (see DESIGN §2)."""
