"""rmt_sparsity.spectra (see DESIGN §2)."""
