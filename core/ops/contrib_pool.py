"""`_contrib_AdaptiveAvgPooling2D` (MXNet 1.9's contrib/adaptive_avg_pooling): the average
over adaptive windows of NCHW data, and its hidden backward op.

Output cell i along an axis of length n -> m averages the input rows floor(i * n / m) ..
ceil((i + 1) * n / m) - 1 (windows may overlap when m does not divide n).  The average is
separable: the kernels average along W, then along H (one reshape when m divides n).
output_size: () -> 1 x 1, k or (k,) -> k x k, (h, w).
"""
import numpy as np

from ..base import fail
from .contrib_resize import _nchw
from .params import Param
from .registry import BadSample, OpDef, Sample, register
from .sampling import values


def out_hw(a):
    s = tuple(a.output_size)
    if len(s) > 2:
        fail("output_size", "must be one value or (height, width), got %s", s)
    s = (1, 1) if not s else (s * 2 if len(s) == 1 else s)
    if min(s) <= 0:
        fail("output_size", "must be positive, got %s", tuple(a.output_size))
    return s


def windows(n, m):
    """[(start, end)] of the m adaptive windows over n rows."""
    return [((i * n) // m, -((-(i + 1) * n) // m)) for i in range(m)]


def _shape(a, shapes):
    d = _nchw(shapes[0])
    return [d[:2] + out_hw(a)]


def _avg_axis(xp, x, m, axis):
    """Average x over the m adaptive windows along `axis` (-1 or -2)."""
    n = x.shape[axis]
    if n % m == 0:
        k = n // m
        if axis == -1:
            return x.reshape(x.shape[:-1] + (m, k)).mean(axis=-1)
        return x.reshape(x.shape[:-2] + (m, k, x.shape[-1])).mean(axis=-2)
    parts = [(x[..., s:e] if axis == -1 else x[..., s:e, :]).mean(axis=axis, keepdims=True)
             for s, e in windows(n, m)]
    return xp.concatenate(parts, axis=axis)


def _forward(xp, a, ins, outs):
    oh, ow = out_hw(a)
    outs[0][...] = _avg_axis(xp, _avg_axis(xp, ins[0], ow, -1), oh, -2)


def _ref_windows(n, m):
    """The windows again, from the floor/ceil formula (the references' own copy)."""
    return [(int(np.floor(i * n / m)), int(np.ceil((i + 1) * n / m))) for i in range(m)]


def _ref(a, x):
    oh, ow = out_hw(a)
    out = np.empty(x.shape[:2] + (oh, ow), np.float64)
    for i, (hs, he) in enumerate(_ref_windows(x.shape[2], oh)):
        for j, (ws, we) in enumerate(_ref_windows(x.shape[3], ow)):
            out[:, :, i, j] = x[:, :, hs:he, ws:we].astype(np.float64).mean(axis=(2, 3))
    return out.astype(x.dtype)


def _samples(dtype):
    x = values((2, 3, 5, 7), dtype)
    out = [Sample([values((1, 2, 3, 4), dtype, seed=1)], {"output_size": (2, 3)}),
           Sample([values((1, 1, 4, 6), dtype, seed=2)], {"output_size": (2, 3)})]
    out += [Sample([x], {"output_size": s}) for s in (1, (), 3, (2, 3), (7, 9), (5, 7), (2,),
                                                      (4, 6))]
    return out


register(OpDef(
    "_contrib_AdaptiveAvgPooling2D",
    params={"output_size": Param("shape", (), doc="Output size: one value or (height, "
                                 "width); () is 1 x 1.")},
    infer_shape=_shape, forward=_forward, dtypes="float", reference=_ref, samples=_samples,
    gradient=lambda F, a, ins, outs, g: [F._backward_contrib_AdaptiveAvgPooling2D(
        g[0], ins[0], output_size=a.output_size)],
    bad_samples=lambda: [
        BadSample([np.ones((2, 3, 4), np.float32)], {"output_size": 2},
                  match=("4-d", "(2, 3, 4)")),
        BadSample([np.ones((1, 1, 4, 4), np.float32)], {"output_size": (1, 2, 3)},
                  match=("output_size", "(1, 2, 3)")),
        BadSample([np.ones((1, 1, 4, 4), np.float32)], {"output_size": 0},
                  match=("output_size", "positive"))],
    doc="Average pooling of NCHW data to a fixed output size (adaptive windows)."))


def _spread_axis(xp, g, n, axis):
    """Transpose of _avg_axis: each cell's gradient / window size over its window."""
    m = g.shape[axis]
    if n % m == 0:
        return xp.repeat(g / (n // m), n // m, axis=axis)
    shape = list(g.shape)
    shape[axis] = n
    out = xp.zeros(tuple(shape), g.dtype)
    for i, (s, e) in enumerate(windows(n, m)):
        if axis == -1:
            out[..., s:e] += g[..., i:i + 1] / (e - s)
        else:
            out[..., s:e, :] += g[..., i:i + 1, :] / (e - s)
    return out


def _bwd_shape(a, shapes):
    g, d = _nchw(shapes[0], "ograd"), _nchw(shapes[1])
    if g != d[:2] + out_hw(a):
        fail("ograd", "shape %s does not match the output shape %s", g, d[:2] + out_hw(a))
    return [d]


def _bwd_forward(xp, a, ins, outs):
    g, x = ins
    outs[0][...] = _spread_axis(xp, _spread_axis(xp, g, x.shape[2], -2), x.shape[3], -1)


def _bwd_ref(a, g, x):
    out = np.zeros(x.shape, np.float64)
    oh, ow = out_hw(a)
    for i, (hs, he) in enumerate(_ref_windows(x.shape[2], oh)):
        for j, (ws, we) in enumerate(_ref_windows(x.shape[3], ow)):
            out[:, :, hs:he, ws:we] += (g[:, :, i, j].astype(np.float64)
                                        / ((he - hs) * (we - ws)))[:, :, None, None]
    return out.astype(x.dtype)


register(OpDef(
    "_backward_contrib_AdaptiveAvgPooling2D", inputs=("ograd", "data"),
    params={"output_size": Param("shape", (), doc="The forward's output_size.")},
    infer_shape=_bwd_shape, infer_type=lambda a, t: [t[1]], forward=_bwd_forward,
    dtypes="float", nondiff=True, reference=_bwd_ref,
    samples=lambda dt: [Sample([values((2, 3, 2, 3), dt), values((2, 3, 5, 7), dt, seed=1)],
                               {"output_size": (2, 3)}),
                        Sample([values((1, 2, 7, 9), dt), values((1, 2, 5, 7), dt, seed=1)],
                               {"output_size": (7, 9)}),
                        Sample([values((1, 2, 2, 2), dt), values((1, 2, 4, 6), dt, seed=1)],
                               {"output_size": 2})],
    bad_samples=lambda: [BadSample([np.ones((2, 3, 3, 3), np.float32),
                                    np.ones((2, 3, 5, 7), np.float32)], {"output_size": 2},
                                   match=("ograd", "(2, 3, 3, 3)"))],
    doc="Gradient of _contrib_AdaptiveAvgPooling2D w.r.t. its data."))
