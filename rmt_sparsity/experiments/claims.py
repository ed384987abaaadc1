"""The claims registry: every prediction paired with its measurement.

A :class:`Claim` states one thing the theory (or RMT) predicts, how to predict
it, how to measure it and how to compare the two (DESIGN §3)::

    Claim(id, statement, source, predict, measure, compare, profiles)
    predict(config)      -> Prediction(value, band, level)
    measure(config, rng) -> Measurement(value, se, n)
    compare(pred, meas)  -> Verdict

Claims live in the modules of :mod:`rmt_sparsity.experiments.catalog` (one
module per capability, each exposing a list ``CLAIMS``); they are discovered
automatically, so a capability adds claims without touching this file.
:data:`EXPECTED_CLAIMS` lists claims promised by the roadmap: any of them that
no catalog module provides yet is reported as ``not_implemented`` (never as
passed).

``measure`` always receives a :class:`numpy.random.Generator` derived from the
run seed and the claim id only (so ``--only`` does not change the numbers);
JAX-based claims derive their key from it with :func:`rmt_sparsity._rng.jax_key_from`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import math
import pkgutil
import platform
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import check_choice

__all__ = [
    "PROFILES",
    "VERDICTS",
    "Prediction",
    "Measurement",
    "Verdict",
    "FigureData",
    "Claim",
    "ClaimResult",
    "EXPECTED_CLAIMS",
    "registry",
    "get_claim",
    "run_claim",
    "run_claims",
    "within_band",
    "agrees_within_se",
    "config_hash",
    "claim_seed",
    "package_versions",
]

#: Profiles, in increasing cost: ``smoke`` (seconds; tests), ``quick`` (the default main job,
#: <= 10 min on 2 cores for all claims together), ``full``.
PROFILES = ("smoke", "quick", "full")

#: Allowed verdict statuses (DESIGN §3).
VERDICTS = ("pass", "fail", "inconclusive", "not_implemented")


def _to_jsonable(obj):
    """Convert numpy scalars/arrays and tuples so that ``json.dumps`` is exact and stable."""
    if isinstance(obj, Mapping):
        return {str(k): _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else repr(v)  # "nan"/"inf" strings keep JSON strict
    return obj


@dataclass(frozen=True)
class Prediction:
    """A predicted value with its band.

    Attributes
    ----------
    value : float
        The point prediction (NaN when only a band is predicted).
    band : tuple of float or None
        Central ``level`` interval for the *measured statistic* (not for the mean
        of the prediction); ``None`` for a point prediction compared by standard errors.
    level : float
        Coverage of ``band`` (0.95 unless stated, DESIGN §3).
    details : dict
        Extra JSON-serialisable figures (method, law parameters, ...).
    """

    value: float
    band: tuple[float, float] | None = None
    level: float = 0.95
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        return _to_jsonable(
            {"value": self.value, "band": self.band, "level": self.level, "details": dict(self.details)}
        )


@dataclass(frozen=True)
class FigureData:
    """Data for one report figure; rendered by :mod:`rmt_sparsity.report.figures` (never here).

    ``kind`` names a renderer in :data:`rmt_sparsity.report.figures.RENDERERS`.
    """

    kind: str
    title: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Measurement:
    """A measured value with its standard error and sample count.

    Attributes
    ----------
    value : float
    se : float or None
        Standard error of ``value`` (Monte-Carlo or across seeds); ``None`` when
        the measurement is a single draw compared against a predictive band.
    n : int
        Number of independent units behind ``value`` (matrices, seeds, draws).
    details : dict
        Extra JSON-serialisable figures.
    figures : tuple of FigureData
        Figures for the report; excluded from ``claims.json``.
    """

    value: float
    se: float | None = None
    n: int = 1
    details: Mapping[str, Any] = field(default_factory=dict)
    figures: tuple[FigureData, ...] = ()

    def to_json(self) -> dict:
        return _to_jsonable({"value": self.value, "se": self.se, "n": self.n, "details": dict(self.details)})


@dataclass(frozen=True)
class Verdict:
    """Outcome of comparing a prediction with a measurement.

    ``status`` is one of :data:`VERDICTS`; ``reason`` says why in one sentence with figures.
    """

    status: str
    reason: str = ""

    def __post_init__(self):
        check_choice("status", self.status, VERDICTS)

    def to_json(self) -> dict:
        return {"status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class Claim:
    """One registered claim.

    Parameters
    ----------
    id : str
        Stable identifier (``lower_snake_case``), used by ``--only``.
    statement : str
        The claim in one sentence.
    source : str
        Where it comes from (paper and arXiv id, DESIGN section).
    predict : callable
        ``predict(config) -> Prediction``; pure (no randomness), or Monte-Carlo
        with its own fixed seed documented in the claim.
    measure : callable
        ``measure(config, rng) -> Measurement``.
    compare : callable
        ``compare(prediction, measurement) -> Verdict``.
    profiles : mapping
        ``{profile: config}``; a profile missing here runs the claim with the
        next smaller profile's config.
    kind : str
        ``"theorem"`` (RMT or an identity), ``"heuristic"`` (the paper's
        approximations), ``"empirical"`` (effects on trained networks) or
        ``"performance"`` (timings; excluded from determinism).
    """

    id: str
    statement: str
    source: str
    predict: Callable[[Mapping[str, Any]], Prediction]
    measure: Callable[[Mapping[str, Any], np.random.Generator], Measurement]
    compare: Callable[[Prediction, Measurement], Verdict]
    profiles: Mapping[str, Mapping[str, Any]]
    kind: str = "theorem"

    def config_for(self, profile: str) -> dict:
        """The config used under ``profile`` (falling back to the next smaller profile)."""
        check_choice("profile", profile, PROFILES)
        for p in reversed(PROFILES[: PROFILES.index(profile) + 1]):
            if p in self.profiles:
                return dict(self.profiles[p])
        # larger profiles only: use the smallest one defined
        for p in PROFILES:
            if p in self.profiles:
                return dict(self.profiles[p])
        return {}


#: Claims promised by the roadmap (issue 12). Each maps to (statement, source). A claim
#: listed here that no catalog module registers yet is reported as ``not_implemented``.
EXPECTED_CLAIMS: dict[str, tuple[str, str]] = {
    "mp_esd_matches_wishart": (
        "The Marchenko-Pastur law matches sampled Wishart spectra.",
        "Marchenko & Pastur 1967; DESIGN §4.1",
    ),
    "mp_extreme_ratio": (
        "The extreme-eigenvalue ratio of WW^T/n lies in its predicted band around ((1+sqrt c)/(1-sqrt c))^2.",
        "DESIGN §4.1-4.2",
    ),
    "tw_largest_eigenvalue": (
        "lambda_max of sampled real Wishart matrices follows TW1 after Johnstone scaling.",
        "Johnstone 2001, arXiv math/0102013",
    ),
    "weighted_mp_discounted_covariance": (
        "The discounted input covariance follows the weighted (generalised) MP law.",
        "Silverstein & Bai 1995; DESIGN §4.5",
    ),
    "paper_heuristic_mp_ratio": (
        "The paper's heuristic MP(c = p/(B min(t, T_eff))) predicts the eigenvalue ratio of the discounted covariance.",
        "Peng et al., arXiv 2309.03004 (Theorem 8 in its code)",
    ),
    "trained_key_concentration": (
        "The spectral concentration of trained key matrices lies in the predicted band (against random init).",
        "arXiv 2309.03004; DESIGN §4.5",
    ),
    "gradient_identity": (
        "||dL/dK||_F^2 = ||x||^2 ||eta||^2 per token (equality for ReLU, >= for J-SquaredReLU).",
        "arXiv 2309.03004; DESIGN §4.5",
    ),
    "layernorm_norm_facts": (
        "||LN(x)||^2 = d v/(v+eps); ||x|| >= sqrt(d) for |gamma|>=1; >= 0.9 sqrt(d) with the zeroth bias.",
        "arXiv 2309.03004; DESIGN §4.5",
    ),
    "noise_sharpness_trace": (
        "Weight-noise sharpness ~ (s^2/2) tr H (broken where ReLU kinks matter).",
        "DESIGN §4.5",
    ),
    "noise_raises_zero_fraction": (
        "Weight noise raises the activation zero fraction and lowers the Hessian trace.",
        "arXiv 2309.03004",
    ),
    "modules_raise_sparsity": (
        "The theory's modules (J-SquaredReLU, zeroth bias, restricted LN) raise sparsity at matched accuracy.",
        "arXiv 2309.03004",
    ),
    "sparse_ffn_savings": (
        "Sparse FFN compute savings approach the ideal 1/rho at batch 1.",
        "DESIGN §4.7",
    ),
    "sparsing_law_fit": (
        "The activation ratio over training follows a sparsing-law form.",
        "Luo et al., arXiv 2411.02335",
    ),
    "noise_tolerates_pruning": (
        "Noise-trained nets tolerate more magnitude pruning (essential sparsity).",
        "arXiv 2306.03805",
    ),
    "random_layers_read_random": (
        "Random layers read as random: no spikes and no heavy tail.",
        "DESIGN §4.1; STYLE.md",
    ),
}


_REGISTRY: dict[str, Claim] | None = None


def registry() -> dict[str, Claim]:
    """All registered claims, by id, in a stable order (catalog module name, then list order).

    Catalog modules are imported on first call; they must keep heavy imports
    (jax, numba kernels) inside their ``predict``/``measure`` functions.
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
    """Registered ids followed by expected-but-missing ids."""
    reg = registry()
    return list(reg) + [cid for cid in EXPECTED_CLAIMS if cid not in reg]


def get_claim(claim_id: str) -> Claim | None:
    """The registered claim with this id, or ``None`` if it is only expected (not implemented)."""
    reg = registry()
    if claim_id in reg:
        return reg[claim_id]
    if claim_id in EXPECTED_CLAIMS:
        return None
    raise KeyError(claim_id)


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 (first 16 hex digits) of the canonical JSON of ``config``.

    Examples
    --------
    >>> config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})
    True
    """
    text = json.dumps(_to_jsonable(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def claim_seed(seed: int, claim_id: str) -> np.random.SeedSequence:
    """The seed sequence for one claim: a function of the run seed and the claim id only."""
    digest = int.from_bytes(hashlib.sha256(claim_id.encode()).digest()[:8], "little")
    return np.random.SeedSequence([int(seed), digest])


def package_versions() -> dict[str, str]:
    """Versions of the package and of the libraries that change numbers."""
    from importlib import metadata

    from .._version import __version__

    out = {"rmt_sparsity": __version__, "python": platform.python_version()}
    for dist in ("numpy", "scipy", "numba", "jax", "jaxlib", "optax"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # pragma: no cover - optional at runtime
            out[dist] = "not installed"
    return out


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
            "provenance": _to_jsonable(self.provenance),
            "timings": _to_jsonable(self.timings),
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
    profile : {"smoke", "quick", "full"}
    seed : int
        Run seed; the claim's generator is ``claim_seed(seed, claim_id)``.
    overrides : mapping, optional
        Config entries replacing the profile's (for tests and sweeps).
    """
    check_choice("profile", profile, PROFILES)
    claim = get_claim(claim_id)
    if claim is None:
        statement, source = EXPECTED_CLAIMS[claim_id]
        return ClaimResult(
            id=claim_id,
            statement=statement,
            source=source,
            kind="unknown",
            prediction=None,
            measurement=None,
            verdict=Verdict("not_implemented", "the capability this claim needs has not landed yet"),
            provenance={"profile": profile, "seed": int(seed)},
            timings={},
        )
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
    """Run several claims (all registered and expected ones by default).

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


# ----------------------------------------------------------------------------- compare rules


def within_band(pred: Prediction, meas: Measurement, *, k: float = 2.0) -> Verdict:
    """Band rule: is the measured statistic inside the predicted band?

    With ``I = [v - k·se, v + k·se]`` (``se = 0`` when not given):

    * ``pass`` if ``v`` lies in the band and ``k·se`` is at most half the band's width;
    * ``fail`` if ``I`` does not meet the band;
    * ``inconclusive`` otherwise (the uncertainty is too large to decide).

    ``k = 2`` is the two-sided ~95 % normal multiplier for the measurement's own error.

    Examples
    --------
    >>> within_band(Prediction(1.0, (0.9, 1.1)), Measurement(1.05, 0.01)).status
    'pass'
    >>> within_band(Prediction(1.0, (0.9, 1.1)), Measurement(1.5, 0.01)).status
    'fail'
    >>> within_band(Prediction(1.0, (0.9, 1.1)), Measurement(1.05, 1.0)).status
    'inconclusive'
    """
    if pred.band is None:
        raise ValueError("within_band needs a prediction with a band")
    lo, hi = (float(b) for b in pred.band)
    v = float(meas.value)
    se = 0.0 if meas.se is None else float(meas.se)
    if not (math.isfinite(v) and math.isfinite(se)):
        return Verdict("inconclusive", f"measurement is not finite (value={v}, se={se})")
    half = 0.5 * (hi - lo)
    desc = f"measured {v:.6g} (se {se:.3g}) vs {pred.level:.0%} band [{lo:.6g}, {hi:.6g}]"
    if lo <= v <= hi and k * se <= half:
        return Verdict("pass", desc)
    if v + k * se < lo or v - k * se > hi:
        return Verdict("fail", desc)
    return Verdict("inconclusive", desc + f"; {k:g}·se too large to decide")


def agrees_within_se(pred: Prediction, meas: Measurement, *, k: float = 4.0, pred_se: float = 0.0) -> Verdict:
    """Point rule: ``|v - value| <= k·sqrt(se² + pred_se²)``.

    ``k = 4`` keeps the false-fail rate below 1e-4 for normal errors. The
    verdict is ``inconclusive`` when the measurement has no finite standard error.

    Examples
    --------
    >>> agrees_within_se(Prediction(1.0), Measurement(1.01, 0.01)).status
    'pass'
    >>> agrees_within_se(Prediction(1.0), Measurement(1.2, 0.01)).status
    'fail'
    """
    v, p = float(meas.value), float(pred.value)
    if meas.se is None or not math.isfinite(float(meas.se)) or not math.isfinite(v):
        return Verdict("inconclusive", f"measured {v:.6g} has no usable standard error")
    tot = math.hypot(float(meas.se), float(pred_se))
    z = abs(v - p) / tot if tot > 0 else (0.0 if v == p else math.inf)
    desc = f"measured {v:.6g} ± {tot:.3g} vs predicted {p:.6g} (|z| = {z:.2f}, k = {k:g})"
    return Verdict("pass" if z <= k else "fail", desc)


def replace_prediction(claim: Claim, predict: Callable) -> Claim:
    """A copy of ``claim`` with another ``predict`` (used to test that wrong predictions fail)."""
    return dataclasses.replace(claim, predict=predict)
