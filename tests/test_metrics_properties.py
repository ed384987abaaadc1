"""Hypothesis properties of the sparsity metrics: neuron-permutation invariance, fractions in [0, 1].

Permutation tests draw small *integer-valued* activations and weights, so every
sum (outputs, tails, counts) is exact in float64 and the metrics must agree
exactly, not just to rounding, under a relabelling of the neurons.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rmt_sparsity.metrics import (
    activation_concentration,
    activation_ratio,
    cett,
    cett_pruned_fraction,
    dormant_fraction,
    dormant_scores,
    exact_topk,
    gradient_sparsity,
    kept_fraction,
    magnitude_mask,
    nm_mask,
    statistical_topk,
    threshold_for_cett,
    zero_fraction,
)

SETTINGS = settings(max_examples=40, deadline=None)

_dims = st.tuples(st.integers(1, 6), st.integers(1, 8), st.integers(1, 5))  # tokens, d_ff, d_model


@st.composite
def ffn_case(draw):
    tokens, d_ff, d_model = draw(_dims)
    ints = st.integers(-4, 4).map(float)
    acts = draw(hnp.arrays(np.float64, (tokens, d_ff), elements=ints))
    w = draw(hnp.arrays(np.float64, (d_model, d_ff), elements=ints))
    perm = draw(st.permutations(range(d_ff)))
    return acts, w, np.array(perm, dtype=int)


@SETTINGS
@given(ffn_case(), st.floats(0.0, 20.0))
def test_cett_permutation_invariant(case, t):
    acts, w, perm = case
    pa, pw = acts[:, perm], w[:, perm]
    assert cett(acts, w, t) == cett(pa, pw, t)
    assert cett_pruned_fraction(acts, w, t) == cett_pruned_fraction(pa, pw, t)
    assert threshold_for_cett(acts, w, 0.3, n_grid=16) == threshold_for_cett(pa, pw, 0.3, n_grid=16)


@SETTINGS
@given(ffn_case())
def test_fractions_permutation_invariant(case):
    acts, _, perm = case
    pa = acts[:, perm]
    for f in (zero_fraction, activation_ratio, activation_concentration):
        np.testing.assert_array_equal(f(acts), f(pa))
    g, gp = gradient_sparsity(acts * 1e-7), gradient_sparsity(pa * 1e-7)
    for tau in g:
        np.testing.assert_array_equal(g[tau], gp[tau])
    np.testing.assert_array_equal(dormant_scores(acts)[perm], dormant_scores(pa))
    assert dormant_fraction(acts, 0.5) == dormant_fraction(pa, 0.5)


@SETTINGS
@given(ffn_case(), st.floats(0.0, 1.0))
def test_magnitude_pruned_count_permutation_invariant(case, s):
    acts, _, perm = case
    # the *count* is invariant (ties may pick different entries; which ones is fixed by the order)
    assert np.count_nonzero(magnitude_mask(acts, s)) == np.count_nonzero(magnitude_mask(acts[:, perm], s))


@st.composite
def rows(draw, min_d=2):
    r = draw(st.integers(1, 4))
    d = draw(st.integers(min_d, 12))
    x = draw(
        hnp.arrays(np.float64, (r, d), elements=st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False), unique=True)
    )
    k = draw(st.integers(1, d - 1))
    perm = np.array(draw(st.permutations(range(d))), dtype=int)
    return x, k, perm


@SETTINGS
@given(rows())
def test_topk_permutation_equivariant(case):
    x, k, perm = case
    # exact top-k with distinct values: exactly equivariant
    np.testing.assert_array_equal(exact_topk(x, k)[:, perm], exact_topk(x[:, perm], k))
    # statistical top-k: the row mean / std are summed in another order; theta moves by at most
    # ~ 4 d eps (max|x|) (1 + |z|), |z| <= Phi^-1(1 - 1/12) < 1.4, and so does every output
    d = x.shape[1]
    atol = 4 * d * np.finfo(float).eps * np.abs(x).max() * 2.4
    np.testing.assert_allclose(statistical_topk(x, k)[:, perm], statistical_topk(x[:, perm], k), rtol=0, atol=atol)


_any = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8),
    elements=st.floats(-1e6, 1e6, allow_nan=False),
)


@SETTINGS
@given(_any, st.floats(0.0, 1e6))
def test_fractions_in_unit_interval(a, t):
    vals = [
        zero_fraction(a),
        activation_ratio(a),
        activation_concentration(a),
        kept_fraction(a),
        *gradient_sparsity(a).values(),
        np.atleast_1d(dormant_fraction(a, [0.0, 0.5, 2.0])),
        np.atleast_1d(cett_pruned_fraction(a, np.ones((3, a.shape[1])), t)),
        np.atleast_1d(np.mean(magnitude_mask(a, 0.37))),
    ]
    if a.shape[1] % 2 == 0:
        vals.append(np.atleast_1d(np.mean(nm_mask(a, 1, 2))))
    if a.shape[1] >= 2:
        vals.append(kept_fraction(statistical_topk(a, 1)))
    for v in vals:
        v = np.asarray(v)
        assert np.all((v >= 0) & (v <= 1))
    np.testing.assert_array_equal(zero_fraction(a) + activation_ratio(a), 1.0)
