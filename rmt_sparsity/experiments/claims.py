"""Claims: a prediction paired with its measurement, and the rules that compare them.

A :class:`Claim` states one thing the theory (or RMT) predicts, how to predict
it, how to measure it and how to compare the two::

    Claim(id, statement, source, predict, measure, compare, profiles, kind)
    predict(config)      -> Prediction(value, band, level)
    measure(config, rng) -> Measurement(value, se, n)
    compare(pred, meas)  -> Verdict

Claims live in the modules of :mod:`rmt_sparsity.experiments.catalog` (one
module per capability, each exposing a list ``CLAIMS``);
:mod:`rmt_sparsity.experiments.runner` discovers them (the registry is the
source of truth) and runs them. What several claims share lives here: the
coverage prediction (:func:`coverage_prediction`) and the compare rules
(:func:`within_band`, :func:`agrees_within_se`, :func:`paired_effect`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import check_choice
from .._io import to_jsonable
from .._stats import binomial_band, t_multiplier

__all__ = [
    "PROFILES",
    "VERDICTS",
    "Prediction",
    "Measurement",
    "Verdict",
    "FigureData",
    "Claim",
    "coverage_prediction",
    "within_band",
    "agrees_within_se",
    "paired_effect",
    "replace_prediction",
]

#: Profiles, in increasing cost: ``smoke`` (seconds; tests), ``quick`` (the default main job,
#: <= 10 min on 2 cores for all claims together), ``full``.
PROFILES = ("smoke", "quick", "full")

# Transitional alias: kernels.bench still imports this name; it moves to rmt_sparsity._io.to_jsonable
# (the one JSON conversion), after which this line goes.
_to_jsonable = to_jsonable

#: Allowed verdict statuses (docs/design.md §4). ``skipped``: an optional extra the claim needs is not
#: installed (the reason names it); skipped claims ran nothing and sit outside the pass/fail tally.
VERDICTS = ("pass", "fail", "inconclusive", "skipped", "not_implemented")


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
        Coverage of ``band`` (0.95 unless stated, docs/design.md §3).
    details : dict
        Extra JSON-serialisable figures (method, law parameters, ...).
    """

    value: float
    band: tuple[float, float] | None = None
    level: float = 0.95
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        return to_jsonable(
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
        return to_jsonable({"value": self.value, "se": self.se, "n": self.n, "details": dict(self.details)})


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
        Where it comes from (paper and arXiv id, with section or equation).
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


# ----------------------------------------------------------------------------- shared predictions


def coverage_prediction(m: int, coverage: float, details: Mapping[str, Any]) -> Prediction:
    r"""The prediction that a fraction ``coverage`` of ``m`` independent draws falls in a band of that coverage.

    If a per-draw band (an edge-law band, a null band) is right, the number of
    draws inside it is Binomial(m, coverage); the predicted value is
    ``coverage`` and its band the central 95 % interval of the observed
    fraction, :func:`rmt_sparsity._stats.binomial_band` (exact binomial
    quantiles). Judge it with :func:`within_band`.

    Examples
    --------
    >>> p = coverage_prediction(6, 0.95, {"statistic": "fraction of 6 matrices in their band"})
    >>> p.value, p.band, p.level
    (0.95, (0.6666666666666666, 1.0), 0.95)
    """
    lo, hi = binomial_band(m, coverage)
    return Prediction(value=coverage, band=(lo, hi), level=0.95, details=details)


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


def paired_effect(pred: Prediction, meas: Measurement) -> Verdict:
    r"""Directional rule for a mean paired effect over ``n`` seeds (the prediction is "effect > 0").

    With :math:`t = t_{0.975,\,n-1}` (:func:`rmt_sparsity._stats.t_multiplier`) and the
    measurement's SE of the paired differences:

    * ``pass`` if :math:`v - t\,\mathrm{SE} > 0`; ``fail`` if :math:`v + t\,\mathrm{SE} < 0`;
      ``inconclusive`` otherwise (the interval includes 0);
    * ``inconclusive`` without a finite SE, or when ``meas.details["accuracy_matched"]``
      is ``False`` (the effect was not obtained at matched accuracy; ``accuracy_note`` says why).

    ``meas.details["summary"]`` is appended to the reason. Three seeds give
    :math:`t = 4.30`, so only clear effects decide.

    Examples
    --------
    >>> pred = Prediction(float("nan"), (0.0, math.inf))
    >>> paired_effect(pred, Measurement(0.05, 0.01, 3)).status
    'pass'
    >>> paired_effect(pred, Measurement(0.05, 0.02, 3)).status   # 0.05 - 4.30 x 0.02 < 0
    'inconclusive'
    >>> paired_effect(pred, Measurement(-0.05, 0.01, 3)).status
    'fail'
    """
    v, se, n = float(meas.value), meas.se, int(meas.n)
    k = t_multiplier(n)
    extra = meas.details.get("summary", "")
    if se is None or not math.isfinite(float(se)) or not math.isfinite(v):
        return Verdict("inconclusive", f"no usable standard error (n = {n}); {extra}")
    if meas.details.get("accuracy_matched") is False:
        return Verdict("inconclusive", f"accuracy not matched: {meas.details['accuracy_note']}; {extra}")
    desc = f"paired effect {v:+.4f} ± {se:.2g} (SE, n = {n} seeds, t = {k:.2f}); {extra}"
    if v - k * se > 0:
        return Verdict("pass", desc)
    if v + k * se < 0:
        return Verdict("fail", desc)
    return Verdict("inconclusive", desc + "; interval includes 0")


def replace_prediction(claim: Claim, predict: Callable) -> Claim:
    """A copy of ``claim`` with another ``predict`` (used to test that wrong predictions fail)."""
    return dataclasses.replace(claim, predict=predict)
