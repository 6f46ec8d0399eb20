"""Devices: `mx.cpu(i)`, `mx.gpu(i)`, the default context stack, and the array
namespace (`xp`) each device computes with: NumPy on CPU, CuPy on GPU."""
import threading

import numpy as np

from .base import PlaitError

_cupy = None
_cupy_checked = False


def _get_cupy():
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy
            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
        except Exception:  # no CuPy, or no driver/GPU
            _cupy = None
    return _cupy


class Context:
    """A device: Context('cpu', 0) or Context('gpu', 1).  Usable as `with ctx:`."""
    devtype2str = {1: "cpu", 2: "gpu", 3: "cpu_pinned", 5: "cpu_shared"}
    devstr2type = {v: k for k, v in devtype2str.items()}
    _local = threading.local()
    __slots__ = ("device_type", "device_id", "_old")

    def __init__(self, device_type, device_id=0):
        if isinstance(device_type, Context):
            device_type, device_id = device_type.device_type, device_type.device_id
        if device_type not in self.devstr2type:
            raise PlaitError("unknown device type %r (expected cpu, gpu, cpu_pinned or cpu_shared)"
                             % (device_type,), arg="device_type", op="Context")
        self.device_type = device_type
        self.device_id = int(device_id)

    @property
    def device_typeid(self):
        return self.devstr2type[self.device_type]

    def __hash__(self):
        return hash((self.device_type, self.device_id))

    def __eq__(self, other):
        return (isinstance(other, Context) and self.device_type == other.device_type
                and self.device_id == other.device_id)

    def __repr__(self):
        return "%s(%d)" % (self.device_type, self.device_id)

    __str__ = __repr__

    def __enter__(self):
        stack = _stack()
        stack.append(self)
        return self

    def __exit__(self, *exc):
        _stack().pop()

    @property
    def is_gpu(self):
        return self.device_type == "gpu"

    def empty_cache(self):
        """Free the memory the device's pool keeps for reuse (core/mempool.py on CPU)."""
        xp = xp_of(self)
        if xp is not np:
            xp.get_default_memory_pool().free_all_blocks()
        else:
            from . import mempool
            mempool.release()


_CPU0 = Context("cpu", 0)


def _stack():
    s = getattr(Context._local, "stack", None)
    if s is None:
        s = Context._local.stack = []
    return s


def cpu(device_id=0):
    return _CPU0 if device_id == 0 else Context("cpu", device_id)


def cpu_pinned(device_id=0):
    return Context("cpu_pinned", device_id)


def gpu(device_id=0):
    return Context("gpu", device_id)


def current_context():
    s = _stack()
    return s[-1] if s else _CPU0


def num_gpus():
    cp = _get_cupy()
    return 0 if cp is None else cp.cuda.runtime.getDeviceCount()


def xp_of(ctx):
    """The array module that computes on `ctx`: numpy, or cupy for a GPU."""
    if ctx.device_type != "gpu":
        return np
    cp = _get_cupy()
    if cp is None:
        raise PlaitError("%s: no GPU is available (CuPy is not installed or finds no CUDA device);"
                         " use mx.cpu() or install plait[gpu] on a machine with a GPU" % ctx,
                         arg="ctx")
    if ctx.device_id >= cp.cuda.runtime.getDeviceCount():
        raise PlaitError("%s: only %d GPU(s) are present" % (ctx, num_gpus()), arg="ctx")
    return cp
