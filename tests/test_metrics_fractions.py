"""Basic fractions and tau-dormant scores: hand-computed fixtures and bad input.

All expected values are exact rationals worked out in the comments; comparisons
use ``==`` or ``assert_allclose`` at a few ulps (the only rounding is one
division by d_ff or a mean of a handful of floats).
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from rmt_sparsity.metrics import (
    GRADIENT_SPARSITY_TAUS,
    activation_concentration,
    activation_ratio,
    dormant_fraction,
    dormant_scores,
    gradient_sparsity,
    zero_fraction,
)

# 3 tokens x 4 neurons.
ACTS = np.array(
    [
        [0.0, 1.5, 0.0, 2.0],  # 2 zeros of 4 -> 0.5
        [0.0, 0.0, 0.0, 0.0],  # dead token -> 1.0
        [3.0, 1.0, 1e-7, 4.0],  # no exact zero -> 0.0; with atol=1e-6: 1 of 4 -> 0.25
    ]
)


def test_zero_fraction_per_token():
    assert_array_equal(zero_fraction(ACTS), [0.5, 1.0, 0.0])
    assert_array_equal(zero_fraction(ACTS, atol=1e-6), [0.5, 1.0, 0.25])
    # mean over tokens: (0.5 + 1 + 0) / 3 = 0.5
    assert zero_fraction(ACTS, reduce="mean") == 0.5


def test_activation_ratio_is_complement():
    assert_array_equal(activation_ratio(ACTS), [0.5, 0.0, 1.0])
    assert_array_equal(activation_ratio(ACTS, atol=1e-6), [0.5, 0.0, 0.75])


def test_per_layer_and_token_shapes():
    # (layers, tokens, d_ff): layer 0 = ACTS, layer 1 = all ones (no zeros)
    stacked = np.stack([ACTS, np.ones_like(ACTS)])
    out = zero_fraction(stacked)
    assert out.shape == (2, 3)
    assert_array_equal(out, [[0.5, 1.0, 0.0], [0.0, 0.0, 0.0]])


def test_accepts_jax_arrays():
    jnp = pytest.importorskip("jax.numpy")
    assert_array_equal(zero_fraction(jnp.asarray(ACTS)), [0.5, 1.0, 0.0])


def test_activation_concentration_named_boundary_convention():
    h = np.array([[-2.0, -0.0, 0.0, 1.0, -1e-300, 5.0]])
    # region h < 0: -2 and -1e-300 (-0.0 and 0.0 are not < 0) -> 2 of 6
    for name in ("relu", "relu2", "jsrelu"):
        assert_allclose(activation_concentration(h, name), [2 / 6], rtol=0, atol=1e-15)


def test_activation_concentration_derivative_callable():
    h = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]])

    # shifted-S-like derivative: zero for |h| <= 1.5 -> 3 of 5 in the region
    def deriv(x):
        return np.where(np.abs(x) > 1.5, 2.0 * (np.abs(x) - 1.5), 0.0)

    assert_allclose(activation_concentration(h, deriv), [3 / 5], rtol=0, atol=1e-15)
    # J-SquaredReLU derivative (h + 1) 1[h >= 0] agrees with the named convention: 2 of 5
    assert_allclose(
        activation_concentration(h, lambda x: (x + 1) * (x >= 0)), activation_concentration(h, "jsrelu")
    )


def test_gradient_sparsity_thresholds():
    eta = np.array(
        [
            [0.0, 5e-10, 5e-7, 5e-4, 1.0],  # <1e-9: 2, <1e-6: 3, <1e-3: 4 (of 5)
            [-2e-9, -2e-6, 2e-3, 1.0, 0.0],  # <1e-9: 1, <1e-6: 2, <1e-3: 3
        ]
    )
    out = gradient_sparsity(eta)
    assert tuple(out) == GRADIENT_SPARSITY_TAUS
    assert_allclose(out[1e-9], [2 / 5, 1 / 5], atol=1e-15)
    assert_allclose(out[1e-6], [3 / 5, 2 / 5], atol=1e-15)
    assert_allclose(out[1e-3], [4 / 5, 3 / 5], atol=1e-15)
    # strict inequality: |eta| == tau is not below tau
    assert gradient_sparsity([[1e-3]], [1e-3], reduce="mean")[1e-3] == 0.0


def test_dormant_scores_hand_computed():
    acts = np.array([[0.0, 2.0, -1.0, 5.0], [0.0, 2.0, 3.0, 3.0]])
    # E|a_i| = 0, 2, 2, 4; layer mean = 8/4 = 2 -> s = 0, 1, 1, 2
    assert_allclose(dormant_scores(acts), [0.0, 1.0, 1.0, 2.0], rtol=4 * np.finfo(float).eps)
    # tau = 0: 1 of 4; tau = 0.999: 1 of 4; tau = 1: 3 of 4 (s <= tau); tau = 2: all
    assert dormant_fraction(acts, 0.0) == 0.25
    assert_array_equal(dormant_fraction(acts, [0.0, 0.999, 1.0, 2.0]), [0.25, 0.25, 0.75, 1.0])


def test_dormant_all_zero_layer_is_all_dormant():
    assert_array_equal(dormant_scores(np.zeros((3, 4))), np.zeros(4))
    assert dormant_fraction(np.zeros((3, 4)), 0.0) == 1.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: zero_fraction([[0.0, np.nan]]), "activations must be finite"),
        (lambda: zero_fraction([[0.0]], atol=-1.0), "atol"),
        (lambda: zero_fraction([[0.0]], reduce="sum"), "reduce"),
        (lambda: activation_concentration([[0.0]], "gelu"), "activation must be one of"),
        (lambda: activation_concentration([[0.0, 1.0]], lambda h: np.ones(3)), "shape"),
        (lambda: gradient_sparsity([[0.0]], [0.0]), "taus"),
        (lambda: gradient_sparsity([[np.inf]]), "eta must be finite"),
        (lambda: dormant_scores([1.0, 2.0]), "2-D"),
        (lambda: dormant_fraction([[1.0]], -0.1), "tau"),
        (lambda: dormant_fraction([[1.0]], np.nan), "tau"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
