"""DataLoader: batches of a Dataset, loaded in this process, in threads or in worker
processes (see _worker.py), with MXNet 1.9's arguments and batching rules."""
import multiprocessing
import warnings
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor, TimeoutError as _FutureTimeout

import numpy as np

from ...core.base import PlaitError
from ...core.context import cpu_pinned
from ...ndarray import NDArray
from . import sampler as _sampler
from ._worker import SampleError, WorkerPool, load_batch


def _stack_host(data):
    """The samples of one field as one NumPy batch (NDArray samples are stacked too)."""
    if isinstance(data[0], NDArray):
        for d in data:
            d.wait_to_read()
        return np.stack([d._data if isinstance(d._data, np.ndarray) else d.asnumpy()
                         for d in data])
    return np.asarray(data)


def default_batchify_fn(data):
    """Collate a list of samples into a batch, as MXNet: NDArrays and arrays are stacked
    along a new first axis, tuples are batched field by field into a list, scalars become
    a 1-D array (keeping their dtype: Python ints -> int64, floats -> float64)."""
    first = data[0]
    if isinstance(first, tuple):
        return [default_batchify_fn(list(field)) for field in zip(*data)]
    try:
        arr = _stack_host(data)
    except ValueError:
        arr = np.empty(0, dtype=object)
    if arr.dtype == object:
        raise PlaitError("cannot batch samples of type %s (ragged shapes?); pass a batchify_fn"
                         % type(first).__name__, arg="batchify_fn", op="DataLoader")
    return NDArray(np.ascontiguousarray(arr))


default_mp_batchify_fn = default_batchify_fn


def _as_in_context(data, ctx):
    if isinstance(data, NDArray):
        return data.as_in_context(ctx)
    if isinstance(data, (list, tuple)):
        return type(data)(_as_in_context(d, ctx) for d in data)
    return data


def _raise_sample_error(e):
    raise PlaitError("failed on sample index %d:\n%s" % (e.index, e.tb.rstrip()),
                     op="DataLoader") from None


class DataLoader:
    """Loads a Dataset in mini-batches.

    dataset: anything with __getitem__/__len__.  batch_size, shuffle, sampler, last_batch
    ('keep', 'discard', 'rollover') build a BatchSampler unless `batch_sampler` is given.
    batchify_fn: list of samples -> batch (default_batchify_fn).  num_workers > 0 loads
    batches in forked worker processes (or threads when thread_pool=True), `prefetch`
    batches ahead (default 2 * num_workers); a worker that fails, dies or gives nothing for
    `timeout` seconds raises a PlaitError here.  pin_memory copies batches to
    cpu_pinned(pin_device_id).  try_nopython is accepted and ignored.

    >>> loader = DataLoader(ArrayDataset(np.arange(5)), batch_size=2)
    >>> [b.shape for b in loader]
    [(2,), (2,), (1,)]
    """

    def __init__(self, dataset, batch_size=None, shuffle=False, sampler=None,
                 last_batch=None, batch_sampler=None, batchify_fn=None,
                 num_workers=0, pin_memory=False, pin_device_id=0,
                 prefetch=None, thread_pool=False, timeout=120, try_nopython=None):
        self._dataset = dataset
        self._pin_memory, self._pin_device_id = pin_memory, pin_device_id
        self._thread_pool = thread_pool
        if timeout is not None and timeout <= 0:
            raise PlaitError("timeout must be positive seconds, got %r" % (timeout,),
                             arg="timeout", op="DataLoader")
        self._timeout = timeout
        if batch_sampler is None:
            if batch_size is None:
                raise PlaitError("batch_size must be specified unless batch_sampler is",
                                 arg="batch_size", op="DataLoader")
            if sampler is None:
                sampler = (_sampler.RandomSampler if shuffle else _sampler.SequentialSampler)(
                    len(dataset))
            elif shuffle:
                raise PlaitError("shuffle must not be given with a sampler", arg="shuffle",
                                 op="DataLoader")
            batch_sampler = _sampler.BatchSampler(sampler, batch_size,
                                                  last_batch if last_batch else "keep")
        elif batch_size is not None or shuffle or sampler is not None or last_batch is not None:
            raise PlaitError("batch_size, shuffle, sampler and last_batch must not be given "
                             "with batch_sampler", arg="batch_sampler", op="DataLoader")
        self._batch_sampler = batch_sampler
        self._num_workers = max(0, int(num_workers))
        self._batchify_fn = batchify_fn or default_batchify_fn
        self._prefetch = max(0, int(prefetch) if prefetch is not None
                             else 2 * self._num_workers)
        self._pool = None
        self._finalizer = None
        if self._num_workers > 0:
            if not thread_pool and "fork" not in multiprocessing.get_all_start_methods():
                warnings.warn("DataLoader: worker processes need the 'fork' start method, "
                              "which this platform lacks; using %d threads instead"
                              % self._num_workers, stacklevel=2)
                self._thread_pool = thread_pool = True
            if thread_pool:
                self._pool = ThreadPoolExecutor(self._num_workers)
                self._finalizer = weakref.finalize(self, self._pool.shutdown, False)
            else:
                self._pool = WorkerPool(self._num_workers, dataset, self._batchify_fn)
                self._finalizer = weakref.finalize(self, self._pool.close)

    def __len__(self):
        return len(self._batch_sampler)

    def __iter__(self):
        if self._num_workers == 0:
            return self._same_process_iter()
        if self._thread_pool:
            return self._thread_iter()
        return self._process_iter()

    def _finish(self, batch):
        if self._pin_memory:
            batch = _as_in_context(batch, cpu_pinned(self._pin_device_id))
        return batch

    def _same_process_iter(self):
        for indices in self._batch_sampler:
            try:
                batch = load_batch(self._dataset, indices, self._batchify_fn)
            except SampleError as e:
                _raise_sample_error(e)
            yield self._finish(batch)

    def _thread_iter(self):
        pending = deque()
        batches = iter(self._batch_sampler)
        depth = max(1, self._prefetch)

        def submit(indices):
            pending.append(self._pool.submit(load_batch, self._dataset, indices,
                                             self._batchify_fn))
        try:
            for indices in batches:
                submit(indices)
                if len(pending) >= depth:
                    break
            while pending:
                try:
                    batch = pending.popleft().result(self._timeout)
                except SampleError as e:
                    _raise_sample_error(e)
                except _FutureTimeout:
                    raise PlaitError("no batch from the thread pool within timeout=%ss"
                                     % self._timeout, arg="timeout", op="DataLoader") from None
                for indices in batches:
                    submit(indices)
                    break
                yield self._finish(batch)
        finally:  # on errors and early `break`: drop the batches not started yet
            for f in pending:
                f.cancel()

    def _process_iter(self):
        pool = self._pool
        if pool._closed:
            raise PlaitError("the worker processes of this DataLoader were shut down (after an "
                             "error or timeout); make a new DataLoader", op="DataLoader")
        it = pool.new_iteration()
        try:
            pending = deque()
            batches = enumerate(iter(self._batch_sampler))
            depth = max(1, self._prefetch)
            for task, indices in batches:
                pending.append((pool.submit(it, task, indices), task))
                if len(pending) >= depth:
                    break
            while pending:
                w, task = pending.popleft()
                batch = pool.result(w, it, task, self._timeout)
                for task2, indices in batches:
                    pending.append((pool.submit(it, task2, indices), task2))
                    break
                yield self._finish(batch)
        finally:  # also on `break` (the generator is closed) and on errors
            pool.end_iteration(it)

    def close(self):
        """Stop the worker processes or threads now (also done when the loader is deleted)."""
        if self._finalizer is not None:
            self._finalizer()
