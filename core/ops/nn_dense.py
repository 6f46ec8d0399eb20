"""FullyConnected (MXNet's fully_connected-inl.h): out = data . weight^T + bias.

weight has shape (num_hidden, in_units).  flatten=True (the default) collapses every axis
after the first, so (N, a, b) -> (N, num_hidden) with in_units = a*b; flatten=False applies
the layer to the LAST axis only, so (a, b, in_units) -> (a, b, num_hidden).  With
no_bias=True the op takes two inputs (data, weight), see OpDef.inputs_fn.

The gradient is written with dot / reshape / sum, so it is itself differentiable.
"""
import numpy as np

from ..base import fail
from .grad_utils import need, shape_of
from .params import Param, positive
from .registry import BadSample, OpDef, Sample, register
from .sampling import values
from .shape_rules import check_bias_count

_PARAMS = {
    "num_hidden": Param("int", doc="Number of hidden units (rows of weight).", check=positive),
    "no_bias": Param("bool", False, doc="Whether to leave out the bias input."),
    "flatten": Param("bool", True, doc="Collapse all axes after the first (True) or apply the "
                                       "layer to the last axis only (False)."),
}


def _names(attrs):
    return ("data", "weight") if attrs.no_bias else ("data", "weight", "bias")


def _in_units(attrs, ds):
    if attrs.flatten:
        n = 1
        for d in ds[1:]:
            n *= d
        return n
    return ds[-1]


def _shape(attrs, shapes):
    check_bias_count(_names(attrs), shapes, attrs.no_bias)
    ds, ws = tuple(shapes[0]), tuple(shapes[1])
    if len(ds) < 1:
        fail("data", "data must have at least 1 dimension, got shape %s", ds)
    h = attrs.num_hidden
    k = _in_units(attrs, ds)
    if ws != (h, k):
        fail("weight", "weight has shape %s, expected (num_hidden, in_units) = %s for data of "
             "shape %s (flatten=%s)", ws, (h, k), ds, attrs.flatten)
    if not attrs.no_bias and tuple(shapes[2]) != (h,):
        fail("bias", "bias has shape %s, expected (num_hidden,) = %s", tuple(shapes[2]), (h,))
    out = (ds[0], h) if attrs.flatten else ds[:-1] + (h,)
    return [out]


def _forward(xp, attrs, ins, outs):
    x, w = ins[0], ins[1]
    k = w.shape[1]
    out = outs[0]
    x2 = x.reshape(-1, k)
    o2 = out.reshape(-1, attrs.num_hidden)
    xp.matmul(x2, w.T, out=o2)
    if not attrs.no_bias:
        o2 += ins[2]


def _reference(attrs, x, w, b=None):
    x2 = x.astype(np.float64).reshape(-1, w.shape[1])
    r = np.einsum("nk,hk->nh", x2, w.astype(np.float64))
    if b is not None:
        r = r + b
    shp = (x.shape[0], attrs.num_hidden) if attrs.flatten else x.shape[:-1] + (attrs.num_hidden,)
    return r.reshape(shp).astype(x.dtype)


def _gradient(F, attrs, inputs, outputs, out_grads, needed=None):
    x, w = inputs[0], inputs[1]
    g = out_grads[0]
    h = attrs.num_hidden
    xs = shape_of(x)
    flat2d = xs is not None and len(xs) == 2  # already the matrix the forward multiplied
    if attrs.flatten:
        x2 = x if flat2d else F.reshape(x, shape=(0, -1))
        g2 = g
    else:
        ws = shape_of(w)
        x2 = (F.reshape(x, shape=(-1, ws[1])) if ws is not None
              else F.reshape(x, shape=(-1, 0), reverse=True))
        g2 = F.reshape(g, shape=(-1, h))
    dx = None
    if need(needed, 0):
        dx = F.dot(g2, w)
        if not (flat2d and attrs.flatten):
            dx = F.reshape_like(dx, x)
    dw = F.dot(g2, x2, transpose_a=True) if need(needed, 1) else None
    grads = [dx, dw]
    if not attrs.no_bias and need(needed, 2):
        grads.append(F.sum(g2, axis=0))
    return grads


def _samples(dtype):
    v = values
    cases = [((3, 4), 5, {}), ((2, 3, 2), 4, {}), ((2, 3, 4), 3, {"flatten": False}),
             ((4, 6), 2, {"no_bias": True}), ((3,), 2, {"flatten": False}),
             ((1, 1), 1, {}), ((2, 2, 3), 2, {"flatten": False, "no_bias": True})]
    out = []
    for i, (ds, h, at) in enumerate(cases):
        at = dict(at, num_hidden=h)
        k = int(np.prod(ds[1:])) if at.get("flatten", True) else ds[-1]
        ins = [v(ds, dtype, seed=i), v((h, k), dtype, seed=i + 20)]
        if not at.get("no_bias"):
            ins.append(v((h,), dtype, seed=i + 40))
        out.append(Sample(ins, at))
    return out


def _bad():
    f = np.ones
    return [BadSample([f((2, 3)), f((4, 2)), f((4,))], {"num_hidden": 4},
                      match=("weight", "(4, 2)", "(4, 3)")),
            BadSample([f((2, 3)), f((4, 3)), f((5,))], {"num_hidden": 4},
                      match=("bias", "(5,)")),
            BadSample([f((2, 3)), f((4, 3)), f((4,))], {"num_hidden": 4, "no_bias": True},
                      match=("bias", "no_bias")),
            BadSample([f((2, 3)), f((4, 3))], {"num_hidden": 4}, match=("input", "bias")),
            BadSample([f((2, 3)), f((4, 3))], {"num_hidden": 0}, match=("num_hidden",))]


register(OpDef(
    "FullyConnected", inputs=("data", "weight", "bias"), inputs_fn=_names, params=_PARAMS,
    infer_shape=_shape, forward=_forward, dtypes="float", reference=_reference,
    samples=_samples, bad_samples=_bad, gradient=_gradient, grad_mask=True, tol=None,
    doc="Fully connected layer: out = data . weight^T + bias with weight of shape "
        "(num_hidden, in_units).  flatten=True collapses all axes after the first; "
        "flatten=False applies the layer to the last axis.  no_bias=True takes no bias input."))
