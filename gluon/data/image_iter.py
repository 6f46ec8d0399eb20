"""mx.image.ImageIter: image batches from a RecordIO file, an image list file (.lst) or a
Python list, through a list of augmenters (CreateAugmenter's by default), with
NDArrayIter's last_batch_handle modes ('pad' fills the last batch from the start of the
next pass and then ends the pass; 'discard' drops it; 'roll_over' keeps it for the next
pass) -- MXNet 1.9's rules.  Shuffling draws from Python's `random`, as MXNet."""
import logging
import numbers
import os
import random

import numpy as np

from ...core.base import PlaitError
from ...ndarray import NDArray
from . import image as _img
from . import recordio as _recordio
from .image_aug import CreateAugmenter
from .io import DataBatch, DataDesc, DataIter


def _read_lst(path, dtype):
    """{key: (label array, file name)} and the keys in order, from an im2rec .lst file."""
    items, keys = {}, []
    with open(path) as f:
        for ln, line in enumerate(f, 1):
            parts = line.strip().split("\t")
            if len(parts) < 3:
                raise PlaitError("%s line %d: expected 'index<TAB>label(s)<TAB>path'" % (
                    path, ln), arg="path_imglist", op="ImageIter")
            key = int(parts[0])
            items[key] = (np.array(parts[1:-1], dtype=dtype), parts[-1])
            keys.append(key)
    return items, keys


class ImageIter(DataIter):
    """Image batches (batch, c, h, w) float32 with labels, see the module doc."""

    def __init__(self, batch_size, data_shape, label_width=1, path_imgrec=None,
                 path_imglist=None, path_root=None, path_imgidx=None, shuffle=False,
                 part_index=0, num_parts=1, aug_list=None, imglist=None, data_name="data",
                 label_name="softmax_label", dtype="float32", last_batch_handle="pad",
                 **kwargs):
        super().__init__(batch_size)
        if not (path_imgrec or path_imglist or isinstance(imglist, list)):
            raise PlaitError("give path_imgrec, path_imglist or imglist", op="ImageIter")
        if dtype not in ("int32", "float32", "int64", "float64"):
            raise PlaitError("label dtype %r not supported" % (dtype,), arg="dtype",
                             op="ImageIter")
        if len(data_shape) != 3 or data_shape[0] != 3:
            raise PlaitError("data_shape must be (3, height, width), got %s" % (data_shape,),
                             arg="data_shape", op="ImageIter")
        if last_batch_handle not in ("pad", "discard", "roll_over"):
            raise PlaitError("last_batch_handle must be 'pad', 'discard' or 'roll_over'",
                             arg="last_batch_handle", op="ImageIter")
        self.imgrec, self.imgidx = None, None
        if path_imgrec:
            if path_imgidx:
                self.imgrec = _recordio.MXIndexedRecordIO(path_imgidx, path_imgrec, "r")
                self.imgidx = list(self.imgrec.keys)
            else:
                self.imgrec = _recordio.MXRecordIO(path_imgrec, "r")
        keys = None
        self.imglist = None
        if path_imglist:
            self.imglist, keys = _read_lst(path_imglist, dtype)
        elif isinstance(imglist, list):
            self.imglist, keys = {}, []
            for n, item in enumerate(imglist, 1):
                if len(item) > 2:
                    label = np.array(item[:-1], dtype=dtype)
                elif isinstance(item[0], numbers.Number):
                    label = np.array([item[0]], dtype=dtype)
                else:
                    label = np.array(item[0], dtype=dtype)
                self.imglist[str(n)] = (label, item[-1])
                keys.append(str(n))
        self.path_root = path_root
        self.data_shape, self.label_width, self.shuffle = tuple(data_shape), label_width, shuffle
        self.provide_data = [DataDesc(data_name, (batch_size,) + self.data_shape)]
        self.provide_label = [DataDesc(label_name, (batch_size, label_width) if label_width > 1
                                       else (batch_size,))]
        if self.imgrec is None:
            self.seq = keys
        elif shuffle or num_parts > 1 or path_imgidx:
            if self.imgidx is None:
                raise PlaitError("shuffle and num_parts need path_imgidx", op="ImageIter")
            self.seq = self.imgidx
        else:
            self.seq = None
        if num_parts > 1:
            per = len(self.seq) // num_parts
            self.seq = self.seq[part_index * per:(part_index + 1) * per]
        self.auglist = CreateAugmenter(data_shape, **kwargs) if aug_list is None else aug_list
        self.cur, self._allow_read = 0, True
        self.last_batch_handle = last_batch_handle
        self.num_image = len(self.seq) if self.seq is not None else None
        self._cache = None  # (data, label, filled) of a rolled-over batch
        self.reset()

    def reset(self):
        if self.seq is not None and self.shuffle:
            random.shuffle(self.seq)
        if self.last_batch_handle != "roll_over" or self._cache is None:
            if self.imgrec is not None:
                self.imgrec.reset()
            self.cur, self._allow_read = 0, True

    def hard_reset(self):
        """Back to the start, forgetting a rolled-over batch."""
        self._cache = None
        self.reset()

    def next_sample(self):
        """(label, encoded image bytes) of the next image; StopIteration at the end."""
        if not self._allow_read:
            raise StopIteration
        if self.seq is None:
            s = self.imgrec.read()
            if s is None:
                if self.last_batch_handle != "discard":
                    self.imgrec.reset()
                raise StopIteration
            header, img = _recordio.unpack(s)
            return header.label, img
        if self.cur >= self.num_image:
            if self.last_batch_handle != "discard":
                self.cur = 0
            raise StopIteration
        idx = self.seq[self.cur]
        self.cur += 1
        if self.imgrec is not None:
            header, img = _recordio.unpack(self.imgrec.read_idx(idx))
            return (header.label if self.imglist is None else self.imglist[idx][0]), img
        label, fname = self.imglist[idx]
        return label, self.read_image(fname)

    def read_image(self, fname):
        with open(os.path.join(self.path_root or "", fname), "rb") as f:
            return f.read()

    def imdecode(self, s):
        try:
            return _img.imdecode(s)
        except PlaitError as e:
            where = self.seq[self.cur - 1] if self.seq is not None else "#%d" % self.cur
            raise PlaitError("broken image (record %s): %s" % (where, e.msg),
                             op="ImageIter") from None

    def check_valid_image(self, data):
        if len(data[0].shape) == 0:
            raise PlaitError("image has no pixels", op="ImageIter")

    def augmentation_transform(self, data):
        for aug in self.auglist:
            data = aug(data)
        return data

    def postprocess_data(self, datum):
        """HWC -> CHW."""
        return np.asarray(datum.asnumpy() if isinstance(datum, NDArray) else datum).transpose(
            2, 0, 1)

    def _fill(self, data, label, start=0):
        """Fill rows start.. of the batch; returns the number of rows filled."""
        i = start
        try:
            while i < self.batch_size:
                lab, s = self.next_sample()
                img = self.imdecode(s)
                try:
                    self.check_valid_image(img)
                except PlaitError as e:
                    logging.debug("Invalid image, skipping: %s", e)
                    continue
                data[i] = self.postprocess_data(self.augmentation_transform(img))
                label[i] = np.asarray(lab, np.float32).reshape(label[i].shape)
                i += 1
        except StopIteration:
            if not i:
                raise
        return i

    def next(self):
        b = self.batch_size
        if self._cache is not None:
            data, label, i = self._cache
        else:
            data = np.zeros((b,) + self.data_shape, np.float32)
            label = np.zeros(self.provide_label[0].shape, np.float32)
            i = self._fill(data, label)
        pad = b - i
        if pad:
            if self.last_batch_handle == "discard":
                raise StopIteration
            if self.last_batch_handle == "roll_over" and self._cache is None:
                self._cache = (data, label, i)
                raise StopIteration
            self._fill(data, label, i)
            if self.last_batch_handle == "pad":
                self._allow_read = False
            else:
                self._cache = None
        return DataBatch([NDArray(data)], [NDArray(label)], pad=pad)
