"""Shared fixtures: computed once per process, seeded by their id, stored and reused, split over an executor."""

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rmt_sparsity.experiments import fixtures as F
from rmt_sparsity.experiments import runner as R
from rmt_sparsity.experiments.claims import Claim, Measurement, Prediction, within_band

CALLS = []


def _run_unit(config, unit, rng):
    CALLS.append(unit)
    return {"unit": unit, "draw": float(rng.standard_normal()), "scale": config["scale"], "bad": float("nan")}


TOY = F.Fixture(id="toy", description="toy", profiles={"smoke": {"scale": 1}, "full": {"scale": 3}},
                units=lambda cfg: [f"u{i}" for i in range(cfg["scale"] + 1)], run_unit=_run_unit)


def _measure(config, rng, *, fixtures):
    units = fixtures["toy"].units
    return Measurement(float(np.mean([u["draw"] for u in units.values()])), None, 1)


TOY_CLAIM = Claim(id="toy_claim", statement="toy", source="test", predict=lambda c: Prediction(0.0, (-10.0, 10.0)),
                  measure=_measure, compare=within_band, profiles={"smoke": {}}, kind="empirical", fixtures=("toy",))


@pytest.fixture(autouse=True)
def toy_registry(monkeypatch):
    monkeypatch.setattr(F, "_REGISTRY", {**F.fixture_registry(), "toy": TOY})
    reg = {**R.registry(), "toy_claim": TOY_CLAIM}
    monkeypatch.setattr(R, "_REGISTRY", reg)
    F.clear_fixture_cache()
    CALLS.clear()
    yield
    F.clear_fixture_cache()


def test_seed_depends_on_fixture_id_and_run_seed_only():
    a = F.resolve_fixtures(["toy"], profile="smoke", seed=3)["toy"]
    F.clear_fixture_cache()
    b = F.resolve_fixtures(["toy", "toy"], profile="smoke", seed=3)["toy"]
    assert a.units == b.units
    # every unit gets a fresh generator of the fixture's seed: the same draw in each unit
    draws = {u["draw"] for u in a.units.values()}
    assert len(draws) == 1 and draws == {float(F.fixture_rng(3, "toy").standard_normal())}
    F.clear_fixture_cache()
    c = F.resolve_fixtures(["toy"], profile="smoke", seed=4)["toy"]
    assert c.units["u0"]["draw"] != a.units["u0"]["draw"]
    # results are plain JSON (non-finite numbers as strings), the same whether fresh or stored
    assert a.units["u0"]["bad"] == "nan"
    json.dumps(a.units)


def test_computed_once_per_process_and_profile_fallback():
    F.resolve_fixtures(["toy"], profile="smoke", seed=0)
    F.resolve_fixtures(["toy"], profile="smoke", seed=0)
    assert CALLS == ["u0", "u1"]
    r = F.resolve_fixtures(["toy"], profile="quick", seed=0)["toy"]  # quick falls back to smoke's config
    assert r.config == {"scale": 1} and CALLS == ["u0", "u1"]
    F.resolve_fixtures(["toy"], profile="full", seed=0)
    assert CALLS[2:] == ["u0", "u1", "u2", "u3"]


def test_store_reuses_units_and_resumes(tmp_path):
    a = F.resolve_fixtures(["toy"], profile="full", seed=0, store=tmp_path)["toy"]
    assert len(list((tmp_path / "toy" / "records").glob("*.json"))) == 4
    F.clear_fixture_cache()
    CALLS.clear()
    # a lost record is recomputed, the others are read back
    files = sorted((tmp_path / "toy" / "records").glob("*.json"))
    files[0].unlink()
    b = F.resolve_fixtures(["toy"], profile="full", seed=0, store=tmp_path)["toy"]
    assert len(CALLS) == 1 and a.units == b.units
    assert sum(t["cached"] for t in b.timings.values()) == 3
    # another seed is another record
    F.clear_fixture_cache()
    F.resolve_fixtures(["toy"], profile="full", seed=1, store=tmp_path)
    assert len(list((tmp_path / "toy" / "records").glob("*.json"))) == 8


def test_executor_gives_the_same_result():
    a = F.resolve_fixtures(["toy"], profile="full", seed=0)["toy"]
    F.clear_fixture_cache()
    with ThreadPoolExecutor(2) as ex:
        b = F.resolve_fixtures(["toy"], profile="full", seed=0, executor=ex)["toy"]
    assert a.units == b.units


def test_claims_receive_the_fixture_and_only_does_not_change_it():
    res = R.run_claim("toy_claim", profile="smoke", seed=0)
    assert res.error is None, res.error
    assert res.provenance["fixtures"]["toy"]["units"] == ["u0", "u1"]
    assert "fixtures_s" in res.timings
    many = R.run_claims(["toy_claim", "mp_extreme_ratio"], profile="smoke", seed=0)
    assert many[0].measurement.value == res.measurement.value
    assert CALLS == ["u0", "u1"]  # resolved once for both runs


def test_unknown_fixture_and_unit():
    with pytest.raises(KeyError, match="unknown fixture"):
        F.resolve_fixtures(["nope"], profile="smoke")
    with pytest.raises(ValueError, match="no unit"):
        F.run_fixture_unit("toy", "u9", profile="smoke", seed=0)
    with pytest.raises(ValueError, match="profile"):
        F.resolve_fixtures(["toy"], profile="huge")


def test_fixture_seed_scheme_is_the_claims_scheme():
    # fixture streams are named streams of the same SeedSequence scheme as the claims' (runner.claim_seed)
    from rmt_sparsity._rng import seed_sequence

    for seed, name in [(0, "a"), (7, "fixture:chain_grid")]:
        a = np.random.default_rng(seed_sequence(seed, name)).random(3)
        b = np.random.default_rng(R.claim_seed(seed, name)).random(3)
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(F.fixture_rng(3, "toy").random(2),
                                  np.random.default_rng(seed_sequence(3, "fixture:toy")).random(2))
