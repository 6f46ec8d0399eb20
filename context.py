"""mx.context: MXNet's module of devices (`mx.context.num_gpus()`, `mx.context.Context`).

The classes and functions live in plait.core.context; this module gives them MXNet's
import path, which scripts use to pick a device (`mx.gpu() if mx.context.num_gpus() else
mx.cpu()`)."""
from .core.context import Context, cpu, cpu_pinned, current_context, gpu, num_gpus  # noqa: F401
from .core.context import _get_cupy
from .core.base import PlaitError

__all__ = ["Context", "cpu", "cpu_pinned", "current_context", "gpu", "gpu_memory_info",
           "num_gpus"]


def gpu_memory_info(device_id=0):
    """(free, total) bytes of GPU `device_id`, as MXNet's; needs CuPy and that GPU."""
    cp = _get_cupy()
    count = 0 if cp is None else cp.cuda.runtime.getDeviceCount()
    if device_id < 0 or device_id >= count:
        raise PlaitError("gpu_memory_info: no GPU %d (%d present; CuPy %s)"
                         % (device_id, count, "not installed" if cp is None else "found"),
                         arg="device_id")
    with cp.cuda.Device(device_id):
        free, total = cp.cuda.runtime.memGetInfo()
    return free, total
