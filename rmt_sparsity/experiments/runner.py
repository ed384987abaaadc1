"""The claims registry and the runner: every registered claim, run with a seed derived from its id.

:func:`registry` discovers the claims of :mod:`rmt_sparsity.experiments.catalog`
(every module there exposing a list ``CLAIMS``), so a capability adds claims
without touching this file; the registry is the one list of claims.

``measure`` always receives a :class:`numpy.random.Generator` derived from the
run seed and the claim id only (:func:`claim_seed`, so ``--only`` does not
change the numbers); JAX-based claims derive their key from it with
:func:`rmt_sparsity._rng.jax_key_from`.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import check_choice
from .._io import to_jsonable
from .._optional import as_missing_extra
from .._versions import package_versions
from .claims import PROFILES, Claim, Measurement, Prediction, Verdict
from .store import canonical_json

__all__ = [
    "ClaimResult",
    "registry",
    "all_claim_ids",
    "get_claim",
    "run_claim",
    "run_claims",
    "config_hash",
    "claim_seed",
]

_REGISTRY: dict[str, Claim] | None = None


def registry() -> dict[str, Claim]:
    """All registered claims, by id, in a stable order (catalog module name, then list order).

    Catalog modules are imported on first call; they must keep heavy imports
    (jax, numba kernels) inside their ``predict``/``measure`` functions.

    Examples
    --------
    >>> "mp_esd_matches_wishart" in registry()
    True
    """
    global _REGISTRY
    if _REGISTRY is None:
        from . import catalog

        found: dict[str, Claim] = {}
        for info in sorted(pkgutil.iter_modules(catalog.__path__), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            mod = importlib.import_module(f"{catalog.__name__}.{info.name}")
            for claim in getattr(mod, "CLAIMS", ()):
                if claim.id in found:
                    raise RuntimeError(f"duplicate claim id {claim.id!r} in {mod.__name__}")
                found[claim.id] = claim
        _REGISTRY = found
    return dict(_REGISTRY)


def all_claim_ids() -> list[str]:
    """The registered claim ids, in registry order.

    Examples
    --------
    >>> all_claim_ids()[:2]
    ['noise_sharpness_trace', 'noise_trained_flatter']
    """
    return list(registry())


def get_claim(claim_id: str) -> Claim:
    """The registered claim with this id; ``KeyError`` for an unknown id.

    Examples
    --------
    >>> get_claim("mp_extreme_ratio").kind
    'theorem'
    """
    reg = registry()
    if claim_id not in reg:
        raise KeyError(claim_id)
    return reg[claim_id]


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 (first 16 hex digits) of the canonical JSON of ``config`` (:func:`~rmt_sparsity.experiments.store.canonical_json`).

    Examples
    --------
    >>> config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})
    True
    """
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


def claim_seed(seed: int, claim_id: str) -> np.random.SeedSequence:
    """The seed sequence for one claim: a function of the run seed and the claim id only.

    Examples
    --------
    >>> import numpy as np
    >>> draw = lambda seed, cid: np.random.default_rng(claim_seed(seed, cid)).random()
    >>> draw(0, "a") == draw(0, "a"), draw(0, "a") == draw(0, "b"), draw(0, "a") == draw(1, "a")
    (True, False, False)
    """
    digest = int.from_bytes(hashlib.sha256(claim_id.encode()).digest()[:8], "little")
    return np.random.SeedSequence([int(seed), digest])


@dataclass
class ClaimResult:
    """The outcome of running one claim: the record written to ``claims.json``."""

    id: str
    statement: str
    source: str
    kind: str
    prediction: Prediction | None
    measurement: Measurement | None
    verdict: Verdict
    provenance: dict
    timings: dict
    error: str | None = None

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "statement": self.statement,
            "source": self.source,
            "kind": self.kind,
            "prediction": None if self.prediction is None else self.prediction.to_json(),
            "measurement": None if self.measurement is None else self.measurement.to_json(),
            "verdict": self.verdict.to_json(),
            "provenance": to_jsonable(self.provenance),
            "timings": to_jsonable(self.timings),
            "error": self.error,
        }

    @property
    def crashed(self) -> bool:
        return self.error is not None


def run_claim(claim_id: str, *, profile: str = "quick", seed: int = 0, overrides: Mapping | None = None) -> ClaimResult:
    """Run one claim and return its result; exceptions are caught and recorded.

    Parameters
    ----------
    claim_id : str
        A registered id (``KeyError`` otherwise).
    profile : {"smoke", "quick", "full"}
    seed : int
        Run seed; the claim's generator is ``claim_seed(seed, claim_id)``.
    overrides : mapping, optional
        Config entries replacing the profile's (for tests and sweeps).
    """
    check_choice("profile", profile, PROFILES)
    claim = get_claim(claim_id)
    config = claim.config_for(profile)
    if overrides:
        config.update(overrides)
    provenance = {
        "profile": profile,
        "seed": int(seed),
        "config": config,
        "config_hash": config_hash(config),
        "versions": package_versions(),
    }
    timings: dict[str, float] = {}
    pred = meas = None
    try:
        t0 = time.perf_counter()
        pred = claim.predict(config)
        timings["predict_s"] = time.perf_counter() - t0
        rng = np.random.default_rng(claim_seed(seed, claim_id))
        t0 = time.perf_counter()
        meas = claim.measure(config, rng)
        timings["measure_s"] = time.perf_counter() - t0
        verdict = claim.compare(pred, meas)
        if not isinstance(verdict, Verdict):
            raise TypeError(f"compare of claim {claim_id!r} returned {type(verdict).__name__}, not Verdict")
        error = None
    except Exception as exc:  # a crashing claim is recorded, and makes `verify` exit 1
        missing = as_missing_extra(exc, f"claim {claim_id!r}")
        if missing is not None:  # an optional extra is not installed: skipped, with the install command
            verdict, error = Verdict("skipped", str(missing)), None
        else:
            verdict = Verdict("inconclusive", f"claim crashed: {type(exc).__name__}: {exc}")
            error = "".join(traceback.format_exception(exc))
    return ClaimResult(
        id=claim.id,
        statement=claim.statement,
        source=claim.source,
        kind=claim.kind,
        prediction=pred,
        measurement=meas,
        verdict=verdict,
        provenance=provenance,
        timings=timings,
        error=error,
    )


def run_claims(
    ids: Sequence[str] | None = None,
    *,
    profile: str = "quick",
    seed: int = 0,
    progress: bool = False,
    executor=None,
) -> list[ClaimResult]:
    """Run several claims (every registered one by default).

    Parameters
    ----------
    ids : sequence of str, optional
        Claim ids; unknown ids raise ``KeyError`` before anything runs.
    executor : concurrent.futures.Executor, optional
        Runs the claims in parallel (e.g. a Dask client's executor); results
        keep the order of ``ids``.
    """
    all_ids = all_claim_ids()
    ids = list(all_ids if ids is None else ids)
    unknown = [i for i in ids if i not in all_ids]
    if unknown:
        raise KeyError(", ".join(unknown))
    from tqdm.auto import tqdm

    if executor is None:
        results = []
        bar = tqdm(ids, desc=f"verify ({profile})", unit="claim", disable=not progress)
        for cid in bar:
            bar.set_postfix_str(cid)
            results.append(run_claim(cid, profile=profile, seed=seed))
        return results
    futures = [executor.submit(run_claim, cid, profile=profile, seed=seed) for cid in ids]
    return [f.result() for f in tqdm(futures, desc=f"verify ({profile})", unit="claim", disable=not progress)]
