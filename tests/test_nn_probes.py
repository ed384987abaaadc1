"""The training probes compute the metrics of rmt_sparsity.metrics: same formulas, same numbers.

The probes run the formulas of ``rmt_sparsity.metrics.formulas`` with ``jax.numpy``
inside ``jit``; the metrics run them with NumPy, after validation, in float64. Each
fraction is an integer count c divided by the number of entries n. JAX returns the
mean of a boolean array in float32 (with and without ``jax_enable_x64``), and XLA
forms it as c * (1/n): two float32 roundings, so the probe differs from the exact
float64 c/n by at most a relative 2u + u^2, u = 2^-24. That is the tolerance; a
count off by one would move a fraction by 1/n >= 1/3072, about 5000 times more.

The dormant fractions compare scores with thresholds. The JAX and NumPy sums of |a|
may round differently (summation order; float32 against float64 without x64), by
far less than the 1e-4 margin the test first checks between every score and every
threshold, so the counts must agree exactly and the fractions as above.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rmt_sparsity import metrics
from rmt_sparsity.nn import DORMANT_TAUS, MLP, compute_probes, per_token_eta

N_CLASSES = 3
FRACTION_RTOL = 2.0 * 2.0**-24 + 2.0**-48  # two float32 roundings of c/n (module docstring)


def _model_and_batch(dtype):
    """A 2-layer ReLU MLP with dead neurons (dormant at tau = 0) and weak ones (0.025 < s <= 0.1)."""
    m = MLP(d_in=6, d_out=N_CLASSES, width=32, depth=2)
    p = m.init(key=jax.random.key(0), dtype=dtype)
    for name in m.layer_names:
        b = np.zeros(32)
        b[:4] = -50.0  # neurons 0-3 never fire: s = 0
        w = np.array(p[name]["w"])
        w[4:8] *= 0.06  # neurons 4-7 fire weakly
        p[name] = dict(p[name], b=jnp.asarray(b, dtype), w=jnp.asarray(w, dtype))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((96, 6)).astype(dtype)
    y = np.arange(96) % N_CLASSES
    return m, p, x, y


@pytest.mark.parametrize("x64", [False, True], ids=["float32", "float64"])
def test_probes_agree_with_metrics(x64):
    with jax.enable_x64(x64):
        dtype = np.float64 if x64 else np.float32
        m, p, x, y = _model_and_batch(dtype)
        probes = compute_probes(m, p, x, y, n_classes=N_CLASSES)
        eta, inter = per_token_eta(m, p, x, y, n_classes=N_CLASSES)
        rtol = FRACTION_RTOL
        for name in m.layer_names:
            a, h, e = (np.asarray(v, np.float64) for v in (inter[name]["a"], inter[name]["h"], eta[name]))
            want = {
                "zero_fraction": metrics.zero_fraction(a, reduce="mean"),
                "activation_concentration": metrics.activation_concentration(h, "relu", reduce="mean"),
            }
            for tau, v in metrics.gradient_sparsity(e, reduce="mean").items():
                want[f"grad_sparsity@{tau:g}"] = v
            scores = metrics.dormant_scores(a)
            assert np.min(np.abs(scores[:, None] - np.asarray(DORMANT_TAUS)[None, :])[4:]) > 1e-4
            for tau, v in zip(DORMANT_TAUS, metrics.dormant_fraction(a, DORMANT_TAUS)):
                want[f"dormant@{tau:g}"] = v
            assert not np.any(h == 0)  # autodiff's relu'(0) = 0 and the metric's h < 0 agree off h = 0
            for key, value in want.items():
                np.testing.assert_allclose(probes[f"{name}.{key}"], value, rtol=rtol, atol=0, err_msg=key)
            # the test can fail: the fractions are neither trivial nor all equal
            assert 0 < want["zero_fraction"] < 1 and 0 < want["dormant@0"] < want["dormant@0.1"] < 1
            assert want["grad_sparsity@1e-09"] < want["grad_sparsity@0.001"]


def test_metric_formulas_trace_under_jit():
    # the formulas the probes use, run by jax.jit on jax.numpy, equal the NumPy run (float32 fractions, see above)
    from rmt_sparsity.metrics import formulas

    rng = np.random.default_rng(2)
    a = np.maximum(rng.standard_normal((40, 16)), 0.0).astype(np.float32)
    a[:, 3] = 0.0

    @jax.jit
    def run(a):
        s = formulas.dormant_scores(a, xp=jnp)
        return (formulas.zero_fraction(a, axis=None, xp=jnp), formulas.gradient_sparsity(a, 0.5, axis=None, xp=jnp),
                s, formulas.dormant_fraction(s, 0.0, xp=jnp))

    zf, gs, s, df = run(jnp.asarray(a))
    a64 = a.astype(np.float64)
    assert float(zf) == pytest.approx(formulas.zero_fraction(a64, axis=None), rel=FRACTION_RTOL, abs=0)
    assert float(gs) == pytest.approx(formulas.gradient_sparsity(a64, 0.5, axis=None), rel=FRACTION_RTOL, abs=0)
    np.testing.assert_allclose(np.asarray(s), formulas.dormant_scores(a64), rtol=1e-6)  # float32 sums of 40 terms
    assert float(df) == 1 / 16
    # all activations zero: 0/0 scores are defined as 0 (every neuron dormant), with no NaN under JAX either
    zero = jnp.zeros((5, 4))
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda z: formulas.dormant_scores(z, xp=jnp))(zero)), np.zeros(4))
    np.testing.assert_array_equal(formulas.dormant_scores(np.zeros((5, 4))), np.zeros(4))


def test_probe_arguments_are_checked_before_tracing():
    """Each probe names the bad argument (the fuzz suite checks the classes; this pins the messages)."""
    from rmt_sparsity.nn import chain_probes, gradient_identity_terms, key_matrix_spectra

    m = MLP(d_in=3, d_out=2, width=4, depth=1)
    p = m.init(key=jax.random.key(0))
    x = np.ones((4, 3), np.float32)
    y = np.array([0, 1, 0, 1])
    for f in (compute_probes, per_token_eta, gradient_identity_terms, chain_probes):
        with pytest.raises(ValueError, match=r"n_classes must equal the model's d_out = 2 \(one output per class\); got 3"):
            f(m, p, x, y, n_classes=3)
        with pytest.raises(ValueError, match=r"y must hold class labels in \[0, 2\); got labels in \[0, 5\]"):
            f(m, p, x, np.array([0, 1, 5, 1]), n_classes=2)
        with pytest.raises(TypeError, match="y must hold integers; got dtype float64"):
            f(m, p, x, np.array([0.0, 1.0, 0.0, np.nan]), n_classes=2)
        with pytest.raises(ValueError, match=r"y must have one row per example of x \(4\); got shape \(3,\)"):
            f(m, p, x, y[:3], n_classes=2)
        with pytest.raises(ValueError, match=r"y must have shape \(n, 2\)"):  # regression targets: (n, d_out)
            f(m, p, x, np.ones((4, 3), np.float32))
        with pytest.raises(ValueError, match="x must be 2-D"):
            f(m, p, x[0], y, n_classes=2)
        with pytest.raises(TypeError, match="model must be an rmt_sparsity.nn.MLP; got NoneType"):
            f(None, p, x, y, n_classes=2)
        with pytest.raises(ValueError, match="step must be an integer >= 0"):
            f(m, p, x, y, n_classes=2, step=-1)
    with pytest.raises(TypeError, match="key must be a JAX PRNG key"):
        compute_probes(m, p, x, y, n_classes=2, key=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"stacked params must have one leading member axis"):
        chain_probes(m, p, x, y, n_classes=2, stacked=True)
    with pytest.raises(ValueError, match="k must be finite"):
        key_matrix_spectra(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(TypeError, match="k must hold real numbers; got dtype complex128"):
        key_matrix_spectra(np.eye(2, dtype=complex))
