"""Samplers: the order in which a DataLoader visits a dataset, and how it cuts batches.

RandomSampler draws from NumPy's global generator, as MXNet's does, so `np.random.seed`
fixes the order.
"""
import numpy as np

from ...core.base import PlaitError

LAST_BATCH_MODES = ("keep", "discard", "rollover")


def check_last_batch(last_batch, where):
    if last_batch not in LAST_BATCH_MODES:
        raise PlaitError("last_batch must be one of %s, got %r" % (LAST_BATCH_MODES, last_batch),
                         arg="last_batch", op=where)


class Sampler:
    """Base class: subclasses define `__iter__` (indices) and `__len__`."""

    def __iter__(self):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """start, start+1, ..., start+length-1."""

    def __init__(self, length, start=0):
        self._length, self._start = int(length), int(start)

    def __iter__(self):
        return iter(range(self._start, self._start + self._length))

    def __len__(self):
        return self._length


class RandomSampler(Sampler):
    """A random permutation of [0, length), new on every pass."""

    def __init__(self, length):
        self._length = int(length)

    def __iter__(self):
        indices = np.arange(self._length)
        np.random.shuffle(indices)
        return iter(indices.tolist())

    def __len__(self):
        return self._length


class FilterSampler(Sampler):
    """The indices of the samples of `dataset` for which `fn(sample)` is true."""

    def __init__(self, fn, dataset):
        self._indices = [i for i in range(len(dataset)) if fn(dataset[i])]

    def __iter__(self):
        return iter(self._indices)

    def __len__(self):
        return len(self._indices)


class IntervalSampler(Sampler):
    """0, k, 2k, ..., then 1, k+1, ... (with rollover=True) over [0, length)."""

    def __init__(self, length, interval, rollover=True):
        if not 0 < interval <= length:
            raise PlaitError("interval %d must be in (0, length=%d]" % (interval, length),
                             arg="interval", op="IntervalSampler")
        self._length, self._interval, self._rollover = length, interval, rollover

    def __iter__(self):
        starts = range(self._interval) if self._rollover else range(1)
        for s in starts:
            yield from range(s, self._length, self._interval)

    def __len__(self):
        if self._rollover:
            return self._length
        return len(range(0, self._length, self._interval))


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size`.

    last_batch: 'keep' yields a short last batch, 'discard' drops it, 'rollover' carries
    its indices over to the front of the next pass.

    >>> list(BatchSampler(SequentialSampler(5), 2, 'keep'))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, last_batch="keep"):
        check_last_batch(last_batch, "BatchSampler")
        if int(batch_size) <= 0:
            raise PlaitError("batch_size must be positive, got %r" % (batch_size,),
                             arg="batch_size", op="BatchSampler")
        self._sampler, self._batch_size, self._last_batch = sampler, int(batch_size), last_batch
        self._prev = []

    def __iter__(self):
        batch, self._prev = self._prev, []
        for i in self._sampler:
            batch.append(i)
            if len(batch) == self._batch_size:
                yield batch
                batch = []
        if batch:
            if self._last_batch == "keep":
                yield batch
            elif self._last_batch == "rollover":
                self._prev = batch

    def __len__(self):
        n, b = len(self._sampler), self._batch_size
        if self._last_batch == "keep":
            return (n + b - 1) // b
        if self._last_batch == "discard":
            return n // b
        return (len(self._prev) + n) // b
