"""ONNX export rules: element-wise arithmetic (tensor, broadcast and scalar forms),
comparisons and logic, unary math, reductions, clip, where, Cast, dot/batch_dot.

MXNet's comparison and logical ops return 1/0 in the input dtype, so the ONNX boolean
result is cast back.  Scalars become 0-d initializers of the computing dtype (integer
inputs take the scalar as C casts it, as plait's kernels do).
"""
import math

import numpy as np

from ..ops.arith import _cast_scalar
from .export_context import onnx_rule, reduce


def _to(ctx, dtype):
    return ctx.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def cast(ctx, x, src, dst, out=None):
    """x cast from dtype `src` to `dst` (an Identity-free no-op when equal)."""
    if np.dtype(src) == np.dtype(dst):
        return x if out is None else ctx.add("Identity", [x], [out])[0]
    r = ctx.add("Cast", [x], None if out is None else [out], to=_to(ctx, dst))
    return r if out is None else r[0]


def _finish(ctx, node, y, ydtype):
    """Write y (of dtype ydtype) to node.outputs[0] in the node's output dtype."""
    cast(ctx, y, ydtype, node.out_dtypes[0], out=node.outputs[0])


# -- binary ops: tensor-tensor --------------------------------------------------------------------
_ARITH = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "power": "Pow",
          "maximum": "Max", "minimum": "Min"}
_COMPARE = {"equal": ("Equal", False), "not_equal": ("Equal", True), "greater": ("Greater", False),
            "greater_equal": ("GreaterOrEqual", False), "lesser": ("Less", False),
            "lesser_equal": ("LessOrEqual", False)}
_LOGIC = {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}


def _binary(ctx, node, stem, a, b, dt):
    """y = a <stem> b in dtype dt; returns (name, dtype)."""
    if stem in _ARITH:
        return ctx.add(_ARITH[stem], [a, b]), dt
    if stem in _COMPARE:
        op, neg = _COMPARE[stem]
        r = ctx.add(op, [a, b])
        return (ctx.add("Not", [r]) if neg else r), np.dtype(bool)
    if stem in _LOGIC:
        zero = ctx.scalar(0, dt)
        ba, bb = ctx.add("Not", [ctx.add("Equal", [a, zero])]), ctx.add("Not", [ctx.add(
            "Equal", [b, zero])])
        return ctx.add(_LOGIC[stem], [ba, bb]), np.dtype(bool)
    if stem == "hypot":
        if dt.kind != "f":  # computed in floating point, truncated back
            f64 = np.dtype(np.float64)
            a, b, dt = cast(ctx, a, dt, f64), cast(ctx, b, dt, f64), f64
        squares = ctx.add("Add", [ctx.add("Mul", [a, a]), ctx.add("Mul", [b, b])])
        return ctx.add("Sqrt", [squares]), dt
    if stem in ("mod", "floor_divide"):
        if dt.kind != "f":
            if stem == "mod":  # divisor's sign (ONNX Mod fmod=0); x mod 0 == 0
                zero = ctx.scalar(0, dt)
                is0 = ctx.add("Equal", [b, zero])
                safe = ctx.add("Where", [is0, ctx.scalar(1, dt), b])
                return ctx.add("Where", [is0, zero, ctx.add("Mod", [a, safe], fmod=0)]), dt
            ctx.fail(node, "integer floor_divide has no exact ONNX form")
        q = ctx.add("Floor", [ctx.add("Div", [a, b])])
        if stem == "floor_divide":
            return q, dt
        r = ctx.add("Sub", [a, ctx.add("Mul", [q, b])])
        zero = ctx.scalar(0, dt)
        return ctx.add("Where", [ctx.add("Equal", [b, zero]), zero, r]), dt
    ctx.fail(node, "no ONNX form for %s" % stem)


def _tensor_rule(stem):
    def rule(ctx, node):
        dt = node.in_dtypes[0]
        if stem in ("div", "power") and dt.kind != "f":
            ctx.fail(node, "integer %s has no exact ONNX form (MXNet's rounding rules)" % stem)
        y, ydt = _binary(ctx, node, stem, node.inputs[0], node.inputs[1], dt)
        _finish(ctx, node, y, ydt)
    return rule


for _stem in list(_ARITH) + list(_COMPARE) + list(_LOGIC) + ["hypot", "mod"]:
    onnx_rule("broadcast_" + _stem)(_tensor_rule(_stem))
for _name, _stem in [("elemwise_add", "add"), ("elemwise_sub", "sub"), ("elemwise_mul", "mul"),
                     ("elemwise_div", "div"), ("_power", "power"), ("_maximum", "maximum"),
                     ("_minimum", "minimum"), ("_mod", "mod"), ("_hypot", "hypot"),
                     ("_equal", "equal"), ("_not_equal", "not_equal"), ("_greater", "greater"),
                     ("_greater_equal", "greater_equal"), ("_lesser", "lesser"),
                     ("_lesser_equal", "lesser_equal"), ("_logical_and", "logical_and"),
                     ("_logical_or", "logical_or"), ("_logical_xor", "logical_xor")]:
    onnx_rule(_name)(_tensor_rule(_stem))
onnx_rule("broadcast_floor_divide")(_tensor_rule("floor_divide"))


# -- binary ops: tensor-scalar --------------------------------------------------------------------
_SCALAR = {"plus": "add", "minus": "sub", "mul": "mul", "div": "div", "power": "power",
           "maximum": "maximum", "minimum": "minimum", "mod": "mod", "hypot": "hypot",
           "equal": "equal", "not_equal": "not_equal", "greater": "greater",
           "greater_equal": "greater_equal", "lesser": "lesser", "lesser_equal": "lesser_equal",
           "logical_and": "logical_and", "logical_or": "logical_or",
           "logical_xor": "logical_xor", "floor_divide": "floor_divide"}


def _scalar_rule(stem, reverse):
    def rule(ctx, node):
        a = node.attrs
        src, cdt = node.in_dtypes[0], node.out_dtypes[0]  # computed in the output's dtype
        if cdt.kind in "iu" and stem in ("div", "power", "floor_divide"):
            ctx.fail(node, "integer %s has no exact ONNX form (MXNet's rounding rules)" % stem)
        x = cast(ctx, node.inputs[0], src, cdt)
        s = _cast_scalar(a.scalar, cdt) if cdt.kind in "iu" else a.scalar
        c = ctx.scalar(s, cdt)
        lhs, rhs = (c, x) if reverse else (x, c)
        y, ydt = _binary(ctx, node, stem, lhs, rhs, cdt)
        _finish(ctx, node, y, ydt)
    return rule


for _key, _stem in _SCALAR.items():
    onnx_rule("_%s_scalar" % _key)(_scalar_rule(_stem, False))
for _key in ("minus", "div", "power", "mod", "floor_divide"):
    onnx_rule("_r%s_scalar" % _key)(_scalar_rule(_SCALAR[_key], True))


# -- unary math -----------------------------------------------------------------------------------
_UNARY = {"abs": "Abs", "arccos": "Acos", "arccosh": "Acosh", "arcsin": "Asin",
          "arcsinh": "Asinh", "arctan": "Atan", "arctanh": "Atanh", "ceil": "Ceil", "cos": "Cos",
          "cosh": "Cosh", "erf": "Erf", "exp": "Exp", "floor": "Floor", "log": "Log",
          "negative": "Neg", "reciprocal": "Reciprocal", "relu": "Relu", "sigmoid": "Sigmoid",
          "sign": "Sign", "sin": "Sin", "sinh": "Sinh", "sqrt": "Sqrt", "tan": "Tan",
          "tanh": "Tanh", "softsign": "Softsign"}
_INT_EXACT = ("abs", "negative", "sign", "relu", "ceil", "floor", "square", "fix", "trunc",
              "round", "rint")


def _unary_formula(ctx, name, x, dt):
    """Ops ONNX lacks, written with ONNX ops (dtype dt)."""
    k = lambda v: ctx.scalar(v, dt)  # noqa: E731
    add = lambda op, *ins: ctx.add(op, list(ins))  # noqa: E731
    if name in _UNARY and not (name == "sign" and dt.kind == "f"):
        return add(_UNARY[name], x)
    if name == "square":
        return add("Mul", x, x)
    if name == "rsqrt":
        return add("Reciprocal", add("Sqrt", x))
    if name in ("cbrt", "rcbrt"):
        r = add("Mul", add("Sign", x), add("Pow", add("Abs", x), k(1 / 3)))
        return r if name == "cbrt" else add("Reciprocal", r)
    if name == "expm1":
        return add("Sub", add("Exp", x), k(1))
    if name == "log1p":
        return add("Log", add("Add", x, k(1)))
    if name in ("log2", "log10"):
        return add("Div", add("Log", x), k(math.log(2 if name == "log2" else 10)))
    if name == "degrees":
        return add("Mul", x, k(180 / math.pi))
    if name == "radians":
        return add("Mul", x, k(math.pi / 180))
    if name in ("fix", "trunc"):
        return add("Mul", add("Sign", x), add("Floor", add("Abs", x)))
    if name in ("round", "rint"):  # ONNX Round takes halves to even: fix exact halves
        r = add("Round", x)
        half = add("Equal", add("Abs", add("Sub", x, r)), k(0.5))
        fixed = (add("Add", x, add("Mul", add("Sign", x), k(0.5))) if name == "round"
                 else add("Sub", x, k(0.5)))  # round: away from zero; rint: toward -inf
        return ctx.add("Where", [half, fixed, r])
    if name == "sign" and dt.kind == "f":  # sign(nan) == 0
        return ctx.add("Where", [add("IsNaN", x), k(0), add("Sign", x)])
    if name == "logical_not":
        return ctx.add("Equal", [x, k(0)])
    return None


def _unary_rule(name):
    def rule(ctx, node):
        dt = node.in_dtypes[0]
        x = node.inputs[0]
        if dt.kind != "f" and name not in _INT_EXACT + ("logical_not",):
            ctx.fail(node, "%s of integer data has no exact ONNX form" % name)
        if dt.kind == "i" and name == "relu" and ctx.opset < 14:  # integer Relu: opset 14
            ctx.add("Max", [x, ctx.scalar(0, dt)], node.outputs[:1])
            return
        if dt.kind == "u" and name == "negative":  # ONNX Neg takes no unsigned: 0 - x wraps
            ctx.add("Sub", [ctx.scalar(0, dt), x], node.outputs[:1])
            return
        if dt.kind != "f" and name in ("round", "rint", "fix", "trunc", "ceil", "floor") or (
                dt.kind == "u" and name == "relu"):
            ctx.add("Identity", [x], node.outputs[:1])
            return
        y = _unary_formula(ctx, name, x, dt)
        _finish(ctx, node, y, np.dtype(bool) if name == "logical_not" else dt)
    return rule


for _name in list(_UNARY) + ["square", "rsqrt", "cbrt", "rcbrt", "expm1", "log1p", "log2",
                             "log10", "degrees", "radians", "fix", "trunc", "round", "rint",
                             "logical_not"]:
    onnx_rule(_name)(_unary_rule(_name))


@onnx_rule("smooth_l1")
def _smooth_l1(ctx, node):
    x, dt = node.inputs[0], node.in_dtypes[0]
    s2 = float(node.attrs.scalar) ** 2
    ax = ctx.add("Abs", [x])
    quad = ctx.add("Mul", [ctx.add("Mul", [x, x]), ctx.scalar(0.5 * s2, dt)])
    lin = ctx.add("Sub", [ax, ctx.scalar(0.5 / s2, dt)])
    ctx.add("Where", [ctx.add("Less", [ax, ctx.scalar(1.0 / s2, dt)]), quad, lin],
            node.outputs[:1])


# -- reductions -----------------------------------------------------------------------------------
def reduce_axes(attrs, ndim):
    """MXNet's (axis, exclude) as a sorted list of axes (None: all)."""
    axis = attrs.get("axis")
    if axis is None or (isinstance(axis, tuple) and not axis):
        return None if not attrs.get("exclude") else []
    axes = sorted({a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))})
    if attrs.get("exclude"):
        axes = [a for a in range(ndim) if a not in axes]
    return axes


def _reduce_rule(op_type):
    def rule(ctx, node):
        axes = reduce_axes(node.attrs, node.ndim)
        x = node.inputs[0]
        if axes == []:
            ctx.add("Identity", [x], node.outputs[:1])
            return
        keep = node.attrs.keepdims
        n_red = node.ndim if axes is None else len(axes)
        to_shape = not keep and len(node.out_shapes[0]) != node.ndim - n_red  # MXNet: (1,)
        dt = node.in_dtypes[0]
        if op_type in ("ReduceL1", "ReduceL2") and dt.kind != "f":  # norms in floating point
            x, dt = cast(ctx, x, dt, np.float64), np.dtype(np.float64)
        y = reduce(ctx, op_type, x, axes, keep or to_shape)
        if to_shape:
            y = ctx.add("Reshape", [y, ctx.ints(node.out_shapes[0])])
        _finish(ctx, node, y, dt)
    return rule


for _name, _op in [("sum", "ReduceSum"), ("mean", "ReduceMean"), ("max", "ReduceMax"),
                   ("min", "ReduceMin"), ("prod", "ReduceProd")]:
    onnx_rule(_name)(_reduce_rule(_op))


@onnx_rule("norm")
def _norm(ctx, node):
    if node.attrs.ord not in (1, 2):
        ctx.fail(node, "ord=%s is not supported" % node.attrs.ord)
    _reduce_rule("ReduceL1" if node.attrs.ord == 1 else "ReduceL2")(ctx, node)


def _arg_rule(op_type):
    def rule(ctx, node):
        a, x = node.attrs, node.inputs[0]
        if a.axis is None:
            x, axis = ctx.add("Reshape", [x, ctx.ints([-1])]), 0
            natural = 0
        else:
            axis = a.axis % node.ndim
            natural = node.ndim - (0 if a.keepdims else 1)
        y = ctx.add(op_type, [x], axis=axis, keepdims=int(bool(a.keepdims)), select_last_index=0)
        if len(node.out_shapes[0]) != natural:  # MXNet gives (1,) where NumPy gives ()
            y = ctx.add("Reshape", [y, ctx.ints(node.out_shapes[0])])
        _finish(ctx, node, y, np.int64)
    return rule


onnx_rule("argmax")(_arg_rule("ArgMax"))
onnx_rule("argmin")(_arg_rule("ArgMin"))


# -- misc -----------------------------------------------------------------------------------------
@onnx_rule("clip")
def _clip(ctx, node):
    dt = node.in_dtypes[0]
    a = node.attrs
    lo, hi = (a.a_min, a.a_max) if dt.kind == "f" else (_cast_scalar(a.a_min, dt),
                                                        _cast_scalar(a.a_max, dt))
    x, clo, chi = node.inputs[0], ctx.scalar(lo, dt), ctx.scalar(hi, dt)
    if lo <= hi:
        ctx.add("Clip", [x, clo, chi], node.outputs[:1])
    else:  # MXNet: a_max if x > a_max else (a_min if x < a_min else x)
        inner = ctx.add("Where", [ctx.add("Less", [x, clo]), clo, x])
        ctx.add("Where", [ctx.add("Greater", [x, chi]), chi, inner], node.outputs[:1])


@onnx_rule("where")
def _where(ctx, node):
    c, cdt = node.inputs[0], node.in_dtypes[0]
    if cdt.kind != "b":
        c = ctx.add("Not", [ctx.add("Equal", [c, ctx.scalar(0, cdt)])])
    if node.in_shapes[0] != node.in_shapes[1] and len(node.in_shapes[0]) == 1:
        # MXNet's where with a 1-D condition selects rows of x / y
        shape = [node.in_shapes[0][0]] + [1] * (len(node.in_shapes[1]) - 1)
        c = ctx.add("Reshape", [c, ctx.ints(shape)])
    ctx.add("Where", [c, node.inputs[1], node.inputs[2]], node.outputs[:1])


@onnx_rule("Cast")
def _cast(ctx, node):
    cast(ctx, node.inputs[0], node.in_dtypes[0], node.out_dtypes[0], out=node.outputs[0])


def _maybe_t(ctx, x, transpose, ndim):
    if not transpose:
        return x
    perm = list(range(ndim))
    perm[-2], perm[-1] = perm[-1], perm[-2]
    v = ctx.value(x)
    if v is not None:
        return ctx.const(np.transpose(v, perm), x + "_T")
    return ctx.add("Transpose", [x], perm=perm)


@onnx_rule("batch_dot")
def _batch_dot(ctx, node):
    a = node.attrs
    l = _maybe_t(ctx, node.inputs[0], a.transpose_a, len(node.in_shapes[0]))
    r = _maybe_t(ctx, node.inputs[1], a.transpose_b, len(node.in_shapes[1]))
    ctx.add("MatMul", [l, r], node.outputs[:1])


@onnx_rule("dot")
def _dot(ctx, node):
    a = node.attrs
    ls, rs = node.in_shapes
    l, r = node.inputs[:2]
    if len(ls) == 1 and len(rs) == 1:  # inner product; MXNet returns shape (1,)
        y = ctx.add("MatMul", [l, r])
        ctx.add("Reshape", [y, ctx.ints([1])], node.outputs[:1])
        return
    if len(ls) <= 2 and len(rs) <= 2:
        l = _maybe_t(ctx, l, a.transpose_a and len(ls) == 2, 2)
        r = _maybe_t(ctx, r, a.transpose_b and len(rs) == 2, 2)
        ctx.add("MatMul", [l, r], node.outputs[:1])
        return
    # MXNet: lhs as a matrix (prod(rest), k) -- k its last axis, or its first with
    # transpose_a; rhs as (k, prod(rest)) -- k its first axis, or its last with transpose_b
    if a.transpose_a:
        l2 = ctx.add("Transpose", [ctx.add("Reshape", [l, ctx.ints([ls[0], -1])])], perm=[1, 0])
    else:
        l2 = ctx.add("Reshape", [l, ctx.ints([-1, ls[-1]])])
    if a.transpose_b:
        r2 = ctx.add("Transpose", [ctx.add("Reshape", [r, ctx.ints([-1, rs[-1]])])], perm=[1, 0])
    else:
        r2 = ctx.add("Reshape", [r, ctx.ints([rs[0], -1])])
    y = ctx.add("MatMul", [l2, r2])
    keep_r = list(rs[:-1] if a.transpose_b else rs[1:])
    if a.transpose_a:  # static: the leading axis of lhs is the contracted one
        ctx.add("Reshape", [y, ctx.ints(list(node.out_shapes[0]))], node.outputs[:1])
        return
    lead = ctx.add("Slice", [ctx.add("Shape", [l]), ctx.ints([0]), ctx.ints([len(ls) - 1])])
    shape = ctx.add("Concat", [lead, ctx.ints(keep_r)], axis=0) if keep_r else lead
    ctx.add("Reshape", [y, shape], node.outputs[:1])
