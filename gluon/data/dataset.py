"""Datasets: indexable collections of samples, and their lazy transforms."""
import os

import numpy as np

from ...core.base import PlaitError
from ...ndarray import NDArray
from . import sampler as _sampler


class Dataset:
    """Base class: subclasses define `__getitem__(idx)` and `__len__`.

    An NDArray, a NumPy array or a list can be used directly wherever a dataset is
    expected."""

    def __getitem__(self, idx):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def filter(self, fn):
        """The samples for which `fn(sample)` is true (evaluated once, now)."""
        return _SampledDataset(self, _sampler.FilterSampler(fn, self))

    def shard(self, num_shards, index):
        """Shard `index` of `num_shards` contiguous, near-equal shards (the first
        `len % num_shards` shards hold one sample more)."""
        if num_shards <= 0 or not 0 <= index < num_shards:
            raise PlaitError("need 0 <= index < num_shards, got index=%r num_shards=%r"
                             % (index, num_shards), arg="index", op="Dataset.shard")
        size, rest = divmod(len(self), num_shards)
        start = size * index + min(index, rest)
        return _SampledDataset(self, _sampler.SequentialSampler(size + (index < rest), start))

    def take(self, count):
        """The first `count` samples (all of them when count is None or larger)."""
        n = len(self) if count is None or count > len(self) else count
        return _SampledDataset(self, _sampler.SequentialSampler(n))

    def sample(self, sampler):
        """The samples at the indices `sampler` yields."""
        if not isinstance(sampler, _sampler.Sampler):
            raise PlaitError("expected a gluon.data.Sampler, got %s" % type(sampler).__name__,
                             arg="sampler", op="Dataset.sample")
        return _SampledDataset(self, sampler)

    def transform(self, fn, lazy=True):
        """Each sample passed through `fn` (a tuple sample is passed as *args).

        lazy=True applies `fn` at every access (needed for random augmentation);
        lazy=False applies it once to every sample now."""
        trans = _LazyTransformDataset(self, fn)
        if lazy:
            return trans
        return SimpleDataset([trans[i] for i in range(len(trans))])

    def transform_first(self, fn, lazy=True):
        """Like transform, but `fn` sees only the first element (the data, not the label)."""
        return self.transform(_TransformFirstClosure(fn), lazy)

    def _fast_batch(self, indices):
        """What default_batchify_fn would make of the samples at `indices`, computed with
        whole-array indexing, or None when this dataset cannot (then the DataLoader fetches
        sample by sample).  Results must be identical to the per-sample path."""
        return None


def _take(data, indices):
    """data[indices] for an array field (NDArray or NumPy), else None."""
    if isinstance(data, NDArray):
        data.wait_to_read()
        return NDArray(np.ascontiguousarray(data._data[indices]))
    if isinstance(data, np.ndarray) and data.dtype != object:
        return NDArray(np.ascontiguousarray(data[indices]))
    return None


class SimpleDataset(Dataset):
    """A list, an array or any object with __getitem__ and __len__, as a Dataset."""

    def __init__(self, data):
        self._data = data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]

    def _fast_batch(self, indices):
        return _take(self._data, indices)


class _LazyTransformDataset(Dataset):
    def __init__(self, data, fn):
        self._data, self._fn = data, fn

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        item = self._data[idx]
        if isinstance(item, tuple):
            return self._fn(*item)
        return self._fn(item)

    def _fast_batch(self, indices):
        # transform_first with deterministic, element-wise transforms (ToTensor, Normalize,
        # Cast): transform the stacked batch once instead of every sample
        fn = self._fn
        if not (isinstance(fn, _TransformFirstClosure) and getattr(fn._fn, "batchable", False)):
            return None
        base = self._data._fast_batch(indices)
        if not isinstance(base, list) or base[0].ndim != 4:
            return None
        base[0].wait_to_read()
        return [NDArray(fn._fn._apply(base[0]._data))] + base[1:]


class _TransformFirstClosure:
    """A picklable `lambda x, *rest: (fn(x),) + rest` (worker processes may pickle it)."""

    def __init__(self, fn):
        self._fn = fn

    def __call__(self, x, *args):
        if args:
            return (self._fn(x),) + args
        return self._fn(x)


class _SampledDataset(Dataset):
    def __init__(self, dataset, sampler):
        self._dataset = dataset
        self._indices = list(iter(sampler))

    def __len__(self):
        return len(self._indices)

    def __getitem__(self, idx):
        return self._dataset[self._indices[idx]]

    def _fast_batch(self, indices):
        return self._dataset._fast_batch([self._indices[i] for i in indices])


class ArrayDataset(Dataset):
    """Several equally long dataset-like objects zipped: sample i is (a[i], b[i], ...).

    A 1-D NDArray is kept as NumPy (as in MXNet), so its items are NumPy scalars."""

    def __init__(self, *args):
        if not args:
            raise PlaitError("needs at least one array", arg="args", op="ArrayDataset")
        self._length = len(args[0])
        self._data = []
        for i, data in enumerate(args):
            if len(data) != self._length:
                raise PlaitError("all arrays must have the same length; array 0 has %d, array %d "
                                 "has %d" % (self._length, i, len(data)), arg="args",
                                 op="ArrayDataset")
            if isinstance(data, NDArray) and data.ndim == 1:
                data = data.asnumpy()
            self._data.append(data)

    def __getitem__(self, idx):
        if len(self._data) == 1:
            return self._data[0][idx]
        return tuple(data[idx] for data in self._data)

    def _fast_batch(self, indices):
        fields = [_take(d, indices) for d in self._data]
        if any(f is None for f in fields):
            return None
        return fields[0] if len(fields) == 1 else fields

    def __len__(self):
        return self._length


class RecordFileDataset(Dataset):
    """The records of a RecordIO file (`name.rec` with its index `name.idx`), as bytes."""

    def __init__(self, filename):
        from .recordio import MXIndexedRecordIO
        self.filename = filename
        self.idx_file = os.path.splitext(filename)[0] + ".idx"
        self._record = MXIndexedRecordIO(self.idx_file, self.filename, "r")

    def __getitem__(self, idx):
        return self._record.read_idx(self._record.keys[idx])

    def __len__(self):
        return len(self._record.keys)
