"""The flatness claims run on the smoke profile, and their compare rules decide as documented."""

import math

import pytest

from rmt_sparsity.experiments import Measurement, Prediction, registry, run_claim
from rmt_sparsity.experiments.catalog import flatness as cat

ALLOWED = {"pass", "fail", "inconclusive"}


@pytest.mark.parametrize("claim_id", ["noise_sharpness_trace", "noise_trained_flatter"])
def test_claim_runs_on_smoke(claim_id):
    assert claim_id in registry()
    res = run_claim(claim_id, profile="smoke", seed=0)
    assert res.error is None, res.error
    assert res.verdict.status in ALLOWED
    m = res.measurement
    assert math.isfinite(m.value) and m.se is not None and m.se > 0
    assert m.figures and m.figures[0].kind in {"lines", "bars"}
    if claim_id == "noise_sharpness_trace":
        per = m.details["per_activation"]
        assert set(per) == {"gelu", "relu"} and len(per["relu"]["ratio"]) == 2
    else:
        assert len(m.details["log_ratio_trace"]) == 2


def _nst_meas(r0, se0, relu_r):
    per = {"gelu": {"ratio": [r0, r0], "ratio_se": [se0, se0]}, "relu": {"ratio": [relu_r, relu_r], "ratio_se": [0.001, 0.001]}}
    return Measurement(r0, se0, 100, details={"per_activation": per, "smooth_activation": "gelu", "sigmas": [0.01, 0.02]})


def test_noise_sharpness_trace_compare_rule():
    pred = cat._nst_predict({})
    v = cat._nst_compare(pred, _nst_meas(1.0001, 1e-4, 1.05))
    assert v.status == "pass" and "kinks" in v.reason and "z = 50.0" in v.reason
    assert cat._nst_compare(pred, _nst_meas(1.01, 1e-4, 1.0)).status == "fail"  # 100 SE away from 1
    assert "no kink effect resolved" in cat._nst_compare(pred, _nst_meas(1.0, 1e-4, 1.001)).reason


def _ntf_meas(mt, st, ml, sl):
    arm = {"train_loss": [0.1], "weight_rms": [0.5]}
    return Measurement(mt, st, 6, details={"mean_log_ratio_lambda_max": ml, "se_log_ratio_lambda_max": sl,
                                           "per_arm": {"plain": arm, "noisy": arm}})


def test_noise_trained_flatter_compare_rule():
    pred = Prediction(float("nan"), band=(-math.inf, 0.0))
    assert cat._ntf_compare(pred, _ntf_meas(-0.3, 0.05, -0.2, 0.05)).status == "pass"
    assert cat._ntf_compare(pred, _ntf_meas(-0.3, 0.05, 0.2, 0.05)).status == "fail"  # lambda_max higher by 4 SE
    assert cat._ntf_compare(pred, _ntf_meas(-0.3, 0.05, -0.05, 0.05)).status == "inconclusive"
    assert cat._ntf_compare(pred, _ntf_meas(float("nan"), 0.05, -0.2, 0.05)).status == "inconclusive"
