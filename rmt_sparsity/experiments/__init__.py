"""Experiments: the claims registry (predictions paired with measurements), sweeps and executors.

This is the only subpackage that pairs a prediction with a measurement.

Modules
-------
::

    claims         Claim, Prediction, Measurement, Verdict and the shared prediction and compare rules
    runner         the registry (discovered from ``catalog``) and ``run_claim``/``run_claims``
    catalog        the claims, one module per capability
    training       the digits training setup shared by the trained-network claims and sweeps
    sparsing_law   sparsing-law analysis of an activation-ratio trajectory
    sweep, ensemble_sweep, store, executors, library
                   sweeps over configs × seeds, their resumable store, executors and built-in experiments
"""

from .claims import (
    PROFILES,
    VERDICTS,
    Claim,
    FigureData,
    Measurement,
    Prediction,
    Verdict,
    agrees_within_se,
    coverage_prediction,
    paired_effect,
    within_band,
)
from .executors import dask_executor, local_executor
from .runner import ClaimResult, all_claim_ids, claim_seed, config_hash, get_claim, registry, run_claim, run_claims
from .store import ResultStore, SweepResult
from .sweep import Sweep

__all__ = [
    "PROFILES",
    "VERDICTS",
    "Claim",
    "ClaimResult",
    "FigureData",
    "Measurement",
    "Prediction",
    "Verdict",
    "agrees_within_se",
    "coverage_prediction",
    "paired_effect",
    "within_band",
    "all_claim_ids",
    "claim_seed",
    "config_hash",
    "get_claim",
    "registry",
    "run_claim",
    "run_claims",
    "Sweep",
    "SweepResult",
    "ResultStore",
    "local_executor",
    "dask_executor",
]
