"""train_ensemble(resume=): a run continued in pieces equals the run in one go, bit for bit."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")

from rmt_sparsity.nn import MLP, gaussian_mixture, train_ensemble  # noqa: E402

DS = gaussian_mixture(n_train=64, n_test=32, d=4, n_classes=2, rng=0)
MODEL = MLP(d_in=4, d_out=2, width=8, depth=1)
KEYS = jax.random.split(jax.random.key(0), 3)
KW = dict(sigma=[0.0, 0.05, 0.1], relative=True, eval_every=5, batch_size=16, quiet=True, lr=[1e-2, 2e-2, 3e-2],
          weight_decay=0.1, track_covariance=True)


def _same(a, b):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    return len(la) == len(lb) and all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(la, lb))


@pytest.mark.parametrize("budget", [None, 1])
def test_resumed_run_equals_straight_run(budget):
    kw = dict(KW)
    if budget is not None:  # one member per compiled run: the un-vmapped path
        kw["max_memory_bytes"] = 60_000
    straight = train_ensemble(MODEL, DS, "adamw", keys=KEYS, steps=20, **kw)
    first = train_ensemble(MODEL, DS, "adamw", keys=KEYS, steps=10, **kw)
    second = train_ensemble(MODEL, DS, "adamw", keys=KEYS, steps=10, resume=first, **kw)
    if budget is not None:
        assert second.members_per_run == 1
    assert _same(straight.params, second.params)
    assert _same(straight.state["opt_state"], second.state["opt_state"])
    assert _same(straight.covariance, second.covariance)
    assert second.history["step"][0].tolist() == [10, 15, 20]
    np.testing.assert_array_equal(straight.history["test_loss"][:, -1], second.history["test_loss"][:, -1])
    # the learning rates set for the first piece are carried by the optimiser state, not reset
    assert [c["lr"] for c in second.configs] == [1e-2, 2e-2, 3e-2]


def test_resume_errors():
    first = train_ensemble(MODEL, DS, "adamw", keys=KEYS, steps=5, **KW)
    with pytest.raises(TypeError, match="EnsembleResult"):
        train_ensemble(MODEL, DS, "adamw", keys=KEYS, steps=5, resume=first.member(0), **KW)
    with pytest.raises(ValueError, match="not both"):
        train_ensemble(MODEL, DS, "adamw", keys=KEYS, steps=5, resume=first, params=first.member(0).params, **KW)
    with pytest.raises(ValueError, match="K = 2"):
        train_ensemble(MODEL, DS, "adamw", keys=KEYS[:2], steps=5, resume=first,
                       **{**KW, "sigma": [0.0, 0.1], "lr": 1e-2})
    with pytest.raises(ValueError, match="track_covariance"):
        train_ensemble(MODEL, DS, "adamw", keys=KEYS, steps=5, resume=first, **{**KW, "track_covariance": False})
    with pytest.raises(ValueError, match="shape"):
        train_ensemble(MLP(d_in=4, d_out=2, width=6, depth=1), DS, "adamw", keys=KEYS, steps=5, resume=first, **KW)
