"""mx.nd's module-level binary functions: add, subtract, ..., maximum, equal, logical_and.

MXNet 1.x defines these in Python over its registered ops, and hybrid_forward code calls
them as F.maximum(x, 0) or F.equal(a, b): two arrays -> the broadcast_* op, array and
scalar (either side) -> the *_scalar op (a reflected one when the scalar is on the left
and the operation is not symmetric), two scalars -> a plain Python result (comparisons
and logical ops give 1 or 0).  mx.sym's versions are in symbol/api.py."""
import operator

from ..core.ops import registry
from .ndarray import NDArray, _binary, _is_scalar

_TABLE = (  # name, broadcast op, scalar op, reflected scalar op (None: same), on two scalars
    ("add", "broadcast_add", "_plus_scalar", None, operator.add),
    ("subtract", "broadcast_sub", "_minus_scalar", "_rminus_scalar", operator.sub),
    ("multiply", "broadcast_mul", "_mul_scalar", None, operator.mul),
    ("divide", "broadcast_div", "_div_scalar", "_rdiv_scalar", operator.truediv),
    ("modulo", "broadcast_mod", "_mod_scalar", "_rmod_scalar", operator.mod),
    ("power", "broadcast_power", "_power_scalar", "_rpower_scalar", operator.pow),
    ("maximum", "broadcast_maximum", "_maximum_scalar", None,
     lambda x, y: x if x > y else y),
    ("minimum", "broadcast_minimum", "_minimum_scalar", None,
     lambda x, y: x if x < y else y),
    ("equal", "broadcast_equal", "_equal_scalar", None, lambda x, y: int(x == y)),
    ("not_equal", "broadcast_not_equal", "_not_equal_scalar", None,
     lambda x, y: int(x != y)),
    ("greater", "broadcast_greater", "_greater_scalar", "_lesser_scalar",
     lambda x, y: int(x > y)),
    ("greater_equal", "broadcast_greater_equal", "_greater_equal_scalar",
     "_lesser_equal_scalar", lambda x, y: int(x >= y)),
    ("lesser", "broadcast_lesser", "_lesser_scalar", "_greater_scalar",
     lambda x, y: int(x < y)),
    ("lesser_equal", "broadcast_lesser_equal", "_lesser_equal_scalar",
     "_greater_equal_scalar", lambda x, y: int(x <= y)),
    ("logical_and", "broadcast_logical_and", "_logical_and_scalar", None,
     lambda x, y: int(bool(x) and bool(y))),
    ("logical_or", "broadcast_logical_or", "_logical_or_scalar", None,
     lambda x, y: int(bool(x) or bool(y))),
    ("logical_xor", "broadcast_logical_xor", "_logical_xor_scalar", None,
     lambda x, y: int(bool(x) != bool(y))),
)


def _make(name, bname, sname, rname, on_scalars):
    fwd, rev, _ = _binary(bname, sname, rname)

    def fn(lhs, rhs):
        if _is_scalar(lhs):
            if _is_scalar(rhs):
                return on_scalars(lhs, rhs)
            if isinstance(rhs, NDArray):
                return rev(rhs, lhs)
        elif isinstance(lhs, NDArray) and (isinstance(rhs, NDArray) or _is_scalar(rhs)):
            return fwd(lhs, rhs)
        raise TypeError("mx.nd.%s: arguments must be NDArrays or numbers, got %s and %s"
                        % (name, type(lhs).__name__, type(rhs).__name__))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = ("%s(lhs, rhs): element-wise with broadcasting (%s); either side may be a "
                  "number (%s)." % (name, bname, sname))
    return fn


def install(namespace):
    """Put the functions into `namespace` (mx.nd's globals)."""
    for name, bname, sname, rname, on_scalars in _TABLE:
        registry.get(bname)  # fail at import if an op is missing
        namespace[name] = _make(name, bname, sname, rname, on_scalars)
    namespace["true_divide"] = namespace["divide"]
