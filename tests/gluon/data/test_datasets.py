"""gluon.data datasets: Dataset helpers, ArrayDataset, and the vision datasets read from
local files (MNIST/FashionMNIST IDX, CIFAR binary, image folders, image RecordIO)."""
import gzip
import os
import shutil
import struct

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError
from plait.gluon.data import ArrayDataset, SimpleDataset, SequentialSampler
from plait.gluon.data.vision import (CIFAR10, CIFAR100, FashionMNIST, ImageFolderDataset,
                                     ImageRecordDataset, MNIST)

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "data")
SMALL = os.path.join(FIX, "fashion_small")
DEBIAN = "/usr/share/datasets/fashion-mnist"


def test_dataset_helpers():
    ds = SimpleDataset(list(range(10)))
    shards = [ds.shard(3, i) for i in range(3)]
    assert [[s[j] for j in range(len(s))] for s in shards] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert len(ds.take(4)) == 4 and len(ds.take(None)) == 10 and len(ds.take(99)) == 10
    ev = ds.filter(lambda x: x % 2 == 0)
    assert [ev[i] for i in range(len(ev))] == [0, 2, 4, 6, 8]
    sq = ds.transform(lambda x: x * x)
    assert sq[3] == 9 and len(sq) == 10
    eager = ds.transform(lambda x: x + 1, lazy=False)
    assert isinstance(eager, SimpleDataset) and eager[9] == 10
    pairs = ArrayDataset(np.arange(5), np.arange(5) * 10).transform_first(lambda x: -x)
    assert pairs[2] == (-2, 20)
    sampled = ds.sample(SequentialSampler(3, 5))
    assert [sampled[i] for i in range(3)] == [5, 6, 7]
    with pytest.raises(PlaitError, match="index"):
        ds.shard(3, 3)
    with pytest.raises(PlaitError, match="Sampler"):
        ds.sample([1, 2])


def test_array_dataset():
    a = mx.nd.arange(6)
    b = mx.nd.arange(12).reshape((6, 2))
    ds = ArrayDataset(a, b, [str(i) for i in range(6)])
    x, y, z = ds[4]
    assert isinstance(x, np.float32) and x == 4  # a 1-D NDArray is kept as NumPy, as MXNet
    np.testing.assert_array_equal(y.asnumpy(), [8, 9])
    assert z == "4"
    with pytest.raises(PlaitError, match="same length"):
        ArrayDataset(np.arange(3), np.arange(4))


def test_fashion_mnist_small_fixture_equals_mxnet():
    z = np.load(os.path.join(FIX, "fashion_small.npz"), allow_pickle=False)
    for train in (True, False):
        ds = FashionMNIST(root=SMALL, train=train)
        assert len(ds) == int(z["%s_len" % train]) == (300 if train else 200)
        idx = range(0, len(ds), 37)
        x = np.stack([ds[i][0].asnumpy() for i in idx])
        np.testing.assert_array_equal(x, z["%s_x" % train])
        assert x.dtype == np.uint8 and x.shape[1:] == (28, 28, 1)
        y = np.array([ds[i][1] for i in idx])
        np.testing.assert_array_equal(y, z["%s_y" % train])
        assert str(ds[0][1].dtype) == str(z["%s_ydtype" % train])


def test_mnist_accepts_uncompressed_files_and_checks_headers(tmp_path):
    for name in os.listdir(SMALL):
        with gzip.open(os.path.join(SMALL, name)) as f:
            (tmp_path / name[:-3]).write_bytes(f.read())
    ds = MNIST(root=str(tmp_path), train=False, transform=lambda x, y: (x.astype("float32"), y))
    ref = FashionMNIST(root=SMALL, train=False)
    np.testing.assert_array_equal(ds[7][0].asnumpy(), ref[7][0].asnumpy())
    assert ds[7][0].dtype == np.float32
    lab = tmp_path / "t10k-labels-idx1-ubyte"
    raw = lab.read_bytes()
    lab.write_bytes(struct.pack(">I", 2051) + raw[4:])
    with pytest.raises(PlaitError, match="magic number is 0x00000803, expected 0x00000801"):
        MNIST(root=str(tmp_path), train=False)
    lab.write_bytes(raw[:-5])
    with pytest.raises(PlaitError, match="header says"):
        MNIST(root=str(tmp_path), train=False)
    lab.write_bytes(struct.pack(">II", 2049, 199) + raw[8:-1])
    with pytest.raises(PlaitError, match="200 images but .* 199 labels"):
        MNIST(root=str(tmp_path), train=False)


def test_missing_files_say_what_to_put_where(tmp_path, monkeypatch):
    with pytest.raises(PlaitError) as e:
        MNIST(root=str(tmp_path / "nothing"))
    msg = str(e.value)
    assert "train-images-idx3-ubyte.gz" in msg and "train-labels-idx1-ubyte.gz" in msg
    assert str(tmp_path / "nothing") in msg and "never downloads" in msg
    monkeypatch.setattr(FashionMNIST, "_fallback_dirs", (str(tmp_path / "also_empty"),))
    with pytest.raises(PlaitError, match="also looked in"):
        FashionMNIST(root=str(tmp_path))
    with pytest.raises(PlaitError, match="data_batch_1.bin"):
        CIFAR10(root=str(tmp_path))


def test_default_root_is_mxnet_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path))
    dest = tmp_path / "datasets" / "fashion-mnist"
    shutil.copytree(SMALL, dest)
    ds = FashionMNIST(train=True)
    assert ds.files[0].startswith(str(dest)) and len(ds) == 300


@pytest.mark.skipif(not os.path.isfile(os.path.join(DEBIAN, "t10k-labels-idx1-ubyte.gz")),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_reads_the_debian_files(tmp_path):
    test = FashionMNIST(root=str(tmp_path), train=False)  # empty root: falls back to Debian's
    assert len(test) == 10000 and test.files[0].startswith(DEBIAN)
    small = FashionMNIST(root=SMALL, train=False)
    for i in (0, 57, 199):
        np.testing.assert_array_equal(test[i][0].asnumpy(), small[i][0].asnumpy())
        assert test[i][1] == small[i][1]
    counts = np.bincount(test._label, minlength=10)
    assert counts.tolist() == [1000] * 10


def _cifar_bytes(n, label_bytes, seed):
    rng = np.random.RandomState(seed)
    labels = rng.randint(0, 100, (n, label_bytes)).astype(np.uint8)
    imgs = rng.randint(0, 256, (n, 3, 32, 32)).astype(np.uint8)
    return np.concatenate([labels, imgs.reshape(n, -1)], 1).tobytes(), labels, imgs


def test_cifar10_and_cifar100_binary(tmp_path):
    d10 = tmp_path / "c10" / "cifar-10-batches-bin"
    d10.mkdir(parents=True)
    made = []
    for i, name in enumerate(["data_batch_%d.bin" % k for k in range(1, 6)] + ["test_batch.bin"]):
        raw, lab, img = _cifar_bytes(3, 1, i)
        (d10 / name).write_bytes(raw)
        made.append((lab, img))
    train = CIFAR10(root=str(tmp_path / "c10"))
    assert len(train) == 15
    x, y = train[4]  # file 2, record 1
    np.testing.assert_array_equal(x.asnumpy(), made[1][1][1].transpose(1, 2, 0))
    assert y == made[1][0][1, 0] and x.shape == (32, 32, 3)
    assert len(CIFAR10(root=str(tmp_path / "c10"), train=False)) == 3
    d100 = tmp_path / "c100"
    d100.mkdir()
    raw, lab, img = _cifar_bytes(4, 2, 9)
    (d100 / "train.bin").write_bytes(raw)
    coarse, fine = CIFAR100(root=str(d100)), CIFAR100(root=str(d100), fine_label=True)
    assert [coarse[i][1] for i in range(4)] == lab[:, 0].tolist()
    assert [fine[i][1] for i in range(4)] == lab[:, 1].tolist()
    (d100 / "train.bin").write_bytes(raw[:-7])
    with pytest.raises(PlaitError, match="whole number"):
        CIFAR100(root=str(d100))


def test_image_folder_and_image_record_datasets(tmp_path):
    cv2 = pytest.importorskip("cv2")
    rng = np.random.RandomState(0)
    imgs = {}
    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for k in range(2):
            img = rng.randint(0, 256, (5, 6, 3)).astype(np.uint8)
            cv2.imwrite(str(tmp_path / cls / ("%d.png" % k)), img[:, :, ::-1])  # RGB on disk
            imgs[(cls, k)] = img
    (tmp_path / "dog" / "notes.txt").write_text("x")
    (tmp_path / "readme.md").write_text("x")
    with pytest.warns(UserWarning):
        ds = ImageFolderDataset(str(tmp_path))
    assert ds.synsets == ["cat", "dog"] and len(ds) == 4
    x, y = ds[3]
    np.testing.assert_array_equal(x.asnumpy(), imgs[("dog", 1)])
    assert y == 1 and x.dtype == np.uint8
    with pytest.warns(UserWarning):
        gray, _ = ImageFolderDataset(str(tmp_path), flag=0)[0]
    assert gray.shape == (5, 6, 1)
    rec = mx.recordio.MXIndexedRecordIO(str(tmp_path / "i.idx"), str(tmp_path / "i.rec"), "w")
    for i, key in enumerate(sorted(imgs)):
        bgr = imgs[key][:, :, ::-1]
        rec.write_idx(i, mx.recordio.pack_img((0, float(i), i, 0), bgr, img_fmt=".png"))
    rec.close()
    rds = ImageRecordDataset(str(tmp_path / "i.rec"))
    x, y = rds[2]
    np.testing.assert_array_equal(x.asnumpy(), imgs[sorted(imgs)[2]])
    assert y == 2.0
