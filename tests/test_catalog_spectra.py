"""The spectra claims run on the smoke profile."""

import pytest

from rmt_sparsity.experiments.runner import registry, run_claim

IDS = ["gaussian_concentration_band", "random_layers_read_random"]


@pytest.mark.parametrize("cid", IDS)
def test_claim_smoke(cid):
    assert cid in registry()
    r = run_claim(cid, profile="smoke")
    assert r.error is None, r.error
    assert r.verdict.status != "not_implemented"
    assert r.measurement.figures and r.measurement.figures[0].kind in ("esd_vs_density", "hist_vs_pdf")
    assert run_claim(cid, profile="smoke").measurement.value == r.measurement.value  # deterministic


def test_wrong_prediction_fails():
    from rmt_sparsity.experiments.claims import Prediction, replace_prediction, within_band

    claim = registry()["gaussian_concentration_band"]
    wrong = replace_prediction(claim, lambda cfg: Prediction(0.5, (0.4, 0.6)))
    pred = wrong.predict(claim.config_for("smoke"))
    import numpy as np

    meas = claim.measure(claim.config_for("smoke"), np.random.default_rng(0))
    assert within_band(pred, meas).status == "fail"
