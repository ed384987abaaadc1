"""The claims registry and the runner: every registered claim, judged against its rivals, with a seed derived from its id.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._checks import check_choice, check_int
from .._io import to_jsonable
from .._optional import as_missing_extra
from .._versions import package_versions
from .claims import (
    PROFILES,
    SCHEMA_VERSION,
    Claim,
    Measurement,
    Prediction,
    Verdict,
    combine_verdicts,
    training_gate,
)
from .store import canonical_json

__all__ = [
    "ClaimResult",
    "RivalResult",
    "UnknownClaimError",
    "run_provenance",
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
    ['flatness_falls_with_noise_mse', 'flatness_falls_at_matched_loss_mse']
    """
    return list(registry())


class UnknownClaimError(KeyError, ValueError):
    """An id that names no registered claim: a ``KeyError`` (as a lookup) and a ``ValueError`` (bad input)."""

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return str(self.args[0]) if self.args else ""


def _claim_id(name: str, value, known) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a claim id (str); got {type(value).__name__} {value!r:.80}")
    if value not in known:
        raise UnknownClaimError(f"{name} {value!r} is not a registered claim (see all_claim_ids())")
    return value


def _seed(seed) -> int:
    return check_int("seed", seed, min=0)


def get_claim(claim_id: str) -> Claim:
    """The registered claim with this id.

    Raises ``UnknownClaimError`` (a ``KeyError`` and a ``ValueError``) for an unknown id,
    ``TypeError`` for a non-string.

    Examples
    --------
    >>> get_claim("mp_extreme_ratio").kind
    'theorem'
    """
    reg = registry()
    return reg[_claim_id("claim_id", claim_id, reg)]


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 (first 16 hex digits) of the canonical JSON of ``config`` (:func:`~rmt_sparsity.experiments.store.canonical_json`).

    Examples
    --------
    >>> config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})
    True
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping (dict); got {type(config).__name__} {config!r:.80}")
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
    seed = _seed(seed)
    if not isinstance(claim_id, str) or not claim_id:
        raise TypeError(f"claim_id must be a non-empty string; got {type(claim_id).__name__} {claim_id!r:.80}")
    digest = int.from_bytes(hashlib.sha256(claim_id.encode()).digest()[:8], "little")
    return np.random.SeedSequence([int(seed), digest])


@dataclass
class RivalResult:
    """One rival judged by its claim's rule on the claim's measurement."""

    name: str
    description: str
    prediction: Prediction
    statistic: Measurement
    verdict: Verdict

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "prediction": self.prediction.to_json(),
            "statistic": self.statistic.to_json(),
            "verdict": self.verdict.to_json(),
        }


def _collect_thresholds(*groups) -> list[dict]:
    seen, out = set(), []
    for group in groups:
        for t in group:
            rec = t.to_json()
            key = canonical_json(rec)
            if key not in seen:
                seen.add(key)
                out.append(rec)
    return out


@dataclass
class ClaimResult:
    """The outcome of running one claim: the record written to ``claims.json``.

    ``verdict`` is the claim's verdict (theory combined with its rivals, gated by the
    training evidence); ``theory_verdict`` is the theory's alone; ``measurement`` is the
    statistic against the theory's prediction; ``rivals`` holds each rival's prediction,
    statistic and verdict.
    """

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
    rivals: list[RivalResult] = field(default_factory=list)
    theory_verdict: Verdict | None = None

    def to_json(self) -> dict:
        meas = self.measurement
        return {
            "id": self.id,
            "statement": self.statement,
            "source": self.source,
            "kind": self.kind,
            "prediction": None if self.prediction is None else self.prediction.to_json(),
            "measurement": None if meas is None else meas.to_json(),
            "rivals": [r.to_json() for r in self.rivals],
            "verdict": self.verdict.to_json(),
            "theory_verdict": None if self.theory_verdict is None else self.theory_verdict.to_json(),
            "thresholds": _collect_thresholds(
                () if self.prediction is None else self.prediction.thresholds,
                () if self.theory_verdict is None else self.theory_verdict.thresholds,
            ),
            "training": None if meas is None or meas.training is None else meas.training.to_json(),
            "provenance": to_jsonable(self.provenance),
            "timings": to_jsonable(self.timings),
            "error": self.error,
        }

    @property
    def crashed(self) -> bool:
        return self.error is not None


_OVERLAY_KINDS = ("esd_vs_density", "hist_vs_pdf", "histogram_vs_density")


def _with_overlays(meas: Measurement, rivals: Sequence[RivalResult]) -> Measurement:
    """Add each rival's density (``Prediction.density``, in the figure's coordinates) to the claim's figures."""
    if not meas.figures or not any(r.prediction.density is not None for r in rivals):
        return meas
    figs = []
    for fig in meas.figures:
        if fig.kind in _OVERLAY_KINDS and "x" in fig.data:
            x = np.asarray(fig.data["x"], dtype=float)
            overlays = dict(fig.data.get("overlays", {}))
            for r in rivals:
                if r.prediction.density is not None:
                    overlays[f"rival: {r.name}"] = np.asarray(r.prediction.density(x), dtype=float)
            fig = replace(fig, data={**fig.data, "overlays": overlays})
        figs.append(fig)
    return replace(meas, figures=tuple(figs))


def run_claim(claim_id: str, *, profile: str = "quick", seed: int = 0, overrides: Mapping | None = None,
              claim: Claim | None = None, fixtures: Mapping | None = None) -> ClaimResult:
    """Run one claim, judge it against its rivals and return its result; exceptions are caught and recorded.

    Parameters
    ----------
    claim_id : str
        A registered id (``UnknownClaimError``, a ``KeyError`` and ``ValueError``, otherwise).
    profile : {"smoke", "quick", "full"}
    seed : int
        Run seed, an integer >= 0; the claim's generator is ``claim_seed(seed, claim_id)``.
    overrides : mapping, optional
        Config entries replacing the profile's (for tests and sweeps); each key must be one of
        the profile's config keys (``ValueError`` naming the unknown ones).
    claim : Claim, optional
        Run this claim object instead of the registered one (same id and seed; tests use it
        to swap a rival in as the prediction).
    fixtures : mapping, optional
        Already resolved fixtures ``{id: FixtureResult}`` (:func:`run_claims` passes
        them); those the claim names and this lacks are resolved here
        (:func:`~rmt_sparsity.experiments.fixtures.resolve_fixtures`, cached per process).

    Notes
    -----
    The steps: ``pred = predict(config)``; ``raw = measure(config, rng)``; the theory's
    statistic and verdict ``claim.judge(pred, raw)``; each rival's ``claim.judge(rival.predict(config), raw)``
    on the same raw measurement; :func:`~rmt_sparsity.experiments.claims.combine_verdicts`;
    then :func:`~rmt_sparsity.experiments.claims.training_gate` with the measurement's
    training evidence.
    """
    check_choice("profile", profile, PROFILES)
    seed = _seed(seed)
    if claim is None:
        claim = get_claim(claim_id)
    elif not isinstance(claim, Claim):
        raise TypeError(f"claim must be None or a Claim; got {type(claim).__name__}")
    elif not isinstance(claim_id, str) or claim_id != claim.id:
        raise ValueError(f"claim_id must be the claim's own id {claim.id!r}; got {claim_id!r:.80}")
    if fixtures is not None and not isinstance(fixtures, Mapping):
        raise TypeError(f"fixtures must be None or a mapping {{id: FixtureResult}}; got {type(fixtures).__name__}")
    config = claim.config_for(profile)
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            raise TypeError(f"overrides must be None or a mapping of config entries; got {type(overrides).__name__} "
                            f"{overrides!r:.80}")
        unknown = [k for k in overrides if k not in config]
        if unknown:
            raise ValueError(f"overrides: unknown config key(s) {', '.join(map(repr, unknown))} for claim "
                             f"{claim.id!r} (profile {profile!r} has {', '.join(map(repr, config)) or 'none'})")
        config.update(overrides)
    provenance = {
        "profile": profile,
        "seed": seed,
        "config": config,
        "config_hash": config_hash(config),
        "versions": package_versions(),
    }
    timings: dict[str, float] = {}
    pred = meas = theory = None
    rivals: list[RivalResult] = []
    try:
        t0 = time.perf_counter()
        pred = claim.predict(config)
        timings["predict_s"] = time.perf_counter() - t0
        rng = np.random.default_rng(claim_seed(seed, claim_id))
        t0 = time.perf_counter()
        if claim.fixtures:
            fx = _claim_fixtures(claim, profile, seed, fixtures)
            timings["fixtures_s"] = time.perf_counter() - t0
            provenance["fixtures"] = {k: v.provenance() for k, v in fx.items()}
            t0 = time.perf_counter()
            raw = claim.measure(config, rng, fixtures=fx)
        else:
            raw = claim.measure(config, rng)
        timings["measure_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        meas, theory = claim.judge(pred, raw)
        if meas.training is None and raw.training is not None:
            meas = replace(meas, training=raw.training)
        for rival in claim.rivals:
            rp = rival.predict(config)
            rm, rv = claim.judge(rp, raw)
            rivals.append(RivalResult(rival.name, rival.description, rp, rm, rv))
        timings["judge_s"] = time.perf_counter() - t0
        meas = _with_overlays(meas, rivals)
        verdict = combine_verdicts(theory, {r.name: r.verdict for r in rivals})
        verdict = training_gate(verdict, meas.training)
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
        rivals=rivals,
        theory_verdict=theory,
    )


def _claim_fixtures(claim: Claim, profile: str, seed: int, given: Mapping | None) -> dict:
    """The fixtures ``claim`` names: from ``given`` when there, else resolved (and cached) in this process."""
    from .fixtures import resolve_fixtures

    given = dict(given or {})
    missing = [f for f in claim.fixtures if f not in given]
    if missing:
        given.update(resolve_fixtures(missing, profile=profile, seed=seed))
    return {f: given[f] for f in claim.fixtures}


def run_claims(
    ids: Sequence[str] | None = None,
    *,
    profile: str = "quick",
    seed: int = 0,
    progress: bool = False,
    executor=None,
    fixture_store=None,
) -> list[ClaimResult]:
    """Run several claims (every registered one by default).

    The shared fixtures the claims name are resolved first, once each
    (:func:`~rmt_sparsity.experiments.fixtures.resolve_fixtures`; their units
    go through ``executor`` when one is given), and handed to the claims.

    Parameters
    ----------
    ids : sequence of str, optional
        Claim ids (a list, not one string); by default every claim that runs in ``profile``
        (:meth:`~rmt_sparsity.experiments.claims.Claim.runs_in`: claims defined only for a larger
        profile are left out; naming one runs it with its smallest config). Unknown ids raise ``UnknownClaimError`` (a ``KeyError``
        and ``ValueError``) before anything runs; an empty sequence is a ``ValueError``.
    seed : int
        Run seed, an integer >= 0.
    executor : concurrent.futures.Executor, optional
        Runs the claims in parallel (e.g. a Dask client's executor); results
        keep the order of ``ids``.
    fixture_store : path-like, optional
        Directory where fixture units are stored and reused (``verify`` uses ``OUT/fixtures``).
    """
    all_ids = all_claim_ids()
    if ids is not None and (isinstance(ids, (str, bytes, Mapping)) or not isinstance(ids, Iterable)):
        raise TypeError(f"ids must be None or a sequence of claim ids; got {type(ids).__name__} {ids!r:.80} "
                        "(one id: ids=[id])")
    check_choice("profile", profile, PROFILES)
    ids = list([i for i in all_ids if get_claim(i).runs_in(profile)] if ids is None else ids)
    if not ids:
        raise ValueError("ids must name at least one claim (None runs every claim); got an empty sequence")
    bad = [i for i in ids if not isinstance(i, str)]
    if bad:
        raise TypeError(f"ids must hold claim ids (str); got {bad[0]!r:.80} of type {type(bad[0]).__name__}")
    unknown = [i for i in ids if i not in all_ids]
    if unknown:
        raise UnknownClaimError(f"ids: unknown claim id(s) {', '.join(map(repr, unknown))} (see all_claim_ids())")
    check_choice("profile", profile, PROFILES)
    seed = _seed(seed)
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must be None or a concurrent.futures.Executor (with submit); got "
                        f"{type(executor).__name__} {executor!r:.80}")
    from tqdm.auto import tqdm

    from .fixtures import resolve_fixtures

    needed = [f for cid in ids for f in get_claim(cid).fixtures]
    try:
        fixtures = resolve_fixtures(needed, profile=profile, seed=seed, executor=executor, store=fixture_store,
                                    progress=progress) if needed else {}
    except Exception as exc:
        if as_missing_extra(exc) is None:
            raise
        # an optional extra (jax for the trained grid) is missing: each claim that needs a fixture tries
        # again inside run_claim and is recorded as skipped, with the install command
        fixtures = {}
    if executor is None:
        results = []
        bar = tqdm(ids, desc=f"verify ({profile})", unit="claim", disable=not progress)
        for cid in bar:
            bar.set_postfix_str(cid)
            results.append(run_claim(cid, profile=profile, seed=seed, fixtures=fixtures))
        return results
    futures = [executor.submit(run_claim, cid, profile=profile, seed=seed,
                               fixtures={f: fixtures[f] for f in get_claim(cid).fixtures if f in fixtures})
               for cid in ids]
    return [f.result() for f in tqdm(futures, desc=f"verify ({profile})", unit="claim", disable=not progress)]


def _git_commit() -> str | None:
    """The checkout's commit (with ``+dirty`` when the tree has changes), or None outside a git checkout."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def run_provenance(results: Sequence[ClaimResult], *, profile: str, seed: int) -> dict:
    """The run's provenance block: schema version, package versions, git commit, UTC timestamp, profile, seed
    and the config hash of the run (over every claim's id and config hash).

    Examples
    --------
    >>> prov = run_provenance([], profile="smoke", seed=0)
    >>> sorted(prov)
    ['claims', 'config_hash', 'git_commit', 'profile', 'schema_version', 'seed', 'timestamp_utc', 'versions']
    """
    import datetime

    if isinstance(results, (str, bytes, Mapping)) or not isinstance(results, Iterable):
        raise TypeError(f"results must be a sequence of ClaimResult; got {type(results).__name__} {results!r:.80}")
    results = list(results)
    for r in results:
        if not isinstance(r, ClaimResult):
            raise TypeError(f"results must hold ClaimResult records; got {type(r).__name__} {r!r:.80}")
    check_choice("profile", profile, PROFILES)
    seed = _seed(seed)
    hashes = {r.id: r.provenance.get("config_hash") for r in results}
    return {
        "schema_version": SCHEMA_VERSION,
        "profile": profile,
        "seed": int(seed),
        "claims": len(results),
        "config_hash": config_hash(hashes),
        "git_commit": _git_commit(),
        "timestamp_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": package_versions(),
    }
