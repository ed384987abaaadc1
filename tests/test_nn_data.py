"""Offline data sets: determinism, shapes, and the mnist1d global-RNG guard."""

import random

import numpy as np
import pytest

from rmt_sparsity.nn import Dataset, gaussian_mixture, load_digits, load_mnist1d, teacher_student


def test_mnist1d_leaves_global_random_state_untouched():
    np.random.seed(1234)
    random.seed(99)
    np_before, py_before = np.random.get_state(), random.getstate()
    ds = load_mnist1d(num_samples=100)
    np_after, py_after = np.random.get_state(), random.getstate()
    assert np_before[0] == np_after[0] and np.array_equal(np_before[1], np_after[1]) and np_before[2:] == np_after[2:]
    assert py_before == py_after
    assert ds.x_train.shape == (80, 40) and ds.n_classes == 10
    again = load_mnist1d(num_samples=100)
    np.testing.assert_array_equal(ds.x_train, again.x_train)  # its own seed: reproducible


def test_digits_split_is_seeded():
    a, b, c = load_digits(rng=0), load_digits(rng=0), load_digits(rng=1)
    assert a.x_train.shape == (1438, 64) and a.x_train.max() <= 1.0
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.y_train, c.y_train)


def test_synthetic_sets_are_seeded():
    for make in (lambda r: teacher_student(n_train=20, n_test=5, rng=r), lambda r: gaussian_mixture(n_train=20, n_test=5, rng=r)):
        a, b = make(3), make(3)
        np.testing.assert_array_equal(a.x_train, b.x_train)
        np.testing.assert_array_equal(a.y_test, b.y_test)
    gm = gaussian_mixture(n_train=400, n_test=4, d=2, n_classes=4, separation=0.0, rng=0)
    assert np.bincount(gm.y_train, minlength=4).min() >= 90  # balanced labels (exactly 101 or 100 per class overall)


def test_dataset_validation():
    with pytest.raises(ValueError, match="labels must lie in"):
        Dataset(np.zeros((2, 3)), np.array([0, 5]), np.zeros((1, 3)), np.array([0]), 3)
    with pytest.raises(ValueError, match="rows"):
        Dataset(np.zeros((2, 3)), np.array([0]), np.zeros((1, 3)), np.array([0]), 3)
    with pytest.raises(ValueError, match="finite"):
        teacher_student(n_train=2, n_test=1, d_in=2, noise=float("inf"))


def test_sizes_and_class_counts_are_refused_up_front():
    with pytest.raises(ValueError, match=r"n_classes must be an integer >= 2 and <= 2147483647; got 0"):
        Dataset(np.zeros((2, 3)), np.array([0, 1]), np.zeros((1, 3)), np.array([0]), 0)
    with pytest.raises(TypeError, match="n_classes must be an integer"):
        Dataset(np.zeros((2, 3)), np.array([0, 1]), np.zeros((1, 3)), np.array([0]), "2")
    with pytest.raises(ValueError, match=r"n_train, n_test, d, n_classes = .* needs about .* of memory"):
        gaussian_mixture(n_train=10**12, n_test=1, d=3, n_classes=2, rng=0)
    with pytest.raises(ValueError, match=r"n_train, n_test, d_in, d_out, teacher_width = .* needs about"):
        teacher_student(n_train=8, n_test=1, d_in=3, teacher_width=10**12, rng=0)
    with pytest.raises(ValueError, match=r"num_samples = 10\*\*12 needs about"):
        load_mnist1d(num_samples=10**12)
