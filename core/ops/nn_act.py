"""Activations (MXNet's src/operator/nn/activation, leaky_relu): Activation and LeakyReLU,
with gradients.  Softmax, log_softmax, softmin and SoftmaxActivation live in nn_softmax.py
(imported at the end of this module).

MXNet 1.9 semantics kept here (checked against MXNet 1.9.1):
- relu'(0) = 0; LeakyReLU leaky'(0) = slope, elu'(0) = slope, selu'(0) = lambda * alpha
  (the negative branch is taken at 0); gelu is the exact erf form
  0.5 x (1 + erf(x / sqrt 2)), not the tanh approximation;
- prelu's gamma broadcasts along axis 1 (shape (C,)) or is a single slope (shape (1,));
- selu's gradient here is the derivative lambda * alpha * e^x for x <= 0; MXNet 1.9 computes
  lambda * (y + alpha) there, which is not the derivative (not copied).
Not supported: LeakyReLU act_type='rrelu' (random slopes in training; MXNet also returns
an uninitialised mask as a second output there).
"""
import math

import numpy as np

from ..base import fail
from . import native, sampling, special
from .grad_utils import shape_of
from .params import Param
from .registry import BadSample, OpDef, Sample, register
from .shape_rules import check_input_count, elemwise, same_as_input

_IGNORE = dict(all="ignore")
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_LAMBDA = 1.0507009873554804934193349852946


# -- Activation ---------------------------------------------------------------------------------
def _native_ok(xp, *arrays):
    """The compiled kernels (csrc/kernels_nn.cc) take these arrays (one float dtype)."""
    return native.usable(xp, *arrays) and all(t.dtype == arrays[0].dtype for t in arrays)


def _act_fwd(xp, a, ins, outs):
    # `out` may be `x` (in-place hint): every step below reads x before overwriting it
    x, out, t = ins[0], outs[0], a.act_type
    with np.errstate(**_IGNORE):
        if t == "relu":
            if _native_ok(xp, x, out):
                native.kernels().relu_forward(x, out)
            else:
                xp.maximum(x, 0, out=out)
        elif t == "sigmoid":  # 1 / (1 + e^-x) in place, no temporaries
            xp.negative(x, out=out)
            xp.exp(out, out=out)
            xp.add(out, 1, out=out)
            xp.divide(1, out, out=out)
        elif t == "tanh":
            xp.tanh(x, out=out)
        elif t == "softrelu":  # log(1 + e^x), exactly x above 20 as MXNet
            out[...] = xp.where(x > 20, x, xp.log1p(xp.exp(xp.minimum(x, 20))))
        else:
            out[...] = x / (1 + xp.abs(x))


_ACT_REF = {
    "relu": lambda x: np.maximum(x, 0), "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh, "softrelu": lambda x: np.where(x > 20, x, np.log(1 + np.exp(np.minimum(x, 20)))),
    "softsign": lambda x: x / (1.0 + np.abs(x)),
}


def _act_grad(F, attrs, ins, outs, g):
    x, y, gy, t = ins[0], outs[0], g[0], attrs.act_type
    if t == "relu":
        return [F._backward_relu(gy, x)]
    if t == "sigmoid":
        return [gy * y * (1 - y)]
    if t == "tanh":
        return [gy * (1 - y * y)]
    if t == "softrelu":
        return [gy * F.sigmoid(x)]
    return [gy / F.square(F.abs(x) + 1)]


_ACTS = ("relu", "sigmoid", "softrelu", "softsign", "tanh")
register(OpDef(
    "Activation", params={"act_type": Param("str", choices=_ACTS,
                                            doc="Activation function to be applied.")},
    infer_shape=same_as_input, forward=_act_fwd, dtypes="float", inplace=[(0, 0)],
    reference=lambda a, x: _ACT_REF[a.act_type](x.astype(np.float64)).astype(x.dtype),
    samples=sampling.unary(-3, 3, shapes=[(3, 4), (2, 3, 2), (5,)],
                           attrs=[{"act_type": t} for t in _ACTS]),
    gradient=_act_grad,
    doc="Element-wise activation: relu max(x, 0), sigmoid 1/(1+e^-x), tanh, softrelu "
        "log(1+e^x), softsign x/(1+|x|)."))


# -- relu's gradient: one op (one pass) instead of a comparison and a product --------------------
def _relu_bwd(xp, a, ins, outs):
    gy, x, out = ins[0], ins[1], outs[0]
    if _native_ok(xp, gy, x, out):
        native.kernels().relu_backward(gy, x, out)
    else:
        with np.errstate(**_IGNORE):
            xp.multiply(gy, x > 0, out=out)


def _relu_bwd_grad(F, attrs, ins, outs, g):
    return [F._backward_relu(g[0], ins[1]), F.zeros_like(ins[1])]


def _relu_bwd_samples(dtype):
    v = sampling.values
    return [Sample([v(s, dtype, -3, 3, seed=i), v(s, dtype, -3, 3, seed=i + 5)])
            for i, s in enumerate([(3, 4), (2, 3, 2), (5,), (1,)])]


register(OpDef(
    "_backward_relu", inputs=("ograd", "data"), infer_shape=elemwise,
    forward=_relu_bwd, dtypes="float", inplace=[(0, 0)], gradient=_relu_bwd_grad,
    reference=lambda a, gy, x: (gy * (x > 0)).astype(gy.dtype), samples=_relu_bwd_samples,
    doc="Gradient of relu: ograd * (data > 0), where data is relu's input or its output "
        "(relu'(0) = 0)."))


def _leaky_bwd(xp, a, ins, outs):
    gy, x, out = ins[0], ins[1], outs[0]
    if _native_ok(xp, gy, x, out):
        native.kernels().relu_backward(gy, x, out, a.slope)
    else:
        with np.errstate(**_IGNORE):
            xp.multiply(gy, xp.where(x > 0, x.dtype.type(1), x.dtype.type(a.slope)), out=out)


def _leaky_bwd_grad(F, attrs, ins, outs, g):
    return [F._backward_leaky(g[0], ins[1], slope=attrs.slope), F.zeros_like(ins[1])]


register(OpDef(
    "_backward_leaky", inputs=("ograd", "data"), infer_shape=elemwise,
    params={"slope": Param("float", 0.25, doc="the slope for data <= 0")},
    forward=_leaky_bwd, dtypes="float", inplace=[(0, 0)], gradient=_leaky_bwd_grad,
    reference=lambda a, gy, x: (gy * np.where(x > 0, 1.0, a.slope)).astype(gy.dtype),
    samples=lambda dt: [Sample(s.inputs, {"slope": sl})
                        for s, sl in zip(_relu_bwd_samples(dt), (0.25, 0.1, -0.5, 0.0))],
    doc="Gradient of LeakyReLU act_type='leaky': ograd * (1 if data > 0 else slope)."))


# -- LeakyReLU ----------------------------------------------------------------------------------
def _gamma_view(gamma, ndim):
    """gamma of shape (C,) viewed to broadcast along axis 1 of an ndim-d input."""
    return gamma.reshape((1, -1) + (1,) * (ndim - 2)) if ndim >= 2 else gamma


_LEAKY_KIND = {"leaky": 0, "prelu": 1, "elu": 2, "selu": 3}  # csrc/kernels_nn.cc's kinds


def _leaky_fwd(xp, a, ins, outs):
    # each branch computes into temporaries before writing: `out` may be `x` (in-place hint)
    x, out, t = ins[0], outs[0], a.act_type
    if t in _LEAKY_KIND and _native_ok(xp, *ins, out):
        slope, scale = (_SELU_ALPHA, _SELU_LAMBDA) if t == "selu" else (a.slope, 1.0)
        native.kernels().leaky_forward(x, out, _LEAKY_KIND[t], slope, scale,
                                       ins[1] if t == "prelu" else None)
        return
    s = x.dtype.type(a.slope)
    with np.errstate(**_IGNORE):
        if t == "leaky":
            out[...] = xp.where(x > 0, x, x * s)
        elif t == "prelu":
            gm = _gamma_view(ins[1], x.ndim)
            out[...] = xp.where(x > 0, x, x * gm)
        elif t == "elu":
            out[...] = xp.where(x > 0, x, s * xp.expm1(xp.minimum(x, 0)))
        elif t == "selu":
            out[...] = _SELU_LAMBDA * xp.where(x > 0, x, _SELU_ALPHA * xp.expm1(xp.minimum(x, 0)))
        else:  # gelu
            erf = special.functions(xp)["erf"]
            out[...] = 0.5 * x * (1 + erf(x * x.dtype.type(1 / math.sqrt(2))))


def _leaky_ref(a, x, gamma=None):
    x64, t, s = x.astype(np.float64), a.act_type, a.slope
    if t == "leaky":
        r = np.where(x64 > 0, x64, s * x64)
    elif t == "prelu":
        gm = gamma.astype(np.float64)
        gm = gm.reshape((1, -1) + (1,) * (x.ndim - 2)) if x.ndim >= 2 else gm
        r = np.where(x64 > 0, x64, gm * x64)
    elif t == "elu":
        r = np.where(x64 > 0, x64, s * (np.exp(x64) - 1))
    elif t == "selu":
        r = _SELU_LAMBDA * np.where(x64 > 0, x64, _SELU_ALPHA * (np.exp(x64) - 1))
    else:
        r = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x64.ravel()]
                     ).reshape(x.shape)
    return r.astype(x.dtype)


def _leaky_grad(F, attrs, ins, outs, g):
    x, y, gy, t = ins[0], outs[0], g[0], attrs.act_type
    if t == "leaky":
        return [F._backward_leaky(gy, x, slope=attrs.slope)]
    pos = x > 0
    if t == "elu":
        return [gy * (pos + (1 - pos) * (y + attrs.slope))]
    if t == "selu":
        return [gy * (pos * _SELU_LAMBDA + (1 - pos) * (y + _SELU_LAMBDA * _SELU_ALPHA))]
    if t == "gelu":
        cdf = (F.erf(x * (1 / math.sqrt(2))) + 1) * 0.5
        pdf = F.exp(F.square(x) * -0.5) * (1 / math.sqrt(2 * math.pi))
        return [gy * (cdf + x * pdf)]
    # prelu: gamma broadcast along axis 1
    gamma = ins[1]
    xs = shape_of(x)
    nd = len(xs) if xs is not None else 2
    gm = F.reshape(gamma, shape=(1, -1) + (1,) * (nd - 2)) if nd >= 2 else gamma
    neg = 1 - pos
    gx = gy * (pos + neg * gm)
    gg = gy * x * neg
    if nd >= 2:
        gg = F.sum(gg, axis=1, exclude=True)
    gg = F.reshape_like(F.sum(gg) if shape_of(gamma) == (1,) else gg, gamma)
    return [gx, gg]


def _leaky_names(attrs):
    return ("data", "gamma") if attrs.act_type == "prelu" else ("data",)


def _leaky_shape(attrs, shapes):
    check_input_count(_leaky_names(attrs), shapes, "act_type")
    d = shapes[0]
    if len(shapes) > 1:
        gs = tuple(shapes[1])
        c = d[1] if len(d) >= 2 else d[0]
        if gs not in ((c,), (1,)):
            fail("gamma", "shape %s does not match the data's channel count: expected (%d,) "
                 "or (1,) for data of shape %s", gs, c, d)
    return [d]


_LEAKY_TYPES = ("elu", "gelu", "leaky", "prelu", "selu")


def _leaky_samples(dtype):
    v = sampling.values
    out = [Sample([v((3, 4), dtype, -3, 3, seed=i)], {"act_type": t, "slope": s})
           for i, (t, s) in enumerate([("leaky", 0.25), ("elu", 0.5), ("selu", 0.25),
                                        ("gelu", 0.25), ("leaky", 0.1)])]
    out.append(Sample([v((2, 3, 2), dtype, -3, 3, seed=9)], {"act_type": "elu"}))
    out.insert(1, Sample([v((2, 3, 2), dtype, -3, 3, seed=10), v((3,), dtype, 0.1, 0.5)],
                         {"act_type": "prelu"}))
    out.append(Sample([v((4, 3), dtype, -3, 3, seed=11), v((1,), dtype, 0.1, 0.5)],
                      {"act_type": "prelu"}))
    return out


def _leaky_bad():
    x = np.ones((2, 3), np.float32)
    out = [BadSample([x], {"act_type": "rrelu"}, match=("act_type", "rrelu"))]
    out.append(BadSample([x, np.ones((2,), np.float32)], {"act_type": "prelu"},
                         match=("gamma", "(2,)")))
    out.append(BadSample([x, np.ones((3,), np.float32)], {}, match=("act_type", "1 input")))
    return out


register(OpDef(
    "LeakyReLU", params={
        "act_type": Param("str", "leaky", choices=_LEAKY_TYPES, doc="Activation function."),
        "slope": Param("float", 0.25, doc="Slope for leaky and elu."),
        "lower_bound": Param("float", 0.125, doc="Lower bound of the random slope (rrelu)."),
        "upper_bound": Param("float", 0.334, doc="Upper bound of the random slope (rrelu).")},
    infer_shape=_leaky_shape, forward=_leaky_fwd, dtypes="float", reference=_leaky_ref,
    inplace=[(0, 0)],
    samples=_leaky_samples, bad_samples=_leaky_bad, gradient=_leaky_grad,
    doc="Leaky ReLU family: leaky (x or slope*x), elu (x or slope*(e^x-1)), selu, gelu "
        "(0.5x(1+erf(x/sqrt 2))), prelu (x or gamma*x, gamma along axis 1: the input "
        "gamma exists only with act_type='prelu'). rrelu is not supported.",
    inputs=("data", "gamma"), inputs_fn=_leaky_names))


from .nn_softmax import softmax_ref, softmax_xp  # noqa: E402,F401  (registers softmax; re-exported)
