"""The tw_largest_eigenvalue claim runs, its rivals are judged on the same draws, and a wrong law fails."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats

from rmt_sparsity.experiments.claims import Prediction
from rmt_sparsity.experiments.runner import get_claim, run_claim


def test_smoke_runs_with_allowed_verdict():
    res = run_claim("tw_largest_eigenvalue", profile="smoke", seed=0)
    assert res.error is None, res.error
    assert res.verdict.status != "not_implemented"
    assert res.measurement.figures[0].kind == "histogram_vs_density"
    assert 0.0 <= res.measurement.value <= 1.0
    assert [r.name for r in res.rivals] == ["TW2 (wrong beta)", "Gaussian, same mean and variance"]
    assert set(res.measurement.figures[0].data["overlays"]) == {f"rival: {r.name}" for r in res.rivals}
    assert res.rivals[0].verdict.status == "fail"  # TW2 with its own centring is far off even at smoke size
    again = run_claim("tw_largest_eigenvalue", profile="smoke", seed=0)
    assert again.measurement.value == res.measurement.value  # same seed, same numbers


def test_shifted_law_fails():
    """The same draws shifted by 0.5 TW1 sd must give 'fail' against TW1."""
    from rmt_sparsity.laws import TracyWidom

    claim = get_claim("tw_largest_eigenvalue")
    cfg = {"p": 50, "n": 100, "draws": 600}
    pred = claim.predict(cfg)
    assert isinstance(pred, Prediction) and pred.band[1] == stats.kstwo.ppf(0.99, 600)
    assert pred.thresholds[0].kind == "critical_value" and "kstwo" in pred.thresholds[0].derivation
    raw = claim.measure(cfg, np.random.default_rng(1))
    stat, verdict = claim.judge(pred, raw)
    shifted = dataclasses.replace(raw, raw=raw.raw + 0.5 * TracyWidom(1).std() * pred.law.s)
    stat2, verdict2 = claim.judge(pred, shifted)
    assert stat2.value > 2 * pred.band[1] and verdict2.status == "fail"
