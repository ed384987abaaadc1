"""predict_vs_simulate: the simulated discounted covariance against the exact weighted-MP law."""

import math

import numpy as np
import pytest

from rmt_sparsity.laws import MarchenkoPastur
from rmt_sparsity.noise import predict_vs_simulate, wasserstein1_to_law


@pytest.fixture(scope="module")
def table():
    rows = predict_vs_simulate(128, 4, 2000, 0.1, 0.1, seeds=3, rng=11)
    return {r["quantity"]: r for r in rows}


def test_table_columns(table):
    assert set(table) == {"cov_ratio", "lambda_max_over_mean", "lambda_min_over_mean", "alpha", "anisotropy_A", "w1_over_mean"}
    for row in table.values():
        assert {"exact", "heuristic", "simulated", "se", "seeds", "rel_error_exact", "rel_error_heuristic"} <= set(row)


def test_weight_decay_matches_exact_weighted_mp(table):
    # acceptance: W1(ESD/mean, law/mean) <= 2 % of the mean eigenvalue at p = 128
    assert table["w1_over_mean"]["simulated"] <= 0.02
    # the heuristic MP law is much further away (a test that can fail)
    assert table["w1_over_mean"]["rel_error_heuristic"] > 2 * table["w1_over_mean"]["simulated"]


def test_alpha_exact_within_se_heuristic_off(table):
    row = table["alpha"]
    # 4 SE (false-fail < 1e-4) plus the O(1/p) finite-size bias of alpha (1/(1+(p-1)/n_eff) vs
    # 1/(1+p/n_eff): |diff| <= alpha^2 / n_eff ~ 1.3e-3 here)
    assert abs(row["simulated"] - row["exact"]) < 4 * row["se"] + 2e-3
    assert abs(row["rel_error_heuristic"]) > 0.05
    a = table["anisotropy_A"]
    assert a["exact"] == pytest.approx(math.sqrt(1 - row["exact"]), rel=1e-14)


def test_edges_close_to_law(table):
    # edges move by O(p^{-2/3}) ~ 4 % at p = 128 (TW scale); 3 x that
    for q in ("lambda_max_over_mean", "lambda_min_over_mean"):
        assert abs(table[q]["rel_error_exact"]) < 3 * 128 ** (-2 / 3), q


def test_helpers():
    assert MarchenkoPastur(1.0).extreme_ratio() == math.inf
    assert MarchenkoPastur(0.25).extreme_ratio() == pytest.approx(9.0, rel=1e-15)
    assert MarchenkoPastur(4.0).extreme_ratio() == pytest.approx(9.0, rel=1e-15)  # the non-zero spectra of WW^T and W^T W agree
    ev = np.array([0.5, 1.5])
    # W1 between {0.5, 1.5} and the point mass at 1 is 0.5 (cdf of delta_1 = step at 1)
    w1 = wasserstein1_to_law(ev, lambda x: (x >= 1.0).astype(float), 1.0, 1.0)
    # |F_emp - F| = 0.5 on both sides of the kink at 1, which the bisection finds: exact up to rounding
    assert w1 == pytest.approx(0.5, abs=1e-4)
