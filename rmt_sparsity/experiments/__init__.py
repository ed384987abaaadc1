"""Experiments: the claims registry (predictions paired with measurements), sweeps and executors.

This is the only subpackage that pairs a prediction with a measurement.

Modules
-------
::

    claims         Claim, Prediction, Measurement, Verdict, Rival, Threshold, training evidence and the
                   shared compare rules (one interval-vs-region rule: band, equivalence, directional)
    nulls          Monte-Carlo critical values at a claim's own sizes (precomputed table in data/)
    runner         the registry (discovered from ``catalog``), ``run_claim``/``run_claims`` (theory + rivals)
    catalog        the claims, one module per capability
    training       the digits training setup shared by the trained-network claims and sweeps
    sparsing_law   sparsing-law analysis of an activation-ratio trajectory
    sweep, ensemble_sweep, store, executors, library
                   sweeps over configs × seeds, their resumable store, executors and built-in experiments
"""

from .claims import (
    KINDS,
    PROFILES,
    SCHEMA_VERSION,
    VERDICTS,
    Claim,
    ConvergenceRule,
    FigureData,
    Measurement,
    Prediction,
    Rival,
    Threshold,
    TrainingEvidence,
    Verdict,
    agrees_within_se,
    combine_verdicts,
    coverage_prediction,
    critical_value,
    equivalence,
    margin,
    no_effect_rival,
    paired_effect,
    relative_weight_change,
    training_gate,
    within_band,
)
from .nulls import NullSpec, null_critical_value
from .executors import dask_executor, local_executor
from .runner import (
    ClaimResult,
    RivalResult,
    all_claim_ids,
    claim_seed,
    config_hash,
    get_claim,
    registry,
    run_claim,
    run_claims,
    run_provenance,
)
from .store import ResultStore, SweepResult
from .sweep import Sweep

__all__ = [
    "KINDS",
    "PROFILES",
    "SCHEMA_VERSION",
    "VERDICTS",
    "Claim",
    "ClaimResult",
    "ConvergenceRule",
    "FigureData",
    "Measurement",
    "NullSpec",
    "Prediction",
    "Rival",
    "RivalResult",
    "Threshold",
    "TrainingEvidence",
    "Verdict",
    "agrees_within_se",
    "combine_verdicts",
    "coverage_prediction",
    "critical_value",
    "equivalence",
    "margin",
    "no_effect_rival",
    "null_critical_value",
    "paired_effect",
    "relative_weight_change",
    "run_provenance",
    "training_gate",
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
