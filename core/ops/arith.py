"""Binary arithmetic and comparison: broadcast_*, the same-shape forms (elemwise_add,
_mod, _equal, ...) and the scalar forms (_plus_scalar, _rminus_scalar, ...) that
NDArray's Python operators call.

MXNet 1.9 semantics kept here (checked against MXNet 1.9.1):
- tensor-tensor ops take numeric dtypes (no bool); both inputs share one dtype, which is
  the output dtype (comparisons and logical ops give 1/0 in it);
- scalar ops have params `scalar` (default 1) and `is_int` (default True).  Float input:
  the scalar is cast to the input dtype.  Integer input with is_int: the scalar is cast
  to the input dtype as C does (int32 array * 1.5 multiplies by 1; -3 -> uint8 253).
  Integer input with is_int=False: computed in float64, output float64.  Bool input:
  output int64 (is_int) or float64;
- integer division truncates toward zero, exactly (also for int64 beyond 2**53);
  _rdiv_scalar on integers divides in floating point (1 / 0 -> INT_MIN);
- mod follows Python's sign rule (the divisor's sign) and x mod 0 == 0, also for floats;
- integer power is computed in floating point and rounded to float32 before the cast
  back (int32 3**19 == 1162261504; 2 ** -1 == 0; 0 ** -1 == INT_MIN), as MXNet does;
- hypot on integers is computed in floating point and truncated.
Integer division by zero crashes MXNet; here it gives 0.  `//` (broadcast_floor_divide,
_floor_divide_scalar, _rfloor_divide_scalar) is a plait extension with NumPy's semantics.
"""
import math

import numpy as np

from . import sampling
from .grad_utils import sum_to
from .params import Param
from .registry import BadSample, OpDef, Sample, register
from .shape_rules import broadcast, elemwise, same_as_input

_F32, _F64, _I64 = np.dtype("float32"), np.dtype("float64"), np.dtype("int64")
_IGNORE = dict(all="ignore")


def _cast_scalar(s, dt):
    """A Python float converted to integer dtype `dt` the way C (on x86) converts it."""
    v = int(s) if math.isfinite(s) else None
    if dt.itemsize >= 4:
        info = np.iinfo(dt)
        if v is None or not info.min <= v <= info.max:
            v = info.min
        return dt.type(v)
    if v is None or not -2 ** 31 <= v < 2 ** 31:
        v = 0
    bits = 8 * dt.itemsize
    v &= (1 << bits) - 1
    if dt.kind == "i" and v >= 1 << (bits - 1):
        v -= 1 << bits
    return dt.type(v)


def _as_f64(xp, v):
    return v.astype(_F64) if hasattr(v, "astype") else float(v)


# -- kernels: `kind` selects the semantics that differ from the plain xp ufunc ---------------
def _apply(xp, f, kind, x, y, out):
    """out = f(x, y) with MXNet semantics; x, y: arrays or scalars of one dtype."""
    integer = (x if hasattr(x, "dtype") else y).dtype.kind != "f"
    if kind == "plain":
        f(x, y, out=out, casting="unsafe")
        return
    with np.errstate(**_IGNORE):
        if kind == "div" and integer:  # exact truncating division
            r = xp.fmod(x, y)
            xp.floor_divide(xp.subtract(x, r), y, out=out, casting="unsafe")
        elif kind == "pow" and integer:
            t = xp.power(_as_f64(xp, x), _as_f64(xp, y))
            out[...] = t.astype(_F32)
        elif kind == "mod" and not integer:  # x mod 0 == 0 (ints: NumPy already gives 0)
            zero = xp.equal(y, 0)
            f(x, y, out=out, casting="unsafe")
            xp.copyto(out, 0, where=zero)
        else:
            f(x, y, out=out, casting="unsafe")


def _binary_fwd(fname, kind):
    def fwd(xp, a, ins, outs):
        _apply(xp, getattr(xp, fname), kind, ins[0], ins[1], outs[0])
    return fwd


def _scalar_fwd(fname, kind, reverse):
    np_f = getattr(np, fname)

    def fwd(xp, a, ins, outs):
        x, s, out = ins[0], a["scalar"], outs[0]
        if kind == "plain" and xp is np and x.dtype.kind == "f":
            # the hot path (x * 1.0001 on float32): one ufunc call, nothing else
            if reverse:
                np_f(s, x, out=out)
            else:
                np_f(x, s, out=out)
            return
        if x.dtype.kind != "f":
            if not a.get("is_int", True):
                x = x.astype(_F64)
            else:
                if x.dtype.kind == "b":
                    x = x.astype(_I64)
                s = _cast_scalar(s, x.dtype)
        f = getattr(xp, fname)
        if kind == "plain":
            if reverse:
                f(s, x, out=out, casting="unsafe")
            else:
                f(x, s, out=out, casting="unsafe")
        elif reverse:
            _apply(xp, f, kind, s, x, out)
        else:
            _apply(xp, f, kind, x, s, out)
    return fwd


def scalar_out_type(dtype, is_int):
    """MXNet's type rule for scalar ops (NumpyBinaryScalarType)."""
    if dtype.kind == "b":
        return _I64 if is_int else _F64
    if dtype.kind in "iu" and not is_int:
        return _F64
    return dtype


def _scalar_type(attrs, in_types):
    return [scalar_out_type(in_types[0], attrs.get("is_int", True))]


# -- references: Python/NumPy formulas, independent of the kernels -----------------------------
def _py_mod(a, b):
    return 0 if b == 0 else a % b  # Python's % already takes the divisor's sign


def _trunc_div(a, b):
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _ref_fn(stem, integer):
    """f(x, y) on float64 (floats) or int64 (integers) NumPy values -> float64/int64/bool."""
    v = lambda fn: np.vectorize(fn, otypes=[np.int64 if integer else np.float64])  # noqa: E731
    table = {
        "add": np.add, "sub": np.subtract, "mul": np.multiply,
        "div": v(lambda a, b: _trunc_div(int(a), int(b))) if integer else np.true_divide,
        "rdiv_int": lambda x, y: np.trunc(x.astype(_F64) / y),
        "mod": v(_py_mod),
        "power": (lambda x, y: np.power(x.astype(_F64), y).astype(_F32)) if integer else np.power,
        "maximum": np.maximum, "minimum": np.minimum,
        "hypot": lambda x, y: np.sqrt(x.astype(_F64) ** 2 + np.asarray(y, _F64) ** 2),
        "floor_divide": v(lambda a, b: a // b if b != 0 else (0 if integer else
                                                              np.float64(a) / 0.0)),
        "equal": np.equal, "not_equal": np.not_equal, "greater": np.greater,
        "greater_equal": np.greater_equal, "lesser": np.less, "lesser_equal": np.less_equal,
        "logical_and": lambda x, y: (x != 0) & (y != 0),
        "logical_or": lambda x, y: (x != 0) | (y != 0),
        "logical_xor": lambda x, y: (x != 0) ^ (y != 0),
    }
    return table[stem]


def _to(r, dt):
    r = np.asarray(r)
    if dt.kind != "f" and r.dtype.kind == "f":
        r = np.where(np.isfinite(r), r, np.iinfo(dt).min if dt.itemsize >= 4 else 0)
        r = np.trunc(r)
    return r.astype(dt)


def _binary_ref(stem):
    def ref(a, x, y):
        integer = x.dtype.kind != "f"
        wide = _I64 if integer else _F64
        with np.errstate(**_IGNORE):
            return _to(_ref_fn(stem, integer)(x.astype(wide), y.astype(wide)), x.dtype)
    return ref


def _scalar_ref(stem, reverse):
    def ref(a, x):
        out_t = scalar_out_type(x.dtype, a.is_int)
        integer = out_t.kind != "f"
        s = float(math.trunc(a.scalar)) if integer else a.scalar
        xw = x.astype(_I64 if integer else _F64)
        sw = np.full_like(xw, s)
        name = "rdiv_int" if (stem == "div" and reverse and integer) else stem
        with np.errstate(**_IGNORE):
            r = _ref_fn(name, integer)(*((sw, xw) if reverse else (xw, sw)))
        return _to(r, out_t)
    return ref


# -- samples ------------------------------------------------------------------------------------
def _binary_samples(lo, hi, rhs, shapes, signed_rhs, zero_rhs):
    rl, rh = rhs or (lo, hi)

    def gen(dtype):
        dt = np.dtype(dtype)
        out = []
        for i, (sa, sb) in enumerate(shapes):
            y = sampling.values(sb, dt, rl, rh, i + 100)
            if signed_rhs and i % 2:
                y = (-y).astype(dt)
            out.append(Sample([sampling.values(sa, dt, lo, hi, i), y]))
        if zero_rhs and dt.kind == "f":
            x = np.array([3.0, -3.0, 0.0, 2.5, -0.5], dt)
            out.append(Sample([x, np.array([0.0, 0.0, 0.0, -2.0, 2.0], dt)], note="zero rhs"))
        return out
    return gen


def _scalar_samples(lo, hi, scalars):
    def gen(dtype):
        out = []
        for i, s in enumerate(sampling.SHAPES_1):
            x = sampling.values(s, dtype, lo, hi, i)
            out += [Sample([x], {"scalar": sc}) for sc in scalars]
            out.append(Sample([x], {"scalar": scalars[0], "is_int": False}))
        return out
    return gen


def _bad_rhs_dtype():
    x = np.ones((2, 3), np.float32)
    return [BadSample([x, np.ones((2, 3), np.float64)], match=("float32", "float64"))]


_SCALAR = {"scalar": Param("float", 1.0, doc="Scalar input value"),
           "is_int": Param("bool", True, doc="Indicate whether scalar input is int type")}
_SCALAR_TYPES = ("float32", "float64", "int32", "bool")
_BIN_TYPES = ("float32", "float64", "int32")


def _camel(name):
    """'_plus_scalar' -> '_PlusScalar', '_rdiv_scalar' -> '_RDivScalar' (MXNet's aliases)."""
    parts = name.strip("_").split("_")
    head = parts[0]
    if head in ("rdiv", "rminus", "rmod", "rpower"):
        head = "R" + head[1:].capitalize()
    else:
        head = head.capitalize()
    return "_" + head + "".join(p.capitalize() for p in parts[1:])


# -- gradients (written with F's registered ops, so they are recorded and differentiate
# again).  Broadcast forms reduce each input's gradient to its shape with sum_to (the
# identity for the same-shape forms).  MXNet 1.9's choices where the derivative is not
# defined: maximum/minimum ties go to lhs (lhs >= rhs, resp. lhs <= rhs); d(a mod b)/db is
# -floor(a / b) (so -inf at b == 0); d(a ** b)/db = a ** b * log(a) (nan for a <= 0).
def _bgrad(rule):
    def gradient(F, a, ins, outs, g):
        x, y = ins
        gx, gy = rule(F, x, y, outs[0], g[0])
        return [sum_to(F, gx, x), sum_to(F, gy, y)]
    return gradient


_BINARY_GRADS = {
    "add": lambda F, x, y, z, g: (g, g),
    "sub": lambda F, x, y, z, g: (g, -g),
    "mul": lambda F, x, y, z, g: (g * y, g * x),
    "div": lambda F, x, y, z, g: (g / y, -(g / y) * z),
    "mod": lambda F, x, y, z, g: (g, -g * F.floor(x / y)),
    "power": lambda F, x, y, z, g: (g * y * (x ** (y - 1.0)), g * z * F.log(x)),
    "maximum": lambda F, x, y, z, g: (g * F.broadcast_greater_equal(x, y),
                                      g * F.broadcast_lesser(x, y)),
    "minimum": lambda F, x, y, z, g: (g * F.broadcast_lesser_equal(x, y),
                                      g * F.broadcast_greater(x, y)),
    "hypot": lambda F, x, y, z, g: (g * x / z, g * y / z),
}


def _log_scalar(s):
    with np.errstate(**_IGNORE):
        return float(np.log(np.float64(s)))


def _sgrad(rule):
    def gradient(F, a, ins, outs, g):
        return [rule(F, ins[0], float(a["scalar"]), outs[0], g[0])]
    return gradient


_SCALAR_GRADS = {
    "_plus_scalar": lambda F, x, s, y, g: g,
    "_minus_scalar": lambda F, x, s, y, g: g,
    "_rminus_scalar": lambda F, x, s, y, g: -g,
    "_mul_scalar": lambda F, x, s, y, g: g * s,
    "_div_scalar": lambda F, x, s, y, g: g / s,
    "_rdiv_scalar": lambda F, x, s, y, g: (g * -s) / F.square(x),
    "_mod_scalar": lambda F, x, s, y, g: g,
    "_rmod_scalar": lambda F, x, s, y, g: -g * F.floor(s / x),
    "_power_scalar": lambda F, x, s, y, g: g * (x ** (s - 1.0)) * s,
    "_rpower_scalar": lambda F, x, s, y, g: g * y * _log_scalar(s),
    "_maximum_scalar": lambda F, x, s, y, g: g * (x >= s),
    "_minimum_scalar": lambda F, x, s, y, g: g * (x <= s),
    "_hypot_scalar": lambda F, x, s, y, g: g * x / y,
}


def _grad_kw(gradient):
    """OpDef keywords: the gradient, or nondiff=True (comparisons, logical ops, //)."""
    return dict(gradient=gradient) if gradient is not None else dict(nondiff=True)



def _register_scalar(name, stem, fname, kind, reverse, lo_hi, scalars, doc, aliases=None):
    register(OpDef(
        name, aliases=(_camel(name),) if aliases is None else aliases, params=_SCALAR,
        forward=_scalar_fwd(fname, kind, reverse), infer_shape=same_as_input,
        infer_type=_scalar_type, dtypes="all", inplace=[(0, 0)],
        reference=_scalar_ref(stem, reverse), samples=_scalar_samples(lo_hi[0], lo_hi[1], scalars),
        test_dtypes=_SCALAR_TYPES, doc=doc,
        **_grad_kw(_sgrad(_SCALAR_GRADS[name]) if name in _SCALAR_GRADS else None)))


def _register_pair(stem, fname, kind, bname, baliases, ename, ealiases, lo_hi, rhs, what,
                   signed_rhs=False, zero_rhs=False):
    kw = dict(inputs=("lhs", "rhs"), forward=_binary_fwd(fname, kind), dtypes="numeric",
              reference=_binary_ref(stem), test_dtypes=_BIN_TYPES, bad_samples=_bad_rhs_dtype,
              **_grad_kw(_bgrad(_BINARY_GRADS[stem]) if stem in _BINARY_GRADS else None))
    register(OpDef(bname, aliases=baliases, infer_shape=broadcast,
                   samples=_binary_samples(lo_hi[0], lo_hi[1], rhs, sampling.SHAPES_2,
                                           signed_rhs, zero_rhs),
                   doc="%s of two arrays, element-wise with broadcasting." % what, **kw))
    if ename:
        # same shape: the output may take either input's buffer (a hybridized graph's
        # residual `body + shortcut` then needs no third block); ufuncs allow the aliasing
        register(OpDef(ename, aliases=ealiases, infer_shape=elemwise, inplace=[(0, 0), (1, 0)],
                       samples=_binary_samples(lo_hi[0], lo_hi[1], rhs,
                                               sampling.same_shape_pairs(), signed_rhs,
                                               zero_rhs),
                       doc="%s of two arrays of the same shape, element-wise." % what, **kw))


# stem, ufunc, kind, same-shape op (aliases), broadcast aliases, value range, rhs range,
# (scalar op, reversed scalar op), scalars, text
_ARITH = [
    ("add", "add", "plain", ("elemwise_add", ("_add", "_plus", "_Plus")), ("broadcast_plus",),
     (-2, 2), None, ("_plus_scalar", None), [1.5, -0.75], "Sum"),
    ("sub", "subtract", "plain", ("elemwise_sub", ("_sub", "_minus", "_Minus")),
     ("broadcast_minus",), (-2, 2), None, ("_minus_scalar", "_rminus_scalar"), [1.5, -0.75],
     "Difference"),
    ("mul", "multiply", "plain", ("elemwise_mul", ("_mul", "_Mul")), (), (-2, 2), None,
     ("_mul_scalar", None), [1.5, -0.75], "Product"),
    ("div", "true_divide", "div", ("elemwise_div", ("_div", "_Div")), (), (-4, 4), (0.5, 2),
     ("_div_scalar", "_rdiv_scalar"), [1.5, -2.5], "Quotient (integers: truncated)"),
    ("mod", "mod", "mod", ("_mod", ("_Mod",)), (), (-4, 4), (0.5, 2),
     ("_mod_scalar", "_rmod_scalar"), [1.5, -2.5], "Modulo (the divisor's sign; x mod 0 = 0)"),
    ("power", "power", "pow", ("_power", ("_Power",)), (), (0.5, 2), (0, 2.5),
     ("_power_scalar", "_rpower_scalar"), [1.5, 2.5], "Power"),
    ("maximum", "maximum", "plain", ("_maximum", ("_Maximum",)), (), (-2, 2), None,
     ("_maximum_scalar", None), [1.5, -0.75], "Maximum"),
    ("minimum", "minimum", "plain", ("_minimum", ("_Minimum",)), (), (-2, 2), None,
     ("_minimum_scalar", None), [1.5, -0.75], "Minimum"),
    ("hypot", "hypot", "plain", ("_hypot", ("_Hypot",)), (), (-3, 3), None,
     ("_hypot_scalar", None), [1.5, -2.5], "Hypotenuse sqrt(x**2 + y**2)"),
]

_COMPARE = [("equal", "equal", "_Equal"), ("not_equal", "not_equal", "_Not_Equal"),
            ("greater", "greater", "_Greater"), ("greater_equal", "greater_equal",
                                                  "_Greater_Equal"),
            ("lesser", "less", "_Lesser"), ("lesser_equal", "less_equal", "_Lesser_Equal"),
            ("logical_and", "logical_and", "_Logical_And"),
            ("logical_or", "logical_or", "_Logical_Or"),
            ("logical_xor", "logical_xor", "_Logical_Xor")]


def _register_all():
    for (stem, fname, kind, (ename, ealiases), baliases, lo_hi, rhs, (sname, rname), scalars,
         what) in _ARITH:
        _register_pair(stem, fname, kind, "broadcast_" + stem, baliases, ename, ealiases,
                       lo_hi, rhs, what, signed_rhs=stem in ("div", "mod"), zero_rhs=stem == "mod")
        slo_hi = (0.5, 2) if stem == "power" else lo_hi
        _register_scalar(sname, stem, fname, kind, False, slo_hi, scalars,
                         "%s of an array and a scalar, element-wise." % what)
        if rname:
            rlo_hi = {"div": (0.5, 2), "mod": (0.5, 4), "power": (-1, 2.5)}.get(stem, lo_hi)
            rkind = "rdiv" if stem == "div" else kind  # integers: float division, truncated
            _register_scalar(rname, stem, fname, rkind, True, rlo_hi, scalars,
                             "%s of a scalar and an array (scalar on the left)." % what)
    for stem, fname, camel in _COMPARE:
        what = stem.replace("_", " ").capitalize() + " test (1 or 0 in the input's dtype)"
        _register_pair(stem, fname, "plain", "broadcast_" + stem, (), "_" + stem, (camel,),
                       (-2, 2), None, what)
        _register_scalar("_%s_scalar" % stem, stem, fname, "plain", False, (-2, 2),
                         [0.5, -1.0, 1.0], "%s against a scalar, element-wise." % what)
    # floor division, NDArray's `//` (not an MXNet 1.x op; NumPy's semantics)
    what = "Floor division (NumPy semantics; plait extension)"
    _register_pair("floor_divide", "floor_divide", "floor", "broadcast_floor_divide", (), None,
                   (), (-4, 4), (0.5, 2), what, signed_rhs=True)
    _register_scalar("_floor_divide_scalar", "floor_divide", "floor_divide", "floor", False,
                     (-4, 4), [1.5, -0.75], what, aliases=())
    _register_scalar("_rfloor_divide_scalar", "floor_divide", "floor_divide", "floor", True,
                     (0.5, 2), [1.5, 3.0], what, aliases=())


_register_all()
