"""Convolution and Deconvolution (MXNet's convolution-inl.h / deconvolution-inl.h), with
the hidden backward ops their gradients use.

Layout is channel-first only (NCW, NCHW, NCDHW; 1-3 spatial axes).  Convolution's weight is
(num_filter, C/num_group, *kernel); Deconvolution's is (C, num_filter/num_group, *kernel)
(MXNet's layout: Deconvolution is the data gradient of a Convolution whose num_filter is C).
stride/dilate/pad given as () mean 1/1/0 on every axis.  workspace, cudnn_tune and cudnn_off
are accepted and ignored.

Gradients (so that the backward is itself differentiable):
    Convolution:  d data   = _backward_Convolution_data(dy, weight, data)
                  d weight = _backward_Convolution_weight(dy, data, weight)
                  d bias   = sum(dy) over every axis but 1
    _backward_Convolution_data(dy, w) is linear in dy and in w; its adjoints are
    Convolution(h, w) and _backward_Convolution_weight(dy, h); likewise for the weight op.
    Deconvolution: d data = Convolution(dy, weight), d weight =
    _backward_Convolution_weight(data, dy) with the Convolution's view of the geometry.
"""
import numpy as np

from ..base import fail
from . import nn_conv_impl as impl
from .grad_utils import need
from .params import Param, non_negative, positive
from .registry import BadSample, OpDef, Sample, register
from .sampling import values
from .shape_rules import check_bias_count

def _all(pred, msg):
    return lambda v: None if all(pred(a) for a in v) else msg


def _geom_params(deconv):
    ps = {
        "kernel": Param("shape", doc="Kernel size: (w,), (h, w) or (d, h, w).",
                        check=_all(lambda a: a > 0, "kernel sizes must be > 0")),
        "stride": Param("shape", (), doc="Stride per spatial axis; () means 1.",
                        check=_all(lambda a: a > 0, "strides must be > 0")),
        "dilate": Param("shape", (), doc="Dilation per spatial axis; () means 1.",
                        check=_all(lambda a: a > 0, "dilations must be > 0")),
        "pad": Param("shape", (), doc="Zero padding per spatial axis (both sides); () means 0.",
                     check=_all(lambda a: a >= 0, "pads must be >= 0")),
    }
    if deconv:
        ps["adj"] = Param("shape", (), doc="Extra output size at the end of each axis.",
                          check=_all(lambda a: a >= 0, "adj must be >= 0"))
        ps["target_shape"] = Param("shape", (), doc="Output spatial shape; overrides pad/adj.",
                                   check=_all(lambda a: a >= 0, "target_shape must be >= 0"))
    ps.update({
        "num_filter": Param("int", doc="Number of output channels.", check=positive),
        "num_group": Param("int", 1, doc="Number of groups.", check=positive),
        "workspace": Param("int", 512 if deconv else 1024, doc="Ignored (MXNet's scratch "
                           "space limit in MB).", check=non_negative),
        "no_bias": Param("bool", bool(deconv), doc="Whether to leave out the bias input."),
        "cudnn_tune": Param("str", None, choices=("fastest", "limited_workspace", "off"),
                            doc="Ignored."),
        "cudnn_off": Param("bool", False, doc="Ignored."),
        "layout": Param("str", None, choices=("NCDHW", "NCHW", "NCW", "NDHWC", "NHWC")
                        + (() if deconv else ("NWC",)),
                        doc="Data layout; only channel-first layouts are implemented."),
    })
    return ps


CONV_PARAMS = _geom_params(False)
DECONV_PARAMS = _geom_params(True)


def _names(attrs):
    return ("data", "weight") if attrs.no_bias else ("data", "weight", "bias")


def _check_geometry(attrs, ds, what="data"):
    """Validate rank/layout/tuple lengths; returns (nd, kernel, stride, dilate, pad)."""
    nd = len(attrs.kernel)
    if nd not in (1, 2, 3):
        fail("kernel", "kernel must have 1, 2 or 3 dimensions, got %s", attrs.kernel)
    if len(ds) != nd + 2:
        fail(what, "%s must be %d-d (%s) for a %d-d kernel %s, got shape %s", what, nd + 2,
             impl.LAYOUTS[nd], nd, attrs.kernel, ds)
    if attrs.layout is not None and attrs.layout != impl.LAYOUTS[nd]:
        fail("layout", "layout %s is not supported: only %s (channel-first) is implemented "
             "for %d-d %s", attrs.layout, impl.LAYOUTS[nd], nd + 2, what)
    for name in ("stride", "dilate", "pad") + (("adj", "target_shape") if "adj" in attrs else ()):
        v = attrs[name]
        if v and len(v) != nd:
            fail(name, "%s %s must have %d entries, like kernel %s", name, v, nd, attrs.kernel)
    return (nd,) + impl.geometry(attrs, nd)


def _check_bias(attrs, shapes, nf):
    check_bias_count(_names(attrs), shapes, attrs.no_bias)
    if not attrs.no_bias and tuple(shapes[2]) != (nf,):
        fail("bias", "bias has shape %s, expected (num_filter,) = %s", tuple(shapes[2]), (nf,))


def _conv_out(attrs, ds, ws=None):
    """Check data (and weight) of a Convolution; returns the output shape."""
    nd, k, s, d, p = _check_geometry(attrs, ds)
    C, F, G = ds[1], attrs.num_filter, attrs.num_group
    impl.check_groups(ds, F, G)
    wshape = (F, C // G) + k
    if ws is not None and tuple(ws) != wshape:
        fail("weight", "weight has shape %s, expected (num_filter, C/num_group, *kernel) = %s "
             "for data of shape %s", tuple(ws), wshape, ds)
    for i in range(nd):
        dk = d[i] * (k[i] - 1) + 1
        if dk > ds[2 + i] + 2 * p[i]:
            fail("kernel", "kernel %s (dilated size %d) is larger than the padded input "
                 "(size %d on spatial axis %d of data %s with pad %s)", k, dk,
                 ds[2 + i] + 2 * p[i], i, ds, p)
    return (ds[0], F) + impl.out_size(ds[2:], k, s, d, p), wshape


def bias_shape_rule(out_fn):
    """The shape rule of (data, weight[, bias]) -> out_fn(attrs, data, weight)[0]."""
    def rule(attrs, shapes):
        out, _ = out_fn(attrs, tuple(shapes[0]), tuple(shapes[1]))
        _check_bias(attrs, shapes, attrs.num_filter)
        return [out]
    rule.bad_shapes = [[(1, 2, 5, 5), (3, 3, 3, 3), (3,)]]
    return rule


_conv_shape = bias_shape_rule(_conv_out)


def _conv_forward(xp, attrs, ins, outs):
    x, w = ins[0], ins[1]
    nd, k, s, d, p = _check_geometry(attrs, x.shape)
    impl.conv_forward(xp, x, w, None if attrs.no_bias else ins[2], k, s, d, p,
                      attrs.num_group, outs[0])


# -- references: direct loops over output positions and kernel offsets -------------------------
def _ref_geom(attrs, x):
    nd = x.ndim - 2
    k, s, d, p = impl.geometry(attrs, nd)
    xp_ = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + [(a, a) for a in p])
    return nd, k, s, d, p, xp_


def ref_conv(attrs, x, w, b=None):
    nd, k, s, d, p, xpad = _ref_geom(attrs, x)
    G = attrs.num_group
    N, C = x.shape[:2]
    F = w.shape[0]
    osp = impl.out_size(x.shape[2:], k, s, d, p)
    out = np.zeros((N, F) + osp)
    Cg, Fg = C // G, F // G
    for o in np.ndindex(*osp):
        for kk in np.ndindex(*k):
            idx = tuple(oo * ss + ki * dd for oo, ss, ki, dd in zip(o, s, kk, d))
            for g in range(G):
                xv = xpad[(slice(None), slice(g * Cg, (g + 1) * Cg)) + idx]       # (N, Cg)
                wv = w[(slice(g * Fg, (g + 1) * Fg), slice(None)) + kk]          # (Fg, Cg)
                out[(slice(None), slice(g * Fg, (g + 1) * Fg)) + o] += xv @ wv.T
    if b is not None:
        out += b.reshape((1, F) + (1,) * nd)
    return out.astype(x.dtype)


def ref_data_grad(attrs, dy, w, in_sp, dtype):
    nd = dy.ndim - 2
    k, s, d, p = impl.geometry(attrs, nd)
    G = attrs.num_group
    N, F = dy.shape[:2]
    Cg = w.shape[1]
    Fg = F // G
    dxp = np.zeros((N, Cg * G) + tuple(i + 2 * a for i, a in zip(in_sp, p)))
    for o in np.ndindex(*dy.shape[2:]):
        for kk in np.ndindex(*k):
            idx = tuple(oo * ss + ki * dd for oo, ss, ki, dd in zip(o, s, kk, d))
            for g in range(G):
                gy = dy[(slice(None), slice(g * Fg, (g + 1) * Fg)) + o]          # (N, Fg)
                wv = w[(slice(g * Fg, (g + 1) * Fg), slice(None)) + kk]          # (Fg, Cg)
                dxp[(slice(None), slice(g * Cg, (g + 1) * Cg)) + idx] += gy @ wv
    crop = tuple(slice(a, a + i) for a, i in zip(p, in_sp))
    return dxp[(slice(None), slice(None)) + crop].astype(dtype)


def ref_weight_grad(attrs, dy, x, wshape):
    nd, k, s, d, p, xpad = _ref_geom(attrs, x)
    G = attrs.num_group
    F = dy.shape[1]
    Cg, Fg = wshape[1], F // G
    dw = np.zeros(wshape)
    for o in np.ndindex(*dy.shape[2:]):
        for kk in np.ndindex(*k):
            idx = tuple(oo * ss + ki * dd for oo, ss, ki, dd in zip(o, s, kk, d))
            for g in range(G):
                gy = dy[(slice(None), slice(g * Fg, (g + 1) * Fg)) + o]
                xv = xpad[(slice(None), slice(g * Cg, (g + 1) * Cg)) + idx]
                dw[(slice(g * Fg, (g + 1) * Fg), slice(None)) + kk] += gy.T @ xv
    return dw.astype(x.dtype)


# -- samples -------------------------------------------------------------------------------------
_CASES = [  # (data shape, num_filter, kernel, extra attrs)
    ((1, 2, 4, 4), 2, (3, 3), {"pad": (1, 1)}),
    ((2, 2, 5), 3, (2,), {"stride": (2,)}),
    ((1, 4, 5, 5), 2, (2, 2), {"num_group": 2, "stride": (2, 1), "no_bias": True}),
    ((1, 1, 3, 3, 3), 2, (2, 2, 2), {"dilate": (1, 1, 1)}),
    ((2, 3, 6, 6), 4, (3, 3), {"stride": (2, 2), "pad": (1, 0), "dilate": (1, 2)}),
    ((1, 2, 7), 2, (3,), {"dilate": (2,), "pad": (2,), "layout": "NCW",
                          "cudnn_tune": "fastest", "workspace": 64}),
    ((2, 6, 5, 4), 4, (1, 3), {"num_group": 2}),
]


def geom_samples(cases, weight_shape, has_bias):
    """Samples (data, weight[, bias]) of `cases` (data shape, num_filter, kernel, attrs);
    weight_shape(data shape, num_filter, num_group, kernel), has_bias(attrs)."""
    def gen(dtype):
        out = []
        for i, (ds, nf, k, at) in enumerate(cases):
            at = dict(at, kernel=k, num_filter=nf)
            G = at.get("num_group", 1)
            ins = [values(ds, dtype, seed=i),
                   values(weight_shape(ds, nf, G, k), dtype, seed=i + 30)]
            if has_bias(at):
                ins.append(values((nf,), dtype, seed=i + 60))
            out.append(Sample(ins, at))
        return out
    return gen


conv_samples = geom_samples(_CASES, lambda ds, nf, G, k: (nf, ds[1] // G) + k,
                            lambda at: not at.get("no_bias"))


def _conv_bad():
    f = np.ones
    k = {"kernel": (3, 3), "num_filter": 2}
    return [
        BadSample([f((1, 2, 2, 2)), f((2, 2, 3, 3)), f((2,))], k,
                  match=("kernel", "larger than the padded input", "(1, 2, 2, 2)")),
        BadSample([f((1, 3, 5, 5)), f((2, 1, 3, 3)), f((2,))], dict(k, num_group=2),
                  match=("num_group", "3 channels")),
        BadSample([f((1, 2, 5, 5)), f((2, 3, 3, 3)), f((2,))], k,
                  match=("weight", "(2, 3, 3, 3)", "(2, 2, 3, 3)")),
        BadSample([f((2, 5, 5)), f((2, 2, 3, 3)), f((2,))], k,
                  match=("data", "4-d", "(2, 5, 5)")),
        BadSample([f((1, 2, 5, 5)), f((2, 2, 3, 3)), f((2,))], dict(k, layout="NHWC"),
                  match=("layout", "NHWC", "NCHW")),
        BadSample([f((1, 2, 5, 5)), f((2, 2, 3, 3)), f((2,))], dict(k, stride=(1, 1, 1)),
                  match=("stride", "2 entries")),
        BadSample([f((1, 2, 5, 5)), f((2, 2, 3, 3)), f((2,))], dict(k, stride=(0, 1)),
                  match=("stride", "> 0")),
        BadSample([f((1, 2, 5, 5)), f((2, 2, 3, 3)), f((3,))], k, match=("bias", "(3,)")),
        BadSample([f((1, 2, 5, 5)), f((2, 2, 3, 3))], k, match=("input", "bias")),
    ]


def _conv_kwargs(attrs, **over):
    kw = {n: attrs[n] for n in CONV_PARAMS if n in attrs}
    kw.update(over)
    return kw


def _bias_axes(attrs):
    return (0,) + tuple(range(2, 2 + len(attrs.kernel)))


def _conv_grad(F, attrs, inputs, outputs, out_grads, needed=None):
    x, w = inputs[0], inputs[1]
    g = out_grads[0]
    kw = _conv_kwargs(attrs)
    grads = [F._backward_Convolution_data(g, w, x, **kw) if need(needed, 0) else None,
             F._backward_Convolution_weight(g, x, w, **kw) if need(needed, 1) else None]
    if not attrs.no_bias and need(needed, 2):
        grads.append(F.sum(g, axis=_bias_axes(attrs)))
    return grads


register(OpDef(
    "Convolution", inputs=("data", "weight", "bias"), inputs_fn=_names, params=CONV_PARAMS,
    infer_shape=_conv_shape, forward=_conv_forward, dtypes="float", reference=ref_conv,
    samples=conv_samples, bad_samples=_conv_bad, gradient=_conv_grad, grad_mask=True,
    doc="Convolution (cross-correlation) over 1, 2 or 3 spatial axes of channel-first data "
        "(N, C, *spatial) with a weight of shape (num_filter, C/num_group, *kernel), plus a "
        "bias of shape (num_filter,) unless no_bias.  Output spatial size: "
        "floor((x + 2*pad - dilate*(kernel-1) - 1) / stride) + 1."))


# -- hidden backward ops ------------------------------------------------------------------------
def _backward_shape(names, result):
    """Shape rule of a backward op over (out_grad, *names): the input named `result`'s."""
    def rule(attrs, shapes):
        if len(shapes) != 3:
            fail("input", "expected 3 inputs (out_grad, %s), got %d", ", ".join(names),
                 len(shapes))
        gs = tuple(shapes[0])
        named = dict(zip(names, (tuple(s) for s in shapes[1:])))
        out, _ = _conv_out(attrs, named["data"], named["weight"])
        if gs != out:
            fail("out_grad", "out_grad has shape %s, the Convolution's output has shape %s", gs,
                 out)
        return [named[result]]
    return rule


_bd_shape = _backward_shape(("weight", "data"), "data")


def _bd_forward(xp, attrs, ins, outs):
    g, w, x = ins
    nd, k, s, d, p = _check_geometry(attrs, x.shape)
    impl.conv_data_grad_into(xp, g, w, k, s, d, p, attrs.num_group, outs[0])


def _bd_ref(attrs, g, w, x):
    return ref_data_grad(attrs, g, w, x.shape[2:], x.dtype)


_bw_shape = _backward_shape(("data", "weight"), "weight")


def _bw_forward(xp, attrs, ins, outs):
    g, x, w = ins
    nd, k, s, d, p = _check_geometry(attrs, x.shape)
    outs[0][...] = impl.conv_weight_grad(xp, g, x, w.shape, k, s, d, p, attrs.num_group)


def _bw_ref(attrs, g, x, w):
    return ref_weight_grad(attrs, g, x, w.shape)


def conv_no_bias(F, x, w, kw):
    """F.Convolution(x, w) without a bias.  mx.nd.Convolution cannot be called with 2 inputs
    yet (ndarray/api.py insists on every name in OpDef.inputs), so this passes a zero bias
    built from w (shape (num_filter,), w's dtype; works for symbols too)."""
    zb = F.sum(F.zeros_like(w), axis=tuple(range(1, 2 + len(kw["kernel"]))))
    return F.Convolution(x, w, zb, **dict(kw, no_bias=False))


def _bd_grad(F, attrs, inputs, outputs, out_grads):
    g, w, x = inputs
    h = out_grads[0]
    kw = _conv_kwargs(attrs)
    return [conv_no_bias(F, h, w, kw), F._backward_Convolution_weight(g, h, w, **kw), None]


def _bw_grad(F, attrs, inputs, outputs, out_grads):
    g, x, w = inputs
    h = out_grads[0]
    kw = _conv_kwargs(attrs)
    return [conv_no_bias(F, x, h, kw), F._backward_Convolution_data(g, h, x, **kw), None]


def _backward_samples(order):
    def gen(dtype):
        out = []
        for i, s in enumerate(conv_samples(dtype)):
            x, w = s.inputs[0], s.inputs[1]
            at = dict(s.attrs)
            osh = _conv_out(impl.parse_attrs_of("Convolution", at), x.shape)[0]
            g = values(osh, dtype, seed=i + 90)
            ins = {"data": [g, w, x], "weight": [g, x, w]}[order]
            out.append(Sample(ins, at))
        return out
    return gen


register(OpDef(
    "_backward_Convolution_data", inputs=("out_grad", "weight", "data"), params=CONV_PARAMS,
    infer_shape=_bd_shape, forward=_bd_forward, dtypes="float", reference=_bd_ref,
    samples=_backward_samples("data"), gradient=_bd_grad, grad_inputs=(0, 1),
    doc="Gradient of Convolution w.r.t. its data (col2im of weight^T . out_grad); `data` "
        "only gives the shape."))

register(OpDef(
    "_backward_Convolution_weight", inputs=("out_grad", "data", "weight"), params=CONV_PARAMS,
    infer_shape=_bw_shape, forward=_bw_forward, dtypes="float", reference=_bw_ref,
    samples=_backward_samples("weight"), gradient=_bw_grad, grad_inputs=(0, 1),
    doc="Gradient of Convolution w.r.t. its weight (out_grad . im2col(data)^T summed over "
        "the batch); `weight` only gives the shape."))



from . import nn_deconv  # noqa: E402,F401  (Deconvolution builds on the ops above)
