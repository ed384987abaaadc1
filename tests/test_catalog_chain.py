"""The causal-chain claims: they run on a real (smoke) grid arm, recompute their statistics from the grid's
per-seed records, and decide pass / fail / inconclusive as their rules say on grids with known effects."""

import copy
import json
import math

import numpy as np
import pytest

from rmt_sparsity.experiments import fixtures as F
from rmt_sparsity.experiments.catalog import chain
from rmt_sparsity.experiments.claims import replace_prediction
from rmt_sparsity.experiments.runner import get_claim, registry, run_claim

IDS = [c.id for c in chain.CLAIMS]
ALLOWED = {"pass", "fail", "inconclusive"}


def test_every_claim_per_loss_and_registered():
    stems = {cid.rsplit("_", 1)[0] for cid in IDS}
    assert {f"{s}_{loss}" for s in stems for loss in ("mse", "ce")} == set(IDS)
    assert set(IDS) <= set(registry())
    for cid in IDS:
        c = get_claim(cid)
        assert c.fixtures == ("chain_grid",) and c.rivals, cid


@pytest.fixture(scope="module")
def smoke_grid():
    return F.resolve_fixtures(["chain_grid"], profile="smoke", seed=0)["chain_grid"]


def _clone(arm, *, loss=None, arch=None, optimizer=None, levels=None, level_kind="sigma", dataset=None):
    a = copy.deepcopy(arm)
    spec = dict(a["arm"])
    spec.update({k: v for k, v in (("loss", loss), ("arch", arch), ("optimizer", optimizer), ("dataset", dataset))
                 if v is not None})
    if levels is not None:
        old = list(a["cells"].values())
        a["cells"] = {}
        for lv, c in zip(levels, old * len(levels)):
            c = copy.deepcopy(c)
            c["level"] = lv
            a["cells"][str(lv)] = c
        spec["levels"] = list(levels)
    spec["level_kind"] = level_kind
    spec["id"] = f"{spec['dataset']}/{spec['loss']}/{spec['arch']}/{spec['optimizer']}"
    a["arm"] = spec
    return a


def _full_grid(grid):
    """Every arm the claims read, cloned from the one real smoke arm (so every measurement path runs)."""
    base = grid.units["digits/mse/plain/adamw"]
    units = {}
    for loss in ("mse", "ce"):
        for arch in ("plain", "modules", "jsrelu", "zeroth_bias", "restricted_ln", "relu2", "shifted_s"):
            a = _clone(base, loss=loss, arch=arch)
            units[a["arm"]["id"]] = a
        a = _clone(base, loss=loss, optimizer="sgd")
        units[a["arm"]["id"]] = a
        a = _clone(base, loss=loss, arch="magic", levels=[0.05, 0.1], level_kind="noise_ratio")
        units[a["arm"]["id"]] = a
        for arch in ("plain", "modules"):
            a = _clone(base, loss=loss, arch=arch, dataset="mnist1d")
            units[a["arm"]["id"]] = a
    return F.FixtureResult(id="chain_grid", profile="smoke", seed=0, config=grid.config, config_hash="synthetic",
                           units=units)


def _converged(units):
    out = copy.deepcopy(units)
    for a in out.values():
        for c in a["cells"].values():
            c["rule"].update(converged=True, fitted=True, settled=True, fit_level=10.0)
            c["train_loss"] = [1e-3] * len(c["train_loss"])
    return out


def test_smoke_grid_arm_layout(smoke_grid):
    arm = smoke_grid.units["digits/mse/plain/adamw"]
    assert list(arm["cells"]) == ["0.0", "0.1"] and arm["seeds"] == 2
    c0 = arm["cells"]["0.0"]
    assert len(c0["hessian_trace"]) == 2 and len(c0["matched"]["hessian_trace"]) == 2
    assert arm["steps"] == 40 and arm["converged"] is False  # 40 steps: the rule cannot be met
    for k in ("layer0.zero_fraction", "layer1.rel_grad_sparsity@0.01", "layer0.density_ratio"):
        assert len(c0["probes"][k]) == 2
    json.dumps(arm)  # plain JSON


@pytest.mark.parametrize("cid", IDS)
def test_claims_run_on_every_arm_and_gate_on_training(smoke_grid, cid):
    fx = {"chain_grid": _full_grid(smoke_grid)}
    res = run_claim(cid, profile="smoke", seed=0, fixtures=fx)
    assert res.error is None, res.error
    assert res.verdict.status in ALLOWED
    json.dumps(res.to_json())
    if cid.startswith("sparsing_law_fit"):
        return  # 8 checkpoints: too few for the 4-parameter law (inconclusive, not a crash)
    # 40 smoke steps never meet the convergence rule: every verdict is gated
    assert res.measurement.training is not None and not res.measurement.training.reached
    assert res.verdict.status == "inconclusive" and res.verdict.reason.startswith("not converged at 40 steps")


def test_full_only_claims_are_left_out_of_smaller_profiles():
    """Claims reading arms only the full grid trains run in the full profile alone, instead of being reported as
    inconclusive ("no arm") by every smaller run; the MNIST-1D claims read the full grid's MNIST-1D arms."""
    full_only = {cid for cid in IDS if not get_claim(cid).runs_in("quick")}
    expected = {f"{s}_{loss}" for s in ("module_ablation", "relu2_sparser_than_relu") for loss in ("mse", "ce")}
    expected |= {"shifted_s_control_ce", "key_update_weighted_mp_ce"}
    expected |= {f"{s}_mnist1d_{loss}" for s in chain._MNIST1D_LINKS for loss in ("mse", "ce")}
    assert full_only == expected
    for cid in full_only:
        c = get_claim(cid)
        assert c.runs_in("full") and not c.runs_in("smoke") and list(c.profiles) == ["full"]
        assert (c.config_for("full").get("dataset") == "mnist1d") == ("mnist1d" in cid)
    from rmt_sparsity.experiments.chain_grid import GRID_PROFILES, arm_ids

    full_arms, quick_arms = set(arm_ids(GRID_PROFILES["full"])), set(arm_ids(GRID_PROFILES["quick"]))
    assert {f"mnist1d/{loss}/{a}/adamw" for loss in ("mse", "ce") for a in ("plain", "modules")} <= full_arms - quick_arms


def test_claims_report_missing_arms(smoke_grid):
    res = run_claim("shifted_s_control_mse", profile="smoke", seed=0, fixtures={"chain_grid": smoke_grid})
    assert res.error is None and res.verdict.status == "inconclusive" and "no arm" in res.verdict.reason


def test_flatness_statistic_recomputed_from_the_records(smoke_grid):
    fx = {"chain_grid": _full_grid(smoke_grid)}
    arm = fx["chain_grid"].units["digits/mse/plain/adamw"]
    c0, c1 = arm["cells"]["0.0"], arm["cells"]["0.1"]
    res = run_claim("flatness_falls_with_noise_mse", profile="smoke", seed=0, fixtures=fx)
    want = np.log(np.asarray(c0["hessian_trace"], float) / np.asarray(c1["hessian_trace"], float))
    assert res.measurement.value == pytest.approx(want.mean(), rel=1e-12)
    assert res.measurement.se == pytest.approx(want.std(ddof=1) / math.sqrt(want.size), rel=1e-12)
    res = run_claim("flatness_falls_at_matched_loss_mse", profile="smoke", seed=0, fixtures=fx)
    want = np.log(np.asarray(c0["matched"]["hessian_trace"], float) / np.asarray(c1["hessian_trace"], float))
    assert res.measurement.value == pytest.approx(want.mean(), rel=1e-12)


def _with_effect(grid, factor, *, noise=0.02, seeds=8):
    """A converged grid whose sigma = 0.1 cells have tr H and augmented flatness ``factor`` x the plain ones."""
    fx = _full_grid(grid)
    units = _converged(fx.units)
    rng = np.random.default_rng(0)
    for a in units.values():
        c0, c1 = a["cells"].get("0.0"), a["cells"].get("0.1")
        if c0 is None or c1 is None:
            continue
        for c in (c0, c1):  # widen to `seeds` seeds
            for k in ("hessian_trace", "train_loss", "weight_change_all"):
                c[k] = (list(c[k]) * seeds)[:seeds]
            c["matched"] = c0.get("matched")
            c["probes"] = {k: (list(v) * seeds)[:seeds] for k, v in c["probes"].items()}
        jitter = np.exp(noise * np.resize([1.0, -1.0], seeds))  # paired log ratios log(factor) +- noise: mean exact
        base = rng.uniform(10, 20, seeds)
        c0["hessian_trace"] = base.tolist()
        c1["hessian_trace"] = (base * factor * jitter).tolist()
        for n in a["model"]["layer_names"]:
            b = rng.uniform(1, 2, seeds)
            c0["probes"][f"{n}.augmented_flatness"] = b.tolist()
            c1["probes"][f"{n}.augmented_flatness"] = (b * factor * jitter).tolist()
    return {"chain_grid": F.FixtureResult(id="chain_grid", profile="smoke", seed=0, config=fx.config,
                                          config_hash="synthetic", units=units)}


@pytest.mark.parametrize("factor, status", [(0.5, "pass"), (2.0, "fail"), (1.0, "inconclusive")])
def test_flatness_rule_decides_on_known_effects(smoke_grid, factor, status):
    res = run_claim("flatness_falls_with_noise_mse", profile="smoke", seed=0, fixtures=_with_effect(smoke_grid, factor))
    assert res.error is None, res.error
    assert res.measurement.training.reached
    assert res.verdict.status == status, res.verdict.reason
    rival = res.rivals[0]
    assert rival.verdict.status == ("fail" if factor != 1.0 else "inconclusive")
    # the rival swapped in as the prediction cannot pass where the theory passed (same rule, same measurement)
    if status == "pass":
        claim = get_claim("flatness_falls_with_noise_mse")
        swapped = run_claim("flatness_falls_with_noise_mse", profile="smoke", seed=0, fixtures=_with_effect(smoke_grid, factor),
                            claim=replace_prediction(claim, claim.rivals[0].predict))
        assert swapped.verdict.status == "fail"


def test_spearman_interval_matches_scipy_and_covers():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    x = rng.standard_normal(24)
    y = 0.5 * x + rng.standard_normal(24)
    rho, (lo, hi), sd = chain._spearman_ci(x, y, np.random.default_rng(1))
    assert rho == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    assert lo < rho < hi and sd > 0
    # independent data: rho's interval contains 0 in most draws (percentile bootstrap, 90 %)
    cover = 0
    for i in range(40):
        g = np.random.default_rng(100 + i)
        _, (a, b), _ = chain._spearman_ci(g.standard_normal(24), g.standard_normal(24), g, n_boot=400)
        cover += a <= 0 <= b
    assert cover >= 30  # binomial(40, ~0.9): P(< 30) < 1e-3


def test_chain_figure_panels(smoke_grid):
    fig = chain.chain_figure({"chain_grid": _full_grid(smoke_grid)}, "mse")
    assert fig.kind == "chain_panels" and len(fig.data["panels"]) == 5
    flat = fig.data["panels"][0]["series"]
    assert any(k.endswith("tr H") for k in flat)
    for s in flat.values():
        assert s["y"][0] == pytest.approx(1.0)  # relative to sigma = 0
    from rmt_sparsity.report.figures import RENDERERS

    assert "chain_panels" in RENDERERS


@pytest.fixture(scope="module")
def quick_plain_arm():
    unit = "digits/mse/plain/adamw"
    out = F.run_fixture_unit("chain_grid", unit, profile="quick", seed=0)
    return {"chain_grid": F.FixtureResult(id="chain_grid", profile="quick", seed=0, config={}, config_hash="one arm",
                                          units={unit: out["result"]})}


@pytest.mark.slow
@pytest.mark.parametrize("cid", ["flatness_falls_with_noise_mse", "flatness_falls_at_matched_loss_mse",
                                 "ln_norm_does_not_shrink_mse", "gradient_sparsity_rises_with_noise_mse",
                                 "noise_concentrates_key_spectrum_mse", "dormant_grows_with_noise_mse",
                                 "cett_sparsity_rises_with_noise_mse", "essential_sparsity_rises_with_noise_mse",
                                 "nm_pruning_tolerance_with_noise_mse", "sparsing_law_fit_mse"])
def test_rivals_swapped_in_fail_where_the_claim_passes(quick_plain_arm, cid):
    # real measurements at the quick size (the quick grid's MSE plain arm): where the theory passes, each rival
    # put in the prediction's place must fail under the same rule on the same measurement (the claim's power)
    res = run_claim(cid, profile="quick", seed=0, fixtures=quick_plain_arm)
    assert res.error is None, res.error
    if res.theory_verdict.status != "pass":
        pytest.skip(f"the theory does not pass at this size ({res.theory_verdict.status}): nothing to discriminate")
    claim = get_claim(cid)
    for rival in claim.rivals:
        swapped = run_claim(cid, profile="quick", seed=0, fixtures=quick_plain_arm,
                            claim=replace_prediction(claim, rival.predict))
        assert swapped.theory_verdict.status == "fail", (rival.name, swapped.theory_verdict.reason)


@pytest.mark.slow
def test_verify_with_dask_splits_the_grid(tmp_path):
    pytest.importorskip("distributed")
    from rmt_sparsity.cli import main

    F.clear_fixture_cache()
    args = ["verify", "--profile", "smoke", "--only", "flatness_falls_with_noise_mse", "ln_norm_does_not_shrink_mse",
            "--quiet", "--seed", "3"]
    assert main(args + ["--out", str(tmp_path / "dask"), "--executor", "dask"]) == 0
    F.clear_fixture_cache()
    assert main(args + ["--out", str(tmp_path / "local")]) == 0
    recs = [json.loads((tmp_path / d / "claims.json").read_text())["claims"] for d in ("local", "dask")]
    for a, b in zip(*recs):
        assert a["verdict"]["status"] == b["verdict"]["status"]
        # XLA on one thread per worker vs two threads in-process may round differently
        assert a["measurement"]["value"] == pytest.approx(b["measurement"]["value"], rel=1e-5)
    assert list((tmp_path / "dask" / "fixtures" / "chain_grid" / "records").glob("*.json"))
