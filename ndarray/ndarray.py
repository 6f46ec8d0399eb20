"""NDArray: an n-dimensional array on a device, computed asynchronously by the engine.

An NDArray is a buffer (`_data`, a NumPy or CuPy array), the engine variable that
orders every read and write of that buffer (`_var`), and a context.  Views made by
basic slicing and `reshape` share both buffer memory and variable with their base,
so the engine orders work on a view against work on its base.  Anything that looks
at values (`asnumpy`, `asscalar`, `repr`) waits for pending writes first.
"""
import numbers

import numpy as np

from ..core import autograd as _autograd, engine
from ..core.base import PlaitError, to_dtype
from ..core.context import Context, current_context, xp_of
from ..core.ops import registry
from ..core.ops.params import Attrs
from . import invoke as _inv

_new_var = engine.new_var
_wait_read = engine.wait_read


class NDArray:
    """An n-dimensional array (MXNet's mx.nd.NDArray).  Create with mx.nd.array/zeros/..."""
    __slots__ = ("_data", "_var", "_ctx", "_ag", "_fresh_grad", "__weakref__")
    __array_priority__ = 1000.0  # NumPy scalars defer binary operators to NDArray

    def __init__(self, data, ctx=None, var=None):
        self._data = data
        self._ctx = ctx or current_context()
        self._var = var or _new_var()
        self._ag = None  # autograd state (grad buffer, grad_req, tape entry), when any

    # -- properties ------------------------------------------------------------------------------
    @property
    def shape(self):
        return self._data.shape

    @property
    def dtype(self):
        return self._data.dtype.type

    @property
    def size(self):
        return self._data.size

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def context(self):
        return self._ctx

    ctx = context

    @property
    def stype(self):
        return "default"

    @property
    def T(self):
        return self.transpose()

    @property
    def handle(self):
        return self._var

    # -- synchronisation and conversion ----------------------------------------------------------
    def wait_to_read(self):
        """Block until every pending write to this array has finished."""
        _wait_read(self._var)

    def wait_to_write(self):
        engine.wait_write(self._var)

    def asnumpy(self):
        """A NumPy copy of the values (waits for pending writes)."""
        _wait_read(self._var)
        d = self._data
        if isinstance(d, np.ndarray):
            return d.copy()
        return d.get()

    def asscalar(self):
        if self.size != 1:
            raise PlaitError("the array has shape %s; only size-1 arrays convert to a scalar"
                             % (self.shape,), op="asscalar")
        return self.asnumpy().reshape(-1)[0]

    def item(self):
        return self.asscalar().item()

    def tolist(self):
        return self.asnumpy().tolist()

    def __array__(self, dtype=None, copy=None):
        a = self.asnumpy()
        return a if dtype is None else a.astype(dtype)

    def __float__(self):
        return float(self.asscalar())

    def __int__(self):
        return int(self.asscalar())

    def __index__(self):
        if self.dtype not in (np.int8, np.uint8, np.int32, np.int64):
            raise TypeError("only integer NDArrays of size 1 can be used as an index")
        return int(self.asscalar())

    def __bool__(self):
        n = self.size
        if n == 0:
            return False
        if n == 1:
            return bool(self.asscalar())
        raise ValueError("The truth value of an NDArray with multiple elements is ambiguous.")

    __nonzero__ = __bool__

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d NDArray")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __hash__(self):
        return id(self) // 16

    def __repr__(self):
        shape_info = "x".join("%d" % d for d in self.shape)
        return "\n%s\n<%s %s @%s>" % (self.asnumpy(), type(self).__name__, shape_info, self._ctx)

    def __reduce__(self):
        raise TypeError("NDArray cannot be pickled; use mx.nd.save / mx.nd.load")

    # -- copies, devices, dtypes -------------------------------------------------------------------
    def copyto(self, other):
        """Copy into an NDArray (same shape) or onto a Context; returns the target."""
        if isinstance(other, Context):
            if other == self._ctx:
                return self.copy()
            dst = NDArray(xp_of(other).empty(self.shape, self._data.dtype), other)
        elif isinstance(other, NDArray):
            if other is self:
                return other
            dst = other
        else:
            raise PlaitError("expected an NDArray or Context, got %s" % type(other).__name__,
                             arg="other", op="copyto")
        return _inv.invoke(registry.get("_copyto"), [self], None, out=dst)

    def copy(self):
        return self.copyto(NDArray(xp_of(self._ctx).empty(self.shape, self._data.dtype), self._ctx))

    def as_in_context(self, context):
        return self if context == self._ctx else self.copyto(context)

    as_in_ctx = as_in_context

    def astype(self, dtype, copy=True):
        dt = to_dtype(dtype)
        if not copy and dt == self._data.dtype:
            return self
        return _inv.invoke(registry.get("Cast"), [self], {"dtype": dt})

    def reshape(self, *shape, **kwargs):
        """A view with a new shape (MXNet's special codes 0, -1, -2, -3, -4 and reverse)."""
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = shape[0]
        shape = kwargs.pop("shape", shape)
        reverse = kwargs.pop("reverse", False)
        if kwargs:
            raise PlaitError("unknown argument(s) %s" % sorted(kwargs), op="reshape")
        op = registry.get("Reshape")
        attrs = op.parse_attrs({"shape": shape, "reverse": reverse})
        ag = self._ag
        if ag is not None and ag.live and _autograd.is_recording():
            return _inv.invoke_parsed(op, attrs, [self])  # on the tape, not a view
        new = _inv.infer(op, attrs, [self])[0][0]
        return self._view(self._data.reshape(new))

    def _view(self, data):
        return NDArray(data, self._ctx, self._var)

    def detach(self):
        """The same values, cut from the autograd graph (shares memory)."""
        return self._view(self._data)

    # -- autograd ----------------------------------------------------------------------------------
    def attach_grad(self, grad_req="write", stype=None):
        """Allocate a gradient buffer and mark this array as a variable to differentiate."""
        from ..core import autograd
        grad = NDArray(xp_of(self._ctx).zeros(self.shape, self._data.dtype), self._ctx)
        autograd.mark_variables([self], [grad], grad_req)

    @property
    def grad(self):
        ag = self._ag
        return None if ag is None or ag.node is not None else ag.grad

    def backward(self, out_grad=None, retain_graph=False, train_mode=True):
        from ..core import autograd
        autograd.backward([self], None if out_grad is None else [out_grad], retain_graph,
                          train_mode)

    def zeros_like(self):
        return _inv.invoke(registry.get("zeros_like"), [self])

    def ones_like(self):
        return _inv.invoke(registry.get("ones_like"), [self])

    # -- indexing ------------------------------------------------------------------------------------
    def __getitem__(self, key):
        from .indexing import getitem
        return getitem(self, key)

    def __setitem__(self, key, value):
        from .indexing import setitem
        setitem(self, key, value)


_inv.NDArray = NDArray


# -- Python operators ------------------------------------------------------------------------------
def _is_scalar(v):
    t = v.__class__
    return t is float or t is int or isinstance(v, (numbers.Number, np.generic)) and not \
        isinstance(v, complex)


def _binary(bname, sname, rname=None):
    """Build the (op, rop, iop) methods of one operator from its registered ops."""
    bop = registry.get(bname)
    sop = registry.get(sname)
    rop = registry.get(rname) if rname else sop

    def fwd(self, other):
        if isinstance(other, NDArray):
            return _inv.invoke_parsed(bop, _inv._EMPTY, [self, other])
        if _is_scalar(other):
            return _inv.invoke_parsed(sop, Attrs(scalar=float(other), is_int=True), [self])
        return NotImplemented

    def rev(self, other):
        if _is_scalar(other):
            return _inv.invoke_parsed(rop, Attrs(scalar=float(other), is_int=True), [self])
        return NotImplemented

    def inplace(self, other):
        if isinstance(other, NDArray):
            return _inv.invoke_parsed(bop, _inv._EMPTY, [self, other], out=self)
        if _is_scalar(other):
            return _inv.invoke_parsed(sop, Attrs(scalar=float(other), is_int=True), [self], out=self)
        return NotImplemented
    return fwd, rev, inplace


def _install_operators():
    table = [  # dunder, broadcast op, scalar op, reversed scalar op
        ("add", "broadcast_add", "_plus_scalar", None),
        ("sub", "broadcast_sub", "_minus_scalar", "_rminus_scalar"),
        ("mul", "broadcast_mul", "_mul_scalar", None),
        ("truediv", "broadcast_div", "_div_scalar", "_rdiv_scalar"),
        ("mod", "broadcast_mod", "_mod_scalar", "_rmod_scalar"),
        ("pow", "broadcast_power", "_power_scalar", "_rpower_scalar"),
        ("floordiv", "broadcast_floor_divide", "_floor_divide_scalar", "_rfloor_divide_scalar"),
    ]
    for dunder, b, s, r in table:
        fwd, rev, inplace = _binary(b, s, r)
        setattr(NDArray, "__%s__" % dunder, fwd)
        setattr(NDArray, "__r%s__" % dunder, rev)
        setattr(NDArray, "__i%s__" % dunder, inplace)
    NDArray.__div__, NDArray.__rdiv__, NDArray.__idiv__ = (
        NDArray.__truediv__, NDArray.__rtruediv__, NDArray.__itruediv__)
    compare = [  # dunder, broadcast op, scalar op (the reflected form swaps the comparison)
        ("eq", "broadcast_equal", "_equal_scalar"), ("ne", "broadcast_not_equal", "_not_equal_scalar"),
        ("gt", "broadcast_greater", "_greater_scalar"),
        ("ge", "broadcast_greater_equal", "_greater_equal_scalar"),
        ("lt", "broadcast_lesser", "_lesser_scalar"),
        ("le", "broadcast_lesser_equal", "_lesser_equal_scalar"),
    ]
    for dunder, b, s in compare:
        fwd = _binary(b, s)[0]
        setattr(NDArray, "__%s__" % dunder, fwd)
    neg, absolute = registry.get("negative"), registry.get("abs")
    NDArray.__neg__ = lambda self: _inv.invoke_parsed(neg, _inv._EMPTY, [self])
    NDArray.__pos__ = lambda self: self
    NDArray.__abs__ = lambda self: _inv.invoke_parsed(absolute, _inv._EMPTY, [self])
    NDArray.__matmul__ = lambda self, other: _inv.invoke(registry.get("dot"), [self, other])


def _install_fluent_methods(names):
    """x.sum(axis=1) etc.: registered ops as methods with the array as first input."""
    from .api import make_op_function
    for name in names:
        if hasattr(NDArray, name):
            continue
        try:
            op = registry.get(name)
        except PlaitError:
            continue
        setattr(NDArray, name, make_op_function(op, name, method=True))


FLUENT = (
    "sum", "mean", "prod", "max", "min", "nansum", "nanprod", "norm", "argmax", "argmin",
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "cbrt", "rcbrt",
    "square", "reciprocal", "sign", "abs", "round", "rint", "fix", "floor", "ceil", "trunc",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
    "arccosh", "arctanh", "degrees", "radians", "relu", "sigmoid", "softmax", "log_softmax",
    "transpose", "expand_dims", "squeeze", "flatten", "swapaxes", "flip", "tile", "repeat",
    "pad", "broadcast_to", "broadcast_like", "split", "slice", "slice_axis", "slice_like",
    "take", "pick", "one_hot", "clip", "sort", "argsort", "topk", "diag", "reshape_like",
    "shape_array", "size_array", "zeros_like", "ones_like", "where", "softmin",
)
