"""mx.io.ImageRecordIter: batches of decoded, resized, cropped and normalised images from
an image RecordIO file, as MXNet's C++ iterator of that name (the common options).

Per image: decode to RGB; with resize > 0, resize the shorter edge to `resize`
(inter_method as OpenCV); crop data_shape's (height, width) at the centre, or at a random
place with rand_crop; mirror (always with mirror, half the time with rand_mirror);
out = (pixel - mean_c) * scale / std_c, channels first.  round_batch fills the last
batch with the first images of the next pass (DataBatch.pad counts them) and the next
pass starts after them, as MXNet does.  Random choices are drawn in the calling thread
from numpy.random.RandomState(seed), so a seeded run is repeatable whatever the number of
decoding threads (MXNet's C++ generator draws a different sequence).  Options of MXNet's
iterator not listed in the signature raise a PlaitError rather than being ignored.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ...core.base import PlaitError
from ...ndarray import NDArray
from . import image as _image
from . import recordio as _recordio
from .io import DataBatch, DataDesc, HeldBatchIter

_IGNORED = {"verbose", "prefetch_buffer", "ctx", "device_id", "aug_seq", "seed_aug"}
_DEFAULTS_OFF = {"max_rotate_angle": 0, "max_aspect_ratio": 0, "max_shear_ratio": 0,
                 "max_crop_size": -1, "min_crop_size": -1, "max_random_scale": 1,
                 "min_random_scale": 1, "max_random_area": 1, "min_random_area": 1,
                 "brightness": 0, "contrast": 0, "saturation": 0, "pca_noise": 0,
                 "random_h": 0, "random_s": 0, "random_l": 0, "rotate": -1, "pad": 0,
                 "random_resized_crop": False, "mean_img": "", "path_imglist": "",
                 "max_random_contrast": 0, "max_random_illumination": 0,
                 "shuffle_chunk_size": 0, "min_aspect_ratio": None}


def _record_offsets(path):
    """Byte offsets of every record of a .rec file (when there is no index)."""
    rec = _recordio.MXRecordIO(path, "r")
    out = []
    while True:
        pos = rec.tell()
        if rec.read() is None:
            break
        out.append(pos)
    rec.close()
    return out


class ImageRecordIter(HeldBatchIter):
    """Image batches from a RecordIO file (see the module doc for the pipeline)."""

    def __init__(self, path_imgrec, data_shape, batch_size, path_imgidx="", label_width=1,
                 shuffle=False, seed=0, round_batch=True, resize=-1, rand_crop=False,
                 rand_mirror=False, mirror=False, mean_r=0.0, mean_g=0.0, mean_b=0.0,
                 std_r=1.0, std_g=1.0, std_b=1.0, scale=1.0, inter_method=1,
                 preprocess_threads=4, num_parts=1, part_index=0, data_name="data",
                 label_name="softmax_label", dtype=None, **kwargs):
        super().__init__(int(batch_size))
        bad = {k: v for k, v in kwargs.items()
               if k not in _IGNORED and (k not in _DEFAULTS_OFF or v != _DEFAULTS_OFF[k])}
        if bad:
            raise PlaitError("options not supported by plait's ImageRecordIter: %s (use "
                             "gluon.data.vision.ImageRecordDataset with transforms)" % bad,
                             op="ImageRecordIter")
        self.data_shape = tuple(int(d) for d in data_shape)
        if len(self.data_shape) != 3 or self.data_shape[0] not in (1, 3):
            raise PlaitError("data_shape must be (channels 1 or 3, height, width), got %s"
                             % (self.data_shape,), arg="data_shape", op="ImageRecordIter")
        self._path = path_imgrec
        self._rec = _recordio.MXRecordIO(path_imgrec, "r")
        if path_imgidx:
            idx = _recordio.MXIndexedRecordIO(path_imgidx, path_imgrec, "r")
            offsets = [idx.idx[k] for k in idx.keys]
            idx.close()
        else:
            offsets = _record_offsets(path_imgrec)
        n = len(offsets)
        self._offsets = offsets[n * part_index // num_parts: n * (part_index + 1) // num_parts]
        if not self._offsets:
            raise PlaitError("%s holds no records (for part %d of %d)" % (
                path_imgrec, part_index, num_parts), op="ImageRecordIter")
        self.label_width, self.shuffle, self.round_batch = label_width, shuffle, round_batch
        self.resize, self.rand_crop, self.inter_method = resize, rand_crop, inter_method
        self.rand_mirror, self.mirror, self.scale = rand_mirror, mirror, scale
        c = self.data_shape[0]
        self._mean = np.array([mean_r, mean_g, mean_b][:c], np.float32).reshape(c, 1, 1)
        self._std = np.array([std_r, std_g, std_b][:c], np.float32).reshape(c, 1, 1)
        self._dtype = np.dtype(dtype) if dtype else np.dtype(np.float32)
        self.data_name, self.label_name = data_name, label_name
        self._rng = np.random.RandomState(seed)
        self._pool = ThreadPoolExecutor(max(1, int(preprocess_threads)))
        self._carry = 0  # images of this pass already used to pad the previous one
        self.current_batch = None
        self.reset()

    @property
    def provide_data(self):
        return [DataDesc(self.data_name, (self.batch_size,) + self.data_shape, self._dtype)]

    @property
    def provide_label(self):
        shape = (self.batch_size,) if self.label_width == 1 else (self.batch_size,
                                                                 self.label_width)
        return [DataDesc(self.label_name, shape, np.float32)]

    def reset(self):
        n = len(self._offsets)
        self._order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        self._cursor = self._carry
        self._carry = 0

    def _load(self, i, crop_frac, flip):
        raw = self._rec._read_at(self._offsets[i])[0]
        header, payload = _recordio.unpack(raw)
        label = np.atleast_1d(np.asarray(header.label, np.float32))
        if label.size != self.label_width:
            raise PlaitError("record %d of %s has %d label values, label_width is %d" % (
                i, self._path, label.size, self.label_width), op="ImageRecordIter")
        c, h, w = self.data_shape
        img = _image.imdecode(payload, flag=1 if c == 3 else 0).asnumpy()
        if self.resize > 0:
            img = _image.resize_short(img, self.resize, self.inter_method)
        ih, iw = img.shape[:2]
        if ih < h or iw < w:
            raise PlaitError("record %d of %s: image %dx%d is smaller than data_shape %dx%d "
                             "(set resize)" % (i, self._path, ih, iw, h, w), op="ImageRecordIter")
        if self.rand_crop:
            y0, x0 = int(crop_frac[0] * (ih - h + 1)), int(crop_frac[1] * (iw - w + 1))
        else:
            y0, x0 = (ih - h) // 2, (iw - w) // 2
        img = img[y0:y0 + h, x0:x0 + w]
        if flip:
            img = img[:, ::-1]
        out = img.transpose(2, 0, 1).astype(np.float32)
        out = (out - self._mean) * np.float32(self.scale) / self._std
        return out.astype(self._dtype, copy=False), label

    def iter_next(self):
        n, b = len(self._order), self.batch_size
        if self._cursor >= n:
            return False
        take = list(range(self._cursor, min(self._cursor + b, n)))
        pad = b - len(take)
        self._cursor += b
        idx = [self._order[k] for k in take]
        if pad and self.round_batch:
            idx += [self._order[k % n] for k in range(pad)]
            self._carry = pad
        crops = self._rng.uniform(size=(len(idx), 2))
        flips = (self._rng.uniform(size=len(idx)) < 0.5) if self.rand_mirror else \
            np.full(len(idx), bool(self.mirror))
        loaded = list(self._pool.map(self._load, idx, crops, flips))
        data = np.zeros((b,) + self.data_shape, self._dtype)
        label = np.zeros((b, self.label_width), np.float32)
        for k, (x, y) in enumerate(loaded):
            data[k], label[k] = x, y
        if self.label_width == 1:
            label = label.reshape(b)
        self.current_batch = DataBatch([NDArray(data)], [NDArray(label)], pad=pad, index=None,
                                provide_data=self.provide_data,
                                provide_label=self.provide_label)
        return True


    def getindex(self):
        return None
