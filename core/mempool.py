"""The caching allocator for NumPy array data (csrc/mempool.cc), MXNet's pooled storage
manager on the CPU: freed blocks of 256 KiB and more are kept per size class and handed
out again, so a training step's large temporaries stop being mapped, faulted in and
unmapped every step.

Enabled at import for the importing thread and the engine's workers.  PLAIT_MEMPOOL_MB
bounds the bytes kept for reuse (default 1024; when full, the oldest kept blocks are freed
first); 0 turns the pool off.
`mx.cpu().empty_cache()` frees what is kept.
"""
import os

from .. import _engine

DEFAULT_MB = 1024


def enable():
    """Install the pool (PLAIT_MEMPOOL_MB, see the module docstring); True if it is on."""
    try:
        mb = float(os.environ.get("PLAIT_MEMPOOL_MB", DEFAULT_MB))
    except ValueError:
        mb = DEFAULT_MB
    if mb <= 0:
        return False
    return bool(_engine.mempool_enable(int(mb * (1 << 20))))


def release():
    """Free every cached block."""
    _engine.mempool_release()


def stats():
    """{'cached_bytes', 'cap_bytes', 'hits', 'misses', 'blocks'}, or {} when off."""
    return dict(_engine.mempool_stats())
