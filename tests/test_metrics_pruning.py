"""Magnitude and N:M pruning, pruning curves and essential sparsity.

Counts are integers (compared exactly); metric values in the curve fixtures are
sums of a few small integers divided once, so they are exact to 1 ulp.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from rmt_sparsity.metrics import (
    PruningCurve,
    essential_sparsity,
    magnitude_mask,
    magnitude_prune,
    magnitude_pruning_curve,
    nm_mask,
    nm_prune,
    nm_pruning_curve,
)


def test_magnitude_prune_hand_ties():
    w = np.array([[2.0, -1.0, 1.0], [1.0, 3.0, -0.5]])
    # |w| sorted (stable): 0.5 (idx 5), 1 (idx 1), 1 (idx 2), 1 (idx 3), 2, 3
    # sparsity 1/3 -> round(2) = 2 pruned: idx 5 and idx 1 (the first of the tied ones)
    assert_array_equal(magnitude_prune(w, 1 / 3), [[2.0, 0.0, 1.0], [1.0, 3.0, 0.0]])
    # sparsity 0.5 -> 3 pruned: idx 5, 1, 2
    assert_array_equal(magnitude_prune(w, 0.5), [[2.0, 0.0, 0.0], [1.0, 3.0, 0.0]])
    assert_array_equal(magnitude_prune(w, 0.0), w)
    assert_array_equal(magnitude_prune(w, 1.0), np.zeros_like(w))


def test_magnitude_prune_is_global_across_layers_and_keeps_structure():
    layers = {"a": np.array([[1.0, 10.0]]), "b": np.array([2.0, 3.0, 4.0, 0.1])}
    out = magnitude_prune(layers, 0.5)  # 3 of 6 smallest: 0.1, 1, 2
    assert list(out) == ["a", "b"]
    assert_array_equal(out["a"], [[0.0, 10.0]])
    assert_array_equal(out["b"], [0.0, 3.0, 4.0, 0.0])
    assert_array_equal(layers["a"], [[1.0, 10.0]])  # input untouched
    seq = magnitude_prune([layers["a"], layers["b"]], 0.5)
    assert isinstance(seq, list) and all(np.array_equal(x, y) for x, y in zip(seq, out.values()))


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.29, 0.5, 0.73, 0.9, 1.0])
def test_magnitude_prune_hits_fraction_exactly_with_ties(sparsity):
    rng = np.random.default_rng(0)
    # 1000 entries with heavy ties (only 7 distinct magnitudes); s * 1000 is an integer
    w = rng.integers(-3, 4, size=(20, 50)).astype(np.float64)
    mask = magnitude_mask(w, sparsity)
    assert np.count_nonzero(~mask) == round(sparsity * 1000)
    # deterministic: the pruned set is identical on a repeat and on a float32 copy
    assert_array_equal(mask, magnitude_mask(w.copy(), sparsity))
    assert_array_equal(mask, magnitude_mask(w.astype(np.float32), sparsity))
    # every pruned magnitude <= every kept magnitude
    if 0 < sparsity < 1:
        assert np.abs(w[~mask]).max() <= np.abs(w[mask]).min()


def test_magnitude_prune_count_is_robust_to_float_products():
    # 0.29 * 100 = 28.999999999999996 and 0.57 * 100 = 56.99999999999999 in float64: the count
    # must still be 29 and 57 (rounded, not truncated)
    w = np.arange(1.0, 101.0)
    assert np.count_nonzero(~magnitude_mask(w, 0.29)) == 29
    assert np.count_nonzero(~magnitude_mask(w, 0.57)) == 57


def test_magnitude_prune_keeps_dtype():
    w = np.arange(8, dtype=np.float32).reshape(2, 4)
    assert magnitude_prune(w, 0.5).dtype == np.float32


@pytest.mark.parametrize("n, m", [(2, 4), (1, 4), (4, 8), (3, 4), (4, 4)])
def test_nm_exact_count_per_group(n, m):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((16, 64))
    w[0, :8] = 0.0  # zero groups still keep exactly n entries (mask), all zero after pruning
    mask = nm_mask(w, n, m)
    groups = mask.reshape(16, 64 // m, m)
    assert np.all(groups.sum(axis=-1) == n)
    # kept are the n largest |w| of the group
    absg = np.abs(w).reshape(16, 64 // m, m)
    kept_min = np.where(groups, absg, np.inf).min(axis=-1)
    dropped_max = np.where(groups, -np.inf, absg).max(axis=-1)
    assert np.all(kept_min >= dropped_max)
    pruned = nm_prune(w, n, m)
    nz = np.count_nonzero(pruned.reshape(16, 64 // m, m)[1:], axis=-1)  # rows 1.. have no zeros
    assert np.all(nz == n)


def test_nm_hand_and_ties():
    w = np.array([[0.1, -3.0, 2.0, 0.5, 1.0, 1.0, 1.0, 1.0]])
    # group 1: keep -3 and 2; group 2 (all tied): keep the first two
    assert_array_equal(nm_prune(w, 2, 4), [[0.0, -3.0, 2.0, 0.0, 1.0, 1.0, 0.0, 0.0]])
    assert_array_equal(nm_prune(w, 1, 4), [[0.0, -3.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]])


def test_nm_groups_along_input_axis():
    # (out, in) = (2, 4): groups are rows' consecutive entries, not columns
    w = np.array([[1.0, 2.0, 3.0, 4.0], [40.0, 30.0, 20.0, 10.0]])
    assert_array_equal(nm_prune(w, 2, 4), [[0, 0, 3, 4], [40, 30, 0, 0]])


def test_curves_hand_computed():
    w = np.arange(1.0, 11.0)  # sum 55

    def evaluate(v):
        return float(np.sum(v)) / 55.0

    c = magnitude_pruning_curve(w, evaluate, [0.3, 0.1])
    # s = 0.1 prunes {1}: 54/55; s = 0.3 prunes {1, 2, 3}: 49/55
    assert_array_equal(c.sparsity, [0.0, 0.1, 0.3])
    np.testing.assert_allclose(c.metric, [1.0, 54 / 55, 49 / 55], rtol=2 * np.finfo(float).eps)
    nm = nm_pruning_curve(w.reshape(1, 10)[:, :8], lambda v: float(np.sum(v)) / 36.0, [(2, 4), (1, 4)])
    # groups (1,2,3,4), (5,6,7,8): 2:4 keeps 3+4+7+8 = 22; 1:4 keeps 4+8 = 12
    assert nm.labels == ("dense", "2:4", "1:4")
    np.testing.assert_allclose(nm.metric, [1.0, 22 / 36, 12 / 36], rtol=2 * np.finfo(float).eps)


def test_essential_sparsity_hand():
    s = [0.0, 0.2, 0.4, 0.6, 0.8, 0.9]
    acc = [0.90, 0.905, 0.895, 0.885, 0.60, 0.20]
    # drops: 0, -0.005, 0.005, 0.015, 0.30, 0.70
    r = essential_sparsity((s, acc), delta=0.01)
    assert r.sparsity == 0.4
    assert essential_sparsity((s, acc), delta=0.02).sparsity == 0.6
    assert essential_sparsity((s, acc), delta=0.0).sparsity == 0.2  # negative drop is within 0
    # knee: x = s/0.9, y = (acc - 0.2)/0.7; y - (1 - x) is max at s = 0.6
    # (0.6/0.9 - 1 + 0.685/0.7 = 0.6453 vs s = 0.8: 0.8889 - 1 + 0.5714 = 0.4603)
    assert r.knee == 0.6
    assert r.baseline == 0.90


def test_essential_sparsity_prefix_rule_and_losses():
    # a recovery after a violation does not count
    s = [0.0, 0.5, 0.7, 0.9]
    acc = [1.0, 0.5, 1.0, 1.0]
    assert essential_sparsity((s, acc), 0.1).sparsity == 0.0
    # loss curve: lower is better
    loss = [1.0, 1.05, 1.2, 3.0]
    assert essential_sparsity((s, loss), 0.1, higher_is_better=False).sparsity == 0.5
    # unsorted input and PruningCurve input agree
    curve = PruningCurve(np.array(s), np.array(loss), ("a", "b", "c", "d"))
    r1 = essential_sparsity(curve, 0.1, higher_is_better=False)
    r2 = essential_sparsity((s[::-1], loss[::-1]), 0.1, higher_is_better=False)
    assert r1.sparsity == r2.sparsity and r1.knee == r2.knee


def test_essential_sparsity_on_a_real_pruning_curve():
    # a linear "model" whose metric is the cosine similarity of its outputs to the dense outputs
    rng = np.random.default_rng(2)
    w = rng.standard_normal((32, 64)) * np.where(rng.random((32, 64)) < 0.2, 10.0, 0.01)
    x = rng.standard_normal((64, 100))
    dense = w @ x

    def evaluate(v):
        y = v @ x
        return float(np.sum(y * dense) / np.linalg.norm(y) / np.linalg.norm(dense)) if np.any(y) else 0.0

    curve = magnitude_pruning_curve(w, evaluate, np.linspace(0.05, 0.95, 19))
    r = essential_sparsity(curve, 0.01)
    # A fraction 0.8 +- 0.009 (binomial sd over 2048 entries) of the weights are tiny (0.01 vs
    # 10): pruning them costs ~1e-6. Beyond, magnitude pruning removes the smallest of the large
    # weights: a fraction q of a half-normal's smallest values carries an energy share of about
    # 2 phi(0) z_q^3 / 3 (z_q = Phi^-1((1+q)/2)), and 1 - cos ~ share / 2. At s = 0.85, q = 0.25
    # +- 0.045 gives 1 - cos in [0.0025, 0.007] < 0.01; at s = 0.90, q = 0.5 gives ~0.036 > 0.01.
    assert np.all(r.drops[curve.sparsity <= 0.75] < 1e-5)
    assert r.sparsity == 0.85
    assert r.knee == 0.85


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: nm_prune(np.ones((2, 4)), 3, 2), "n must satisfy"),
        (lambda: nm_prune(np.ones((2, 4)), 0, 4), "n must be an integer >= 1"),
        (lambda: nm_prune(np.ones((2, 6)), 2, 4), "not a multiple of m=4"),
        (lambda: magnitude_prune(np.ones(4), 1.5), "sparsity"),
        (lambda: magnitude_prune([np.ones(2), np.array([np.nan, 1.0])], 0.5), "finite"),
        (lambda: essential_sparsity(([0.0, 0.5], [1.0, 0.9]), -0.01), "delta"),
        (lambda: essential_sparsity(([0.1, 0.5], [1.0, 0.9]), 0.01), "dense point"),
        (lambda: essential_sparsity(([0.0, 0.5], [1.0]), 0.01), "same length"),
        (lambda: essential_sparsity(([0.0, 0.5], [1.0, np.nan]), 0.01), "finite"),
        (lambda: magnitude_pruning_curve(np.ones(4), lambda w: np.nan, [0.5]), "non-finite"),
    ],
)
def test_pruning_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_curve_masks_equal_magnitude_prune_at_every_sparsity():
    # the curve sorts once; each point must be exactly magnitude_prune at that sparsity (counts and ties)
    from rmt_sparsity.metrics import magnitude_prune, magnitude_pruning_curve

    rng = np.random.default_rng(5)
    w = {"a": np.round(rng.standard_normal((7, 5)), 1), "b": np.round(rng.standard_normal(13), 1)}  # many ties
    seen = []
    grid = np.linspace(0.05, 0.95, 19)
    magnitude_pruning_curve(w, lambda p: seen.append(p) or 0.0, grid)
    for s, p in zip(np.concatenate([[0.0], grid]), seen):
        want = magnitude_prune(w, s) if s > 0 else w
        for k in w:
            np.testing.assert_array_equal(p[k], want[k])
