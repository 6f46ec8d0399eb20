"""mx.io.NDArrayIter against real MXNet 1.9.1 batches (tests/fixtures/data/ndarrayiter.npz)
for every last_batch_handle, with and without shuffling; DataBatch/DataDesc; ResizeIter."""
import os

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "data")
CASES = [(m, s, bs) for m in ("pad", "discard", "roll_over") for s in (0, 1)
         for bs in ((3, 4, 25) if m != "roll_over" else (3, 4))]


@pytest.fixture(scope="module")
def z():
    return np.load(os.path.join(FIX, "ndarrayiter.npz"), allow_pickle=False)


@pytest.mark.parametrize("mode,shuffle,bs", CASES)
def test_batches_equal_mxnet(z, mode, shuffle, bs):
    data = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
    label = np.arange(10, dtype=np.int64)
    np.random.seed(5)
    it = mx.io.NDArrayIter(data, label, batch_size=bs, shuffle=bool(shuffle),
                           last_batch_handle=mode)
    for epoch in range(3):
        batches = list(it)
        assert len(batches) == int(z["%s_%d_%d_e%d_n" % (mode, shuffle, bs, epoch)])
        for j, b in enumerate(batches):
            key = "%s_%d_%d_e%d_b%d" % (mode, shuffle, bs, epoch, j)
            ed, el = z[key + "_data"], z[key + "_label"]
            np.testing.assert_array_equal(b.data[0].asnumpy(), ed)
            np.testing.assert_array_equal(b.label[0].asnumpy(), el)
            assert b.data[0].dtype == ed.dtype and b.label[0].dtype == el.dtype
            assert b.pad == int(z[key + "_pad"])
        it.reset()


def test_provide_data_names_and_dict_inputs():
    it = mx.io.NDArrayIter({"b": np.zeros((6, 2)), "a": np.ones((6, 3, 4))},
                           [np.zeros(6), np.ones(6)], batch_size=4)
    assert [d.name for d in it.provide_data] == ["a", "b"]
    assert it.provide_data[0].shape == (4, 3, 4) and it.provide_data[0].layout == "NCHW"
    assert [d.name for d in it.provide_label] == ["_0_softmax_label", "_1_softmax_label"]
    b = next(it)
    assert isinstance(b, mx.io.DataBatch) and len(b.data) == 2 and b.pad == 0
    assert "data shapes: [(4, 3, 4), (4, 2)]" in str(b)
    it2 = mx.io.NDArrayIter(np.zeros((5, 2)), batch_size=2, data_name="x")
    assert it2.provide_data[0].name == "x" and it2.provide_label == []
    assert next(it2).label == []


def test_data_desc():
    d = mx.io.DataDesc("data", (2, 3), np.float16, "NTC")
    assert d == ("data", (2, 3)) and d.dtype == np.float16 and d.layout == "NTC"
    assert mx.io.DataDesc.get_batch_axis("TNC") == 1 and mx.io.DataDesc.get_batch_axis(None) == 0
    lst = mx.io.DataDesc.get_list([("x", (1,)), ("y", (2,))], [("x", np.int32), ("y", np.uint8)])
    assert [(e.name, e.dtype) for e in lst] == [("x", np.int32), ("y", np.uint8)]


def test_resize_iter():
    base = mx.io.NDArrayIter(np.arange(10).reshape(10, 1), batch_size=3,
                             last_batch_handle="discard")
    r = mx.io.ResizeIter(base, 5)
    firsts = [b.data[0].asnumpy()[0, 0] for b in r]
    assert firsts == [0, 3, 6, 0, 3]
    r.reset()
    assert len(list(r)) == 5


def test_errors():
    with pytest.raises(PlaitError, match="last_batch_handle"):
        mx.io.NDArrayIter(np.zeros((4, 2)), batch_size=2, last_batch_handle="keep")
    with pytest.raises(PlaitError, match="examples"):
        mx.io.NDArrayIter(np.zeros((4, 2)), np.zeros(5), batch_size=2)
    with pytest.raises(PlaitError, match="expected an NDArray"):
        mx.io.NDArrayIter("abc", batch_size=2)


def test_mnist_iter_equals_mxnet_unshuffled():
    z = np.load(os.path.join(FIX, "fashion_small.npz"), allow_pickle=False)
    small = os.path.join(FIX, "fashion_small")
    it = mx.io.MNISTIter(image=os.path.join(small, "t10k-images-idx3-ubyte.gz"),
                         label=os.path.join(small, "t10k-labels-idx1-ubyte.gz"),
                         batch_size=64, shuffle=False)
    batches = list(it)
    assert len(batches) == len(z["mnistiter_x"]) == 3  # 200 examples: the last 8 are dropped
    for b, ex, ey in zip(batches, z["mnistiter_x"], z["mnistiter_y"]):
        np.testing.assert_array_equal(b.data[0].asnumpy(), ex)
        np.testing.assert_array_equal(b.label[0].asnumpy(), ey)
    assert it.provide_data[0].shape == (64, 1, 28, 28)
    flat = mx.io.MNISTIter(image=os.path.join(small, "t10k-images-idx3-ubyte.gz"),
                           label=os.path.join(small, "t10k-labels-idx1-ubyte.gz"),
                           batch_size=50, flat=True, seed=1, num_parts=2, part_index=1)
    got = [b.label[0].asnumpy() for b in flat]
    assert len(got) == 2 and got[0].shape == (50,)
    # part 1 of 2 holds examples 100..199, shuffled
    assert sorted(np.concatenate(got)) == sorted(z["mnistiter_y"].reshape(-1)[100:192].tolist()
                                                 + _labels_tail(small))


def _labels_tail(small):
    from plait.gluon.data.vision.datasets import read_idx
    return read_idx(os.path.join(small, "t10k-labels-idx1-ubyte.gz"), 0x801, "t")[192:].tolist()


def test_prefetching_iter_gives_the_wrapped_batches():
    x, y = np.arange(40).reshape(10, 4), np.arange(10)
    ref = [b.data[0].asnumpy() for b in mx.io.NDArrayIter(x, y, batch_size=3)]
    p = mx.io.PrefetchingIter([mx.io.NDArrayIter(x, y, batch_size=3),
                               mx.io.NDArrayIter(-x, batch_size=3, data_name="neg")],
                              rename_data=[{"data": "a"}, {"neg": "b"}])
    assert [d.name for d in p.provide_data] == ["a", "b"]
    for epoch in range(2):
        got = list(p)
        assert len(got) == 4 and got[-1].pad == 2
        for b, r in zip(got, ref):
            np.testing.assert_array_equal(b.data[0].asnumpy(), r)
            np.testing.assert_array_equal(b.data[1].asnumpy(), -r)
            assert len(b.label) == 1
        p.reset()


def test_prefetching_iter_reraises_errors():
    class Broken(mx.io.DataIter):
        provide_data, provide_label = [], []

        def next(self):
            raise ValueError("broken source")

    with pytest.raises(ValueError, match="broken source"):
        next(mx.io.PrefetchingIter(Broken(3)))


@pytest.mark.parametrize("rb", [0, 1])
@pytest.mark.parametrize("with_label", [0, 1])
def test_csv_iter_equals_mxnet(rb, with_label):
    z = np.load(os.path.join(FIX, "csviter.npz"), allow_pickle=False)
    kw = dict(label_csv=os.path.join(FIX, "csv_label.csv"), label_shape=(2,)) \
        if with_label else {}
    it = mx.io.CSVIter(data_csv=os.path.join(FIX, "csv_data.csv"), data_shape=(2, 3),
                       batch_size=3, round_batch=bool(rb), **kw)
    for epoch in range(3):
        batches = list(it)
        assert len(batches) == int(z["rb%d_l%d_e%d_n" % (rb, with_label, epoch)])
        for j, b in enumerate(batches):
            key = "rb%d_l%d_e%d_b%d_" % (rb, with_label, epoch, j)
            np.testing.assert_array_equal(b.data[0].asnumpy(), z[key + "x"])
            np.testing.assert_array_equal(b.label[0].asnumpy(), z[key + "y"])
            assert b.pad == int(z[key + "pad"])
        it.reset()
    with pytest.raises(PlaitError, match="6 values per row, shape \\(4,\\) needs 4"):
        mx.io.CSVIter(data_csv=os.path.join(FIX, "csv_data.csv"), data_shape=(4,), batch_size=2)
