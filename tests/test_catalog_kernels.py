"""The sparse_ffn_savings claim runs on the smoke profile, and its verdict rule is honest."""

from __future__ import annotations

import math

import pytest

from rmt_sparsity.experiments import Measurement, Prediction, run_claim
from rmt_sparsity.experiments.runner import get_claim


def test_claim_runs_on_smoke_profile():
    res = run_claim("sparse_ffn_savings", profile="smoke", seed=0)
    assert not res.crashed, res.error
    assert res.verdict.status != "not_implemented"
    assert res.kind == "performance"
    m = res.measurement
    assert m.value > 0 and m.se >= 0
    assert m.details["speedup"] == pytest.approx(m.value / m.details["measured_density"])
    (fig,) = m.figures
    assert fig.kind == "speedup_vs_density"
    assert set(fig.data) >= {"density", "speedup", "ideal"}
    assert len(fig.data["speedup"]["1"]) == len(fig.data["density"])
    # 256 x 1024 float32 = 1 MiB: cache-resident, so the memory-bound ideal does not apply
    assert res.verdict.status == "inconclusive"


def _meas(f, se, memory_bound=True, n=10):
    return Measurement(f, se, n, details={"speedup": f / 0.1, "density": 0.1, "memory_bound": memory_bound, "weight_bytes": 2**26})


@pytest.mark.parametrize(
    "f, se, mb, want",
    [
        (0.95, 0.05, True, "pass"),  # 0.95 - t_{0.95,9} 0.05 = 0.86 >= 0.8
        (0.85, 0.05, True, "inconclusive"),  # interval [0.76, 0.94] straddles 0.8
        (0.60, 0.05, True, "fail"),  # 0.60 + 0.09 < 0.8
        (0.95, math.nan, True, "inconclusive"),  # one repeat: no SE (Measurement refuses NaN SE from n >= 2)
        (0.95, 0.01, False, "inconclusive"),  # cache-resident matrix
    ],
)
def test_compare_rule(f, se, mb, want):
    claim = get_claim("sparse_ffn_savings")
    pred = claim.predict(claim.config_for("quick"))
    assert isinstance(pred, Prediction) and pred.band[0] == 0.8
    assert claim.compare(pred, _meas(f, se, mb, n=1 if math.isnan(se) else 10)).status == want


def test_no_savings_rival():
    """The rival 'no savings' (speed-up <= 1, fraction of ideal <= rho) fails when the kernel clearly beats dense."""
    claim = get_claim("sparse_ffn_savings")
    (rival,) = claim.rivals
    rp = rival.predict(claim.config_for("quick"))
    assert rp.band == (0.0, 0.1)
    assert claim.compare(rp, _meas(0.95, 0.05)).status == "fail"
    assert claim.compare(rp, _meas(0.05, 0.01)).status == "pass"
