"""Caffe layers without weights -> plait symbols: activations, element-wise math, blob
plumbing (Eltwise, Concat, Slice, Split, Flatten, Reshape, Crop, Permute), Softmax, ArgMax.

Same handler contract as layers_nn.py: `fn(b, layer, ins) -> [(symbol, caffe_shape)]`.
"""
import math

import numpy as np

from .layers_nn import HANDLERS, handler


def _one(b, layer, ins):
    if len(ins) != 1:
        b.error(layer, "expected 1 bottom, got %d" % len(ins))
    return ins[0]


def _unary(fn):
    def run(b, layer, ins):
        x, shape = _one(b, layer, ins)
        return [(fn(b, layer, x), shape)]
    return run


def _relu(b, layer, x):
    slope = layer.msg.relu_param.negative_slope
    if slope:
        return b.S.LeakyReLU(x, act_type="leaky", slope=slope, name=layer.name)
    return b.S.relu(x, name=layer.name)


def _power(b, layer, x):
    """Power: (shift + scale * x) ^ power."""
    p = layer.msg.power_param
    y = x
    if p.scale != 1:
        y = y * p.scale
    if p.shift != 0:
        y = y + p.shift
    if p.power != 1:
        y = y ** p.power
    return b.S.identity(y, name=layer.name)


def _exp(b, layer, x):
    """Exp: base ^ (shift + scale * x), base -1 meaning e."""
    p = layer.msg.exp_param
    if p.base != -1 and p.base <= 0:
        b.error(layer, "base must be -1 (e) or > 0, got %g" % p.base)
    k = 1.0 if p.base == -1 else math.log(p.base)
    y = x * (p.scale * k) if p.scale * k != 1 else x
    if p.shift:
        y = y + p.shift * k
    return b.S.exp(y, name=layer.name)


def _log(b, layer, x):
    """Log: log_base(shift + scale * x), base -1 meaning e."""
    p = layer.msg.log_param
    if p.base != -1 and (p.base <= 0 or p.base == 1):
        b.error(layer, "base must be -1 (e) or > 0 and != 1, got %g" % p.base)
    y = x * p.scale if p.scale != 1 else x
    if p.shift:
        y = y + p.shift
    y = b.S.log(y, name=layer.name if p.base == -1 else layer.name + "_ln")
    if p.base != -1:
        y = b.S.identity(y * (1.0 / math.log(p.base)), name=layer.name)
    return y


HANDLERS.update({
    "ReLU": _unary(_relu),
    "Sigmoid": _unary(lambda b, ly, x: b.S.sigmoid(x, name=ly.name)),
    "TanH": _unary(lambda b, ly, x: b.S.tanh(x, name=ly.name)),
    "AbsVal": _unary(lambda b, ly, x: b.S.abs(x, name=ly.name)),
    "BNLL": _unary(lambda b, ly, x: b.S.Activation(x, act_type="softrelu", name=ly.name)),
    "ELU": _unary(lambda b, ly, x: b.S.LeakyReLU(x, act_type="elu",
                                                 slope=ly.msg.elu_param.alpha, name=ly.name)),
    "Threshold": _unary(lambda b, ly, x: b.S._greater_scalar(
        x, scalar=ly.msg.threshold_param.threshold, name=ly.name)),
    "Clip": _unary(lambda b, ly, x: b.S.clip(x, a_min=ly.msg.clip_param.min,
                                             a_max=ly.msg.clip_param.max, name=ly.name)),
    "Power": _unary(_power), "Exp": _unary(_exp), "Log": _unary(_log),
    "Dropout": _unary(lambda b, ly, x: x),  # deploy: identity (Caffe scales at train time)
})


@handler("Softmax")
def softmax(b, layer, ins):
    x, shape = _one(b, layer, ins)
    axis = layer.msg.softmax_param.axis % len(shape)
    return [(b.S.softmax(x, axis=axis, name=layer.name), shape)]


@handler("Eltwise")
def eltwise(b, layer, ins):
    p = layer.msg.eltwise_param
    shapes = {tuple(s) for _, s in ins}
    if len(ins) < 2 or len(shapes) != 1:
        b.error(layer, "needs 2 or more bottoms of one shape, got shapes %s"
                % [s for _, s in ins])
    xs = [x for x, _ in ins]
    if p.coeff and (p.operation != 1 or len(p.coeff) != len(xs)):
        b.error(layer, "coeff needs operation SUM and one value per bottom (%d bottoms, "
                "%d coeffs)" % (len(xs), len(p.coeff)))
    y = xs[0] if not p.coeff or p.coeff[0] == 1 else xs[0] * p.coeff[0]
    for i, x in enumerate(xs[1:], 1):
        if p.operation == 0:
            y = b.S.elemwise_mul(y, x)
        elif p.operation == 2:
            y = b.S._maximum(y, x)
        else:
            c = p.coeff[i] if p.coeff else 1.0
            y = y + x if c == 1 else (y - x if c == -1 else y + x * c)
    return [(b.S.identity(y, name=layer.name), ins[0][1])]


@handler("Concat")
def concat(b, layer, ins):
    p = layer.msg.concat_param
    first = ins[0][1]
    axis = (p.axis if p.HasField("axis") or not p.HasField("concat_dim") else p.concat_dim)
    axis %= len(first)
    for _, s in ins:
        if len(s) != len(first) or any(a != c for i, (a, c) in enumerate(zip(s, first))
                                       if i != axis):
            b.error(layer, "bottoms of shapes %s differ outside axis %d"
                    % ([s for _, s in ins], axis))
    if len(ins) == 1:
        return [ins[0]]
    out = list(first)
    out[axis] = sum(s[axis] for _, s in ins)
    y = b.S.Concat(*[x for x, _ in ins], dim=axis, num_args=len(ins), name=layer.name)
    return [(y, tuple(out))]


@handler("Slice")
def slice_layer(b, layer, ins):
    x, shape = _one(b, layer, ins)
    p = layer.msg.slice_param
    axis = (p.axis if p.HasField("axis") or not p.HasField("slice_dim") else p.slice_dim)
    axis %= len(shape)
    n, size = len(layer.top), shape[axis]
    if p.slice_point:
        pts = list(p.slice_point)
        if len(pts) != n - 1 or pts != sorted(pts) or pts[0] <= 0 or pts[-1] >= size:
            b.error(layer, "slice_point %s must be %d increasing points inside (0, %d)"
                    % (pts, n - 1, size))
    else:
        if size % n:
            b.error(layer, "axis %d of size %d does not split into %d equal tops"
                    % (axis, size, n))
        pts = [size // n * i for i in range(1, n)]
    bounds = [0] + pts + [size]
    out = []
    for i in range(n):
        s = list(shape)
        s[axis] = bounds[i + 1] - bounds[i]
        y = b.S.slice_axis(x, axis=axis, begin=bounds[i], end=bounds[i + 1],
                           name="%s_%d" % (layer.name, i))
        out.append((y, tuple(s)))
    return out


@handler("Split")
def split(b, layer, ins):
    return [_one(b, layer, ins)] * len(layer.top)


@handler("Flatten")
def flatten(b, layer, ins):
    x, shape = _one(b, layer, ins)
    p = layer.msg.flatten_param
    a, e = p.axis % len(shape), p.end_axis % len(shape)
    out = shape[:a] + (int(np.prod(shape[a:e + 1])),) + shape[e + 1:]
    y = b.S.reshape(x, shape=(0,) * a + (-1,) + shape[e + 1:], name=layer.name)
    return [(y, out)]


@handler("Reshape")
def reshape(b, layer, ins):
    x, shape = _one(b, layer, ins)
    p = layer.msg.reshape_param
    dims = [int(d) for d in p.shape.dim]
    start = p.axis if p.axis >= 0 else len(shape) + 1 + p.axis
    end = len(shape) if p.num_axes == -1 else start + p.num_axes
    if not 0 <= start <= end <= len(shape) or dims.count(-1) > 1:
        b.error(layer, "axis %d / num_axes %d / dims %s do not fit the bottom shape %s"
                % (p.axis, p.num_axes, dims, shape))
    new = [shape[start + i] if d == 0 else d for i, d in enumerate(dims)]
    out = list(shape[:start]) + new + list(shape[end:])
    total = int(np.prod(shape))
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1]))
        if known == 0 or total % known:
            b.error(layer, "cannot reshape %s into %s" % (shape, dims))
        out[out.index(-1)] = total // known
    if int(np.prod(out)) != total:
        b.error(layer, "cannot reshape %s (%d values) into %s" % (shape, total, tuple(out)))
    keep_batch = start > 0 or dims[:1] == [0]  # leave the batch size free in the graph
    target = [0] + out[1:] if keep_batch else out
    return [(b.S.reshape(x, shape=tuple(target), name=layer.name), tuple(out))]


@handler("Crop")
def crop(b, layer, ins):
    """Crop bottom 0 to bottom 1's shape from `axis` on, starting at `offset` (one value for
    all cropped axes or one per axis)."""
    if len(ins) != 2:
        b.error(layer, "expected 2 bottoms (data, reference), got %d" % len(ins))
    (x, shape), (_, ref) = ins
    p = layer.msg.crop_param
    axis = p.axis % len(shape)
    n = len(shape) - axis
    offs = list(p.offset)
    if len(offs) not in (0, 1, n):
        b.error(layer, "offset has %d values; expected 0, 1 or %d" % (len(offs), n))
    offs = [0] * n if not offs else (offs * n if len(offs) == 1 else offs)
    begin = [None] * axis + offs
    end = [None] * axis + [o + r for o, r in zip(offs, ref[axis:])]
    if any(e > s for e, s in zip(end[axis:], shape[axis:])):
        b.error(layer, "offset %s + reference shape %s exceeds the bottom shape %s"
                % (offs, ref, shape))
    y = b.S.slice(x, begin=tuple(begin), end=tuple(end), name=layer.name)
    return [(y, tuple(shape[:axis]) + tuple(ref[axis:]))]


@handler("Permute")
def permute(b, layer, ins):
    x, shape = _one(b, layer, ins)
    order = [int(o) for o in layer.msg.permute_param.order]
    if len(set(order)) != len(order) or any(o >= len(shape) for o in order):
        b.error(layer, "order %s is not a permutation of the axes of shape %s" % (order, shape))
    order += [a for a in range(len(shape)) if a not in order]
    y = b.S.transpose(x, axes=tuple(order), name=layer.name)
    return [(y, tuple(shape[o] for o in order))]


@handler("ArgMax")
def argmax(b, layer, ins):
    """Caffe's ArgMax: without axis, per sample over all other values, top (N, 1, top_k), or
    (N, 2, top_k) with the values when out_max_val; with axis, top_k along that axis
    (values instead of indices when out_max_val)."""
    x, shape = _one(b, layer, ins)
    p = layer.msg.argmax_param
    k = p.top_k
    if p.HasField("axis"):
        axis = p.axis % len(shape)
        if k > shape[axis]:
            b.error(layer, "top_k %d exceeds axis %d of size %d" % (k, axis, shape[axis]))
        kind = "value" if p.out_max_val else "indices"
        out = list(shape)
        out[axis] = k
        if kind == "value":
            return [(b.S.topk(x, axis=axis, k=k, ret_typ=kind, is_ascend=False,
                              name=layer.name), tuple(out))]
        y = b.S.topk(x, axis=axis, k=k, ret_typ=kind, is_ascend=False, name=layer.name + "_k")
        return [(b.S.Cast(y, dtype="float32", name=layer.name), tuple(out))]
    flat = b.S.reshape(x, shape=(0, -1), name=layer.name + "_flat")
    if k > int(np.prod(shape[1:])):
        b.error(layer, "top_k %d exceeds the %d values per sample" % (k, np.prod(shape[1:])))
    idx = b.S.Cast(b.S.topk(flat, axis=1, k=k, ret_typ="indices", is_ascend=False),
                   dtype="float32")
    idx = b.S.expand_dims(idx, axis=1)
    if not p.out_max_val:
        return [(b.S.identity(idx, name=layer.name), (shape[0], 1, k))]
    val = b.S.expand_dims(b.S.topk(flat, axis=1, k=k, ret_typ="value", is_ascend=False), axis=1)
    return [(b.S.Concat(idx, val, dim=1, num_args=2, name=layer.name), (shape[0], 2, k))]
