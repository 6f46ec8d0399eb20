"""Caffe layers with weights or window arithmetic -> plait symbols.

Each handler is `fn(b, layer, ins) -> [(symbol, caffe_shape) per top]`, where `b` is the
converter's Builder (core/caffe/convert.py: `b.S` is mx.sym, `b.param` declares a weight blob,
`b.error` raises naming file and layer) and `ins` holds (symbol, shape) per bottom.  Output
shapes follow Caffe's own formulas, so the converter knows every blob's shape while it builds
(and checks the caffemodel's blobs against them before writing anything).
"""
import numpy as np

HANDLERS = {}


def handler(*types):
    def deco(fn):
        for t in types:
            HANDLERS[t] = fn
        return fn
    return deco


def _spatial(b, layer, p, base, n, default, scalar=False):
    """Caffe's kernel/pad/stride/dilation: n values from `base` (one value for all axes or one
    per axis) or from base_h/base_w (both required, except a convolution's pad)."""
    h, w = base.replace("_size", "") + "_h", base.replace("_size", "") + "_w"
    if n == 2 and h in p.DESCRIPTOR.fields_by_name and (p.HasField(h) or p.HasField(w)):
        if (base != "pad" or scalar) and not (p.HasField(h) and p.HasField(w)):
            b.error(layer, "%s and %s must be given together" % (h, w))
        if base in p.DESCRIPTOR.fields_by_name and (
                p.HasField(base) if scalar else len(getattr(p, base))):
            b.error(layer, "give either %s or %s/%s, not both" % (base, h, w))
        return (getattr(p, h), getattr(p, w))
    if scalar:
        vals = [getattr(p, base)] if p.HasField(base) else []
    else:
        vals = list(getattr(p, base))
    if not vals:
        if default is None:
            b.error(layer, "%s is required" % base)
        return (default,) * n
    if len(vals) == 1:
        return (int(vals[0]),) * n
    if len(vals) != n:
        b.error(layer, "%s has %d values for %d spatial axes" % (base, len(vals), n))
    return tuple(int(v) for v in vals)


def _conv_geometry(b, layer, p, shape):
    n = len(shape) - 2
    if n < 1 or p.axis not in (1, -len(shape) + 1):
        b.error(layer, "expected channel axis 1 of an N-d blob, got bottom shape %s and axis %d"
                % (shape, p.axis))
    k = _spatial(b, layer, p, "kernel_size", n, None)
    s = _spatial(b, layer, p, "stride", n, 1)
    pad = _spatial(b, layer, p, "pad", n, 0)
    d = _spatial(b, layer, p, "dilation", n, 1)
    g = p.group
    if not p.HasField("num_output") or g < 1 or shape[1] % g or p.num_output % g:
        b.error(layer, "num_output %d and input channels %d must be divisible by group %d"
                % (p.num_output, shape[1], g))
    return k, s, pad, d, g


@handler("Convolution")
def conv(b, layer, ins):
    (x, shape), = ins
    p = layer.msg.convolution_param
    k, s, pad, d, g = _conv_geometry(b, layer, p, shape)
    out_sp = tuple((i + 2 * pp - (dd * (kk - 1) + 1)) // ss + 1
                   for i, pp, kk, ss, dd in zip(shape[2:], pad, k, s, d))
    if min(out_sp) < 1:
        b.error(layer, "kernel %s with pad %s does not fit the bottom of shape %s"
                % (k, pad, shape))
    w = b.param(layer, 0, "weight", (p.num_output, shape[1] // g) + k)
    bias = b.param(layer, 1, "bias", (p.num_output,)) if p.bias_term else None
    y = b.S.Convolution(x, w, bias, kernel=k, stride=s, pad=pad, dilate=d,
                        num_filter=p.num_output, num_group=g, no_bias=not p.bias_term,
                        name=layer.name)
    return [(y, shape[:1] + (p.num_output,) + out_sp)]


@handler("Deconvolution")
def deconv(b, layer, ins):
    (x, shape), = ins
    p = layer.msg.convolution_param
    k, s, pad, d, g = _conv_geometry(b, layer, p, shape)
    out_sp = tuple(ss * (i - 1) + dd * (kk - 1) + 1 - 2 * pp
                   for i, pp, kk, ss, dd in zip(shape[2:], pad, k, s, d))
    # Caffe stores deconvolution weights as (in, out / group, k...): MXNet's layout too
    w = b.param(layer, 0, "weight", (shape[1], p.num_output // g) + k)
    bias = b.param(layer, 1, "bias", (p.num_output,)) if p.bias_term else None
    y = b.S.Deconvolution(x, w, bias, kernel=k, stride=s, pad=pad, dilate=d,
                          num_filter=p.num_output, num_group=g, no_bias=not p.bias_term,
                          name=layer.name)
    return [(y, shape[:1] + (p.num_output,) + out_sp)]


@handler("Pooling")
def pooling(b, layer, ins):
    """Caffe's output size is ceil((i + 2p - k) / s) + 1 (round_mode CEIL), minus one when the
    last window would start inside the right padding; plait's 'full' convention is the ceil
    without that clipping, so the extra last position is sliced off."""
    (x, shape), = ins
    p = layer.msg.pooling_param
    if len(shape) != 4:
        b.error(layer, "Caffe pooling needs a 4-d bottom, got shape %s" % (shape,))
    kinds = {0: "max", 1: "avg"}
    if p.pool not in kinds:
        b.error(layer, "pool method STOCHASTIC is not supported (only MAX and AVE)")
    if p.global_pooling:
        y = b.S.Pooling(x, kernel=(1, 1), global_pool=True, pool_type=kinds[p.pool],
                        name=layer.name)
        return [(y, shape[:2] + (1, 1))]
    k = _spatial(b, layer, p, "kernel_size", 2, None, scalar=True)
    s = _spatial(b, layer, p, "stride", 2, 1, scalar=True)
    pad = _spatial(b, layer, p, "pad", 2, 0, scalar=True)
    if any(pp >= kk for pp, kk in zip(pad, k)):
        b.error(layer, "pad %s must be smaller than kernel %s" % (pad, k))
    ceil = p.round_mode == 0
    caffe_sp, plait_sp = [], []
    for i, kk, ss, pp in zip(shape[2:], k, s, pad):
        span = i + 2 * pp - kk
        if span < 0:
            b.error(layer, "kernel %s is larger than the padded bottom %s" % (k, shape))
        o = (-(-span // ss) if ceil else span // ss) + 1
        plait_sp.append(o)
        if pp and (o - 1) * ss >= i + pp:
            o -= 1
        caffe_sp.append(o)
    # Caffe's size is the floor or the ceil size per axis: one convention covers both axes
    # unless they differ, then 'full' and the extra positions are sliced off
    floor_sp = [(i + 2 * pp - kk) // ss + 1 for i, kk, ss, pp in zip(shape[2:], k, s, pad)]
    full = caffe_sp != floor_sp
    if not full:
        plait_sp = floor_sp
    cut = [ax for ax, (o, po) in enumerate(zip(caffe_sp, plait_sp)) if o != po]
    y = b.S.Pooling(x, kernel=k, stride=s, pad=pad, pool_type=kinds[p.pool],
                    pooling_convention="full" if full else "valid", count_include_pad=True,
                    name=layer.name + "_full" if cut else layer.name)
    for ax in cut:  # the last op of a layer carries the layer's name
        y = b.S.slice_axis(y, axis=2 + ax, begin=0, end=caffe_sp[ax],
                           name=layer.name if ax == cut[-1] else "%s_clip%d" % (layer.name, ax))
    return [(y, shape[:2] + tuple(caffe_sp))]


@handler("InnerProduct")
def inner_product(b, layer, ins):
    (x, shape), = ins
    p = layer.msg.inner_product_param
    axis = p.axis % len(shape)
    k = int(np.prod(shape[axis:]))
    n = p.num_output
    if p.transpose:  # Caffe stores (K, N) then
        w = b.param(layer, 0, "weight", (k, n), to_plait=lambda a: np.ascontiguousarray(a.T),
                    plait_shape=(n, k))
    else:
        w = b.param(layer, 0, "weight", (n, k))
    bias = b.param(layer, 1, "bias", (n,)) if p.bias_term else None
    if axis == 1:
        y = b.S.FullyConnected(x, w, bias, num_hidden=n, no_bias=not p.bias_term,
                               flatten=True, name=layer.name)
    else:
        x = b.S.reshape(x, shape=(0,) * axis + (-1,), name=layer.name + "_flat")
        y = b.S.FullyConnected(x, w, bias, num_hidden=n, no_bias=not p.bias_term,
                               flatten=False, name=layer.name)
    return [(y, shape[:axis] + (n,))]


@handler("LRN")
def lrn(b, layer, ins):
    (x, shape), = ins
    p = layer.msg.lrn_param
    if p.local_size % 2 == 0:
        b.error(layer, "local_size must be odd, got %d" % p.local_size)
    if p.norm_region == 0:  # ACROSS_CHANNELS: x / (k + alpha/n * sum x^2)^beta
        y = b.S.LRN(x, alpha=p.alpha, beta=p.beta, knorm=p.k, nsize=p.local_size,
                    name=layer.name)
        return [(y, shape)]
    # WITHIN_CHANNEL: x * (1 + alpha * mean of x^2 over an n x n window)^-beta, the mean
    # always over n*n values (zero padding counted), as Caffe's AVE pooling with pad
    n = p.local_size
    sq = b.S.square(x, name=layer.name + "_sq")
    avg = b.S.Pooling(sq, kernel=(n, n), stride=(1, 1), pad=((n - 1) // 2,) * 2,
                      pool_type="avg", count_include_pad=True, name=layer.name + "_avg")
    den = (avg * p.alpha + 1.0) ** (-p.beta)
    return [(b.S.elemwise_mul(x, den, name=layer.name), shape)]


def _scale_shape(b, layer, shape, axis, num_axes, other=None):
    axis = axis % len(shape) if shape else axis
    if other is not None:
        num = len(other)
    else:
        num = len(shape) - axis if num_axes == -1 else num_axes
    pshape = tuple(shape[axis:axis + num])
    if other is not None and tuple(other) != pshape:
        b.error(layer, "second bottom of shape %s does not match bottom dims %s from axis %d"
                % (tuple(other), pshape, axis))
    bshape = (1,) * axis + pshape + (1,) * (len(shape) - axis - num)
    return pshape, bshape


@handler("BatchNorm")
def batch_norm(b, layer, ins):
    """Caffe keeps sum-like running stats and a scale-factor blob: mean = blob0 / blob2 (a zero
    factor gives zero stats).  A following Scale layer (found by the converter) is folded in
    as gamma/beta; otherwise gamma = 1 and beta = 0."""
    (x, shape), = ins
    p = layer.msg.batch_norm_param
    c = shape[1]
    factor = b.blob(layer, 2, (1,))
    f = 0.0 if factor is None or factor.reshape(-1)[0] == 0 else 1.0 / factor.reshape(-1)[0]
    mean = b.param(layer, 0, "moving_mean", (c,), aux=True, to_plait=lambda a: a * f)
    var = b.param(layer, 1, "moving_var", (c,), aux=True, to_plait=lambda a: a * f)
    scale = b.folded_scale(layer)
    if scale is not None:
        sp = scale.msg.scale_param
        gamma = b.param(scale, 0, "gamma", (c,), name=layer.name + "_gamma")
        beta = (b.param(scale, 1, "beta", (c,), name=layer.name + "_beta") if sp.bias_term
                else b.const(layer.name + "_beta", np.zeros(c, np.float32)))
    else:
        gamma = b.const(layer.name + "_gamma", np.ones(c, np.float32))
        beta = b.const(layer.name + "_beta", np.zeros(c, np.float32))
    y = b.S.BatchNorm(x, gamma, beta, mean, var, eps=p.eps, use_global_stats=True,
                      fix_gamma=False, name=layer.name)
    return [(y, shape)]


@handler("Scale")
def scale(b, layer, ins):
    x, shape = ins[0]
    if b.is_folded(layer):
        return [(x, shape)]
    p = layer.msg.scale_param
    if len(ins) == 2:
        pshape, bshape = _scale_shape(b, layer, shape, p.axis, p.num_axes, ins[1][1])
        g = b.S.reshape(ins[1][0], shape=bshape, name=layer.name + "_s")
    else:
        pshape, bshape = _scale_shape(b, layer, shape, p.axis, p.num_axes)
        g = b.param(layer, 0, "gamma", pshape, to_plait=lambda a: a.reshape(bshape),
                    plait_shape=bshape)
    y = b.S.broadcast_mul(x, g, name=layer.name if not p.bias_term else layer.name + "_mul")
    if p.bias_term:
        beta = b.param(layer, 1 if len(ins) == 1 else 0, "beta", pshape,
                       to_plait=lambda a: a.reshape(bshape), plait_shape=bshape)
        y = b.S.broadcast_add(y, beta, name=layer.name)
    return [(y, shape)]


@handler("Bias")
def bias_layer(b, layer, ins):
    x, shape = ins[0]
    p = layer.msg.bias_param
    if len(ins) == 2:
        _, bshape = _scale_shape(b, layer, shape, p.axis, p.num_axes, ins[1][1])
        v = b.S.reshape(ins[1][0], shape=bshape, name=layer.name + "_b")
    else:
        pshape, bshape = _scale_shape(b, layer, shape, p.axis, p.num_axes)
        v = b.param(layer, 0, "bias", pshape, to_plait=lambda a: a.reshape(bshape),
                    plait_shape=bshape)
    return [(b.S.broadcast_add(x, v, name=layer.name), shape)]


@handler("PReLU")
def prelu(b, layer, ins):
    (x, shape), = ins
    shared = layer.msg.prelu_param.channel_shared
    g = b.param(layer, 0, "gamma", (1,) if shared else (shape[1],))
    return [(b.S.LeakyReLU(x, g, act_type="prelu", name=layer.name), shape)]


@handler("Embed")
def embed(b, layer, ins):
    (x, shape), = ins
    p = layer.msg.embed_param
    w = b.param(layer, 0, "weight", (p.input_dim, p.num_output))
    y = b.S.Embedding(x, w, input_dim=p.input_dim, output_dim=p.num_output,
                      name=layer.name if not p.bias_term else layer.name + "_lookup")
    if p.bias_term:
        bias = b.param(layer, 1, "bias", (p.num_output,))
        y = b.S.broadcast_add(y, b.S.reshape(bias, shape=(1,) * len(shape) + (-1,)),
                              name=layer.name)
    return [(y, tuple(shape) + (p.num_output,))]


@handler("Normalize")
def normalize(b, layer, ins):
    """SSD's Normalize: x / sqrt(sum x^2 + eps) * scale, the sum over (C, H, W) when
    across_spatial, else over C at each position; scale per channel unless channel_shared."""
    (x, shape), = ins
    p = layer.msg.norm_param
    axes = tuple(range(1, len(shape))) if p.across_spatial else (1,)
    ss = b.S.sum(b.S.square(x), axis=axes, keepdims=True, name=layer.name + "_ss")
    norm = b.S.sqrt(ss + p.eps, name=layer.name + "_norm")
    y = b.S.broadcast_div(x, norm, name=layer.name + "_div")
    c = 1 if p.channel_shared else shape[1]
    bshape = (1, c) + (1,) * (len(shape) - 2)
    g = b.param(layer, 0, "scale", (c,), to_plait=lambda a: a.reshape(bshape),
                plait_shape=bshape)
    return [(b.S.broadcast_mul(y, g, name=layer.name), shape)]
