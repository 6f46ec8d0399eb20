"""Import rules: element-wise math, comparisons, logic, reductions, casts, matmul/Gemm."""
import numpy as np

from . import tensors
from .import_rules import onnx_op

_BOOL = np.dtype(bool)
# integer types plait's NDArray holds but its arithmetic kernels do not: computed in a wider
# type and cast back (uint64 through int64: exact below 2**63)
WIDER = {np.dtype("int16"): "int32", np.dtype("uint16"): "int32", np.dtype("uint32"): "int64",
         np.dtype("uint64"): "int64"}


def widen(c, x, i):
    """Input tensor x (input i) in a type plait's kernels take; (tensor, dtype to cast back)."""
    dt = c.dtype(i)
    if dt in WIDER:
        return c.F.Cast(x, dtype=WIDER[dt]), dt
    return x, None


def narrow(c, x, dt):
    return x if dt is None else c.F.Cast(x, dtype=dt.name)


def _bcast_all(c, xs, shapes):
    """Broadcast every tensor of xs to the common (static) shape (ONNX multidirectional
    broadcasting), for ops whose plait version wants equal shapes."""
    target = tuple(np.broadcast_shapes(*shapes))
    return [x if tuple(s) == target else c.F.broadcast_to(x.reshape((1,) * (len(target) - len(s)) + tuple(s)) if len(s) < len(target) else x, shape=target)
            for x, s in zip(xs, shapes)], target


# -- unary ------------------------------------------------------------------------------------
_UNARY = {"Abs": "abs", "Neg": "negative", "Exp": "exp", "Log": "log", "Sqrt": "sqrt",
          "Reciprocal": "reciprocal", "Floor": "floor", "Ceil": "ceil", "Sin": "sin",
          "Cos": "cos", "Tan": "tan", "Asin": "arcsin", "Acos": "arccos", "Atan": "arctan",
          "Sinh": "sinh", "Cosh": "cosh", "Asinh": "arcsinh", "Acosh": "arccosh",
          "Atanh": "arctanh", "Tanh": "tanh", "Sigmoid": "sigmoid", "Relu": "relu",
          "Erf": "erf", "Sign": "sign", "Softsign": "softsign"}


@onnx_op("Round")
def round_half_even(c):
    """ONNX rounds halves to even; MXNet's round goes away from zero: fix the ties."""
    F = c.F
    x = c.x(0)
    r = F.round(x)
    tie = F._equal_scalar(F.abs(F.broadcast_sub(x, F.trunc(x))), scalar=0.5)
    even = F._mul_scalar(F.round(F._div_scalar(x, scalar=2.0)), scalar=2.0)
    return F.where(tie, even, r)


@onnx_op(*_UNARY)
def unary(c):
    return getattr(c.F, _UNARY[c.op_type])(c.x(0))


@onnx_op("Identity")
def identity(c):
    return c.ins[0]


@onnx_op("Softplus")
def softplus(c):
    return c.F.Activation(c.x(0), act_type="softrelu")


@onnx_op("Not")
def logical_not(c):
    F = c.F
    return F.Cast(F._equal_scalar(F.Cast(c.x(0), dtype="uint8"), scalar=0), dtype="bool")


@onnx_op("IsNaN")
def isnan(c):
    x = c.x(0)
    return c.F.Cast(c.F._not_equal(x, x), dtype="bool")


@onnx_op("IsInf")
def isinf(c):
    x, F = c.x(0), c.F
    pos, neg = c.attr("detect_positive", 1), c.attr("detect_negative", 1)
    big = F._equal_scalar(F.abs(x), scalar=float("inf")) if pos and neg else (
        F._equal_scalar(x, scalar=float("inf") if pos else float("-inf")))
    if not pos and not neg:
        big = F._mul_scalar(big, scalar=0)
    return F.Cast(big, dtype="bool")


# -- binary -----------------------------------------------------------------------------------
_BINARY = {"Add": "broadcast_add", "Sub": "broadcast_sub", "Mul": "broadcast_mul",
           "Div": "broadcast_div", "Pow": "broadcast_power", "Max": "broadcast_maximum",
           "Min": "broadcast_minimum", "Sum": "broadcast_add", "Mean": "broadcast_add"}
_COMPARE = {"Equal": "broadcast_equal", "Greater": "broadcast_greater",
            "Less": "broadcast_lesser", "GreaterOrEqual": "broadcast_greater_equal",
            "LessOrEqual": "broadcast_lesser_equal", "And": "broadcast_logical_and",
            "Or": "broadcast_logical_or", "Xor": "broadcast_logical_xor"}


def _legacy_broadcast(c, b):
    """Opset < 7 Add/Sub/...: `broadcast=1` with `axis` aligns b's dims at axis."""
    if c.opset >= 7 or not c.attr("broadcast", 0) or "axis" not in c.attrs:
        return b
    ra, sb = c.rank(0), c.shape(1)
    axis = c.attr("axis") % ra
    return b.reshape(tuple(sb) + (1,) * (ra - axis - len(sb)))


@onnx_op("Add", "Sub", "Mul", "Div")
def arith(c):
    a, back = widen(c, c.x(0), 0)
    b, _ = widen(c, _legacy_broadcast(c, c.x(1)), 1)
    out = narrow(c, getattr(c.F, _BINARY[c.op_type])(a, b), back)
    if c.op_type == "Div" and c.dtype(0) is not None and c.dtype(0).kind in "iu":
        return out  # broadcast_div of integers truncates, as ONNX's integer Div does
    return out


@onnx_op("Pow")
def power(c):
    a, b = c.x(0), c.x(1)
    ta, tb = c.dtype(0), c.dtype(1)
    if tb is not None and ta is not None and ta != tb:
        b = c.F.Cast(b, dtype=ta.name)
    return c.F.broadcast_power(a, b)


@onnx_op("Max", "Min", "Sum", "Mean")
def variadic(c):
    xs = [widen(c, c.x(i), i)[0] for i in range(len(c.ins)) if c.has(i)]
    back = widen(c, c.x(0), 0)[1]
    fn = getattr(c.F, _BINARY[c.op_type])
    out = xs[0]
    for x in xs[1:]:
        out = fn(out, x)
    if len(xs) == 1:
        out = c.F.identity(out) if hasattr(c.F, "identity") else c.F._copy(out)
    if c.op_type == "Mean":
        out = c.F._div_scalar(out, scalar=float(len(xs)))
    return narrow(c, out, back)


@onnx_op(*_COMPARE)
def compare(c):
    a, b = widen(c, c.x(0), 0)[0], widen(c, c.x(1), 1)[0]
    if c.dtype(0) == _BOOL:  # the broadcast_* kernels have no bool: compare as uint8
        a, b = c.F.Cast(a, dtype="uint8"), c.F.Cast(b, dtype="uint8")
    out = getattr(c.F, _COMPARE[c.op_type])(a, b)
    return c.F.Cast(out, dtype="bool")


@onnx_op("Mod")
def mod(c):
    a, b, F = c.x(0), c.x(1), c.F
    if c.attr("fmod", 0):  # C fmod: the sign of the dividend
        return F.broadcast_sub(a, F.broadcast_mul(F.trunc(F.broadcast_div(a, b)), b)) \
            if c.dtype(0).kind == "f" else _int_fmod(c, a, b)
    out = F.broadcast_mod(a, b)
    if c.dtype(0).kind == "f":  # x mod 0 is NaN in ONNX (NumPy), 0 in MXNet
        shape = tuple(np.broadcast_shapes(c.shape(0), c.shape(1)))
        (zero_b, out), _ = _bcast_all(c, [F._equal_scalar(b, scalar=0.0), out], [c.shape(1), shape])
        out = F.where(zero_b, F._plus_scalar(F.zeros_like(out), scalar=float("nan")), out)
    return out


def _int_fmod(c, a, b):
    F = c.F
    q = F.broadcast_div(a, b)  # integer division truncating toward zero
    return F.broadcast_sub(a, F.broadcast_mul(q, b))


@onnx_op("Where")
def where(c):
    F = c.F
    xs, _ = _bcast_all(c, [c.x(0), c.x(1), c.x(2)], [c.shape(0), c.shape(1), c.shape(2)])
    dt = c.dtype(1)
    if dt == _BOOL:  # where() has no bool kernel: select in uint8
        xs = [F.Cast(x, dtype="uint8") for x in xs]
        return F.Cast(F.where(*xs), dtype="bool")
    return F.where(F.Cast(xs[0], dtype=dt.name), xs[1], xs[2])


# -- casts ------------------------------------------------------------------------------------
def _cast(c, x, dtype):
    if c.dtype(0) is not None and c.dtype(0) == dtype:
        return c.F.identity(x) if hasattr(c.F, "identity") else x
    return c.F.Cast(x, dtype=dtype.name)


@onnx_op("Cast")
def cast(c):
    to = c.need_attr("to")
    dtype = tensors.np_dtype(to, "Cast's 'to'") if to in tensors.ONNX_TO_NP else None
    if dtype is None or dtype == object:
        c.unsupported("Cast to %s is not supported" % tensors.onnx_type_name(to))
    return _cast(c, c.x(0), dtype)


@onnx_op("CastLike")
def cast_like(c):
    return _cast(c, c.x(0), c.dtype(1))


@onnx_op("Clip")
def clip(c):
    x, F = c.x(0), c.F
    if c.opset < 11:
        return F.clip(x, a_min=float(c.attr("min", -np.inf)), a_max=float(c.attr("max", np.inf)))
    for i, fn in ((1, F.broadcast_maximum), (2, F.broadcast_minimum)):
        if c.has(i):
            x = fn(x, c.x(i))
    return x


# -- reductions -------------------------------------------------------------------------------
def _reduce_axes(c, since_input):
    """(axes tuple or None for all, or 'noop')."""
    if c.opset >= since_input:
        axes = c.ints(1, None, "axes")
    else:
        axes = c.attr("axes")
    if not axes:
        return "noop" if c.attr("noop_with_empty_axes", 0) else None
    r = c.rank(0)
    return tuple(sorted(a % r for a in axes)) if r else None


def _reduce(c, fn, since_input=18, **kw):
    axes = _reduce_axes(c, since_input)
    x = c.x(0)
    if axes == "noop":
        return x
    keep = bool(c.attr("keepdims", 1))
    r = c.rank(0)
    if axes is None:
        axes = tuple(range(r))
    if 0 in [c.shape(0)[a] for a in axes]:  # reducing nothing: the op's identity
        ident = {"ReduceSum": 0, "ReduceSumSquare": 0, "ReduceL1": 0, "ReduceL2": 0,
                 "ReduceProd": 1, "ReduceMax": -np.inf, "ReduceMin": np.inf,
                 "ReduceLogSum": -np.inf, "ReduceLogSumExp": -np.inf, "ReduceMean": np.nan}
        dt = c.dtype(0)
        v = ident[c.op_type]
        if dt.kind in "iu" and not np.isfinite(v):
            v = np.iinfo(dt).min if v < 0 else np.iinfo(dt).max
        elif dt.kind == "b":
            v = v > 0
        s = c.shape(0)
        shape = [1 if i in axes else d for i, d in enumerate(s)] if keep else [
            d for i, d in enumerate(s) if i not in axes]
        return np.full(shape, v, dtype=dt)
    boolean = c.dtype(0) == _BOOL
    if boolean:
        x = c.F.Cast(x, dtype="uint8")
    out = fn(x, axis=axes, keepdims=keep, **kw)
    if boolean:
        out = c.F.Cast(out, dtype="bool")
    if not keep and len(axes) == r:
        out = c.F._onnx_reshape(out, shape=())
    return out


@onnx_op("ReduceSum", since=1)
def reduce_sum(c):
    return _reduce(c, c.F.sum, since_input=13)


def _simple_reduce(name):
    def rule(c):
        return _reduce(c, getattr(c.F, name))
    return rule


for _t, _n in (("ReduceMean", "mean"), ("ReduceMax", "max"), ("ReduceMin", "min"),
               ("ReduceProd", "prod")):
    onnx_op(_t)(_simple_reduce(_n))


@onnx_op("ReduceSumSquare")
def reduce_sum_square(c):
    return _reduce(c, lambda x, **kw: c.F.sum(c.F.square(x), **kw))


@onnx_op("ReduceL1")
def reduce_l1(c):
    return _reduce(c, lambda x, **kw: c.F.sum(c.F.abs(x), **kw))


@onnx_op("ReduceL2")
def reduce_l2(c):
    return _reduce(c, lambda x, **kw: c.F.sqrt(c.F.sum(c.F.square(x), **kw)))


@onnx_op("ReduceLogSum")
def reduce_log_sum(c):
    return _reduce(c, lambda x, **kw: c.F.log(c.F.sum(x, **kw)))


@onnx_op("ReduceLogSumExp")
def reduce_log_sum_exp(c):
    F = c.F

    def lse(x, axis, keepdims):
        m = F.max(x, axis=axis, keepdims=True)
        s = F.log(F.sum(F.exp(F.broadcast_sub(x, m)), axis=axis, keepdims=True))
        out = F.broadcast_add(s, m)
        return out if keepdims else F.squeeze(out, axis=axis)
    return _reduce(c, lse)


@onnx_op("ArgMax", "ArgMin")
def argmax(c):
    F = c.F
    x = c.x(0)
    axis = c.attr("axis", 0) % max(c.rank(0), 1)
    keep = bool(c.attr("keepdims", 1))
    fn = F.argmax if c.op_type == "ArgMax" else F.argmin
    if c.attr("select_last_index", 0):
        n = c.shape(0)[axis]
        idx = fn(F.reverse(x, axis=axis), axis=axis, keepdims=keep)
        idx = F._rminus_scalar(idx, scalar=float(n - 1))
    else:
        idx = fn(x, axis=axis, keepdims=keep)
    return F.Cast(idx, dtype="int64")


# -- matrix products --------------------------------------------------------------------------
@onnx_op("MatMul")
def matmul(c):
    F = c.F
    a, b = c.x(0), c.x(1)
    sa, sb = c.shape(0), c.shape(1)
    if len(sa) == 2 and len(sb) == 2:
        return F.dot(a, b)
    if len(sa) == 1 and len(sb) == 1:
        from .import_shape import reshape_to
        return reshape_to(F, F.dot(a, b), ())
    va, vb = len(sa) == 1, len(sb) == 1
    if va:
        a, sa = a.reshape((1,) + sa), (1,) + sa
    if vb:
        b, sb = b.reshape(sb + (1,)), sb + (1,)
    batch = tuple(np.broadcast_shapes(sa[:-2], sb[:-2]))
    nb = int(np.prod(batch, dtype=np.int64))
    if len(sb) == 2 and sa[:-2] == batch:   # (..., m, k) x (k, n): one 2-D dot
        out = F.dot(a.reshape((-1, sa[-1])), b).reshape(batch + (sa[-2], sb[-1]))
    else:
        a = F.broadcast_to(a.reshape((1,) * (len(batch) + 2 - len(sa)) + sa), shape=batch + sa[-2:]) \
            if sa[:-2] != batch else a
        b = F.broadcast_to(b.reshape((1,) * (len(batch) + 2 - len(sb)) + sb), shape=batch + sb[-2:]) \
            if sb[:-2] != batch else b
        out = F.batch_dot(a.reshape((nb,) + sa[-2:]), b.reshape((nb,) + sb[-2:]))
        out = out.reshape(batch + (sa[-2], sb[-1]))
    shape = batch + ((sa[-2],) if not va else ()) + ((sb[-1],) if not vb else ())
    from .import_shape import reshape_to
    return reshape_to(F, out, shape) if (va or vb) else out


@onnx_op("Gemm")
def gemm(c):
    F = c.F
    a, b = c.x(0), c.x(1)
    alpha, beta = float(c.attr("alpha", 1.0)), float(c.attr("beta", 1.0))
    ta, tb = bool(c.attr("transA", 0)), bool(c.attr("transB", 0))
    sb = c.shape(1)
    n = sb[0] if tb else sb[1]
    if (not ta and tb and alpha == 1.0 and beta == 1.0 and c.has(2) and c.shape(2) == (n,)
            and c.dtype(0) is not None and c.dtype(0).kind == "f"):
        return F.FullyConnected(a, b, c.x(2), num_hidden=n, flatten=False)
    out = F.dot(a, b, transpose_a=ta, transpose_b=tb)
    if alpha != 1.0:
        out = F._mul_scalar(out, scalar=alpha)
    if c.has(2):
        cc = c.x(2)
        if beta != 1.0:
            cc = F._mul_scalar(cc, scalar=beta)
        out = F.broadcast_add(out, cc)
    return out
