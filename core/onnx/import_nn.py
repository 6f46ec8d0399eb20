"""Import rules: convolution, pooling, normalization, activations, softmax."""
import numpy as np

from .import_rules import onnx_op


def _spatial_pads(c, in_spatial, kernel, strides, dilations, transpose=False):
    """ONNX pads / auto_pad -> (begin pads, end pads) for the spatial axes."""
    nd = len(kernel)
    auto = c.attr("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for i in range(nd):
            if transpose:
                out = in_spatial[i] * strides[i]
                total = max(0, strides[i] * (in_spatial[i] - 1) + (kernel[i] - 1) * dilations[i] + 1 - out)
            else:
                out = -(-in_spatial[i] // strides[i])
                total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in_spatial[i])
            small, big = total // 2, total - total // 2
            b, e = (small, big) if auto == "SAME_UPPER" else (big, small)
            if transpose:
                b, e = (big, small) if auto == "SAME_UPPER" else (small, big)
            begin.append(b)
            end.append(e)
        return begin, end
    if auto == "VALID":
        return [0] * nd, [0] * nd
    pads = list(c.attr("pads", [0] * (2 * nd)))
    return pads[:nd], pads[nd:]


def _pad_input(c, x, begin, end, value):
    """Explicit (asymmetric) padding of the spatial axes before a conv/pool."""
    nd = len(begin)
    width = [0, 0, 0, 0] + [v for pair in zip(begin, end) for v in pair]
    if nd in (2, 3):
        return c.F.Pad(x, mode="constant", pad_width=tuple(width), constant_value=value)
    from .import_shape import onnx_pad
    return onnx_pad(c, x, width, value)


@onnx_op("Conv")
def conv(c):
    F = c.F
    ws = c.shape(1)
    kernel = tuple(c.attr("kernel_shape", ws[2:]))
    nd = len(kernel)
    strides = tuple(c.attr("strides", [1] * nd))
    dil = tuple(c.attr("dilations", [1] * nd))
    xs = c.shape(0)
    begin, end = _spatial_pads(c, xs[2:], kernel, strides, dil)
    x = c.x(0)
    if begin != end:
        x = _pad_input(c, x, begin, end, 0.0)
        begin = [0] * nd
    group = int(c.attr("group", 1))
    args = [x, c.x(1)] + ([c.x(2)] if c.has(2) else [])
    return F.Convolution(*args, kernel=kernel, stride=strides, dilate=dil, pad=tuple(begin),
                         num_filter=ws[0], num_group=group, no_bias=not c.has(2))


@onnx_op("ConvTranspose")
def conv_transpose(c):
    """Deconvolution with symmetric pads and adj; what ONNX's asymmetric or negative pads
    (output_shape, auto_pad) leave over is cropped or zero-padded afterwards."""
    F = c.F
    ws = c.shape(1)
    group = int(c.attr("group", 1))
    kernel = tuple(c.attr("kernel_shape", ws[2:]))
    nd = len(kernel)
    strides = tuple(c.attr("strides", [1] * nd))
    dil = tuple(c.attr("dilations", [1] * nd))
    xs = c.shape(0)
    out_pad = list(c.attr("output_padding", [0] * nd))
    full = [strides[i] * (xs[2 + i] - 1) + out_pad[i] + (kernel[i] - 1) * dil[i] + 1
            for i in range(nd)]
    auto = c.attr("auto_pad", "NOTSET")
    if "output_shape" in c.attrs or auto in ("SAME_UPPER", "SAME_LOWER"):
        want = list(c.attrs["output_shape"])[-nd:] if "output_shape" in c.attrs else [
            xs[2 + i] * strides[i] for i in range(nd)]
        total = [f - w for f, w in zip(full, want)]
        if auto == "SAME_UPPER":
            begin = [t // 2 for t in total]
        else:
            begin = [t - t // 2 for t in total]
        end = [t - b for t, b in zip(total, begin)]
    else:
        pads = list(c.attr("pads", [0] * (2 * nd)))
        begin, end = pads[:nd], pads[nd:]
    pad = [max(0, min(b, e)) for b, e in zip(begin, end)]
    adj = [op if op < s else 0 for op, s in zip(out_pad, strides)]
    args = [c.x(0), c.x(1)] + ([c.x(2)] if c.has(2) else [])
    out = F.Deconvolution(*args, kernel=kernel, stride=strides, dilate=dil, pad=tuple(pad),
                          adj=tuple(adj), num_filter=ws[1] * group, num_group=group,
                          no_bias=not c.has(2))
    got = [full[i] - out_pad[i] + adj[i] - 2 * pad[i] for i in range(nd)]
    rest_b = [b - p for b, p in zip(begin, pad)]
    rest_e = [e - p - (out_pad[i] - adj[i]) for i, (e, p) in enumerate(zip(end, pad))]
    if any(rest_b) or any(rest_e):
        from .import_shape import onnx_pad
        width = [0, 0, 0, 0] + [-v for pair in zip(rest_b, rest_e) for v in pair]
        out = onnx_pad(c, out, width, 0.0, shape=[xs[0], ws[1] * group] + got)
    return out


def _pool(c, pool_type):
    F = c.F
    if c.num_outputs > 1:
        c.unsupported("%s with the Indices output is not supported" % c.op_type)
    kernel = tuple(c.need_attr("kernel_shape"))
    nd = len(kernel)
    strides = tuple(c.attr("strides", [1] * nd))
    dil = tuple(c.attr("dilations", [1] * nd))
    xs = c.shape(0)
    begin, end = _spatial_pads(c, xs[2:], kernel, strides, dil)
    x = c.x(0)
    ceil = bool(c.attr("ceil_mode", 0))
    include = bool(c.attr("count_include_pad", 0))
    if pool_type == "lp" or any(d != 1 for d in dil) or (
            begin != end and pool_type == "avg" and not include):
        return _window_pool(c, x, xs, kernel, strides, dil, begin, end, pool_type, ceil, include)
    begin0, end0 = begin, end
    if begin != end:
        x = _pad_input(c, x, begin, end, -np.inf if pool_type == "max" else 0.0)
        begin = [0] * nd
    if ceil:  # ONNX drops a last window that would start in the end padding
        full = [-(-(xs[2 + i] + 2 * begin[i] - kernel[i]) // strides[i]) + 1 for i in range(nd)]
        onnx = [o - 1 if (o - 1) * strides[i] >= xs[2 + i] + begin[i] else o
                for i, o in enumerate(full)]
        valid = [(xs[2 + i] + 2 * begin[i] - kernel[i]) // strides[i] + 1 for i in range(nd)]
        if onnx == valid:
            ceil = False
        elif onnx != full:
            return _window_pool(c, c.x(0), xs, kernel, strides, dil, begin0, end0, pool_type,
                                True, include)
    kw = dict(kernel=kernel, stride=strides, pad=tuple(begin), pool_type=pool_type,
              pooling_convention="full" if ceil else "valid")
    if pool_type == "avg":
        kw["count_include_pad"] = include
    return F.Pooling(x, **kw)


def _window_pool(c, x, xs, kernel, strides, dil, begin, end, pool_type, ceil, include):
    """Pooling as a max/sum over the kernel's shifted strided slices: what Pooling cannot
    do (dilations; LpPool with any p; average over asymmetric pads without counting them).  The divisor of an
    average is a constant computed from a mask of the counted positions."""
    F = c.F
    nd = len(kernel)
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dil)]
    padded = [xs[2 + i] + begin[i] + end[i] for i in range(nd)]
    outs = []
    for i in range(nd):
        n = (padded[i] - span[i]) / strides[i] + 1
        o = int(np.ceil(n)) if ceil else int(np.floor(n))
        if ceil and (o - 1) * strides[i] >= xs[2 + i] + begin[i]:
            o -= 1
        outs.append(o)
    extra = [max(0, (o - 1) * s + sp - p) for o, s, sp, p in zip(outs, strides, span, padded)]
    from .import_shape import onnx_pad
    fill = -np.inf if pool_type == "max" else 0.0
    if pool_type == "lp" and c.dtype(0).kind != "f":
        c.unsupported("LpPool of %s" % c.dtype(0))
    width = [0, 0, 0, 0] + [v for i in range(nd) for v in (begin[i], end[i] + extra[i])]
    xp = onnx_pad(c, x, width, fill)
    counted = np.zeros([xs[2 + i] + begin[i] + end[i] + extra[i] for i in range(nd)])
    inner = tuple(slice(begin[i], begin[i] + xs[2 + i]) for i in range(nd))
    if include:  # the explicit pads count, the ceil-mode overhang does not
        counted[tuple(slice(0, padded[i]) for i in range(nd))] = 1
    else:
        counted[inner] = 1
    acc, count = None, 0
    for off in np.ndindex(*kernel):
        lo = [o * d for o, d in zip(off, dil)]
        hi = [l + s * (n - 1) + 1 for l, s, n in zip(lo, strides, outs)]
        part = F.slice(xp, begin=(None, None) + tuple(lo), end=(None, None) + tuple(hi),
                       step=(None, None) + tuple(strides))
        if pool_type == "lp":
            part = F._power_scalar(F.abs(part), scalar=float(c.attr("p", 2)))
        count = count + counted[tuple(slice(l, h, s) for l, h, s in zip(lo, hi, strides))]
        acc = part if acc is None else (F.broadcast_maximum(acc, part) if pool_type == "max"
                                        else F.broadcast_add(acc, part))
    if pool_type == "lp":
        return F._power_scalar(acc, scalar=1.0 / float(c.attr("p", 2)))
    if pool_type == "avg":
        from .importer import _Val
        inv = (1.0 / np.maximum(count, 1)).astype(c.dtype(0)).reshape((1, 1) + tuple(outs))
        acc = F.broadcast_mul(acc, c.imp.tensor(_Val(c.name + "_count", const=inv), F))
    return acc


@onnx_op("MaxPool")
def max_pool(c):
    return _pool(c, "max")


@onnx_op("AveragePool")
def avg_pool(c):
    return _pool(c, "avg")


@onnx_op("LpPool")
def lp_pool(c):
    return _pool(c, "lp")


@onnx_op("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool")
def global_pool(c):
    nd = c.rank(0) - 2
    pt = {"GlobalAveragePool": "avg", "GlobalMaxPool": "max", "GlobalLpPool": "lp"}[c.op_type]
    kw = {"p_value": int(c.attr("p", 2))} if pt == "lp" else {}
    x = c.F.abs(c.x(0)) if pt == "lp" else c.x(0)
    return c.F.Pooling(x, kernel=(1,) * nd, global_pool=True, pool_type=pt, **kw)


@onnx_op("BatchNormalization")
def batch_norm(c):
    if c.num_outputs > 1 or c.attr("training_mode", 0):
        c.unsupported("training mode (running statistics outputs) is not supported")
    if c.opset < 7 and c.attr("is_test", 1) == 0:
        c.unsupported("is_test=0 is not supported")
    return c.F.BatchNorm(c.x(0), c.x(1), c.x(2), c.x(3), c.x(4), eps=float(c.attr("epsilon", 1e-5)),
                         momentum=float(c.attr("momentum", 0.9)), fix_gamma=False,
                         use_global_stats=True)


@onnx_op("InstanceNormalization")
def instance_norm(c):
    return c.F.InstanceNorm(c.x(0), c.x(1), c.x(2), eps=float(c.attr("epsilon", 1e-5)))


@onnx_op("LRN")
def lrn(c):
    return c.F.LRN(c.x(0), alpha=float(c.attr("alpha", 1e-4)), beta=float(c.attr("beta", 0.75)),
                   knorm=float(c.attr("bias", 1.0)), nsize=int(c.need_attr("size")))


@onnx_op("LeakyRelu")
def leaky_relu(c):
    return c.F.LeakyReLU(c.x(0), act_type="leaky", slope=float(c.attr("alpha", 0.01)))


@onnx_op("Elu")
def elu(c):
    return c.F.LeakyReLU(c.x(0), act_type="elu", slope=float(c.attr("alpha", 1.0)))


@onnx_op("Selu")
def selu(c):
    F = c.F
    alpha, gamma = float(c.attr("alpha", 1.67326319217681884765625)), float(
        c.attr("gamma", 1.05070102214813232421875))
    return F._mul_scalar(F.LeakyReLU(c.x(0), act_type="elu", slope=alpha), scalar=gamma)


@onnx_op("Celu")
def celu(c):
    F = c.F
    alpha = float(c.attr("alpha", 1.0))
    x = F._div_scalar(c.x(0), scalar=alpha)
    return F._mul_scalar(F.LeakyReLU(x, act_type="elu", slope=1.0), scalar=alpha)


@onnx_op("PRelu")
def prelu(c):
    """relu(x) - slope * relu(-x), slope broadcast (unidirectionally) to x."""
    F = c.F
    x, slope = c.x(0), c.x(1)
    neg = F._mul_scalar(F.relu(F.negative(x)), scalar=-1.0)
    return F.broadcast_add(F.relu(x), F.broadcast_mul(slope, neg))


@onnx_op("ThresholdedRelu")
def thresholded_relu(c):
    F = c.F
    x = c.x(0)
    return F.broadcast_mul(x, F._greater_scalar(x, scalar=float(c.attr("alpha", 1.0))))


@onnx_op("HardSigmoid")
def hard_sigmoid(c):
    F = c.F
    y = F._plus_scalar(F._mul_scalar(c.x(0), scalar=float(c.attr("alpha", 0.2))),
                       scalar=float(c.attr("beta", 0.5)))
    return F.clip(y, a_min=0.0, a_max=1.0)


@onnx_op("HardSwish")
def hard_swish(c):
    F = c.F
    x = c.x(0)
    return F.broadcast_mul(x, F.clip(F._plus_scalar(F._div_scalar(x, scalar=6.0), scalar=0.5),
                                     a_min=0.0, a_max=1.0))


@onnx_op("Mish")
def mish(c):
    F = c.F
    x = c.x(0)
    return F.broadcast_mul(x, F.tanh(F.Activation(x, act_type="softrelu")))


@onnx_op("Shrink")
def shrink(c):
    F = c.F
    x = c.x(0)
    lam, bias = float(c.attr("lambd", 0.5)), float(c.attr("bias", 0.0))
    up = F.broadcast_mul(F._minus_scalar(x, scalar=bias), F._greater_scalar(x, scalar=lam))
    lo = F.broadcast_mul(F._plus_scalar(x, scalar=bias), F._lesser_scalar(x, scalar=-lam))
    return F.broadcast_add(up, lo)


def _softmax_like(c, fn):
    x = c.x(0)
    r = c.rank(0)
    if c.opset >= 13:
        return fn(x, axis=int(c.attr("axis", -1)) % r)
    axis = int(c.attr("axis", 1)) % r
    s = c.shape(0)
    flat = x.reshape((int(np.prod(s[:axis], dtype=np.int64)), -1))
    return fn(flat, axis=1).reshape(s)


@onnx_op("Softmax")
def softmax(c):
    return _softmax_like(c, lambda x, axis: c.F.softmax(x, axis=axis))


@onnx_op("LogSoftmax")
def log_softmax(c):
    return _softmax_like(c, lambda x, axis: c.F.log_softmax(x, axis=axis))


@onnx_op("Hardmax")
def hardmax(c):
    F = c.F

    def hm(x, axis):
        n = c.shape(0)[axis] if c.opset >= 13 else None
        idx = F.argmax(x, axis=axis, keepdims=False)
        depth = n if n is not None else int(np.prod(c.shape(0)[int(c.attr("axis", 1)) % c.rank(0):]))
        oh = F.one_hot(idx, depth=depth, dtype=c.dtype(0).name)
        r = len(c.shape(0)) if c.opset >= 13 else 2
        if axis != r - 1:
            axes = list(range(r - 1))
            axes.insert(axis, r - 1)
            oh = F.transpose(oh, axes=tuple(axes))
        return oh
    return _softmax_like(c, hm)
