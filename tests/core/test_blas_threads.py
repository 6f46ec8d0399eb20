"""core/blas_threads.py: importing plait shortens the spin timeout of NumPy's OpenBLAS
helper threads (read back from OpenBLAS itself), respects the user's own settings, and
GEMMs still give the right results after OpenBLAS restarts its threads."""
import json
import os
import subprocess
import sys

import pytest

_PROBE = r"""
import ctypes, json, numpy as np
import plait
from plait.core import blas_threads
a = np.random.RandomState(0).randn(300, 200).astype(np.float32)
b = np.random.RandomState(1).randn(200, 400).astype(np.float32)
err = float(np.abs(a @ b - (a.astype(np.float64) @ b.astype(np.float64))).max())
libs = blas_threads._loaded_openblas()
t = None
for p in libs:
    try:
        t = ctypes.CDLL(p).openblas_thread_timeout()
        break
    except AttributeError:
        pass
print(json.dumps({"applied": blas_threads._applied, "timeout": t, "err": err}))
"""


def _probe(**env):
    e = dict(os.environ)
    for k in ("PLAIT_BLAS_THREAD_TIMEOUT", "OPENBLAS_THREAD_TIMEOUT"):
        e.pop(k, None)
    e.update(env)
    out = subprocess.run([sys.executable, "-c", _PROBE], env=e, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _need_openblas():
    r = _probe()
    if r["timeout"] is None:
        pytest.skip("NumPy here is not linked with an OpenBLAS exporting openblas_read_env")
    return r


def test_import_sets_the_short_timeout_and_gemm_stays_right():
    r = _need_openblas()
    from plait.core.blas_threads import DEFAULT_TIMEOUT
    assert r["applied"] and r["timeout"] == DEFAULT_TIMEOUT != 0
    assert r["err"] < 1e-3


def test_plait_variable_picks_the_value_and_zero_leaves_openblas_alone():
    _need_openblas()
    assert _probe(PLAIT_BLAS_THREAD_TIMEOUT="12")["timeout"] == 12
    r = _probe(PLAIT_BLAS_THREAD_TIMEOUT="0")
    assert r["applied"] == [] and r["timeout"] == 0


def test_users_own_openblas_setting_wins():
    _need_openblas()
    r = _probe(OPENBLAS_THREAD_TIMEOUT="9")
    assert r["applied"] == [] and r["timeout"] == 9
