"""The shared statistics helpers: mean ± SE, the Student-t multiplier and the binomial band."""

import math
import statistics

import numpy as np
import pytest
from scipy.stats import binom

from rmt_sparsity._stats import binomial_band, mean_se, t_multiplier


def test_mean_se_matches_the_textbook_formula():
    x = [0.3, 1.7, -0.4, 2.2, 0.9]
    m, se = mean_se(x)
    assert m == pytest.approx(statistics.fmean(x), rel=1e-15)
    assert se == pytest.approx(statistics.stdev(x) / math.sqrt(len(x)), rel=1e-14)
    assert math.isnan(mean_se([1.0])[1])
    with pytest.raises(ValueError, match="at least one value"):
        mean_se([])


def test_mean_se_along_an_axis_is_the_columnwise_scalar_result():
    curves = np.random.default_rng(0).standard_normal((4, 6))
    m, se = mean_se(curves, axis=0)
    for j in range(6):
        assert (m[j], se[j]) == pytest.approx(mean_se(curves[:, j]), rel=1e-14)
    m1, se1 = mean_se(curves[:1], axis=0)
    assert np.all(np.isnan(se1)) and np.array_equal(m1, curves[0])


def test_t_multiplier_table_values():
    # two-sided 95 % Student-t quantiles (any printed table): 12.706 (1 dof), 4.303 (2), 2.045 (29)
    assert t_multiplier(2) == pytest.approx(12.7062047, rel=1e-7)
    assert t_multiplier(3) == pytest.approx(4.30265273, rel=1e-8)
    assert t_multiplier(30) == pytest.approx(2.04522964, rel=1e-8)
    assert t_multiplier(3, level=0.99) == pytest.approx(9.92484320, rel=1e-8)
    assert t_multiplier(1) == math.inf


@pytest.mark.parametrize("m, prob", [(6, 0.95), (50, 0.5), (300, 0.95), (1000, 0.05)])
def test_binomial_band_is_central_and_covers(m, prob):
    lo, hi = binomial_band(m, prob)
    k_lo, k_hi = round(lo * m), round(hi * m)
    assert k_lo / m == lo and k_hi / m == hi  # band ends are attainable fractions
    # each tail outside the band holds at most 2.5 %, and moving either end inwards breaks that
    assert binom.cdf(k_lo - 1, m, prob) <= 0.025 < binom.cdf(k_lo, m, prob)
    assert binom.sf(k_hi, m, prob) <= 0.025 < binom.sf(k_hi - 1, m, prob)
