"""Statistical and exact top-k (Spark Transformer, arXiv:2506.06644)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.special import ndtri

from rmt_sparsity.metrics import exact_topk, kept_fraction, statistical_topk, statistical_topk_threshold

EPS = np.finfo(np.float64).eps
PHI_INV_075 = 0.6744897501960817  # Phi^-1(3/4), the standard normal upper quartile


def test_statistical_topk_hand_population_std():
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    # mean 2.5, population variance ((1.5^2 + 0.5^2) * 2) / 4 = 1.25, k/d = 1/4
    theta = 2.5 + np.sqrt(1.25) * PHI_INV_075  # 3.25410...; with ddof=1 it would be 3.37080...
    assert_allclose(statistical_topk_threshold(x, 1), [[theta]], rtol=4 * EPS)
    assert_allclose(statistical_topk(x, 1), [[0.0, 0.0, 0.0, 4.0 - theta]], rtol=8 * EPS, atol=0)
    # k = d/2: Phi^-1(1/2) = 0, theta = mean
    assert_allclose(statistical_topk(x, 2), [[0.0, 0.0, 0.5, 1.5]], rtol=4 * EPS)


def test_statistical_topk_constant_rows_and_dtype():
    assert_array_equal(statistical_topk(np.full((2, 8), 3.0), 2), np.zeros((2, 8)))
    x32 = np.arange(16, dtype=np.float32).reshape(2, 8)
    assert statistical_topk(x32, 2).dtype == np.float32


def test_statistical_topk_gaussian_rows_keep_k():
    # d = 4096, k = 256, R = 256 rows. Mean kept count vs k within 3 SE (SE = sd/sqrt(R), ~0.64)
    # plus the second-order bias of plugging in the row's own mean and std: with
    # m ~ N(0, 1/d) and E[s] ~ 1 - 3/(4d), E[count] - k ~ phi(z) z (3/4 + 1/2 + z^2/4) ~ 0.35.
    d, k, R = 4096, 256, 256
    x = np.random.default_rng(11).standard_normal((R, d))
    counts = np.count_nonzero(statistical_topk(x, k), axis=1)
    assert_allclose(kept_fraction(statistical_topk(x, k)), counts / d)
    z = ndtri(1 - k / d)
    bias = stats.norm.pdf(z) * z * (1.25 + z**2 / 4)
    se = counts.std(ddof=1) / np.sqrt(R)
    assert abs(counts.mean() - k) <= 3 * se + bias, (counts.mean(), se)


def test_statistical_topk_student_t3_bias():
    # Heavy tails: the row std overstates the bulk's spread, so fewer than k entries pass.
    # d -> infinity limit: d * P(T3 > sqrt(3) z) = 156.7 (std of t3 is sqrt(3)). At d = 4096 the
    # finite-d value, measured by an independent run (R = 20000 rows, default_rng(20250610),
    # 40 chunks of 500 rows of standard_t(3, (500, 4096))), is 162.375 with SE 0.165
    # (row sd 23.27). Tolerance: 3 * sqrt(SE_test^2 + SE_ref^2).
    d, k, R = 4096, 256, 256
    ref_mean, ref_se = 162.375, 0.165
    x = np.random.default_rng(12).standard_t(3, (R, d))
    counts = np.count_nonzero(statistical_topk(x, k), axis=1)
    se = counts.std(ddof=1) / np.sqrt(R)
    assert abs(counts.mean() - ref_mean) <= 3 * np.hypot(se, ref_se), (counts.mean(), se)
    # the bias is large: about 94 of the 256 requested entries are lost (k - count >> 3 SE)
    assert k - counts.mean() > 80
    asym = d * stats.t.sf(np.sqrt(3) * ndtri(1 - k / d), 3)
    assert abs(asym - 156.72) < 0.01


def test_exact_topk_hand_and_ties():
    x = np.array([[3.0, -1.0, 2.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
    assert_array_equal(exact_topk(x, 2), [[3.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    assert_array_equal(exact_topk(x, 4), x)
    # ranked by value, not magnitude: -5 is the smallest
    assert_array_equal(exact_topk([[-5.0, 1.0, 0.5]], 1), [[0.0, 1.0, 0.0]])
    assert_array_equal(kept_fraction(exact_topk(np.arange(1.0, 9.0).reshape(2, 4), 3)), [0.75, 0.75])


def test_exact_topk_keeps_exactly_k_on_continuous_rows():
    x = np.random.default_rng(3).standard_normal((5, 7, 64)) + 5.0  # positive: no kept zeros
    y = exact_topk(x, 10)
    assert y.shape == x.shape
    assert np.all(np.count_nonzero(y, axis=-1) == 10)
    assert np.all(np.where(y > 0, x, np.inf).min(-1) >= np.where(y > 0, -np.inf, x).max(-1))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: statistical_topk(np.ones((2, 8)), 0), ValueError, "k must be an integer >= 1"),
        (lambda: statistical_topk(np.ones((2, 8)), 9), ValueError, "k must be an integer <= 8"),
        (lambda: statistical_topk(np.ones((2, 8)), 8), ValueError, "1 <= k < d"),
        (lambda: exact_topk(np.ones((2, 8)), 9), ValueError, "k must be an integer <= 8"),
        (lambda: exact_topk(np.ones((2, 8)), 2.5), TypeError, "k must be an integer"),
        (lambda: statistical_topk([[1.0, np.nan]], 1), ValueError, "x must be finite"),
    ],
)
def test_topk_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
