"""Import rules: scatter, cumulative ops, LpNormalization, quantization, ai.onnx.ml basics."""
import numpy as np

from .import_rules import onnx_op


@onnx_op("ScatterElements", "Scatter")
def scatter_elements(c):
    red = c.attr("reduction", "none")
    return c.F._onnx_scatter_elements(c.x(0), c.x(1), c.x(2), axis=int(c.attr("axis", 0)),
                                      reduction=red)


@onnx_op("ScatterND")
def scatter_nd(c):
    return c.F._onnx_scatter_nd(c.x(0), c.x(1), c.x(2), reduction=c.attr("reduction", "none"))


@onnx_op("CumSum", "CumProd")
def cumulative(c):
    axis = int(np.asarray(c.value(1, what="axis")).reshape(-1)[0])
    return c.F._onnx_cumulative(c.x(0), axis=axis, exclusive=bool(c.attr("exclusive", 0)),
                                reverse=bool(c.attr("reverse", 0)),
                                op="sum" if c.op_type == "CumSum" else "prod")


@onnx_op("LpNormalization")
def lp_normalization(c):
    F = c.F
    p = int(c.attr("p", 2))
    axis = int(c.attr("axis", -1)) % c.rank(0)
    x = c.x(0)
    if p == 1:
        n = F.sum(F.abs(x), axis=axis, keepdims=True)
    elif p == 2:
        n = F.sqrt(F.sum(F.square(x), axis=axis, keepdims=True))
    else:
        c.unsupported("p=%d (ONNX allows 1 or 2)" % p)
    # a zero norm means an all-zero slice, which stays zero (not 0/0)
    return F.broadcast_div(x, F.broadcast_add(n, F._equal_scalar(n, scalar=0.0)))


# -- quantization: integer arithmetic done exactly in float64, then cast ------------------------
def _per_axis(c, v, i, axis):
    """A scale / zero point (input i) shaped to broadcast against input 0 along `axis`."""
    s = c.shape(i)
    r = c.rank(0)
    if len(s) == 0 or s == (1,):
        return v
    if len(s) == 1:
        shape = [1] * r
        shape[axis % r] = s[0]
        return c.F.reshape(v, shape=tuple(shape))
    c.unsupported("blocked quantization (scale of shape %s) is not supported" % (s,))


def _f64(c, x):
    return c.F.Cast(x, dtype="float64")


@onnx_op("DequantizeLinear")
def dequantize(c):
    F = c.F
    axis = int(c.attr("axis", 1))
    x = _f64(c, c.x(0))
    if c.has(2):
        x = F.broadcast_sub(x, _per_axis(c, _f64(c, c.x(2)), 2, axis))
    out_t = c.dtype(1)
    return F.Cast(F.broadcast_mul(x, _per_axis(c, _f64(c, c.x(1)), 1, axis)), dtype=out_t.name)


def _round_even(F, x):
    r = F.round(x)
    tie = F._equal_scalar(F.abs(F.broadcast_sub(x, F.trunc(x))), scalar=0.5)
    return F.where(tie, F._mul_scalar(F.round(F._div_scalar(x, scalar=2.0)), scalar=2.0), r)


def _quantize(c, x, scale, zp, out_t):
    F = c.F
    q = _round_even(F, F.broadcast_div(x, scale))
    if zp is not None:
        q = F.broadcast_add(q, zp)
    info = np.iinfo(out_t)
    return F.Cast(F.clip(q, a_min=float(info.min), a_max=float(info.max)), dtype=out_t.name)


@onnx_op("QuantizeLinear")
def quantize(c):
    axis = int(c.attr("axis", 1))
    out_t = c.dtype(2) if c.has(2) else np.dtype(np.uint8)
    if out_t.kind not in "iu":
        c.unsupported("quantizing to %s is not supported" % out_t)
    # divide in the input's float type, as ONNX does (float64 would round ties differently)
    ft = c.dtype(0) if c.dtype(0).kind == "f" else np.dtype("float64")
    zp = _per_axis(c, _f64(c, c.x(2)), 2, axis) if c.has(2) else None
    x = c.F.Cast(c.x(0), dtype=ft.name)
    scale = c.F.Cast(_per_axis(c, c.x(1), 1, axis), dtype=ft.name)
    q = c.F.broadcast_div(x, scale)
    return _quantize(c, _f64(c, q), _f64(c, c.F.ones_like(scale)), zp, out_t)


@onnx_op("DynamicQuantizeLinear")
def dynamic_quantize(c):
    F = c.F
    x = c.x(0)  # float32, as ONNX computes it
    axes = tuple(range(c.rank(0)))
    lo = F.broadcast_minimum(F.reshape(F.min(x, axis=axes), shape=(1,)), _zero(c))
    hi = F.broadcast_maximum(F.reshape(F.max(x, axis=axes), shape=(1,)), _zero(c))
    scale = F._div_scalar(F.broadcast_sub(hi, lo), scalar=255.0)
    zp = F.clip(_round_even(F, F._rminus_scalar(F.broadcast_div(lo, scale), scalar=0.0)),
                a_min=0.0, a_max=255.0)
    y = _quantize(c, _f64(c, F.broadcast_div(x, scale)), _f64(c, F.ones_like(scale)),
                  _f64(c, zp), np.dtype(np.uint8))
    from .import_shape import reshape_to
    return [y, reshape_to(F, F.Cast(scale, dtype="float32"), ()),
            reshape_to(F, F.Cast(zp, dtype="uint8"), ())]


def _zero(c):
    from .importer import _Val
    return c.imp.tensor(_Val(c.name + "_zero", const=np.zeros((1,), c.dtype(0))), c.F)


def _centered(c, i, zp_i, zp_axis):
    """Input i minus its zero point (per-tensor, or per-channel along zp_axis), as float64."""
    x = _f64(c, c.x(i))
    if c.has(zp_i):
        zp = _f64(c, c.x(zp_i))
        if c.rank(zp_i) == 1 and c.shape(zp_i)[0] > 1:
            shape = [1] * c.rank(i)
            shape[zp_axis] = c.shape(zp_i)[0]
            zp = c.F.reshape(zp, shape=tuple(shape))
        x = c.F.broadcast_sub(x, zp)
    return x


@onnx_op("MatMulInteger")
def matmul_integer(c):
    from .import_math import matmul
    a, b = _centered(c, 0, 2, 0), _centered(c, 1, 3, -1)
    out = _matmul_values(c, matmul, a, b)
    return c.F.Cast(out, dtype="int32")


def _matmul_values(c, rule, a, b):
    """Run the MatMul rule on tensors a, b (shapes of inputs 0 and 1)."""
    return rule(_SubCtx(c, [a, b]))


class _SubCtx:
    """A NodeCtx look-alike whose inputs are given tensors (shapes from the original node)."""

    def __init__(self, c, xs, attrs=None):
        self._c, self._xs, self.attrs = c, xs, dict(attrs or {})
        self.F, self.op_type, self.opset, self.name = c.F, c.op_type, c.opset, c.name

    def x(self, i):
        return self._xs[i]

    def has(self, i):
        return i < len(self._xs) and self._xs[i] is not None

    def shape(self, i):
        return self._c.shape(i)

    def rank(self, i):
        return len(self._c.shape(i))

    def dtype(self, i):
        return np.dtype("float64")

    def attr(self, k, d=None):
        return self.attrs.get(k, d)

    def need_attr(self, k):
        return self.attrs[k]

    def fail(self, msg):
        self._c.fail(msg)

    unsupported = fail


@onnx_op("ConvInteger")
def conv_integer(c):
    from .import_nn import conv
    x, w = _centered(c, 0, 2, 1), _centered(c, 1, 3, 0)
    return c.F.Cast(conv(_SubCtx(c, [x, w], c.attrs)), dtype="int32")


@onnx_op("QLinearConv")
def qlinear_conv(c):
    from .import_nn import conv
    F = c.F
    x = F.broadcast_mul(F.broadcast_sub(_f64(c, c.x(0)), _f64(c, c.x(2))), _f64(c, c.x(1)))
    w = _f64(c, c.x(3))
    if c.has(5):
        zp = _f64(c, c.x(5))
        if c.rank(5) == 1 and c.shape(5)[0] > 1:
            zp = F.reshape(zp, shape=(-1, 1, 1, 1))
        w = F.broadcast_sub(w, zp)
    ws = _f64(c, c.x(4))
    if c.rank(4) == 1 and c.shape(4)[0] > 1:
        ws = F.reshape(ws, shape=(-1, 1, 1, 1))
    w = F.broadcast_mul(w, ws)
    xs = [x, w]
    if c.has(8):  # int32 bias in units of x_scale * w_scale
        b = F.broadcast_mul(_f64(c, c.x(8)), F.reshape(F.broadcast_mul(_f64(c, c.x(1)), _f64(c, c.x(4))), shape=(-1,)))
        xs.append(b)
    sub = _SubCtx(c, xs, c.attrs)
    sub.shape = lambda i: c.shape({0: 0, 1: 3, 2: 8}[i])
    y = conv(sub)
    return _quantize(c, y, _f64(c, c.x(6)), _f64(c, c.x(7)), c.dtype(7))


@onnx_op("QLinearMatMul")
def qlinear_matmul(c):
    from .import_math import matmul
    F = c.F
    a = F.broadcast_mul(F.broadcast_sub(_f64(c, c.x(0)), _f64(c, c.x(2))), _f64(c, c.x(1)))
    b = F.broadcast_mul(F.broadcast_sub(_f64(c, c.x(3)), _f64(c, c.x(5))), _f64(c, c.x(4)))
    sub = _SubCtx(c, [a, b])
    sub.shape = lambda i: c.shape({0: 0, 1: 3}[i])
    y = matmul(sub)
    return _quantize(c, y, _f64(c, c.x(6)), _f64(c, c.x(7)), c.dtype(7))


# -- ai.onnx.ml ----------------------------------------------------------------------------------
@onnx_op("ai.onnx.ml:Binarizer")
def binarizer(c):
    x = c.x(0)
    return c.F.Cast(c.F._greater_scalar(x, scalar=float(c.attr("threshold", 0.0))),
                    dtype=c.dtype(0).name)


@onnx_op("ai.onnx.ml:ArrayFeatureExtractor")
def array_feature_extractor(c):
    idx = c.F.reshape(c.x(1), shape=(-1,))
    return c.F.take(c.x(0), idx, axis=c.rank(0) - 1, mode="raise")


@onnx_op("BitShift")
def bit_shift(c):
    op = "left_shift" if c.need_attr("direction") == "LEFT" else "right_shift"
    return c.F._onnx_bitwise(c.x(0), c.x(1), op=op)


@onnx_op("BitwiseAnd", "BitwiseOr", "BitwiseXor")
def bitwise(c):
    return c.F._onnx_bitwise(c.x(0), c.x(1), op=c.op_type[7:].lower())


@onnx_op("BitwiseNot")
def bitwise_not(c):
    return c.F._onnx_bitwise_not(c.x(0))


@onnx_op("ReverseSequence")
def reverse_sequence(c):
    """MXNet's SequenceReverse reverses axis 0 per batch entry of axis 1."""
    F = c.F
    t_axis, b_axis = int(c.attr("time_axis", 0)), int(c.attr("batch_axis", 1))
    x = c.x(0)
    swap = (t_axis, b_axis) == (1, 0)
    if swap:
        x = F.SwapAxis(x, dim1=0, dim2=1)
    ft = c.dtype(0) if c.dtype(0).kind == "f" else None
    if ft is None:
        c.unsupported("ReverseSequence of %s tensors is not supported" % c.dtype(0))
    y = F.SequenceReverse(x, F.Cast(c.x(1), dtype=ft.name), use_sequence_length=True)
    return F.SwapAxis(y, dim1=0, dim2=1) if swap else y


@onnx_op("Einsum")
def einsum(c):
    xs = [c.x(i) for i in range(len(c.ins))]
    return c.F._onnx_einsum(*xs, equation=c.need_attr("equation"), num_args=len(xs))


@onnx_op("DFT")
def dft(c):
    if c.opset >= 20:
        axis = int(np.asarray(c.value(2, -2, "axis")).reshape(-1)[0])
        axis = axis if axis >= 0 else axis + c.rank(0)
    else:
        axis = int(c.attr("axis", 1))
    length = int(np.asarray(c.value(1, 0, "dft_length")).reshape(-1)[0]) if c.has(1) else 0
    return c.F._onnx_dft(c.x(0), axis=axis, length=length, inverse=bool(c.attr("inverse", 0)),
                         onesided=bool(c.attr("onesided", 0)))


@onnx_op("GridSample")
def grid_sample(c):
    mode = {"bilinear": "linear", "bicubic": "cubic"}.get(c.attr("mode", "linear"),
                                                           c.attr("mode", "linear"))
    return c.F._onnx_grid_sample(c.x(0), c.x(1), mode=mode,
                                 padding_mode=c.attr("padding_mode", "zeros"),
                                 align_corners=bool(c.attr("align_corners", 0)))


@onnx_op("BitCast")
def bitcast(c):
    from . import tensors
    dt = tensors.np_dtype(int(c.need_attr("to")), "BitCast's 'to'")
    return c.F._onnx_bitcast(c.x(0), dtype=dt.name)


@onnx_op("Col2Im")
def col2im(c):
    nd = len(c.ints(1, what="image_shape"))
    return c.F._onnx_col2im(c.x(0), image_shape=tuple(c.ints(1, what="image_shape")),
                            block_shape=tuple(c.ints(2, what="block_shape")),
                            dilations=tuple(c.attr("dilations", [1] * nd)),
                            pads=tuple(c.attr("pads", [0] * 2 * nd)),
                            strides=tuple(c.attr("strides", [1] * nd)))
