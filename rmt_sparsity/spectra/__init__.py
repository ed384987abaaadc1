"""rmt_sparsity.spectra: analysis of a given weight matrix (docs/design.md §2, §3; docs/science.md §1, §5).

Spectrum of :math:`WW^T/n` (W stored (out, in) = p x n, ratio p/n), spectral
concentration with its null band, calibrated Marchenko-Pastur fits with
Tracy-Widom outlier tests, power-law tail fits, and :func:`analyze`: a table of
every matrix of a checkpoint (safetensors file, shards, index.json, npz or a dict;
read tensor by tensor, no torch), with layer roles from the tensor names.
"""

from ._analyze import COLUMNS, analyze, analyze_matrix, load_weights
from ._checkpoint import Checkpoint, CheckpointError, TensorInfo, dtype_code, open_checkpoint
from ._roles import ROLES, MatrixPart, classify_tensor
from ._basic import esd_distances, gram_eigenvalues, numerical_rank, singular_values, stable_rank
from ._mp_fit import BBPOutlier, MPFit, bbp_outlier, bbp_threshold, fit_mp
from ._power_law import PowerLawFit, fit_power_law
from ._concentration import Concentration, ConcentrationTest, concentration_vs_random, spectral_concentration

__all__ = [
    "analyze",
    "analyze_matrix",
    "load_weights",
    "COLUMNS",
    "Checkpoint",
    "CheckpointError",
    "TensorInfo",
    "dtype_code",
    "open_checkpoint",
    "ROLES",
    "MatrixPart",
    "classify_tensor",
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
