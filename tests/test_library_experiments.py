"""The built-in sweep experiments on trained digits MLPs, each run once at tiny size."""

import math
import tomllib
from pathlib import Path

import pytest

from rmt_sparsity.experiments.library import (
    EXPERIMENTS,
    activation_ratio_vs_steps,
    digits_config,
    get_experiment,
    zero_fraction_vs_sigma,
)
from rmt_sparsity.experiments.store import canonical_json
from rmt_sparsity.experiments.sweep import Sweep

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# the doctests' sizes: the compiled programs are shared within the pytest process
TINY_ZF = {"sigma": 0.1, "width": 8, "depth": 1, "steps": 4, "batch_size": 8, "probe_size": 16}
TINY_AR = {"width": 8, "depth": 1, "steps": 12, "eval_every": 2, "batch_size": 8, "probe_size": 16}


def test_registered():
    assert get_experiment("zero_fraction_vs_sigma") is zero_fraction_vs_sigma
    assert get_experiment("activation_ratio_vs_steps") is activation_ratio_vs_steps
    assert {"zero_fraction_vs_sigma", "activation_ratio_vs_steps"} <= set(EXPERIMENTS)


def test_zero_fraction_vs_sigma_tiny():
    r = zero_fraction_vs_sigma(dict(TINY_ZF), 0)
    canonical_json(r)  # storable: JSON, finite
    assert 0.0 <= r["zero_fraction"] <= 1.0 and len(r["zero_fraction_by_layer"]) == 1
    assert 0.0 <= r["test_accuracy"] <= 1.0 and r["test_loss"] > 0
    assert zero_fraction_vs_sigma(dict(TINY_ZF), 0) == r  # a point depends on (config, seed) only
    assert zero_fraction_vs_sigma(dict(TINY_ZF), 1)["test_loss"] != r["test_loss"]


def test_activation_ratio_vs_steps_tiny():
    r = activation_ratio_vs_steps(dict(TINY_AR), 0)
    canonical_json(r)
    assert r["step"] == [0, 2, 4, 6, 8, 10, 12]
    assert len(r["activation_ratio_trajectory"]) == len(r["D"]) == 7
    assert r["D"][1] == pytest.approx(2 * 8 / 1000)  # examples seen / 1000
    assert r["activation_ratio"] == r["activation_ratio_trajectory"][-1]
    assert all(0.0 <= a <= 1.0 for a in r["activation_ratio_trajectory"])
    for k in ("alpha", "b", "c", "a0", "r2", "aic", "aic_constant", "aic_power_law"):
        assert k in r and (r[k] is None or math.isfinite(r[k]))


def test_through_sweep(tmp_path):
    res = Sweep(zero_fraction_vs_sigma, {k: [v] for k, v in TINY_ZF.items()}, seeds=[0], store=tmp_path,
                executor="serial", experiment="zero_fraction_vs_sigma").run(progress=False)
    # a sweep point is the direct call with the same (config, seed)
    assert res.computed == 1
    assert res.records[0]["result"] == zero_fraction_vs_sigma(dict(TINY_ZF), 0)


def test_bad_configs():
    with pytest.raises(ValueError, match="'sigma'"):
        zero_fraction_vs_sigma({"width": 8}, 0)
    with pytest.raises(ValueError, match=r"config\['sigma'\]"):
        zero_fraction_vs_sigma({"sigma": -0.1}, 0)
    with pytest.raises(TypeError, match=r"config\['width'\]"):
        zero_fraction_vs_sigma({"sigma": 0.1, "width": 8.5}, 0)
    with pytest.raises(ValueError, match=r"config\['optimizer'\]"):
        zero_fraction_vs_sigma({"sigma": 0.1, "optimizer": "lion"}, 0)
    with pytest.raises(ValueError, match="at least 5 evaluations"):
        activation_ratio_vs_steps({"steps": 8, "eval_every": 2}, 0)
    with pytest.raises(ValueError, match=r"config\['eval_every'\]"):
        activation_ratio_vs_steps({"steps": 8, "eval_every": 9}, 0)


@pytest.mark.parametrize("name", ["zero_fraction_vs_sigma.toml", "activation_ratio_vs_steps.toml"])
def test_example_specs_are_valid(name):
    spec = tomllib.loads((EXAMPLES / name).read_text())
    assert spec["experiment"] in EXPERIMENTS
    from rmt_sparsity.experiments.store import expand_grid

    for config in expand_grid(spec["grid"]):
        digits_config(config)  # every grid point passes validation
    plot = spec["plot"]
    assert plot["x"] in spec["grid"]
