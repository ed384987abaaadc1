"""Power and calibration of the verdicts at the quick size (slow).

* Power: for every claim with rivals (the RMT and flatness claims), measure once at the
  quick size and swap each rival in as the prediction: the claim's own rule on that real
  measurement must return ``fail``. (``benchmarks/claim_power.py`` gives each rival's
  failure rate over many seeds.)
* Calibration: for each rule, the false-fail rate under the true model over fixed seeds is
  at most its level alpha, within the one-sided 97.5 % binomial bound for the seeds used.
"""

import numpy as np
import pytest

from rmt_sparsity._stats import binomial_band
from rmt_sparsity.experiments.runner import claim_seed, get_claim, registry

pytestmark = pytest.mark.slow

# claims on the shared trained grid (fixtures) have their own rival-swap test in test_catalog_chain.py
POWER_IDS = [cid for cid, c in registry().items()
             if c.rivals and c.kind not in ("empirical", "performance") and not c.fixtures]


def _upper(n, alpha):
    """One-sided 97.5 % upper bound of the fail count / n when the true rate is alpha."""
    return binomial_band(n, alpha)[1]


@pytest.mark.parametrize("cid", POWER_IDS)
def test_each_rival_swapped_in_fails_on_a_real_measurement(cid):
    claim = get_claim(cid)
    cfg = claim.config_for("quick")
    raw = claim.measure(cfg, np.random.default_rng(claim_seed(0, cid)))
    _, theory = claim.judge(claim.predict(cfg), raw)
    verdicts = {}
    for rival in claim.rivals:
        stat, v = claim.judge(rival.predict(cfg), raw)
        verdicts[rival.name] = (v.status, stat.value, v.reason[:200])
    failing = {k: v for k, v in verdicts.items() if v[0] != "fail"}
    assert not failing, f"theory {theory.status}; rivals that do not fail: {failing}"


def test_calibration_mc_critical_value_rule_mp_esd():
    """KS against its Monte-Carlo critical value, dense Wishart measurements (the exact model): <= alpha."""
    claim = get_claim("mp_esd_matches_wishart")
    cfg = claim.config_for("quick")
    pred = claim.predict(cfg)
    n = 20
    fails = sum(claim.judge(pred, claim.measure(cfg, np.random.default_rng([777, s])))[1].status == "fail"
                for s in range(n))
    assert fails / n <= _upper(n, 0.05), fails


def test_calibration_ks_rule_tw_exact_draws():
    """The TW claim's KS rule on exact TW1 variates (the true model of its law): false-fail rate <= 0.01."""
    import dataclasses

    from rmt_sparsity.laws import TracyWidom

    claim = get_claim("tw_largest_eigenvalue")
    cfg = dict(claim.config_for("quick"), draws=1000)
    pred = claim.predict(cfg)
    raw0 = claim.measure(dict(cfg, draws=20), np.random.default_rng(0))
    tw = TracyWidom(1)
    n = 100
    fails = 0
    for s in range(n):
        z = np.asarray(tw.ppf(np.random.default_rng([99, s]).random(cfg["draws"])))
        raw = dataclasses.replace(raw0, raw=pred.law.mu + pred.law.s * z, n=cfg["draws"])
        fails += claim.judge(pred, raw)[1].status == "fail"
    assert fails / n <= _upper(n, 0.01), fails


def test_calibration_binomial_coverage_rule():
    """A per-matrix band with exact 95 % coverage: the coverage claim's rule fails at most 5 % of the time."""
    import dataclasses

    claim = get_claim("mp_extreme_ratio")
    cfg = claim.config_for("quick")
    pred = claim.predict(cfg)
    lo, hi = pred.law
    raw0 = claim.measure(dict(cfg, matrices=10), np.random.default_rng(0))
    n, fails = 400, 0
    for s in range(n):
        g = np.random.default_rng([5, s])
        inside = g.random(cfg["matrices"]) < 0.95
        ratios = np.where(inside, lo + (hi - lo) * g.random(cfg["matrices"]), hi * 1.5)
        fails += claim.judge(pred, dataclasses.replace(raw0, raw=ratios, n=cfg["matrices"]))[1].status == "fail"
    assert fails / n <= _upper(n, 0.05), fails


def test_calibration_seed_mean_band_rule():
    """The heuristic claim's seed-mean band under its own model (fresh Wishart draws): fails at most 5 %."""
    from rmt_sparsity.ensembles import laguerre_eigenvalues
    from rmt_sparsity.experiments.claims import Measurement, Prediction, within_band
    from rmt_sparsity.noise import extreme_ratio

    claim = get_claim("paper_heuristic_mp_ratio")
    cfg = claim.config_for("quick")
    pred = claim.predict(cfg)
    case = pred.details["cases"][str(cfg["headline_r"])]
    n, fails = 200, 0
    for s in range(n):
        g = np.random.default_rng([11, s])
        m = float(np.mean([extreme_ratio(laguerre_eigenvalues(cfg["p"], case["n"], rng=g)) for _ in range(cfg["seeds"])]))
        fails += within_band(Prediction(case["mp_ratio"], tuple(case["band"])), Measurement(m)).status == "fail"
    assert fails / n <= _upper(n, 0.05), fails


def test_calibration_weighted_mp_w1_rule_real_measurements():
    """The weighted-MP claim on simulated SGD covariances (the theory is the limit): false fails <= alpha."""
    claim = get_claim("weighted_mp_discounted_covariance")
    cfg = claim.config_for("quick")
    pred = claim.predict(cfg)
    n = 20
    fails = sum(claim.judge(pred, claim.measure(cfg, np.random.default_rng([31, s])))[1].status == "fail"
                for s in range(n))
    assert fails / n <= _upper(n, 0.05), fails
