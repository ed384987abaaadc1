"""Tests of rmt_sparsity.theory's discounting: T_eff, the paper's heuristic MP, Kish count, anisotropy."""

import math

import mpmath
import numpy as np
import pytest

from rmt_sparsity.laws import MarchenkoPastur, discounted
from rmt_sparsity.theory import (
    alpha_anisotropy,
    discount_factor,
    discount_window,
    effective_ratio,
    effective_window,
    heuristic_mp,
    kish_effective_samples,
    predicted_alpha,
)


@pytest.mark.parametrize("lr, wd", [(0.1, 0.1), (0.01, 1.0), (1e-3, 0.05), (0.5, 0.2), (0.3, 1e-4)])
@pytest.mark.parametrize("theta", [1e-3, 1e-6, 0.5])
def test_effective_window_is_smallest_T_with_absolute_tail_below_theta(lr, wd, theta):
    # Exact statement: T_eff = min{T >= 0 : sum_{j>T} r^j <= theta}; tail evaluated in 50-digit mpmath.
    mpmath.mp.dps = 50
    r = mpmath.mpf(1) - mpmath.mpf(lr) * mpmath.mpf(wd)
    T = effective_window(lr, wd, theta)
    assert T == int(T) and T >= 0
    tail = lambda k: r ** (k + 1) / (1 - r)  # noqa: E731
    assert tail(int(T)) <= theta
    if T > 0:
        assert tail(int(T) - 1) > theta
    # the *relative* tail is r^(T+1) <= theta (1 - r), not theta
    assert r ** (int(T) + 1) <= theta * (1 - r)


def test_effective_window_known_value_and_no_decay():
    # r = 0.99, theta = 1e-3: log(1e-5)/log(0.99) - 1 = 1144.5 -> 1145 (hand computation)
    assert effective_window(0.1, 0.1) == 1145.0
    assert effective_window(0.1, 0.0) == math.inf


def test_discount_window_is_effective_window_of_r():
    for lr, wd, theta in [(0.1, 0.1, 1e-3), (0.01, 1.0, 1e-6), (0.5, 0.2, 0.5), (0.1, 0.0, 1e-3)]:
        assert discount_window(discount_factor(lr, wd), theta) == effective_window(lr, wd, theta)
    assert discount_window(0.5, 0.3) == 2.0  # tail r^(T+1)/(1-r): 1/2 at T = 1, 1/4 <= 0.3 at T = 2
    with pytest.raises(ValueError, match="r"):
        discount_window(0.0)
    with pytest.raises(ValueError, match="theta"):
        discount_window(0.9, 1.0)


def test_heuristic_ratio_reproduces_design_number():
    # docs/science.md §5: p=100, B=1, r=0.99, t=3000 -> MP eigenvalue ratio 3.38 from the heuristic c.
    c = effective_ratio(100, 1, 3000, 0.1, 0.1)
    assert c == 100 / 1145
    ratio = ((1 + math.sqrt(c)) / (1 - math.sqrt(c))) ** 2
    assert round(ratio, 2) == 3.38
    # before saturation min(t, T_eff) = t
    assert effective_ratio(100, 2, 10, 0.1, 0.1) == 100 / 20


def test_heuristic_mp_against_its_parts_and_the_exact_law():
    # p = 100, B = 1, r = 0.99, t = 3000 (the paper's setting: measured ratio 18.3, heuristic 3.38)
    h = heuristic_mp(100, 0.99, 3000, 1)
    assert h.window == 1145.0 == effective_window(0.1, 0.1)
    assert h.ratio == effective_ratio(100, 1, 3000, 0.1, 0.1)
    assert h.eigenvalue_ratio == MarchenkoPastur(h.ratio).extreme_ratio()
    assert round(h.eigenvalue_ratio, 2) == 3.38
    assert h.law().ratio == h.ratio
    exact = discounted(100 / 3000, 0.99, 3000, 1).ratio_of_edges()
    # the exact limit is ~20 (finite p = 100 pulls the measured ratio down to ~18), 6x the heuristic
    assert 19.5 < exact < 20.5
    assert exact > 5 * h.eigenvalue_ratio
    assert heuristic_mp(10, 1.0, 40, 2).window == math.inf
    # c = 10 > 1: the ratio of the non-zero eigenvalues, ((sqrt c + 1)/(sqrt c - 1))^2
    assert heuristic_mp(100, 0.99, 10, 1).eigenvalue_ratio == pytest.approx(((10**0.5 + 1) / (10**0.5 - 1)) ** 2, rel=1e-14)
    assert heuristic_mp(20, 1.0, 20, 1).eigenvalue_ratio == math.inf  # c = 1: hard edge


@pytest.mark.parametrize("batch, steps, lr, wd", [(4, 700, 0.1, 0.1), (1, 3000, 0.1, 0.1), (2, 50, 0.1, 0.0)])
def test_heuristic_mp_kish_count_is_theory_kish(batch, steps, lr, wd):
    h = heuristic_mp(50, discount_factor(lr, wd), steps, batch)
    assert h.n_eff_kish == kish_effective_samples(batch, steps, lr, wd)


def test_heuristic_mp_bad_input():
    with pytest.raises(ValueError, match="dim"):
        heuristic_mp(0, 0.9, 10)
    with pytest.raises(ValueError, match="theta"):
        heuristic_mp(10, 0.9, 10, theta=0.0)
    with pytest.raises(ValueError, match="r"):
        heuristic_mp(10, 1.5, 10)


@pytest.mark.parametrize("batch, t, lr, wd", [(1, 1, 0.1, 0.1), (3, 17, 0.1, 0.1), (2, 500, 0.05, 0.3), (4, 10, 0.1, 0.0)])
def test_kish_matches_direct_weight_sums(batch, t, lr, wd):
    r = 1 - lr * wd
    w = np.repeat(r ** np.arange(t, dtype=float), batch)
    direct = w.sum() ** 2 / (w**2).sum()
    # sums of <= 2000 positive terms: relative rounding <= 2000 * eps ~ 5e-13
    assert kish_effective_samples(batch, t, lr, wd) == pytest.approx(direct, rel=1e-12)


def test_kish_limit_and_monotone():
    r = 0.99
    lim = kish_effective_samples(5, math.inf, 0.1, 0.1)
    assert lim == pytest.approx(5 * (1 + r) / (1 - r), rel=1e-12)  # closed form, rounding only
    vals = [kish_effective_samples(5, t, 0.1, 0.1) for t in (1, 10, 100, 1000, 10000)]
    assert vals[0] == 5.0
    assert all(a < b for a, b in zip(vals, vals[1:]))
    assert vals[-1] == pytest.approx(lim, rel=1e-12)  # r^10000 = 2e-44: at the limit to rounding


def test_alpha_anisotropy_identity_and_invariance():
    rng = np.random.default_rng(0)
    for p in (2, 7, 50):
        x = rng.standard_normal((p, 3 * p))
        cov = x @ x.T
        alpha, aniso = alpha_anisotropy(cov)
        # A = sqrt(1 - alpha) exactly: relative rounding of O(p eps) in the Frobenius sums
        assert aniso == pytest.approx(math.sqrt(1 - alpha), rel=1e-10)
        a2, _ = alpha_anisotropy(17.0 * cov)  # scale-free
        assert a2 == pytest.approx(alpha, rel=1e-13)
        assert 0 < alpha <= 1
    assert alpha_anisotropy(np.eye(5)) == (1.0, 0.0)


def test_alpha_of_large_mp_is_one_over_one_plus_c():
    # alpha -> m1^2/m2 = 1/(1+c) for MP(c); at p=400 the O(1/p) + sampling error is ~ 1e-2.
    rng = np.random.default_rng(1)
    p, n = 400, 1600
    x = rng.standard_normal((p, n))
    alpha, _ = alpha_anisotropy(x @ x.T)
    assert abs(alpha - 1 / (1 + p / n)) < 0.01
    assert predicted_alpha(p, n, 1, 0.1, 0.0) == pytest.approx(1 / (1 + p / n), rel=1e-15)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(lr=0.0, weight_decay=0.1), "lr"),
        (dict(lr=-1.0, weight_decay=0.1), "lr"),
        (dict(lr=float("nan"), weight_decay=0.1), "lr"),
        (dict(lr=0.1, weight_decay=-0.1), "weight_decay"),
        (dict(lr=0.1, weight_decay=float("nan")), "weight_decay"),
        (dict(lr=1.0, weight_decay=1.0), "lr\\*weight_decay"),
        (dict(lr=0.1, weight_decay=0.1, theta=0.0), "theta"),
        (dict(lr=0.1, weight_decay=0.1, theta=float("nan")), "theta"),
    ],
)
def test_bad_input_names_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        effective_window(**kwargs)


def test_bad_sizes():
    with pytest.raises(ValueError, match="p"):
        effective_ratio(0, 1, 1, 0.1, 0.1)
    with pytest.raises(ValueError, match="batch"):
        kish_effective_samples(0, 1, 0.1, 0.1)
    with pytest.raises(ValueError, match="t must"):
        kish_effective_samples(1, 2.5, 0.1, 0.1)
    with pytest.raises(ValueError, match="lr"):
        discount_factor(0.0, 0.0)
