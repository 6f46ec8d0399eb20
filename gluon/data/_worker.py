"""Worker processes of the DataLoader: a small fork-based pool with one pipe per worker.

Why not multiprocessing.Pool: a task lost with a dead worker makes Pool wait forever, and
its result handler threads outlive an early `break`.  Here each worker has its own duplex
pipe, tasks go round-robin and come back in order per worker, so the parent always knows
which worker it waits for and watches that worker's process sentinel too: a dead worker,
an exception in a worker (raised in the parent with its traceback and the sample index)
and a timeout each become a PlaitError instead of a hang.

Tasks carry an iteration id; results of an abandoned iteration (early `break`) are
skipped when they arrive, so one pool serves every epoch of a DataLoader.  Large batch
arrays come back through /dev/shm (_shm.py), small ones pickled over the pipe between our
own processes (NDArrays are boxed on the way and rebuilt in the parent); nothing read from
a file is unpickled.
"""
import os
import random
import signal
import sys
import time
import traceback
from multiprocessing import connection, get_context

import numpy as np

from ...core.base import PlaitError
from . import _shm


class _Box:
    """An NDArray's values in transit from a worker (rebuilt as an NDArray in the parent)."""
    __slots__ = ("a",)

    def __init__(self, a):
        self.a = a

    def __getstate__(self):
        return self.a

    def __setstate__(self, a):
        self.a = a


def box(obj, writer=None):
    """Replace every NDArray in a (nested list/tuple) batch by a _Box of its NumPy values,
    or, when large and `writer` is given, by a _shm.ShmArray."""
    from ...ndarray import NDArray
    if isinstance(obj, NDArray):
        obj.wait_to_read()
        d = obj._data
        d = d if isinstance(d, np.ndarray) else d.get()
        s = writer.put(d) if writer is not None else None
        return s if s is not None else _Box(d)
    if isinstance(obj, (list, tuple)):
        return type(obj)(box(o, writer) for o in obj)
    return obj


def unbox(obj):
    from ...ndarray import NDArray
    if isinstance(obj, _Box):
        return NDArray(obj.a)
    if isinstance(obj, _shm.ShmArray):
        return NDArray(_shm.take(obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(unbox(o) for o in obj)
    return obj


class SampleError(Exception):
    """Raised inside a worker (or in-process) when loading one sample fails."""

    def __init__(self, index, tb):
        super().__init__(index, tb)
        self.index, self.tb = index, tb


def load_batch(dataset, indices, batchify_fn):
    """Fetch the samples at `indices` and batchify them; a failing sample raises SampleError
    naming its index.  With the default batchify function, datasets that can (see
    Dataset._fast_batch) give the whole batch by array indexing instead."""
    from .dataloader import default_batchify_fn
    if batchify_fn is default_batchify_fn:
        try:
            out = dataset._fast_batch(indices)
        except Exception:  # noqa: BLE001  (the per-sample path names the failing index)
            out = None
        if out is not None:
            return out
    samples = []
    for i in indices:
        try:
            samples.append(dataset[i])
        except Exception:  # noqa: BLE001  (re-raised with the index and traceback)
            raise SampleError(i, traceback.format_exc()) from None
    return batchify_fn(samples)


def _worker_main(conn, all_parent_ends, dataset, batchify_fn, parent_pid, seed, shm_prefix):
    """Loop of one worker: receive (iteration, task, indices), send (iteration, task, status,
    payload).  Exits on None, on EOF, or when the parent is gone."""
    for c in all_parent_ends:  # the parent's ends must close when the parent dies
        c.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from ...core import engine, rng
    engine.set_engine_type("NaiveEngine")  # no engine threads in a worker
    # each worker its own random streams (forked copies would repeat the parent's draws)
    np.random.seed(seed)
    random.seed(seed)
    rng.seed(seed)
    writer = _shm.Writer(shm_prefix)
    while True:
        try:
            while not conn.poll(1.0):
                if os.getppid() != parent_pid:  # the parent died without closing us
                    _shm.remove_all(shm_prefix)
                    return
            msg = conn.recv()
        except (EOFError, OSError):  # the parent's end is closed: it died or closed us
            _shm.remove_all(shm_prefix)
            return
        except KeyboardInterrupt:
            return
        if msg is None:
            return
        it, task, indices = msg
        try:
            out = ("ok", box(load_batch(dataset, indices, batchify_fn), writer))
        except SampleError as e:
            out = ("error", (e.index, e.tb))
        except Exception:  # noqa: BLE001  (the batchify function failed)
            out = ("error", (None, traceback.format_exc()))
        try:
            conn.send((it, task) + out)
        except (BrokenPipeError, OSError):  # the parent is gone
            _shm.remove_all(shm_prefix)
            return
        except Exception:  # noqa: BLE001  (a result that does not pickle)
            conn.send((it, task, "error", (None, traceback.format_exc())))


class WorkerPool:
    """`num_workers` forked processes serving batches of `dataset`."""

    def __init__(self, num_workers, dataset, batchify_fn):
        ctx = get_context("fork")
        self._conns, self._procs = [], []
        seeds = np.random.randint(0, 2 ** 31 - 1, size=num_workers)
        self._shm_prefix = _shm.make_prefix("%x" % id(self))
        sys.stdout.flush()
        sys.stderr.flush()
        for i in range(num_workers):
            # a pipe per worker, made just before its fork: a worker inherits only the
            # parent's ends of the earlier pipes (and closes them), no other worker's end
            parent_end, child = ctx.Pipe(duplex=True)
            self._conns.append(parent_end)
            p = ctx.Process(target=_worker_main, daemon=True, name="plait-DataLoader-%d" % i,
                            args=(child, list(self._conns), dataset, batchify_fn, os.getpid(),
                                  int(seeds[i]), self._shm_prefix))
            p.start()
            child.close()
            self._procs.append(p)
        self._next_worker = 0
        self._iteration = 0
        self._live, self._held = set(), {}
        self._closed = False

    @property
    def num_workers(self):
        return len(self._procs)

    def new_iteration(self):
        """A new iteration id.  Several iterations may be live at once (nested loops over
        one loader): results of the others are kept until asked for."""
        self._iteration += 1
        self._live.add(self._iteration)
        return self._iteration

    def end_iteration(self, it):
        """Iteration `it` is over (finished or abandoned): drop its results."""
        self._live.discard(it)
        for key in [k for k in self._held if k[0] == it]:
            status, payload = self._held.pop(key)
            if status == "ok":
                _shm.discard(payload)

    def submit(self, it, task, indices):
        """Send a task; returns the worker that will answer it."""
        w = self._next_worker
        self._next_worker = (w + 1) % len(self._procs)
        self._conns[w].send((it, task, list(map(int, indices))))
        return w

    def result(self, w, it, task, timeout):
        """The batch of (it, task) from worker w (holding other live iterations' results
        and dropping those of finished ones)."""
        conn, proc = self._conns[w], self._procs[w]
        while (it, task) not in self._held:
            ready = connection.wait([conn, proc.sentinel], timeout)
            if not ready:
                self.close(force=True)
                raise PlaitError("no batch from worker %d within timeout=%ss (a slow or stuck "
                                 "sample or transform? raise `timeout`)" % (w, timeout),
                                 arg="timeout", op="DataLoader")
            try:
                if conn not in ready or not conn.poll():
                    raise EOFError
                got_it, got_task, status, payload = conn.recv()
            except (EOFError, OSError):
                proc.join(timeout=1.0)
                code = proc.exitcode
                self.close()
                raise PlaitError("worker process %d exited unexpectedly (exit code %s) while "
                                 "loading a batch" % (w, code), op="DataLoader") from None
            if got_it in self._live:
                self._held[got_it, got_task] = status, payload
            elif status == "ok":
                _shm.discard(payload)  # a result of an abandoned iteration
        status, payload = self._held.pop((it, task))
        if status == "ok":
            return unbox(payload)
        index, tb = payload
        where = "sample index %d" % index if index is not None else "batchify_fn"
        raise PlaitError("worker process %d failed on %s:\n%s" % (w, where, tb.rstrip()),
                         op="DataLoader")

    def close(self, force=False):
        """Stop every worker (politely, then by force) and reap it; idempotent.
        Workers hold nothing that needs cleaning up, so a busy one is simply terminated."""
        if self._closed:
            return
        self._closed = True
        for c in self._conns:
            try:
                c.send(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + (0 if force else 0.2)
        for p in self._procs:
            p.join(timeout=max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.terminate()
                p.join(timeout=1.0)
            if p.is_alive():
                p.kill()
                p.join()
        for key in list(self._held):
            self.end_iteration(key[0])
        for c in self._conns:
            try:
                while c.poll():  # results never asked for: free their files
                    msg = c.recv()
                    if msg[2] == "ok":
                        _shm.discard(msg[3])
            except (EOFError, OSError):
                pass
            c.close()
        _shm.remove_all(self._shm_prefix)
