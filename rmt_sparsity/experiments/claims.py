r"""Claims: a prediction paired with its measurement, its rivals, and the rules that judge them.

A :class:`Claim` states one thing the theory (or RMT) predicts, how to predict
it, how to measure it, the nearest plausible *wrong* models (its rivals) and
how to compare a prediction with the measurement::

    Claim(id, statement, source, predict, measure, compare, profiles, kind, rivals, statistic)
    predict(config)             -> Prediction(value, band, level, thresholds, law, density)
    measure(config, rng)        -> Measurement(value, se, n, raw, training)
    statistic(prediction, meas) -> Measurement          (optional: a law-dependent statistic)
    compare(prediction, meas)   -> Verdict(status, reason, thresholds, alpha)
    Rival(name, predict)        -> judged by the *same* statistic and compare on the *same* measurement

How a claim is judged (:func:`rmt_sparsity.experiments.runner.run_claim`):

1. ``meas = statistic(pred, measure(config, rng))`` and ``theory = compare(pred, meas)``;
   without a ``statistic`` step the measurement is used as it is.
2. Each rival ``R``: ``compare(R.predict(config), statistic(R.predict(config), raw))`` on the
   same raw measurement (where the statistic depends on the law, e.g. a KS distance of an
   ESD to a law, it is recomputed against the rival's law from the same draws).
3. :func:`combine_verdicts`: ``pass`` only when the theory passes and every rival fails;
   a rival that passes too makes the claim ``inconclusive: cannot discriminate from RIVAL
   at this size``; a rival that is inconclusive also leaves the claim inconclusive.
4. A trained-network claim attaches :class:`TrainingEvidence`; when training did not reach
   the regime its :class:`ConvergenceRule` states, the claim is ``inconclusive: not
   converged at N steps`` whatever the rule said (:func:`training_gate`).

Two kinds of number decide a verdict, kept apart as :class:`Threshold` records: a
**critical value** (a KS or W1 quantile, a band edge, a t multiplier) comes from the
sampling distribution at the claim's own sizes and seed count and carries its
``derivation``; a **margin** is the smallest deviation that matters scientifically,
stated in advance with its ``justification``.

The rules (every one returns ``pass``, ``fail`` or ``inconclusive``) compare an interval
with a region: the measurement's confidence interval
:math:`I = [v - q\,\mathrm{SE},\ v + q\,\mathrm{SE}]` (a single draw, ``se=None``, is the
point :math:`I = \{v\}` judged against a predictive band) with the predicted region ``R``:

* ``pass`` if :math:`I \subseteq R`; ``fail`` if :math:`I \cap R = \emptyset`; ``inconclusive`` otherwise.

With :math:`q = t_{1-\alpha,\,n-1}` (one-sided level :math:`\alpha = 0.05` per side, i.e. the
two one-sided tests of an equivalence test, a :math:`1 - 2\alpha` interval), the false-fail
rate is at most :math:`\alpha` whenever the true value lies in ``R``. :func:`within_band`
(predicted band or directional half-line), :func:`equivalence` (prediction ± a stated
margin), :func:`paired_effect` (directional effect over paired seeds) and
:func:`agrees_within_se` are this one rule with different regions; :func:`coverage_prediction`
builds the binomial band of a coverage fraction.

References: Schuirmann (1987), the two one-sided tests procedure (equivalence);
docs/design.md §4.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import check_array, check_callable, check_choice, check_int, check_probability, check_real
from .._io import to_jsonable
from .._stats import binomial_band

__all__ = [
    "SCHEMA_VERSION",
    "PROFILES",
    "VERDICTS",
    "KINDS",
    "FIGURE_KINDS",
    "THRESHOLD_KINDS",
    "ALPHA",
    "Threshold",
    "critical_value",
    "margin",
    "Prediction",
    "Measurement",
    "Verdict",
    "FigureData",
    "Rival",
    "Claim",
    "ConvergenceRule",
    "TrainingEvidence",
    "relative_weight_change",
    "training_gate",
    "combine_verdicts",
    "no_effect_rival",
    "ci_multiplier",
    "confidence_interval",
    "coverage_prediction",
    "within_band",
    "equivalence",
    "agrees_within_se",
    "paired_effect",
    "replace_prediction",
]

#: Version of the ``claims.json`` layout (bumped when a key changes meaning or moves).
SCHEMA_VERSION = 2

#: Profiles, in increasing cost: ``smoke`` (seconds; tests), ``quick`` (the default main job,
#: <= 10 min on 2 cores for all claims together), ``full``.
PROFILES = ("smoke", "quick", "full")

# Transitional alias: kernels.bench still imports this name; it moves to rmt_sparsity._io.to_jsonable
# (the one JSON conversion), after which this line goes.
_to_jsonable = to_jsonable

#: Allowed verdict statuses (docs/design.md §4). ``skipped``: an optional extra the claim needs is not
#: installed (the reason names it); skipped claims ran nothing and sit outside the pass/fail tally.
VERDICTS = ("pass", "fail", "inconclusive", "skipped", "not_implemented")

#: Claim kinds. ``identity`` claims are true by construction: reported apart, outside the tally.
KINDS = ("theorem", "heuristic", "empirical", "performance", "identity")

#: Figure kinds the report can draw (one renderer each in :data:`rmt_sparsity.report.figures.RENDERERS`).
FIGURE_KINDS = ("esd_vs_density", "bars", "lines", "speedup_vs_density", "hist_vs_pdf", "histogram_vs_density",
                "chain_panels")

_CLAIM_ID = re.compile(r"[a-z][a-z0-9_]*")

#: The two kinds of threshold: derived from a sampling distribution, or stated as a margin.
THRESHOLD_KINDS = ("critical_value", "margin")

#: Default one-sided level of the rules: a claim whose true value lies in its predicted region
#: fails by chance with probability at most ALPHA.
ALPHA = 0.05


# ============================================================================= thresholds


@dataclass(frozen=True)
class Threshold:
    """One number that decides a verdict, with where it comes from.

    Attributes
    ----------
    name : str
        What it is (``"ks_critical_value"``, ``"margin"``, ``"ci_multiplier"``, ``"band"``...); not blank.
    value : float or tuple of float
        The threshold (an interval as ``(lo, hi)``): real numbers, infinite ends allowed; NaN for a
        critical value that was not computed.
    kind : {"critical_value", "margin"}
        ``critical_value``: derived from the sampling distribution at the claim's own sizes
        and seed count (Monte Carlo, an exact distribution or a stated asymptotic formula);
        it must carry ``derivation``. ``margin``: the smallest deviation that matters
        scientifically, stated in advance; it must carry ``justification``.
    derivation, justification : str
    level : float, optional
        The tail probability or coverage the value was derived at, in (0, 1).

    Examples
    --------
    >>> t = Threshold("ks_critical_value", 0.012, "critical_value", derivation="95% quantile of 2000 MC draws")
    >>> t.to_json()["kind"]
    'critical_value'
    >>> Threshold("margin", 0.01, "margin")
    Traceback (most recent call last):
    ...
    ValueError: threshold 'margin' of kind 'margin' needs a justification
    """

    name: str
    value: Any
    kind: str
    derivation: str = ""
    justification: str = ""
    level: float | None = None

    def __post_init__(self):
        _text("name", self.name)
        object.__setattr__(self, "value", _threshold_value(self.value))
        check_choice("kind", self.kind, THRESHOLD_KINDS)
        _text("derivation", self.derivation, empty_ok=True)
        _text("justification", self.justification, empty_ok=True)
        if self.level is not None:
            object.__setattr__(self, "level", check_probability("level", self.level))
        if self.kind == "critical_value" and not self.derivation.strip():
            raise ValueError(f"threshold {self.name!r} of kind 'critical_value' needs a derivation")
        if self.kind == "margin" and not self.justification.strip():
            raise ValueError(f"threshold {self.name!r} of kind 'margin' needs a justification")

    def to_json(self) -> dict:
        out = {"name": self.name, "value": self.value, "kind": self.kind}
        if self.derivation:
            out["derivation"] = self.derivation
        if self.justification:
            out["justification"] = self.justification
        if self.level is not None:
            out["level"] = self.level
        return to_jsonable(out)


def critical_value(name: str, value, derivation: str, *, level: float | None = None) -> Threshold:
    """A derived threshold: :class:`Threshold` of kind ``critical_value``.

    Examples
    --------
    >>> critical_value("t", 2.35, "one-sided 95% Student t, 3 df").kind
    'critical_value'
    """
    return Threshold(name, value, "critical_value", derivation=derivation, level=level)


def margin(name: str, value, justification: str) -> Threshold:
    """A stated threshold: :class:`Threshold` of kind ``margin``.

    Examples
    --------
    >>> margin("margin", 0.01, "1 % of the spectrum is the resolution the claim asserts").value
    0.01
    """
    return Threshold(name, value, "margin", justification=justification)


def _thresholds(ts) -> tuple[Threshold, ...]:
    if ts is not None and (isinstance(ts, (str, bytes, Mapping)) or not isinstance(ts, Iterable)):
        raise TypeError(f"thresholds must be a sequence of Threshold records; got {type(ts).__name__}")
    ts = tuple(ts or ())
    for t in ts:
        if not isinstance(t, Threshold):
            raise TypeError(f"thresholds must be Threshold records; got {type(t).__name__}")
    return ts


def _real_or_nan(name: str, value, *, lo: float | None = None) -> float:
    """``value`` as a float: a finite real (``>= lo``) or NaN; infinities, bools and non-numbers raise."""
    dtype = getattr(value, "dtype", None)
    if getattr(value, "shape", None) == () and getattr(dtype, "kind", "x") in ("i", "u", "f"):
        value = float(value)  # a NumPy or JAX 0-d array
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isnan(float(value)):
        return math.nan
    return check_real(name, value, lo=lo)


def _threshold_value(value):
    """A threshold's value: a real (NaN or infinite allowed) or a pair of reals (returned as a tuple of floats)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return value.item()
    if isinstance(value, np.ndarray) and value.shape == (2,) and value.dtype.kind in "iuf":
        value = value.tolist()
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(check_real("value", v, allow_inf=True) if not (isinstance(v, numbers.Real) and
                                                                    math.isnan(float(v))) else math.nan
                     for v in value)
    raise TypeError(f"value must be a real number or a pair (lo, hi) of real numbers; got {type(value).__name__} "
                    f"{value!r:.80}")


def _text(name: str, value, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string; got {type(value).__name__} {value!r:.80}")
    if not empty_ok and not value.strip():
        raise ValueError(f"{name} must be a non-empty string; got {value!r}")
    return value


def _mapping(name: str, value) -> Mapping:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping (dict); got {type(value).__name__} {value!r:.80}")
    return value


def _band(band) -> tuple[float, float] | None:
    """A predicted region ``(lo, hi)``: two reals (infinite ends allowed: a half-line), ``lo <= hi``."""
    if band is None:
        return None
    if isinstance(band, (str, bytes, Mapping)) or not isinstance(band, Iterable):
        raise TypeError(f"band must be None or a pair (lo, hi) of numbers; got {type(band).__name__} {band!r:.80}")
    items = list(band)
    if len(items) != 2:
        raise ValueError(f"band must be a pair (lo, hi); got {len(items)} values {band!r:.80}")
    lo, hi = (check_real("band", b, allow_inf=True) for b in items)
    if lo > hi:
        raise ValueError(f"band must be an interval with lo <= hi; got {band!r}")
    return lo, hi


# ============================================================================= records


@dataclass(frozen=True)
class Prediction:
    """A predicted value or region, with the thresholds that define it.

    Every field is validated on construction (``ValueError``/``TypeError`` naming it).

    Attributes
    ----------
    value : float
        The point prediction: a finite number, or NaN when only a region is predicted.
    band : tuple of float or None
        The predicted region for the *measured statistic*: a predictive band (for a single
        draw), a critical region ``(0, critical value)``, an equivalence region
        ``value ± margin`` or a half-line ``(margin, inf)`` for a directional claim
        (``lo <= hi``; no NaN; infinite ends allowed). ``None`` for a point prediction judged
        by :func:`agrees_within_se` or :func:`equivalence`.
    level : float
        Coverage of ``band`` when it is a predictive band, in (0, 1) (0.95 unless stated,
        docs/design.md §3).
    details : dict
        Extra JSON-serialisable figures (method, law parameters, ...).
    thresholds : tuple of Threshold
        Every number of ``band`` or of the rule, with its derivation or justification.
    law : object, optional
        The hypothesised law (or any object the claim's ``statistic`` step needs); not written
        to ``claims.json``.
    density : callable, optional
        ``density(x)`` in the coordinates of the claim's figure, to overlay this hypothesis on
        it (the report draws rivals' densities over the claim's histogram); not written to JSON.
    """

    value: float
    band: tuple[float, float] | None = None
    level: float = 0.95
    details: Mapping[str, Any] = field(default_factory=dict)
    thresholds: tuple[Threshold, ...] = ()
    law: Any = field(default=None, compare=False, repr=False)
    density: Callable | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "value", _real_or_nan("value", self.value))
        object.__setattr__(self, "band", _band(self.band))
        object.__setattr__(self, "level", check_probability("level", self.level))
        object.__setattr__(self, "details", _mapping("details", self.details))
        object.__setattr__(self, "thresholds", _thresholds(self.thresholds))
        check_callable("density", self.density, none_ok=True)

    def to_json(self) -> dict:
        return to_jsonable(
            {
                "value": self.value,
                "band": self.band,
                "level": self.level,
                "details": dict(self.details),
                "thresholds": [t.to_json() for t in self.thresholds],
            }
        )


@dataclass(frozen=True)
class FigureData:
    """Data for one report figure; rendered by :mod:`rmt_sparsity.report.figures` (never here).

    ``kind`` is one of :data:`FIGURE_KINDS`, the renderers of
    :data:`rmt_sparsity.report.figures.RENDERERS`; ``data`` is a mapping. Kinds that
    draw a density over ``data["x"]`` also draw ``data["overlays"]`` (``{label: density}``),
    which the runner fills from the rivals' :attr:`Prediction.density`.
    """

    kind: str
    title: str
    data: Mapping[str, Any]

    def __post_init__(self):
        check_choice("kind", self.kind, FIGURE_KINDS)
        _text("title", self.title, empty_ok=True)
        _mapping("data", self.data)


@dataclass(frozen=True)
class ConvergenceRule:
    """The stated rule that says a trained network reached the regime a claim is about.

    The rule is part of the claim, the same for every profile, and fixed before any verdict
    is seen: a profile only sets the step cap within which the rule must be met.

    Attributes
    ----------
    max_train_loss : float
        Every member's final train loss must be at most this.
    min_weight_change : float
        Every member's relative weight change :math:`\\|W_T - W_0\\|_F / \\|W_0\\|_F`
        (:func:`relative_weight_change`) must be at least this: the weights moved, so the
        trained network is not its initialisation.
    justification : str
        Why these levels define "trained" for this claim.
    plateau_window : int
        If > 0, the train loss must also have plateaued: over the last ``plateau_window``
        recorded evaluations it fell by at most ``plateau_rtol`` relative to its value.
    plateau_rtol : float

    Examples
    --------
    >>> rule = ConvergenceRule(0.1, 0.05, "digits MSE: 0.1 is below the 0.45 of a constant predictor")
    >>> ev = rule.evidence(steps=400, train_loss=[0.05, 0.08], weight_change=[0.3, 0.2])
    >>> ev.reached, ev.reason
    (True, 'train loss max 0.08 <= 0.1 and weight change min 0.2 >= 0.05 over 2 members at 400 steps')
    >>> rule.evidence(steps=400, train_loss=[0.05, 0.3], weight_change=[0.3, 0.2]).reached
    False
    """

    max_train_loss: float
    min_weight_change: float
    justification: str
    plateau_window: int = 0
    plateau_rtol: float = 0.0

    def __post_init__(self):
        check_real("max_train_loss", self.max_train_loss, lo=0.0, lo_open=True, allow_inf=True)
        check_real("min_weight_change", self.min_weight_change, lo=0.0)
        check_int("plateau_window", self.plateau_window, min=0)
        check_real("plateau_rtol", self.plateau_rtol, lo=0.0)
        if not isinstance(self.justification, str):
            raise TypeError(f"justification must be a string; got {type(self.justification).__name__}")
        if not self.justification.strip():
            raise ValueError("ConvergenceRule needs a justification (why these levels mean 'trained')")

    def _plateaued(self, curve) -> bool:
        if self.plateau_window <= 0:
            return True
        c = np.asarray(curve, dtype=float)
        if c.size <= self.plateau_window:
            return False
        old, new = c[-1 - self.plateau_window], c[-1]
        return bool(old - new <= self.plateau_rtol * abs(old))

    def converged_at(self, steps, losses) -> int | None:
        """The first recorded step at which the loss rule (level and plateau) holds, or ``None``.

        ``steps`` and ``losses`` are one member's evaluation steps and train losses (a
        training loop that stops at the rule uses this to pick its steps).

        Examples
        --------
        >>> ConvergenceRule(0.5, 0.0, "toy").converged_at([0, 10, 20], [1.0, 0.4, 0.3])
        10
        """
        s = np.asarray(steps)
        loss = np.asarray(losses, dtype=float)
        for i in range(loss.size):
            if loss[i] <= self.max_train_loss and self._plateaued(loss[: i + 1]):
                return int(s[i])
        return None

    def evidence(self, *, steps, train_loss, weight_change, loss_curves=None) -> TrainingEvidence:
        """Judge members' final train losses and weight changes against the rule.

        Parameters
        ----------
        steps : int
            Steps trained (the profile's cap or the step where the rule stopped training).
        train_loss, weight_change : float or array_like
            One value per member (seed, arm).
        loss_curves : array_like, optional
            Train-loss curves (members × evaluations) for the plateau condition.
        """
        steps = check_int("steps", steps, min=0)
        loss = np.atleast_1d(np.asarray(train_loss, dtype=float))
        dw = np.atleast_1d(np.asarray(weight_change, dtype=float))
        if loss.size == 0 or dw.size == 0:
            raise ValueError("train_loss and weight_change must hold at least one member each")
        ok_loss = bool(np.all(np.isfinite(loss)) and np.max(loss) <= self.max_train_loss)
        ok_dw = bool(np.all(np.isfinite(dw)) and np.min(dw) >= self.min_weight_change)
        ok_plateau = True
        if self.plateau_window > 0:
            if loss_curves is None:
                ok_plateau = False
            else:
                ok_plateau = all(self._plateaued(c) for c in np.atleast_2d(np.asarray(loss_curves, dtype=float)))
        reached = ok_loss and ok_dw and ok_plateau
        desc = (f"train loss max {np.max(loss):.4g} {'<=' if ok_loss else '>'} {self.max_train_loss:g} and "
                f"weight change min {np.min(dw):.4g} {'>=' if ok_dw else '<'} {self.min_weight_change:g} "
                f"over {max(loss.size, dw.size)} members at {steps} steps")
        if self.plateau_window > 0:
            desc += f"; loss plateau over {self.plateau_window} evaluations: {'yes' if ok_plateau else 'no'}"
        return TrainingEvidence(steps=steps, train_loss=loss.tolist(), weight_change=dw.tolist(), rule=self,
                                reached=reached, reason=desc)

    def to_json(self) -> dict:
        return to_jsonable(dataclasses.asdict(self))


@dataclass(frozen=True)
class TrainingEvidence:
    """Evidence that training reached the regime a trained-network claim is about.

    Made by :meth:`ConvergenceRule.evidence`; attached to :attr:`Measurement.training`.
    When ``reached`` is False the runner turns the claim's verdict into
    ``inconclusive: not converged at N steps`` (:func:`training_gate`).
    """

    steps: int
    train_loss: Sequence[float]
    weight_change: Sequence[float]
    rule: ConvergenceRule
    reached: bool
    reason: str

    def to_json(self) -> dict:
        return to_jsonable({"steps": self.steps, "train_loss": list(self.train_loss),
                            "weight_change": list(self.weight_change), "rule": self.rule.to_json(),
                            "reached": self.reached, "reason": self.reason})


def relative_weight_change(init, trained) -> float:
    r"""Relative weight change :math:`\|W_T - W_0\|_F / \|W_0\|_F` over matching arrays.

    ``init`` and ``trained`` are arrays or sequences of arrays (e.g. every layer's weight
    matrix), paired in order; the norms are taken over all of them together. Entries must be
    finite real numbers (``ValueError``/``TypeError`` naming ``init`` or ``trained`` otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> relative_weight_change([np.ones((2, 2))], [np.full((2, 2), 1.5)])
    0.5
    """
    def arrays(name, value):
        if isinstance(value, (list, tuple)) and value and not isinstance(value[0], numbers.Number):
            return [check_array(f"{name}[{i}]", x, dtype=float) for i, x in enumerate(value)]
        return [check_array(name, value, dtype=float)]

    a, b = arrays("init", init), arrays("trained", trained)
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        raise ValueError(f"init and trained must hold arrays of the same shapes; got {[x.shape for x in a]} "
                         f"and {[y.shape for y in b]}")
    num = math.sqrt(sum(float(np.sum((y - x) ** 2)) for x, y in zip(a, b)))
    den = math.sqrt(sum(float(np.sum(x**2)) for x in a))
    if den == 0:
        raise ValueError("init has zero norm: the relative change is undefined")
    return num / den


@dataclass(frozen=True)
class Measurement:
    """A measured value with its standard error and sample count.

    Attributes
    ----------
    value : float
        A finite number, or NaN: a raw measurement whose statistic is computed later (the
        draws are in ``raw``), or a quantity that could not be measured (the rules judge it
        ``inconclusive``). Infinities are refused.
    se : float or None
        Standard error of ``value`` (Monte-Carlo or across seeds), a finite number >= 0;
        ``None`` when the measurement is a single draw compared against a predictive band.
        NaN only where no spread can be estimated: ``n < 2`` (as
        :func:`rmt_sparsity._stats.mean_se` gives) or a NaN ``value``.
    n : int
        Number of independent units behind ``value`` (matrices, seeds, draws), >= 1; a
        mean over seeds uses a Student t interval with ``n - 1`` degrees of freedom.
        ``n = 0`` only with a NaN ``value`` (nothing was measured).
    details : dict
        Extra JSON-serialisable figures.
    figures : tuple of FigureData
        Figures for the report; excluded from ``claims.json``.
    raw : object, optional
        The raw draws a law-dependent ``statistic`` step reads (eigenvalues, ...);
        excluded from ``claims.json``.
    training : TrainingEvidence, optional
        For trained-network claims: did training reach its regime?
    """

    value: float
    se: float | None = None
    n: int = 1
    details: Mapping[str, Any] = field(default_factory=dict)
    figures: tuple[FigureData, ...] = ()
    raw: Any = field(default=None, compare=False, repr=False)
    training: TrainingEvidence | None = None

    def __post_init__(self):
        value = _real_or_nan("value", self.value)
        n = check_int("n", self.n, min=0)
        if n == 0 and not math.isnan(value):
            raise ValueError(f"n must be an integer >= 1 for a measured value; got 0 with value {value!r} "
                             "(n = 0 means nothing was measured: value NaN)")
        se = self.se
        if se is not None:
            se = _real_or_nan("se", se, lo=0.0)
            if math.isnan(se) and n >= 2 and not math.isnan(value):
                raise ValueError(f"se must be a finite number >= 0 for a value from n = {n} units; got nan")
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "se", se)
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "details", _mapping("details", self.details))
        figures = self.figures
        if isinstance(figures, (str, bytes, Mapping, FigureData)) or not isinstance(figures, Iterable):
            raise TypeError(f"figures must be a sequence of FigureData; got {type(figures).__name__}")
        figures = tuple(figures)
        for f in figures:
            if not isinstance(f, FigureData):
                raise TypeError(f"figures must hold FigureData records; got {type(f).__name__}")
        object.__setattr__(self, "figures", figures)
        if self.training is not None and not isinstance(self.training, TrainingEvidence):
            raise TypeError(f"training must be None or TrainingEvidence; got {type(self.training).__name__}")

    def to_json(self) -> dict:
        out = {"value": self.value, "se": self.se, "n": self.n, "details": dict(self.details)}
        return to_jsonable(out)


@dataclass(frozen=True)
class Verdict:
    """Outcome of comparing a prediction with a measurement.

    ``status`` is one of :data:`VERDICTS`; ``reason`` says why in one sentence with figures;
    ``thresholds`` are the numbers the rule used (beyond the prediction's own); ``alpha`` is
    the rule's false-fail probability bound when the prediction is true (``None`` when the
    rule does not state one).
    """

    status: str
    reason: str = ""
    thresholds: tuple[Threshold, ...] = ()
    alpha: float | None = None

    def __post_init__(self):
        check_choice("status", self.status, VERDICTS)
        object.__setattr__(self, "thresholds", _thresholds(self.thresholds))

    def to_json(self) -> dict:
        out = {"status": self.status, "reason": self.reason}
        if self.thresholds:
            out["thresholds"] = [t.to_json() for t in self.thresholds]
        if self.alpha is not None:
            out["alpha"] = self.alpha
        return to_jsonable(out)


@dataclass(frozen=True)
class Rival:
    """A nearest plausible wrong model of a claim, judged by the claim's own rule.

    ``predict(config) -> Prediction`` gives the rival's value or region (and, for a
    law-dependent statistic, its ``law``); the runner measures once and judges the rival
    with the claim's ``statistic`` and ``compare`` on the same raw measurement.

    Examples
    --------
    >>> r = Rival("no effect", lambda cfg: Prediction(0.0, (0.0, 0.0)), "the treatment does nothing")
    >>> r.predict({}).band
    (0.0, 0.0)
    """

    name: str
    predict: Callable[[Mapping[str, Any]], Prediction]
    description: str = ""

    def __post_init__(self):
        _text("name", self.name)
        check_callable("predict", self.predict)
        _text("description", self.description, empty_ok=True)


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
        ``compare(prediction, measurement) -> Verdict``; also judges every rival.
    profiles : mapping
        ``{profile: config}``; a profile missing here runs the claim with the
        next smaller profile's config.
    kind : str
        One of :data:`KINDS`: ``"theorem"`` (RMT), ``"heuristic"`` (the paper's
        approximations), ``"empirical"`` (effects on trained networks),
        ``"performance"`` (timings; excluded from determinism) or ``"identity"``
        (true by construction: reported apart, outside the pass/fail tally).
    rivals : sequence of Rival
        The nearest plausible wrong models; a claim passes only when every rival fails.
    statistic : callable, optional
        ``statistic(prediction, measurement) -> Measurement``: the statistic of a raw
        measurement *against a hypothesis* (a KS distance of the ESD in
        ``measurement.raw`` to ``prediction.law``...). Applied to the claim's prediction
        and to each rival's on the same raw measurement. ``None``: the measurement is the
        statistic.
    fixtures : tuple of str
        Shared fixtures the claim reads (:mod:`rmt_sparsity.experiments.fixtures`);
        when given, ``measure`` is called as ``measure(config, rng, fixtures={id: FixtureResult})``.
    """

    id: str
    statement: str
    source: str
    predict: Callable[[Mapping[str, Any]], Prediction]
    measure: Callable[[Mapping[str, Any], np.random.Generator], Measurement]
    compare: Callable[[Prediction, Measurement], Verdict]
    profiles: Mapping[str, Mapping[str, Any]]
    kind: str = "theorem"
    rivals: Sequence[Rival] = ()
    statistic: Callable[[Prediction, Measurement], Measurement] | None = None
    fixtures: tuple[str, ...] = ()

    def __post_init__(self):
        _text("id", self.id)
        if not _CLAIM_ID.fullmatch(self.id):
            raise ValueError(f"id must be lower_snake_case (letters, digits, '_'; a letter first); got {self.id!r}")
        _text("statement", self.statement)
        _text("source", self.source)
        check_callable("predict", self.predict)
        check_callable("measure", self.measure)
        check_callable("compare", self.compare)
        check_callable("statistic", self.statistic, none_ok=True)
        _mapping("profiles", self.profiles)
        for p, cfg in self.profiles.items():
            check_choice("profiles", p, PROFILES)
            _mapping(f"profiles[{p!r}]", cfg)
        check_choice("kind", self.kind, KINDS)
        for name in ("rivals", "fixtures"):
            v = getattr(self, name)
            if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, Iterable):
                raise TypeError(f"claim {self.id!r}: {name} must be a sequence; got {type(v).__name__} {v!r:.80}")
        for f in self.fixtures:
            _text("fixtures", f)
        rivals = tuple(self.rivals)
        for r in rivals:
            if not isinstance(r, Rival):
                raise TypeError(f"claim {self.id!r}: rivals must be Rival records; got {type(r).__name__}")
        names = [r.name for r in rivals]
        if len(set(names)) != len(names):
            raise ValueError(f"claim {self.id!r}: duplicate rival names {names}")
        object.__setattr__(self, "rivals", rivals)
        object.__setattr__(self, "fixtures", tuple(self.fixtures))

    def runs_in(self, profile: str) -> bool:
        """Whether a run of every claim under ``profile`` includes this one: ``profiles`` defines ``profile`` or a
        smaller one. A claim defined only for larger profiles (e.g. one that reads arms only the full grid trains)
        is left out of smaller runs instead of being reported as inconclusive there."""
        check_choice("profile", profile, PROFILES)
        return any(p in self.profiles for p in PROFILES[: PROFILES.index(profile) + 1])

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

    def evaluate(self, prediction: Prediction, measurement: Measurement) -> Measurement:
        """The statistic of ``measurement`` against ``prediction`` (the measurement itself without a ``statistic`` step)."""
        if self.statistic is None:
            return measurement
        out = self.statistic(prediction, measurement)
        if not isinstance(out, Measurement):
            raise TypeError(f"statistic of claim {self.id!r} returned {type(out).__name__}, not Measurement")
        return out

    def judge(self, prediction: Prediction, measurement: Measurement) -> tuple[Measurement, Verdict]:
        """``(statistic, verdict)`` of one hypothesis on a raw measurement (the claim's or a rival's)."""
        stat = self.evaluate(prediction, measurement)
        verdict = self.compare(prediction, stat)
        if not isinstance(verdict, Verdict):
            raise TypeError(f"compare of claim {self.id!r} returned {type(verdict).__name__}, not Verdict")
        return stat, verdict


# ============================================================================= combination


def combine_verdicts(theory: Verdict, rivals: Mapping[str, Verdict]) -> Verdict:
    """The claim's verdict from the theory's and its rivals' (same rule, same measurement).

    * the theory ``fail``/``inconclusive``/``skipped``/``not_implemented``: that verdict;
    * the theory ``pass`` and some rival ``pass``: ``inconclusive``, "cannot discriminate
      from RIVAL at this size";
    * the theory ``pass`` and some rival ``inconclusive`` (none passes): ``inconclusive``;
    * the theory ``pass`` and every rival ``fail``: ``pass``.

    Examples
    --------
    >>> ok, bad = Verdict("pass", "in band"), Verdict("fail", "out")
    >>> combine_verdicts(ok, {"Kish MP": bad}).status
    'pass'
    >>> v = combine_verdicts(ok, {"Kish MP": Verdict("pass", "in band too")})
    >>> v.status, v.reason.split(";")[0]
    ('inconclusive', 'cannot discriminate from Kish MP at this size')
    >>> combine_verdicts(bad, {"Kish MP": ok}).status
    'fail'
    """
    if not isinstance(theory, Verdict):
        raise TypeError(f"theory must be a Verdict; got {type(theory).__name__} {theory!r:.80}")
    _mapping("rivals", rivals)
    for name, v in rivals.items():
        if not isinstance(v, Verdict):
            raise TypeError(f"rivals must map names to Verdicts; rivals[{name!r}] is {type(v).__name__}")
    if not rivals:
        return theory
    summary = "rivals: " + ", ".join(f"{name} {v.status}" for name, v in rivals.items())
    if theory.status != "pass":
        return Verdict(theory.status, f"{theory.reason}; {summary}", theory.thresholds, theory.alpha)
    passing = [n for n, v in rivals.items() if v.status == "pass"]
    if passing:
        return Verdict("inconclusive", f"cannot discriminate from {', '.join(passing)} at this size; "
                       f"theory: {theory.reason}; {summary}", theory.thresholds, theory.alpha)
    undecided = [n for n, v in rivals.items() if v.status != "fail"]
    if undecided:
        return Verdict("inconclusive", f"cannot discriminate from {', '.join(undecided)} at this size "
                       f"(rival not rejected); theory: {theory.reason}; {summary}", theory.thresholds, theory.alpha)
    return Verdict("pass", f"{theory.reason}; every rival fails ({summary})", theory.thresholds, theory.alpha)


def training_gate(verdict: Verdict, evidence: TrainingEvidence | None) -> Verdict:
    """``verdict`` unless training did not reach its regime: then ``inconclusive: not converged at N steps``.

    Examples
    --------
    >>> rule = ConvergenceRule(0.1, 0.0, "toy")
    >>> training_gate(Verdict("pass", "ok"), rule.evidence(steps=50, train_loss=0.5, weight_change=1.0)).reason[:30]
    'not converged at 50 steps (tra'
    """
    if not isinstance(verdict, Verdict):
        raise TypeError(f"verdict must be a Verdict; got {type(verdict).__name__} {verdict!r:.80}")
    if evidence is not None and not isinstance(evidence, TrainingEvidence):
        raise TypeError(f"evidence must be None or TrainingEvidence; got {type(evidence).__name__} {evidence!r:.80}")
    if evidence is None or evidence.reached:
        return verdict
    return Verdict("inconclusive", f"not converged at {evidence.steps} steps ({evidence.reason}); the rule said "
                   f"{verdict.status}: {verdict.reason}", verdict.thresholds, verdict.alpha)


def no_effect_rival(margin_threshold: Threshold | float = 0.0, *, name: str = "no effect",
                    description: str = "the treatment does nothing: the paired effect is 0 "
                    "(within the claim's margin)") -> Rival:
    """The rival "no effect" (or "no trend") of a directional claim: the effect lies in ``[-m, m]``.

    Judged by the claim's interval rule: it fails when the confidence interval excludes
    ``[-m, m]``, so a directional claim that clears its margin beats it. ``m = 0`` (the
    default) is the plain null: the rival fails when the interval excludes 0.

    Examples
    --------
    >>> r = no_effect_rival()
    >>> within_band(r.predict({}), Measurement(0.05, 0.01, 8)).status
    'fail'
    >>> within_band(r.predict({}), Measurement(0.01, 0.01, 8)).status
    'inconclusive'
    """
    thr = margin_threshold if isinstance(margin_threshold, Threshold) else None
    m = check_real("margin_threshold", thr.value if thr is not None else margin_threshold, lo=0.0)
    _text("name", name)
    _text("description", description, empty_ok=True)

    def predict(config):
        return Prediction(0.0, (-m, m), details={"rival": name}, thresholds=(thr,) if thr is not None else ())

    return Rival(name, predict, description)


# ============================================================================= shared predictions


def coverage_prediction(m: int, coverage: float, details: Mapping[str, Any]) -> Prediction:
    r"""The prediction that a fraction ``coverage`` of ``m`` independent draws falls in a band of that coverage.

    If a per-draw band (an edge-law band, a null band) is right, the number of
    draws inside it is Binomial(m, coverage); the predicted value is
    ``coverage`` and its band the central 95 % interval of the observed
    fraction, :func:`rmt_sparsity._stats.binomial_band` (exact binomial
    quantiles). Judge it with :func:`within_band`. ``m`` is at most ``10**12`` (beyond
    that the exact quantiles are out of reach of double precision); ``coverage`` lies in (0, 1).

    Examples
    --------
    >>> p = coverage_prediction(6, 0.95, {"statistic": "fraction of 6 matrices in their band"})
    >>> p.value, p.band, p.level
    (0.95, (0.6666666666666666, 1.0), 0.95)
    >>> p.thresholds[0].kind
    'critical_value'
    """
    m = check_int("m", m, min=1, max=_MAX_DRAWS)
    coverage = check_probability("coverage", coverage)
    details = _mapping("details", details)
    lo, hi = binomial_band(m, coverage)
    thr = critical_value("binomial_band", (lo, hi),
                         f"central 95 % interval of X/m, X ~ Binomial(m = {m}, {coverage:g}) (exact quantiles)",
                         level=0.95)
    return Prediction(value=coverage, band=(lo, hi), level=0.95, details=details, thresholds=(thr,))


#: Largest number of draws :func:`coverage_prediction` takes (exact binomial quantiles stay accurate below it).
_MAX_DRAWS = 10**12


# ============================================================================= rules


@functools.lru_cache(maxsize=256)
def _t_quantile(level: float, df: int) -> float:
    from scipy.stats import t

    return float(t.ppf(level, df))


def ci_multiplier(n: int, alpha: float = ALPHA) -> float:
    r"""The one-sided multiplier :math:`q = t_{1-\alpha,\,n-1}` of the rules' intervals (normal for large ``n``).

    The interval :math:`v \pm q\,\mathrm{SE}` is a two-sided :math:`1 - 2\alpha`
    interval; each of its one-sided tests has level :math:`\alpha` (Schuirmann's
    two one-sided tests). ``n`` is the number of independent units behind the SE
    (seeds); :math:`n < 2` gives ``inf`` (no estimate of the spread).

    Examples
    --------
    >>> round(ci_multiplier(8), 4)        # t_{0.95, 7}
    1.8946
    >>> round(ci_multiplier(10**6), 3)    # normal
    1.645
    """
    n = check_int("n", n, min=1)
    alpha = check_probability("alpha", alpha)
    return _t_quantile(1.0 - alpha, n - 1) if n > 1 else math.inf


def confidence_interval(meas: Measurement, *, alpha: float = ALPHA, k: float | None = None,
                        extra_se: float = 0.0) -> tuple[float, float, float, float]:
    """``(lo, hi, q, se)``: the measurement's interval ``v ± q·se`` (a point when ``se`` is None).

    ``q`` is ``k`` when given, else :func:`ci_multiplier` ``(meas.n, alpha)``; ``extra_se`` (a
    prediction's own standard error) is added in quadrature.

    Examples
    --------
    >>> [round(x, 4) for x in confidence_interval(Measurement(1.0, 0.1, 10**6))[:2]]
    [0.8355, 1.1645]
    >>> confidence_interval(Measurement(1.0))
    (1.0, 1.0, 0.0, 0.0)
    """
    v = float(meas.value)
    extra_se = check_real("extra_se", extra_se, lo=0.0)
    if meas.se is None and extra_se == 0.0:
        return v, v, 0.0, 0.0
    se = math.hypot(0.0 if meas.se is None else float(meas.se), extra_se)
    if se == 0.0:  # an exact value: the interval is the point
        return v, v, 0.0, 0.0
    if k is None:
        q = ci_multiplier(max(int(meas.n), 1), alpha)
    else:
        q = check_real("k", k, lo=0.0, lo_open=True)
    return v - q * se, v + q * se, q, se


def _q_threshold(q: float, meas: Measurement, alpha: float, k) -> tuple[Threshold, ...]:
    if q == 0.0 or not meas.se:  # a point (no SE, or an exact value with SE 0): no multiplier is used
        return ()
    if k is not None:
        return (critical_value("ci_multiplier", q, f"stated multiplier k = {q:g} of the standard error"),)
    return (critical_value("ci_multiplier", q, f"one-sided {1 - alpha:.0%} Student t quantile t_(1-alpha, n-1) "
                           f"with n = {meas.n} independent units (a {1 - 2 * alpha:.0%} two-sided interval)",
                           level=1 - alpha),)


def _region_verdict(lo, hi, ilo, ihi, desc, thresholds, alpha) -> Verdict:
    if lo <= ilo and ihi <= hi:
        return Verdict("pass", desc, thresholds, alpha)
    if ihi < lo or ilo > hi:
        return Verdict("fail", desc, thresholds, alpha)
    return Verdict("inconclusive", desc + "; the interval straddles an edge of the region", thresholds, alpha)


def within_band(pred: Prediction, meas: Measurement, *, k: float | None = None, alpha: float = ALPHA) -> Verdict:
    r"""Region rule: is the measurement's interval inside the predicted region ``pred.band``?

    With :math:`I = [v - q\,\mathrm{SE}, v + q\,\mathrm{SE}]` (:func:`confidence_interval`;
    :math:`I = \{v\}` for a single draw, ``se=None``) and :math:`R` = ``pred.band``:

    * ``pass`` if :math:`I \subseteq R`;
    * ``fail`` if :math:`I \cap R = \emptyset`;
    * ``inconclusive`` otherwise, or when the measurement is not finite.

    ``q = t_{1-alpha, n-1}`` by default (``k`` overrides it). A single draw against a
    predictive band of coverage ``level`` fails by chance with probability ``1 - level``;
    an interval fails by chance with probability at most ``alpha`` when the true value is in
    ``R``. A half-line ``(m, inf)`` is a directional claim: it fails when the effect is
    significantly below ``m`` (in particular, significantly in the wrong direction).

    Examples
    --------
    >>> within_band(Prediction(1.0, (0.9, 1.1)), Measurement(1.05, 0.01, 8)).status
    'pass'
    >>> within_band(Prediction(1.0, (0.9, 1.1)), Measurement(1.5, 0.01, 8)).status
    'fail'
    >>> within_band(Prediction(1.0, (0.9, 1.1)), Measurement(1.05, 1.0, 8)).status
    'inconclusive'
    >>> within_band(Prediction(float("nan"), (0.0, math.inf)), Measurement(-3.0, 1.0, 8)).status   # -3 SE
    'fail'
    """
    _records(pred, meas)
    if pred.band is None:
        raise ValueError("within_band needs a prediction with a band (pred.band is None)")
    alpha = check_probability("alpha", alpha)
    if k is not None:
        k = check_real("k", k, lo=0.0, lo_open=True)
    lo, hi = (float(b) for b in pred.band)
    if math.isnan(lo) or math.isnan(hi) or lo > hi:
        raise ValueError(f"pred.band must be an interval (lo <= hi); got {pred.band!r}")
    v = float(meas.value)
    se = None if meas.se is None else float(meas.se)
    if not math.isfinite(v) or (se is not None and not (math.isfinite(se) and se >= 0)):
        return Verdict("inconclusive", f"measurement is not usable (value={v}, se={se})")
    if se and meas.n < 2 and k is None:  # se = 0 is an exact value: a point, whatever n
        return Verdict("inconclusive", f"measured {v:.6g} (se {se:.3g}) from n = {meas.n} unit: no interval")
    ilo, ihi, q, _ = confidence_interval(meas, alpha=alpha, k=k)
    if not se:
        desc = f"measured {v:.6g} vs {pred.level:.0%} band [{lo:.6g}, {hi:.6g}]"
        a = round(1.0 - float(pred.level), 12) if pred.level < 1 else None
    else:
        desc = (f"measured {v:.6g} ± {se:.3g} (interval [{ilo:.6g}, {ihi:.6g}], q = {q:.3g}) vs region "
                f"[{lo:.6g}, {hi:.6g}]")
        a = alpha
    return _region_verdict(lo, hi, ilo, ihi, desc, _q_threshold(q, meas, alpha, k), a)


def equivalence(pred: Prediction, meas: Measurement, *, margin: Threshold | float, alpha: float = ALPHA,
                pred_se: float = 0.0, relative: bool = False) -> Verdict:
    r"""Equivalence test of a measurement with a point prediction, against a stated margin.

    The region is :math:`[p - m, p + m]` (:math:`m` relative to :math:`|p|` when
    ``relative``); the interval is :math:`v \pm q\sqrt{\mathrm{SE}^2 + \mathrm{SE}_p^2}` with
    :math:`q = t_{1-\alpha, n-1}`. ``pass`` when the interval lies inside the region (the two
    one-sided tests, Schuirmann 1987), ``fail`` when it lies outside, ``inconclusive``
    otherwise.

    Examples
    --------
    >>> m = margin("margin", 0.05, "5 % is the resolution the claim asserts")
    >>> equivalence(Prediction(1.0), Measurement(1.01, 0.01, 8), margin=m).status
    'pass'
    >>> equivalence(Prediction(1.0), Measurement(1.2, 0.01, 8), margin=m).status
    'fail'
    >>> equivalence(Prediction(1.0), Measurement(1.04, 0.05, 8), margin=m).status
    'inconclusive'
    """
    _records(pred, meas)
    thr = margin if isinstance(margin, Threshold) else None
    mv = check_real("margin", thr.value if thr is not None else margin, lo=0.0)
    alpha = check_probability("alpha", alpha)
    pred_se = check_real("pred_se", pred_se, lo=0.0)
    if not isinstance(relative, (bool, np.bool_)):
        raise TypeError(f"relative must be a bool; got {type(relative).__name__} {relative!r:.80}")
    p = float(pred.value)
    if not math.isfinite(p):
        raise ValueError(f"equivalence needs a finite point prediction; got {p!r}")
    half = mv * abs(p) if relative else mv
    v = float(meas.value)
    se = None if meas.se is None else float(meas.se)
    if not math.isfinite(v) or (se is not None and not math.isfinite(se)):
        return Verdict("inconclusive", f"measurement is not usable (value={v}, se={se})")
    if se is None and pred_se == 0.0:
        return Verdict("inconclusive", f"measured {v:.6g} has no standard error: equivalence cannot be shown")
    ilo, ihi, q, tot = confidence_interval(meas, alpha=alpha, extra_se=pred_se)
    ts = ((thr,) if thr is not None else ()) + _q_threshold(q, meas, alpha, None)
    desc = (f"measured {v:.6g} ± {tot:.3g} (interval [{ilo:.6g}, {ihi:.6g}], q = {q:.3g}) vs predicted "
            f"{p:.6g} ± margin {half:.3g}")
    return _region_verdict(p - half, p + half, ilo, ihi, desc, ts, alpha)


def agrees_within_se(pred: Prediction, meas: Measurement, *, k: float = 4.0, pred_se: float = 0.0,
                     margin: Threshold | float | None = None) -> Verdict:
    r"""Point rule: agreement within ``k`` standard errors, judged against a stated margin.

    With :math:`\tau = \sqrt{\mathrm{SE}^2 + \mathrm{SE}_p^2}` and :math:`z = |v - p|/\tau`:

    * ``fail`` if :math:`z > k` (a significant disagreement; ``k = 4`` keeps the false-fail
      rate below 1e-4 for normal errors);
    * ``pass`` if :math:`z \le k` and :math:`|v - p| + k\tau \le m`, the stated margin: the
      agreement is both non-significant and precise enough to matter;
    * ``inconclusive`` otherwise: no margin stated, an uncertainty larger than the margin,
      or no usable standard error.

    Examples
    --------
    >>> agrees_within_se(Prediction(1.0), Measurement(1.001, 0.001), margin=0.05).status
    'pass'
    >>> agrees_within_se(Prediction(1.0), Measurement(1.2, 0.01), margin=0.05).status
    'fail'
    >>> agrees_within_se(Prediction(1.0), Measurement(1.01, 0.1), margin=0.05).status   # a large SE never passes
    'inconclusive'
    """
    _records(pred, meas)
    k = check_real("k", k, lo=0.0, lo_open=True)
    pred_se = check_real("pred_se", pred_se, lo=0.0)
    thr = margin if isinstance(margin, Threshold) else None
    m = None if margin is None else check_real("margin", thr.value if thr is not None else margin, lo=0.0)
    v, p = float(meas.value), float(pred.value)
    if meas.se is None or not math.isfinite(float(meas.se)) or not math.isfinite(v):
        return Verdict("inconclusive", f"measured {v:.6g} has no usable standard error")
    tot = math.hypot(float(meas.se), pred_se)
    z = abs(v - p) / tot if tot > 0 else (0.0 if v == p else math.inf)
    ts = ((thr,) if thr is not None else ()) + (critical_value(
        "z_max", k, f"|z| <= {k:g}: two-sided normal tail {2 * _norm_sf(k):.2g} (false-fail rate under the prediction)"),)
    desc = f"measured {v:.6g} ± {tot:.3g} vs predicted {p:.6g} (|z| = {z:.2f}, k = {k:g})"
    a = 2 * _norm_sf(k)
    if z > k:
        return Verdict("fail", desc, ts, a)
    if m is None:
        return Verdict("inconclusive", desc + "; no margin stated, so agreement alone cannot pass", ts, a)
    if abs(v - p) + k * tot <= m:
        return Verdict("pass", desc + f"; |v - p| + k·se = {abs(v - p) + k * tot:.3g} <= margin {m:.3g}", ts, a)
    return Verdict("inconclusive", desc + f"; |v - p| + k·se = {abs(v - p) + k * tot:.3g} > margin {m:.3g}", ts, a)


def _norm_sf(x: float) -> float:
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def paired_effect(pred: Prediction, meas: Measurement, *, alpha: float = ALPHA) -> Verdict:
    r"""Directional rule for a mean paired effect over ``n`` seeds (the prediction is "effect > m").

    The region is ``pred.band`` (``(m, inf)``; ``(0, inf)`` for "effect > 0") and the
    interval :math:`v \pm t_{1-\alpha,\,n-1}\,\mathrm{SE}` of the paired differences
    (:func:`within_band`):

    * ``pass`` if the interval lies above ``m``; ``fail`` if it lies below ``m`` (in
      particular when the effect is significantly in the wrong direction);
      ``inconclusive`` otherwise;
    * ``inconclusive`` without a finite SE, or when ``meas.details["accuracy_matched"]``
      is ``False`` (the effect was not obtained at matched accuracy; ``accuracy_note`` says why).

    ``meas.details["summary"]`` is appended to the reason.

    Examples
    --------
    >>> pred = Prediction(float("nan"), (0.0, math.inf))
    >>> paired_effect(pred, Measurement(0.05, 0.01, 3)).status
    'pass'
    >>> paired_effect(pred, Measurement(0.05, 0.02, 3)).status   # 0.05 - 2.92 x 0.02 < 0
    'inconclusive'
    >>> paired_effect(pred, Measurement(-0.03, 0.01, 8)).status  # -3 SE: significantly the wrong way
    'fail'
    """
    _records(pred, meas)
    alpha = check_probability("alpha", alpha)
    v, se, n = float(meas.value), meas.se, int(meas.n)
    extra = meas.details.get("summary", "")
    if se is None or not math.isfinite(float(se)) or not math.isfinite(v) or n < 2:
        return Verdict("inconclusive", f"no usable standard error (n = {n}); {extra}")
    if meas.details.get("accuracy_matched") is False:
        return Verdict("inconclusive", f"accuracy not matched: {meas.details['accuracy_note']}; {extra}")
    band = pred.band if pred.band is not None else (0.0, math.inf)
    v0 = within_band(dataclasses.replace(pred, band=band), meas, alpha=alpha)
    q = ci_multiplier(n, alpha)
    desc = f"paired effect {v:+.4f} ± {float(se):.2g} (SE, n = {n} seeds, t = {q:.2f}) vs region {_fmt_region(band)}; {extra}"
    if v0.status == "inconclusive":
        desc += "; interval includes the region's edge"
    return Verdict(v0.status, desc, v0.thresholds, v0.alpha)


def _records(pred, meas) -> None:
    """The rules' arguments: a :class:`Prediction` and a :class:`Measurement` (``TypeError`` otherwise)."""
    if not isinstance(pred, Prediction):
        raise TypeError(f"pred must be a Prediction; got {type(pred).__name__} {pred!r:.80}")
    if not isinstance(meas, Measurement):
        raise TypeError(f"meas must be a Measurement; got {type(meas).__name__} {meas!r:.80}")


def _fmt_region(band) -> str:
    lo, hi = band
    return f"({lo:g}, {hi:g})"


def replace_prediction(claim: Claim, predict: Callable) -> Claim:
    """A copy of ``claim`` with another ``predict`` and no rivals (used to test that wrong predictions fail)."""
    return dataclasses.replace(claim, predict=predict, rivals=())
