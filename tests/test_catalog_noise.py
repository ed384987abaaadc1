"""Smoke runs of the noise claims, and a check that a wrong prediction fails."""

import math

import pytest

from rmt_sparsity.experiments import Prediction, run_claim
from rmt_sparsity.experiments.catalog import noise
from rmt_sparsity.experiments.runner import get_claim

IDS = [c.id for c in noise.CLAIMS]


def test_ids_cover_expected():
    assert {"weighted_mp_discounted_covariance", "paper_heuristic_mp_ratio"} <= set(IDS)
    assert {"weight_update_spectrum", "info_plus_noise_concentration"} <= set(IDS)


@pytest.mark.parametrize("cid", IDS)
def test_smoke_runs(cid):
    res = run_claim(cid, profile="smoke", seed=0)
    assert res.error is None, res.error
    pred, meas = res.prediction, res.measurement
    assert math.isfinite(meas.value) and meas.n >= 1
    assert meas.se is None or meas.se >= 0
    assert pred.band[0] < pred.band[1]
    # the recorded theory verdict is the claim's own rule applied to the recorded prediction and statistic
    assert res.theory_verdict == get_claim(cid).compare(pred, meas)
    # every rival was judged, and every threshold says where it comes from
    assert len(res.rivals) == len(get_claim(cid).rivals) >= 2
    rec = res.to_json()
    for t in rec["thresholds"] + [t for rv in rec["rivals"] for t in rv["prediction"]["thresholds"]]:
        assert t.get("derivation") or t.get("justification"), t


def test_weighted_mp_figure_and_wrong_law_fails():
    claim = get_claim("weighted_mp_discounted_covariance")
    cfg = claim.config_for("smoke")
    import numpy as np

    raw = claim.measure(cfg, np.random.default_rng(0))
    pred = claim.predict(cfg)
    meas, verdict = claim.judge(pred, raw)
    (fig,) = meas.figures
    assert fig.kind == "esd_vs_density"
    assert {"eigenvalues", "x", "density", "label"} <= set(fig.data)
    # the W1 to the exact law is smaller than to the paper's heuristic law, on the same eigenvalues
    heur = [r for r in claim.rivals if r.name == "paper's heuristic MP"][0]
    hstat, hverdict = claim.judge(heur.predict(cfg), raw)
    assert meas.value < hstat.value
    assert claim.compare(Prediction(0.0, (0.0, meas.value / 10)), meas).status == "fail"
