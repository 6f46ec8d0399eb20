"""MXNet 1.9's contrib bounding-box operators: `_contrib_box_iou` and `_contrib_box_nms`
(alias `_contrib_box_non_maximum_suppression`) with its hidden backward op.

MXNet semantics kept here (checked against MXNet 1.9.1, tools/make_box_op_fixtures.py):
- Boxes are 'corner' [xmin, ymin, xmax, ymax] or 'center' [x, y, w, h].  The IoU of two
  boxes is inter / (area1 + area2 - inter), 0 when inter is not > 0.  The intersection
  width is max(min(right) - max(left), 0) with, for 'center', left = x - w/2; an area is
  w * h (corner: w = xmax - xmin), 0 when w or h is negative.  Computed in the dtype.
- box_iou: (..., 4) x (..., 4) -> lhs.shape[:-1] + rhs.shape[:-1]; float inputs only.
  MXNet gives it a gradient that is all zeros for both inputs, and so does plait.
- box_nms, per batch row of data (..., N, K): entries with score > valid_thresh (strict),
  and id != background_id when id_index and background_id are both >= 0, are sorted by
  score descending (stable: ties keep their input order); topk > 0 keeps the first topk
  of them; then greedily each kept box suppresses the later ones whose IoU with it is
  strictly > overlap_thresh (only boxes of its own id when id_index >= 0 and not
  force_suppress).  The output holds the kept rows first, in that order, coordinates
  converted from in_format to out_format, then rows of -1.  MXNet's second (hidden)
  output is not visible, so mx.nd returns one array (named 'output0' in symbols).  The gradient routes each output
  row's gradient back to the input row it came from (whole rows), zeros elsewhere.
"""
import numpy as np

from ..base import fail
from .params import Param
from .registry import BadSample, OpDef, Sample, register
from .sampling import values

_FORMATS = ("center", "corner")
_FMT_PARAM = Param("str", "corner", choices=_FORMATS, doc="Box encoding: 'corner' is [xmin, "
                   "ymin, xmax, ymax], 'center' is [x, y, width, height].")


def host(x):
    """x's values as a NumPy array (a CuPy array is fetched): for the box, roi and matching
    kernels whose greedy steps run on the host."""
    return np.asarray(x.get() if hasattr(x, "get") else x)


def _sides(xp, b, fmt):
    """(left, top, right, bottom, area) of boxes b (..., 4), as MXNet computes them."""
    x, y, z, w = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    two = b.dtype.type(2)
    if fmt == "corner":
        l, t, r, bo = x, y, z, w
        bw, bh = z - x, w - y
    else:
        l, t, r, bo = x - z / two, y - w / two, x + z / two, y + w / two
        bw, bh = z, w
    zero = b.dtype.type(0)
    area = xp.where((bw < 0) | (bh < 0), zero, bw * bh)
    return l, t, r, bo, area


def _pair_iou(xp, p, q, fmt):
    """IoU of boxes p (..., 4) against q (..., 4), broadcast elementwise."""
    pl, pt, pr, pb, pa = _sides(xp, p, fmt)
    ql, qt, qr, qb, qa = _sides(xp, q, fmt)
    zero = p.dtype.type(0)
    iw = xp.maximum(xp.minimum(pr, qr) - xp.maximum(pl, ql), zero)
    ih = xp.maximum(xp.minimum(pb, qb) - xp.maximum(pt, qt), zero)
    inter = iw * ih
    union = pa + qa - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.where(inter > 0, inter / xp.where(inter > 0, union, p.dtype.type(1)), zero)


def _boxes(shape, arg):
    shape = tuple(shape)
    if len(shape) < 2:
        fail(arg, "must have dim >= 2, got shape %s", shape)
    if shape[-1] != 4:
        fail(arg, "last dimension must be 4 (a box), got shape %s", shape)
    return shape


# -- box_iou ---------------------------------------------------------------------------------------
def _iou_shape(a, shapes):
    return [_boxes(shapes[0], "lhs")[:-1] + _boxes(shapes[1], "rhs")[:-1]]


def _iou_fwd(xp, a, ins, outs):
    lhs, rhs = ins
    p = lhs.reshape(-1, 1, 4)
    q = rhs.reshape(1, -1, 4)
    outs[0][...] = _pair_iou(xp, p, q, a.format).reshape(outs[0].shape)


def _ref_iou_one(p, q, fmt):
    """One pair, in plain Python arithmetic on numpy scalars of the input dtype."""
    two = p.dtype.type(2)

    def edges(b):
        if fmt == "corner":
            return b[0], b[1], b[2], b[3], b[2] - b[0], b[3] - b[1]
        return (b[0] - b[2] / two, b[1] - b[3] / two, b[0] + b[2] / two, b[1] + b[3] / two,
                b[2], b[3])
    pl, pt, pr, pb, pw, ph = edges(p)
    ql, qt, qr, qb, qw, qh = edges(q)
    iw = min(pr, qr) - max(pl, ql)
    ih = min(pb, qb) - max(pt, qt)
    iw = iw if iw > 0 else p.dtype.type(0)
    ih = ih if ih > 0 else p.dtype.type(0)
    inter = iw * ih
    if not inter > 0:
        return 0.0
    pa = pw * ph if pw >= 0 and ph >= 0 else p.dtype.type(0)
    qa = qw * qh if qw >= 0 and qh >= 0 else p.dtype.type(0)
    return inter / (pa + qa - inter)


def _iou_ref(a, lhs, rhs):
    p, q = lhs.reshape(-1, 4), rhs.reshape(-1, 4)
    out = np.array([[_ref_iou_one(x, y, a.format) for y in q] for x in p], lhs.dtype)
    return out.reshape(lhs.shape[:-1] + rhs.shape[:-1])


def _box_values(shape, dtype, seed, fmt="corner"):
    """Random boxes (..., 4): corners with xmin < xmax mostly, some overlapping."""
    v = values(shape, dtype, 0.0, 1.0, seed=seed).astype(np.float64)
    if fmt == "corner":
        v[..., 2:] = v[..., :2] + v[..., 2:] * 0.6 - 0.05
    else:
        v[..., 2:] = v[..., 2:] * 0.6
    return v.astype(dtype)


def _iou_samples(dtype):
    exact = np.array([[0, 0, 2, 2], [1, 1, 3, 3], [2, 2, 1, 1], [0, 0, 0, 2]], dtype)
    return [Sample([_box_values((5, 4), dtype, 1), _box_values((3, 4), dtype, 2)]),
            Sample([_box_values((2, 3, 4), dtype, 3), _box_values((4, 4), dtype, 4)]),
            Sample([_box_values((3, 4), dtype, 5, "center"),
                    _box_values((2, 2, 4), dtype, 6, "center")], {"format": "center"}),
            Sample([exact, exact]), Sample([exact, exact], {"format": "center"})]


def _iou_bad():
    f = np.float32
    return [BadSample([np.ones((2, 3), f), np.ones((2, 4), f)], match=("lhs", "(2, 3)")),
            BadSample([np.ones((2, 4), f), np.ones((4,), f)], match=("rhs", "(4,)", "dim")),
            BadSample([np.ones((2, 4), f), np.ones((2, 4), f)], {"format": "xywh"},
                      match=("format", "xywh"))]


register(OpDef(
    "_contrib_box_iou", inputs=("lhs", "rhs"), params={"format": _FMT_PARAM},
    infer_shape=_iou_shape, forward=_iou_fwd, dtypes="float", reference=_iou_ref,
    samples=_iou_samples, bad_samples=_iou_bad, fd_check=False,
    gradient=lambda F, a, ins, outs, g: [F.zeros_like(ins[0]), F.zeros_like(ins[1])],
    doc="Intersection over union of every lhs box with every rhs box: (..., 4) x (..., 4) "
        "-> lhs.shape[:-1] + rhs.shape[:-1].  Its gradient is zero, as in MXNet."))


# -- box_nms ---------------------------------------------------------------------------------------
_NMS_PARAMS = {
    "overlap_thresh": Param("float", 0.5, doc="IoU above which the lower-scored box is "
                            "suppressed."),
    "valid_thresh": Param("float", 0.0, doc="Keep only boxes whose score is greater."),
    "topk": Param("int", -1, doc="Apply NMS to the topk highest-scored boxes; -1: all."),
    "coord_start": Param("int", 2, doc="Index of the first of the 4 coordinates."),
    "score_index": Param("int", 1, doc="Index of the score."),
    "id_index": Param("int", -1, doc="Index of the class id; -1: none."),
    "background_id": Param("int", -1, doc="Class id ignored by NMS; -1: none."),
    "force_suppress": Param("bool", False, doc="Suppress across classes too."),
    "in_format": _FMT_PARAM,
    "out_format": _FMT_PARAM,
}


def _nms_check(a, shape):
    shape = tuple(shape)
    if len(shape) < 2:
        fail("data", "must have dim >= 2 (the last two are num_box and box_width), got shape "
             "%s", shape)
    k = shape[-1]
    if a.coord_start < 0 or a.coord_start + 3 >= k:
        fail("coord_start", "coordinates %d..%d are out of range for box width %d (data "
             "shape %s)", a.coord_start, a.coord_start + 3, k, shape)
    if not 0 <= a.score_index < k:
        fail("score_index", "%d is out of range for box width %d (data shape %s)",
             a.score_index, k, shape)
    if a.id_index >= k:
        fail("id_index", "%d is out of range for box width %d (data shape %s)", a.id_index,
             k, shape)
    return shape


def _convert(xp, b, src, dst):
    """Boxes b (..., 4) from format src to dst."""
    if src == dst:
        return b
    two = b.dtype.type(2)
    x, y, z, w = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    if src == "corner":
        parts = ((x + z) / two, (y + w) / two, z - x, w - y)
    else:
        parts = (x - z / two, y - w / two, x + z / two, y + w / two)
    return xp.stack(parts, axis=-1)


def _nms_kept(xp, a, d):
    """For one batch row d (N, K): the input indices kept, in output order (an xp array)."""
    s = d[:, a.score_index]
    valid = s > d.dtype.type(a.valid_thresh)
    if a.id_index >= 0 and a.background_id >= 0:
        valid &= d[:, a.id_index] != d.dtype.type(a.background_id)
    idx = xp.nonzero(valid)[0]
    order = idx[xp.argsort(-s[idx], kind="stable")]
    if a.topk > 0:
        order = order[:a.topk]
    n = int(order.shape[0])
    cs = a.coord_start
    boxes = d[order, cs:cs + 4]
    ids = d[order, a.id_index] if a.id_index >= 0 else None
    keep = xp.ones(n, dtype=bool)
    thresh = d.dtype.type(a.overlap_thresh)
    for i in range(n - 1):
        if not bool(keep[i]):
            continue
        sup = _pair_iou(xp, boxes[i], boxes[i + 1:], a.in_format) > thresh
        if ids is not None and not a.force_suppress:
            sup &= ids[i + 1:] == ids[i]
        keep[i + 1:] &= ~sup
    return order[keep]


def _nms_shape(a, shapes):
    return [_nms_check(a, shapes[0])]


def _nms_fwd(xp, a, ins, outs):
    x, out = ins[0], outs[0]
    n, k = x.shape[-2:]
    d3 = x.reshape(-1, n, k)
    o3 = xp.full(d3.shape, -1, x.dtype)
    cs = a.coord_start
    for b in range(d3.shape[0]):
        kept = _nms_kept(xp, a, d3[b])
        m = int(kept.shape[0])
        rows = d3[b][kept]
        rows[:, cs:cs + 4] = _convert(xp, rows[:, cs:cs + 4], a.in_format, a.out_format)
        o3[b, :m] = rows
    out[...] = o3.reshape(out.shape)


def _nms_grad(F, a, ins, outs, g):
    return [F._backward_contrib_box_nms(g[0], ins[0], **{k: a[k] for k in _NMS_PARAMS})]


def _nms_bwd_shape(a, shapes):
    g, d = tuple(shapes[0]), _nms_check(a, shapes[1])
    if g != d:
        fail("ograd", "shape %s does not match the data's shape %s", g, d)
    return [d]


def _nms_bwd_fwd(xp, a, ins, outs):
    g, x = ins
    n, k = x.shape[-2:]
    g3, d3 = g.reshape(-1, n, k), x.reshape(-1, n, k)
    res = xp.zeros(d3.shape, g.dtype)
    for b in range(d3.shape[0]):
        kept = _nms_kept(xp, a, d3[b])
        res[b, kept] = g3[b, :int(kept.shape[0])]
    outs[0][...] = res.reshape(outs[0].shape)


# -- the references: a plain-Python greedy NMS, one box at a time
def _ref_kept(a, d):
    rows = [i for i in range(d.shape[0]) if d[i, a.score_index] > d.dtype.type(a.valid_thresh)
            and not (a.id_index >= 0 and a.background_id >= 0
                     and d[i, a.id_index] == d.dtype.type(a.background_id))]
    rows.sort(key=lambda i: -float(d[i, a.score_index]))  # list.sort is stable
    if a.topk > 0:
        rows = rows[:a.topk]
    cs, kept = a.coord_start, []
    for i in rows:
        ok = True
        for j in kept:
            if a.id_index >= 0 and not a.force_suppress and d[i, a.id_index] != d[j, a.id_index]:
                continue
            if _ref_iou_one(d[j, cs:cs + 4], d[i, cs:cs + 4], a.in_format) > \
                    d.dtype.type(a.overlap_thresh):
                ok = False
                break
        if ok:
            kept.append(i)
    return kept


def _ref_rows(x):
    n, k = x.shape[-2:]
    return x.reshape(-1, n, k)


def _nms_ref(a, x):
    out = -np.ones(_ref_rows(x).shape, x.dtype)
    cs = a.coord_start
    for b, d in enumerate(_ref_rows(x)):
        for m, i in enumerate(_ref_kept(a, d)):
            out[b, m] = d[i]
            c = d[i, cs:cs + 4]
            if a.in_format == "corner" and a.out_format == "center":
                out[b, m, cs:cs + 4] = [(c[0] + c[2]) / 2, (c[1] + c[3]) / 2, c[2] - c[0],
                                        c[3] - c[1]]
            elif a.in_format == "center" and a.out_format == "corner":
                out[b, m, cs:cs + 4] = [c[0] - c[2] / 2, c[1] - c[3] / 2, c[0] + c[2] / 2,
                                        c[1] + c[3] / 2]
    return out.reshape(x.shape)


def _nms_bwd_ref(a, g, x):
    out = np.zeros(_ref_rows(x).shape, g.dtype)
    for b, d in enumerate(_ref_rows(x)):
        for m, i in enumerate(_ref_kept(a, d)):
            out[b, i] = _ref_rows(g)[b, m]
    return out.reshape(x.shape)


def nms_data(shape, dtype, seed, classes=3):
    """(..., N, 6) rows [id, score, xmin, ymin, xmax, ymax] with distinct scores."""
    r = np.random.default_rng(seed)
    n = shape[-2]
    d = np.empty(shape[:-1] + (6,), np.float64)
    d[..., 0] = r.integers(0, classes, shape[:-1])
    d[..., 1] = np.stack([r.permutation(n) for _ in range(int(np.prod(shape[:-2])))]
                         ).reshape(shape[:-1]) / n + 0.01
    d[..., 2:] = _box_values(shape[:-1] + (4,), np.float64, seed + 1)
    d[..., 2:4] *= 0.4  # crowd the boxes so that some overlap
    d[..., 4:] = d[..., 2:4] + np.abs(d[..., 4:] - d[..., 2:4]) + 0.1
    return d.astype(dtype)


def _nms_cases():
    return [{}, {"overlap_thresh": 0.3, "valid_thresh": 0.2}, {"topk": 4},
            {"id_index": 0, "overlap_thresh": 0.2}, {"id_index": 0, "background_id": 1},
            {"id_index": 0, "force_suppress": True, "overlap_thresh": 0.2},
            {"out_format": "center"}, {"in_format": "center", "overlap_thresh": 0.2}]


def _nms_samples(dtype):
    out = [Sample([nms_data((8, 6), dtype, 1)], c) for c in _nms_cases()]
    out.append(Sample([nms_data((2, 3, 6, 6), dtype, 2)], {"overlap_thresh": 0.25}))
    ties = np.array([[0.5, 0, 0, 1, 1], [0.5, 2, 2, 3, 3], [0.9, 0, 0, 1, 1.1],
                     [0.5, 4, 4, 5, 5]], dtype)
    out.append(Sample([ties], {"coord_start": 1, "score_index": 0}))
    return out


def _nms_bad():
    f = np.float32
    return [BadSample([np.ones((5,), f)], {"coord_start": 0}, match=("data", "(5,)", "dim")),
            BadSample([np.ones((4, 5), f)], match=("coord_start", "2..5", "(4, 5)")),
            BadSample([np.ones((4, 6), f)], {"score_index": 6},
                      match=("score_index", "6", "(4, 6)")),
            BadSample([np.ones((4, 6), f)], {"in_format": "xyxy"},
                      match=("in_format", "xyxy"))]


register(OpDef(
    "_contrib_box_nms", aliases=("_contrib_box_non_maximum_suppression",),
    params=_NMS_PARAMS, infer_shape=_nms_shape, forward=_nms_fwd, dtypes="float",
    output_names=("output0",), reference=_nms_ref, samples=_nms_samples, bad_samples=_nms_bad, gradient=_nms_grad,
    fd_check=False,
    doc="Non-maximum suppression of boxes in data (..., N, K): kept rows sorted by score "
        "descending, then rows of -1 (see core/ops/contrib_box.py)."))

register(OpDef(
    "_backward_contrib_box_nms", inputs=("ograd", "data"), params=_NMS_PARAMS,
    infer_shape=_nms_bwd_shape, infer_type=lambda a, t: [t[0]], forward=_nms_bwd_fwd,
    dtypes="float", nondiff=True, reference=_nms_bwd_ref,
    samples=lambda dt: [Sample([values((8, 6), dt), nms_data((8, 6), dt, 1)], c)
                        for c in _nms_cases()[:4]],
    bad_samples=lambda: [BadSample([np.ones((3, 6), np.float32), np.ones((4, 6), np.float32)],
                                   match=("ograd", "(3, 6)", "(4, 6)"))],
    doc="Gradient of _contrib_box_nms w.r.t. its data: each output row's gradient goes to "
        "the input row it came from."))
