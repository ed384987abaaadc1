"""Smoke runs of the nn claims; their verdict rules; a wrong prediction fails."""

import math

import pytest

from rmt_sparsity.experiments import Measurement, run_claim
from rmt_sparsity.experiments.catalog import nn as catalog_nn
from rmt_sparsity.experiments.runner import get_claim

IDS = [c.id for c in catalog_nn.CLAIMS]


def test_ids():
    assert IDS == ["gradient_identity", "layernorm_norm_facts"]


@pytest.mark.parametrize("cid", IDS)
def test_smoke_runs(cid):
    res = run_claim(cid, profile="smoke", seed=0)
    assert res.error is None, res.error
    assert res.verdict.status == "pass", res.verdict.reason  # exact statements: a fail is a bug


def test_wrong_prediction_fails():
    claim = get_claim("layernorm_norm_facts")
    meas = Measurement(value=5.0, se=0.0)  # a violation five times the tolerance
    assert claim.compare(claim.predict(claim.config_for("smoke")), meas).status == "fail"
    assert math.isfinite(claim.predict(claim.config_for("quick")).band[1])
