"""Keep NumPy's OpenBLAS helper threads from spinning between plait's kernels.

After every threaded GEMM, OpenBLAS keeps its helper threads busy-waiting for the next
one for 2**28 cycles (~0.1 s) before they sleep.  A training step alternates GEMMs with
plait's own kernels (activations, softmax, im2col, optimizer updates), so on a machine
with as many cores as threads those kernels run beside a spinning thread: a log_softmax
over 1120 x 10000 measured 12-28 ms right after a GEMM against 10-11 ms with the helper
asleep (2 cores).  2**22 cycles (~1.5 ms) keeps the helper awake across the short gaps
between an MLP's GEMMs (sleeping at once, 2**4, cost the 784-512-512-10 MLP step ~5 %)
and stops it during long kernels (2**24 left the log_softmax at 16 ms).
OpenBLAS reads OPENBLAS_THREAD_TIMEOUT (log2 of the cycles) when it
starts its threads, normally when NumPy is imported, which is usually before plait.  So
at import plait sets the variable (unless the user did), makes the already loaded
OpenBLAS re-read its environment and stops its threads; the next GEMM starts them again
with the short timeout.

PLAIT_BLAS_THREAD_TIMEOUT sets the value (4-30, OpenBLAS's range); 0 leaves OpenBLAS
alone.  Only OpenBLAS builds that export openblas_read_env and blas_thread_shutdown_ (the
ones NumPy's wheels bundle) are touched; anything else is left as it is.
"""
import ctypes
import os

import numpy  # noqa: F401  (loads OpenBLAS, so that apply() finds it)

DEFAULT_TIMEOUT = 22  # log2 cycles (see above)
_applied = []  # paths of the OpenBLAS libraries adjusted


def _loaded_openblas():
    """Paths of the OpenBLAS shared libraries mapped into this process (Linux)."""
    try:
        with open("/proc/self/maps") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    paths = []
    for line in lines:
        path = line.split(None, 5)[-1] if line.count(" ") >= 5 else ""
        if "openblas" in os.path.basename(path).lower() and ".so" in path \
                and path not in paths:
            paths.append(path)
    return paths


def apply(timeout=None):
    """Set the helper-thread timeout of every loaded OpenBLAS; returns the paths changed."""
    if timeout is None:
        raw = os.environ.get("PLAIT_BLAS_THREAD_TIMEOUT")
        if raw is None and "OPENBLAS_THREAD_TIMEOUT" in os.environ:
            return []  # the user chose OpenBLAS's own setting
        try:
            timeout = DEFAULT_TIMEOUT if raw is None else int(raw)
        except ValueError:
            return []
    if timeout <= 0:
        return []
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(timeout)
    done = []
    for path in _loaded_openblas():
        try:
            lib = ctypes.CDLL(path)
            read_env, shutdown = lib.openblas_read_env, lib.blas_thread_shutdown_
        except (OSError, AttributeError):
            continue
        read_env.restype = None
        read_env()
        shutdown()
        done.append(path)
    _applied[:] = done
    return done
