"""GPU path of 'dist_sync_device': sum CuPy arrays across ranks with NCCL.

One NCCL communicator per process (one GPU per rank: the device of the first array
reduced), built on first use from an NCCL unique id that rank 0 creates and sends to the
others over MPI.  Runs on the kvstore's communication thread, like every collective.
Untested in plait's CI (no GPU there): the CPU path covers the same kvstore logic."""
import numpy as np

__all__ = ["nccl_allreduce"]


def _nccl_types(nccl):
    return {np.dtype(np.float16): nccl.NCCL_FLOAT16, np.dtype(np.float32): nccl.NCCL_FLOAT32,
            np.dtype(np.float64): nccl.NCCL_FLOAT64, np.dtype(np.int32): nccl.NCCL_INT32,
            np.dtype(np.int64): nccl.NCCL_INT64, np.dtype(np.uint8): nccl.NCCL_UINT8,
            np.dtype(np.int8): nccl.NCCL_INT8}


def _communicator(comm, device):
    from cupy.cuda import nccl
    if comm._nccl is None:
        uid = np.zeros(128, np.int64)
        if comm.rank == 0:
            uid[:] = nccl.get_unique_id()
        comm.comm.Bcast(uid, root=0)
        with device:
            comm._nccl = nccl.NcclCommunicator(comm.size, tuple(int(v) for v in uid),
                                               comm.rank)
    return comm._nccl


def nccl_allreduce(comm, xs, ds):
    """ds[i] = sum over ranks of xs[i] (CuPy arrays on one device, same dtype)."""
    import cupy
    from cupy.cuda import nccl
    device = xs[0].device
    nc = _communicator(comm, device)
    with device:
        flat = cupy.concatenate([x.reshape(-1) for x in xs]) if len(xs) > 1 else \
            cupy.ascontiguousarray(xs[0]).reshape(-1).copy()
        stream = cupy.cuda.get_current_stream()
        nc.allReduce(flat.data.ptr, flat.data.ptr, flat.size,
                     _nccl_types(nccl)[np.dtype(flat.dtype)], nccl.NCCL_SUM, stream.ptr)
        off = 0
        for d in ds:
            d[...] = flat[off:off + d.size].reshape(d.shape)
            off += d.size
        stream.synchronize()
