"""ONNX export rules: normalisation layers (inference semantics: BatchNorm uses the moving
statistics, as MXNet's exporter does)."""
import numpy as np

from .export_context import onnx_rule, reduce, reshape, squeeze


@onnx_rule("BatchNorm")
def _batch_norm(ctx, node):
    _bn(ctx, node, node.outputs[:1])


@onnx_rule("_contrib_BatchNormWithReLU")
def _batch_norm_relu(ctx, node):
    ctx.add("Relu", [_bn(ctx, node, None)], node.outputs[:1])


def _bn(ctx, node, out):
    """BatchNormalization into `out` (a list of one name, or None for a new one); returns
    the output's name.  The mean and var outputs go straight to node.outputs[1:3]."""
    a = node.attrs
    x, gamma, beta, mean, var = node.inputs[:5]
    if a.output_mean_var:  # at inference: the moving mean and 1 / sqrt(moving var + eps)
        ctx.add("Identity", [mean], node.outputs[1:2])
        std = ctx.add("Sqrt", [ctx.add("Add", [var, ctx.scalar(a.eps, node.in_dtypes[4])])])
        ctx.add("Reciprocal", [std], node.outputs[2:3])
    if a.fix_gamma:  # MXNet ignores gamma: it is 1
        gamma = ctx.const(np.ones(node.in_shapes[1], node.in_dtypes[1]), "bn_gamma_fixed")
    ax = a.axis % node.ndim
    if ax == 1:
        return ctx.add("BatchNormalization", [x, gamma, beta, mean, var], out,
                       epsilon=float(a.eps))
    # ONNX normalises axis 1: move the channel axis there and back
    rest = [i for i in range(node.ndim) if i != ax]
    perm = [rest[0], ax] + rest[1:]
    inv = [perm.index(i) for i in range(node.ndim)]
    y = ctx.add("BatchNormalization", [ctx.add("Transpose", [x], perm=perm), gamma, beta, mean,
                                       var], epsilon=float(a.eps))
    return ctx.add("Transpose", [y], out, perm=inv)


@onnx_rule("InstanceNorm")
def _instance_norm(ctx, node):
    if node.ndim < 3:  # ONNX needs spatial axes; (N, C) normalises over nothing
        _affine(ctx, node, _normalize(ctx, node.inputs[0], [], node), 1, node.outputs[0])
        return
    ctx.add("InstanceNormalization", node.inputs[:3], node.outputs[:1],
            epsilon=float(node.attrs.eps))


def _normalize(ctx, x, axes, node, stats=False):
    """(x - mean) / sqrt(var + eps) over `axes`; with stats, also (mean, std) (axes kept)."""
    dt = node.in_dtypes[0]
    if not axes:
        d = ctx.add("Sub", [x, x])
        return ctx.add("Div", [d, ctx.add("Sqrt", [ctx.scalar(node.attrs.eps, dt)])])
    mean = reduce(ctx, "ReduceMean", x, axes)
    d = ctx.add("Sub", [x, mean])
    var = reduce(ctx, "ReduceMean", ctx.add("Mul", [d, d]), axes)
    std = ctx.add("Sqrt", [ctx.add("Add", [var, ctx.scalar(node.attrs.eps, node.in_dtypes[0])])])
    y = ctx.add("Div", [d, std])
    return (y, mean, std) if stats else y


def _affine(ctx, node, y, axis, out, shape=None):
    """y * gamma + beta with gamma/beta (C,) broadcast along `axis` of `shape`."""
    shape = shape or node.in_shapes[0]
    bshape = [1] * len(shape)
    bshape[axis] = shape[axis]
    g = reshape(ctx, node.inputs[1], bshape)
    b = reshape(ctx, node.inputs[2], bshape)
    return ctx.add("Add", [ctx.add("Mul", [y, g]), b], [out])[0]


@onnx_rule("LayerNorm")
def _layer_norm(ctx, node):
    a = node.attrs
    ax = a.axis % node.ndim
    if ctx.opset >= 17 and ax == node.ndim - 1 and not a.output_mean_var:
        ctx.add("LayerNormalization", node.inputs[:3], node.outputs[:1], axis=-1,
                epsilon=float(a.eps))
        return
    y, mean, std = _normalize(ctx, node.inputs[0], [ax], node, stats=True)
    _affine(ctx, node, y, ax, node.outputs[0])
    if a.output_mean_var:  # the axis kept as size 1, as MXNet
        ctx.add("Identity", [mean], node.outputs[1:2])
        ctx.add("Identity", [std], node.outputs[2:3])


@onnx_rule("GroupNorm")
def _group_norm(ctx, node):
    g = node.attrs.num_groups
    x = node.inputs[0]
    xr = ctx.add("Reshape", [x, ctx.ints([0, g, -1])])
    y, mean, std = _normalize(ctx, xr, [2], node, stats=True)
    n = node.in_shapes[0][0]
    y = _affine(ctx, node, y, 1, ctx.fresh("gn_affine"), shape=(n, g, 1))
    ctx.add("Reshape", [y, ctx.add("Shape", [x])], node.outputs[:1])
    if node.attrs.output_mean_var:  # (N, G), as MXNet
        squeeze(ctx, mean, [2], out=node.outputs[1])
        squeeze(ctx, std, [2], out=node.outputs[2])


@onnx_rule("L2Normalization")
def _l2_normalization(ctx, node):
    a = node.attrs
    nd = node.ndim
    axes = {"instance": list(range(1, nd)), "channel": [1],
            "spatial": list(range(2, nd))}[a.mode]
    x, dt = node.inputs[0], node.in_dtypes[0]
    ss = reduce(ctx, "ReduceSumSquare", x, axes) if axes else ctx.add("Mul", [x, x])
    norm = ctx.add("Sqrt", [ctx.add("Add", [ss, ctx.scalar(a.eps, dt)])])
    ctx.add("Div", [x, norm], node.outputs[:1])


@onnx_rule("LRN")
def _lrn(ctx, node):
    a = node.attrs
    x = node.inputs[0]
    if node.ndim != 4:  # onnxruntime's LRN takes 4-D input: fold the spatial axes into one
        x4 = ctx.add("Reshape", [x, ctx.ints([0, 0, -1, 1])])
        y = ctx.add("LRN", [x4], alpha=float(a.alpha), beta=float(a.beta),
                    bias=float(a.knorm), size=int(a.nsize))
        ctx.add("Reshape", [y, ctx.add("Shape", [x])], node.outputs[:1])
        return
    ctx.add("LRN", node.inputs[:1], node.outputs[:1], alpha=float(a.alpha), beta=float(a.beta),
            bias=float(a.knorm), size=int(a.nsize))
