"""Shared fixtures: experiments that several claims read, run once per ``verify`` run and cached.

A :class:`Fixture` is an experiment split into independent **units** (for the
causal-chain grid, one unit per arm: one compiled ensemble of trained
networks). A claim names the fixtures it reads (``Claim(fixtures=("chain_grid",))``);
the runner resolves them before the claims run and passes their results to
``measure(config, rng, fixtures={id: FixtureResult})``.

* **Seeds.** Every unit of fixture ``F`` draws its randomness from
  :func:`fixture_rng` ``(seed, F)``, a function of the run seed and the
  fixture id only: running some claims (``--only``), some units, or the
  units on different workers never changes a number.
* **Once per run.** :func:`resolve_fixtures` computes each unit once and
  keeps the result in memory for the process; with ``store=`` (``verify``
  uses ``OUT/fixtures``) each unit is also a record of a
  :class:`~rmt_sparsity.experiments.store.ResultStore`, keyed by the unit's
  config, the run seed and the package version, so a later run with the same
  settings reuses it (as an interrupted sweep resumes).
* **Scale-out.** With an ``executor`` (``verify --executor dask``) the units
  are submitted as separate tasks (:func:`run_fixture_unit`), so the grid is
  split across workers.

Fixtures are declared in the catalog modules beside the claims that read them
(a module-level list ``FIXTURES`` of :class:`Fixture` keyword dicts, so the
catalog needs no import from here) and discovered like the claims.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import check_choice
from .._io import to_jsonable
from .claims import PROFILES

__all__ = ["Fixture", "FixtureResult", "fixture_registry", "get_fixture", "fixture_rng", "run_fixture_unit",
           "resolve_fixtures", "clear_fixture_cache"]


@dataclass(frozen=True)
class Fixture:
    """A shared experiment: independent units, each ``run_unit(config, unit, rng) -> dict`` (JSON data).

    Parameters
    ----------
    id : str
        Stable identifier; seeds derive from it (:func:`fixture_rng`).
    description : str
    profiles : mapping
        ``{profile: config}``; a missing profile falls back to the next smaller one.
    units : callable
        ``units(config) -> list of unit ids`` (strings).
    run_unit : callable
        ``run_unit(config, unit, rng) -> dict``; ``rng`` is a fresh
        :func:`fixture_rng` generator, the same for every unit.
    """

    id: str
    description: str
    profiles: Mapping[str, Mapping[str, Any]]
    units: Callable[[Mapping[str, Any]], list]
    run_unit: Callable[..., dict]

    def config_for(self, profile: str) -> dict:
        """The config used under ``profile`` (falling back to the next smaller profile, then the smallest)."""
        check_choice("profile", profile, PROFILES)
        for p in reversed(PROFILES[: PROFILES.index(profile) + 1]):
            if p in self.profiles:
                return dict(self.profiles[p])
        for p in PROFILES:
            if p in self.profiles:
                return dict(self.profiles[p])
        return {}


@dataclass
class FixtureResult:
    """A resolved fixture: its config and the result of every unit.

    ``timings`` (seconds per unit and whether it came from the store) is excluded
    from determinism checks, like the claims' timings.
    """

    id: str
    profile: str
    seed: int
    config: dict
    config_hash: str  # of the config, the run seed and the fixture id (experiments.store.point_key)
    units: dict
    timings: dict = field(default_factory=dict)

    def provenance(self) -> dict:
        """What a claim records about the fixture it read (no timings)."""
        return {"id": self.id, "profile": self.profile, "seed": self.seed, "config_hash": self.config_hash,
                "units": list(self.units)}


_REGISTRY: dict[str, Fixture] | None = None
_CACHE: dict[tuple, FixtureResult] = {}


def fixture_registry() -> dict[str, Fixture]:
    """All fixtures declared by the catalog modules (module-level ``FIXTURES``), by id.

    Examples
    --------
    >>> "chain_grid" in fixture_registry()
    True
    """
    global _REGISTRY
    if _REGISTRY is None:
        from . import catalog

        found: dict[str, Fixture] = {}
        for info in sorted(pkgutil.iter_modules(catalog.__path__), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            mod = importlib.import_module(f"{catalog.__name__}.{info.name}")
            for fx in getattr(mod, "FIXTURES", ()):
                fx = fx if isinstance(fx, Fixture) else Fixture(**fx)
                if fx.id in found:
                    raise RuntimeError(f"duplicate fixture id {fx.id!r} in {mod.__name__}")
                found[fx.id] = fx
        _REGISTRY = found
    return dict(_REGISTRY)


def get_fixture(fixture_id: str) -> Fixture:
    """The registered fixture ``fixture_id``; ``KeyError`` naming the known ones otherwise."""
    reg = fixture_registry()
    if fixture_id not in reg:
        raise KeyError(f"unknown fixture {fixture_id!r}; known: {', '.join(reg) or 'none'}")
    return reg[fixture_id]


def fixture_rng(seed: int, fixture_id: str) -> np.random.Generator:
    """The generator of fixture ``fixture_id`` under run seed ``seed``: a function of those two only.

    Examples
    --------
    >>> fixture_rng(0, "a").random() == fixture_rng(0, "a").random() != fixture_rng(0, "b").random()
    True
    """
    from .._rng import seed_sequence

    return np.random.default_rng(seed_sequence(int(seed), "fixture:" + fixture_id))


def _unit_key(fx: Fixture, config: Mapping, unit: str, seed: int) -> str:
    from .. import __version__
    from .store import point_key

    return point_key({"config": dict(config), "unit": unit, "package_version": __version__}, seed, f"fixture:{fx.id}")


def run_fixture_unit(fixture_id: str, unit: str, *, profile: str, seed: int) -> dict:
    """Compute one unit of a fixture (the task an executor runs): ``run_unit(config, unit, fixture_rng(seed, id))``.

    Returns ``{"result": dict, "seconds": float}``; the result is plain JSON
    (:func:`rmt_sparsity._io.to_jsonable`: non-finite floats become the strings
    ``"nan"``/``"inf"``, which ``float()`` and ``numpy.asarray(..., dtype=float)`` read back).
    """
    fx = get_fixture(fixture_id)
    config = fx.config_for(profile)
    if unit not in fx.units(config):
        raise ValueError(f"fixture {fixture_id!r} has no unit {unit!r} at profile {profile!r}")
    t0 = time.perf_counter()
    result = fx.run_unit(config, unit, fixture_rng(seed, fixture_id))
    # one form whether fresh or read back from the store: JSON types, non-finite floats as "nan"/"inf" strings
    result = json.loads(json.dumps(to_jsonable(result)))
    return {"result": result, "seconds": time.perf_counter() - t0}


def clear_fixture_cache() -> None:
    """Forget the fixture results kept in this process (tests; a store on disk is not touched)."""
    _CACHE.clear()


def resolve_fixtures(ids: Iterable[str], *, profile: str = "quick", seed: int = 0, executor=None, store=None,
                     progress: bool = False) -> dict[str, FixtureResult]:
    """Compute (or fetch) every unit of the fixtures ``ids``; returns ``{id: FixtureResult}``.

    Parameters
    ----------
    ids : iterable of str
        Fixture ids (``KeyError`` for an unknown one, before anything runs).
    profile : {"smoke", "quick", "full"}
    seed : int
        The run seed.
    executor : concurrent.futures.Executor, optional
        Runs the missing units as separate tasks (:func:`run_fixture_unit`).
    store : path-like, optional
        A directory; each fixture keeps its units under ``store/<id>`` as
        :class:`~rmt_sparsity.experiments.store.ResultStore` records, and units
        already there (same config, seed and package version) are reused.
    progress : bool
        Show a progress bar over the units.
    """
    from tqdm.auto import tqdm

    from .store import ResultStore, point_key, point_record

    check_choice("profile", profile, PROFILES)
    fixtures = [get_fixture(i) for i in dict.fromkeys(ids)]
    out: dict[str, FixtureResult] = {}
    for fx in fixtures:
        config = fx.config_for(profile)
        chash = point_key(config, seed, f"fixture:{fx.id}")
        ck = (fx.id, int(seed), chash)  # the same config and seed give the same units, whatever the profile's name
        if ck in _CACHE:
            out[fx.id] = dataclasses.replace(_CACHE[ck], profile=profile)
            continue
        units = list(fx.units(config))
        st = None if store is None else ResultStore(_path(store) / fx.id)
        stored = st.load() if st is not None else {}
        results: dict[str, dict] = {}
        timings: dict[str, dict] = {}
        missing = []
        for u in units:
            key = _unit_key(fx, config, u, seed)
            if key in stored:
                results[u] = stored[key]["result"]
                timings[u] = {"seconds": 0.0, "cached": True, "computed_in_s": stored[key].get("duration_s")}
            else:
                missing.append(u)
        bar = tqdm(total=len(missing), desc=f"fixture {fx.id} ({profile})", unit="unit", disable=not progress)

        def keep(u, done):  # stored as soon as it is done: an interrupted run resumes with what completed
            results[u] = done["result"]
            timings[u] = {"seconds": done["seconds"], "cached": False}
            if st is not None:
                st.put(point_record(_unit_key(fx, config, u, seed), f"fixture:{fx.id}", {"config": config, "unit": u},
                                    seed, results[u], done["seconds"]))
            bar.update()

        try:
            if executor is None:
                for u in missing:
                    bar.set_postfix_str(u)
                    keep(u, run_fixture_unit(fx.id, u, profile=profile, seed=seed))
            else:
                futures = {u: executor.submit(run_fixture_unit, fx.id, u, profile=profile, seed=seed) for u in missing}
                for u, f in futures.items():
                    keep(u, f.result())
        finally:
            bar.close()
        res = FixtureResult(id=fx.id, profile=profile, seed=int(seed), config=config, config_hash=chash,
                            units={u: results[u] for u in units}, timings=timings)
        _CACHE[ck] = res
        out[fx.id] = res
    return out


def _path(p):
    from pathlib import Path

    return Path(p)
