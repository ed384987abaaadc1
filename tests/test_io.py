"""Atomic writes follow the umask, and JSON conversion has one NaN policy."""

import json
import os
import stat

import numpy as np
import pytest

from rmt_sparsity._io import atomic_write_json, atomic_write_text, to_builtin, to_jsonable


@pytest.mark.parametrize("umask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_umask(tmp_path, umask, expected):
    old = os.umask(umask)
    try:
        path = atomic_write_text(tmp_path / "r.md", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == expected


def test_overwrite_is_atomic_and_leaves_no_temporaries(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "old")
    atomic_write_text(tmp_path / "a.txt", "new")
    assert (tmp_path / "a.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_nan_policy_round_trips(tmp_path):
    obj = {"v": [np.nan, np.inf, -np.inf, np.float32(1.5)], 3: np.int64(7), "b": np.bool_(True)}
    out = to_jsonable(obj)
    assert out == {"v": ["nan", "inf", "-inf", 1.5], "3": 7, "b": True}
    path = atomic_write_json(tmp_path / "c.json", out)
    back = json.loads(path.read_text())
    assert [float(x) for x in back["v"][:3]] == pytest.approx([np.nan, np.inf, -np.inf], nan_ok=True)


def test_to_builtin_keeps_non_finite_floats_and_matches_to_jsonable_elsewhere():
    obj = {"v": (np.nan, np.inf, np.float32(1.5)), 3: np.arange(2), "b": np.bool_(False), "s": "x", "n": None}
    out = to_builtin(obj)
    assert out["v"][0] != out["v"][0] and out["v"][1] == float("inf")  # NaN and inf stay floats
    assert all(type(x) is float for x in out["v"]) and out["3"] == [0, 1] and out["b"] is False
    assert json.dumps(out, allow_nan=True) and to_jsonable(obj)["v"] == ["nan", "inf", 1.5]
    assert {k: v for k, v in out.items() if k != "v"} == {k: v for k, v in to_jsonable(obj).items() if k != "v"}
