"""One BLAS thread for the RNN's per-step products.

The recurrent product of one time step is small (batch x hidden times hidden x gates,
e.g. 32x256 @ 256x1024).  OpenBLAS still splits it over its threads and synchronises
them for every step; when the cores are busy (other processes, the engine's own
workers) a descheduled helper thread stalls every step, and the loop runs several times
slower than on one thread.  The big products before and after the loop keep all
threads.  `serial_blas()` sets NumPy's OpenBLAS to one thread for the duration (nested and
concurrent users share one save/restore).  It does nothing when the library is not
NumPy's OpenBLAS on Linux, or when PLAIT_RNN_SERIAL_BLAS=0.
"""
import ctypes
import os
import threading

_LOCK = threading.Lock()
_STATE = {"users": 0, "saved": None}
_FUNCS = []   # [(get, set)] once found; [None] when unavailable


def _find():
    if _FUNCS:
        return _FUNCS[0]
    found = None
    try:
        if os.environ.get("PLAIT_RNN_SERIAL_BLAS", "1") != "0":
            with open("/proc/self/maps") as f:
                libs = sorted({ln.split()[-1] for ln in f
                               if "openblas" in ln.lower() and ".so" in ln})
            for path in libs:
                lib = ctypes.CDLL(path)
                for stem in ("scipy_openblas", "openblas"):
                    for suffix in ("64_", ""):
                        g = getattr(lib, "%s_get_num_threads%s" % (stem, suffix), None)
                        s = getattr(lib, "%s_set_num_threads%s" % (stem, suffix), None)
                        if g is not None and s is not None:
                            g.restype, s.argtypes = ctypes.c_int, [ctypes.c_int]
                            found = (g, s)
                            break
                    if found:
                        break
                if found:
                    break
    except (OSError, AttributeError, ValueError):
        found = None
    _FUNCS.append(found)
    return found


class serial_blas:
    """Context manager: OpenBLAS on one thread inside (if it can be controlled)."""

    def __init__(self, xp):
        self.active = xp.__name__ == "numpy"

    def __enter__(self):
        if not self.active:
            return self
        funcs = _find()
        if funcs is None:
            self.active = False
            return self
        with _LOCK:
            if _STATE["users"] == 0:
                _STATE["saved"] = funcs[0]()
                if _STATE["saved"] > 1:
                    funcs[1](1)
            _STATE["users"] += 1
        return self

    def __exit__(self, *exc):
        if self.active:
            with _LOCK:
                _STATE["users"] -= 1
                if _STATE["users"] == 0 and _STATE["saved"] and _STATE["saved"] > 1:
                    _FUNCS[0][1](_STATE["saved"])
        return False
