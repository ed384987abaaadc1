r"""Monte-Carlo critical values at a claim's own sizes and seed count, with a precomputed table.

A distance between a measured spectrum and a law (the KS distance of an ESD to MP, the
Wasserstein-1 distance of a discounted covariance's ESD to the weighted MP law...) is not
judged against an iid critical value: eigenvalues repel, so an ESD fluctuates far less than
an iid sample of the same size, and a finite-size bias adds to it. The critical value is the
:math:`1-\alpha` quantile of the statistic's sampling distribution **at the claim's own sizes
and seed count**, under the hypothesis being judged (the claim's law or a rival's), drawn
with the library's samplers of the canonical random-matrix model whose limit that law is
(Dumitriu-Edelman tridiagonal Laguerre matrices for MP, Gaussian weighted sample covariances
for the weighted MP law, ...).

The quantile is the order statistic :math:`D_{(\lceil (1-\alpha)(R+1) \rceil)}` of ``R``
independent draws (so that a new draw exceeds it with probability at most :math:`\alpha`),
with the distribution-free 95 % interval of that quantile from the binomial law of the
order statistics recorded beside it.

Draws too slow for every run are precomputed into ``data/null_quantiles.json`` by
``data/make_null_quantiles.py``, keyed by claim, hypothesis, statistic, sizes and seed
count (:attr:`NullSpec.key`); each entry is regenerated bit for bit from its key (the seed
is a hash of the key). A configuration absent from the table (an override, an installation
without the source tree) is computed in the run, and the threshold's ``derivation`` says so.

Examples
--------
>>> import numpy as np
>>> spec = NullSpec("doc", "theory", "max of 10 uniforms", {"m": 10},
...                 lambda g: float(g.random(10).max()), draws=999, sampler="numpy uniform")
>>> thr = null_critical_value(spec, alpha=0.05, use_table=False)
>>> thr.kind, 0.99 < thr.value < 1.0          # the exact 95 % quantile is 0.95**0.1 = 0.9949
('critical_value', True)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import check_callable, check_int, check_probability, check_size_budget
from .claims import Threshold, _mapping, _text, critical_value
from .store import canonical_json

__all__ = ["NullSpec", "null_critical_value", "null_band", "simulate_null", "summarize_null", "TABLE_PATH",
           "load_table", "recording", "LEVELS"]

#: Where the precomputed table lives (the source tree's ``data/``).
TABLE_PATH = Path(__file__).resolve().parents[2] / "data" / "null_quantiles.json"

#: Quantile levels stored for every entry: lower tails (for two-sided bands) and upper tails 1 - alpha.
LEVELS = (0.005, 0.025, 0.05, 0.5, 0.95, 0.975, 0.99, 0.995)

_TABLE: dict | None = None
_RECORDING: list | None = None

#: Most replicates one null may ask for: each is a Python-level simulation (the shipped tables use 100-1000).
MAX_DRAWS = 10**7


@dataclass(frozen=True)
class NullSpec:
    """One null distribution: a statistic under a hypothesis at a claim's sizes.

    Attributes
    ----------
    claim : str
        Claim id.
    hypothesis : str
        ``"theory"`` or the rival's name.
    statistic : str
        What is computed (e.g. "KS distance of the ESD pooled over 10 matrices to MP(c)").
    sizes : mapping
        Every config entry the null depends on (sizes, seed count, law parameters): the key.
    draw : callable
        ``draw(rng) -> float``: one replicate of the statistic under the hypothesis.
    draws : int
        Number of replicates ``R`` for the table (and for a computation in the run).
    sampler : str
        How a replicate is drawn (for the derivation).
    """

    claim: str
    hypothesis: str
    statistic: str
    sizes: Mapping[str, Any]
    draw: Callable[[np.random.Generator], float] = field(compare=False, repr=False)
    draws: int = 1000
    sampler: str = ""

    def __post_init__(self):
        for name in ("claim", "hypothesis", "statistic"):
            _text(name, getattr(self, name))
        _mapping("sizes", self.sizes)
        check_callable("draw", self.draw)
        draws = check_int("draws", self.draws, min=1)
        check_size_budget("draws", draws, iterations=draws, max_iterations=MAX_DRAWS, what="null replicates")
        _text("sampler", self.sampler, empty_ok=True)
        object.__setattr__(self, "draws", draws)

    @property
    def key(self) -> str:
        """Canonical JSON of (claim, hypothesis, statistic, sizes, draws): the table key."""
        return canonical_json({"claim": self.claim, "hypothesis": self.hypothesis, "statistic": self.statistic,
                               "sizes": dict(self.sizes), "draws": int(self.draws)})

    def seed(self) -> np.random.SeedSequence:
        """The seed of the replicates: a function of :attr:`key` only."""
        digest = hashlib.sha256(self.key.encode()).digest()
        return np.random.SeedSequence([int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)])


def simulate_null(spec: NullSpec, draws: int | None = None) -> np.ndarray:
    """The ``R`` replicates of ``spec`` (deterministic: seeded from its key), in draw order.

    Examples
    --------
    >>> spec = NullSpec("doc", "theory", "uniform", {}, lambda g: float(g.random()), draws=50)
    >>> bool(np.array_equal(simulate_null(spec), simulate_null(spec)))
    True
    """
    r = check_int("draws", spec.draws if draws is None else draws, min=20)
    gens = [np.random.default_rng(s) for s in spec.seed().spawn(r)]
    out = np.array([float(spec.draw(g)) for g in gens])
    if not np.all(np.isfinite(out)):
        raise ValueError(f"null of {spec.claim}/{spec.hypothesis} produced non-finite draws")
    return out


def _order_stat_index(r: int, level: float) -> int:
    """0-based index of the conservative order statistic for ``level``.

    Upper tail (``level >= 0.5``): ``X_(⌈level (R+1)⌉)``, so a new draw exceeds it with
    probability at most ``1 - level``; lower tail: ``X_(⌊level (R+1)⌋)``, so a new draw falls
    below it with probability at most ``level``. Clipped to the sample.
    """
    k = math.ceil(level * (r + 1)) if level >= 0.5 else math.floor(level * (r + 1))
    return min(max(k - 1, 0), r - 1)


def summarize_null(values) -> dict:
    """Quantiles (at :data:`LEVELS`), their order-statistic 95 % intervals, median, mean and SD of null draws.

    Examples
    --------
    >>> s = summarize_null(np.arange(1, 1000) / 1000)
    >>> s["quantiles"]["0.95"], s["quantiles"]["0.025"], s["draws"]
    (0.95, 0.025, 999)
    """
    from scipy.stats import binom

    x = np.sort(np.asarray(values, dtype=float))
    r = x.size
    qs, cis = {}, {}
    for lev in LEVELS:
        qs[str(lev)] = float(x[_order_stat_index(r, lev)])
        lo = int(binom.ppf(0.025, r, lev))
        hi = int(binom.isf(0.025, r, lev))
        cis[str(lev)] = [float(x[min(max(lo - 1, 0), r - 1)]), float(x[min(hi, r - 1)])]  # order-statistic CI
    return {"draws": int(r), "quantiles": qs, "quantile_ci95": cis, "median": float(np.median(x)),
            "mean": float(x.mean()), "sd": float(x.std(ddof=1))}


def load_table(path: Path | None = None) -> dict:
    """The precomputed table ``{key: entry}`` (empty when the file is absent).

    Examples
    --------
    >>> isinstance(load_table(), dict)
    True
    """
    global _TABLE
    p = TABLE_PATH if path is None else Path(path)
    if path is None and _TABLE is not None:
        return _TABLE
    table = {}
    if p.is_file():
        table = json.loads(p.read_text())["entries"]
    if path is None:
        _TABLE = table
    return table


@contextlib.contextmanager
def recording():
    """Collect every :class:`NullSpec` that :func:`null_critical_value` is asked for (the table script uses it).

    Inside the block, specs missing from the table are *not* simulated: their threshold
    value is NaN.

    Examples
    --------
    >>> with recording() as specs:
    ...     _ = null_critical_value(NullSpec("doc", "theory", "u", {}, lambda g: 0.0), alpha=0.05, use_table=False)
    >>> [s.claim for s in specs]
    ['doc']
    """
    global _RECORDING
    prev, _RECORDING = _RECORDING, []
    try:
        yield _RECORDING
    finally:
        _RECORDING = prev


def _entry(spec: NullSpec, levels, use_table: bool):
    """(entry, source) for ``spec`` with quantiles at every level in ``levels`` (table or simulated now)."""
    if _RECORDING is not None:
        _RECORDING.append(spec)
    entry = load_table().get(spec.key) if use_table else None
    source = "table data/null_quantiles.json (made by data/make_null_quantiles.py)"
    if entry is None or any(str(lev) not in entry["quantiles"] for lev in levels):
        if _RECORDING is not None:
            return None, "not computed while recording"
        t0 = time.perf_counter()
        values = simulate_null(spec)
        x = np.sort(values)
        entry = summarize_null(values)
        for lev in levels:
            entry["quantiles"][str(lev)] = float(x[_order_stat_index(x.size, lev)])
        source = f"computed in this run in {time.perf_counter() - t0:.1f} s (no table entry for these sizes)"
    return entry, source


def _derivation(spec: NullSpec, entry: dict, what: str, source: str, levels) -> str:
    sizes = ", ".join(f"{k}={v}" for k, v in dict(spec.sizes).items())
    cis = "; ".join(f"{lev:g} quantile 95 % CI [{c[0]:.4g}, {c[1]:.4g}]"
                    for lev in levels if (c := entry.get("quantile_ci95", {}).get(str(lev))))
    return (f"{what} of {spec.statistic} over {entry['draws']} Monte-Carlo draws under '{spec.hypothesis}' "
            f"({spec.sampler}; {sizes}); null median {entry['median']:.4g}" + (f"; {cis}" if cis else "")
            + f"; {source}")


def null_band(spec: NullSpec, *, level: float = 0.95, name: str = "band", use_table: bool = True) -> Threshold:
    r"""The central ``level`` band ``(q_{a}, q_{1-a})``, :math:`a = (1-\text{level})/2`, of ``spec``'s null.

    A two-sided predictive band for a statistic (e.g. the mean over seeds of an eigenvalue
    ratio) under the hypothesis; see :func:`null_critical_value` for where it comes from.

    Examples
    --------
    >>> spec = NullSpec("doc", "theory", "mean of 4 uniforms", {"m": 4},
    ...                 lambda g: float(g.random(4).mean()), draws=999, sampler="numpy uniform")
    >>> lo, hi = null_band(spec, use_table=False).value
    >>> 0.15 < lo < 0.3 < 0.7 < hi < 0.85
    True
    """
    level = check_probability("level", level)
    a = round((1.0 - level) / 2.0, 10)
    levels = (a, round(1.0 - a, 10))
    entry, source = _entry(spec, levels, use_table)
    if entry is None:
        # recording collects specs only; the prediction built on this placeholder (the whole line) is discarded
        return critical_value(name, (-math.inf, math.inf), "not computed while recording", level=level)
    lo, hi = (entry["quantiles"][str(lev)] for lev in levels)
    return critical_value(name, (lo, hi), _derivation(spec, entry, f"central {level:.0%} band", source, levels),
                          level=level)


def null_critical_value(spec: NullSpec, *, alpha: float = 0.05, name: str = "critical_value",
                        use_table: bool = True) -> Threshold:
    r"""The :math:`1-\alpha` quantile of ``spec``'s null, as a :class:`~rmt_sparsity.experiments.claims.Threshold`.

    Read from :data:`TABLE_PATH` when the key is there (``use_table``), else simulated now
    with ``spec.draws`` replicates. ``1 - alpha`` must be one of :data:`LEVELS` for a table
    lookup. The derivation names the statistic, hypothesis, sampler, sizes, number of draws,
    the quantile's order-statistic 95 % interval and where the number came from.
    """
    if not isinstance(spec, NullSpec):
        raise TypeError(f"spec must be a NullSpec; got {type(spec).__name__} {spec!r:.80}")
    alpha = check_probability("alpha", alpha)
    level = round(1.0 - alpha, 10)
    entry, source = _entry(spec, (level,), use_table)
    if entry is None:
        # recording collects specs only; the prediction built on this placeholder (no bound) is discarded
        return critical_value(name, math.inf, "not computed while recording", level=level)
    q = entry["quantiles"][str(level)]
    return critical_value(name, q, _derivation(spec, entry, f"{level:.0%} quantile", source, (level,)), level=level)
