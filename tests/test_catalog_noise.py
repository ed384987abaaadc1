"""Smoke runs of the noise claims, and a check that a wrong prediction fails."""

import pytest

from rmt_sparsity.experiments import Prediction, run_claim
from rmt_sparsity.experiments.claims import VERDICTS, get_claim
from rmt_sparsity.experiments.catalog import noise

IDS = [c.id for c in noise.CLAIMS]


def test_ids_cover_expected():
    assert {"weighted_mp_discounted_covariance", "paper_heuristic_mp_ratio"} <= set(IDS)
    assert {"weight_update_spectrum", "info_plus_noise_concentration"} <= set(IDS)


@pytest.mark.parametrize("cid", IDS)
def test_smoke_runs(cid):
    res = run_claim(cid, profile="smoke", seed=0)
    assert res.error is None, res.error
    assert res.verdict.status in VERDICTS


def test_weighted_mp_figure_and_wrong_law_fails():
    claim = get_claim("weighted_mp_discounted_covariance")
    cfg = claim.config_for("smoke")
    import numpy as np

    meas = claim.measure(cfg, np.random.default_rng(0))
    (fig,) = meas.figures
    assert fig.kind == "esd_vs_density"
    assert {"eigenvalues", "x", "density", "label"} <= set(fig.data)
    # the measured W1 against the *heuristic* law is far larger than against the exact law
    assert meas.value < 0.02
    assert claim.compare(Prediction(0.0, (0.0, meas.value / 10)), meas).status == "fail"
