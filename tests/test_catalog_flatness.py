"""The flatness claims run on the smoke profile, and their compare rules decide as documented."""

import math

import pytest

from rmt_sparsity.experiments import Measurement, registry, run_claim
from rmt_sparsity.experiments.catalog import flatness as cat

ALLOWED = {"pass", "fail", "inconclusive"}


@pytest.mark.parametrize("claim_id", ["noise_sharpness_taylor", "noise_sharpness_trace"])
def test_claim_runs_on_smoke(claim_id):
    assert claim_id in registry()
    res = run_claim(claim_id, profile="smoke", seed=0)
    assert res.error is None, res.error
    assert res.verdict.status in ALLOWED
    m = res.measurement
    assert math.isfinite(m.value) and m.se is not None and m.se > 0
    assert m.figures and m.figures[0].kind in {"lines", "bars"}
    assert m.details["activation"] == ("gelu" if claim_id.endswith("taylor") else "relu")
    assert len(m.details["ratio"]) == 2
    assert res.kind == ("identity" if claim_id.endswith("taylor") else "heuristic")


def test_noise_sharpness_taylor_identity_rule():
    """GELU: agreement with 1 within 4 SE *and* within the 1e-3 margin passes; a large SE is inconclusive."""
    pred = cat._taylor_predict({})
    assert cat._taylor_compare(pred, Measurement(1.00001, 1e-5, 400)).status == "pass"
    assert cat._taylor_compare(pred, Measurement(1.01, 1e-4, 400)).status == "fail"  # 100 SE away from 1
    assert cat._taylor_compare(pred, Measurement(1.0, 1e-3, 400)).status == "inconclusive"  # 4 SE > margin


def _kink(r0, se):
    return Measurement(r0, se, 2000, details={"ratio": [r0, r0], "sigmas": [0.01, 0.02]})


def test_noise_sharpness_trace_kink_rule_and_rival():
    """ReLU: R0 > 1 + 1 % passes; the wrong direction fails; the rival 'no kink effect' fails when R0 clears it."""
    pred, rival = cat._kink_predict({}), cat._no_kink_predict({})
    assert pred.thresholds[0].kind == "margin" and pred.band[0] == 1.0 + cat.KINK_MARGIN.value
    assert cat._kink_compare(pred, _kink(1.05, 0.002)).status == "pass"
    assert cat._kink_compare(rival, _kink(1.05, 0.002)).status == "fail"
    assert cat._kink_compare(pred, _kink(0.98, 0.002)).status == "fail"  # significantly the wrong way
    assert cat._kink_compare(pred, _kink(1.012, 0.005)).status == "inconclusive"
    assert cat._kink_compare(rival, _kink(1.0, 0.001)).status == "pass"  # a smooth-looking ReLU: rival holds

