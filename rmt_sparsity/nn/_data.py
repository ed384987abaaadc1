"""Offline data sets for the training claims: digits, MNIST-1D, teacher-student, Gaussian mixtures.

Nothing here downloads. Every generator takes ``rng=`` (SPEC 7) and never
touches NumPy's global random state; :func:`load_mnist1d` saves and restores
the global states that ``mnist1d.make_dataset`` reseeds internally.
"""

from __future__ import annotations

import dataclasses
import random as _pyrandom

import numpy as np

from .._checks import check_array, check_int, check_real, check_size_budget
from .._rng import as_generator

__all__ = ["Dataset", "load_digits", "load_mnist1d", "teacher_student", "gaussian_mixture"]

#: Largest number of classes: labels are stored as int32.
MAX_CLASSES = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A train/test split held in NumPy arrays.

    Attributes
    ----------
    x_train, x_test : ndarray, shape (n, d) or (n, T, d)
    y_train, y_test : ndarray
        Integer labels (n,) for classification, or float targets (n, d_out) for regression.
    n_classes : int or None
        ``None`` for regression; else 2 to ``2**31 - 1`` (labels are int32).
    name : str

    Construction validates shapes and finiteness (``ValueError`` otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> ds = Dataset(np.zeros((4, 2)), np.array([0, 1, 0, 1]), np.zeros((2, 2)), np.array([1, 0]), 2, "toy")
    >>> ds.d_in, ds.d_out
    (2, 2)
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int | None
    name: str = "dataset"

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        if self.n_classes is not None:  # first: the label checks below read it
            set_("n_classes", check_int("n_classes", self.n_classes, min=2, max=MAX_CLASSES))
        for part in ("train", "test"):
            x = check_array(f"x_{part}", getattr(self, f"x_{part}"), ndim=(2, 3))
            set_(f"x_{part}", x)
            y = np.asarray(getattr(self, f"y_{part}"))
            if self.n_classes is None:
                y = check_array(f"y_{part}", y, ndim=(1, 2))
                if y.ndim == 1:
                    y = y[:, None]
            else:
                if y.ndim != 1 or y.dtype.kind not in "iu":
                    raise ValueError(f"y_{part} must be a 1-D integer label array for classification; got {y.dtype} {y.shape}")
                if y.size and (y.min() < 0 or y.max() >= self.n_classes):
                    raise ValueError(f"y_{part} labels must lie in [0, {self.n_classes}); got range [{y.min()}, {y.max()}]")
                y = y.astype(np.int32)
            if len(y) != len(x):
                raise ValueError(f"x_{part} has {len(x)} rows but y_{part} has {len(y)}")
            set_(f"y_{part}", y)
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"x_train and x_test shapes differ beyond the sample axis: {self.x_train.shape} vs {self.x_test.shape}")
        if self.n_classes is None and self.y_train.shape[1:] != self.y_test.shape[1:]:
            raise ValueError("y_train and y_test target dimensions differ")

    @property
    def d_in(self) -> int:
        return int(self.x_train.shape[-1])

    @property
    def d_out(self) -> int:
        """Number of outputs a model needs: classes, or the regression target dimension."""
        return int(self.n_classes) if self.n_classes is not None else int(self.y_train.shape[-1])

    def astype(self, dtype) -> Dataset:
        """A copy with float arrays cast to ``dtype``."""
        cast = lambda a: a.astype(dtype) if a.dtype.kind == "f" else a  # noqa: E731
        return dataclasses.replace(
            self, x_train=cast(self.x_train), y_train=cast(self.y_train), x_test=cast(self.x_test), y_test=cast(self.y_test)
        )


def _split(x, y, test_fraction, rng):
    n = len(x)
    perm = rng.permutation(n)
    n_test = int(round(test_fraction * n))
    te, tr = perm[:n_test], perm[n_test:]
    return x[tr], y[tr], x[te], y[te]


def load_digits(*, test_fraction=0.2, rng=None, dtype=np.float32) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1797 images, 10 classes; no download).

    Pixels are scaled to [0, 1] (divided by 16); the split is a random
    permutation drawn from ``rng``.

    Examples
    --------
    >>> ds = load_digits(rng=0)
    >>> ds.x_train.shape, ds.x_test.shape, ds.n_classes
    ((1438, 64), (359, 64), 10)
    """
    test_fraction = check_real("test_fraction", test_fraction, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    from .._optional import require

    _ld = require("sklearn.datasets", extra="data", feature="load_digits").load_digits

    bunch = _ld()
    x = (bunch.data / 16.0).astype(dtype)
    y = bunch.target.astype(np.int32)
    return Dataset(*_split(x, y, test_fraction, as_generator(rng)), n_classes=10, name="digits")


def load_mnist1d(*, num_samples=5000, seed=42, train_split=0.8, dtype=np.float32) -> Dataset:
    """MNIST-1D (Greydanus 2020, arXiv 2011.14439) generated locally with ``mnist1d.make_dataset``.

    ``make_dataset`` seeds NumPy's and Python's *global* random generators; this
    function saves both states and restores them afterwards, so the caller's
    global random state is untouched. ``seed`` is the generator's own seed
    (42 reproduces the published data set's construction).

    Examples
    --------
    >>> ds = load_mnist1d(num_samples=200)  # doctest: +SKIP
    >>> ds.x_train.shape  # doctest: +SKIP
    (160, 40)
    """
    num_samples = check_int("num_samples", num_samples, min=20)
    seed = check_int("seed", seed, min=0, max=2**32 - 1)
    train_split = check_real("train_split", train_split, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    # make_dataset builds each example in a Python loop and keeps, per example, the 40-sample signal
    # and its intermediate (padded, shifted, noised) copies in float64: about 20 x 40 x 8 bytes
    check_size_budget("num_samples", num_samples, nbytes=num_samples * 20 * 40 * 8, iterations=num_samples,
                      max_iterations=10**8, what="the MNIST-1D examples")
    from .._optional import require

    _m1d = require("mnist1d.data", extra="data", feature="load_mnist1d")
    get_dataset_args, make_dataset = _m1d.get_dataset_args, _m1d.make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed, args.train_split = num_samples, seed, train_split
    np_state = np.random.get_state()
    py_state = _pyrandom.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        _pyrandom.setstate(py_state)
    return Dataset(
        data["x"].astype(dtype),
        data["y"].astype(np.int32),
        data["x_test"].astype(dtype),
        data["y_test"].astype(np.int32),
        n_classes=10,
        name="mnist1d",
    )


def teacher_student(
    *, n_train=1024, n_test=256, d_in=16, d_out=1, teacher_width=32, noise=0.0, rng=None, dtype=np.float32
) -> Dataset:
    r"""Regression targets from a random one-hidden-layer ReLU teacher.

    .. math:: x \sim N(0, I_{d_{in}}), \quad y = A\,\mathrm{relu}(W x)/\sqrt{m} + \nu\,\xi,

    with :math:`W_{ij} \sim N(0, 1/d_{in})` (shape (m, d_in), stored (out, in)),
    :math:`A_{ij} \sim N(0, 1)` and :math:`\xi \sim N(0, I)`.

    Examples
    --------
    >>> ds = teacher_student(n_train=10, n_test=5, d_in=3, d_out=2, rng=0)
    >>> ds.y_train.shape, ds.n_classes
    ((10, 2), None)
    """
    n_train = check_int("n_train", n_train, min=1)
    n_test = check_int("n_test", n_test, min=1)
    d_in = check_int("d_in", d_in, min=1)
    d_out = check_int("d_out", d_out, min=1)
    m = check_int("teacher_width", teacher_width, min=1)
    noise = check_real("noise", noise, lo=0.0)
    n = n_train + n_test
    # float64 peak: W, A, x, x W^T (and its relu), y and the noise draw
    check_size_budget("n_train, n_test, d_in, d_out, teacher_width", (n_train, n_test, d_in, d_out, m),
                      nbytes=8 * (m * d_in + d_out * m + n * d_in + 2 * n * m + 3 * n * d_out),
                      what="the teacher and the data set")
    g = as_generator(rng)
    w = g.standard_normal((m, d_in)) / np.sqrt(d_in)
    a = g.standard_normal((d_out, m))
    x = g.standard_normal((n_train + n_test, d_in))
    y = np.maximum(x @ w.T, 0.0) @ a.T / np.sqrt(m) + noise * g.standard_normal((n_train + n_test, d_out))
    x, y = x.astype(dtype), y.astype(dtype)
    return Dataset(x[:n_train], y[:n_train], x[n_train:], y[n_train:], n_classes=None, name="teacher_student")


def gaussian_mixture(*, n_train=1024, n_test=256, d=16, n_classes=4, separation=3.0, rng=None, dtype=np.float32) -> Dataset:
    r"""Classification of isotropic Gaussian clusters.

    .. math:: x = \mu_c + \xi, \quad \xi \sim N(0, I_d), \quad \mu_c = \text{separation}\cdot u_c,

    with :math:`u_c` uniform on the unit sphere and balanced random labels :math:`c`.

    Examples
    --------
    >>> ds = gaussian_mixture(n_train=8, n_test=4, d=3, n_classes=2, rng=0)
    >>> ds.x_train.shape, ds.n_classes
    ((8, 3), 2)
    """
    n_train = check_int("n_train", n_train, min=1)
    n_test = check_int("n_test", n_test, min=1)
    d = check_int("d", d, min=1)
    k = check_int("n_classes", n_classes, min=2)
    separation = check_real("separation", separation, lo=0.0)
    # float64 peak: the k class means, the labels (int64), and x = separation * u[c] + noise (three n x d arrays)
    check_size_budget("n_train, n_test, d, n_classes", (n_train, n_test, d, k),
                      nbytes=8 * (k * d + 2 * (n_train + n_test) + 3 * (n_train + n_test) * d),
                      what="the class means and the data set")
    g = as_generator(rng)
    u = g.standard_normal((k, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    n = n_train + n_test
    c = g.permutation(np.arange(n) % k).astype(np.int32)
    x = (separation * u[c] + g.standard_normal((n, d))).astype(dtype)
    return Dataset(x[:n_train], c[:n_train], x[n_train:], c[n_train:], n_classes=k, name="gaussian_mixture")
