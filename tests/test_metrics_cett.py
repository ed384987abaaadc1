"""CETT, its threshold search and PPL-p% sparsity.

Tolerances: the hand-computed fixtures involve a handful of float operations
(norms of 2-vectors), so 8 ulps (rtol 8*eps) bounds their rounding.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from rmt_sparsity.metrics import (
    cett,
    cett_pruned_fraction,
    neuron_scores,
    ppl_p_sparsity,
    threshold_for_cett,
)

EPS = np.finfo(np.float64).eps
RT = 8 * EPS  # a few roundings in a 2-vector norm and one division

# d_model = 2, d_ff = 3: columns w0 = (1, 0) |1|, w1 = (0, 2) |2|, w2 = (3, 4) |5|
W = np.array([[1.0, 0.0, 3.0], [0.0, 2.0, 4.0]])
A = np.array(
    [
        [4.0, 1.0, 0.2],  # scores 4, 2, 1; y = (4.6, 2.8), |y| = sqrt(29)
        [0.0, 0.0, 1.0],  # scores 0, 0, 5; y = (3, 4), |y| = 5
        [0.0, 0.0, 0.0],  # zero output: excluded from the CETT mean
    ]
)


def test_neuron_scores_hand():
    assert_allclose(neuron_scores(A, W), [[4, 2, 1], [0, 0, 5], [0, 0, 0]], rtol=RT)


def test_cett_hand_computed():
    # t = 1 prunes token 0's neuron 2: tail 0.2 * (3, 4), norm 1 -> 1/sqrt(29); token 1 prunes
    # only zero-activation neurons -> 0; token 2 excluded. Mean over 2 tokens.
    assert_allclose(cett(A, W, 1.0), (1 / np.sqrt(29)) / 2, rtol=RT)
    # t = 2 prunes neurons 1, 2 of token 0: tail (0, 2) + (0.6, 0.8) = (0.6, 2.8), norm sqrt(8.2)
    assert_allclose(cett(A, W, 2.0), (np.sqrt(8.2) / np.sqrt(29)) / 2, rtol=RT)
    # t = 5 prunes everything: each token's tail is its full output -> 1
    assert_allclose(cett(A, W, 5.0), 1.0, rtol=RT)
    # t < 0 prunes nothing
    assert cett(A, W, -1.0) == 0.0


def test_pruned_fraction_hand_computed():
    # scores <= 1: token 0 one (score 1), token 1 two zeros, token 2 three zeros -> 6/9
    assert cett_pruned_fraction(A, W, 1.0) == pytest.approx(6 / 9, rel=RT)
    # scores <= 2: 2 + 2 + 3 = 7 of 9
    assert cett_pruned_fraction(A, W, 2.0) == pytest.approx(7 / 9, rel=RT)


def test_zero_output_tokens_are_excluded():
    base = cett(A[:2], W, 2.0)
    assert cett(A, W, 2.0) == base
    assert cett(np.zeros((2, 3)), W, 1.0) == 0.0


def test_cancellation_gives_cett_above_one():
    # columns e1 and (-1, 0.1): activations (1, 1) give output (0, 0.1); the score-1 neuron
    # (pruned at t = 1 < sqrt(1.01)) removes e1, whose norm is 10x the output's
    w = np.array([[1.0, -1.0], [0.0, 0.1]])
    value = cett([[1.0, 1.0]], w, 1.0)
    assert value > 1.0
    assert_allclose(value, 10.0, rtol=16 * EPS)  # 0.1 is inexact: ~2 roundings, then a division


def _relu_data(seed, tokens=96, d_ff=48, d_model=24, signed_w=True):
    rng = np.random.default_rng(seed)
    acts = np.maximum(rng.standard_normal((tokens, d_ff)), 0.0)
    w = rng.standard_normal((d_model, d_ff))
    return acts, (w if signed_w else np.abs(w))


def test_pruned_fraction_monotone_in_threshold():
    acts, w = _relu_data(0)
    ts = np.linspace(-0.1, neuron_scores(acts, w).max(), 200)
    frac = np.array([cett_pruned_fraction(acts, w, t) for t in ts])
    assert np.all(np.diff(frac) >= 0)
    assert frac[0] == 0.0 and frac[-1] == 1.0


@pytest.mark.parametrize("target", [0.0, 0.05, 0.1, 0.2, 0.5, 0.9])
def test_threshold_for_cett_realized_below_target_and_largest(target):
    acts, w = _relu_data(1)
    n_grid = 128
    t = threshold_for_cett(acts, w, target, n_grid=n_grid)
    assert cett(acts, w, t) <= target
    # brute force over the same grid: min score to 99th percentile of the scores
    s = neuron_scores(acts, w)
    grid = np.linspace(s.min(), np.quantile(s, 0.99), n_grid)
    values = np.array([cett(acts, w, g) for g in grid])
    assert np.all(np.diff(values) >= 0), "fixture must have CETT monotone on the grid"
    ok = np.flatnonzero(values <= target)
    expected = grid[ok[-1]] if ok.size else 0.0
    assert t == expected


def test_target_zero_prunes_nothing():
    # ReLU data: min score is 0; the threshold 0 prunes only zero contributions
    acts, w = _relu_data(2)
    t = threshold_for_cett(acts, w, 0.0, n_grid=256)
    assert t == 0.0
    kept = np.where(neuron_scores(acts, w) <= t, 0.0, acts)
    np.testing.assert_array_equal(kept @ w.T, acts @ w.T)
    # strictly positive activations: no grid threshold has CETT 0, fall back to 0.0
    pos = np.abs(acts) + 0.1
    t = threshold_for_cett(pos, w, 0.0, n_grid=256)
    assert t == 0.0 and cett_pruned_fraction(pos, w, t) == 0.0 and cett(pos, w, t) == 0.0


def test_threshold_search_handles_non_monotone_cett():
    # cancellation makes CETT non-monotone; the returned threshold still satisfies the bound
    rng = np.random.default_rng(3)
    acts = rng.standard_normal((8, 6))
    w = rng.standard_normal((2, 6))
    for target in (0.1, 0.3, 0.7, 1.0):
        t = threshold_for_cett(acts, w, target, n_grid=64)
        assert cett(acts, w, t) <= target


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: cett(np.ones((3, 4)), np.ones((2, 5)), 1.0), "d_ff equal"),
        (lambda: threshold_for_cett(np.ones((3, 4)), np.ones((4, 3)), 0.1), "d_ff equal"),
        (lambda: cett([[np.nan, 1.0]], np.ones((2, 2)), 1.0), "activations must be finite"),
        (lambda: cett([[1.0, 1.0]], [[np.nan, 1.0]], 1.0), "w_out must be finite"),
        (lambda: cett([[1.0, 1.0]], np.ones((2, 2)), np.nan), "threshold"),
        (lambda: threshold_for_cett(np.ones((3, 4)), np.ones((2, 4)), -0.1), "target"),
        (lambda: threshold_for_cett(np.ones((3, 4)), np.ones((2, 4)), 0.1, n_grid=1), "n_grid"),
        (lambda: cett(np.ones((2, 3, 4)), np.ones((2, 4)), 1.0), "activations must be 1-D or 2-D"),
    ],
)
def test_cett_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------- PPL-p%


def _toy_model(acts, w, lam=0.05):
    """Per-token loss lam * |y_sparse - y_dense|^2 + 1 (+ constant), with the CETT masking protocol."""
    col = np.linalg.norm(w, axis=0)
    dense = acts @ w.T
    calls = []

    def loss_fn(thresholds):
        calls.append(thresholds)
        if thresholds is None:
            return np.ones(acts.shape[0])
        (t,) = thresholds
        a = np.where(np.abs(acts) * col <= t, 0.0, acts)
        return 1.0 + lam * np.sum((a @ w.T - dense) ** 2, axis=1)

    return loss_fn, calls


@pytest.mark.parametrize("p", [0.5, 1.0, 5.0])
def test_ppl_p_sparsity_bound_and_optimality(p):
    # non-negative activations and weights: every contribution is a non-negative vector, so the
    # tail norm, the CETT and the loss ratio are all non-decreasing in the threshold: the
    # bisection answer is optimal up to tol.
    acts, w = _relu_data(4, signed_w=False)
    loss_fn, calls = _toy_model(acts, w)
    tol, n_grid = 1e-3, 512
    res = ppl_p_sparsity(loss_fn, [(acts, w)], p=p, tol=tol, n_grid=n_grid)
    assert calls[0] is None and all(isinstance(c, tuple) and len(c) == 1 for c in calls[1:])
    assert res.ppl_ratio <= 1 + p / 100
    assert res.n_evals == len(calls) - 1
    assert res.activation_ratio == pytest.approx(1 - res.sparsity, abs=4 * EPS)
    assert res.thresholds[0] == threshold_for_cett(acts, w, res.cett, n_grid=n_grid)
    assert res.sparsity == cett_pruned_fraction(acts, w, res.thresholds[0])
    # one step past the answer breaks the bound (or it is the same threshold)
    t_next = threshold_for_cett(acts, w, res.cett + tol, n_grid=n_grid)
    ratio_next = np.mean(np.exp(loss_fn((t_next,)) - 1.0))
    assert ratio_next > 1 + p / 100 or t_next == res.thresholds[0]


def test_ppl_p_sparsity_monotone_in_p_and_p_zero():
    acts, w = _relu_data(5, signed_w=False)
    sp = [ppl_p_sparsity(_toy_model(acts, w)[0], [(acts, w)], p=p, n_grid=256).sparsity for p in (0.0, 1.0, 10.0)]
    assert sp[0] <= sp[1] <= sp[2] and sp[2] > sp[0]
    # p = 0: only zero contributions may go, so the sparsity is the zero fraction of the activations
    assert sp[0] == np.mean(acts == 0)


def test_ppl_p_sparsity_multi_layer_protocol():
    a1, w1 = _relu_data(6, signed_w=False)
    a2, w2 = _relu_data(7, d_ff=32, signed_w=False)
    seen = []

    def loss_fn(thresholds):
        seen.append(thresholds)
        if thresholds is None:
            return np.zeros(4)
        return np.full(4, 0.01 * sum(thresholds))

    res = ppl_p_sparsity(loss_fn, [(a1, w1), (a2, w2)], p=1.0, n_grid=128)
    assert all(len(t) == 2 for t in seen[1:])
    assert len(res.thresholds) == 2 and res.ppl_ratio <= 1.01


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(p=-1.0), ValueError, "p must"),
        (dict(tol=0.0), ValueError, "tol"),
        (dict(layers=[]), TypeError, "layers"),
        (dict(layers=[(np.ones((3, 4)), np.ones((2, 5)))]), ValueError, "d_ff equal"),
        (dict(loss_fn=3), TypeError, "callable"),
        (dict(loss_fn=lambda t: np.array([np.nan])), ValueError, "non-finite"),
    ],
)
def test_ppl_p_bad_input(kwargs, exc, match):
    acts, w = _relu_data(8)
    args = dict(loss_fn=lambda t: np.zeros(2), layers=[(acts, w)], p=1.0)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        ppl_p_sparsity(args.pop("loss_fn"), args.pop("layers"), **args)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tabulated_cett_equals_direct(seed):
    # the searches read CETT from per-token prefix sums; the direct formula sums in index order: both are
    # the same sum in another order, so they agree to rounding (d_ff additions of O(1) terms: 1e-12 relative)
    from rmt_sparsity.metrics._cett import _CettTable, _dense_norm, _scores

    acts, w = _relu_data(seed)
    acts[3] = 0.0  # a zero-output token (excluded)
    table = _CettTable(acts, w, _scores(acts, w), *_dense_norm(acts, w))
    ts = np.concatenate([[-1.0, 0.0], np.quantile(_scores(acts, w), np.linspace(0.01, 1.0, 40))])
    for t in ts:
        assert table(t) == pytest.approx(cett(acts, w, t), rel=1e-12, abs=1e-15)
    # the search's answer is the same with the table and with the direct formula
    from rmt_sparsity.metrics import _cett as C

    old = C._TABLE_MAX_ENTRIES
    try:
        direct = []
        for limit in (old, 0):
            C._TABLE_MAX_ENTRIES = limit
            direct.append(threshold_for_cett(acts, w, 0.25, n_grid=512))
    finally:
        C._TABLE_MAX_ENTRIES = old
    assert direct[0] == direct[1]
