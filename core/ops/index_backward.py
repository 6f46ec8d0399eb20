"""Hidden backward ops of take and pick (imported by indexing.py).

_backward_take(ograd, indices, data) scatter-adds ograd into zeros shaped like data at the
indices take read (clipped or wrapped as in the forward; repeated indices accumulate), the
gradient MXNet's take has.  _backward_pick(ograd, index, data) puts ograd at the positions
pick read.  Their gradients (w.r.t. ograd) are take and pick again, so higher orders work.
"""
import numpy as np

from ..base import PlaitError, fail
from . import sampling
from .index_utils import _mode_index, _ref_mode, _trunc, _data_type, scatter_add
from .params import Attrs, Param
from .registry import OpDef, Sample, register
from .shape_rules import normalize_axis

_v = sampling.values
_TEST3 = ("float32", "float64", "int32")


def _prod(t):
    n = 1
    for d in t:
        n *= d
    return n


# -- _backward_take --------------------------------------------------------------------------
def _btake_shape(a, shapes):
    gs, ish, ds = shapes
    ax = normalize_axis(a.axis, len(ds))
    want = tuple(ds[:ax]) + tuple(ish) + tuple(ds[ax + 1:])
    if tuple(gs) != want:
        fail("ograd", "shape %s does not match take's output shape %s (data %s, indices %s, "
             "axis %d)", tuple(gs), want, tuple(ds), tuple(ish), a.axis)
    return [tuple(ds)]


def _btake_fwd(xp, a, ins, outs):
    g, idx, like = ins
    ax = normalize_axis(a.axis, like.ndim)
    n = like.shape[ax]
    if a.mode == "raise":
        if bool(xp.any((idx < 0) | (idx > n - 1))):
            raise PlaitError("an index is out of range for axis %d of length %d (mode='raise')"
                             % (a.axis, n), arg="indices", op="_backward_take")
        j = _trunc(xp, idx)
    else:
        j = _mode_index(xp, idx, n, a.mode)
    pre, post = _prod(like.shape[:ax]), _prod(like.shape[ax + 1:])
    acc = xp.zeros((pre, n, post), outs[0].dtype)
    scatter_add(xp, acc, (slice(None), j.reshape(-1)), g.reshape(pre, j.size, post))
    outs[0][...] = acc.reshape(like.shape)


def _btake_ref(a, g, idx, like):
    ax = a.axis % like.ndim
    n = like.shape[ax]
    out = np.zeros(like.shape, g.dtype)
    om = np.moveaxis(out, ax, 0)  # a view: writes land in out
    gm = np.moveaxis(g, list(range(ax, ax + idx.ndim)), list(range(idx.ndim)))
    for pos in np.ndindex(*idx.shape):
        om[_ref_mode(idx[pos], n, a.mode)] += gm[pos]
    return out


def _btake_samples(dtype):
    x = _v((3, 4), dtype)
    fi = np.array([0, 1.7, -1, 5, 1, 0], np.float32)
    ii = np.array([[0, 3], [-1, 7]], np.int32)
    cases = [(x, fi, {}), (x, fi, {"axis": 1, "mode": "wrap"}), (x, ii, {"axis": -1}),
             (_v((2, 3, 2), dtype), ii, {"axis": 1, "mode": "wrap"}),
             (x, np.array([[2, 0, 2]], np.int64), {"axis": 0, "mode": "raise"}),
             (_v((4,), dtype), np.array([3.0, 3.0], np.float64), {})]
    out = []
    for i, (d, idx, at) in enumerate(cases):
        ax = at.get("axis", 0) % d.ndim
        gs = d.shape[:ax] + idx.shape + d.shape[ax + 1:]
        out.append(Sample([_v(gs, dtype, seed=40 + i), idx, d], at))
    return out


register(OpDef(
    "_backward_take", inputs=("ograd", "indices", "data"),
    params={"axis": Param("int", 0, doc="take's axis."),
            "mode": Param("str", "clip", choices=("clip", "raise", "wrap"), doc="take's mode.")},
    infer_shape=_btake_shape, infer_type=_data_type, forward=_btake_fwd, dtypes="numeric",
    reference=_btake_ref, samples=_btake_samples, test_dtypes=_TEST3, grad_inputs=(0,),
    gradient=lambda F, a, ins, outs, g: [F.take(g[0], ins[1], axis=a.axis, mode=a.mode),
                                         None, None],
    doc="take's gradient: ograd scatter-added into zeros shaped like data at the indices."))


# -- _backward_pick --------------------------------------------------------------------------
def _pick_dims(a, ds):
    if a.axis is None:
        fail("axis", "axis=None is not supported by pick (as in MXNet); give an axis")
    ax = normalize_axis(a.axis, len(ds))
    return ax, tuple(ds[:ax]) + (1,) + tuple(ds[ax + 1:]), tuple(ds[:ax] + ds[ax + 1:]) or (1,)


def _bpick_shape(a, shapes):
    gs, ish, ds = shapes
    ax, kept, dropped = _pick_dims(a, ds)
    if tuple(ish) not in (kept, dropped):
        fail("index", "shape %s does not fit data of shape %s picked along axis %d "
             "(expected %s or %s)", tuple(ish), tuple(ds), a.axis, dropped, kept)
    want = kept if a.keepdims else dropped
    if tuple(gs) != want:
        fail("ograd", "shape %s does not match pick's output shape %s", tuple(gs), want)
    return [tuple(ds)]


def _bpick_fwd(xp, a, ins, outs):
    g, idx, like = ins
    ax, kept, _ = _pick_dims(a, like.shape)
    n = like.shape[ax]
    j = _mode_index(xp, idx.reshape(kept), n, a.mode)
    out = outs[0]
    put = getattr(xp, "put_along_axis", None)
    if put is not None and out.flags.c_contiguous:  # zero fill + one scatter: 1 pass, no temps
        out[...] = 0
        put(out, j.astype(np.intp), g.reshape(kept).astype(out.dtype, copy=False), axis=ax)
        return
    hot = xp.arange(n).reshape((1,) * ax + (n,) + (1,) * (like.ndim - ax - 1)) == j
    out[...] = xp.where(hot, g.reshape(kept), out.dtype.type(0))


def _bpick_ref(a, g, idx, like):
    ax = a.axis % like.ndim
    n = like.shape[ax]
    rest = like.shape[:ax] + like.shape[ax + 1:]
    gi, ii = g.reshape(rest), idx.reshape(rest)
    out = np.zeros(like.shape, g.dtype)
    for pos in np.ndindex(*rest):
        out[pos[:ax] + (_ref_mode(ii[pos], n, a.mode),) + pos[ax:]] = gi[pos]
    return out


def _bpick_samples(dtype):
    x = _v((2, 3, 4), dtype)
    i23 = np.array([[0, 1.6, -2], [3, 2, 7]], np.float32)
    cases = [(x, i23, {}), (x, i23, {"mode": "wrap", "keepdims": True}),
             (x, np.array([[0, 1, 2, 3], [-1, 2, 4, 0]], np.int32), {"axis": 1}),
             (_v((5,), dtype), np.array([3], np.int64), {"axis": 0})]
    out = []
    for i, (d, idx, at) in enumerate(cases):
        a = Attrs(dict({"axis": -1, "keepdims": False}, **at))
        _, kept, dropped = _pick_dims(a, d.shape)
        out.append(Sample([_v(kept if a.keepdims else dropped, dtype, seed=60 + i), idx, d], at))
    return out


register(OpDef(
    "_backward_pick", inputs=("ograd", "index", "data"),
    params={"axis": Param("int", -1, optional=True, doc="pick's axis."),
            "keepdims": Param("bool", False, doc="pick's keepdims."),
            "mode": Param("str", "clip", choices=("clip", "wrap"), doc="pick's mode.")},
    infer_shape=_bpick_shape, infer_type=_data_type, forward=_bpick_fwd, dtypes="numeric",
    reference=_bpick_ref, samples=_bpick_samples, test_dtypes=_TEST3, grad_inputs=(0,),
    gradient=lambda F, a, ins, outs, g: [F.pick(g[0], ins[1], axis=a.axis,
                                                keepdims=a.keepdims, mode=a.mode), None, None],
    doc="pick's gradient: zeros shaped like data with ograd at the picked positions."))
