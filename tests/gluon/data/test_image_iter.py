"""mx.image.ImageIter and the augmenters against real MXNet 1.9.1: the same seeds give the
same batches (tests/fixtures/data/imageiter.npz, made by tools/make_data_fixtures.py)."""
import os
import random

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError

cv2 = pytest.importorskip("cv2")
FIX = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "data")
CASES = {
    "seq": dict(batch_size=2, data_shape=(3, 8, 8), path_imgrec="images.rec"),
    "aug": dict(batch_size=2, data_shape=(3, 7, 6), path_imgrec="images.rec",
                path_imgidx="images.idx", shuffle=True, resize=9, rand_crop=True,
                rand_mirror=True, brightness=0.3, contrast=0.3, saturation=0.3, hue=0.2,
                pca_noise=0.1, rand_gray=0.3, mean=True, std=True, inter_method=1,
                last_batch_handle="roll_over"),
    "sized": dict(batch_size=3, data_shape=(3, 5, 5), path_imgrec="images.rec",
                  path_imgidx="images.idx", rand_crop=True, rand_resize=True, inter_method=1,
                  last_batch_handle="discard"),
    "list": dict(batch_size=2, data_shape=(3, 8, 8), label_width=2, imglist=True),
}


@pytest.fixture(scope="module")
def z():
    return np.load(os.path.join(FIX, "imageiter.npz"), allow_pickle=False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_batches_equal_mxnet(z, name, tmp_path):
    kw = dict(CASES[name])
    for k in ("path_imgrec", "path_imgidx"):
        if k in kw:
            kw[k] = os.path.join(FIX, kw[k])
    if kw.pop("imglist", False):
        imgs = np.load(os.path.join(FIX, "imagerecorditer.npz"))
        for i in range(5):
            cv2.imwrite(str(tmp_path / ("%d.png" % i)), imgs["img%d" % i][:, :, ::-1])
        kw.update(imglist=[[float(i), 2.0 * i, "%d.png" % i] for i in range(5)],
                  path_root=str(tmp_path))
    random.seed(4)
    np.random.seed(4)
    it = mx.image.ImageIter(**kw)
    for epoch in range(3):
        batches = list(it)
        assert len(batches) == int(z["%s_e%d_n" % (name, epoch)])
        for j, b in enumerate(batches):
            key = "%s_e%d_b%d_" % (name, epoch, j)
            np.testing.assert_array_equal(b.label[0].asnumpy(), z[key + "y"])
            assert b.pad == int(z[key + "pad"])
            # float32 sums in a different order: the colour jitters agree to ~1e-5
            np.testing.assert_allclose(b.data[0].asnumpy(), z[key + "x"], rtol=1e-5,
                                       atol=2e-5, err_msg=key)
        it.reset()


def test_augmenters_individually():
    img = mx.nd.array(np.random.RandomState(0).randint(0, 256, (6, 5, 3)), dtype="uint8")
    f = img.astype("float32")
    a = f.asnumpy()
    random.seed(1)
    out = mx.image.BrightnessJitterAug(0.5)(f).asnumpy()
    random.seed(1)
    alpha = 1.0 + random.uniform(-0.5, 0.5)
    np.testing.assert_allclose(out, a * alpha, rtol=1e-6)
    random.seed(2)
    out = mx.image.SaturationJitterAug(0.5)(f).asnumpy()
    random.seed(2)
    alpha = 1.0 + random.uniform(-0.5, 0.5)
    gray = (a @ [0.299, 0.587, 0.114])[..., None]
    np.testing.assert_allclose(out, a * alpha + (1 - alpha) * gray, rtol=1e-5, atol=1e-3)
    assert mx.image.ForceResizeAug((7, 4), 1)(img).shape == (4, 7, 3)
    flipped = mx.image.HorizontalFlipAug(1.0)(img).asnumpy()
    np.testing.assert_array_equal(flipped, img.asnumpy()[:, ::-1])
    assert mx.image.HorizontalFlipAug(0.0)(img) is img
    gray = mx.image.RandomGrayAug(1.0)(f).asnumpy()
    np.testing.assert_allclose(gray[..., 0], a @ [0.21, 0.72, 0.07], rtol=1e-5)
    assert '"brightnessjitteraug"' in mx.image.BrightnessJitterAug(0.1).dumps()


def test_errors(tmp_path):
    with pytest.raises(PlaitError, match="path_imgrec"):
        mx.image.ImageIter(2, (3, 4, 4))
    with pytest.raises(PlaitError, match="data_shape"):
        mx.image.ImageIter(2, (1, 4, 4), path_imgrec=os.path.join(FIX, "images.rec"))
    with pytest.raises(PlaitError, match="path_imgidx"):
        mx.image.ImageIter(2, (3, 4, 4), path_imgrec=os.path.join(FIX, "images.rec"),
                           shuffle=True)
    (tmp_path / "bad.png").write_bytes(b"nope")
    it = mx.image.ImageIter(1, (3, 4, 4), imglist=[[0.0, "bad.png"]], path_root=str(tmp_path))
    with pytest.raises(PlaitError, match="broken image"):
        next(it)
    with pytest.raises(PlaitError, match="rand_resize needs rand_crop"):
        mx.image.CreateAugmenter((3, 4, 4), rand_resize=True)
