"""The spectra claims run on the smoke profile."""

import pytest

from rmt_sparsity.experiments.claims import Prediction

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
    """A per-matrix band far from the ratios covers none of them: the coverage statistic fails."""
    import numpy as np

    from rmt_sparsity.experiments.claims import replace_prediction

    claim = registry()["gaussian_concentration_band"]
    good = claim.predict(claim.config_for("smoke"))
    wrong = replace_prediction(claim, lambda cfg: Prediction(good.value, good.band, law=(100.0, 200.0)))
    raw = claim.measure(claim.config_for("smoke"), np.random.default_rng(0))
    stat, verdict = wrong.judge(wrong.predict(claim.config_for("smoke")), raw)
    assert stat.value == 0.0 and verdict.status == "fail"


def test_concentration_rival_is_the_limit_centred_band():
    r = run_claim("gaussian_concentration_band", profile="smoke")
    (rv,) = r.rivals
    lo, hi = rv.prediction.details["single_matrix_band"]
    tlo, thi = r.prediction.details["single_matrix_band"]
    assert lo / tlo == hi / thi > 1.0  # moved up to the limit 9
