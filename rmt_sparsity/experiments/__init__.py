"""Experiments: the claims registry (predictions paired with measurements), sweeps and executors.

This is the only subpackage that pairs a prediction with a measurement (DESIGN §2).
"""

from .claims import (
    EXPECTED_CLAIMS,
    PROFILES,
    Claim,
    ClaimResult,
    FigureData,
    Measurement,
    Prediction,
    Verdict,
    agrees_within_se,
    config_hash,
    get_claim,
    registry,
    run_claim,
    run_claims,
    within_band,
)
from .executors import dask_executor, local_executor
from .store import ResultStore
from .sweep import Sweep, SweepResult

__all__ = [
    "EXPECTED_CLAIMS",
    "PROFILES",
    "Claim",
    "ClaimResult",
    "FigureData",
    "Measurement",
    "Prediction",
    "Verdict",
    "agrees_within_se",
    "config_hash",
    "get_claim",
    "registry",
    "run_claim",
    "run_claims",
    "within_band",
    "Sweep",
    "SweepResult",
    "ResultStore",
    "local_executor",
    "dask_executor",
]
