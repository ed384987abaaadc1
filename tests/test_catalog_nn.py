"""Smoke runs of the nn claims; their verdict rules; a wrong prediction fails."""

import math

import numpy as np
import pytest

from rmt_sparsity.experiments import Measurement, run_claim
from rmt_sparsity.experiments.catalog import nn as catalog_nn
from rmt_sparsity.experiments.claims import paired_effect
from rmt_sparsity.experiments.runner import get_claim

IDS = [c.id for c in catalog_nn.CLAIMS]


def test_ids():
    assert IDS == ["gradient_identity", "layernorm_norm_facts", "noise_raises_zero_fraction", "modules_raise_sparsity"]


@pytest.mark.parametrize("cid", IDS)
def test_smoke_runs(cid):
    res = run_claim(cid, profile="smoke", seed=0)
    assert res.error is None, res.error
    if cid in ("gradient_identity", "layernorm_norm_facts"):
        assert res.verdict.status == "pass", res.verdict.reason  # exact statements: a fail is a bug
    else:  # paired training effects: the measurement is the mean paired difference, judged by the t rule
        meas = res.measurement
        diffs = meas.details["paired_differences"]
        assert meas.n == len(diffs) == 2 and meas.value == np.mean(diffs)
        for arm in meas.details["per_arm"].values():
            assert all(0.0 <= z <= 1.0 for z in arm["zero_fraction"])
        assert res.verdict == paired_effect(res.prediction, meas)
    if cid == "noise_raises_zero_fraction":
        kinds = [f.kind for f in res.measurement.figures]
        assert kinds == ["bars", "lines"]
        bars = res.measurement.figures[0].data
        assert {"labels", "values", "errors", "ylabel"} <= set(bars)
        assert len(res.measurement.details["paired_differences"]) == 2


def test_effect_rule_uses_student_t():
    claim = get_claim("noise_raises_zero_fraction")
    cmp, pred = claim.compare, claim.predict(claim.config_for("smoke"))
    # n = 3: t_{0.975, 2} = 4.30, so 0.05 +- 0.02 (z = 2.5) is not enough to decide
    assert cmp(pred, Measurement(0.05, 0.02, 3)).status == "inconclusive"
    assert cmp(pred, Measurement(0.05, 0.01, 3)).status == "pass"
    assert cmp(pred, Measurement(-0.05, 0.01, 3)).status == "fail"
    assert cmp(pred, Measurement(0.05, float("nan"), 3)).status == "inconclusive"
    unmatched = Measurement(0.2, 0.01, 3, details={"accuracy_matched": False, "accuracy_note": "drop 0.1"})
    assert cmp(pred, unmatched).status == "inconclusive"


def test_wrong_prediction_fails():
    claim = get_claim("layernorm_norm_facts")
    meas = Measurement(value=5.0, se=0.0)  # a violation five times the tolerance
    assert claim.compare(claim.predict(claim.config_for("smoke")), meas).status == "fail"
    assert math.isfinite(claim.predict(claim.config_for("quick")).band[1])
