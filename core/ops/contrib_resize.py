"""`_contrib_BilinearResize2D` (MXNet 1.9's src/operator/contrib) on NCHW data, with its
hidden backward op; `_contrib_AdaptiveAvgPooling2D` is in contrib_pool.py.

BilinearResize2D's output size by `mode`: 'size' (height/width, or input * scale_height/
scale_width when scale_height is given, truncated), 'odd_scale' (an odd size h becomes
(h - 1) * scale + 1, an even one h * scale), 'like' (the second input's H and W),
'to_even_down/up', 'to_odd_down/up' (the nearest even/odd size below/above).  With
align_corners (the default) the corners of input and output coincide: source index
dst * (in - 1) / (out - 1); without it pixel centres are scaled: (dst + 0.5) * in / out
- 0.5, clamped at 0 (an output of size 1 takes the first pixel either way).  Both
directions are separable, so the kernels interpolate along W then along H (the forward by
gathers, the backward by two small matrix products).
"""
import numpy as np

from ..base import fail
from .params import Param, positive
from .registry import BadSample, OpDef, Sample, register
from .sampling import values

_MODES = ("like", "odd_scale", "size", "to_even_down", "to_even_up", "to_odd_down", "to_odd_up")


def _nchw(shape, arg="data"):
    shape = tuple(shape)
    if len(shape) != 4:
        fail(arg, "expects 4-d (N, C, H, W) data, got shape %s", shape)
    return shape


def _scaled(scale, n):
    return int(np.float32(scale) * np.float32(n))  # float32 product, as MXNet


def _scales(a):
    if a.scale_height is None or a.scale_width is None:
        fail("scale_height", "mode %r needs both scale_height and scale_width, got %s and %s",
             a.mode, a.scale_height, a.scale_width)
    return a.scale_height, a.scale_width


def resize_hw(a, shape, like=None):
    """The output (height, width) of BilinearResize2D for data `shape`."""
    h, w = shape[2], shape[3]
    m = a.mode
    if m == "size":
        if a.scale_height is None:
            oh, ow = a.height, a.width
        else:
            sh, sw = _scales(a)
            oh, ow = _scaled(sh, h), _scaled(sw, w)
    elif m == "odd_scale":
        sh, sw = _scales(a)
        oh = _scaled(sh, h) if h % 2 == 0 else _scaled(sh, h - 1) + 1
        ow = _scaled(sw, w) if w % 2 == 0 else _scaled(sw, w - 1) + 1
    elif m == "like":
        if like is None:
            fail("like", "mode 'like' needs a second input")
        like = _nchw(like, "like")
        oh, ow = like[2], like[3]
    else:
        even, up = m.startswith("to_even"), m.endswith("up")
        odd_ok = not even

        def pick(n):
            if (n % 2 == 1) == odd_ok:
                return n
            return n + 1 if up else n - 1
        oh, ow = pick(h), pick(w)
    if oh <= 0 or ow <= 0:
        fail("mode", "gives an empty output (%d, %d) for data of shape %s", oh, ow, tuple(shape))
    return oh, ow


def axis_weights(n_in, n_out, align_corners):
    """(lo, hi, lambda) per output index: out = (1 - lambda) * in[lo] + lambda * in[hi]."""
    i = np.arange(n_out, dtype=np.float64)
    if n_out == 1:  # MXNet: the first pixel, with or without align_corners
        src = np.zeros(1)
    elif align_corners:
        src = i * ((n_in - 1) / (n_out - 1))
    else:
        src = np.maximum((i + 0.5) * (n_in / n_out) - 0.5, 0.0)
    lo = np.minimum(src.astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, src - lo


def _matrix(n_in, n_out, align_corners, dtype):
    """The (n_out, n_in) interpolation matrix along one axis."""
    lo, hi, lam = axis_weights(n_in, n_out, align_corners)
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(m, (rows, lo), 1 - lam)
    np.add.at(m, (rows, hi), lam)
    return m.astype(dtype)


# -- BilinearResize2D ------------------------------------------------------------------------------
def _bl_shape(a, shapes):
    d = _nchw(shapes[0])
    if a.mode == "like" and len(shapes) < 2:
        fail("like", "mode 'like' needs a second input")
    oh, ow = resize_hw(a, d, shapes[1] if a.mode == "like" else None)
    return [(d[0], d[1], oh, ow)]


def _bl_forward(xp, a, ins, outs):
    x, out = ins[0], outs[0]
    oh, ow = out.shape[2:]
    dt = x.dtype
    h0, h1, hl = (xp.asarray(v) for v in axis_weights(x.shape[2], oh, a.align_corners))
    w0, w1, wl = (xp.asarray(v) for v in axis_weights(x.shape[3], ow, a.align_corners))
    wl = wl.astype(dt)
    rows = x[..., w0] * (1 - wl) + x[..., w1] * wl           # (N, C, H, OW)
    hl = hl.astype(dt)[:, None]
    xp.multiply(rows[..., h0, :], 1 - hl, out=out)
    out += rows[..., h1, :] * hl


def _ref_source(d, n_in, n_out, align):
    """(lo, hi, lambda) of output index d, written out per pixel (the references'
    independent copy of the mapping)."""
    if n_out == 1:
        src = 0.0
    elif align:
        src = d * (n_in - 1) / (n_out - 1)
    else:
        src = max((d + 0.5) * n_in / n_out - 0.5, 0.0)
    lo = int(src)
    return lo, lo + 1 if lo < n_in - 1 else lo, src - lo


def _bl_ref(a, x, *like):
    """MXNet's per-pixel formula, one output pixel at a time."""
    oh, ow = resize_hw(a, x.shape, like[0].shape if like else None)
    out = np.empty(x.shape[:2] + (oh, ow), np.float64)
    for i in range(oh):
        y0, y1, ly = _ref_source(i, x.shape[2], oh, a.align_corners)
        for j in range(ow):
            x0, x1, lx = _ref_source(j, x.shape[3], ow, a.align_corners)
            out[:, :, i, j] = ((1 - ly) * ((1 - lx) * x[:, :, y0, x0] + lx * x[:, :, y0, x1])
                               + ly * ((1 - lx) * x[:, :, y1, x0] + lx * x[:, :, y1, x1]))
    return out.astype(x.dtype)


def _bl_names(a):
    return ("data", "like") if a.mode == "like" else ("data",)


def _bl_grad(F, a, ins, outs, g):
    gx = F._backward_contrib_BilinearResize2D(g[0], ins[0], align_corners=a.align_corners)
    return [gx] + ([F.zeros_like(ins[1])] if len(ins) > 1 else [])


def _bl_samples(dtype):
    v = values
    x = v((2, 3, 5, 4), dtype)
    cases = [dict(height=3, width=7), dict(height=9, width=11), dict(height=1, width=1),
             dict(scale_height=2.0, scale_width=0.5), dict(scale_height=1.5, scale_width=1.7),
             dict(mode="odd_scale", scale_height=2.0, scale_width=0.5),
             dict(mode="to_even_down"), dict(mode="to_odd_up"),
             dict(height=3, width=7, align_corners=False),
             dict(height=2, width=3, align_corners=False)]
    small = v((1, 2, 3, 2), dtype, seed=1)
    out = [Sample([small], dict(height=4, width=3)),
           Sample([small], dict(height=2, width=5, align_corners=False))]
    out += [Sample([x], c) for c in cases]
    out.append(Sample([x, v((1, 1, 6, 7), dtype, seed=2)], dict(mode="like")))
    return out


_BL_PARAMS = {
    "height": Param("int", 1, doc="Output height (mode 'size' without scale_height).",
                    check=positive),
    "width": Param("int", 1, doc="Output width (mode 'size' without scale_width).",
                   check=positive),
    "scale_height": Param("float", None, doc="Height scale (modes 'size' and 'odd_scale')."),
    "scale_width": Param("float", None, doc="Width scale (modes 'size' and 'odd_scale')."),
    "mode": Param("str", "size", choices=_MODES, doc="How the output size is chosen."),
    "align_corners": Param("bool", True, doc="Align the corner pixels of input and output."),
}

register(OpDef(
    "_contrib_BilinearResize2D", inputs=("data", "like"), inputs_fn=_bl_names,
    params=_BL_PARAMS, infer_shape=_bl_shape, forward=_bl_forward, dtypes="float",
    reference=_bl_ref, samples=_bl_samples, gradient=_bl_grad, grad_inputs=(0,),
    bad_samples=lambda: [
        BadSample([np.ones((2, 3, 4), np.float32)], dict(height=2, width=2),
                  match=("4-d", "(2, 3, 4)")),
        BadSample([np.ones((1, 1, 4, 4), np.float32)], dict(scale_height=2.0),
                  match=("scale_width", "None")),
        BadSample([np.ones((1, 1, 1, 4), np.float32)], dict(mode="to_even_down"),
                  match=("empty", "(0, 4)"))],
    doc="Bilinear resizing of NCHW data to a size chosen by `mode` (see "
        "core/ops/contrib_resize.py), corners aligned by default."))


def _bbl_shape(a, shapes):
    g, d = _nchw(shapes[0], "ograd"), _nchw(shapes[1])
    if g[:2] != d[:2]:
        fail("ograd", "shape %s does not match the data's batch and channels %s", g, d)
    return [d]


def _bbl_forward(xp, a, ins, outs):
    g, x = ins
    ah = xp.asarray(_matrix(x.shape[2], g.shape[2], a.align_corners, g.dtype))
    aw = xp.asarray(_matrix(x.shape[3], g.shape[3], a.align_corners, g.dtype))
    outs[0][...] = xp.matmul(xp.matmul(ah.T, g), aw)


def _bbl_ref(a, g, x):
    """Scatter each output gradient to the four source pixels, one at a time."""
    out = np.zeros(x.shape, np.float64)
    for i in range(g.shape[2]):
        y0, y1, ly = _ref_source(i, x.shape[2], g.shape[2], a.align_corners)
        for j in range(g.shape[3]):
            x0, x1, lx = _ref_source(j, x.shape[3], g.shape[3], a.align_corners)
            gi = g[:, :, i, j].astype(np.float64)
            out[:, :, y0, x0] += (1 - ly) * (1 - lx) * gi
            out[:, :, y0, x1] += (1 - ly) * lx * gi
            out[:, :, y1, x0] += ly * (1 - lx) * gi
            out[:, :, y1, x1] += ly * lx * gi
    return out.astype(x.dtype)


register(OpDef(
    "_backward_contrib_BilinearResize2D", inputs=("ograd", "data"),
    params={"align_corners": _BL_PARAMS["align_corners"]}, infer_shape=_bbl_shape,
    infer_type=lambda a, t: [t[1]], forward=_bbl_forward, dtypes="float", nondiff=True,
    reference=_bbl_ref,
    samples=lambda dt: [Sample([values((2, 3, 3, 7), dt), values((2, 3, 5, 4), dt, seed=1)]),
                        Sample([values((1, 2, 1, 1), dt), values((1, 2, 2, 3), dt, seed=1)]),
                        Sample([values((1, 2, 4, 2), dt), values((1, 2, 3, 5), dt, seed=1)],
                               dict(align_corners=False))],
    bad_samples=lambda: [BadSample([np.ones((2, 2, 3, 3), np.float32),
                                    np.ones((2, 3, 4, 4), np.float32)],
                                   match=("ograd", "(2, 2, 3, 3)"))],
    doc="Gradient of _contrib_BilinearResize2D w.r.t. its data (the output size is the "
        "gradient's)."))

from . import contrib_pool  # noqa: E402,F401  (_contrib_AdaptiveAvgPooling2D)
