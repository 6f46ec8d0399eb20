"""core/mempool.py + csrc/mempool.cc: NumPy arrays of 256 KiB and more made by plait's
threads come from the caching allocator: freed blocks are reused (counted), zeroed when
NumPy asks for zeros, resized correctly, bounded by the cap, released by empty_cache, and
the pool is off with PLAIT_MEMPOOL_MB=0; small arrays and other threads' arrays are
NumPy's own."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import plait as mx
from plait.core import mempool

try:
    from numpy._core.multiarray import get_handler_name
except ImportError:  # NumPy 1.x
    from numpy.core.multiarray import get_handler_name

BIG = (512, 1024)  # 2 MiB of float32


def _on():
    if not mempool.stats():
        pytest.skip("this NumPy has no allocator handler API")


def test_large_arrays_use_the_pool_small_ones_numpys():
    _on()
    assert get_handler_name(np.empty(BIG, np.float32)) == "plait_pool"
    assert get_handler_name(mx.nd.ones(BIG)._data) == "plait_pool"
    small = np.empty(16, np.float32)
    assert get_handler_name(small) == "plait_pool"  # the handler, delegating small blocks
    del small


def test_freed_block_is_reused():
    _on()
    a = np.empty(BIG, np.float32)
    del a
    before = mempool.stats()
    b = np.empty(BIG, np.float32)
    after = mempool.stats()
    assert after["hits"] == before["hits"] + 1
    assert after["cached_bytes"] == before["cached_bytes"] - BIG[0] * BIG[1] * 4
    del b


def test_reused_block_is_zeroed_for_zeros():
    _on()
    a = np.full(BIG, 7.0, np.float32)
    del a
    z = np.zeros(BIG, np.float32)
    assert not z.any()


def test_resize_keeps_the_values():
    _on()
    a = np.arange(BIG[0] * BIG[1], dtype=np.float32)
    want = a.copy()
    a.resize(BIG[0] * BIG[1] * 3, refcheck=False)
    np.testing.assert_array_equal(a[:want.size], want)
    assert not a[want.size:].any()
    a.resize(1000, refcheck=False)
    np.testing.assert_array_equal(a, want[:1000])


def test_arrays_cross_threads():
    _on()
    made = []
    t = threading.Thread(target=lambda: made.append(np.ones(BIG, np.float32)))
    t.start()
    t.join()
    assert get_handler_name(made[0]) != "plait_pool"  # a plain thread: NumPy's handler
    mine = np.ones(BIG, np.float32)
    t = threading.Thread(target=lambda: mine.sum())
    t.start()
    t.join()
    del made[:], mine  # freed through the handler that made each


def test_empty_cache_releases_everything():
    _on()
    arrays = [np.ones(BIG, np.float32) for _ in range(3)]
    del arrays
    assert mempool.stats()["cached_bytes"] > 0
    mx.cpu().empty_cache()
    assert mempool.stats()["cached_bytes"] == 0


_CHILD = r"""
import os, numpy as np, plait
from plait.core import mempool
try:
    from numpy._core.multiarray import get_handler_name
except ImportError:
    from numpy.core.multiarray import get_handler_name
a = [np.ones((1024, 1024), np.float32) for _ in range(4)]
del a
s = mempool.stats()
print(get_handler_name(np.empty((1024, 1024), np.float32)), s.get("cached_bytes", -1))
pid = os.fork()
if pid == 0:
    b = [np.zeros((1024, 1024), np.float32) for _ in range(3)]
    os._exit(0 if all(not x.any() for x in b) else 3)
_, status = os.waitpid(pid, 0)
print(status)
"""


@pytest.mark.parametrize("mb,handler,cap", [("0", "default_allocator", None), ("5", "plait_pool", 5),
                                            (None, "plait_pool", 1024)])
def test_cap_off_switch_and_fork(mb, handler, cap):
    env = dict(os.environ)
    env.pop("PLAIT_MEMPOOL_MB", None)
    if mb is not None:
        env["PLAIT_MEMPOOL_MB"] = mb
    out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    first, status = out.stdout.split("\n")[:2]
    name, cached = first.split()
    assert name == handler and status == "0"
    if cap is not None:
        assert 0 < int(cached) <= cap << 20
        assert int(cached) >= min(cap << 20, 4 << 20) - (4 << 20) // 16 * 4


_EVICT_CHILD = r"""
import numpy as np
from plait.core import mempool
KB = 1 << 10
def block(kib):
    return np.ones(kib * KB // 4, np.float32)
x, y, z = block(1024), block(1536), block(2048)
x = y = z = None             # cached, oldest first: x, y, z (4.5 of the 5 MiB)
w, w2 = block(1024), block(1024)  # x's block again, and a new one
w = None                     # cached: y, z, w (4.5 MiB)
w2 = None                    # 5.5 MiB would not fit: y, the oldest, is freed
s0 = mempool.stats()
a, b = block(1024), block(1024)
s1 = mempool.stats()
c = block(1536)
s2 = mempool.stats()
print(s0["cached_bytes"] // KB, s1["hits"] - s0["hits"], s2["misses"] - s1["misses"])
"""


def test_full_cache_evicts_its_oldest_blocks():
    """A freed block is kept even when the cache is full: the oldest cached blocks go (so
    sizes a workload stopped asking for cannot pin the cap)."""
    env = dict(os.environ, PLAIT_MEMPOOL_MB="5")
    out = subprocess.run([sys.executable, "-c", _EVICT_CHILD], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    cached_kib, hits_1mib, misses_1536kib = map(int, out.stdout.split())
    assert cached_kib == 2048 + 1024 + 1024  # z, w, w2
    assert hits_1mib == 2                    # both 1 MiB blocks were kept
    assert misses_1536kib == 1               # y's block was evicted
