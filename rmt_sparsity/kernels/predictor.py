r"""Low-rank predictor of the active neurons, fitted on sample activations (no Numba)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._checks import check_int, check_real
from .._rng import as_generator
from ._reference import check_activations, check_weight

__all__ = ["LowRankPredictor", "fit_predictor"]


@dataclass(frozen=True)
class LowRankPredictor:
    r"""Predict which neurons fire from a rank-r estimate of the pre-activations.

    .. math::

        \hat h(x) = (x A) B + b_\mathrm{in}, \qquad
        \text{predict } i \text{ active} \iff \hat h_i(x) + z\, s_i > t,

    with ``A`` (d_model, r), ``B`` (r, d_ff), ``s_i`` the residual standard
    deviation of neuron ``i`` on the fitting sample and ``z`` the margin
    calibrated for the target recall (see :func:`fit_predictor`). Evaluating
    it costs r·(d_model + d_ff) multiply-adds instead of d_model·d_ff.

    Attributes
    ----------
    a, b : ndarray
        The factors (same dtype as the weights).
    bias : ndarray, shape (d_ff,)
        ``b_in + z s`` folded together, minus ``t``.
    z : float
        Calibrated margin, in residual standard deviations.
    rank : int
    recall, precision : float
        Measured on the held-out test quarter of the fitting sample:
        recall = |pred ∩ true| / |true|, precision = |pred ∩ true| / |pred|.
    details : dict
        Predicted and true densities on the held-out half, target recall.

    Examples
    --------
    See :func:`fit_predictor`.
    """

    a: np.ndarray
    b: np.ndarray
    bias: np.ndarray
    z: float
    rank: int
    recall: float
    precision: float
    details: dict = field(default_factory=dict)

    @property
    def d_model(self) -> int:
        return int(self.a.shape[0])

    @property
    def d_ff(self) -> int:
        return int(self.b.shape[1])

    def predict_mask(self, x) -> np.ndarray:
        """Boolean (B, d_ff) (or (d_ff,)) mask of the neurons predicted active for rows ``x``."""
        x = check_activations("x", x, self.a.dtype, self.d_model, "d_model")
        return ((x @ self.a) @ self.b + self.bias) > 0

    def predict_indices(self, x) -> np.ndarray:
        """Sorted int64 indices predicted active in any row of ``x`` (the union over the batch)."""
        m = self.predict_mask(x)
        if m.ndim == 2:
            m = m.any(axis=0)
        return np.flatnonzero(m).astype(np.int64)

    def score(self, x, w_in, b_in=None, *, threshold: float = 0.0) -> dict:
        """Recall and precision of the prediction against the true active set ``W_in x + b_in > threshold``.

        Returns
        -------
        dict
            ``recall``, ``precision``, ``density_true``, ``density_pred``.
        """
        w_in = check_weight("w_in", w_in)
        x = np.atleast_2d(check_activations("x", x, w_in.dtype, w_in.shape[1], "d_model"))
        h = x @ w_in.T
        if b_in is not None:
            h = h + b_in
        return _scores(h > threshold, self.predict_mask(x))


def _scores(true, pred) -> dict:
    tp = int(np.count_nonzero(true & pred))
    nt = int(np.count_nonzero(true))
    npred = int(np.count_nonzero(pred))
    return {
        "recall": tp / nt if nt else 1.0,
        "precision": tp / npred if npred else 1.0,
        "density_true": nt / true.size,
        "density_pred": npred / true.size,
    }


def fit_predictor(x_sample, w_in, b_in=None, *, rank: int, target_recall: float = 0.99, threshold: float = 0.0, rng=None):
    r"""Fit a :class:`LowRankPredictor` on sample inputs.

    The sample (n rows) is split at random into a factorisation half, a
    calibration quarter and a test quarter. On the first,
    ``H = X W_in^T`` (n₁, d_ff) is factorised: its top-r right singular
    vectors ``V_r`` give the best rank-r approximation of ``H`` in Frobenius
    norm (Eckart-Young), ``Ĥ = H V_r V_r^T = X (W_in^T V_r) V_r^T``, hence
    ``A = W_in^T V_r`` and ``B = V_r^T``. The per-neuron residual standard
    deviations ``s_i`` and the margin ``z`` (the smallest margin that reaches
    the target recall, floored at 0 so that a neuron whose point estimate is
    active is always predicted) come from the calibration quarter, out of the
    factorisation sample (in-sample residuals would be too small). Recall and
    precision are then measured on the test quarter, so they are honest
    estimates.

    .. math::

        z = \mathrm{quantile}_{\text{target}}\Big\{ \frac{t - \hat h_{ni} - b_i}{s_i} :
        h_{ni} + b_i > t \Big\}

    Parameters
    ----------
    x_sample : ndarray, shape (n, d_model)
        Sample inputs (n >= 8), same dtype as ``w_in``.
    w_in : ndarray, shape (d_ff, d_model)
    b_in : ndarray, shape (d_ff,), optional
    rank : int
        1 <= rank <= min(n // 2, d_model).
    target_recall : float in (0, 1]
    threshold : float
        Pre-activation threshold ``t`` that defines "active" (0 for the ReLU family).
    rng : None, int or numpy.random.Generator
        Only used to split the sample.

    Returns
    -------
    LowRankPredictor

    References
    ----------
    Liu et al., "Deja Vu", arXiv 2310.17157 (learned low-rank predictors of
    the active set); Eckart & Young 1936.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> w_in = rng.standard_normal((64, 16))
    >>> x = rng.standard_normal((400, 4)) @ rng.standard_normal((4, 16))   # inputs of rank 4
    >>> p = fit_predictor(x, w_in, rank=4, rng=1)
    >>> p.recall >= 0.99
    True
    """
    w = check_weight("w_in", w_in)
    d_ff, d_model = w.shape
    x = check_activations("x_sample", x_sample, w.dtype, d_model, "d_model", "w_in")
    if x.ndim != 2 or x.shape[0] < 8:
        raise ValueError(f"x_sample must be 2-D with at least 8 rows; got shape {x.shape}")
    n = x.shape[0]
    rank = check_int("rank", rank, min=1, max=min(n // 2, d_model))
    target_recall = check_real("target_recall", target_recall, lo=0.0, hi=1.0, lo_open=True)
    threshold = check_real("threshold", threshold)
    if b_in is not None:
        if not isinstance(b_in, np.ndarray) or b_in.dtype != w.dtype:
            raise TypeError(f"b_in must be None or an ndarray of dtype {w.dtype}; got {getattr(b_in, 'dtype', type(b_in).__name__)}")
        if b_in.shape != (d_ff,):
            raise ValueError(f"b_in must have shape (d_ff,) = ({d_ff},); got {b_in.shape}")
    # a fit reads every entry anyway: non-finite data would only surface as a LAPACK failure
    for name, arr in (("x_sample", x), ("w_in", w), ("b_in", b_in)):
        if arr is not None and not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite; found {int(arr.size - np.count_nonzero(np.isfinite(arr)))} non-finite entries")
    gen = as_generator(rng)
    perm = gen.permutation(n)
    n_fac, n_cal = n // 2, (n - n // 2) // 2
    fac_rows, cal_rows, test_rows = perm[:n_fac], perm[n_fac : n_fac + n_cal], perm[n_fac + n_cal :]
    bias64 = np.zeros(d_ff) if b_in is None else b_in.astype(np.float64)
    # Products with W_in run in its own dtype (no float64 copy of the weights); the small
    # factorisation runs in float64; the factors are stored in the weights' dtype.
    x64 = x.astype(np.float64)
    h_fac = (x[fac_rows] @ w.T).astype(np.float64)
    # Right singular vectors of H from the small Gram matrix H H^T (n_fac x n_fac).
    evals, u = np.linalg.eigh(h_fac @ h_fac.T)
    order = np.argsort(evals)[::-1][:rank]
    sv = np.sqrt(np.maximum(evals[order], 0.0))
    keep = sv > sv[0] * 1e-12 if sv.size and sv[0] > 0 else np.zeros(sv.shape, bool)
    v = (h_fac.T @ u[:, order[keep]]) / sv[keep]  # (d_ff, r'), orthonormal columns
    a = (w.T @ v.astype(w.dtype)).astype(np.float64)  # (d_model, r')

    def est(rows):
        h = (x[rows] @ w.T).astype(np.float64) + bias64
        return h, (x64[rows] @ a) @ v.T + bias64

    # Residual scales and margin on the calibration part (out of the factorisation sample).
    h_cal, hhat_cal = est(cal_rows)
    resid = h_cal - hhat_cal
    s = np.sqrt(np.mean(resid * resid, axis=0))
    s = s + 1e-12 * (np.sqrt(np.mean(h_cal * h_cal, axis=0)) + 1e-300)
    true_cal = h_cal > threshold
    need = ((threshold - hhat_cal) / s)[true_cal]
    z = float(np.quantile(need, target_recall)) if need.size else 0.0
    z += 1e-9 * (1.0 + abs(z))  # the rule is strict (>): lift z off the quantile's own sample point
    z = max(z, 0.0)  # never drop a neuron whose point estimate is already active
    fused_bias = bias64 + z * s - threshold
    h_test, hhat_test = est(test_rows)
    sc = _scores(h_test > threshold, hhat_test - bias64 + fused_bias > 0)
    dt = w.dtype
    return LowRankPredictor(
        a=np.ascontiguousarray(a, dtype=dt),
        b=np.ascontiguousarray(v.T, dtype=dt),
        bias=fused_bias.astype(dt),
        z=z,
        rank=int(v.shape[1]),
        recall=sc["recall"],
        precision=sc["precision"],
        details={
            "target_recall": target_recall,
            "density_true": sc["density_true"],
            "density_pred": sc["density_pred"],
            "n_factor": int(fac_rows.size),
            "n_calibrate": int(cal_rows.size),
            "n_test": int(test_rows.size),
        },
    )
