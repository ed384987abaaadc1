"""rmt_sparsity.spectra: analysis of a given weight matrix (docs/design.md §2, §3, §4.1, §4.5).

Spectrum of :math:`WW^T/n` (W stored (out, in) = p x n, ratio p/n), spectral
concentration with its null band, calibrated Marchenko-Pastur fits with
Tracy-Widom outlier tests, power-law tail fits, and :func:`analyze` for a
dict of arrays or a safetensors file (numpy backend, no torch).
"""

from ._analyze import analyze, analyze_matrix, load_weights
from ._basic import esd_distances, gram_eigenvalues, numerical_rank, singular_values, stable_rank
from ._mp_fit import BBPOutlier, MPFit, bbp_outlier, bbp_threshold, fit_mp
from ._power_law import PowerLawFit, fit_power_law
from ._concentration import Concentration, ConcentrationTest, concentration_vs_random, spectral_concentration

__all__ = [
    "analyze",
    "analyze_matrix",
    "load_weights",
    "BBPOutlier",
    "MPFit",
    "PowerLawFit",
    "fit_power_law",
    "bbp_outlier",
    "bbp_threshold",
    "fit_mp",
    "Concentration",
    "ConcentrationTest",
    "concentration_vs_random",
    "esd_distances",
    "gram_eigenvalues",
    "numerical_rank",
    "singular_values",
    "spectral_concentration",
    "stable_rank",
]
