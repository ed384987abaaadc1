"""Argument kinds and the bad values Hypothesis draws for each.

An argument of a fuzz spec is an :class:`Arg`: a valid baseline value (or a
zero-argument factory, built in the worker) and a *kind* that lists the
categories of bad values for it. Each category is a Hypothesis strategy of
:class:`Bad` recipes. A recipe is small and picklable; the worker turns it into
the actual value with :meth:`Bad.build`, often from the baseline value (a copy of
the baseline array with a NaN in it, the baseline cast to bfloat16, ...).

Categories (the labels used in reports and in the known-bad list):

``nan``, ``inf``, ``-inf``
    non-finite scalars, or a non-finite entry in an array.
``negative``, ``zero``, ``below``, ``above``
    finite values outside the argument's stated interval.
``huge``
    absurd sizes: ``2**64``, ``10**12`` and the like (must be refused before
    any allocation or loop).
``float``
    a non-integral float where an integer belongs.
``none``
    ``None`` where it is not accepted.
``wrong_type``
    a string, ``object()``, a complex number, a bool, a list ... where none belongs.
``dtype:<name>``
    an array of the wrong dtype (complex, object, str, bfloat16; and int, bool,
    float16 where only float32/float64 are accepted).
``ndim``
    an array with the wrong number of dimensions.
``empty``
    an array with no elements.
``mismatch``
    an array whose shape disagrees with another argument.
``random_state``
    a legacy ``numpy.random.RandomState`` where a seed or Generator belongs.
``jax_key``
    a JAX PRNG key where a seed or Generator belongs.
``generator``, ``int_key``, ``key_array``, ``raw_key_dtype``
    a Generator, an int, several keys, or a float array where one JAX key belongs.
``bogus``
    an unknown option name.
``unknown_key``
    a mapping with a key the callable does not know.
``missing_path``, ``dir_path``, ``empty_path``
    a path that does not exist, a directory, or ``''``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

__all__ = [
    "Bad", "Arg", "Lazy", "lazy", "Real", "Int", "Array", "Rng", "Key", "Choice", "Obj", "Call",
    "Path", "Mapping", "Seq", "DistX", "DistQ", "Dtype", "Fixed", "Kind", "Tree",
]


# ----------------------------------------------------------------------------------------
# recipes
# ----------------------------------------------------------------------------------------
class _Obj:
    """A plain object of a type no callable expects (picklable, readable repr)."""

    def __repr__(self):
        return "<object>"

    def __eq__(self, other):
        return isinstance(other, _Obj)

    def __hash__(self):
        return 0


OBJ = _Obj()


@dataclass(frozen=True)
class Bad:
    """One bad value: ``category`` (report label), ``op`` (how the worker builds it), ``value`` (payload)."""

    category: str
    op: str = "value"
    value: Any = None

    def build(self, base):
        op, v = self.op, self.value
        if op == "value":
            return v
        if op == "obj":
            return OBJ
        if op == "random_state":
            return np.random.RandomState(0)
        if op == "generator":
            return np.random.default_rng(0)
        if op == "jax_key":
            import jax

            return jax.random.key(int(v or 0))
        if op == "jax_raw_key":
            import jax

            return jax.random.PRNGKey(int(v or 0))
        if op == "jax_keys":
            import jax

            return jax.random.split(jax.random.key(0), int(v))
        if op == "bf16":
            import ml_dtypes

            return np.asarray(base).astype(ml_dtypes.bfloat16)
        if op == "bf16_scalar":
            import ml_dtypes

            return ml_dtypes.bfloat16(v)
        if op == "astype":
            return _like(base, np.asarray(base).astype(v))
        if op == "set_entry":  # copy of the baseline with one entry replaced
            idx, x = v
            a = np.array(base, dtype=np.result_type(np.asarray(base).dtype, np.float16), copy=True)
            flat = a.reshape(-1)
            flat[idx % flat.size] = x
            return _like(base, a)
        if op == "ndim":  # the baseline reshaped to ``v`` dimensions (leading axes of length 1 added)
            a = np.asarray(base)
            if v == 0:
                return _like(base, a.reshape(-1)[:1].reshape(()))
            flat = a.reshape(-1) if v < a.ndim else a
            return _like(base, flat.reshape((1,) * (v - flat.ndim) + flat.shape))
        if op == "empty":
            a = np.asarray(base)
            shape = (0,) + a.shape[1:] if a.ndim else (0,)
            return _like(base, np.zeros(shape, dtype=a.dtype))
        if op == "mismatch":
            axis, extra = v
            a = np.asarray(base)
            axis = axis % a.ndim
            idx = np.concatenate([np.arange(a.shape[axis]), np.zeros(extra, dtype=int)])
            return _like(base, np.take(a, idx, axis=axis))
        if op == "truncate":  # drop entries along an axis (mismatch by shrinking)
            axis = v % np.asarray(base).ndim
            a = np.asarray(base)
            return _like(base, np.take(a, np.arange(max(a.shape[axis] - 1, 1)), axis=axis))
        if op == "missing_path":
            return "/nonexistent-rmt-sparsity-fuzz/x.safetensors"
        if op == "dir_path":
            import tempfile

            return tempfile.mkdtemp(prefix="fuzz-dir-")
        if op == "argv":  # a command line with one option's value replaced (or appended)
            opt, value = v
            argv = list(base)
            if opt == "<path>":
                argv[1] = value
            elif opt in argv:
                argv[argv.index(opt) + 1] = value
            else:
                argv += [opt, value]
            return argv
        if op.startswith("tree_"):
            return _tree_op(op, v, base)
        if op == "bad_mapping":
            d = dict(base or {})
            d.update(v)
            return d
        raise AssertionError(f"unknown op {op}")

    def short(self) -> str:
        if self.op == "obj":
            return f"{self.category}: <object>"
        if self.op == "value":
            r = repr(self.value)
            r = r if len(r) <= 40 else r[:37] + "..."
            return f"{self.category}: {r}"
        return f"{self.category}: {self.op}({'' if self.value is None else self.value!r})"


def _tree_op(op, v, base):
    """Bad pytrees built from the baseline parameter tree."""
    import jax
    import jax.numpy as jnp

    leaves, treedef = jax.tree_util.tree_flatten(base)
    if op == "tree_set":  # one non-finite entry in the first leaf
        a = np.array(leaves[0], copy=True)
        a.reshape(-1)[0] = v
        leaves[0] = jnp.asarray(a)
    elif op == "tree_astype":
        if v == "bfloat16":
            import ml_dtypes

            v = ml_dtypes.bfloat16
        leaves = [jnp.asarray(np.asarray(leaf).astype(v)) for leaf in leaves]
    elif op == "tree_shape":  # the first leaf gains a row
        a = np.asarray(leaves[0])
        leaves[0] = jnp.asarray(np.concatenate([a, a[:1]]) if a.ndim else np.stack([a, a]))
    elif op == "tree_drop":  # a top-level entry is missing
        if isinstance(base, dict) and len(base) > 1:
            d = dict(base)
            d.pop(sorted(d)[-1])
            return d
        return {}
    return jax.tree_util.tree_unflatten(treedef, leaves)


def _like(base, arr):
    """Return ``arr`` as the same array library as ``base`` (JAX stays JAX where it can)."""
    mod = type(base).__module__
    if mod.startswith(("jax", "jaxlib")) and arr.dtype.kind in "biufc" and arr.dtype != np.float16:
        import jax.numpy as jnp

        try:
            return jnp.asarray(arr)
        except Exception:  # pragma: no cover - a dtype JAX refuses stays NumPy
            return arr
    return arr


# ----------------------------------------------------------------------------------------
# baselines
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lazy:
    """A baseline built in the worker (``factory()``; cached when ``cache``)."""

    factory: Any
    cache: bool = False


def lazy(factory, cache=False) -> Lazy:
    return Lazy(factory, cache)


# ----------------------------------------------------------------------------------------
# kinds
# ----------------------------------------------------------------------------------------
def _vals(category, *values):
    return st.sampled_from([Bad(category, "value", v) for v in values])


def _const(category, op, value=None):
    return st.just(Bad(category, op, value))


def _wrong_scalar_types(extra=()):
    return st.one_of(
        _vals("wrong_type", "1", "abc", 1 + 1j, [1.0, 2.0], *extra),
        _const("wrong_type", "obj"),
    )


@dataclass
class Kind:
    """Base kind: subclasses return ``{category: strategy of Bad}``."""

    none_ok: bool = False
    #: A valid value the derived bad values are built from when the baseline is None.
    sample: Any = None
    #: Categories that may be accepted (a finite result) or refused: both are correct.
    lenient: tuple = ()

    def categories(self) -> dict:
        out = {}
        if not self.none_ok:
            out["none"] = _vals("none", None)
        return out


@dataclass
class Fixed(Kind):
    """An argument the suite does not fuzz (a module such as ``xp``, a flag)."""

    reason: str = ""

    def categories(self):
        return {}


def _finite_floats(min_value=None, max_value=None, exclude_min=False, exclude_max=False):
    return st.floats(min_value=min_value, max_value=max_value, exclude_min=exclude_min,
                     exclude_max=exclude_max, allow_nan=False, allow_infinity=False)


@dataclass
class Real(Kind):
    """A real scalar in ``[lo, hi]`` (ends open when ``lo_open``/``hi_open``)."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    inf_ok: bool = False
    array_ok: bool = False

    def categories(self):
        out = super().categories()
        out["nan"] = _vals("nan", math.nan, np.float64("nan"), np.float32("nan"))
        if not self.inf_ok or (self.hi is not None and self.hi < math.inf):
            out["inf"] = _vals("inf", math.inf, np.float64("inf"))
        if not self.inf_ok or (self.lo is not None and self.lo > -math.inf):
            out["-inf"] = _vals("-inf", -math.inf)
        lo, hi = self.lo, self.hi
        if lo is not None:
            if lo >= 0:
                out["negative"] = st.builds(lambda x: Bad("negative", "value", x),
                                            st.one_of(st.just(-1.0), _finite_floats(max_value=-1e-300)))
                if lo > 0 or self.lo_open:
                    out["zero"] = _vals("zero", 0.0, 0)
                if lo > 0:
                    out["below"] = st.builds(lambda x: Bad("below", "value", x),
                                             _finite_floats(min_value=0.0, max_value=lo, exclude_min=True,
                                                            exclude_max=not self.lo_open))
            else:
                out["below"] = st.builds(lambda x: Bad("below", "value", x),
                                         _finite_floats(max_value=lo, exclude_max=not self.lo_open))
        if hi is not None:
            out["above"] = st.builds(lambda x: Bad("above", "value", x),
                                     _finite_floats(min_value=hi, exclude_min=not self.hi_open))
            out["huge"] = _vals("huge", 2**64, 10**12)
        out["wrong_type"] = _wrong_scalar_types(() if self.array_ok else (np.ones(3),))
        return out


@dataclass
class Int(Kind):
    """An integer in ``[min, max]``; ``huge_bad`` (sizes, counts): ``2**64`` must be refused."""

    min: int | None = None
    max: int | None = None
    huge_bad: bool = True
    wrong: tuple | None = None  # the wrong-type values (default: strings, complex, bool, lists, arrays)

    def __post_init__(self):
        if not self.huge_bad:  # a size that enters closed forms only: a result or a refusal are both right
            self.lenient = (*self.lenient, "huge")

    def categories(self):
        out = super().categories()
        mn, mx = self.min, self.max
        if mn is not None:
            if mn >= 0:
                out["negative"] = st.builds(lambda x: Bad("negative", "value", x),
                                            st.one_of(st.just(-1), st.integers(max_value=-1),
                                                      st.just(np.int64(-3))))
                if mn >= 1:
                    out["zero"] = _vals("zero", 0, np.int64(0))
                if mn > 1:
                    out["below"] = st.builds(lambda x: Bad("below", "value", x), st.integers(1, mn - 1))
            else:
                out["below"] = st.builds(lambda x: Bad("below", "value", x), st.integers(max_value=mn - 1))
        if mx is not None:
            out["above"] = st.builds(lambda x: Bad("above", "value", x),
                                     st.integers(min_value=mx + 1, max_value=max(mx + 1, 10**6)))
        out["huge"] = st.builds(lambda x: Bad("huge", "value", x),
                                st.one_of(st.sampled_from([2**64, 10**12, 2**63 - 1]),
                                          st.integers(min_value=10**12, max_value=2**70)))
        out["float"] = _vals("float", 2.5, math.nan, math.inf, np.float64(1.5))
        out["wrong_type"] = (st.one_of(_vals("wrong_type", *self.wrong), _const("wrong_type", "obj")) if self.wrong
                             else _wrong_scalar_types((True, np.ones(2))))
        return out


@dataclass
class Array(Kind):
    """An array argument.

    ``ndim``: allowed numbers of dimensions. ``dtypes``: ``"real"`` (ints and bools
    are converted; complex, object, str and bfloat16 are bad) or ``"float"``
    (float32/float64 only: ints, bools and float16 are bad too) or ``"any"``
    (only object/str are bad). ``finite``: NaN/inf entries are bad.
    ``linked``: axes whose length must agree with another argument.
    ``empty_ok``: zero-size arrays are fine.
    """

    ndim: tuple | int | None = 2
    dtypes: str = "real"
    finite: bool = True
    linked: tuple = ()
    empty_ok: bool = False

    def __post_init__(self):
        if self.dtypes == "real":  # converting bfloat16 to float64 is exact: accepting it is fine too
            self.lenient = (*self.lenient, "dtype:bfloat16")

    def categories(self):
        out = super().categories()
        if self.finite:
            out["nan"] = st.builds(lambda i: Bad("nan", "set_entry", (i, math.nan)), st.integers(0, 50))
            out["inf"] = st.builds(lambda i, s: Bad("inf", "set_entry", (i, s * math.inf)),
                                   st.integers(0, 50), st.sampled_from([1.0, -1.0]))
        bad_dtypes = ["complex128", "object"]
        if self.dtypes == "float":
            bad_dtypes += ["int64", "bool", "float16"]
        if self.dtypes in ("real", "float"):
            out["dtype:bfloat16"] = _const("dtype:bfloat16", "bf16")
        if self.dtypes == "any":
            bad_dtypes = ["object"]
        for d in bad_dtypes:
            out[f"dtype:{d}"] = _const(f"dtype:{d}", "astype", d)
        out["dtype:str"] = _vals("dtype:str", np.array(["a", "b"]))
        if self.ndim is not None:
            allowed = (self.ndim,) if isinstance(self.ndim, int) else tuple(self.ndim)
            choices = sorted({0, max(allowed) + 1, min(allowed) - 1} - set(allowed) - {-1})
            if choices:
                out["ndim"] = st.builds(lambda c: Bad("ndim", "ndim", c), st.sampled_from(choices))
        if not self.empty_ok:
            out["empty"] = _const("empty", "empty")
        if self.linked:
            out["mismatch"] = st.builds(lambda a, e: Bad("mismatch", "mismatch", (a, e)),
                                        st.sampled_from(self.linked), st.integers(1, 3))
        out["wrong_type"] = st.one_of(_vals("wrong_type", "abc", {"a": 1}), _const("wrong_type", "obj"))
        return out


@dataclass
class Rng(Kind):
    """``rng=``: None, a seed or a numpy Generator."""

    none_ok: bool = True

    def categories(self):
        out = super().categories()
        out["random_state"] = _const("random_state", "random_state")
        out["jax_key"] = _const("jax_key", "jax_key", 0)
        out["negative"] = st.builds(lambda x: Bad("negative", "value", x), st.integers(max_value=-1))
        out["float"] = _vals("float", 1.5, math.nan)
        out["wrong_type"] = st.one_of(_vals("wrong_type", "0", 1 + 1j), _const("wrong_type", "obj"))
        return out


@dataclass
class Key(Kind):
    """A keyword JAX PRNG key (one key)."""

    def categories(self):
        out = super().categories()
        out["generator"] = _const("generator", "generator")
        out["random_state"] = _const("random_state", "random_state")
        out["int_key"] = _vals("int_key", 0, 42)
        out["key_array"] = _const("key_array", "jax_keys", 2)
        out["raw_key_dtype"] = _vals("raw_key_dtype", np.zeros(2), np.zeros(3, dtype=np.uint32))
        out["wrong_type"] = st.one_of(_vals("wrong_type", "key"), _const("wrong_type", "obj"))
        return out


@dataclass
class Choice(Kind):
    """One of a fixed set of options (``bogus``: unknown values; ``wrong``: values of the wrong type)."""

    bogus: tuple = ("bogus", "", "RELU ")
    wrong: tuple = (1, 2.5, ["a"])

    def categories(self):
        out = super().categories()
        out["bogus"] = _vals("bogus", *self.bogus)
        out["wrong_type"] = st.one_of(_vals("wrong_type", *self.wrong), _const("wrong_type", "obj"))
        return out


@dataclass
class Obj(Kind):
    """An object of a specific type (a law, a model, a measure, parameters ...)."""

    def categories(self):
        out = super().categories()
        out["wrong_type"] = st.one_of(_vals("wrong_type", 1, "x", 2.5), _const("wrong_type", "obj"))
        return out


@dataclass
class Call(Kind):
    """A callable argument."""

    def categories(self):
        out = super().categories()
        out["wrong_type"] = st.one_of(_vals("wrong_type", 1, "f"), _const("wrong_type", "obj"))
        return out


@dataclass
class Path(Kind):
    """A filesystem path. ``must_exist``: reading (missing/dir paths are bad)."""

    must_exist: bool = True
    is_dir: bool = False

    def categories(self):
        out = super().categories()
        out["empty_path"] = _vals("empty_path", "")
        out["wrong_type"] = st.one_of(_vals("wrong_type", 1, 2.5), _const("wrong_type", "obj"))
        if self.must_exist:
            out["missing_path"] = _const("missing_path", "missing_path")
            if not self.is_dir:
                out["dir_path"] = _const("dir_path", "dir_path")
        return out


@dataclass
class Mapping(Kind):
    """A mapping of named settings; ``known``: unknown keys are bad."""

    known: bool = True

    def categories(self):
        out = super().categories()
        if self.known:
            out["unknown_key"] = _const("unknown_key", "bad_mapping", {"bogus_setting": 1})
        out["wrong_type"] = st.one_of(_vals("wrong_type", "x", 1, [1, 2]), _const("wrong_type", "obj"))
        return out


@dataclass
class Seq(Kind):
    """A sequence of numbers (``positive``: entries must be > 0; ``lo``/``hi``: entry bounds)."""

    lo: float | None = None
    hi: float | None = None
    ints: bool = False
    empty_ok: bool = False

    def categories(self):
        out = super().categories()
        if not self.empty_ok:
            out["empty"] = _vals("empty", [], ())
        out["nan"] = _vals("nan", [math.nan], [1.0, math.nan])
        if self.lo is not None:
            out["below"] = _vals("below", [self.lo - 1.0], [-1.0 if self.lo >= 0 else self.lo - 1.0])
        if self.hi is not None:
            out["above"] = _vals("above", [self.hi + 1.0])
        out["wrong_type"] = st.one_of(_vals("wrong_type", "abc", ["a"], 1 + 1j, {"a": 1}), _const("wrong_type", "obj"))
        if self.ints:
            out["float"] = _vals("float", [2.5])
            out["huge"] = _vals("huge", [2**64], [10**12])
        return out


@dataclass
class DistX(Kind):
    """``x`` of a distribution method (scipy style: NaN -> NaN; ±inf -> the limit; wrong types raise).

    ``limits``: the exact value at ``-inf`` and ``+inf`` (``None``: skip).
    """

    limits: tuple | None = None

    def categories(self):
        out = super().categories()
        out["nan"] = _vals("nan", math.nan, np.array([math.nan, math.nan]))
        if self.limits is not None:
            out["-inf"] = _vals("-inf", -math.inf)
            out["inf"] = _vals("inf", math.inf)
        out["wrong_type"] = st.one_of(_vals("wrong_type", "abc", ["a"]), _const("wrong_type", "obj"))
        out["dtype:object"] = _vals("dtype:object", np.array([0.5, None], dtype=object))
        return out


@dataclass
class DistQ(Kind):
    """``q`` of ``ppf``/``isf``: outside [0, 1], NaN or inf give NaN (scipy); wrong types raise."""

    def categories(self):
        out = super().categories()
        out["nan"] = _vals("nan", math.nan)
        out["negative"] = _vals("negative", -0.5, -1e-300)
        out["above"] = _vals("above", 1.5, 1.0 + 2**-52)
        out["inf"] = _vals("inf", math.inf, -math.inf)
        out["wrong_type"] = st.one_of(_vals("wrong_type", "abc", ["a"]), _const("wrong_type", "obj"))
        return out


@dataclass
class Dtype(Kind):
    """A ``dtype=`` argument; ``float_only``: integer/complex dtypes are bad."""

    float_only: bool = True

    def categories(self):
        out = super().categories()
        out["bogus"] = _vals("bogus", "bogus")
        if self.float_only:
            out["wrong_type"] = _vals("wrong_type", np.int32, np.complex128, bool, object)
        return out


@dataclass
class Tree(Kind):
    """A pytree of floating-point arrays (network parameters, a flatness ``params``).

    ``float_only``: float16/bfloat16/integer/complex leaves are bad; ``structure``:
    the tree must match a model's (a missing entry or a wrongly shaped leaf is bad).
    """

    float_only: bool = True
    structure: bool = True

    def categories(self):
        out = super().categories()
        out["nan"] = _const("nan", "tree_set", math.nan)
        out["inf"] = _const("inf", "tree_set", math.inf)
        for d in (("bfloat16", "float16", "int32", "complex64") if self.float_only else ("int32", "complex64")):
            out[f"dtype:{d}"] = _const(f"dtype:{d}", "tree_astype", d)
        if self.structure:
            out["mismatch"] = _const("mismatch", "tree_shape")
            out["missing_key"] = _const("missing_key", "tree_drop")
        out["wrong_type"] = st.one_of(_vals("wrong_type", 1, "params"), _const("wrong_type", "obj"))
        return out


@dataclass
class Arg:
    """One argument of a spec: a baseline and its kind.

    ``expect``: category -> what a correct callable does instead of raising:
    ``"nan"`` (all-NaN output, scipy style) or a value the output must equal
    (``DistX`` limits). ``skip``: categories not to try (with a reason in the spec).
    """

    base: Any
    kind: Kind = field(default_factory=lambda: Fixed())
    expect: dict = field(default_factory=dict)
    skip: tuple = ()
    name: str | None = None  # the name an error message must use (default: the argument name)
    raises_ok: tuple = ()  # further exception types that are a correct answer (an assertion helper's AssertionError)

    def categories(self) -> dict:
        cats = self.kind.categories()
        return {k: v for k, v in cats.items() if k not in self.skip}
