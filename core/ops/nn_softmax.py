"""Softmax (MXNet's src/operator/nn/softmax): softmax, log_softmax, softmin and
SoftmaxActivation, with gradients, and the softmax kernels the loss layers reuse
(imported by nn_act.py).

MXNet 1.9 semantics kept here (checked against MXNet 1.9.1):
- softmax's `length` input exists only with use_length=True (log_softmax and softmin have
  no length input); it must be an integer array shaped like data without `axis`; masked
  positions give 0 (a row of length 0 is all zeros); `dtype` sets the output dtype;
- SoftmaxActivation mode='instance' normalises over the last axis (MXNet flattens the
  input to 2-d keeping the last axis, so for n-d input it is not "per instance"),
  mode='channel' over axis 1 (input of rank >= 3); MXNet's instance-mode gradient on
  input of rank > 2 is not the derivative of its forward (plait's is).
"""
import numpy as np

from ..base import fail
from . import native, sampling
from .params import Param
from .registry import BadSample, OpDef, Sample, register
from .shape_rules import check_input_count, normalize_axis

_IGNORE = dict(all="ignore")


# -- softmax kernels ----------------------------------------------------------------------------
def softmax_xp(xp, x, axis, temperature=None, length=None, log=False):
    """softmax (or log_softmax) of x along `axis`; `length` masks positions >= length."""
    if temperature is not None and temperature != 1.0:
        x = x / x.dtype.type(temperature)
    mask = None
    with np.errstate(**_IGNORE):
        if length is not None:
            shape = [1] * x.ndim
            shape[axis] = x.shape[axis]
            pos = xp.arange(x.shape[axis]).reshape(shape)
            mask = pos < xp.expand_dims(length, axis)
            x = xp.where(mask, x, x.dtype.type(-np.inf))
        m = xp.max(x, axis=axis, keepdims=True) if x.size else x
        if mask is not None:
            m = xp.where(xp.isfinite(m), m, 0)
        z = x - m
        e = xp.exp(z)
        s = xp.sum(e, axis=axis, keepdims=True)
        r = z - xp.log(s) if log else e / s
        if mask is not None:
            r = xp.where(mask, r, 0)
    return r


def softmax_ref(x, axis, t=None, length=None, log=False):
    """Plain NumPy reference in float64 (a loop over the masked lengths)."""
    x = np.ascontiguousarray(np.moveaxis(x.astype(np.float64), axis, -1)) / (
        1.0 if t is None else t)
    out = np.zeros_like(x)
    flat, fo = x.reshape(-1, x.shape[-1]), out.reshape(-1, x.shape[-1])
    lens = (np.full(flat.shape[0], x.shape[-1]) if length is None
            else np.asarray(length).reshape(-1))
    for i, row in enumerate(flat):
        n = int(lens[i])
        if n <= 0:
            continue
        e = np.exp(row[:n] - row[:n].max())
        fo[i, :n] = (np.log(e / e.sum()) if log else e / e.sum())
    return np.moveaxis(out, -1, axis)


def _sm_names(attrs):
    return ("data", "length") if attrs.use_length else ("data",)


def _sm_shape(attrs, shapes):
    check_input_count(_sm_names(attrs), shapes, "use_length")
    d = shapes[0]
    ax = normalize_axis(attrs.axis, len(d))
    if len(shapes) > 1:
        want = d[:ax] + d[ax + 1:]
        if tuple(shapes[1]) != want:
            fail("length", "shape %s does not match data shape %s without axis %d (%s)",
                 tuple(shapes[1]), d, ax, want)
    return [d]


def _sm_type(attrs, types):
    if types[0].kind != "f":
        fail("data", "dtype %s is not supported (supported: float16, float32, float64)",
             types[0].name)
    if len(types) > 1 and types[1].kind not in "iu":
        fail("length", "the length input must be an integer array, got %s", types[1].name)
    return [attrs.dtype or types[0]]


def _sm_params():
    return {"axis": Param("int", -1, doc="The axis along which to compute softmax."),
         "temperature": Param("float", None, doc="Temperature parameter in softmax."),
         "dtype": Param("dtype", None, check=lambda v: None if v.kind == "f" else
                        "must be float16, float32 or float64",
                        doc="Output dtype (None: the input's dtype)."),
         "use_length": Param("bool", False, doc="Use the length input as a mask over data "
                                                "(softmax only).")}


def _sm_forward(kind):
    def fwd(xp, a, ins, outs):
        x = ins[0]
        ax = normalize_axis(a.axis, x.ndim)
        length = ins[1] if len(ins) > 1 else None
        if kind == "softmin":
            x = -x
        out = outs[0]
        if (length is None and ax == x.ndim - 1 and x.size and out.dtype == x.dtype
                and native.usable(xp, x, out)):
            t = a.temperature if a.temperature is not None else 1.0
            native.kernels().softmax_last_axis(x, out, t, kind == "log_softmax")
        elif length is None and out.dtype == x.dtype and out.flags.c_contiguous and x.size:
            _softmax_into(xp, x, ax, a.temperature, kind == "log_softmax", out)
        else:
            out[...] = softmax_xp(xp, x, ax, a.temperature, length, log=kind == "log_softmax")
    return fwd


def _softmax_into(xp, x, axis, temperature, log, out):
    """softmax_xp without a mask, written straight into `out` (same dtype as x): one
    temporary and four passes instead of three temporaries and a final copy."""
    with np.errstate(**_IGNORE):
        if temperature is not None and temperature != 1.0:
            x = x / x.dtype.type(temperature)
        z = x - xp.max(x, axis=axis, keepdims=True)
        xp.exp(z, out=out)
        s = xp.sum(out, axis=axis, keepdims=True)
        if log:
            xp.subtract(z, xp.log(s), out=out)
        else:
            out /= s


def _sm_reference(kind):
    def ref(a, x, length=None):
        ax = a.axis % x.ndim
        r = softmax_ref(-x if kind == "softmin" else x, ax, a.temperature, length,
                         log=kind == "log_softmax")
        return r.astype(a.dtype or x.dtype)
    return ref


def _cast_back(F, g, x, attrs):
    """Gradients go back in the input's dtype when `dtype` changed the output's."""
    dt = getattr(x, "dtype", None)
    if attrs.get("dtype") is not None and dt is not None and np.dtype(dt) != attrs.dtype:
        return F.cast(g, dtype=np.dtype(dt).name)
    return g


def _scale_t(g, attrs):
    t = attrs.temperature
    return g if t is None or t == 1.0 else g / t


def _sm_grad(kind):
    def grad(F, attrs, ins, outs, g):
        y, gy = outs[0], g[0]
        ax = attrs.axis
        if kind == "log_softmax":
            gx = F._backward_log_softmax(gy, y, axis=ax)
        else:
            gx = y * (gy - F.sum(gy * y, axis=ax, keepdims=True))
            if kind == "softmin":
                gx = -gx
        gx = _cast_back(F, _scale_t(gx, attrs), ins[0], attrs)
        return [gx] + [None] * (len(ins) - 1)
    return grad


def _sm_samples(kind):
    def gen(dtype):
        v = sampling.values
        out = [Sample([v((3, 4), dtype)]),
               Sample([v((2, 3, 4), dtype, seed=1)], {"axis": 1, "temperature": 2.0}),
               Sample([v((2, 3), dtype, -5, 5, seed=2)], {"axis": 0, "temperature": 0.5}),
               Sample([v((5,), dtype, seed=3)]),
               Sample([v((2, 1, 3), dtype, seed=4)], {"axis": -2}),
               Sample([v((2, 3), dtype, seed=5)], {"dtype": "float64"})]
        if kind == "softmax":
            out.append(Sample([v((3, 4), dtype, seed=6), np.array([1, 4, 0], np.int32)],
                              {"use_length": True}))
            out.append(Sample([v((2, 3, 4), dtype, seed=7),
                               np.array([[1, 2, 3, 4], [4, 3, 0, 1]], np.int64)],
                              {"use_length": True, "axis": 1}))
        return out
    return gen


def _sm_bad():
    x = np.ones((2, 3), np.float32)
    out = [BadSample([x], {"dtype": "int32"}, match=("dtype", "float")),
           BadSample([x], {"axis": -3}, match=("axis", "-3"))]
    return out


def _sm_bad_length():
    out = _sm_bad()
    x = np.ones((2, 3), np.float32)
    return out + [BadSample([x, np.ones((3,), np.int32)], {"use_length": True},
                            match=("length", "(3,)", "(2, 3)")),
                  BadSample([x, np.ones((2,), np.float32)], {"use_length": True},
                            match=("length", "integer")),
                  BadSample([x, np.ones((2,), np.int32)], {}, match=("use_length", "1 input")),
                  BadSample([x], {"use_length": True}, match=("2 input",))]


_SM_DOC = {
    "softmax": "Softmax along `axis`: exp(x / T) / sum(exp(x / T)); with use_length=True "
               "only the first length[i] positions of each slice take part (the rest are 0).",
    "log_softmax": "Log-softmax along `axis`: log(softmax(x / T)).",
    "softmin": "Softmin along `axis`: softmax(-x / T).",
}

for _kind in ("softmax", "log_softmax", "softmin"):
    _len = _kind == "softmax"
    _io = (dict(inputs=("data", "length"), inputs_fn=_sm_names) if _len
           else dict(inputs=("data",)))
    register(OpDef(
        _kind, params=_sm_params(), infer_shape=_sm_shape, infer_type=_sm_type,
        forward=_sm_forward(_kind), dtypes=("float16", "float32", "float64") + (
            ("uint8", "int32", "int64") if _len else ()),
        reference=_sm_reference(_kind), samples=_sm_samples(_kind),
        bad_samples=_sm_bad_length if _len else _sm_bad, gradient=_sm_grad(_kind),
        grad_inputs=(0,), doc=_SM_DOC[_kind], **_io))


# -- log_softmax's gradient as one op (one fused pass instead of exp, sum, mul, sub) --------
def _lsb_forward(xp, a, ins, outs):
    gy, y = ins
    ax = normalize_axis(a.axis, y.ndim)
    if ax == y.ndim - 1 and y.size and native.usable(xp, gy, y, outs[0]):
        native.kernels().log_softmax_backward_last_axis(gy, y, outs[0])
        return
    with np.errstate(**_IGNORE):
        outs[0][...] = gy - xp.exp(y) * xp.sum(gy, axis=ax, keepdims=True)


def _lsb_shape(attrs, shapes):
    if tuple(shapes[0]) != tuple(shapes[1]):
        fail("ograd", "shape %s does not match the output's shape %s", tuple(shapes[0]),
             tuple(shapes[1]))
    normalize_axis(attrs.axis, len(shapes[1]))
    return [shapes[1]]


def _lsb_ref(a, gy, y):
    g, p = gy.astype(np.float64), np.exp(y.astype(np.float64))
    ax = a.axis % y.ndim
    out = np.empty_like(g)
    for i in np.ndindex(*(y.shape[:ax] + y.shape[ax + 1:])):
        sl = i[:ax] + (slice(None),) + i[ax:]
        out[sl] = g[sl] - p[sl] * g[sl].sum()
    return out.astype(y.dtype)


def _lsb_grad(F, attrs, ins, outs, g):
    """gx = gy - p S (p = exp(y), S = sum(gy)): d/dgy = u - sum(u p); d/dy = -u p S."""
    gy, y = ins
    u, ax = g[0], attrs.axis
    p = F.exp(y)
    return [u - F.sum(u * p, axis=ax, keepdims=True),
            -(u * p) * F.sum(gy, axis=ax, keepdims=True)]


def _lsb_samples(dtype):
    v = sampling.values
    out = []
    for k, (shape, axis) in enumerate([((3, 4), -1), ((2, 3, 5), 1), ((1,), 0), ((4, 1), -1),
                                      ((2, 3, 7), -1)]):
        y = softmax_ref(v(shape, dtype, seed=k), axis % len(shape), log=True).astype(dtype)
        out.append(Sample([v(shape, dtype, seed=10 + k), y], {"axis": axis}))
    return out


register(OpDef(
    "_backward_log_softmax", inputs=("ograd", "output"), params={"axis": Param(
        "int", -1, doc="The softmax axis.")}, infer_shape=_lsb_shape, forward=_lsb_forward,
    dtypes=("float16", "float32", "float64"), inplace=[(0, 0)], reference=_lsb_ref,
    samples=_lsb_samples, gradient=_lsb_grad,
    bad_samples=lambda: [BadSample([np.ones((2, 3), np.float32), np.ones((3, 2), np.float32)],
                                   {}, match=("ograd", "(2, 3)", "(3, 2)"))],
    doc="log_softmax's gradient from its output y and the head gradient gy: "
        "gy - exp(y) * sum(gy) along `axis`."))


# -- SoftmaxActivation ---------------------------------------------------------------------------
def _sact_forward(xp, a, ins, outs):
    x = ins[0]
    outs[0][...] = softmax_xp(xp, x, 1 if a.mode == "channel" else x.ndim - 1)


def _sact_shape(attrs, shapes):
    d = shapes[0]
    if attrs.mode == "channel" and len(d) < 3:
        fail("data", "mode='channel' needs an input of at least 3 dimensions, got shape %s", d)
    return [d]


def _sact_ref(a, x):
    return softmax_ref(x, 1 if a.mode == "channel" else x.ndim - 1).astype(x.dtype)


def _sact_grad(F, attrs, ins, outs, g):
    y, gy = outs[0], g[0]
    s = F.sum(gy * y, axis=1 if attrs.mode == "channel" else -1, keepdims=True)
    return [y * (gy - s)]


register(OpDef(
    "SoftmaxActivation", params={"mode": Param("str", "instance", choices=("channel", "instance"),
                                               doc="instance: over the last axis; channel: "
                                                   "over axis 1.")},
    infer_shape=_sact_shape, forward=_sact_forward, dtypes="float", reference=_sact_ref,
    samples=lambda dt: [Sample([sampling.values((3, 4), dt)]),
                        Sample([sampling.values((2, 3, 2), dt, seed=1)]),
                        Sample([sampling.values((2, 3, 2), dt, seed=2)], {"mode": "channel"}),
                        Sample([sampling.values((2, 3, 1, 2), dt, seed=3)], {"mode": "channel"})],
    bad_samples=lambda: [BadSample([np.ones((2, 3), np.float32)], {"mode": "channel"},
                                   match=("data", "(2, 3)"))],
    gradient=_sact_grad,
    doc="Softmax over the last axis (mode='instance', as MXNet computes it) or, with "
        "mode='channel', over axis 1 (deprecated in MXNet in favour of softmax)."))
