"""`_image_resize` (mx.nd.image.resize): an HWC image or NHWC batch resized with OpenCV's
cv2.resize, as MXNet 1.9 does (gluon/data/image.imresize; without OpenCV, nearest and
bilinear come from a NumPy version within one grey level).

size is (width, height), or one value: a square, or with keep_ratio the shorter edge
(the other edge scaled and truncated).  interp: 0 nearest, 1 bilinear, 2 bicubic, 3 area,
4 Lanczos.  No gradient (MXNet 1.9.1's does not run either).
"""
import numpy as np

from ..base import fail
from .image_ops import host, image_samples, image_shape
from .params import Param
from .registry import BadSample, OpDef, register


def target_size(attrs, h, w):
    """(width, height) of the output for an h x w input."""
    s = tuple(attrs.size)
    if len(s) not in (1, 2):
        fail("size", "must be one value or (width, height), got %s", s)
    if any(v <= 0 for v in s):
        fail("size", "must be positive, got %s", s)
    if len(s) == 2:
        return s
    s = s[0]
    if not attrs.keep_ratio:
        return s, s
    if h > w:
        return s, int(h * s / w)
    return int(w * s / h), s


def _shape(attrs, shapes):
    sh = image_shape(shapes[0])
    w, h = target_size(attrs, sh[-3], sh[-2])
    return [sh[:-3] + (h, w, sh[-1])]


def _resize_one(img, w, h, interp):
    return _imresize()(np.ascontiguousarray(img), w, h, interp)


_IMRESIZE = []


def _imresize():
    if not _IMRESIZE:
        from ...gluon.data.image import imresize  # OpenCV (or the NumPy fallback) lives there
        _IMRESIZE.append(imresize)
    return _IMRESIZE[0]


def resize_host(x, attrs, wh=None):
    """The resized NumPy image or batch (the kernel; transforms.Resize calls it directly,
    with the target (width, height) `wh` it has computed already)."""
    w, h = wh or target_size(attrs, x.shape[-3], x.shape[-2])
    if x.ndim == 3:
        return _resize_one(x, w, h, attrs.interp)
    return np.stack([_resize_one(img, w, h, attrs.interp) for img in x])


def _forward(xp, attrs, ins, outs):
    outs[0][...] = xp.asarray(resize_host(host(xp, ins[0]), attrs))


def _reference(attrs, x):
    """Bilinear/nearest with OpenCV's pixel-centre convention, written out in NumPy."""
    w, h = target_size(attrs, x.shape[-3], x.shape[-2])
    ih, iw = x.shape[-3:-1]
    if attrs.interp == 0:
        ys = np.minimum(np.floor(np.arange(h) * (ih / h)).astype(int), ih - 1)
        xs = np.minimum(np.floor(np.arange(w) * (iw / w)).astype(int), iw - 1)
        return x[..., ys, :, :][..., xs, :]

    def weights(n_out, n_in):
        src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        lo = np.floor(src).astype(int)
        return lo, np.minimum(lo + 1, n_in - 1), src - lo
    y0, y1, fy = weights(h, ih)
    x0, x1, fx = weights(w, iw)
    f = x.astype(np.float64)
    fx = fx[:, None]
    rows = (f[..., y0, :, :] * (1 - fy)[:, None, None] + f[..., y1, :, :] * fy[:, None, None])
    out = rows[..., x0, :] * (1 - fx) + rows[..., x1, :] * fx
    if x.dtype == np.uint8:
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return out.astype(x.dtype)


def _samples(dtype):
    """Bilinear/area sizes for floats; nearest only for uint8 (OpenCV's 8-bit bilinear is
    fixed-point: one grey level from the exact formula; tests/core/ops compares it with
    MXNet's own output instead)."""
    near = [((9, 13, 3), dict(size=(20, 11), interp=0)), ((2, 5, 4, 1), dict(size=(2, 3),
                                                                           interp=0))]
    lin = [((9, 13, 3), dict(size=(5, 7))), ((6, 4, 1), dict(size=(8, 12))),
           ((2, 9, 13, 3), dict(size=(5, 6))), ((9, 13, 3), dict(size=4)),
           ((13, 6, 3), dict(size=4, keep_ratio=True))]
    cases = near if np.dtype(dtype) == np.uint8 else lin + near
    return [image_samples([shape], a)(dtype)[0] for shape, a in cases]


register(OpDef(
    "_image_resize", params={
        "size": Param("shape", (), doc="(width, height), or one value (a square, or the "
                      "shorter edge with keep_ratio)."),
        "keep_ratio": Param("bool", False, doc="With one size value: resize the shorter edge "
                            "to it, keeping the aspect ratio."),
        "interp": Param("int", 1, choices=(0, 1, 2, 3, 4),
                        doc="0 nearest, 1 bilinear, 2 bicubic, 3 area, 4 Lanczos.")},
    infer_shape=_shape, forward=_forward, dtypes=("uint8", "float32", "float64"),
    test_dtypes=("uint8", "float32", "float64"), reference=_reference, samples=_samples,
    tol=(1e-5, 1e-3), nondiff=True,
    bad_samples=lambda: [
        BadSample([np.ones((4, 4, 3), np.uint8)], {}, match=("size", "()")),
        BadSample([np.ones((4, 4, 3), np.uint8)], {"size": (1, 2, 3)}, match=("size",)),
        BadSample([np.ones((4, 4, 3), np.uint8)], {"size": (0, 2)}, match=("size", "positive")),
        BadSample([np.ones((4, 4), np.uint8)], {"size": 2}, match=("HWC", "(4, 4)"))],
    doc="Resize an HWC image or NHWC batch to `size` (width, height) with OpenCV's "
        "interpolation `interp`, as MXNet."))
