"""MPI transport of the distributed kvstore: one communication thread per process.

Why a thread and async engine ops.  A collective must read a gradient only after backward
wrote it and must finish before the optimizer reads the result; the engine orders that
through the arrays' vars.  Each bucket of gradients becomes one async engine op
(engine.push_async) that reads its sources and writes its destinations: its kernel only
hands the bucket to the communication thread and returns, so no engine worker blocks
while MPI runs (MPI calls release the GIL); the comm thread calls the op's done() when
the reduced values are written, and the ops waiting on them (optimizer updates) start.

Why one FIFO.  MPI needs every rank to call collectives on a communicator in the same
order.  Requests enter the queue at push time, in program order (the same on every rank,
SPMD), and the thread runs them in that order, each once its engine op is ready.  Blocking
calls (barrier, metadata checks) go through the same queue, so all MPI traffic runs on
one thread (MPI_THREAD_SERIALIZED is enough).

Failure.  A rank that cannot take part in a collective (an uncaught exception, a
gradient poisoned by a failed op, an MPI error) calls MPI Abort: mpiexec then ends every
rank instead of leaving them waiting in the collective forever."""
import atexit
import json
import os
import queue
import sys
import threading
import time
import traceback
import warnings

import numpy as np

from ..core import engine
from ..core.base import PlaitError

__all__ = ["get_comm", "MPIComm", "BUCKET_BYTES"]

#: Gradients smaller than this are fused into buckets of up to this many bytes
#: (env PLAIT_KVSTORE_BUCKET_BYTES); bigger arrays travel alone, without a packing copy.
BUCKET_BYTES = int(os.environ.get("PLAIT_KVSTORE_BUCKET_BYTES", 4 << 20))
#: A collective whose inputs are ready and that finds the comm thread idle runs in the
#: calling thread when it is at most this big (env PLAIT_KVSTORE_INLINE_BYTES).
INLINE_BYTES = int(os.environ.get("PLAIT_KVSTORE_INLINE_BYTES", 4 << 20))
_POLL_S = 0.5  # how often a waiting request checks its inputs for exceptions
_COMM = None
_LOCK = threading.Lock()


def get_comm():
    """The process's MPIComm (created, collectively, on first use)."""
    global _COMM
    with _LOCK:
        if _COMM is None:
            _COMM = MPIComm()
        return _COMM


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise PlaitError("distributed kvstores need mpi4py and an MPI library: pip install "
                         "'plait[dist]' (mpi4py + the mpich wheel), or mpi4py built against "
                         "your cluster's MPI (%s)" % e, op="kvstore.create") from e
    return MPI


class _Request:
    __slots__ = ("run", "name", "watch", "ready", "finished", "done", "result", "error")

    def __init__(self, run, name, watch=()):
        self.run, self.name, self.watch = run, name, watch
        self.ready = threading.Event()
        self.finished = threading.Event()
        self.done = self.result = self.error = None


def _flat(a):
    return a.reshape(-1) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1)


def _unpack(flat, dsts):
    off = 0
    for d in dsts:
        n = d.size
        np.copyto(d, flat[off:off + n].reshape(d.shape), casting="unsafe")
        off += n


class MPIComm:
    """COMM_WORLD (duplicated) plus the thread that runs every collective in order."""

    def __init__(self):
        MPI = _import_mpi()
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD.Dup()
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        if MPI.Query_thread() < MPI.THREAD_SERIALIZED:
            warnings.warn("MPI was initialised with thread level %d, below "
                          "MPI_THREAD_SERIALIZED: plait's kvstore calls MPI from its "
                          "communication thread; leave mpi4py.rc.thread_level at its default "
                          "('multiple')" % MPI.Query_thread(), RuntimeWarning, stacklevel=3)
        self._native_f16 = "e" in getattr(MPI, "_typedict", {})
        self._nccl = None
        self._queue = queue.SimpleQueue()
        self._closed = False
        # requests queued or running on the comm thread = _submitted - _finished (each
        # counter written by one thread only: the submitting one, the comm thread)
        self._submitted = self._finished = 0
        self._thread = threading.Thread(target=self._loop, name="plait-kvstore-comm",
                                        daemon=True)
        self._thread.start()
        if self.size > 1:
            _install_abort_hooks(self)
        atexit.register(self.close)

    # -- the thread ---------------------------------------------------------------------------
    def _loop(self):
        while True:
            req = self._queue.get()
            if req is None:
                return
            while not req.ready.wait(_POLL_S):
                self._check_inputs(req)
            try:
                req.result = req.run()
            except PlaitError as e:  # raised identically on every rank (metadata checks)
                req.error = e
            except BaseException:  # an MPI or kernel failure: the ranks are out of step
                self.abort("communication failed in %s:\n%s"
                           % (req.name, traceback.format_exc()))
            self._finished += 1
            if req.done is not None:
                req.done()
            req.finished.set()

    def _check_inputs(self, req):
        for what, var in req.watch:
            exc = var.exception
            if exc is not None:
                self.abort("%s cannot take part in %s: %s holds an exception from an "
                           "earlier operator (%s: %s); aborting the job so that no rank "
                           "waits for this one forever"
                           % (self._who(), req.name, what, type(exc).__name__, exc))

    def _who(self):
        return "rank %d of %d" % (self.rank, self.size)

    def abort(self, msg, code=1):
        """Print msg and end every rank of the job (MPI Abort)."""
        sys.stderr.write("plait.kvstore [rank %d/%d]: %s\n" % (self.rank, self.size, msg))
        sys.stderr.flush()
        # mpiexec forwards each rank's output through a proxy that Abort tears down: give
        # it a moment, or the message (even the traceback's last lines) can be lost
        time.sleep(0.25)
        self.MPI.COMM_WORLD.Abort(code)

    def close(self):
        """Finish pending engine work and stop the thread (at exit, before MPI_Finalize)."""
        if self._closed:
            return
        self._closed = True
        engine._E.wait_idle()  # pylint: disable=protected-access  (keeps errors for the
        # engine's own exit hook, which reports them)
        self._queue.put(None)
        self._thread.join()

    # -- submitting ---------------------------------------------------------------------------
    def submit(self, run, reads, writes, name, watch_names=None, nbytes=0):
        """Run run() as an async engine op reading `reads` and writing `writes` (NDArrays),
        in program order with the other requests: on the comm thread, or at once in this
        thread when its inputs are ready, nothing is queued and it is small (nbytes <=
        INLINE_BYTES: a thread hand-off would cost more than the overlap wins)."""
        if self._closed:
            raise PlaitError("the kvstore's MPI communicator is closed", op=name)
        watch = tuple((w, a._var) for w, a in zip(watch_names or (), reads))
        req = _Request(run, name, watch)
        me = threading.get_ident()
        # Only the submitting thread enqueues, so when nothing is pending the comm thread
        # is idle and stays idle while this thread runs the collective itself.
        inline = [self._submitted == self._finished and nbytes <= INLINE_BYTES]
        if not inline[0]:
            self._enqueue(req)

        def start(done):
            if inline[0] and threading.get_ident() == me:  # run by push_async right here
                inline[0] = "ran"
                try:
                    run()
                except BaseException:  # pylint: disable=broad-except
                    self.abort("communication failed in %s:\n%s"
                               % (name, traceback.format_exc()))
                done()
                return
            req.done = done
            req.ready.set()
        engine.push_async(start, [a._var for a in reads], [a._var for a in writes], name)
        if inline[0] is True:  # inputs were not ready: hand it to the comm thread after all
            inline[0] = False
            self._enqueue(req)

    def _enqueue(self, req):
        self._submitted += 1
        self._queue.put(req)

    def run_blocking(self, run, name):
        """Run run() on the comm thread after every earlier request; return its result."""
        if self._closed:
            raise PlaitError("the kvstore's MPI communicator is closed", op=name)
        req = _Request(run, name)
        req.ready.set()
        self._enqueue(req)
        req.finished.wait()
        if req.error is not None:
            raise req.error
        return req.result

    # -- collectives (called on the comm thread) ----------------------------------------------
    def _allreduce_host(self, bufs):
        """Sum a list of host arrays in place across ranks (packed when several)."""
        MPI = self.MPI
        if len(bufs) == 1 and bufs[0].flags.c_contiguous:
            flat = bufs[0].reshape(-1)
        else:
            flat = np.concatenate([_flat(b) for b in bufs])
        if flat.dtype == np.float16 and not self._native_f16:
            wide = flat.astype(np.float32)
            self.comm.Allreduce(MPI.IN_PLACE, wide, op=MPI.SUM)
            flat[...] = wide
        else:
            self.comm.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)
        return flat

    def run_allreduce(self, keys, xs, ds, compression=None, use_nccl=False):
        """ds[i] = sum over ranks of xs[i] (the NDArrays' buffers, taken when the request
        was submitted: autograd may hand an NDArray a new buffer meanwhile; may be the
        same arrays)."""
        if not isinstance(xs[0], np.ndarray):  # CuPy arrays
            if use_nccl and compression is None:
                from .kvstore_nccl import nccl_allreduce
                return nccl_allreduce(self, xs, ds)
            host = [x.get() for x in xs]
            out = [np.empty_like(h) for h in host]
            self._reduce_host(keys, host, out, compression)
            for d, h in zip(ds, out):
                d.set(h)
            return None
        return self._reduce_host(keys, xs, ds, compression)

    def _reduce_host(self, keys, xs, ds, compression):
        if compression is not None:
            flats = [_flat(x) for x in xs]
            payload = compression.encode(keys, flats)
            gathered = np.empty((self.size, payload.size), payload.dtype)
            self.comm.Allgather(payload, gathered)
            n = sum(f.size for f in flats)
            _unpack(compression.decode_sum(gathered, n, ds[0].dtype), ds)
            return None
        if len(xs) == 1:
            x, d = xs[0], ds[0]
            if x is d and d.flags.c_contiguous:
                self._allreduce_host([d])
                return None
            if x.flags.c_contiguous and d.flags.c_contiguous and x.dtype != np.float16:
                self.comm.Allreduce(x, d, op=self.MPI.SUM)
                return None
            xs = [x.copy()]  # reduced in place below: never touch the source
        _unpack(self._allreduce_host(xs), ds)
        return None

    def run_broadcast(self, bufs, root=0):
        """Every rank's buffers (of NDArrays, taken at submission; host or CuPy) take
        root's values."""
        host = [b if isinstance(b, np.ndarray) else b.get() for b in bufs]
        if len(host) == 1 and host[0].flags.c_contiguous:
            self.comm.Bcast(host[0].reshape(-1), root=root)
        else:
            flat = np.concatenate([_flat(h) for h in host])
            self.comm.Bcast(flat, root=root)
            _unpack(flat, host)
        for b, h in zip(bufs, host):
            if b is not h:
                b.set(h)

    def allgather_json(self, obj, name):
        """Every rank's JSON-serialisable obj, in rank order (blocking; no pickle)."""
        def run():
            data = np.frombuffer(json.dumps(obj, sort_keys=True).encode(), np.uint8)
            sizes = np.empty(self.size, np.int64)
            self.comm.Allgather(np.array([data.size], np.int64), sizes)
            out = np.empty(int(sizes.sum()), np.uint8)
            self.comm.Allgatherv(data, (out, sizes))
            offs = np.concatenate([[0], np.cumsum(sizes)])
            return [json.loads(out[offs[i]:offs[i + 1]].tobytes()) for i in range(self.size)]
        return self.run_blocking(run, name)

    def barrier(self):
        self.run_blocking(self.comm.Barrier, "kvstore.barrier")


def buckets(arrays, limit=None):
    """Index lists grouping `arrays` (NDArrays) into fusion buckets: same dtype and
    device, at most `limit` bytes each (an array bigger than that travels alone), in the
    given order; deterministic, so every rank forms the same buckets."""
    limit = BUCKET_BYTES if limit is None else limit
    out, open_ = [], {}
    for i, a in enumerate(arrays):
        d = a._data
        nbytes = d.size * d.itemsize
        if nbytes >= limit:
            out.append([i])
            continue
        ctx = a._ctx
        group = (d.dtype.str, ctx.device_type, ctx.device_id)
        cur = open_.get(group)
        if cur is not None and cur[1] + nbytes > limit:
            out.append(cur[0])
            cur = None
        if cur is None:
            cur = open_[group] = [[], 0]
        cur[0].append(i)
        cur[1] += nbytes
    out.extend(c[0] for c in open_.values() if c[0])
    return out


def _install_abort_hooks(comm):
    """An exception nobody catches, in any thread, ends the whole job."""
    prev = sys.excepthook

    def excepthook(tp, value, tb):
        prev(tp, value, tb)
        comm.abort("uncaught %s: %s; aborting all %d ranks" % (tp.__name__, value, comm.size))

    sys.excepthook = excepthook
    prev_thread = threading.excepthook

    def thread_excepthook(args):
        prev_thread(args)
        if args.exc_type is not SystemExit:
            comm.abort("uncaught %s in thread %r: %s; aborting all %d ranks"
                       % (args.exc_type.__name__, getattr(args.thread, "name", "?"),
                          args.exc_value, comm.size))

    threading.excepthook = thread_excepthook
