"""Claims on trained networks: smoke runs, figures, and the verdict rules on synthetic inputs."""

import math

import numpy as np
import pytest

from rmt_sparsity.experiments import Measurement, Prediction, run_claim
from rmt_sparsity.experiments.catalog import trained
from rmt_sparsity.experiments.runner import get_claim, registry
from rmt_sparsity.experiments.sparsing_law import fit_pure_power_law, sparsing_analysis, sparsing_verdict
from rmt_sparsity.metrics import sparsing_law_relu

IDS = [c.id for c in trained.CLAIMS]


def test_ids_are_the_expected_ones():
    assert IDS == ["trained_key_concentration", "sparsing_law_fit", "noise_tolerates_pruning"]
    assert set(IDS) <= set(registry())


@pytest.fixture(scope="module")
def smoke():
    return {cid: run_claim(cid, profile="smoke", seed=0) for cid in IDS}


@pytest.mark.parametrize("cid", IDS)
def test_smoke_runs(smoke, cid):
    res = smoke[cid]
    assert res.error is None, res.error
    assert res.verdict.status != "not_implemented"
    assert res.measurement.details["settings"]  # every claim states its settings
    assert res.measurement.details["settings"]["steps"] == res.provenance["config"]["steps"]
    # the recorded verdict is the claim's own rule applied to the recorded prediction and measurement
    assert res.verdict == get_claim(cid).compare(res.prediction, res.measurement)


def test_key_concentration_smoke_figures(smoke):
    res = smoke["trained_key_concentration"]
    meas, pred = res.measurement, res.prediction
    assert [f.kind for f in meas.figures] == ["lines", "bars"]
    lines = meas.figures[0].data
    assert {"x", "series", "errors", "hlines", "xlabel", "ylabel"} <= set(lines)
    assert list(lines["series"]) == ["layer0"] and len(lines["series"]["layer0"]) == len(lines["x"])
    # the over-training curve (nn probes) and the verdict (spectra) use one convention: same value at the end
    per = meas.details["per_layer"]["layer0"]
    # (both in float64 from the same float32 weights, Gram eigvalsh with or without the 1/n scaling: rounding
    # ~ 1e2 eps x the ratio (~10) << 1e-11)
    np.testing.assert_allclose(lines["series"]["layer0"][-1], np.mean(per["trained"]), rtol=1e-11)
    # the init point of the curve is the init matrices' concentration
    np.testing.assert_allclose(lines["series"]["layer0"][0], np.mean(per["init"]), rtol=1e-11)
    assert meas.n == 2 and 0.0 <= meas.value <= 1.0
    assert {"init_fraction_in_band", "random_band", "trained_over_init_mean"} <= set(meas.details)
    assert len(per["trained_mean_nonzero"]) == 2
    lo, hi = pred.details["single_matrix_band"]
    assert lo < pred.details["limit"] < hi  # 9 lies in the 128 x 32 band
    assert meas.details["random_band"] == pytest.approx([lo, hi], rel=1e-9)  # same law, two entry points


def test_sparsing_law_smoke_figure(smoke):
    res = smoke["sparsing_law_fit"]
    (fig,) = res.measurement.figures
    assert fig.kind == "lines"
    assert {"measured", "fit"} <= set(fig.data["series"])
    n = len(fig.data["x"])
    assert n == 8 and all(len(v) == n for v in fig.data["series"].values())  # 40 steps / 5, step 0 dropped
    assert res.verdict.status == res.measurement.details["rule_status"]


def test_pruning_smoke_figures(smoke):
    res = smoke["noise_tolerates_pruning"]
    kinds = [f.kind for f in res.measurement.figures]
    assert kinds == ["bars", "lines"]
    bars = res.measurement.figures[0].data
    assert {"labels", "values", "errors", "ylabel"} <= set(bars) and len(bars["labels"]) == 2
    d = res.measurement.details
    assert len(d["paired_differences"]) == 2
    assert res.measurement.se >= d["se_components"]["half_grid_step"]  # the grid term is always included
    # essential sparsities are grid values (step 0.05 in smoke)
    for arm in ("plain", "noise"):
        for s in d["per_arm"][arm]["essential_sparsity"]:
            assert abs(s / 0.05 - round(s / 0.05)) < 1e-9


# ----------------------------------------------------------------------------- rules


def test_paired_grid_se_formula_and_rule():
    m, se = trained._paired_grid_se([0.02, 0.04, 0.06], 0.02)
    # sqrt(s^2/n + (h/2)^2) with s = 0.02, n = 3, h = 0.02; rounding only (a few ulps)
    assert m == pytest.approx(0.04, rel=1e-12)
    assert se == pytest.approx(math.sqrt(0.02**2 / 3 + 0.01**2), rel=1e-12)
    claim = get_claim("noise_tolerates_pruning")
    cmp, pred = claim.compare, claim.predict({"prune_step": 0.02, "delta": 0.01})
    # identical differences of one grid step: SE = h/2 = 0.01, t_{0.975,2} = 4.30 -> 0.02 - 0.043 < 0
    m, se = trained._paired_grid_se([0.02] * 3, 0.02)
    assert cmp(pred, Measurement(m, se, 3)).status == "inconclusive"
    m, se = trained._paired_grid_se([0.1] * 3, 0.02)
    assert cmp(pred, Measurement(m, se, 3)).status == "pass"
    m, se = trained._paired_grid_se([-0.1] * 3, 0.02)
    assert cmp(pred, Measurement(m, se, 3)).status == "fail"


def test_prune_grid():
    g = trained._prune_grid(0.02)
    assert g[0] == 0.02 and g[-1] == 0.98 and g.size == 49
    np.testing.assert_allclose(np.diff(g), 0.02, rtol=1e-9)


def _decide(D, A):
    return sparsing_verdict(sparsing_analysis(D, A, a0_method="wald"), r2_min=0.9)


def test_sparsing_rule_passes_on_the_law():
    rng = np.random.default_rng(0)
    D = np.linspace(1.0, 60.0, 50)
    A = sparsing_law_relu(D, alpha=0.5, b=0.0, c=0.5, a0=0.4) + 1e-3 * rng.standard_normal(D.size)
    status, reason = _decide(D, A)
    assert status == "pass", reason


def test_sparsing_rule_inconclusive_without_trend():
    # pure noise around a constant: the law's 3 extra parameters buy ~chi2_3 of AIC minus 6,
    # far below the 10 needed to claim a trend (P(chi2_3 > 16) ~ 1e-3; fixed seed)
    rng = np.random.default_rng(1)
    D = np.linspace(1.0, 60.0, 50)
    status, reason = _decide(D, 0.45 + 1e-3 * rng.standard_normal(D.size))
    assert status == "inconclusive", reason
    assert "no trend" in reason


def test_sparsing_rule_fails_on_a_rising_ratio():
    rng = np.random.default_rng(2)
    D = np.linspace(1.0, 60.0, 50)
    A = 0.3 + 0.1 * (1.0 - np.exp(-D / 10.0)) + 1e-3 * rng.standard_normal(D.size)
    status, reason = _decide(D, A)
    assert status == "fail", reason


def test_sparsing_rule_does_not_pass_a_pure_power_law():
    # the ReLU law contains the power law only as its alpha -> 0 boundary (A0 = 0): it cannot beat it
    rng = np.random.default_rng(3)
    D = np.linspace(1.0, 60.0, 50)
    A = 0.5 * D**-0.3 + 1e-3 * rng.standard_normal(D.size)
    status, reason = _decide(D, A)
    assert status in ("inconclusive", "fail"), reason


def test_power_law_fit_recovers_parameters():
    D = np.linspace(1.0, 30.0, 20)
    f = fit_pure_power_law(D, 0.7 * D**-0.25)
    # exact data: Levenberg-Marquardt converges to rounding (xtol 1e-8 relative)
    assert f["k"] == pytest.approx(0.7, rel=1e-6) and f["beta"] == pytest.approx(0.25, rel=1e-6)
    assert math.isnan(fit_pure_power_law(D, np.r_[0.0, np.ones(19)])["aic"])  # A <= 0: undefined


def test_concentration_rule():
    claim = get_claim("trained_key_concentration")
    pred = claim.predict({"width": 32, "depth": 2, "seeds": 3})
    # m = 6 matrices: Binomial(6, 0.95)/6 has P(X <= 3) = 0.002, P(X <= 4) = 0.033 -> band [4/6, 1]
    assert pred.band == pytest.approx((4 / 6, 1.0))
    assert pred.details["limit"] == 9.0  # ((1 + sqrt c)/(1 - sqrt c))^2 at c = 1/4
    assert claim.compare(pred, Measurement(1.0, None, 6, details={"summary": "x"})).status == "pass"
    assert claim.compare(pred, Measurement(0.5, None, 6, details={"summary": "x"})).status == "fail"


def test_wrong_prediction_fails():
    # a claim whose prediction is off must fail: the key-matrix band moved away from the measured fraction
    wrong = Prediction(0.05, band=(0.0, 0.1))
    compare = get_claim("trained_key_concentration").compare
    assert compare(wrong, Measurement(1.0, None, 6, details={"summary": ""})).status == "fail"
