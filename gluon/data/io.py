"""mx.io: the iterator API of MXNet's Module world: DataDesc, DataBatch, DataIter and
NDArrayIter (with MXNet's 'pad' / 'discard' / 'roll_over' last-batch rules); ResizeIter,
PrefetchingIter and MNISTIter live in io_iters.py."""
from collections import OrderedDict, namedtuple

import numpy as np

from ...core.base import PlaitError
from ... import ndarray as nd
from ...ndarray import NDArray


class DataDesc(namedtuple("DataDesc", ["name", "shape"])):
    """Name, shape, dtype and layout of one input (a namedtuple of name and shape, with
    dtype and layout as attributes)."""

    def __new__(cls, name, shape, dtype=np.float32, layout="NCHW"):
        ret = super().__new__(cls, name, shape)
        ret.dtype, ret.layout = dtype, layout
        return ret

    def __repr__(self):
        return "DataDesc[%s,%s,%s,%s]" % (self.name, self.shape, self.dtype, self.layout)

    @staticmethod
    def get_batch_axis(layout):
        """The position of 'N' in layout (0 when layout is None)."""
        return 0 if layout is None else layout.find("N")

    @staticmethod
    def get_list(shapes, types):
        """DataDescs from [(name, shape)] and optional [(name, dtype)]."""
        if types is not None:
            type_dict = dict(types)
            return [DataDesc(x[0], x[1], type_dict[x[0]]) for x in shapes]
        return [DataDesc(x[0], x[1]) for x in shapes]


class DataBatch:
    """One batch: lists of data and label NDArrays, `pad` (examples at the end that only
    fill the batch up), index, bucket_key and the descriptors."""

    def __init__(self, data, label=None, pad=None, index=None, bucket_key=None,
                 provide_data=None, provide_label=None):
        if data is not None and not isinstance(data, (list, tuple)):
            raise PlaitError("data must be a list of NDArrays", arg="data", op="DataBatch")
        if label is not None and not isinstance(label, (list, tuple)):
            raise PlaitError("label must be a list of NDArrays", arg="label", op="DataBatch")
        self.data, self.label, self.pad, self.index = data, label, pad, index
        self.bucket_key, self.provide_data, self.provide_label = (bucket_key, provide_data,
                                                                  provide_label)

    def __str__(self):
        data_shapes = [d.shape for d in self.data]
        label_shapes = [lb.shape for lb in self.label] if self.label else None
        return "%s: data shapes: %s label shapes: %s" % (type(self).__name__, data_shapes,
                                                         label_shapes)


class DataIter:
    """Base iterator: subclasses define reset() and next() (or iter_next/getdata/...)."""

    def __init__(self, batch_size=0):
        self.batch_size = batch_size

    def __iter__(self):
        return self

    def reset(self):
        pass

    def next(self):
        if self.iter_next():
            return DataBatch(data=self.getdata(), label=self.getlabel(), pad=self.getpad(),
                             index=self.getindex())
        raise StopIteration

    def __next__(self):
        return self.next()

    def iter_next(self):
        raise NotImplementedError

    def getdata(self):
        raise NotImplementedError

    def getlabel(self):
        raise NotImplementedError

    def getindex(self):
        return None

    def getpad(self):
        raise NotImplementedError


def _init_data(data, allow_empty, default_name):
    """[(name, NDArray)] sorted by name, from an array, a list or a dict of arrays."""
    if data is None:
        data = []
    if isinstance(data, (np.ndarray, NDArray)):
        data = [data]
    if isinstance(data, list):
        if not data and not allow_empty:
            raise PlaitError("no data given", arg="data", op="NDArrayIter")
        if len(data) == 1:
            data = OrderedDict([(default_name, data[0])])
        else:
            data = OrderedDict(("_%d_%s" % (i, default_name), d) for i, d in enumerate(data))
    if not isinstance(data, dict):
        raise PlaitError("expected an NDArray, a NumPy array, a list of them or a dict of them, "
                         "got %s" % type(data).__name__, arg="data", op="NDArrayIter")
    out = {}
    for k, v in data.items():
        out[k] = v if isinstance(v, NDArray) else nd.array(v)
    return sorted(out.items())


class HeldBatchIter(DataIter):
    """A DataIter whose iter_next() builds `self.current_batch`; next() and the get*()
    accessors read that batch."""

    current_batch = None

    def next(self):
        if self.iter_next():
            return self.current_batch
        raise StopIteration

    def getdata(self):
        return self.current_batch.data

    def getlabel(self):
        return self.current_batch.label

    def getindex(self):
        return self.current_batch.index

    def getpad(self):
        return self.current_batch.pad


class NDArrayIter(DataIter):
    """Batches of in-memory arrays, as MXNet's NDArrayIter.

    last_batch_handle: 'pad' fills the last batch up from the start (DataBatch.pad says how
    many), 'discard' drops it, 'roll_over' drops it and starts the next epoch with it.
    shuffle permutes the examples at every reset.  NumPy inputs become float32 NDArrays.
    """

    def __init__(self, data, label=None, batch_size=1, shuffle=False, last_batch_handle="pad",
                 data_name="data", label_name="softmax_label", layout="NCHW"):
        super().__init__(batch_size)
        if last_batch_handle not in ("pad", "discard", "roll_over"):
            raise PlaitError("last_batch_handle must be 'pad', 'discard' or 'roll_over', got %r"
                             % (last_batch_handle,), arg="last_batch_handle", op="NDArrayIter")
        if int(batch_size) <= 0:
            raise PlaitError("batch_size must be positive, got %r" % (batch_size,),
                             arg="batch_size", op="NDArrayIter")
        self.data = _init_data(data, False, data_name)
        self.label = _init_data(label, True, label_name)
        self.layout = layout
        self._axis = DataDesc.get_batch_axis(layout)
        self.num_data = self.data[0][1].shape[self._axis]
        for k, v in self.data + self.label:
            if v.shape[self._axis] != self.num_data:
                raise PlaitError("%s has %d examples along axis %d, %s has %d" % (
                    k, v.shape[self._axis], self._axis, self.data[0][0], self.num_data),
                    arg=k, op="NDArrayIter")
        self.idx = np.arange(self.num_data)
        self.shuffle, self.last_batch_handle = shuffle, last_batch_handle
        self.cursor = -self.batch_size
        self._cache_data = self._cache_label = None
        self.reset()
        self.data_list = [x[1] for x in self.data] + [x[1] for x in self.label]
        self.num_source = len(self.data_list)

    def _descs(self, pairs):
        a = self._axis
        return [DataDesc(k, tuple(v.shape[:a]) + (self.batch_size,) + tuple(v.shape[a + 1:]),
                         v.dtype, layout=self.layout) for k, v in pairs]

    @property
    def provide_data(self):
        return self._descs(self.data)

    @property
    def provide_label(self):
        return self._descs(self.label)

    def hard_reset(self):
        """Back to the start, forgetting any rolled-over examples."""
        if self.shuffle:
            self._shuffle_data()
        self.cursor = -self.batch_size
        self._cache_data = self._cache_label = None

    def reset(self):
        if self.shuffle:
            self._shuffle_data()
        n, b = self.num_data, self.batch_size
        if self.last_batch_handle == "roll_over" and n - b < self.cursor < n:
            self.cursor = self.cursor - n - b  # negative: the cached examples come first
        else:
            self.cursor = -b

    def iter_next(self):
        self.cursor += self.batch_size
        return self.cursor < self.num_data

    def next(self):
        if not self.iter_next():
            raise StopIteration
        data, label = self.getdata(), self.getlabel()
        if data[0].shape[self._axis] != self.batch_size:
            self._cache_data, self._cache_label = data, label  # for 'roll_over'
            raise StopIteration
        return DataBatch(data=data, label=label, pad=self.getpad(), index=None)

    def _slice(self, source, start=0, end=None):
        out = []
        for _, v in source:
            stop = v.shape[self._axis] if end is None else end
            out.append(nd.slice_axis(v, axis=self._axis, begin=start, end=stop))
        return out

    def _concat(self, first, second):
        if not first or not second:
            return first or second
        return [nd.concat(a, b, dim=self._axis) for a, b in zip(first, second)]

    def _batchify(self, source):
        n, b, c = self.num_data, self.batch_size, self.cursor
        if self.last_batch_handle == "roll_over" and -b < c < 0:
            cache = self._cache_data if self._cache_data is not None else self._cache_label
            if cache is None:
                raise PlaitError("no rolled-over examples cached", op="NDArrayIter")
            if self._cache_data is not None:
                self._cache_data = None
            else:
                self._cache_label = None
            return self._concat(cache, self._slice(source, 0, c + b))
        if self.last_batch_handle == "pad" and c + b > n:
            pad = b - n + c
            idx = np.concatenate([np.arange(c, n), np.arange(pad) % n])
            return [nd.take(v, nd.array(idx, dtype="int64"), axis=self._axis)
                    for _, v in source]
        return self._slice(source, c, min(c + b, n))

    def getdata(self):
        return self._batchify(self.data)

    def getlabel(self):
        return self._batchify(self.label)

    def getpad(self):
        n, b, c = self.num_data, self.batch_size, self.cursor
        if self.last_batch_handle == "pad" and c + b > n:
            return c + b - n
        if self.last_batch_handle == "roll_over" and -b < c < 0:
            return -c
        return 0

    def _shuffle_data(self):
        np.random.shuffle(self.idx)
        self.data = [(k, nd.array(v.asnumpy()[self.idx], dtype=v.dtype)) for k, v in self.data]
        self.label = [(k, nd.array(v.asnumpy()[self.idx], dtype=v.dtype))
                      for k, v in self.label]


from .io_iters import ResizeIter, PrefetchingIter, MNISTIter, CSVIter  # noqa: E402,F401
from .io_image import ImageRecordIter  # noqa: E402,F401
