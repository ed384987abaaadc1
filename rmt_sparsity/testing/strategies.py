r"""Hypothesis strategies for random-matrix and sparse-FFN inputs with known structure.

In the style of :mod:`hypothesis.extra.numpy`: every size, dtype or parameter
argument may be a concrete value or a strategy, concrete arguments are
validated when the strategy is built (``hypothesis.errors.InvalidArgument``
with the argument, the value and what is allowed), and drawn ones when drawn.

How they shrink: each array is built from a :class:`numpy.random.Generator`
seeded by a drawn integer (``st.integers(0, 2**32 - 1)``), so Hypothesis
shrinks the *seed* towards 0 and the sizes and parameters towards their
simplest values, while arrays stay fast to build and exactly reproducible
(same drawn seed, same array: ``rmt_sparsity._rng.as_generator``).

Conventions (docs/design.md §3): a :math:`p\times n` matrix W has ratio c = p/n and
its spectrum is that of :math:`WW^\top/n`; entry variance is ``scale``;
weights are stored (out, in): ``w_in`` (d_ff, d_model), ``w_out`` (d_model, d_ff).
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from .._optional import require

require("hypothesis", extra="testing", feature="rmt_sparsity.testing.strategies")
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import InvalidArgument  # noqa: E402
from hypothesis.strategies import SearchStrategy  # noqa: E402

from .._checks import check_array, check_int, check_real, check_size_budget  # noqa: E402
from .._rng import as_generator  # noqa: E402

__all__ = [
    "seeds",
    "mp_parameters",
    "MP_CATEGORY_WEIGHTS",
    "MP_EDGE_RATIOS",
    "MP_EDGE_SCALES",
    "MP_INVALID_VALUES",
    "mp_category",
    "wishart_matrices",
    "matrices_with_spectrum",
    "spiked_matrices",
    "bbp_threshold",
    "SpikedMatrix",
    "BOTH_SIDES_OF_BBP",
    "sparse_activations",
    "ffn_weights",
    "FFNWeights",
    "layernorm_inputs",
]


# ---------------------------------------------------------------------------------------
# helpers: concrete-or-strategy arguments, validation as InvalidArgument
# ---------------------------------------------------------------------------------------
def seeds() -> SearchStrategy[int]:
    """Seeds for :func:`numpy.random.default_rng`: ``integers(0, 2**32 - 1)``, shrinking to 0.

    Examples
    --------
    >>> from hypothesis import find
    >>> from rmt_sparsity.testing.strategies import seeds
    >>> find(seeds(), lambda s: s >= 10)  # shrinks to the smallest failing seed
    10
    """
    return st.integers(0, 2**32 - 1)


def _invalid(fn, *args, **kwargs):
    """Run a ``_checks`` validator, re-raising its ValueError/TypeError as InvalidArgument."""
    try:
        return fn(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(str(exc)) from None


def _budget(name, value, nbytes, what):
    """Refuse a drawn size whose arrays would not fit in memory (InvalidArgument naming it)."""
    _invalid(check_size_budget, name, value, nbytes=nbytes, what=what)


def _draw(draw, value):
    return draw(value) if isinstance(value, SearchStrategy) else value


def _int_arg(name, value, minimum):
    if not isinstance(value, SearchStrategy):
        _invalid(check_int, name, value, min=minimum)
    return value


def _real_arg(name, value, **kw):
    if not isinstance(value, SearchStrategy):
        _invalid(check_real, name, value, **kw)
    return value


_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _check_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise InvalidArgument(f"dtype must be float32 or float64; got {dtype!r}") from None
    if dt not in _FLOAT_DTYPES:
        raise InvalidArgument(f"dtype must be float32 or float64; got {dt}")
    return dt


def _dtype_arg(dtype):
    if not isinstance(dtype, SearchStrategy):
        _check_dtype(dtype)
    return dtype


# ---------------------------------------------------------------------------------------
# Marchenko-Pastur parameters
# ---------------------------------------------------------------------------------------
#: Proportions of the categories drawn by ``mp_parameters(allow_invalid=True)``.
MP_CATEGORY_WEIGHTS = {"valid": 0.5, "edge": 0.2, "invalid": 0.2, "nan": 0.1}
_CATEGORIES = ("valid",) * 10 + ("edge",) * 4 + ("invalid",) * 4 + ("nan",) * 2

_VALID_RATIO = st.floats(1e-3, 1e3)
_VALID_SCALE = st.floats(1e-3, 1e3)
#: Valid but numerically hard values: the hard edge c = 1 and its neighbours, extreme ratios and scales.
MP_EDGE_RATIOS = (1.0, math.nextafter(1.0, 0.0), math.nextafter(1.0, 2.0), 1e-8, 1e8)
MP_EDGE_SCALES = (1e-30, 1e30, 5e-324)
MP_INVALID_VALUES = (0.0, -0.0, -1.0, -math.inf, math.inf)


def mp_category(ratio, scale) -> str:
    """Classify a ``(ratio, scale)`` pair: ``"valid"`` (both finite and > 0) , ``"nan"`` or ``"invalid"``.

    ``"edge"`` pairs are valid, so this returns ``"valid"`` for them.

    Examples
    --------
    >>> from rmt_sparsity.testing.strategies import mp_category
    >>> mp_category(0.5, 1.0), mp_category(float("nan"), 1.0), mp_category(-1.0, 1.0)
    ('valid', 'nan', 'invalid')
    """
    for name, v in (("ratio", ratio), ("scale", scale)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name} must be a real number (NaN and inf allowed); got {type(v).__name__} {v!r}")
    if math.isnan(ratio) or math.isnan(scale):
        return "nan"
    ok = all(math.isfinite(v) and v > 0 for v in (ratio, scale))
    return "valid" if ok else "invalid"


@st.composite
def _mp_mixed(draw):
    cat = draw(st.sampled_from(_CATEGORIES))  # shrinks to index 0: "valid"
    if cat == "valid":
        return draw(_VALID_RATIO), draw(_VALID_SCALE)
    if cat == "edge":
        return draw(
            st.one_of(
                st.tuples(st.sampled_from(MP_EDGE_RATIOS), _VALID_SCALE),
                st.tuples(_VALID_RATIO, st.sampled_from(MP_EDGE_SCALES)),
            )
        )
    if cat == "invalid":
        bad = st.sampled_from(MP_INVALID_VALUES)
        return draw(st.one_of(st.tuples(bad, _VALID_SCALE), st.tuples(_VALID_RATIO, bad), st.tuples(bad, bad)))
    nan = st.just(math.nan)
    return draw(st.one_of(st.tuples(nan, _VALID_SCALE), st.tuples(_VALID_RATIO, nan), st.tuples(nan, nan)))


def mp_parameters(allow_invalid=False) -> SearchStrategy[tuple[float, float]]:
    r"""Marchenko–Pastur parameters ``(ratio, scale)``: ratio c = p/n, scale = entry variance σ².

    With ``allow_invalid=False`` both are floats in :math:`[10^{-3}, 10^3]`
    (Hypothesis favours the bounds, 1 and other simple values, and shrinks
    towards 1). With ``allow_invalid=True`` a category is drawn first, with these
    fixed proportions (:data:`MP_CATEGORY_WEIGHTS`), then the values:

    * 50 % **valid**: as above;
    * 20 % **edge** (valid but numerically hard): ratio in
      ``MP_EDGE_RATIOS`` (c = 1 exactly, the hard edge at 0, its float
      neighbours, 1e-8, 1e8) or scale in ``MP_EDGE_SCALES`` (1e-30, 1e30, the
      smallest subnormal);
    * 20 % **invalid**: ratio and/or scale in ``MP_INVALID_VALUES``
      (0, −0, −1, ±inf);
    * 10 % **NaN**: ratio and/or scale NaN.

    This mirrors scipy's parameter tests: law constructors must raise on the
    last two categories and ``scipy.stats``-style methods must return NaN.
    :func:`mp_category` classifies a drawn pair. The proportions are those of
    the *draws*; Hypothesis does not re-run a test on a duplicate example, and
    the edge, invalid and NaN categories hold few distinct pairs, so among
    executed examples valid pairs are over-represented (measured 63/15/15/7 %
    over 1000 derandomised examples).

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from rmt_sparsity.laws import MarchenkoPastur
    >>> from rmt_sparsity.testing.strategies import mp_parameters, mp_category
    >>> @settings(max_examples=20, database=None)
    ... @given(mp_parameters(allow_invalid=True))
    ... def test(params):
    ...     if mp_category(*params) == "valid":
    ...         assert 0.0 <= MarchenkoPastur(*params).cdf(1.0) <= 1.0
    >>> test()
    """
    if not isinstance(allow_invalid, bool):
        raise InvalidArgument(f"allow_invalid must be a bool; got {allow_invalid!r}")
    if allow_invalid:
        return _mp_mixed()
    return st.tuples(_VALID_RATIO, _VALID_SCALE)


# ---------------------------------------------------------------------------------------
# matrices
# ---------------------------------------------------------------------------------------
def wishart_matrices(p, n, scale=1.0, *, dtype=np.float64) -> SearchStrategy[np.ndarray]:
    r"""Gaussian data matrices W of shape (p, n) with iid :math:`N(0, \sigma^2)` entries, σ² = ``scale``.

    W is the factor of the (real, β = 1) Wishart matrix :math:`S = WW^\top/n`,
    whose spectrum tends to ``MarchenkoPastur(p/n, scale)``; W itself is returned
    because every analysis function of rmt_sparsity takes the (out, in) matrix.

    Parameters
    ----------
    p, n : int or strategy of int
        Rows and columns (≥ 1).
    scale : float or strategy of float
        Entry variance (> 0).
    dtype : float32, float64 or a strategy of them
        The entries are drawn in float64 and rounded once.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings, strategies as st
    >>> from rmt_sparsity.testing.strategies import wishart_matrices
    >>> @settings(max_examples=10, database=None)
    ... @given(wishart_matrices(st.integers(1, 20), 30, scale=2.0))
    ... def test(W):
    ...     assert W.shape[1] == 30 and W.dtype == np.float64
    >>> test()
    """
    p = _int_arg("p", p, 1)
    n = _int_arg("n", n, 1)
    scale = _real_arg("scale", scale, lo=0.0, lo_open=True)
    dtype = _dtype_arg(dtype)

    @st.composite
    def build(draw):
        pp = _invalid(check_int, "p", _draw(draw, p), min=1)
        nn = _invalid(check_int, "n", _draw(draw, n), min=1)
        s2 = _invalid(check_real, "scale", _draw(draw, scale), lo=0.0, lo_open=True)
        dt = _check_dtype(_draw(draw, dtype))
        _budget("p, n", (pp, nn), 16 * pp * nn, "the p x n matrix")
        g = as_generator(draw(seeds()))
        W = g.standard_normal((pp, nn))
        if s2 != 1.0:
            W *= math.sqrt(s2)
        return W.astype(dt, copy=False)

    return build()


def _haar_columns(g: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """``rows x cols`` matrix with orthonormal columns, Haar distributed (QR of a Gaussian with sign fix, Mezzadri 2007)."""
    q, r = np.linalg.qr(g.standard_normal((rows, cols)))
    d = np.sign(np.diag(r))
    d[d == 0] = 1.0
    return q * d


def matrices_with_spectrum(singular_values, shape=None) -> SearchStrategy[np.ndarray]:
    r"""Float64 matrices :math:`M = U\,\mathrm{diag}(s)\,V^\top` with a requested set of singular values.

    U (p×k) and V (n×k) have Haar-distributed orthonormal columns (QR of a
    Gaussian matrix with the signs of R's diagonal moved into Q, Mezzadri 2007,
    arXiv math-ph/0609050), k = len(s) ≤ min(p, n); the other min(p, n) − k
    singular values are 0.

    Accuracy: by Weyl's inequality each computed singular value of the float64
    M is within :math:`\|\mathrm{fl}(M) - M\|_2 + s_{\max}\|U^\top U - I\|_2`
    of the requested one, both terms O((k + max(p, n)) u s_max) with u = 2^{-53};
    so the spectrum is within :math:`10^{-10}\max(1, s_{\max})` of the requested
    one for any size up to ~10⁴ (checked in the contract test).

    Parameters
    ----------
    singular_values : array_like or strategy of arrays
        1-D, finite, ≥ 0 (any order; M's sorted singular values equal them sorted).
    shape : (p, n), strategy of tuples, or None
        Default (k, k). A spectrum longer than min(p, n) is an error.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from rmt_sparsity.testing.strategies import matrices_with_spectrum
    >>> s = np.array([3.0, 2.0, 0.5])
    >>> @settings(max_examples=10, database=None)
    ... @given(matrices_with_spectrum(s, shape=(4, 6)))
    ... def test(M):
    ...     assert np.allclose(np.linalg.svd(M, compute_uv=False)[:3], s, rtol=0, atol=1e-12)
    >>> test()
    """
    if not isinstance(singular_values, SearchStrategy):
        s_fixed = _check_spectrum(singular_values)
        if shape is not None and not isinstance(shape, SearchStrategy):
            _check_shape(shape, s_fixed.size)
    elif shape is not None and not isinstance(shape, SearchStrategy):
        _check_shape(shape, 0)

    @st.composite
    def build(draw):
        s = _check_spectrum(_draw(draw, singular_values))
        shp = _draw(draw, shape)
        p, n = (s.size, s.size) if shp is None else _check_shape(shp, s.size)
        _budget("shape", (p, n), 16 * (p * n + (p + n) * s.size), "the p x n matrix and its Haar factors")
        g = as_generator(draw(seeds()))
        U = _haar_columns(g, p, s.size)
        V = _haar_columns(g, n, s.size)
        return (U * s) @ V.T

    return build()


def _check_spectrum(s) -> np.ndarray:
    arr = _invalid(check_array, "singular_values", s, ndim=1, finite=True, nonempty=True)
    arr = arr.astype(np.float64)
    if np.any(arr < 0):
        raise InvalidArgument(f"singular_values must be >= 0; got min {float(arr.min())!r}")
    return arr


def _check_shape(shape, k) -> tuple[int, int]:
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise InvalidArgument(f"shape must be a pair (p, n); got {shape!r}")
    p = _invalid(check_int, "shape[0]", shape[0], min=1)
    n = _invalid(check_int, "shape[1]", shape[1], min=1)
    if k > min(p, n):
        raise InvalidArgument(
            f"a spectrum of {k} singular values does not fit a {p}x{n} matrix (at most min(p, n) = {min(p, n)})"
        )
    return p, n


def bbp_threshold(p, n, scale=1.0) -> float:
    r"""BBP threshold :math:`\theta_c = \sigma (pn)^{1/4}` of the additive spike model (docs/design.md §3).

    For :math:`W = G + \theta uv^\top` (G p×n Gaussian with entry variance σ²,
    unit u, v) an outlier singular value separates from the bulk edge
    :math:`\sigma(\sqrt p + \sqrt n)` iff θ > θ_c, asymptotically
    (Benaych-Georges & Nadakuditi 2012, arXiv 1103.2221; the threshold
    :math:`\sigma c^{1/4}` of :math:`G/\sqrt n` scaled by √n).

    Examples
    --------
    >>> from rmt_sparsity.testing.strategies import bbp_threshold
    >>> bbp_threshold(16, 81)
    6.0
    """
    p = check_int("p", p, min=1)
    n = check_int("n", n, min=1)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    return math.sqrt(scale) * (p * n) ** 0.25


class SpikedMatrix(NamedTuple):
    r"""A draw of :func:`spiked_matrices`: ``matrix`` = G + ``u`` diag(``theta``) ``v``ᵀ."""

    matrix: np.ndarray
    #: spike sizes θ_i (absolute), shape (rank,)
    theta: np.ndarray
    #: orthonormal left / right spike directions, shapes (p, rank) and (n, rank)
    u: np.ndarray
    v: np.ndarray
    #: the BBP threshold σ(pn)^{1/4}
    threshold: float
    #: θ_i / threshold
    strength: np.ndarray

    @property
    def supercritical(self) -> np.ndarray:
        """Which spikes are above the BBP threshold (strength > 1)."""
        return self.strength > 1.0


#: Default spike strengths (multiples of the BBP threshold): well below or well above it,
#: so that the presence of an outlier is decided at moderate sizes (see :func:`spiked_matrices`).
BOTH_SIDES_OF_BBP = st.one_of(st.floats(0.0, 0.5), st.floats(3.0, 6.0))


def spiked_matrices(strength=BOTH_SIDES_OF_BBP, *, p=st.integers(40, 120), n=st.integers(40, 120), scale=1.0, rank=1):
    r"""Additive spiked matrices :math:`W = G + \sum_i \theta_i u_i v_i^\top`, on both sides of the BBP threshold.

    G is p×n with iid :math:`N(0, \sigma^2)` entries (σ² = ``scale``), the
    :math:`u_i` (:math:`v_i`) are orthonormal and Haar distributed, and
    :math:`\theta_i` = strength × :func:`bbp_threshold` (σ(pn)^{1/4}, docs/design.md §3).
    Above the threshold the top singular value converges to
    :math:`\sqrt{(\theta^2 + \sigma^2 p)(\theta^2 + \sigma^2 n)}/\theta`
    (Benaych-Georges & Nadakuditi 2012, arXiv 1103.2221), outside the bulk
    edge :math:`\sigma(\sqrt p + \sqrt n)`; below it stays at the edge with
    Tracy–Widom fluctuations. The default strengths avoid the window
    [0.5, 3] where a finite matrix cannot tell: at p, n ≥ 40 and strength ≥ 3
    the outlier is more than 10 Tracy–Widom units above the edge.

    Parameters
    ----------
    strength : float ≥ 0 or strategy of floats
        Multiple of the BBP threshold; a strategy is drawn once per spike.
    p, n : int or strategy of int
        Shape (≥ rank).
    scale : float or strategy
        Noise entry variance σ² (> 0).
    rank : int
        Number of spikes (≥ 1).

    Returns
    -------
    strategy of SpikedMatrix
        ``(matrix, theta, u, v, threshold, strength)``, float64.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from rmt_sparsity.testing.strategies import spiked_matrices
    >>> @settings(max_examples=10, database=None)
    ... @given(spiked_matrices(strength=4.0, p=50, n=80))
    ... def test(sp):
    ...     top = np.linalg.svd(sp.matrix, compute_uv=False)[0]
    ...     assert sp.supercritical.all() and top > np.sqrt(50) + np.sqrt(80)
    >>> test()
    """
    if not isinstance(strength, SearchStrategy):
        _invalid(check_real, "strength", strength, lo=0.0)
    p = _int_arg("p", p, 1)
    n = _int_arg("n", n, 1)
    scale = _real_arg("scale", scale, lo=0.0, lo_open=True)
    rank = _invalid(check_int, "rank", rank, min=1)
    if not isinstance(p, SearchStrategy) and not isinstance(n, SearchStrategy) and rank > min(p, n):
        raise InvalidArgument(f"rank must be <= min(p, n) = {min(p, n)}; got {rank}")

    @st.composite
    def build(draw):
        pp = _invalid(check_int, "p", _draw(draw, p), min=1)
        nn = _invalid(check_int, "n", _draw(draw, n), min=1)
        if rank > min(pp, nn):
            raise InvalidArgument(f"rank must be <= min(p, n) = {min(pp, nn)}; got {rank}")
        s2 = _invalid(check_real, "scale", _draw(draw, scale), lo=0.0, lo_open=True)
        _budget("p, n", (pp, nn), 24 * pp * nn, "the p x n spiked matrix")
        st_ = np.array([_invalid(check_real, "strength", _draw(draw, strength), lo=0.0) for _ in range(rank)])
        g = as_generator(draw(seeds()))
        thr = bbp_threshold(pp, nn, s2)
        theta = st_ * thr
        U = _haar_columns(g, pp, rank)
        V = _haar_columns(g, nn, rank)
        G = g.standard_normal((pp, nn)) * math.sqrt(s2)
        return SpikedMatrix(G + (U * theta) @ V.T, theta, U, V, thr, st_)

    return build()


# ---------------------------------------------------------------------------------------
# sparse FFN inputs
# ---------------------------------------------------------------------------------------
def _check_density(density):
    """Validate a density float in [0, 1] or a (lo, hi) pair; return (lo, hi) or the float."""
    if isinstance(density, (tuple, list)):
        if len(density) != 2:
            raise InvalidArgument(f"density must be a float or a (lo, hi) pair; got {density!r}")
        lo = _invalid(check_real, "density[0]", density[0], lo=0.0, hi=1.0)
        hi = _invalid(check_real, "density[1]", density[1], lo=0.0, hi=1.0)
        if lo > hi:
            raise InvalidArgument(f"density range must have lo <= hi; got {density!r}")
        return lo, hi
    return _invalid(check_real, "density", density, lo=0.0, hi=1.0)


def _density_counts(d_ff: int, density) -> tuple[int, int]:
    """Allowed active counts k (per row) for a density float or (lo, hi) range."""
    checked = _check_density(density)
    if isinstance(checked, tuple):
        lo, hi = checked
        k_lo = max(0, math.ceil(lo * d_ff) - 1)
        while k_lo / d_ff < lo:
            k_lo += 1
        k_hi = min(d_ff, math.floor(hi * d_ff) + 1)
        while k_hi / d_ff > hi:
            k_hi -= 1
        if k_lo > k_hi:
            raise InvalidArgument(
                f"no density k/d_ff lies in [{lo}, {hi}] for d_ff = {d_ff}; widen the range or change d_ff"
            )
        return k_lo, k_hi
    k = int(round(checked * d_ff))
    return k, k


def sparse_activations(d_ff, density, batch=None, *, threshold=0.0, signed=False, dtype=np.float64):
    r"""Sparse activations with exactly k active neurons per row and a fresh active set per row.

    A neuron is *active* when :math:`|a_i| > \tau` (``threshold``); each row has
    exactly k active entries at uniformly random positions:

    * ``density`` a float ρ: :math:`k = \mathrm{round}(\rho\,d_{ff})`, so the
      realised density k/d_ff is within :math:`1/(2d_{ff})` of ρ;
    * ``density`` a pair (lo, hi): k is drawn among the counts with
      lo ≤ k/d_ff ≤ hi (an error if there is none);
    * ``density`` a strategy of floats: a ρ is drawn, then as for a float.

    Values: active magnitudes are :math:`\tau + \max(\tau, 1)(0.5 + |z|)`, z
    standard normal (strictly above τ even after rounding to float32); inactive
    entries are exact zeros for τ = 0 (ReLU-style) and otherwise have
    magnitudes :math:`\tau U`, U uniform on [0, 0.5] (magnitude-threshold
    sparsity: small but non-zero, as in the gradient-sparsity metrics with
    τ ∈ {1e-9, 1e-6, 1e-3}). ``signed=True`` gives every entry a random sign.

    Parameters
    ----------
    d_ff : int or strategy
        Number of neurons (≥ 1).
    density : float in [0, 1], (lo, hi) pair, or strategy of floats
    batch : int, strategy or None
        Rows; None gives one 1-D row of shape (d_ff,).
    threshold : float ≥ 0
    signed : bool
    dtype : float32, float64 or a strategy of them

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from rmt_sparsity.testing.strategies import sparse_activations
    >>> @settings(max_examples=10, database=None)
    ... @given(sparse_activations(100, (0.05, 0.1), batch=4, threshold=1e-6))
    ... def test(a):
    ...     k = (np.abs(a) > 1e-6).sum(axis=1)
    ...     assert a.shape == (4, 100) and np.all((5 <= k) & (k <= 10)) and np.all(k == k[0])
    >>> test()
    """
    d_ff = _int_arg("d_ff", d_ff, 1)
    if batch is not None:
        batch = _int_arg("batch", batch, 1)
    threshold = _invalid(check_real, "threshold", threshold, lo=0.0)
    if not isinstance(signed, bool):
        raise InvalidArgument(f"signed must be a bool; got {signed!r}")
    dtype = _dtype_arg(dtype)
    if not isinstance(density, SearchStrategy):
        _check_density(density)
        if not isinstance(d_ff, SearchStrategy):
            _density_counts(d_ff, density)

    @st.composite
    def build(draw):
        d = _invalid(check_int, "d_ff", _draw(draw, d_ff), min=1)
        b = None if batch is None else _invalid(check_int, "batch", _draw(draw, batch), min=1)
        dt = _check_dtype(_draw(draw, dtype))
        _budget("d_ff, batch", (d, b), 40 * d * (b or 1), "the activations and their masks")
        k_lo, k_hi = _density_counts(d, _draw(draw, density))
        k = draw(st.integers(k_lo, k_hi))
        g = as_generator(draw(seeds()))
        rows = 1 if b is None else b
        tau = threshold
        # fresh active set per row: the k smallest of iid uniform keys (a uniform random k-subset)
        keys = g.random((rows, d))
        active = np.zeros((rows, d), dtype=bool)
        if k:
            idx = np.argpartition(keys, k - 1, axis=1)[:, :k]
            np.put_along_axis(active, idx, True, axis=1)
        mag_on = tau + max(tau, 1.0) * (0.5 + np.abs(g.standard_normal((rows, d))))
        mag_off = tau * 0.5 * g.random((rows, d)) if tau > 0 else np.zeros((rows, d))
        a = np.where(active, mag_on, mag_off)
        if signed:
            a *= np.where(g.random((rows, d)) < 0.5, -1.0, 1.0)
        a = a.astype(dt)
        return a[0] if b is None else a

    return build()


class FFNWeights(NamedTuple):
    """A draw of :func:`ffn_weights`: weights in the (out, in) layout (docs/design.md §3)."""

    #: key matrix K = W_in, shape (d_ff, d_model)
    w_in: np.ndarray
    #: W_out, shape (d_model, d_ff); W_out[:, i] is neuron i's output column
    w_out: np.ndarray
    #: input bias, shape (d_ff,), or None
    b_in: np.ndarray | None

    @property
    def w_out_t(self) -> np.ndarray:
        """W_outᵀ, shape (d_ff, d_model), C-contiguous (the kernels' layout)."""
        return np.ascontiguousarray(self.w_out.T)


def ffn_weights(d_model, d_ff, dtype=np.float64, *, bias=False):
    r"""FFN weights with the usual fan-in scaling, in the (out, in) layout.

    ``w_in`` (d_ff, d_model) has iid :math:`N(0, 1/d_{model})` entries and
    ``w_out`` (d_model, d_ff) iid :math:`N(0, 1/d_{ff})` entries, so
    pre-activations and outputs of unit-scale inputs are O(1) (LeCun fan-in
    initialisation). ``bias=True`` adds ``b_in`` ~ N(0, 1) (d_ff,); the spectrum
    of :math:`W_{in}W_{in}^\top` is then Marchenko–Pastur with ratio
    d_ff/d_model and scale 1/d_model (up to the 1/n normalisation:
    :math:`K K^\top` here already carries it).

    Parameters
    ----------
    d_model, d_ff : int or strategy
        ≥ 1.
    dtype : float32, float64 or a strategy of them
    bias : bool

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from rmt_sparsity.testing.strategies import ffn_weights
    >>> @settings(max_examples=10, database=None)
    ... @given(ffn_weights(8, 32, np.float32, bias=True))
    ... def test(w):
    ...     assert w.w_in.shape == (32, 8) and w.w_out.shape == (8, 32) and w.w_out_t.shape == (32, 8)
    ...     assert w.w_in.dtype == w.b_in.dtype == np.float32
    >>> test()
    """
    d_model = _int_arg("d_model", d_model, 1)
    d_ff = _int_arg("d_ff", d_ff, 1)
    dtype = _dtype_arg(dtype)
    if not isinstance(bias, bool):
        raise InvalidArgument(f"bias must be a bool; got {bias!r}")

    @st.composite
    def build(draw):
        dm = _invalid(check_int, "d_model", _draw(draw, d_model), min=1)
        df = _invalid(check_int, "d_ff", _draw(draw, d_ff), min=1)
        dt = _check_dtype(_draw(draw, dtype))
        _budget("d_model, d_ff", (dm, df), 32 * dm * df, "the two d_ff x d_model weight matrices")
        g = as_generator(draw(seeds()))
        w_in = (g.standard_normal((df, dm)) / math.sqrt(dm)).astype(dt)
        w_out = (g.standard_normal((dm, df)) / math.sqrt(df)).astype(dt)
        b_in = g.standard_normal(df).astype(dt) if bias else None
        return FFNWeights(w_in, w_out, b_in)

    return build()


def layernorm_inputs(p, batch=None, *, normalized=False, eps=1e-5, dtype=np.float64):
    r"""Rows for LayerNorm tests: random offsets and scales from tiny to large, some constant.

    Row i is :math:`x_i = \mu_i + s_i g_i` with :math:`\mu_i \sim N(0, 10^2)`,
    :math:`\log_{10} s_i` uniform on [−4, 2] (so the biased variance
    :math:`v_i` ranges from far below ``eps``, where the ε term matters, to far
    above) and :math:`g_i` standard normal; each row is constant
    (:math:`v_i = 0`) with probability 1/8.

    ``normalized=True`` returns instead the LayerNorm outputs without affine
    parameters, :math:`\mathrm{LN}(x) = (x - \bar x)/\sqrt{v + \varepsilon}`,
    computed in float64 and rounded once: the vectors a layer after a
    LayerNorm receives, with row mean 0 and
    :math:`\|\mathrm{LN}(x)\|^2 = p\,v/(v+\varepsilon)` (docs/science.md §5), both
    to rounding (a second centring pass removes the cancellation error
    :math:`u|\mu_i|/s_i` of the first; constant rows give exact zeros).

    Parameters
    ----------
    p : int or strategy
        Features per row (≥ 1).
    batch : int, strategy or None
        Rows; None gives one 1-D row.
    normalized : bool
    eps : float ≥ 0
        LayerNorm's ε (used when ``normalized``).
    dtype : float32, float64 or a strategy of them

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from rmt_sparsity.testing.strategies import layernorm_inputs
    >>> @settings(max_examples=10, database=None)
    ... @given(layernorm_inputs(16, batch=3, normalized=True, eps=0.0))
    ... def test(x):
    ...     sq = (x * x).sum(axis=1)
    ...     assert x.shape == (3, 16) and np.all((np.abs(sq - 16) < 1e-10) | (sq == 0))
    >>> test()
    """
    p = _int_arg("p", p, 1)
    if batch is not None:
        batch = _int_arg("batch", batch, 1)
    if not isinstance(normalized, bool):
        raise InvalidArgument(f"normalized must be a bool; got {normalized!r}")
    eps = _invalid(check_real, "eps", eps, lo=0.0)
    dtype = _dtype_arg(dtype)

    @st.composite
    def build(draw):
        pp = _invalid(check_int, "p", _draw(draw, p), min=1)
        b = None if batch is None else _invalid(check_int, "batch", _draw(draw, batch), min=1)
        dt = _check_dtype(_draw(draw, dtype))
        _budget("p, batch", (pp, b), 40 * pp * (b or 1), "the inputs and their normalisation")
        g = as_generator(draw(seeds()))
        rows = 1 if b is None else b
        mu = 10.0 * g.standard_normal((rows, 1))
        s = 10.0 ** g.uniform(-4.0, 2.0, (rows, 1))
        s[g.random((rows, 1)) < 0.125] = 0.0
        x = mu + s * g.standard_normal((rows, pp))
        if normalized:
            xc = x - x.mean(axis=1, keepdims=True)
            xc[np.ptp(x, axis=1) == 0] = 0.0  # a constant row has v = 0 exactly (mean() may round)
            v = (xc * xc).mean(axis=1, keepdims=True)
            denom = np.sqrt(v + eps)
            y = np.divide(xc, denom, out=np.zeros_like(xc), where=denom > 0)
            # second pass: centring |mu| >> s loses digits of xc (relative error ~ u |mu|/s), which
            # leaves a row sum far above rounding; re-centre and restore ||y||^2 = p v/(v + eps)
            y -= y.mean(axis=1, keepdims=True)
            sq = (y * y).sum(axis=1, keepdims=True)
            target = pp * v / (v + eps) if eps > 0 else np.where(v > 0, float(pp), 0.0)
            x = np.multiply(y, np.sqrt(np.divide(target, sq, out=np.zeros_like(sq), where=sq > 0)))
        x = x.astype(dt)
        return x[0] if b is None else x

    return build()
