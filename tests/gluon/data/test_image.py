"""mx.image: decoding (OpenCV and Pillow agree on PNG), resizing (the NumPy fallback stays
within one grey level of OpenCV), crops, and clear errors."""
import random

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError
from plait.gluon.data import image

cv2 = pytest.importorskip("cv2")


@pytest.fixture
def img():
    return np.random.RandomState(0).randint(0, 256, (13, 18, 3)).astype(np.uint8)


def test_imdecode_png_rgb_and_gray_with_opencv_and_pillow(img, monkeypatch):
    ok, png = cv2.imencode(".png", img[:, :, ::-1])
    buf = png.tobytes()
    np.testing.assert_array_equal(mx.image.imdecode(buf).asnumpy(), img)
    np.testing.assert_array_equal(mx.image.imdecode(buf, to_rgb=False).asnumpy(), img[:, :, ::-1])
    gray_cv = mx.image.imdecode(buf, flag=0).asnumpy()
    assert gray_cv.shape == (13, 18, 1)
    monkeypatch.setattr(image, "_cv2", lambda: None)
    pytest.importorskip("PIL")
    np.testing.assert_array_equal(mx.image.imdecode(buf).asnumpy(), img)
    gray_pil = mx.image.imdecode(buf, flag=0).asnumpy()
    assert gray_pil.shape == (13, 18, 1)
    assert np.abs(gray_pil.astype(int) - gray_cv).max() <= 1  # two luma roundings


def test_imread_and_imencode_roundtrip(tmp_path, img):
    p = tmp_path / "x.png"
    p.write_bytes(mx.image.imencode(img, ".png"))
    np.testing.assert_array_equal(mx.image.imread(str(p)).asnumpy(), img)
    with pytest.raises(PlaitError, match="imread.*missing.png"):
        mx.image.imread(str(tmp_path / "missing.png"))
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    with pytest.raises(PlaitError, match="bad.jpg.*cannot decode"):
        mx.image.imread(str(tmp_path / "bad.jpg"))


@pytest.mark.parametrize("size", [(7, 5), (30, 20), (18, 13), (9, 26)])
def test_numpy_resize_fallback_is_within_one_level_of_opencv(img, monkeypatch, size):
    ref = {i: cv2.resize(img, size, interpolation=i) for i in (0, 1)}
    monkeypatch.setattr(image, "_cv2", lambda: None)
    np.testing.assert_array_equal(mx.image.imresize(img, *size, interp=0), ref[0])
    out = mx.image.imresize(img, *size, interp=1)
    assert np.abs(out.astype(int) - ref[1]).max() <= 1
    with pytest.raises(PlaitError, match="needs OpenCV"):
        mx.image.imresize(img, 4, 4, interp=2)


def test_crops(img):
    x = mx.nd.array(img, dtype="uint8")
    out, box = mx.image.center_crop(x, (10, 7))
    assert box == (4, 3, 10, 7)
    np.testing.assert_array_equal(out.asnumpy(), img[3:10, 4:14])
    out = mx.image.fixed_crop(x, 2, 1, 5, 4)
    np.testing.assert_array_equal(out.asnumpy(), img[1:5, 2:7])
    random.seed(0)
    out, (x0, y0, w, h) = mx.image.random_crop(x, (6, 6))
    np.testing.assert_array_equal(out.asnumpy(), img[y0:y0 + 6, x0:x0 + 6])
    short = mx.image.resize_short(x, 6)
    assert short.shape == (6, 18 * 6 // 13, 3)
    assert mx.image.scale_down((640, 480), (720, 120)) == (640, 106)
    norm = mx.image.color_normalize(x.astype("float32"), mx.nd.array([1, 2, 3]),
                                    mx.nd.array([2, 2, 2]))
    np.testing.assert_allclose(norm.asnumpy(), (img - [1, 2, 3]) / 2.0, rtol=1e-6)


def test_without_opencv_and_pillow_decoding_says_what_to_install(monkeypatch, img):
    import sys
    buf = mx.image.imencode(img, ".png")
    monkeypatch.setattr(image, "_cv2", lambda: None)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(PlaitError, match="OpenCV.*or Pillow"):
        mx.image.imdecode(buf)
    # everything that does not decode still works: RecordIO packing, NumPy resizing
    h, s = mx.recordio.unpack(mx.recordio.pack((0, 1.0, 2, 0), buf))
    assert s == buf and h.label == 1.0
    assert mx.image.imresize(img, 4, 3, interp=1).shape == (3, 4, 3)
