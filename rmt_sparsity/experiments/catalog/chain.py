"""Claims of the paper's causal chain, measured link by link on one shared grid of trained networks."""

from __future__ import annotations

from ..fixtures import Fixture

__all__ = ["CLAIMS", "FIXTURES"]


def _units(config):
    from ..chain_grid import arm_ids

    return arm_ids(config)


def _run_unit(config, unit, rng):
    from ..chain_grid import run_arm

    return run_arm(config, unit, rng)


def _grid_profiles():
    from ..chain_grid import GRID_PROFILES

    return GRID_PROFILES


FIXTURES = [
    Fixture(
        id="chain_grid",
        description="digits (and, on full, MNIST-1D) FFN stacks trained with and without weight noise, MSE and "
        "cross-entropy, plain and with the paper's modules, an SGD arm and a shifted-S arm; 8 seeds per cell",
        profiles=_grid_profiles(),
        units=_units,
        run_unit=_run_unit,
    ),
]

CLAIMS: list = []
