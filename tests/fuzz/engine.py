"""Run fuzz cases in an isolated worker process and classify each outcome.

Each case is one call of a public callable: the spec's valid baseline call with
one argument replaced by a bad value. The call runs in a worker process (one
at a time) so that a hang (the parent stops waiting after the case's time
limit), an abort (the worker dies) or an absurd allocation (the worker's data
segment is capped with ``RLIMIT_DATA``, so it becomes a ``MemoryError`` instead
of swapping the machine) is observed and classified, and the next case runs in
a fresh worker.

Outcome classes (the issue's table, plus two of the suite's own):

=============  ============================================================
``ok``         a ``ValueError``/``TypeError`` raised by rmt_sparsity whose
               message names the argument; or the documented scipy-style
               result (NaN, the limit at ±inf) where the spec expects one
``internal``   an error from inside JAX/jaxlib/optax/Numba/llvmlite
``accepted``   the bad value was silently accepted (finite output)
``nonfinite``  the output gained NaN/inf entries (compared with the baseline)
``wrong``      a documented result was expected and another value came back
``unclear``    another exception type (AttributeError, ZeroDivisionError,
               OverflowError, IndexError, ...) or a ValueError/TypeError
               raised outside rmt_sparsity (NumPy, SciPy, the stdlib)
``unnamed``    a ValueError/TypeError from rmt_sparsity that does not name
               the argument
``allocation`` a ``MemoryError``: an absurd size reached an allocation
``hang``       no answer within the case's time limit
``abort``      the worker process died (a signal such as SIGABRT/SIGSEGV)
``spec_error`` the suite's own baseline could not be built (a bug in the spec)
=============  ============================================================
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import signal
import sys
import time
import traceback
from dataclasses import dataclass

import numpy as np

__all__ = ["Outcome", "Runner", "CLASSES", "BAD_CLASSES", "classify_exception", "count_nonfinite"]

CLASSES = ("ok", "internal", "accepted", "nonfinite", "wrong", "unclear", "unnamed", "allocation", "hang",
           "abort", "spec_error")
BAD_CLASSES = tuple(c for c in CLASSES if c != "ok")

#: Cap on the worker's data segment (bytes): any allocation beyond it fails with MemoryError.
DATA_LIMIT = int(os.environ.get("RMT_FUZZ_DATA_LIMIT", 6 * 2**30))

_INTERNAL_PKGS = ("jax", "jaxlib", "optax", "numba", "llvmlite")
_OK_TYPES = (ValueError, TypeError)
_PATH_CATEGORIES = ("missing_path", "dir_path")


@dataclass
class Outcome:
    spec: str
    arg: str | None
    bad: str          # short description of the bad value
    category: str
    cls: str
    detail: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        return f"{self.spec}({self.arg}={self.bad}) -> {self.cls}: {self.detail}"


# ----------------------------------------------------------------------------------------
# classification (runs in the worker)
# ----------------------------------------------------------------------------------------
def _origin(exc) -> str:
    """Package where ``exc`` was raised: 'rmt_sparsity', 'jax', 'numba', 'numpy', 'scipy', 'other'."""
    tb = exc.__traceback__
    fname = ""
    while tb is not None:
        fname = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    mod = type(exc).__module__ or ""
    if mod.split(".")[0] in _INTERNAL_PKGS:
        return mod.split(".")[0]
    parts = fname.replace("\\", "/").split("/")
    for i in range(len(parts) - 1, -1, -1):  # the innermost package directory on the path
        if parts[i] == "site-packages" or parts[i].startswith("python3"):
            return parts[i + 1].split(".")[0] if i + 1 < len(parts) else "other"
        if parts[i] == "rmt_sparsity":
            return "rmt_sparsity"
    return "other"


def names_argument(message: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def classify_exception(exc, arg_name: str | None, category: str = "", foreign_ok=()) -> tuple[str, str]:
    msg = f"{type(exc).__name__}: {exc}"
    msg = msg if len(msg) <= 300 else msg[:297] + "..."
    origin = _origin(exc)
    if isinstance(exc, MemoryError):
        return "allocation", msg
    if origin in _INTERNAL_PKGS:
        return "internal", f"[{origin}] {msg}"
    if category in _PATH_CATEGORIES and isinstance(exc, OSError):
        return "ok", msg
    if isinstance(exc, _OK_TYPES):
        if origin in foreign_ok:  # a documented foreign boundary (a scipy rv_continuous instance)
            return "ok", f"[{origin}] {msg}"
        if origin != "rmt_sparsity":
            return "unclear", f"[{origin}] {msg}"
        if arg_name is None or names_argument(str(exc), arg_name):
            return "ok", msg
        return "unnamed", msg
    return "unclear", f"[{origin}] {msg}"


def count_nonfinite(obj, _depth=0, _seen=None) -> int:
    """Number of NaN/inf numbers anywhere in ``obj`` (arrays, dataclasses, mappings, sequences)."""
    if _depth > 6:
        return 0
    if isinstance(obj, (bool, np.bool_, str, bytes)) or obj is None:
        return 0
    if isinstance(obj, (int, np.integer)):
        return 0
    if isinstance(obj, (float, np.floating)):
        return 0 if math.isfinite(float(obj)) else 1
    if isinstance(obj, complex):
        return 0 if (math.isfinite(obj.real) and math.isfinite(obj.imag)) else 1
    mod = type(obj).__module__ or ""
    if isinstance(obj, np.ndarray) or mod.startswith(("jax", "jaxlib")):
        try:
            a = np.asarray(obj)
        except Exception:
            return 0
        if a.dtype.kind in "fc" or a.dtype.name == "bfloat16":
            a = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
            return int(a.size - np.count_nonzero(np.isfinite(a)))
        if a.dtype.kind == "O" and a.size <= 10000:
            return sum(count_nonfinite(v, _depth + 1) for v in a.ravel())
        return 0
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return sum(count_nonfinite(getattr(obj, f.name, None), _depth + 1) for f in dataclasses.fields(obj))
    if isinstance(obj, dict):
        return sum(count_nonfinite(v, _depth + 1) for v in list(obj.values())[:10000])
    if isinstance(obj, (list, tuple)):
        return sum(count_nonfinite(v, _depth + 1) for v in obj[:10000])
    return 0


def _all_nan(obj) -> bool:
    try:
        a = np.asarray(obj, dtype=float)
    except Exception:
        return False
    return a.size > 0 and bool(np.isnan(a).all())


def _equal(obj, expected) -> bool:
    try:
        a = np.asarray(obj, dtype=float)
    except Exception:
        return False
    return a.size > 0 and bool(np.all(a == expected))


def classify_result(result, baseline_nonfinite: int, expect) -> tuple[str, str]:
    r = repr(result)
    r = r if len(r) <= 160 else r[:157] + "..."
    if expect == "nan":
        return ("ok", r) if _all_nan(result) else ("wrong", f"expected NaN; got {r}")
    if expect == "propagate":  # IEEE propagation, as the dense reference does (kernels)
        n = count_nonfinite(result)
        return ("ok", r) if n > baseline_nonfinite else ("accepted", f"NaN/inf input gave a finite output: {r}")
    if expect is not None:
        if _equal(result, expected=expect):
            return "ok", r
        if count_nonfinite(result) > baseline_nonfinite:
            return "nonfinite", f"expected {expect!r}; got {r}"
        return "wrong", f"expected {expect!r}; got {r}"
    n = count_nonfinite(result)
    if n > baseline_nonfinite:
        return "nonfinite", f"{n} non-finite values (baseline {baseline_nonfinite}): {r}"
    return "accepted", r


# ----------------------------------------------------------------------------------------
# the worker
# ----------------------------------------------------------------------------------------
_WORKER_ENV = {
    "JAX_PLATFORMS": "cpu",
    "JAX_TRACEBACK_FILTERING": "off",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "TQDM_DISABLE": "1",
    "MPLBACKEND": "Agg",
}


def _worker_setup(log_path):
    import resource
    import tempfile
    import warnings

    os.setsid()  # own process group: the parent kills it (and anything it started) as one
    for k, v in _WORKER_ENV.items():
        os.environ.setdefault(k, v)
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        resource.setrlimit(resource.RLIMIT_DATA, (DATA_LIMIT, hard))
    except (ValueError, OSError):  # pragma: no cover - platform without RLIMIT_DATA
        pass
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.chdir(tempfile.mkdtemp(prefix="rmt-fuzz-cwd-"))
    warnings.simplefilter("ignore")


def _worker_main(conn, specs_module, log_path):  # pragma: no cover - runs in the worker process
    _worker_setup(log_path)
    import importlib

    specs = importlib.import_module(specs_module)
    table = {s.name: s for s in specs.SPECS}
    baselines: dict[str, tuple[int, str]] = {}
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        kind, payload = msg
        if kind == "case":
            conn.send(_run_case(table, baselines, *payload))
        elif kind == "eval":  # run a zero-argument function of the specs module (meta checks)
            try:
                conn.send(("ok", getattr(specs, payload)()))
            except BaseException as exc:
                conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def serve(fd: int, specs_module: str, log_path: str):  # pragma: no cover - the worker's entry point
    from multiprocessing.connection import Connection

    _worker_main(Connection(fd), specs_module, log_path)


def _baseline(spec, baselines):
    if spec.name not in baselines:
        try:
            res = spec.invoke(None, None)
            baselines[spec.name] = (count_nonfinite(res), "")
        except BaseException as exc:
            baselines[spec.name] = (-1, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-6)}")
    return baselines[spec.name]


def _run_case(table, baselines, spec_name, arg, bad):
    spec = table[spec_name]
    short = bad.short() if bad is not None else "baseline"
    category = bad.category if bad is not None else "baseline"
    base_nf, base_err = _baseline(spec, baselines)
    t0 = time.perf_counter()
    if base_err:
        return Outcome(spec_name, arg, short, category, "spec_error", "baseline failed: " + base_err[-600:], 0.0)
    if bad is None:
        return Outcome(spec_name, None, short, category, "ok", "baseline", 0.0)
    try:
        call = spec.prepare(arg, bad)
    except BaseException as exc:
        return Outcome(spec_name, arg, short, category, "spec_error",
                       f"building the case failed: {type(exc).__name__}: {exc}", 0.0)
    a = spec.args[arg]
    expect = a.expect.get(category)
    name = a.name or arg
    lenient = category in a.kind.lenient
    t0 = time.perf_counter()
    try:
        res = call()
        if "jax" in sys.modules:  # JAX dispatches asynchronously: errors surface when the result is ready
            import jax

            jax.block_until_ready(res)
    except BaseException as exc:  # noqa: BLE001 - every outcome is classified
        if isinstance(exc, KeyboardInterrupt):
            raise
        if a.raises_ok and isinstance(exc, a.raises_ok):
            cls, detail = "ok", f"{type(exc).__name__}: {str(exc)[:200]}"
        elif isinstance(exc, SystemExit):
            cls, detail = ("ok", f"SystemExit({exc.code})") if spec.exit_ok(exc.code) else \
                ("unclear", f"SystemExit({exc.code})")
        elif expect not in (None, "propagate") and not isinstance(exc, MemoryError):
            cls, detail = classify_exception(exc, name, category, spec.foreign_ok)
            if cls == "ok":  # an error where a documented value was expected
                cls, detail = "wrong", f"expected {expect!r}; raised {detail}"
        else:
            cls, detail = classify_exception(exc, name, category, spec.foreign_ok)
        dt = time.perf_counter() - t0
        del exc
        return Outcome(spec_name, arg, short, category, cls, detail, dt)
    dt = time.perf_counter() - t0
    try:
        if spec.returns_code:
            cls, detail = ("ok", f"exit {res}") if spec.exit_ok(res) else ("accepted", f"exit {res}")
        else:
            cls, detail = classify_result(res, base_nf, expect)
            if cls in ("accepted", "nonfinite") and lenient:
                cls = "ok"
    except BaseException as exc:  # a lazy result failing when read is the call's failure
        if isinstance(exc, KeyboardInterrupt):
            raise
        cls, detail = classify_exception(exc, name, category, spec.foreign_ok)
    return Outcome(spec_name, arg, short, category, cls, detail, dt)


# ----------------------------------------------------------------------------------------
# the parent side
# ----------------------------------------------------------------------------------------
class Runner:
    """One worker process, restarted after a hang or a crash.

    ``run(spec, arg, bad, timeout)`` returns an :class:`Outcome`.
    """

    def __init__(self, specs_module: str, log_path: str | None = None):
        self.specs_module = specs_module
        self.log_path = log_path or os.path.join(os.environ.get("TMPDIR", "/tmp"), f"rmt-fuzz-{os.getpid()}.log")
        self.proc = None
        self.conn = None
        self.restarts = 0

    def _start(self):
        import subprocess
        from multiprocessing.connection import Pipe

        parent, child = Pipe(duplex=True)
        package = __name__.rpartition(".")[0]
        root = os.path.abspath(__file__)
        for _ in range(package.count(".") + 2):
            root = os.path.dirname(root)
        code = (f"import sys; sys.path.insert(0, {root!r}); from {package}.engine import serve; "
                f"serve({child.fileno()}, {self.specs_module!r}, {self.log_path!r})")
        self.proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=(child.fileno(),),
                                     stdin=subprocess.DEVNULL)
        child.close()
        self.conn = parent

    def _kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(5)
        except Exception:  # pragma: no cover
            pass
        self.conn.close()
        self.proc = None
        self.conn = None
        self.restarts += 1

    def close(self):
        if self.proc is not None:
            try:
                self.conn.send(None)
                self.proc.wait(5)
            except Exception:
                pass
            if self.proc.poll() is None:
                self._kill()
            self.proc = None

    def _ask(self, msg, timeout):
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self._kill()
            self._start()
        self.conn.send(msg)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self._kill()
                return "hang", None
            try:
                if self.conn.poll(min(left, 0.5)):
                    return "reply", self.conn.recv()
            except (EOFError, OSError):
                pass
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self._kill()
                return "died", code

    def run(self, spec: str, arg: str | None, bad, timeout: float, startup: float = 60.0) -> Outcome:
        fresh = self.proc is None or self.proc.poll() is not None
        status, value = self._ask(("case", (spec, arg, bad)), timeout + (startup if fresh else 0.0))
        short = bad.short() if bad is not None else "baseline"
        category = bad.category if bad is not None else "baseline"
        if status == "reply":
            return value
        if status == "hang":
            return Outcome(spec, arg, short, category, "hang", f"no answer within {timeout:.0f} s", timeout)
        sig = -value if value is not None and value < 0 else None
        name = signal.Signals(sig).name if sig else f"exit code {value}"
        return Outcome(spec, arg, short, category, "abort", f"worker died ({name})", 0.0)

    def evaluate(self, func_name: str, timeout: float = 300.0):
        status, value = self._ask(("eval", func_name), timeout)
        if status != "reply":
            raise RuntimeError(f"worker {status} evaluating {func_name}")
        kind, payload = value
        if kind != "ok":
            raise RuntimeError(payload)
        return payload


def python_path_for_workers():
    """The directory that makes the specs module importable by name in spawned workers."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run tests/fuzz/report.py or pytest tests/fuzz")
