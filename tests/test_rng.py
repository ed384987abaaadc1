"""The rng normalisation helper: seeds, generators and bad input."""

import numpy as np
import pytest

from rmt_sparsity._rng import as_generator, numba_seeds, spawn


def test_same_seed_same_stream():
    assert np.array_equal(as_generator(7).random(5), as_generator(7).random(5))


def test_generator_passed_through_advances_callers_stream():
    g = np.random.default_rng(3)
    assert as_generator(g) is g


def test_none_gives_fresh_entropy():
    # Two OS-entropy generators collide with probability 2^-64 per draw.
    assert as_generator(None).integers(2**62) != as_generator(None).integers(2**62)


def test_seed_sequence_and_list():
    ss = np.random.SeedSequence(5)
    assert np.array_equal(as_generator(ss).random(3), np.random.default_rng(np.random.SeedSequence(5)).random(3))
    assert np.array_equal(as_generator([1, 2]).random(3), np.random.default_rng([1, 2]).random(3))


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), (True, TypeError), ("3", TypeError), (1.5, TypeError),
                                      (np.random.RandomState(0), TypeError), ([-1, 2], ValueError)])
def test_bad_rng(bad, exc):
    with pytest.raises(exc, match="rng"):
        as_generator(bad)


def test_spawn_children_independent_and_reproducible():
    a = [g.random(4) for g in spawn(11, 3)]
    b = [g.random(4) for g in spawn(11, 3)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], a[1])
    with pytest.raises(ValueError, match="k must be"):
        spawn(0, -1)


def test_numba_seeds():
    s = numba_seeds(0, 4)
    assert s.dtype == np.int64 and s.shape == (4,) and (s >= 0).all()
    assert np.array_equal(s, numba_seeds(0, 4))


def test_no_global_state_touched():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    as_generator(5).random(10)
    spawn(5, 2)
    assert np.array_equal(np.random.get_state()[1], before)
