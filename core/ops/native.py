"""Access to the compiled CPU kernels in plait._engine (csrc/kernels_*.cc).

Kernels are written once against `xp`; for the loops NumPy cannot vectorise well (im2col
copies, scatter-adds, pooling windows, per-channel affine + activation, RNN gate math) a
compiled CPU version runs instead when `usable(xp, *arrays)` holds: NumPy arrays (not
CuPy), float32/float64, C-contiguous, aligned.  Otherwise the xp code runs, so CuPy and
odd dtypes keep working.  PLAIT_NATIVE_KERNELS=0 turns the compiled kernels off (tests
use `disabled()` to compare both paths).
"""
import contextlib
import os

import numpy as np

from ... import _engine

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_state = {"on": os.environ.get("PLAIT_NATIVE_KERNELS", "1") != "0"}


def usable(xp, *arrays):
    """True when the compiled kernels may run on these arrays (see the module docstring)."""
    if not _state["on"] or xp is not np:
        return False
    for a in arrays:
        if not isinstance(a, np.ndarray) or a.dtype not in _FLOATS:
            return False
        f = a.flags
        if not (f.c_contiguous and f.aligned):
            return False
    return True


def kernels():
    """The plait._engine module holding the compiled kernels."""
    return _engine


@contextlib.contextmanager
def disabled():
    """Within the block every op takes its xp path (for comparing the two)."""
    old = _state["on"]
    _state["on"] = False
    try:
        yield
    finally:
        _state["on"] = old
