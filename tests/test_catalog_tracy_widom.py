"""The tw_largest_eigenvalue claim runs, and a wrong prediction fails."""

from __future__ import annotations

import dataclasses

from rmt_sparsity.experiments.claims import Prediction
from rmt_sparsity.experiments.runner import get_claim, run_claim


def test_smoke_runs_with_allowed_verdict():
    res = run_claim("tw_largest_eigenvalue", profile="smoke", seed=0)
    assert res.error is None, res.error
    assert res.verdict.status != "not_implemented"
    assert res.measurement.figures[0].kind == "histogram_vs_density"
    assert 0.0 <= res.measurement.value <= 1.0
    again = run_claim("tw_largest_eigenvalue", profile="smoke", seed=0)
    assert again.measurement.value == res.measurement.value  # same seed, same numbers


def test_shifted_law_fails():
    """A KS statistic from values shifted by 0.5 TW1 sd must give 'fail'."""
    import numpy as np
    from scipy import stats

    from rmt_sparsity.laws import TracyWidom

    claim = get_claim("tw_largest_eigenvalue")
    cfg = {"p": 50, "n": 100, "draws": 600}
    pred = claim.predict(cfg)
    assert isinstance(pred, Prediction) and pred.band[1] == stats.kstwo.ppf(0.99, 600)
    meas = claim.measure(cfg, np.random.default_rng(1))
    # the same draws against a law shifted by 0.5 sd: D ~ 0.15, far above D_0.99 = 0.066
    tw = TracyWidom(1)
    z_shift = stats.kstest(np.asarray(tw.rvs(600, rng=2)) + 0.5 * tw.std(), tw.cdf).statistic
    bad = dataclasses.replace(meas, value=float(z_shift))
    assert claim.compare(pred, bad).status == "fail"
