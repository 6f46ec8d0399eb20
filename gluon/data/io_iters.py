"""mx.io iterators built on io.py: ResizeIter, PrefetchingIter (a background thread per
wrapped iterator), MNISTIter (IDX files) and CSVIter."""
import queue
import threading

import numpy as np

from ...core.base import PlaitError
from ...ndarray import NDArray
from .io import DataBatch, DataDesc, HeldBatchIter, NDArrayIter


class ResizeIter(HeldBatchIter):
    """Makes `data_iter` yield exactly `size` batches per epoch (restarting it when it runs
    out, or stopping early); reset_internal=False keeps its position across resets."""

    def __init__(self, data_iter, size, reset_internal=True):
        super().__init__(getattr(data_iter, "batch_size", 0))
        self.data_iter, self.size, self.reset_internal = data_iter, size, reset_internal
        self.cur, self.current_batch = 0, None
        self.provide_data = data_iter.provide_data
        self.provide_label = data_iter.provide_label
        self.default_bucket_key = getattr(data_iter, "default_bucket_key", None)

    def reset(self):
        self.cur = 0
        if self.reset_internal:
            self.data_iter.reset()

    def iter_next(self):
        if self.cur == self.size:
            return False
        try:
            self.current_batch = self.data_iter.next()
        except StopIteration:
            self.data_iter.reset()
            self.current_batch = self.data_iter.next()
        self.cur += 1
        return True



class PrefetchingIter(HeldBatchIter):
    """Loads the next batch of each iterator in `iters` in a background thread while the
    current one is used.  With several iterators a batch holds all their data (and
    labels) in order; rename_data/rename_label ([{old: new}] per iterator) rename the
    descriptors."""

    def __init__(self, iters, rename_data=None, rename_label=None):
        iters = iters if isinstance(iters, list) else [iters]
        super().__init__(iters[0].batch_size)
        self.iters, self.n_iter = iters, len(iters)
        self.rename_data, self.rename_label = rename_data, rename_label
        self.current_batch = None
        self._threads, self._queues = [], []
        self._start()

    def _descs(self, attr, rename):
        out = []
        for i, it in enumerate(self.iters):
            for d in getattr(it, attr):
                name = rename[i].get(d.name, d.name) if rename else d.name
                out.append(DataDesc(name, d.shape, getattr(d, "dtype", np.float32),
                                    getattr(d, "layout", "NCHW")))
        return out

    @property
    def provide_data(self):
        return self._descs("provide_data", self.rename_data)

    @property
    def provide_label(self):
        return self._descs("provide_label", self.rename_label)

    def _start(self):
        self._stop = threading.Event()
        self._queues = [queue.Queue(maxsize=1) for _ in self.iters]
        self._threads = [threading.Thread(target=self._fetch, args=(it, q), daemon=True)
                         for it, q in zip(self.iters, self._queues)]
        for t in self._threads:
            t.start()

    def _fetch(self, it, q):
        while not self._stop.is_set():
            try:
                item = ("ok", it.next())
            except StopIteration:
                item = ("end", None)
            except Exception as e:  # noqa: BLE001  (re-raised in the consumer)
                item = ("error", e)
            while not self._stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if item[0] != "ok":
                return

    def _halt(self):
        self._stop.set()
        for t in self._threads:
            t.join()

    def __del__(self):
        try:
            self._halt()
        except Exception:  # noqa: BLE001  (interpreter shutdown)
            pass

    def reset(self):
        self._halt()
        for it in self.iters:
            it.reset()
        self._start()

    def iter_next(self):
        items = [q.get() for q in self._queues]
        for status, val in items:
            if status == "error":
                raise val
        ends = [status == "end" for status, _ in items]
        if any(ends):
            if not all(ends):
                raise PlaitError("the wrapped iterators have different numbers of batches",
                                 op="PrefetchingIter")
            for q in self._queues:
                q.put(("end", None))  # stay at the end until reset()
            return False
        batches = [val for _, val in items]
        self.current_batch = DataBatch(
            sum([b.data for b in batches], []),
            sum([b.label or [] for b in batches], []),
            batches[0].pad, batches[0].index, provide_data=self.provide_data,
            provide_label=self.provide_label)
        return True



class MNISTIter(NDArrayIter):
    """MNIST-format IDX files (gzipped or not) as batches, as MXNet's MNISTIter: data
    (batch, 1, 28, 28) or flat (batch, 784) float32 scaled by 1/256 (MXNet's factor),
    float32 labels; incomplete last batches are dropped.  shuffle draws from
    numpy.random.RandomState(seed) (MXNet's C++ generator gives a different order);
    num_parts/part_index take one contiguous part of the examples."""

    def __init__(self, image="./train-images-idx3-ubyte", label="./train-labels-idx1-ubyte",
                 batch_size=128, shuffle=True, flat=False, seed=0, silent=False, num_parts=1,
                 part_index=0, data_name="data", label_name="softmax_label", **kwargs):
        from .vision.datasets import read_idx
        images = read_idx(image, 0x803, "MNISTIter")
        labels = read_idx(label, 0x801, "MNISTIter")
        if len(images) != len(labels):
            raise PlaitError("%s holds %d images but %s holds %d labels" % (
                image, len(images), label, len(labels)), op="MNISTIter")
        n = len(labels)
        lo, hi = n * part_index // num_parts, n * (part_index + 1) // num_parts
        images, labels = images[lo:hi], labels[lo:hi]
        if shuffle:
            perm = np.random.RandomState(seed).permutation(len(labels))
            images, labels = images[perm], labels[perm]
        x = images.astype(np.float32) * np.float32(1.0 / 256)
        x = x.reshape(len(x), -1) if flat else x.reshape((len(x), 1) + images.shape[1:])
        super().__init__(x, labels.astype(np.float32), batch_size, False, "discard",
                         data_name, label_name)


class CSVIter(HeldBatchIter):
    """Rows of a CSV file (comma-separated numbers) reshaped to data_shape, with labels
    from label_csv (zeros without one), as MXNet's CSVIter.  round_batch fills the last
    batch with the first rows of the next pass, which then starts after them
    (DataBatch.pad counts them); without it the unfilled rows keep the previous batch's
    values (pad counts them too)."""

    def __init__(self, data_csv, data_shape, batch_size, label_csv=None, label_shape=(1,),
                 round_batch=True, data_name="data", label_name="softmax_label",
                 dtype=None, prefetch_buffer=4, **kwargs):
        super().__init__(int(batch_size))
        self.data = self._load(data_csv, data_shape, "data_csv")
        n = len(self.data)
        if label_csv:
            self.label = self._load(label_csv, label_shape, "label_csv")
            if len(self.label) != n:
                raise PlaitError("%s has %d rows, %s has %d" % (
                    data_csv, n, label_csv, len(self.label)), op="CSVIter")
        else:
            self.label = np.zeros((n,) + tuple(label_shape), np.float32)
        if tuple(label_shape) == (1,):
            self.label = self.label.reshape(n)
        self.round_batch = round_batch
        self.provide_data = [DataDesc(data_name, (self.batch_size,) + tuple(data_shape))]
        self.provide_label = [DataDesc(label_name, (self.batch_size,) + self.label.shape[1:])]
        self._buf = (np.zeros((self.batch_size,) + self.data.shape[1:], np.float32),
                     np.zeros((self.batch_size,) + self.label.shape[1:], np.float32))
        self._carry, self.current_batch = 0, None
        self.reset()

    @staticmethod
    def _load(path, shape, arg):
        try:
            rows = np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
        except (OSError, ValueError) as e:
            raise PlaitError("cannot read %s: %s" % (path, e), arg=arg, op="CSVIter") from None
        size = int(np.prod(shape))
        if rows.shape[1] != size:
            raise PlaitError("%s has %d values per row, shape %s needs %d" % (
                path, rows.shape[1], tuple(shape), size), arg=arg, op="CSVIter")
        return rows.reshape((len(rows),) + tuple(shape))

    def reset(self):
        self._cursor, self._carry = self._carry, 0

    def iter_next(self):
        n, b = len(self.data), self.batch_size
        if self._cursor >= n:
            return False
        rows = np.arange(self._cursor, min(self._cursor + b, n))
        pad = b - len(rows)
        self._cursor += b
        if pad and self.round_batch:
            rows = np.concatenate([rows, np.arange(pad) % n])
            self._carry = pad
        data, label = self._buf
        data[:len(rows)], label[:len(rows)] = self.data[rows], self.label[rows]
        self.current_batch = DataBatch([NDArray(data.copy())], [NDArray(label.copy())], pad=pad)
        return True

