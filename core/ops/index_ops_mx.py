"""MXNet 1.9 index/split operators: _split_v2, batch_take, _ravel_multi_index
(ravel_multi_index), _unravel_index (unravel_index) and khatri_rao.  _histogram and
_np_cumsum (cumsum) are in index_ops_mx_hist.py, imported at the end.

MXNet semantics kept here (checked against MXNet 1.9.1, tools/make_index_op_fixtures.py):
- `_split_v2(data, indices, axis=1, squeeze_axis=False, sections=0)`: sections > 0 wins
  over indices and splits like numpy.array_split (the first n % sections pieces are one
  longer: 4 into 3 gives 2, 1, 1), no divisibility check in the op.  Otherwise piece k is
  [indices[k], indices[k+1]) and the last runs to the end; indices must start at 0 and be
  non-decreasing and <= the axis length (empty pieces allowed).  squeeze_axis needs every
  piece of length 1.  The python split_v2 (ndarray/extra_funcs.py) makes the indices.
- `batch_take(a, indices)`: out[i] = a[i, clip(indices[i], 0, M-1)] (out-of-range indices
  clip); indices must be int32, have a.shape[0] elements (any shape: the output's shape).
  MXNet reads wrong memory for a of ndim > 2, so only 2-D a is accepted.  No gradient.
- `ravel_multi_index`: data (len(shape), N) -> (N,) of data's dtype by Horner's rule
  r = trunc(r * shape[j] + x[j]) (fractions truncate step by step: (-1.5, 0.5, 1.25) in
  (2, 3, 4) gives -6); nothing is range-checked, shape[0] is unused (-1 allowed).  Gradient
  zero.
- `unravel_index`: 1-D data (N,) -> (len(shape), N); C integer remainder/division from the
  last dimension, the first coordinate is the remaining quotient (not reduced).  MXNet gives
  garbage for 2-D data, so only 1-D is accepted.  Gradient zero.
- `khatri_rao`: float32/float64 2-D matrices with one column count; row index is
  i_1 * (M_2...M_n) + ... + i_n.  No gradient in MXNet.
"""
import numpy as np

from ..base import fail
from . import sampling
from .params import Param, non_negative, positive
from .registry import BadSample, OpDef, Sample, register

_v = sampling.values
_TEST3 = ("float32", "float64", "int32")
_I32 = np.dtype("int32")


# -- _split_v2 -----------------------------------------------------------------------------------
def _split_n(a):
    return a.sections if a.sections > 0 else max(1, len(a.indices or ()))


def _split_axis(a, s):
    nd = len(s)
    if nd == 0:
        fail("data", "cannot split a 0-d array (shape %s)", tuple(s))
    if not -nd <= a.axis < nd:
        fail("axis", "axis %d is out of range for shape %s", a.axis, tuple(s))
    return a.axis % nd


def _split_bounds(a, s):
    """[(start, end)] of every piece along the normalized axis."""
    ax = _split_axis(a, s)
    n = s[ax]
    if a.sections > 0:
        q, r = divmod(n, a.sections)
        starts = [k * q + min(k, r) for k in range(a.sections + 1)]
        return ax, list(zip(starts[:-1], starts[1:]))
    idx = tuple(a.indices or ())
    if not idx:
        fail("indices", "no split indices and sections=0 (shape %s)", tuple(s))
    if idx[0] != 0:
        fail("indices", "the first split index must be 0, got indices=%s (shape %s)",
             idx, tuple(s))
    ends = idx[1:] + (n,)
    for k, (lo, hi) in enumerate(zip(idx, ends)):
        if lo > hi:
            fail("indices", "indices=%s are not sorted: piece %d would be [%d, %d) (shape %s)",
                 idx, k, lo, hi, tuple(s))
        if hi > n:
            fail("indices", "index %d of indices=%s exceeds the length %d of axis %d (shape %s)",
                 hi, idx, n, ax, tuple(s))
    return ax, list(zip(idx, ends))


def _split_shape(a, shapes):
    s = tuple(shapes[0])
    ax, bounds = _split_bounds(a, s)
    out = []
    for lo, hi in bounds:
        if a.squeeze_axis:
            if hi - lo != 1:
                fail("squeeze_axis", "squeeze_axis=True needs pieces of length 1 along axis "
                     "%d, got one of length %d (shape %s)", ax, hi - lo, s)
            out.append(s[:ax] + s[ax + 1:])
        else:
            out.append(s[:ax] + (hi - lo,) + s[ax + 1:])
    return out


def _split_fwd(xp, a, ins, outs):
    x = ins[0]
    ax, bounds = _split_bounds(a, x.shape)
    for out, (lo, hi) in zip(outs, bounds):
        out[...] = x[(slice(None),) * ax + (slice(lo, hi),)].reshape(out.shape)


def _split_ref(a, x):
    ax = a.axis % x.ndim
    n = x.shape[ax]
    if a.sections > 0:
        sizes = [n // a.sections + (1 if k < n % a.sections else 0) for k in range(a.sections)]
        cuts = list(np.cumsum([0] + sizes))
    else:
        cuts = list(a.indices) + [n]
    res = []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        p = np.take(x, np.arange(lo, hi, dtype=np.int64), axis=ax)
        res.append(np.squeeze(p, axis=ax) if a.squeeze_axis else p)
    return tuple(res) if len(res) > 1 else res[0]


def _split_grad(F, a, ins, outs, g):
    pieces = [F.expand_dims(t, axis=a.axis) for t in g] if a.squeeze_axis else list(g)
    if len(pieces) == 1:
        return [pieces[0]]
    return [F.Concat(*pieces, dim=a.axis, num_args=len(pieces))]


def _split_samples(dtype):
    x, y = _v((3, 4), dtype, seed=1), _v((2, 3, 5), dtype, seed=2)
    return [Sample([x], {"indices": (0, 1, 3)}), Sample([x], {"indices": (0, 2), "axis": 0}),
            Sample([y], {"indices": (), "sections": 3, "axis": -1}),
            Sample([y], {"indices": (), "sections": 2, "axis": 1}),
            Sample([y], {"indices": (0, 1), "axis": 0, "squeeze_axis": True}),
            Sample([y], {"indices": (0, 0, 5), "axis": 2}),
            Sample([x], {"indices": (0,), "axis": 1})]


def _split_bad():
    x = np.ones((3, 4), np.float32)
    return [BadSample([x], {"indices": (0, 2, 6)}, match=("indices", "6", "(3, 4)")),
            BadSample([x], {"indices": (0, 3, 1)}, match=("indices", "sorted", "(3, 4)")),
            BadSample([x], {"indices": (1, 3)}, match=("indices", "0", "(3, 4)")),
            BadSample([x], {"indices": ()}, match=("indices", "(3, 4)")),
            BadSample([x], {"indices": (0, 1), "axis": 0, "squeeze_axis": True},
                      match=("squeeze_axis", "2", "(3, 4)")),
            BadSample([x], {"indices": (0, 1), "axis": -3}, match=("axis", "-3", "(3, 4)"))]


register(OpDef(
    "_split_v2", num_outputs=_split_n,
    params={"indices": Param("shape", doc="Indices of splits: the start of every piece along "
                             "`axis` (the first must be 0)."),
            "axis": Param("int", 1, doc="Axis along which to split."),
            "squeeze_axis": Param("bool", False, doc="Remove the split axis from the outputs "
                                  "(every piece must have length 1 along it)."),
            "sections": Param("int", 0, check=non_negative, doc="Number of sections if equally "
                              "split (numpy.array_split sizes); 0 splits by indices.")},
    infer_shape=_split_shape, infer_type=lambda a, t: [t[0]] * _split_n(a), forward=_split_fwd,
    reference=_split_ref, samples=_split_samples, test_dtypes=_TEST3, bad_samples=_split_bad,
    gradient=_split_grad,
    doc="Splits data along `axis` into pieces starting at `indices` (or into `sections` "
        "nearly equal pieces). mx.nd.split_v2 / mx.sym.split_v2 are the Python front ends."))


# -- batch_take ----------------------------------------------------------------------------------
def _bt_shape(a, shapes):
    s, si = tuple(shapes[0]), tuple(shapes[1])
    if len(s) != 2:
        fail("a", "batch_take needs a 2-D array, got shape %s", s)
    if int(np.prod(si, dtype=np.int64)) != s[0]:
        fail("indices", "indices of shape %s must have %d elements (the rows of a, shape %s)",
             si, s[0], s)
    return [si]


_bt_shape.bad_shapes = [[(3, 4), (2,)], [(3, 4), (4,)]]


def _bt_type(a, t):
    if t[1] != _I32:
        fail("indices", "indices must be int32, got %s", t[1].name)
    return [t[0]]


def _bt_fwd(xp, a, ins, outs):
    x, idx = ins
    i = xp.clip(idx.reshape(-1).astype(np.int64), 0, x.shape[1] - 1)
    outs[0][...] = x[xp.arange(x.shape[0]), i].reshape(outs[0].shape)


def _bt_ref(a, x, idx):
    out = np.empty(idx.size, x.dtype)
    for r, k in enumerate(idx.reshape(-1).tolist()):
        out[r] = x[r, min(max(k, 0), x.shape[1] - 1)]
    return out.reshape(idx.shape)


def _bt_samples(dtype):
    i32 = lambda v: np.array(v, np.int32)  # noqa: E731
    x = _v((3, 4), dtype, -9, 9)
    return [Sample([x, i32([0, 3, 1])]), Sample([x, i32([5, -1, -5])], note="clipped"),
            Sample([x, i32([[0], [1], [2]])]), Sample([_v((5, 1), dtype, -9, 9, 1),
                                                       i32([0, 0, 1, 2, 0])])]


register(OpDef(
    "batch_take", inputs=("a", "indices"), infer_shape=_bt_shape, infer_type=_bt_type,
    forward=_bt_fwd, reference=_bt_ref, samples=_bt_samples, test_dtypes=_TEST3, nondiff=True,
    bad_samples=lambda: [BadSample([np.ones((3, 4), np.float32), np.zeros(3, np.float32)],
                                   match=("indices", "int32", "float32")),
                         BadSample([np.ones((2, 3, 4), np.float32), np.zeros(6, np.int32)],
                                   match=("a", "(2, 3, 4)"))],
    doc="Takes out[i] = a[i, indices[i]] from a 2-D array (deprecated in MXNet: use pick). "
        "Out-of-range indices are clipped; indices must be int32."))


# -- _ravel_multi_index / _unravel_index ---------------------------------------------------------
def _shape_param(a, s):
    if not a.shape:
        fail("shape", "the shape parameter is empty (data shape %s)", tuple(s))
    return tuple(a.shape)


def _ravel_shape(a, shapes):
    s = tuple(shapes[0])
    shp = _shape_param(a, s)
    if len(s) != 2:
        fail("data", "ravel_multi_index needs 2-D data (one row per dimension), got shape %s", s)
    if s[0] != len(shp):
        fail("data", "data shape %s has %d rows but shape=%s has %d dimensions", s, s[0], shp,
             len(shp))
    return [(s[1],)]


def _ravel_fwd(xp, a, ins, outs):
    """Horner's rule, truncating toward zero after every step (MXNet: ret = ret * shape[j]
    + x[j], assigned to an integer), so fractional inputs round as MXNet's do."""
    x = ins[0]
    acc = xp.zeros(x.shape[1], np.int64)
    for row, d in zip(x, a.shape):
        step = acc * d + row if x.dtype.kind in "iu" else acc.astype(np.float64) * d + row
        acc = step.astype(np.int64)
    outs[0][...] = acc.astype(outs[0].dtype)


def _ravel_ref(a, x):
    out = []
    for j in range(x.shape[1]):
        r = 0
        for i, d in enumerate(a.shape):
            r = int(r * d + float(x[i, j]))  # int() truncates toward zero
        out.append(r)
    return np.array(out, np.int64).astype(x.dtype)


def _unravel_shape(a, shapes):
    s = tuple(shapes[0])
    shp = _shape_param(a, s)
    if len(s) != 1:
        fail("data", "unravel_index needs 1-D data (flat indices), got shape %s", s)
    if 0 in shp[1:]:
        fail("shape", "shape=%s has a zero dimension after the first", shp)
    return [(len(shp), s[0])]


def _unravel_fwd(xp, a, ins, outs):
    idx = ins[0].astype(np.int64)
    out = outs[0]
    for j in range(len(a.shape) - 1, 0, -1):
        d = a.shape[j]
        r = xp.fmod(idx, d)  # C remainder and truncated division
        out[j] = r
        idx = (idx - r) // d
    out[0] = idx


def _unravel_ref(a, x):
    res = np.zeros((len(a.shape), x.size), np.int64)
    for k, v in enumerate(x.tolist()):
        q = int(v)
        for j in range(len(a.shape) - 1, 0, -1):
            d = a.shape[j]
            t = int(q / d)  # exact for the small values tested
            res[j, k], q = q - t * d, t
        res[0, k] = q
    return res.astype(x.dtype)


def _frac(dtype, vals):
    vals = np.array(vals, np.float64)
    if np.dtype(dtype).kind == "f":  # off the integers, so finite differences see flat steps
        vals = vals + np.where(vals < 0, -0.3, 0.3)
    return vals.astype(dtype)


def _ravel_samples(dtype):
    return [Sample([_frac(dtype, [[3, 6, 6], [4, 5, 1]])], {"shape": (7, 6)}),
            Sample([_frac(dtype, [[3, 6, 6], [4, 5, 1]])], {"shape": (-1, 6)}),
            Sample([_frac(dtype, [[1, 0, 2], [2, 1, 0], [3, 0, 1]])], {"shape": (2, 3, 4)}),
            Sample([_frac(dtype, [[-1, 2, 4], [1, -1, 9]])], {"shape": (3, 4)}, note="no check")]


def _unravel_samples(dtype):
    return [Sample([_frac(dtype, [22, 41, 37])], {"shape": (7, 6)}),
            Sample([_frac(dtype, [22, 41, 37, 0])], {"shape": (-1, 6)}),
            Sample([_frac(dtype, [0, 5, 23, 17])], {"shape": (2, 3, 4)}),
            Sample([_frac(dtype, [45, -1, 100])], {"shape": (7, 6)}, note="out of range"),
            Sample([_frac(dtype, [3, 9])], {"shape": (30,)})]


_SHAPE = {"shape": Param("shape", None, doc="Shape of the array into which the multi-indices "
                                             "apply (the first dimension may be -1).")}
_zero_grad = lambda F, a, ins, outs, g: [F.zeros_like(ins[0])]  # noqa: E731

register(OpDef(
    "_ravel_multi_index", aliases=("ravel_multi_index",), params=_SHAPE,
    infer_shape=_ravel_shape, forward=_ravel_fwd, dtypes="numeric", reference=_ravel_ref,
    samples=_ravel_samples, test_dtypes=_TEST3, gradient=_zero_grad,
    bad_samples=lambda: [
        BadSample([np.ones((2, 3), np.float32)], {"shape": (7, 6, 2)}, match=("data", "(2, 3)")),
        BadSample([np.ones((2,), np.float32)], {"shape": (3, 4)}, match=("data", "(2,)")),
        BadSample([np.ones((2, 3), np.float32)], {}, match=("shape", "empty"))],
    doc="Converts a batch of multi-indices (one column each, shape (len(shape), N)) into flat "
        "indices of an array of `shape`. Values truncate to integers; no range check."))

register(OpDef(
    "_unravel_index", aliases=("unravel_index",), params=_SHAPE,
    infer_shape=_unravel_shape, forward=_unravel_fwd, dtypes="numeric",
    reference=_unravel_ref, samples=_unravel_samples, test_dtypes=_TEST3, gradient=_zero_grad,
    bad_samples=lambda: [
        BadSample([np.ones((2, 2), np.float32)], {"shape": (7, 6)}, match=("data", "(2, 2)")),
        BadSample([np.ones((3,), np.float32)], {}, match=("shape", "empty")),
        BadSample([np.ones((3,), np.float32)], {"shape": (4, 0)}, match=("shape", "(4, 0)"))],
    doc="Converts flat indices (1-D) into multi-indices of an array of `shape`: output "
        "(len(shape), N), one column per index (the first dimension may be -1)."))


# -- khatri_rao ----------------------------------------------------------------------------------
def _kr_shape(a, shapes):
    rows, cols = 1, None
    for i, s in enumerate(shapes):
        s = tuple(s)
        if len(s) != 2:
            fail("input %d" % i, "khatri_rao needs 2-D matrices, got shape %s", s)
        if cols is None:
            cols = s[1]
        elif s[1] != cols:
            fail("input %d" % i, "shape %s has %d columns, input 0 has %d", s, s[1], cols)
        rows *= s[0]
    return [(rows, cols)]


def _kr_fwd(xp, a, ins, outs):
    r = ins[0]
    for m in ins[1:]:
        r = (r[:, None, :] * m[None, :, :]).reshape(-1, r.shape[1])
    outs[0][...] = r


def _kr_ref(a, *ms):
    cols = []
    for k in range(ms[0].shape[1]):
        c = ms[0][:, k]
        for m in ms[1:]:
            c = np.kron(c, m[:, k])
        cols.append(c)
    return np.stack(cols, axis=1).astype(ms[0].dtype)


register(OpDef(
    "khatri_rao", variadic="num_args",
    params={"num_args": Param("int", check=positive, doc="Number of input matrices.")},
    infer_shape=_kr_shape, forward=_kr_fwd, dtypes=("float32", "float64"), reference=_kr_ref,
    nondiff=True,
    samples=lambda dt: [Sample([_v((2, 2), dt), _v((3, 2), dt, seed=1)]),
                        Sample([_v((2, 3), dt, seed=2)]),
                        Sample([_v((2, 2), dt, seed=3), _v((3, 2), dt, seed=4),
                                _v((2, 2), dt, seed=5)])],
    bad_samples=lambda: [
        BadSample([np.ones((2, 2), np.float32), np.ones((3, 3), np.float32)],
                  match=("input 1", "(3, 3)")),
        BadSample([np.ones((3,), np.float32)], match=("input 0", "(3,)"))],
    doc="Column-wise Kronecker (Khatri-Rao) product of 2-D matrices with one column count: "
        "(M_1, N), ..., (M_n, N) -> (M_1 * ... * M_n, N)."))

from . import index_ops_mx_hist  # noqa: F401,E402  (_histogram, _np_cumsum)
