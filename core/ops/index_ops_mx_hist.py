"""MXNet 1.9 _histogram and _np_cumsum (mx.nd.cumsum), with MXNet 1.9.1's semantics
(tools/make_index_op_fixtures.py).

- `_histogram(data, [bins], bin_cnt=None, range=None)`: with bin_cnt (range then required)
  the single input is data; without, the second input `bins` holds the edges (1-D, >= 2).
  Outputs: counts (int64) and edges (data's dtype; given bins must have data's dtype).
  Uniform edges are DType((max*i + (cnt-i)*min) / cnt), computed in double; range (v, v)
  becomes (v-0.5, v+0.5); a value lands in bin int((x-min)*cnt/(max-min)) corrected by one
  against the edges; values outside [min, max] are not counted; the last bin includes its
  right edge.  Given edges: the bin is the first k with x < edges[k], minus one (a scan, so
  unsorted edges are taken as they come), data outside [edges[0], edges[-1]] not counted.
  No gradient.  mx.nd.histogram / mx.sym.histogram are the Python front ends.
- `_np_cumsum(a, axis=None, dtype=None)` (alias cumsum): axis None flattens; MXNet 1.9.1
  rejects negative axes (shape inference fails); bool input gives int64, other dtypes keep
  theirs (int8 wraps); `dtype` casts the input first, then sums.  The gradient
  (`_backward_np_cumsum`) is the reversed cumulative sum, in the input's dtype.
"""
import numpy as np

from ..base import fail
from . import sampling
from .params import Param, non_negative
from .registry import BadSample, OpDef, Sample, register

_v = sampling.values
_I64 = np.dtype("int64")


# -- _histogram ----------------------------------------------------------------------------------
def _hist_inputs(a):
    return ("data",) if a.bin_cnt is not None else ("data", "bins")


def _hist_range(a):
    if (a.bin_cnt is None) != (a.range is None):
        fail("range", "bin_cnt and range must both be given or both be left out (bin_cnt=%s, "
             "range=%s)", a.bin_cnt, a.range)
    if a.range is None:
        return None
    if len(a.range) != 2:
        fail("range", "range must have 2 elements, got %s", tuple(a.range))
    lo, hi = float(a.range[0]), float(a.range[1])
    if lo > hi:
        fail("range", "the lower end %s of range is greater than the upper end %s", lo, hi)
    return (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)


def _hist_shape(a, shapes):
    _hist_range(a)
    n_in = len(_hist_inputs(a))
    if len(shapes) != n_in:
        fail("bins", "expected %d input(s) (%s), got %d", n_in, ", ".join(_hist_inputs(a)),
             len(shapes))
    if a.bin_cnt is not None:
        return [(a.bin_cnt,), (a.bin_cnt + 1,)]
    sb = tuple(shapes[1])
    if len(sb) != 1 or sb[0] < 2:
        fail("bins", "bins must be a 1-D array of at least 2 edges, got shape %s", sb)
    return [(sb[0] - 1,), sb]


def _hist_type(a, t):
    if len(t) > 1 and t[1] != t[0]:
        fail("bins", "dtype %s does not match data's dtype %s", t[1].name, t[0].name)
    return [_I64, t[0]]


def _uniform_edges(a, dtype):
    lo, hi = _hist_range(a)
    n = a.bin_cnt
    i = np.arange(n + 1, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        e = (hi * i + (n - i) * lo) / n
    return e.astype(dtype)


def _hist_fwd(xp, a, ins, outs):
    x = ins[0].reshape(-1)
    counts, edges_out = outs
    if a.bin_cnt is not None:
        lo, hi = _hist_range(a)
        n = a.bin_cnt
        edges = xp.asarray(_uniform_edges(a, x.dtype))
        xd = x.astype(np.float64)
        keep = (xd >= lo) & (xd <= hi)
        x, xd = x[keep], xd[keep]
        if n == 0:
            b = xp.zeros(0, np.int64)
        else:
            b = xp.minimum(((xd - lo) * n / (hi - lo)).astype(np.int64), n - 1)
            b = b - (x < edges[b])
            b = b + ((x >= edges[xp.minimum(b + 1, n)]) & (b != n - 1))
    else:
        edges = ins[1]
        n = edges.shape[0] - 1
        x = x[(x >= edges[0]) & (x <= edges[n])]
        below = x[:, None] < edges[None, :]
        first = xp.where(below.any(axis=1), below.argmax(axis=1), n + 1)
        b = xp.minimum(first - 1, n - 1)
    counts[...] = xp.bincount(b.astype(np.int64), minlength=n)[:n] if n else 0
    edges_out[...] = edges


def _hist_ref(a, x, bins=None):
    if a.bin_cnt is not None:
        lo, hi = _hist_range(a)
        edges = _uniform_edges(a, x.dtype)
        xs = x.reshape(-1).astype(np.float64)
        xs = xs[(xs >= lo) & (xs <= hi)]
    else:
        edges, xs = bins, x.reshape(-1).astype(np.float64)
    c, _ = np.histogram(xs, bins=edges.astype(np.float64))
    return c.astype(np.int64), edges.copy()


def _hist_samples(dtype):
    x = _v((3, 5), dtype, -3, 7)
    e = np.array([-2, 0, 1, 4, 6], dtype)
    return [Sample([x], {"bin_cnt": 5, "range": (0, 5)}),
            Sample([x], {"bin_cnt": 3, "range": (-1, 2)}),
            Sample([x], {"bin_cnt": 4, "range": (2, 2)}, note="empty range widened by 0.5"),
            Sample([x, e]), Sample([np.array([0, 1, 2, 3, 4, -1, 5], dtype),
                                    np.array([0, 1, 3, 4], dtype)], note="right edge")]


def _hist_bad():
    x = np.ones((2, 3), np.float32)
    return [BadSample([x], {"bin_cnt": 4}, match=("range", "bin_cnt")),
            BadSample([x], {"bin_cnt": 4, "range": (3, 1)}, match=("range", "3", "1")),
            BadSample([x, np.ones((1, 3), np.float32)], match=("bins", "(1, 3)")),
            BadSample([x, np.ones((1,), np.float32)], match=("bins", "(1,)")),
            BadSample([x, np.ones((3,), np.float64)], match=("bins", "float64", "float32"))]


register(OpDef(
    "_histogram", inputs=("data", "bins"), inputs_fn=_hist_inputs, num_outputs=2,
    params={"bin_cnt": Param("int", None, check=non_negative,
                             doc="Number of bins for uniform case"),
            "range": Param("floats", None, doc="The lower and upper range of the bins "
                           "(required with bin_cnt); values outside are ignored.")},
    infer_shape=_hist_shape, infer_type=_hist_type, forward=_hist_fwd, dtypes="numeric",
    reference=_hist_ref, samples=_hist_samples, test_dtypes=("float32", "float64", "int32"),
    bad_samples=_hist_bad, nondiff=True,
    doc="Histogram of the flattened data: (counts as int64, bin edges). Either bin_cnt and "
        "range (uniform bins) or a second input `bins` holding the edges."))


# -- _np_cumsum (cumsum) -------------------------------------------------------------------------
_CUMSUM_DTYPES = ("float16", "float32", "float64", "int32", "int64", "int8")


def _cs_dtype_check(v):
    return None if v.name in _CUMSUM_DTYPES else "expected one of %s" % ", ".join(_CUMSUM_DTYPES)


def _cs_axis(a, s):
    if len(s) == 0:
        fail("a", "cumsum of a 0-d array is not supported (shape %s)", tuple(s))
    if a.axis is None:
        return None
    if a.axis < 0:
        fail("axis", "negative axis %d is not supported by MXNet 1.9's cumsum (shape %s); use "
             "%d", a.axis, tuple(s), a.axis % len(s) if a.axis >= -len(s) else 0)
    if a.axis >= len(s):
        fail("axis", "axis %d is out of range for shape %s", a.axis, tuple(s))
    return a.axis


def _cs_shape(a, shapes):
    s = tuple(shapes[0])
    return [s if _cs_axis(a, s) is not None else (int(np.prod(s, dtype=np.int64)),)]


def _cs_out_dtype(a, t):
    if a.dtype is not None:
        return a.dtype
    return _I64 if t.kind == "b" else t


def _cs_fwd(xp, a, ins, outs):
    x = ins[0]
    ax = _cs_axis(a, x.shape)
    dt = outs[0].dtype
    src = x.reshape(-1) if ax is None else x
    outs[0][...] = xp.cumsum(src.astype(dt), axis=0 if ax is None else ax, dtype=dt)


def _cs_ref(a, x):
    dt = _cs_out_dtype(a, x.dtype)
    flat = x.reshape(-1).astype(dt) if a.axis is None else np.moveaxis(x.astype(dt), a.axis, 0)
    out = np.zeros(flat.shape, dt)
    acc = np.zeros(flat.shape[1:], dt)
    for k in range(flat.shape[0]):
        with np.errstate(over="ignore"):
            acc = (acc + flat[k]).astype(dt)
        out[k] = acc
    return out if a.axis is None else np.moveaxis(out, 0, a.axis)


def _cs_samples(dtype):
    x = _v((3, 4), dtype, -3, 3)
    s = [Sample([x]), Sample([x], {"axis": 0}), Sample([x], {"axis": 1}),
         Sample([_v((2, 3, 2), dtype, -3, 3, 1)], {"axis": 2}),
         Sample([_v((5,), dtype, -3, 3, 2)], {"axis": 0})]
    if np.dtype(dtype).kind == "f":
        s.append(Sample([x], {"axis": 1, "dtype": "float64"}))
    return s


_CS_PARAMS = {
    "axis": Param("int", None, doc="Axis along which the cumulative sum is computed (None: "
                  "the flattened array)."),
    "dtype": Param("dtype", None, check=_cs_dtype_check, doc="Type of the returned array and "
                   "of the accumulator (default: a's dtype; bool gives int64)."),
}


def _cs_grad(F, a, ins, outs, g):
    return [F._backward_np_cumsum(g[0], ins[0], axis=a.axis)]


register(OpDef(
    "_np_cumsum", aliases=("cumsum",), inputs=("a",), params=_CS_PARAMS,
    infer_shape=_cs_shape, infer_type=lambda a, t: [_cs_out_dtype(a, t[0])], forward=_cs_fwd,
    reference=_cs_ref, samples=_cs_samples, test_dtypes=("float32", "float64", "int32"),
    gradient=_cs_grad,
    bad_samples=lambda: [BadSample([np.ones((2, 3), np.float32)], {"axis": -1},
                                   match=("axis", "-1", "(2, 3)")),
                         BadSample([np.ones((2, 3), np.float32)], {"dtype": "uint8"},
                                   match=("dtype", "uint8")),
                         BadSample([np.ones((), np.float32)], match=("a", "()"))],
    doc="Cumulative sum along `axis` (None: over the flattened array), in `dtype` if given."))


def _cs_bwd_shape(a, shapes):
    sg, sx = tuple(shapes[0]), tuple(shapes[1])
    want = _cs_shape(a, [sx])[0]
    if sg != want:
        fail("ograd", "shape %s does not match the cumsum output shape %s of input shape %s",
             sg, want, sx)
    return [sx]


_cs_bwd_shape.bad_shapes = [[(3, 4), (4, 4)]]


def _cs_bwd_fwd(xp, a, ins, outs):
    g, x = ins
    ax = 0 if a.axis is None else a.axis
    r = xp.flip(xp.cumsum(xp.flip(g, axis=ax), axis=ax), axis=ax)
    outs[0][...] = r.reshape(x.shape).astype(x.dtype)


def _cs_bwd_ref(a, g, x):
    ax = 0 if a.axis is None else a.axis
    total = np.sum(g, axis=ax, keepdims=True)
    before = np.cumsum(g, axis=ax) - g  # sum of g over positions < k
    return (total - before).reshape(x.shape).astype(x.dtype)


register(OpDef(
    "_backward_np_cumsum", inputs=("ograd", "a"), params={"axis": _CS_PARAMS["axis"]},
    infer_shape=_cs_bwd_shape, infer_type=lambda a, t: [t[1]], forward=_cs_bwd_fwd,
    dtypes="numeric", nondiff=True, reference=_cs_bwd_ref,
    samples=lambda dt: [Sample([_v((3, 4), dt, seed=3), _v((3, 4), dt, seed=4)], {"axis": 1}),
                        Sample([_v((12,), dt, seed=5), _v((3, 4), dt, seed=6)]),
                        Sample([_v((3, 4), dt, seed=7), _v((3, 4), dt, seed=8)], {"axis": 0})],
    doc="Gradient of cumsum: the reversed cumulative sum of ograd along axis (flattened for "
        "axis=None), in the dtype and shape of a."))
