"""mx.util: the parts of MXNet's utility module that 1.x scripts call.

GPU queries (get_gpu_count, get_gpu_memory), environment access through the library
(getenv/setenv: plait reads its settings from os.environ, so these are os.environ), and the
NumPy-interface switches, which report that the MXNet 1.x (mx.nd) semantics are on:
plait has no mx.np."""
import os

from .context import gpu_memory_info, num_gpus

__all__ = ["get_gpu_count", "get_gpu_memory", "getenv", "setenv", "is_np_array",
           "is_np_shape"]


def get_gpu_count():
    """Number of GPUs CuPy sees (0 without CuPy)."""
    return num_gpus()


def get_gpu_memory(gpu_dev_id):
    """(free, total) bytes of GPU gpu_dev_id."""
    return gpu_memory_info(gpu_dev_id)


def getenv(name):
    """The value of environment variable `name`, or None."""
    return os.environ.get(name)


def setenv(name, value):
    """Set environment variable `name` (None removes it)."""
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = str(value)


def is_np_array():
    """False: arrays follow MXNet 1.x's mx.nd semantics (plait has no mx.np mode)."""
    return False


def is_np_shape():
    """False: zero-size dimensions mean 'unknown' as in MXNet 1.x's legacy shape mode."""
    return False
