"""ONNX export rules: dense, convolution and pooling layers, activations, softmax family.

Weights that are initializers are folded (transposed / reshaped / replaced) instead of
emitting ops, so a model exports as the layer ops ONNX runtimes fuse (Conv, Gemm,
BatchNormalization, ...).  Normalisation layers are in export_norm.py.
"""
import math

import numpy as np

from ..ops.nn_deconv import effective_pad
from .export_context import onnx_rule, reduce, reshape


def _tup(v, n, default):
    v = tuple(v) if v else ()
    return list(v) if v else [default] * n


def _channel_first(ctx, node):
    layout = node.attrs.get("layout")
    if layout and not layout.startswith("NC"):
        ctx.fail(node, "layout %s is not supported (only channel-first NC...)" % layout)


# -- dense and convolution ---------------------------------------------------------------------
@onnx_rule("FullyConnected")
def _fully_connected(ctx, node):
    a = node.attrs
    x, w = node.inputs[0], node.inputs[1]
    b = None if a.no_bias else node.inputs[2]
    nd = node.ndim
    if a.flatten or nd == 2:
        if nd != 2:
            x = ctx.add("Flatten", [x], axis=1)
        ctx.add("Gemm", [x, w] + ([b] if b else []), node.outputs[:1], transB=1)
        return
    wv = ctx.value(w)
    wt = ctx.const(wv.T, w + "_T") if wv is not None else ctx.add("Transpose", [w], perm=[1, 0])
    if b is None:
        ctx.add("MatMul", [x, wt], node.outputs[:1])
    else:
        ctx.add("Add", [ctx.add("MatMul", [x, wt]), b], node.outputs[:1])


def _conv_attrs(a, nsp):
    k = list(a.kernel)
    return dict(kernel_shape=k, strides=_tup(a.stride, nsp, 1),
                dilations=_tup(a.dilate, nsp, 1), group=a.num_group)


@onnx_rule("Convolution")
def _convolution(ctx, node):
    _channel_first(ctx, node)
    a = node.attrs
    nsp = node.ndim - 2
    p = _tup(a.pad, nsp, 0)
    ins = node.inputs[:2] if a.no_bias else node.inputs[:3]
    ctx.add("Conv", ins, node.outputs[:1], pads=p + p, **_conv_attrs(a, nsp))


@onnx_rule("Deconvolution")
def _deconvolution(ctx, node):
    _channel_first(ctx, node)
    a = node.attrs
    nsp = node.ndim - 2
    p, adj = effective_pad(a, node.in_shapes[0][2:])
    p, adj = list(p) or [0] * nsp, list(adj) or [0] * nsp
    ins = node.inputs[:2] if a.no_bias else node.inputs[:3]
    ctx.add("ConvTranspose", ins, node.outputs[:1], pads=p + p, output_padding=adj,
            **_conv_attrs(a, nsp))


# -- pooling -----------------------------------------------------------------------------------
def _pool_geometry(node):
    """(kernel, stride, pad, ceil) of a non-global Pooling node."""
    a = node.attrs
    nsp = node.ndim - 2
    k = list(a.kernel)
    return k, _tup(a.stride, nsp, 1), _tup(a.pad, nsp, 0), a.pooling_convention == "full"


@onnx_rule("Pooling")
def _pooling(ctx, node):
    _channel_first(ctx, node)
    a = node.attrs
    x, out = node.inputs[0], node.outputs[:1]
    pt = a.pool_type
    if a.global_pool:
        if pt == "max":
            ctx.add("GlobalMaxPool", [x], out)
        elif pt == "avg":
            ctx.add("GlobalAveragePool", [x], out)
        elif pt == "sum":
            ctx.add("ReduceSum", [x, ctx.ints(range(2, node.ndim))], out, keepdims=1)
        elif a.p_value in (None, 2):  # (onnxruntime has no GlobalLpPool from opset 22)
            reduce(ctx, "ReduceL2", x, list(range(2, node.ndim)), True, out=out[0])
        else:  # no |x| in MXNet's lp: (sum of x^p)^(1/p)
            dt = node.in_dtypes[0]
            xp_ = ctx.add("Pow", [x, ctx.scalar(a.p_value, dt)])
            y = ctx.add("ReduceSum", [xp_, ctx.ints(range(2, node.ndim))], keepdims=1)
            ctx.add("Pow", [y, ctx.scalar(1.0 / a.p_value, dt)], out)
        return
    k, s, p, ceil = _pool_geometry(node)
    osp, xsp = node.out_shapes[0][2:], node.in_shapes[0][2:]
    # MXNet's 'full' (ceil) rule equals ONNX ceil_mode unless a last window starts in the
    # right padding (ONNX drops it); then an extra end pad gives MXNet's size under ONNX's
    # floor rule: exact for max (-inf pad), sum (zero pad) and avg without the pad count
    end = [max(pp, (o - 1) * ss + kk - i - pp) for i, pp, o, ss, kk in zip(xsp, p, osp, s, k)]
    use_ceil = ceil and all(_onnx_ceil_size(i, kk, ss, pp) == o
                            for i, kk, ss, pp, o in zip(xsp, k, s, p, osp))
    pads = p + p if use_ceil or not ceil else p + end
    cm = 1 if use_ceil else None
    if pt == "max":
        ctx.add("MaxPool", [x], out, kernel_shape=k, strides=s, pads=pads, ceil_mode=cm)
    elif pt == "sum":
        c = node.in_shapes[0][1]
        w = ctx.const(np.ones([c, 1] + k, node.in_dtypes[0]), "sum_pool_ones")
        ctx.add("Conv", [x, w], out, kernel_shape=k, strides=s, pads=p + end, group=c)
    elif pt == "avg":
        include = a.count_include_pad is None or a.count_include_pad
        if use_ceil or not ceil or not include:
            ctx.add("AveragePool", [x], out, kernel_shape=k, strides=s, pads=pads,
                    count_include_pad=int(include), ceil_mode=cm)
        else:
            _avg_pool_clipped(ctx, node, x, out, k, s, p, end)
    elif a.p_value in (None, 2):
        ctx.add("LpPool", [x], out, kernel_shape=k, strides=s, pads=pads, p=2, ceil_mode=cm)
    else:  # MXNet's lp takes no |x|: (sum of x^p)^(1/p) as a sum pool (ONNX LpPool uses |x|)
        c, dt, pv = node.in_shapes[0][1], node.in_dtypes[0], a.p_value
        w = ctx.const(np.ones([c, 1] + k, dt), "sum_pool_ones")
        xp_ = x if pv == 1 else ctx.add("Pow", [x, ctx.scalar(pv, dt)])
        if pv == 1:
            ctx.add("Conv", [xp_, w], out, kernel_shape=k, strides=s, pads=p + end, group=c)
        else:
            y = ctx.add("Conv", [xp_, w], kernel_shape=k, strides=s, pads=p + end, group=c)
            ctx.add("Pow", [y, ctx.scalar(1.0 / pv, dt)], out)


def _onnx_ceil_size(i, k, s, p):
    o = -(-(i + 2 * p - k) // s) + 1
    return o - 1 if (o - 1) * s >= i + p else o


def _avg_pool_clipped(ctx, node, x, out, k, s, p, end):
    """count_include_pad avg with 'full' windows running past the padded input: a sum pool
    divided by MXNet's divisor (the window clipped to the padded input), a folded constant."""
    c = node.in_shapes[0][1]
    dt = node.in_dtypes[0]
    w = ctx.const(np.ones([c, 1] + k, dt), "sum_pool_ones")
    summed = ctx.add("Conv", [x, w], kernel_shape=k, strides=s, pads=p + end, group=c)
    div = None
    xsp, osp = node.in_shapes[0][2:], node.out_shapes[0][2:]
    for d, (i, kk, ss, pp, o) in enumerate(zip(xsp, k, s, p, osp)):
        start = np.arange(o) * ss - pp
        size = np.minimum(start + kk, i + pp) - start
        shp = [1] * len(osp)
        shp[d] = o
        size = size.reshape(shp)
        div = size if div is None else div * size
    ctx.add("Div", [summed, ctx.const(div.astype(dt)[None, None], "avg_divisor")], out)


# -- activations ---------------------------------------------------------------------------------
_ACT = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softrelu": "Softplus",
        "softsign": "Softsign"}


@onnx_rule("Activation")
def _activation(ctx, node):
    ctx.add(_ACT[node.attrs.act_type], node.inputs[:1], node.outputs[:1])


@onnx_rule("_add_relu")
def _add_relu(ctx, node):
    ctx.add("Relu", [ctx.add("Add", node.inputs[:2])], node.outputs[:1])


def gelu(ctx, x, dtype, out):
    """erf GELU: the Gelu op from opset 20, else 0.5 x (1 + erf(x / sqrt 2))."""
    if ctx.opset >= 20:
        return ctx.add("Gelu", [x], out)
    e = ctx.add("Erf", [ctx.add("Mul", [x, ctx.scalar(1 / math.sqrt(2), dtype)])])
    half = ctx.add("Mul", [x, ctx.scalar(0.5, dtype)])
    return ctx.add("Mul", [half, ctx.add("Add", [e, ctx.scalar(1, dtype)])], out)


@onnx_rule("LeakyReLU")
def _leaky_relu(ctx, node):
    a = node.attrs
    x, out, dt = node.inputs[0], node.outputs[:1], node.in_dtypes[0]
    t = a.act_type
    if t == "leaky":
        ctx.add("LeakyRelu", [x], out, alpha=float(a.slope))
    elif t == "elu":
        ctx.add("Elu", [x], out, alpha=float(a.slope))
    elif t == "selu":
        ctx.add("Selu", [x], out, alpha=1.6732632423543772, gamma=1.0507009873554805)
    elif t == "gelu":
        gelu(ctx, x, dt, out)
    elif t == "prelu":
        g = node.inputs[1]
        gshape = [node.in_shapes[1][0]] + [1] * max(node.ndim - 2, 0)
        if node.ndim >= 2 and node.in_shapes[1][0] != 1:
            g = reshape(ctx, g, gshape)
        ctx.add("PRelu", [x, g], out)
    else:
        ctx.fail(node, "act_type %s has no ONNX export" % t)


# -- softmax family ------------------------------------------------------------------------------
def _softmax_like(onnx_op, negate=False):
    def rule(ctx, node):
        a = node.attrs
        x, dt = node.inputs[0], node.in_dtypes[0]
        if negate:
            x = ctx.add("Neg", [x])
        if a.get("temperature") not in (None, 1.0):
            x = ctx.add("Div", [x, ctx.scalar(a.temperature, dt)])
        mask = _length_mask(ctx, node) if a.get("use_length") else None
        if mask is not None:  # masked positions: -inf in, 0 out (a 0-length row is all 0)
            x = ctx.add("Where", [mask, x, ctx.scalar(-np.inf, dt)])
        done = node.out_dtypes[0] == dt and mask is None
        y = ctx.add(onnx_op, [x], node.outputs[:1] if done else None, axis=a.axis)
        if done:
            return
        same = node.out_dtypes[0] == dt
        if mask is not None:
            y = ctx.add("Where", [mask, y, ctx.scalar(0, dt)], node.outputs[:1] if same else None)
            y = y[0] if same else y
        if not same:
            ctx.add("Cast", [y], node.outputs[:1], to=_onnx_type(ctx, node.out_dtypes[0]))
    return rule


def _length_mask(ctx, node):
    """softmax's use_length: positions along `axis` below length (shaped like data without
    the axis) are kept."""
    axis = node.attrs.axis % node.ndim
    n = node.in_shapes[0][axis]
    shape = [1] * node.ndim
    shape[axis] = n
    steps = ctx.const(np.arange(n, dtype=np.int64).reshape(shape), "steps")
    lens = ctx.add("Cast", [node.inputs[1]], to=_onnx_type(ctx, np.int64))
    lens = ctx.add("Unsqueeze", [lens, ctx.ints([axis])])
    return ctx.add("Less", [steps, lens])


def _onnx_type(ctx, dtype):
    return ctx.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


onnx_rule("softmax")(_softmax_like("Softmax"))
onnx_rule("log_softmax")(_softmax_like("LogSoftmax"))
onnx_rule("softmin")(_softmax_like("Softmax", negate=True))


def _flat_softmax(ctx, node, x):
    """Softmax over everything but the batch axis, output shaped like x."""
    if node.ndim == 2:
        return ctx.add("Softmax", [x], node.outputs[:1], axis=1)
    y = ctx.add("Softmax", [ctx.add("Flatten", [x], axis=1)], axis=1)
    return ctx.add("Reshape", [y, ctx.add("Shape", [x])], node.outputs[:1])


@onnx_rule("SoftmaxOutput")
def _softmax_output(ctx, node):
    a, x = node.attrs, node.inputs[0]
    if a.multi_output:
        ctx.add("Softmax", [x], node.outputs[:1], axis=1)
    elif a.preserve_shape:
        ctx.add("Softmax", [x], node.outputs[:1], axis=-1)
    else:
        _flat_softmax(ctx, node, x)


@onnx_rule("SoftmaxActivation")
def _softmax_activation(ctx, node):
    axis = 1 if node.attrs.mode == "channel" else -1  # instance: the last axis, as MXNet
    ctx.add("Softmax", node.inputs[:1], node.outputs[:1], axis=axis)


# -- output layers and identities at inference -------------------------------------------------
@onnx_rule("Dropout")
def _dropout(ctx, node):
    if node.attrs.mode == "always":
        ctx.fail(node, "mode='always' (dropout at inference) is not supported")
    ctx.add("Identity", node.inputs[:1], node.outputs[:1])


@onnx_rule("BlockGrad", "_copy", "MakeLoss", "make_loss", "LinearRegressionOutput",
           "MAERegressionOutput")
def _identity(ctx, node):
    ctx.add("Identity", node.inputs[:1], node.outputs[:1])


@onnx_rule("LogisticRegressionOutput")
def _logistic_output(ctx, node):
    ctx.add("Sigmoid", node.inputs[:1], node.outputs[:1])


@onnx_rule("Flatten")
def _flatten(ctx, node):
    ctx.add("Flatten", node.inputs[:1], node.outputs[:1], axis=1)


@onnx_rule("Embedding")
def _embedding(ctx, node):
    from .export_shape import indices
    idx = indices(ctx, node.inputs[0], node.in_dtypes[0], node.attrs.input_dim, "clip")
    w = node.inputs[1]
    y = node.outputs[:1]
    if node.out_dtypes[0] != node.in_dtypes[1]:
        g = ctx.add("Gather", [w, idx], axis=0)
        ctx.add("Cast", [g], y, to=_onnx_type(ctx, node.out_dtypes[0]))
    else:
        ctx.add("Gather", [w, idx], y, axis=0)


@onnx_rule("UpSampling")
def _upsampling(ctx, node):
    a = node.attrs
    if a.sample_type != "nearest":
        ctx.fail(node, "sample_type %s is not supported (only nearest)" % a.sample_type)
    out_hw = node.out_shapes[0][2:]
    ys = []
    for x, shp in zip(node.inputs, node.in_shapes):
        scales = [1.0, 1.0] + [float(o // i) for o, i in zip(out_hw, shp[2:])]
        ys.append(ctx.add("Resize", [x, "", ctx.const(np.array(scales, np.float32), "scales")],
                          mode="nearest", coordinate_transformation_mode="asymmetric",
                          nearest_mode="floor"))
    if len(ys) == 1:
        ctx.add("Identity", ys, node.outputs[:1])
    elif a.multi_input_mode == "sum":
        ctx.add("Sum", ys, node.outputs[:1])
    else:
        ctx.add("Concat", ys, node.outputs[:1], axis=1)


@onnx_rule("Pad")
def _pad(ctx, node):
    a = node.attrs
    pw = list(a.pad_width)
    pads = pw[0::2] + pw[1::2]
    ins = [node.inputs[0], ctx.ints(pads)]
    if a.mode == "constant":
        ins.append(ctx.scalar(a.constant_value, node.in_dtypes[0]))
    ctx.add("Pad", ins, node.outputs[:1], mode=a.mode)
