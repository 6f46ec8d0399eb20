"""NDArray indexing with MXNet 1.x semantics.

`x[key]` is a *view* (shares memory and engine variable with x) when the key is basic and
selects one contiguous block: leading integers, then at most one step-1 slice, then only
whole axes -- as MXNet 1.9 decides.  Every other key (steps, later-axis slices, None,
integer arrays, NDArray indices) gives a copy made by an engine op that reads x.
Results are never 0-d: a key that picks one element gives shape (1,).

`x[key] = value` is an engine op writing x's variable (reading value's), with NumPy's
broadcasting of value to the selected region checked before it is pushed.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..core import autograd, engine
from ..core.base import PlaitError
from ..core.ops.index_utils import IndexOutOfBounds
from .ndarray import NDArray

_INT = (int, np.integer)


def _expand(key, ndim):
    """key -> tuple of per-axis entries with Ellipsis expanded (None entries kept)."""
    if not isinstance(key, tuple):
        key = (key,)
    n_ell = sum(1 for k in key if k is Ellipsis)
    if n_ell > 1:
        raise PlaitError("an index can only have a single ellipsis ('...')", arg="key",
                         op="__getitem__")
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    if used > ndim:
        raise PlaitError("too many indices (%d) for an array of %d dimension(s)" % (used, ndim),
                         arg="key", op="__getitem__")
    if n_ell:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (ndim - used) + key[i + 1:]
    return key


def _is_basic(key):
    return all(isinstance(k, (slice,) + _INT) or k is None for k in key)


def _contiguous(key, shape):
    """MXNet's view rule: ints, then at most one step-1 slice, then whole axes only."""
    if any(k is None for k in key):
        return False
    i = 0
    while i < len(key) and isinstance(key[i], _INT):
        i += 1
    if i < len(key):
        k = key[i]
        if k.step not in (None, 1):
            return False
        i += 1
    for k, d in zip(key[i:], shape[i:]):
        if not isinstance(k, slice) or k.indices(d) != (0, d, 1):
            return False
    return True


def _check_ints(key, shape, op):
    axis = 0
    for k in key:
        if k is None:
            continue
        if isinstance(k, _INT) and not -shape[axis] <= k < shape[axis]:
            raise IndexOutOfBounds("index %d is out of bounds for axis %d with size %d"
                                   % (k, axis, shape[axis]), arg="key", op=op)
        axis += 1


def _convert_advanced(k, op):
    if isinstance(k, NDArray):
        a = k.asnumpy()
    elif isinstance(k, (list, np.ndarray)):
        a = np.asarray(k)
    else:
        return k
    if a.dtype.kind == "f":
        a = a.astype(np.int64)
    elif a.dtype.kind not in "iub":
        raise PlaitError("index arrays must be integer or boolean, got %s" % a.dtype, arg="key",
                         op=op)
    return a


def _result_shape(shape, key, op):
    """The shape NumPy indexing would give, found on a zero-stride dummy (no data touched)."""
    dummy = as_strided(np.zeros(1, np.int8), shape=shape, strides=(0,) * len(shape))
    try:
        return dummy[key].shape
    except IndexError as e:
        raise PlaitError("%s (array shape %s)" % (e, shape), arg="key", op=op) from None


def _normalize(x, key, op):
    key = _expand(key, x.ndim)
    key = tuple(_convert_advanced(k, op) for k in key)
    if _is_basic(key):
        _check_ints(key, x.shape, op)
    return key


def _recorded_getitem(x, key):
    """Indexing under autograd.record(): through registered ops, so it is on the tape."""
    from ..core.ops import registry
    from .invoke import invoke
    if _is_basic(key):
        begin, end, step, shape = [], [], [], []
        axis = 0
        for k in key:
            if k is None:
                shape.append(1)
                continue
            n = x.shape[axis]
            if isinstance(k, _INT):
                k = int(k) + n if k < 0 else int(k)
                begin.append(k), end.append(k + 1), step.append(1)
            else:
                b, e, st = k.indices(n)
                begin.append(b), end.append(e if e >= 0 else None), step.append(st)
                shape.append(len(range(b, e, st)))
            axis += 1
        shape += list(x.shape[axis:])
        r = invoke(registry.get("slice"), [x], {"begin": tuple(begin), "end": tuple(end),
                                                "step": tuple(step)})
        return invoke(registry.get("Reshape"), [r], {"shape": tuple(shape) or (1,)})
    if len(key) == 1 and isinstance(key[0], np.ndarray) and key[0].dtype.kind in "iu":
        from .creation import array
        idx = array(key[0], ctx=x._ctx, dtype="int64")
        return invoke(registry.get("take"), [x, idx], {"axis": 0})
    raise PlaitError("under autograd.record() only basic indexing and one integer index "
                     "array on the first axis are differentiable; got %r" % (key,),
                     arg="key", op="__getitem__")


def getitem(x, key):
    op = "__getitem__"
    key = _normalize(x, key, op)
    if x._ag is not None and autograd.is_recording() and x._ag.needs_grad():
        return _recorded_getitem(x, key)
    if _is_basic(key) and _contiguous(key, x.shape):
        v = x._data[key]
        return x._view(v.reshape(1) if v.ndim == 0 else v)
    shape = _result_shape(x.shape, key, op)
    xp_arr = x._data
    out = NDArray(type(xp_arr)(shape or (1,), xp_arr.dtype) if isinstance(xp_arr, np.ndarray)
                  else _empty_like_module(xp_arr, shape or (1,)), x._ctx)
    src, dst = xp_arr, out._data
    dev_key = _to_device(key, src)

    def run():
        dst[...] = src[dev_key].reshape(dst.shape)
    engine.push(run, [x._var], [out._var], op)
    return out


def _empty_like_module(arr, shape):
    import cupy
    return cupy.empty(shape, arr.dtype)


def _to_device(key, arr):
    if isinstance(arr, np.ndarray):
        return key
    import cupy
    return tuple(cupy.asarray(k) if isinstance(k, np.ndarray) else k for k in key)


def setitem(x, key, value):
    op = "__setitem__"
    autograd.check_not_in_graph([x])
    key = _normalize(x, key, op)
    target = _result_shape(x.shape, key, op)
    reads = []
    if isinstance(value, NDArray):
        vshape, val = value.shape, value._data
        reads.append(value._var)
        if value._ctx != x._ctx:
            raise PlaitError("value is on %s, the array on %s" % (value._ctx, x._ctx),
                             arg="value", op=op)
    elif isinstance(value, (int, float, bool, np.generic)):
        vshape, val = (), value
    else:
        try:
            val = np.asarray(value, dtype=x._data.dtype)
        except (TypeError, ValueError) as e:
            raise PlaitError("cannot assign a %s (%s)" % (type(value).__name__, e), arg="value",
                             op=op) from None
        vshape = val.shape
        if not isinstance(x._data, np.ndarray):
            import cupy
            val = cupy.asarray(val)
    try:
        np.broadcast_shapes(vshape, target)
        ok = len(vshape) <= len(target) or all(d == 1 for d in vshape[:len(vshape) - len(target)])
    except ValueError:
        ok = False
    if not ok:
        if int(np.prod(vshape)) == int(np.prod(target)) and target:
            pass  # same size: MXNet reshapes the value into the target region
        else:
            raise PlaitError("value of shape %s cannot be broadcast to the indexed region of "
                             "shape %s" % (vshape, target), arg="value", op=op)
    buf = x._data
    dev_key = _to_device(key, buf)
    squeeze = tuple(vshape) != tuple(target) and len(vshape) > len(target)

    def run():
        v = val
        if squeeze or (hasattr(v, "shape") and v.shape != () and
                       np.broadcast_shapes(v.shape, target) != tuple(target)):
            v = v.reshape(target)
        buf[dev_key] = v
    engine.push(run, reads, [x._var], op)
