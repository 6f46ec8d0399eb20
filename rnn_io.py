"""mx.rnn's data helpers (MXNet 1.x's mxnet/rnn/io.py): encode_sentences and
BucketSentenceIter, a bucketing iterator for language models (re-exported by rnn.py)."""
import bisect
import random

import numpy as np

from . import ndarray

__all__ = ["encode_sentences", "BucketSentenceIter"]


def encode_sentences(sentences, vocab=None, invalid_label=-1, invalid_key="\n", start_label=0,
                     unknown_token=None):
    """Token lists -> index lists, growing `vocab` (str -> int) with unseen tokens."""
    new_vocab = vocab is None
    if new_vocab:
        vocab = {invalid_key: invalid_label}
    idx, res = start_label, []
    for sent in sentences:
        coded = []
        for word in sent:
            if word not in vocab:
                if not (new_vocab or unknown_token):
                    raise ValueError("Unknown token %s" % word)
                if idx == invalid_label:
                    idx += 1
                if unknown_token:
                    word = unknown_token
                vocab[word] = idx
                idx += 1
            coded.append(vocab[word])
        res.append(coded)
    return res, vocab


def _io():
    from .gluon.data import io
    return io


class BucketSentenceIter:
    """Batches of equal-length (padded) sentences grouped in buckets; the label of a step is
    the next token.  layout 'NT' (batch, time) or 'TN'."""

    def __new__(cls, *args, **kwargs):
        io = _io()
        if not issubclass(cls, io.DataIter):   # bind the base class lazily (mx.io)
            cls = type(cls.__name__, (cls, io.DataIter), {})
        return object.__new__(cls)

    def __init__(self, sentences, batch_size, buckets=None, invalid_label=-1, data_name="data",
                 label_name="softmax_label", dtype="float32", layout="NT"):
        io = _io()
        io.DataIter.__init__(self)
        if not buckets:
            buckets = [i for i, j in enumerate(np.bincount([len(s) for s in sentences]))
                       if j >= batch_size]
        buckets = sorted(buckets)
        self.data = [[] for _ in buckets]
        for sent in sentences:
            b = bisect.bisect_left(buckets, len(sent))
            if b == len(buckets):
                continue   # longer than the largest bucket: discarded, as in MXNet
            buff = np.full((buckets[b],), invalid_label, dtype=dtype)
            buff[:len(sent)] = sent
            self.data[b].append(buff)
        keep = [i for i, d in enumerate(self.data) if d]
        self.buckets = [buckets[i] for i in keep]
        self.data = [np.asarray(self.data[i], dtype=dtype) for i in keep]
        if layout not in ("NT", "TN"):
            raise ValueError("Invalid layout %s: must be NT (batch major) or TN (time major)"
                             % layout)
        self.batch_size, self.data_name, self.label_name = batch_size, data_name, label_name
        self.dtype, self.invalid_label, self.layout = dtype, invalid_label, layout
        self.major_axis = layout.find("N")
        self.default_bucket_key = max(self.buckets)
        shape = ((batch_size, self.default_bucket_key) if self.major_axis == 0
                 else (self.default_bucket_key, batch_size))
        self.provide_data = [io.DataDesc(data_name, shape, layout=layout)]
        self.provide_label = [io.DataDesc(label_name, shape, layout=layout)]
        self.idx = [(i, j) for i, b in enumerate(self.data)
                    for j in range(0, len(b) - batch_size + 1, batch_size)]
        self.reset()

    def reset(self):
        self.curr_idx = 0
        random.shuffle(self.idx)
        for b in self.data:
            np.random.shuffle(b)
        self.nddata, self.ndlabel = [], []
        for b in self.data:
            label = np.empty_like(b)
            label[:, :-1], label[:, -1] = b[:, 1:], self.invalid_label
            self.nddata.append(ndarray.array(b, dtype=self.dtype))
            self.ndlabel.append(ndarray.array(label, dtype=self.dtype))

    def next(self):
        io = _io()
        if self.curr_idx == len(self.idx):
            raise StopIteration
        i, j = self.idx[self.curr_idx]
        self.curr_idx += 1
        data = self.nddata[i][j:j + self.batch_size]
        label = self.ndlabel[i][j:j + self.batch_size]
        if self.major_axis == 1:
            data, label = data.T, label.T
        return io.DataBatch([data], [label], pad=0, bucket_key=self.buckets[i],
                            provide_data=[io.DataDesc(self.data_name, data.shape,
                                                      layout=self.layout)],
                            provide_label=[io.DataDesc(self.label_name, label.shape,
                                                       layout=self.layout)])
