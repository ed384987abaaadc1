"""The flatness claims run on the smoke profile, and their compare rules decide as documented."""

import math

import pytest

from rmt_sparsity.experiments import Measurement, registry, run_claim
from rmt_sparsity.experiments.catalog import flatness as cat

ALLOWED = {"pass", "fail", "inconclusive"}


@pytest.mark.parametrize("claim_id", ["noise_sharpness_trace"])
def test_claim_runs_on_smoke(claim_id):
    assert claim_id in registry()
    res = run_claim(claim_id, profile="smoke", seed=0)
    assert res.error is None, res.error
    assert res.verdict.status in ALLOWED
    m = res.measurement
    assert math.isfinite(m.value) and m.se is not None and m.se > 0
    assert m.figures and m.figures[0].kind in {"lines", "bars"}
    per = m.details["per_activation"]
    assert set(per) == {"gelu", "relu"} and len(per["relu"]["ratio"]) == 2


def _nst_meas(r0, se0, relu_r):
    per = {"gelu": {"ratio": [r0, r0], "ratio_se": [se0, se0]}, "relu": {"ratio": [relu_r, relu_r], "ratio_se": [0.001, 0.001]}}
    return Measurement(r0, se0, 100, details={"per_activation": per, "smooth_activation": "gelu", "sigmas": [0.01, 0.02]})


def test_noise_sharpness_trace_compare_rule():
    pred = cat._nst_predict({})
    v = cat._nst_compare(pred, _nst_meas(1.0001, 1e-4, 1.05))
    assert v.status == "pass" and "kinks" in v.reason and "z = 50.0" in v.reason
    assert cat._nst_compare(pred, _nst_meas(1.01, 1e-4, 1.0)).status == "fail"  # 100 SE away from 1
    assert "no kink effect resolved" in cat._nst_compare(pred, _nst_meas(1.0, 1e-4, 1.001)).reason
