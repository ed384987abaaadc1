"""Argument validation messages name the argument and the value."""

import math

import numpy as np
import pytest

from rmt_sparsity._checks import check_array, check_choice, check_int, check_probability, check_real


def test_check_int():
    assert check_int("n", np.int64(4), min=1) == 4
    with pytest.raises(TypeError, match="n must be an integer; got 2.5"):
        check_int("n", 2.5)
    with pytest.raises(TypeError, match="n must be an integer"):
        check_int("n", True)
    with pytest.raises(ValueError, match=r"n must be an integer >= 1; got 0"):
        check_int("n", 0, min=1)
    with pytest.raises(ValueError, match=r"<= 3"):
        check_int("n", 4, max=3)


def test_check_real():
    assert check_real("x", np.float32(0.5), lo=0, lo_open=True) == 0.5
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match=r"ratio must be a finite number > 0; got"):
            check_real("ratio", bad, lo=0, lo_open=True)
    assert check_real("x", math.inf, allow_inf=True) == math.inf
    with pytest.raises(TypeError, match="x must be a real number"):
        check_real("x", "1")
    with pytest.raises(ValueError, match="< 1"):
        check_real("x", 1.0, hi=1.0, hi_open=True)


def test_check_probability_and_choice():
    assert check_probability("level", 0.5) == 0.5
    with pytest.raises(ValueError, match="level"):
        check_probability("level", 1.0)
    with pytest.raises(ValueError, match="which must be one of 'a', 'b'; got 'c'"):
        check_choice("which", "c", ("a", "b"))
    with pytest.raises(ValueError, match="which must be one of"):
        check_choice("which", ["unhashable"], ("a",))


def test_check_array():
    a = check_array("W", [[1, 2], [3, 4]], ndim=2)
    assert a.dtype == np.float64
    f32 = np.ones(3, np.float32)
    assert check_array("x", f32).dtype == np.float32  # no silent upcast of float input
    with pytest.raises(ValueError, match="W must be 2-D; got a 1-D array"):
        check_array("W", [1.0, 2.0], ndim=2)
    with pytest.raises(ValueError, match="W must be non-empty"):
        check_array("W", np.empty((0, 3)), ndim=2)
    with pytest.raises(ValueError, match="2 non-finite"):
        check_array("W", [np.nan, np.inf, 1.0])
    with pytest.raises(TypeError, match="W must hold real numbers"):
        check_array("W", ["a", "b"])


def test_checks_module_does_not_import_jax():
    import subprocess
    import sys

    code = "import sys, rmt_sparsity._checks; print(any(m == 'jax' or m.startswith('jax.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    assert out == "False"


def test_check_key():
    import jax

    from rmt_sparsity._checks import check_key

    typed, raw = jax.random.key(0), jax.random.PRNGKey(0)
    assert check_key("key", typed) is typed and check_key("key", raw) is raw
    assert check_key("key", np.asarray(raw)).shape == (2,)  # raw key data as NumPy
    for bad, msg in ((None, "got NoneType"), (0, "got int"), (np.zeros(2), "got ndarray of dtype float64 and shape")):
        with pytest.raises(TypeError, match=r"key must be a JAX PRNG key \(jax.random.key\(seed\)\); " + msg):
            check_key("key", bad)
    with pytest.raises(ValueError, match=r"k must be a single PRNG key; got a key array of shape \(3,\)"):
        check_key("k", jax.random.split(typed, 3))
    # traced keys: the dtype and shape are known under jit and vmap, so the same rule applies
    assert jax.jit(lambda k: jax.random.normal(check_key("key", k)))(typed) == jax.random.normal(typed)
    jax.vmap(lambda k: check_key("key", k))(jax.random.split(typed, 2))
    with pytest.raises(ValueError, match="single PRNG key"):
        jax.jit(lambda k: check_key("key", k))(jax.random.split(typed, 2))


def test_check_keys():
    import jax

    from rmt_sparsity._checks import check_keys

    split = jax.random.split(jax.random.key(0), 3)
    data = jax.random.key_data(split)
    for keys in (split, np.asarray(data), list(split), [jax.random.PRNGKey(1), jax.random.key(2)]):
        out = check_keys("keys", keys)
        assert jax.dtypes.issubdtype(out.dtype, jax.dtypes.prng_key) and out.ndim == 1
    np.testing.assert_array_equal(jax.random.key_data(check_keys("keys", np.asarray(data))), data)
    with pytest.raises(ValueError, match="at least one PRNG key"):
        check_keys("keys", [])
    with pytest.raises(ValueError, match="K = 0"):
        check_keys("keys", jax.random.split(jax.random.key(0), 0))
    with pytest.raises(ValueError, match="single raw PRNG key"):
        check_keys("keys", jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="1-D array of K PRNG keys"):
        check_keys("keys", jax.random.key(0))
    with pytest.raises(TypeError, match=r"keys\[1\] must be a JAX PRNG key"):
        check_keys("keys", [jax.random.key(0), 3])
    with pytest.raises(TypeError, match="keys must be K JAX PRNG keys"):
        check_keys("keys", 7)


def test_check_array_refuses_complex_strings_and_objects_before_casting():
    with pytest.raises(TypeError, match="W must hold real numbers; got dtype complex128"):
        check_array("W", [1 + 2j])
    assert check_array("z", [1 + 2j], complex_ok=True).dtype == np.complex128
    with pytest.raises(TypeError, match="lo must hold real numbers; got dtype <U1"):
        check_array("lo", "1", dtype=np.float64)  # a string is never parsed as a number
    with pytest.raises(TypeError, match="W must hold real numbers; got dtype object"):
        check_array("W", np.array([1.0, None], dtype=object))
    with pytest.raises(TypeError, match="W must hold real numbers"):
        check_array("W", None)


def test_as_float_array_follows_scipy():
    from rmt_sparsity._checks import as_float_array

    out = as_float_array("x", [np.nan, np.inf, -np.inf, 1])
    assert out.dtype == np.float64 and np.isnan(out[0]) and out[1] == np.inf and out[2] == -np.inf
    for bad, msg in ((None, "got NoneType"), ("a", "got dtype <U1"), (np.array([0.5, None], dtype=object), "got dtype object")):
        with pytest.raises(TypeError, match="x must be a real number or an array of real numbers; " + msg):
            as_float_array("x", bad)
    with pytest.raises(TypeError, match="z must be a number or an array of numbers"):
        as_float_array("z", None, complex_ok=True)
    assert as_float_array("z", 1j, complex_ok=True).dtype == np.complex128


def test_check_shape():
    from rmt_sparsity._checks import check_shape

    assert check_shape("size", None) == (None, 1)
    assert check_shape("size", np.int64(4)) == ((4,), 4)
    assert check_shape("size", (2, 0)) == ((2, 0), 0)
    assert check_shape("size", (2**40, 2**40))[1] == 2**80  # Python ints: no overflow
    with pytest.raises(TypeError, match="size must be None, an int or a tuple of ints; got float 2.5"):
        check_shape("size", 2.5)
    with pytest.raises(ValueError, match=r"size\[1\] must be an integer >= 0; got -1"):
        check_shape("size", (2, -1))


def test_check_size_budget_memory_and_iterations():
    from rmt_sparsity._checks import MAX_ITERATIONS, available_memory, check_size_budget

    avail = available_memory()
    assert 0 < avail < 2**60
    check_size_budget("n", 10, nbytes=avail // 2)  # within the budget: no error
    with pytest.raises(ValueError, match=r"p, n = \(18446744073709551616, 3\) needs about .* PiB of memory for the matrix; only .* is available"):
        check_size_budget("p, n", (2**64, 3), nbytes=8 * 2**64 * 3, what="the matrix")
    with pytest.raises(ValueError, match=r"n = 2\*\*40 needs about 8 TiB of memory; the stated cap of 1 GiB"):
        check_size_budget("n", 2**40, nbytes=8 * 2**40, max_bytes=2**30)
    with pytest.raises(ValueError, match=r"steps = 10\*\*12 means about 1e\+20 elementary steps, above the cap of 1e\+14"):
        check_size_budget("steps", 10**12, iterations=10**20)
    assert MAX_ITERATIONS == 10**14
    check_size_budget("steps", 10**12, iterations=10**20, max_iterations=None)  # no cap


def test_available_memory_respects_rlimit():
    import resource
    import subprocess
    import sys

    code = (
        "import resource; from rmt_sparsity._checks import available_memory;"
        "resource.setrlimit(resource.RLIMIT_DATA, (2**31, resource.getrlimit(resource.RLIMIT_DATA)[1]));"
        "print(available_memory())"
    )
    if resource.getrlimit(resource.RLIMIT_DATA)[1] not in (resource.RLIM_INFINITY,) and resource.getrlimit(
        resource.RLIMIT_DATA
    )[1] < 2**31:
        pytest.skip("hard RLIMIT_DATA below 2 GiB")
    out = int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
    assert out <= 2**31
