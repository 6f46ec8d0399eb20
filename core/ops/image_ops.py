"""The deterministic image operators of MXNet 1.9 (src/operator/image): `_image_to_tensor`,
`_image_normalize`, `_image_crop`, `_image_resize`, the flips and `_image_adjust_lighting`,
as mx.nd.image.<name> / mx.sym.image.<name>.  The random ones are in image_ops_random.py.

Layouts: images are HWC, batches NHWC (to_tensor's output and normalize's input are CHW /
NCHW).  MXNet 1.9.1 takes batches in to_tensor, normalize, crop and resize only; plait also
takes them in the flips and adjust_lighting (every image gets the same treatment).
Extensions over MXNet 1.9.1, which rejects them: any channel count in normalize and the
flips; mean/std of normalize given as a tuple of equal values of any length (MXNet's
defaults (0, 0, 0, 0) and (1, 1, 1, 1) then work on 3 channels).  normalize takes float
inputs only (MXNet also computes it in integer dtypes).  Resizing uses OpenCV, as MXNet
does (gluon/data/image.py; nearest/bilinear without OpenCV).

Gradients: to_tensor, normalize, crop, the flips and adjust_lighting (float inputs) are
linear in the data and have them; resize has none (MXNet 1.9.1's gradient does not run).
"""
import numpy as np

from ..base import fail
from .params import Param, non_negative, positive
from .registry import BadSample, OpDef, Sample, register
from .sampling import values
from . import image_color

_IMG_DTYPES = ("uint8", "float32", "float64")
_F32 = np.dtype("float32")


# -- shared helpers ------------------------------------------------------------------------------
def image_shape(shape, arg="data", what="an HWC image or an NHWC batch"):
    """The shape of a 3-d HWC image or 4-d NHWC batch (else a clear error)."""
    shape = tuple(shape)
    if len(shape) not in (3, 4):
        fail(arg, "expects %s, got shape %s", what, shape)
    return shape


def need_channels(shape, allowed, arg="data"):
    if shape[-1] not in allowed:
        fail(arg, "needs %s channel(s) on the last axis, got shape %s",
             " or ".join(map(str, allowed)), tuple(shape))


def host(xp, x):
    """A NumPy view of x (a copy from the GPU)."""
    return x if xp is np else xp.asnumpy(x)


def image_samples(shapes, attrs=None, low=0.0, high=255.0):
    """samples(dtype): one image per shape in [low, high) with attrs."""
    def gen(dtype):
        return [Sample([values(s, dtype, low, high, seed=i)], dict(attrs or {}))
                for i, s in enumerate(shapes)]
    return gen


def _same(attrs, shapes):
    return [image_shape(shapes[0])]


# -- to_tensor -------------------------------------------------------------------------------------
def _tt_shape(attrs, shapes):
    s = image_shape(shapes[0])
    return [s[:-3] + (s[-1],) + s[-3:-1]]


_HWC_TO_CHW = {3: (2, 0, 1), 4: (0, 3, 1, 2)}
_CHW_TO_HWC = {3: (1, 2, 0), 4: (0, 2, 3, 1)}


def _tt_forward(xp, attrs, ins, outs):
    # a float32 division by 255, as MXNet (bit-identical results)
    x = ins[0]
    xp.divide(x.transpose(_HWC_TO_CHW[x.ndim]), np.float32(255.0), out=outs[0],
              dtype=np.float32, casting="unsafe")


def _tt_ref(attrs, x):
    return (np.moveaxis(x, -1, -3).astype(np.float32) / np.float32(255)).astype(np.float32)


register(OpDef(
    "_image_to_tensor", infer_shape=_tt_shape, infer_type=lambda a, t: [_F32],
    forward=_tt_forward, reference=_tt_ref,
    samples=image_samples([(5, 4, 3), (2, 3, 2, 1), (1, 1, 1), (3, 2, 5)]),
    test_dtypes=_IMG_DTYPES, fd_check=False,  # float32 output: tests/core/ops checks the rule
    gradient=lambda F, a, ins, outs, g: [F._backward_image_to_tensor(g[0], ins[0])],
    bad_samples=lambda: [BadSample([np.ones((4, 4), np.uint8)], match=("HWC", "(4, 4)"))],
    doc="An HWC image (or NHWC batch) with values in [0, 255] as a CHW (NCHW) float32 "
        "tensor with values in [0, 1] (divided by 255)."))


def _btt_shape(attrs, shapes):
    want = _tt_shape(attrs, shapes[1:])[0]
    if tuple(shapes[0]) != want:
        fail("ograd", "shape %s does not match to_tensor's output shape %s for data %s",
             tuple(shapes[0]), want, tuple(shapes[1]))
    return [tuple(shapes[1])]


def _btt_samples(dtype):
    return [Sample([values((3, 5, 4), np.float32, seed=1), values((5, 4, 3), dtype, seed=2)]),
            Sample([values((2, 1, 2, 3), np.float32, seed=3), values((2, 2, 3, 1), dtype)])]


register(OpDef(
    "_backward_image_to_tensor", inputs=("ograd", "data"), infer_shape=_btt_shape,
    infer_type=lambda a, t: [t[1]], dtypes="float", nondiff=True,
    forward=lambda xp, a, ins, outs: xp.divide(ins[0].transpose(_CHW_TO_HWC[ins[0].ndim]), 255.0,
                                               out=outs[0], dtype=outs[0].dtype,
                                               casting="unsafe"),
    reference=lambda a, g, x: (np.moveaxis(g, -3, -1).astype(np.float64) / 255).astype(x.dtype),
    samples=_btt_samples,
    bad_samples=lambda: [BadSample([np.ones((3, 4, 5), np.float32), np.ones((4, 4, 3),
                                                                             np.float32)],
                                   match=("ograd", "(3, 4, 5)"))],
    doc="Gradient of _image_to_tensor: the output gradient back in HWC layout, / 255."))


# -- normalize -------------------------------------------------------------------------------------
def norm_values(name, v, c):
    """mean/std as c values: 1 value or c values (or a tuple of equal values)."""
    v = tuple(v)
    if len(v) == c or len(v) == 1:
        return v if len(v) == c else v * c
    if v and all(t == v[0] for t in v):
        return (v[0],) * c
    fail(name, "has %d values for %d channels (give 1 or %d)", len(v), c, c)


def _norm_shape(attrs, shapes):
    s = tuple(shapes[0])
    if len(s) not in (3, 4):
        fail("data", "expects a CHW tensor or an NCHW batch, got shape %s", s)
    c = s[-3]
    norm_values("mean", attrs.mean, c)
    std = norm_values("std", attrs.std, c)
    if any(v == 0 for v in std):
        fail("std", "must not contain 0, got %s", attrs.std)
    return [s]


_NORM_STATS = {}  # (mean, std, channels, dtype) -> NumPy (C, 1, 1) arrays (read only)


def _norm_stats(xp, attrs, x):
    c = x.shape[-3]
    key = (attrs.mean, attrs.std, c, x.dtype)
    got = _NORM_STATS.get(key) if xp is np else None
    if got is None:
        # one value for every channel: a 0-d array, so that NumPy runs one flat loop
        got = tuple(xp.asarray(vs[0], dtype=x.dtype) if len(set(vs)) == 1 else
                    xp.asarray(vs, dtype=x.dtype).reshape(c, 1, 1)
                    for vs in (norm_values("mean", attrs.mean, c),
                               norm_values("std", attrs.std, c)))
        if xp is np:
            if len(_NORM_STATS) > 256:
                _NORM_STATS.clear()
            _NORM_STATS[key] = got
    return got


def _norm_forward(xp, attrs, ins, outs):
    m, s = _norm_stats(xp, attrs, ins[0])
    xp.subtract(ins[0], m, out=outs[0])
    xp.divide(outs[0], s, out=outs[0])


def normalize_stats(attrs, x):
    """(mean, std) of NumPy data `x` as the kernels broadcast them."""
    return _norm_stats(np, attrs, x)


def normalize_host(x, stats):
    """The kernel returning a new NumPy array, with stats from normalize_stats
    (transforms.Normalize: no output buffer to fill, and NumPy's own allocation is the
    faster one here)."""
    m, s = stats
    out = np.subtract(x, m)
    np.divide(out, s, out=out)
    return out


def _norm_ref(attrs, x):
    c = x.shape[-3]
    m = np.array(norm_values("mean", attrs.mean, c), np.float64).reshape(c, 1, 1)
    s = np.array(norm_values("std", attrs.std, c), np.float64).reshape(c, 1, 1)
    return ((x.astype(np.float64) - m) / s).astype(x.dtype)


def _norm_samples(dtype):
    v = values
    return [Sample([v((3, 4, 5), dtype, 0, 1)], {"mean": (0.1, 0.2, 0.3), "std": (0.5, 0.25, 2)}),
            Sample([v((2, 3, 2, 3), dtype, 0, 1, 1)], {"mean": (0.1, 0.2, 0.3),
                                                       "std": (0.5, 0.25, 2)}),
            Sample([v((1, 3, 2), dtype, 0, 1, 2)], {"mean": 0.5, "std": 0.2}),
            Sample([v((3, 2, 2), dtype, 0, 1, 3)], {}),
            Sample([v((2, 1, 1), dtype, 0, 1, 4)], {"mean": (0.3, -0.1), "std": 4.0})]


def _norm_bad():
    x = np.ones((3, 4, 4), np.float32)
    return [BadSample([x], {"mean": (0.1, 0.2)}, match=("mean", "2 values for 3 channels")),
            BadSample([x], {"std": (1, 2, 0)}, match=("std", "0")),
            BadSample([np.ones((4, 4), np.float32)], match=("CHW", "(4, 4)"))]


register(OpDef(
    "_image_normalize", params={
        "mean": Param("floats", (0.0, 0.0, 0.0, 0.0), doc="Per-channel means (1 or C values)."),
        "std": Param("floats", (1.0, 1.0, 1.0, 1.0), doc="Per-channel standard deviations "
                     "(1 or C values).")},
    infer_shape=_norm_shape, forward=_norm_forward, dtypes="float", reference=_norm_ref,
    samples=_norm_samples, bad_samples=_norm_bad,
    gradient=lambda F, a, ins, outs, g: [F._image_normalize(g[0], mean=(0.0,), std=a.std)],
    doc="(data[c] - mean[c]) / std[c] over the channels of a CHW tensor or NCHW batch."))


# -- crop ------------------------------------------------------------------------------------------
def _crop_shape(attrs, shapes):
    s = image_shape(shapes[0])
    h, w = s[-3], s[-2]
    if attrs.x + attrs.width > w:
        fail("width", "x + width = %d exceeds the image width %d (shape %s)",
             attrs.x + attrs.width, w, s)
    if attrs.y + attrs.height > h:
        fail("height", "y + height = %d exceeds the image height %d (shape %s)",
             attrs.y + attrs.height, h, s)
    return [s[:-3] + (attrs.height, attrs.width, s[-1])]


def _crop_view(attrs, x):
    return x[..., attrs.y:attrs.y + attrs.height, attrs.x:attrs.x + attrs.width, :]


def _crop_samples(dtype):
    g = image_samples([(5, 4, 3), (2, 5, 4, 1), (3, 3, 2)])(dtype)
    for s, a in zip(g, (dict(x=1, y=2, width=2, height=3), dict(x=0, y=1, width=3, height=2),
                        dict(x=0, y=0, width=3, height=3))):
        s.attrs.update(a)
    return g


_CROP_PARAMS = {"x": Param("int", doc="Left edge of the crop.", check=non_negative),
                "y": Param("int", doc="Top edge of the crop.", check=non_negative),
                "width": Param("int", doc="Width of the crop.", check=positive),
                "height": Param("int", doc="Height of the crop.", check=positive)}

register(OpDef(
    "_image_crop", params=_CROP_PARAMS, infer_shape=_crop_shape,
    forward=lambda xp, a, ins, outs: outs[0].__setitem__(Ellipsis, _crop_view(a, ins[0])),
    reference=lambda a, x: _crop_view(a, x).copy(), samples=_crop_samples,
    test_dtypes=_IMG_DTYPES,
    gradient=lambda F, a, ins, outs, g: [F._backward_image_crop(g[0], ins[0], **a)],
    bad_samples=lambda: [
        BadSample([np.ones((5, 4, 3), np.uint8)], dict(x=3, y=0, width=2, height=2),
                  match=("width", "exceeds", "4")),
        BadSample([np.ones((5, 4, 3), np.uint8)], dict(x=0, y=4, width=2, height=2),
                  match=("height", "exceeds", "5")),
        BadSample([np.ones((5, 4), np.uint8)], dict(x=0, y=0, width=2, height=2),
                  match=("HWC", "(5, 4)"))],
    doc="The (width x height) window at column x, row y of an HWC image or NHWC batch."))


def _bcrop_shape(attrs, shapes):
    want = _crop_shape(attrs, shapes[1:])[0]
    if tuple(shapes[0]) != want:
        fail("ograd", "shape %s does not match the crop's shape %s", tuple(shapes[0]), want)
    return [tuple(shapes[1])]


def _bcrop_forward(xp, attrs, ins, outs):
    outs[0].fill(0)
    _crop_view(attrs, outs[0])[...] = ins[0]


def _bcrop_ref(attrs, g, x):
    out = np.zeros_like(x)
    _crop_view(attrs, out)[...] = g
    return out


def _bcrop_samples(dtype):
    v = values
    a = dict(x=1, y=2, width=2, height=3)
    return [Sample([v((3, 2, 3), dtype), v((5, 4, 3), dtype, seed=1)], a),
            Sample([v((2, 3, 2, 1), dtype), v((2, 5, 4, 1), dtype, seed=1)], a)]


register(OpDef(
    "_backward_image_crop", inputs=("ograd", "data"), params=_CROP_PARAMS,
    infer_shape=_bcrop_shape, infer_type=lambda a, t: [t[1]], forward=_bcrop_forward,
    dtypes="float", nondiff=True, reference=_bcrop_ref, samples=_bcrop_samples,
    bad_samples=lambda: [BadSample([np.ones((2, 2, 3), np.float32),
                                    np.ones((5, 4, 3), np.float32)],
                                   dict(x=1, y=2, width=2, height=3),
                                   match=("ograd", "(2, 2, 3)"))],
    doc="Gradient of _image_crop: the output gradient placed in a zero image."))


# -- flips -----------------------------------------------------------------------------------------
def flip_op(name, axis, what):
    register(OpDef(
        name, infer_shape=_same, forward=lambda xp, a, ins, outs: outs[0].__setitem__(
            Ellipsis, xp.flip(ins[0], axis=axis)),
        reference=lambda a, x: np.flip(x, axis=axis).copy(),
        samples=image_samples([(5, 4, 3), (2, 3, 5, 1), (1, 1, 3), (3, 2, 2)]),
        test_dtypes=_IMG_DTYPES,
        gradient=lambda F, a, ins, outs, g: [getattr(F, name)(g[0])],
        bad_samples=lambda: [BadSample([np.ones((5, 4), np.uint8)], match=("HWC", "(5, 4)"))],
        doc="Flip an HWC image (or every image of an NHWC batch) %s." % what))


flip_op("_image_flip_left_right", -2, "left to right (mirror its columns)")
flip_op("_image_flip_top_bottom", -3, "top to bottom (reverse its rows)")


# -- adjust_lighting -------------------------------------------------------------------------------
def _light_shape(attrs, shapes):
    s = image_shape(shapes[0])
    need_channels(s, (3,))
    if len(attrs.alpha) != 3:
        fail("alpha", "needs 3 values (R, G, B), got %s", attrs.alpha)
    return [s]


def _light_forward(xp, attrs, ins, outs):
    outs[0][...] = xp.asarray(image_color.adjust_lighting(host(xp, ins[0]), attrs.alpha))


def _light_ref(attrs, x):
    ev, vec = image_color.EIGVAL.astype(np.float64), image_color.EIGVEC.astype(np.float64)
    shift = np.array([sum(vec[i, j] * attrs.alpha[j] * ev[j] for j in range(3))
                      for i in range(3)])
    if x.dtype.kind == "f":
        return (x.astype(np.float64) + shift).astype(x.dtype)
    out = x.astype(np.float32) + shift.astype(np.float32)
    return np.clip(np.trunc(out), 0, 255).astype(x.dtype)


register(OpDef(
    "_image_adjust_lighting", params={
        "alpha": Param("floats", doc="The lighting alphas for the R, G, B channels.")},
    infer_shape=_light_shape, forward=_light_forward, reference=_light_ref,
    samples=lambda dt: [Sample(s.inputs, {"alpha": a}) for s, a in zip(
        image_samples([(5, 4, 3), (2, 3, 2, 3)])(dt), ((0.1, -0.2, 0.3), (1.5, 0.0, -2.0)))],
    test_dtypes=_IMG_DTYPES, dtypes=("uint8", "float16", "float32", "float64"),
    tol=(1e-5, 1e-3), gradient=lambda F, a, ins, outs, g: [g[0]],
    bad_samples=lambda: [BadSample([np.ones((4, 4, 1), np.float32)], {"alpha": (1, 2, 3)},
                                   match=("3 channel", "(4, 4, 1)")),
                         BadSample([np.ones((4, 4, 3), np.float32)], {"alpha": (1, 2)},
                                   match=("alpha", "3 values"))],
    doc="AlexNet-style PCA lighting: add eigvec @ (alpha * eigval) to every RGB pixel of an "
        "HWC image (or NHWC batch); integer images are truncated and clipped."))


from . import image_resize  # noqa: E402,F401  (_image_resize)
from . import image_ops_random  # noqa: E402,F401  (the _image_random_* ops)
