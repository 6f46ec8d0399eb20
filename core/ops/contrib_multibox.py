"""MXNet 1.9's SSD operators `_contrib_MultiBoxPrior` and `_contrib_MultiBoxDetection`;
`_contrib_MultiBoxTarget` lives in contrib_multibox_target.py (imported at the end).

These are MXNet "legacy" operators: float32 only (MXNet rejects other dtypes), and every
input's gradient is zero.  Checked against MXNet 1.9.1 (tools/make_multibox_fixtures.py):
- MultiBoxPrior(data (B, C, H, W, ...)) -> (1, H*W*A, 4) corner anchors, A = len(sizes) +
  len(ratios) - 1, ordered by row, column, then anchor: first every size with ratios[0],
  then sizes[0] with each further ratio.  Computed in float32 as MXNet's loop does: the
  center is ((r + offsets[0]) * step_y, (c + offsets[1]) * step_x), the half width
  size * H / W * sqrt(ratio) / 2, the half height size / sqrt(ratio) / 2.  steps <= 0 (either
  one) means (1/H, 1/W) for both; steps of opposite signs are an error.  clip clamps to
  [0, 1].  Only data's shape is read.
- MultiBoxDetection(cls_prob (B, C, A), loc_pred (B, 4A), anchor (1, A, 4)) -> (B, A, 6)
  rows [class_id, score, xmin, ymin, xmax, ymax].  Per anchor, the class is the first
  maximum over classes 1..C-1 (class 0 is the background, whatever background_id says: the
  CPU kernel ignores background_id); a score < threshold (strict) drops the anchor.  Boxes
  are decoded like box_decode with the variances (clip: clamped to [0, 1]).  Kept anchors
  are packed first in anchor order, the rest of the rows are -1.  Only when 0 <
  nms_threshold <= 1: the packed rows are sorted by score descending (stable); with
  0 < nms_topk < count, the rows at positions >= nms_topk keep their unsorted contents but
  get class -1; then greedy NMS sets the class of a later row to -1 (rows stay in place)
  when its IoU with a kept one of the same class (any class with force_suppress) is
  >= nms_threshold (not strict).  IoU: 0 when the union is <= 0; areas are not clamped.
"""
import numpy as np

from ..base import fail
from .contrib_box import host
from .params import Param
from .registry import BadSample, OpDef, Sample, register

F32 = (np.float32,)


def zero_grads(F, a, ins, outs, g):
    return [F.zeros_like(x) for x in ins]


def check_variances(a):
    if len(a.variances) != 4:
        fail("variances", "must have 4 values, got %s", a.variances)


# -- MultiBoxPrior ---------------------------------------------------------------------------------
_PRIOR_PARAMS = {
    "sizes": Param("floats", (1.0,), doc="Anchor sizes, relative to the input."),
    "ratios": Param("floats", (1.0,), doc="Anchor width/height ratios."),
    "clip": Param("bool", False, doc="Clip the anchors to [0, 1]."),
    "steps": Param("floats", (-1.0, -1.0), doc="(step_y, step_x); <= 0: 1/H, 1/W."),
    "offsets": Param("floats", (0.5, 0.5), doc="(y, x) center offsets, in [0, 1]."),
}


def _prior_shape(a, shapes):
    d = tuple(shapes[0])
    if len(d) < 4 or d[2] <= 0 or d[3] <= 0:
        fail("data", "must be 4D (batch, channel, height, width) with height, width > 0, "
             "got shape %s", d)
    for k in ("sizes", "ratios"):
        if not a[k]:
            fail(k, "must not be empty")
    for k in ("steps", "offsets"):
        if len(a[k]) != 2:
            fail(k, "must have 2 values (y, x), got %s", a[k])
    if not all(0.0 <= o <= 1.0 for o in a.offsets):
        fail("offsets", "must lie in [0, 1], got %s", a.offsets)
    if np.float32(a.steps[0]) * np.float32(a.steps[1]) < 0:
        fail("steps", "must give both step_y and step_x, got %s", a.steps)
    return [(1, d[2] * d[3] * (len(a.sizes) + len(a.ratios) - 1), 4)]


def _prior_halves(a, h, w):
    """Per-anchor half widths and heights, float32 as MXNet computes them."""
    f = np.float32
    hw, hh = [], []
    pairs = [(s, a.ratios[0]) for s in a.sizes] + [(a.sizes[0], r) for r in a.ratios[1:]]
    for size, ratio in pairs:
        rt = np.sqrt(f(ratio))
        hw.append(f(size) * f(h) / f(w) * rt / f(2))
        hh.append(f(size) / rt / f(2))
    return np.array(hw, f), np.array(hh, f)


def _prior_steps(a, h, w):
    f = np.float32
    if a.steps[0] <= 0 or a.steps[1] <= 0:
        return f(1) / f(h), f(1) / f(w)
    return f(a.steps[0]), f(a.steps[1])


def _prior_compute(xp, a, data):
    h, w = data.shape[2], data.shape[3]
    sy, sx = _prior_steps(a, h, w)
    f = np.float32
    cy = (np.arange(h, dtype=f) + f(a.offsets[0])) * sy
    cx = (np.arange(w, dtype=f) + f(a.offsets[1])) * sx
    hw, hh = _prior_halves(a, h, w)
    cy = cy[:, None, None]
    cx = cx[None, :, None]
    shape = (h, w, hw.shape[0])
    out = np.stack([np.broadcast_to(cx - hw, shape), np.broadcast_to(cy - hh, shape),
                    np.broadcast_to(cx + hw, shape), np.broadcast_to(cy + hh, shape)], -1)
    if a.clip:
        out = np.clip(out, f(0), f(1))
    return xp.asarray(out.reshape(1, -1, 4))


def _prior_ref(a, data):
    h, w = data.shape[2], data.shape[3]
    sy, sx = _prior_steps(a, h, w)
    f = np.float32
    rows = []
    for r in range(h):
        for c in range(w):
            y, x = (f(r) + f(a.offsets[0])) * sy, (f(c) + f(a.offsets[1])) * sx
            sizes = [(s, a.ratios[0]) for s in a.sizes] + [(a.sizes[0], q) for q in a.ratios[1:]]
            for s, q in sizes:
                bw = f(s) * f(h) / f(w) * np.sqrt(f(q)) / f(2)
                bh = f(s) / np.sqrt(f(q)) / f(2)
                box = [x - bw, y - bh, x + bw, y + bh]
                rows.append([min(max(v, f(0)), f(1)) for v in box] if a.clip else box)
    return np.array(rows, f).reshape(1, -1, 4)


def _prior_samples(dtype):
    z = np.zeros
    return [Sample([z((1, 3, 4, 5), dtype)]),
            Sample([z((2, 2, 3, 3), dtype)], {"sizes": (0.5, 0.25, 0.1), "ratios": (1, 2, 0.5),
                                               "clip": True}),
            Sample([z((1, 1, 2, 4), dtype)], {"sizes": (0.3,), "ratios": (2, 1),
                                               "steps": (0.2, 0.1), "offsets": (0.2, 0.7)})]


register(OpDef(
    "_contrib_MultiBoxPrior", params=_PRIOR_PARAMS, infer_shape=_prior_shape,
    compute=_prior_compute, dtypes=F32, test_dtypes=("float32",), reference=_prior_ref,
    samples=_prior_samples, gradient=zero_grads, fd_check=False,
    bad_samples=lambda: [
        BadSample([np.zeros((1, 3, 4), np.float32)], match=("data", "(1, 3, 4)")),
        BadSample([np.zeros((1, 3, 4, 4), np.float32)], {"steps": (0.1,)},
                  match=("steps", "2 values")),
        BadSample([np.zeros((1, 3, 4, 4), np.float32)], {"steps": (-1, 0.1)},
                  match=("steps", "both")),
        BadSample([np.zeros((1, 3, 4, 4), np.float32)], {"offsets": (0.5, 1.5)},
                  match=("offsets", "1.5"))],
    doc="SSD prior (anchor) boxes for a feature map data (B, C, H, W): (1, H*W*A, 4) "
        "corners, A = len(sizes) + len(ratios) - 1."))


# -- MultiBoxDetection -----------------------------------------------------------------------------
_DET_PARAMS = {
    "clip": Param("bool", True, doc="Clip the boxes to [0, 1]."),
    "threshold": Param("float", 0.01, doc="Scores below it are dropped."),
    "background_id": Param("int", 0, doc="Background class (MXNet's CPU kernel ignores it: "
                                         "class 0 is always the background)."),
    "nms_threshold": Param("float", 0.5, doc="NMS IoU threshold; NMS (and sorting) only "
                                             "when in (0, 1]."),
    "force_suppress": Param("bool", False, doc="Suppress across classes too."),
    "variances": Param("floats", (0.1, 0.1, 0.2, 0.2), doc="Decoding variances."),
    "nms_topk": Param("int", -1, doc="Keep the nms_topk best detections before NMS."),
}


def _det_shape(a, shapes):
    c, l, an = (tuple(s) for s in shapes)
    if len(c) != 3:
        fail("cls_prob", "must be (batch, num_classes, num_anchors), got shape %s", c)
    if len(an) != 3 or an[0] != 1 or an[2] != 4 or an[1] <= 0 or an[1] != c[2]:
        fail("anchor", "must be (1, num_anchors, 4) with num_anchors = %d (cls_prob %s), got "
             "shape %s", c[2], c, an)
    if len(l) != 2 or l[0] != c[0] or l[1] != c[2] * 4:
        fail("loc_pred", "must be (batch, num_anchors * 4) = (%d, %d) (cls_prob %s), got "
             "shape %s", c[0], c[2] * 4, c, l)
    check_variances(a)
    return [(c[0], c[2], 6)]


def decode_loc(xp, a, anchors, loc):
    """MultiBoxDetection's decoding of loc (A, 4) against corner anchors (A, 4), float32."""
    f = np.float32
    v = [f(x) for x in a.variances]
    aw, ah = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    ax, ay = (anchors[:, 0] + anchors[:, 2]) / f(2), (anchors[:, 1] + anchors[:, 3]) / f(2)
    ox, oy = loc[:, 0] * v[0] * aw + ax, loc[:, 1] * v[1] * ah + ay
    with np.errstate(over="ignore", invalid="ignore"):
        ow, oh = xp.exp(loc[:, 2] * v[2]) * aw / f(2), xp.exp(loc[:, 3] * v[3]) * ah / f(2)
    out = xp.stack([ox - ow, oy - oh, ox + ow, oy + oh], -1)
    return xp.clip(out, f(0), f(1)) if a.clip else out


def _iou_row(box, others):
    """MultiBoxDetection's IoU of box (4,) with others (K, 4), float32."""
    f = np.float32
    iw = np.maximum(f(0), np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]))
    ih = np.maximum(f(0), np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]))
    i = iw * ih
    u = (box[2] - box[0]) * (box[3] - box[1]) + (others[:, 2] - others[:, 0]) * \
        (others[:, 3] - others[:, 1]) - i
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(u <= 0, f(0), i / np.where(u <= 0, f(1), u))


def _det_one(a, cp, loc, anchors):
    """One batch item on the host: cp (C, A), loc (A, 4), anchors (A, 4) -> (A, 6)."""
    f = np.float32
    n = cp.shape[1]
    out = np.full((n, 6), -1, f)
    if cp.shape[0] > 1:
        best = np.argmax(cp[1:], axis=0)
        score = cp[1:][best, np.arange(n)]
        cls = np.where(score > f(-1), best + 1, 0)
        score = np.where(score > f(-1), score, f(-1))
    else:
        cls, score = np.zeros(n, np.int64), np.full(n, -1, f)
    cls = np.where((cls > 0) & (score < f(a.threshold)), 0, cls)
    rows = np.concatenate([(cls - 1).astype(f)[:, None], score[:, None],
                           decode_loc(np, a, anchors, loc)], 1)
    rows = rows[cls > 0]
    count = rows.shape[0]
    out[:count] = rows
    if count < 1 or not 0 < a.nms_threshold <= 1:
        return out
    order = np.argsort(-rows[:, 1], kind="stable")
    keep = count
    if 0 < a.nms_topk < count:
        keep = a.nms_topk
        out[keep:count, 0] = -1
    out[:keep] = rows[order[:keep]]
    thresh = f(a.nms_threshold)
    for i in range(keep - 1):
        if out[i, 0] < 0:
            continue
        rest = out[i + 1:keep]
        hit = (rest[:, 0] >= 0) & (_iou_row(out[i, 2:], rest[:, 2:]) >= thresh)
        if not a.force_suppress:
            hit &= rest[:, 0] == out[i, 0]
        rest[hit, 0] = -1
    return out


def _det_compute(xp, a, cls_prob, loc_pred, anchor):
    cp, loc, an = host(cls_prob), host(loc_pred), host(anchor).reshape(-1, 4)
    out = np.stack([_det_one(a, cp[b], loc[b].reshape(-1, 4), an) for b in range(cp.shape[0])])
    return xp.asarray(out)


from .contrib_multibox_ref import det_ref as _det_ref, det_samples as _det_samples  # noqa: E402

register(OpDef(
    "_contrib_MultiBoxDetection", inputs=("cls_prob", "loc_pred", "anchor"), params=_DET_PARAMS,
    infer_shape=_det_shape, compute=_det_compute, dtypes=F32, test_dtypes=("float32",),
    reference=_det_ref, samples=_det_samples, gradient=zero_grads, fd_check=False,
    bad_samples=lambda: [
        BadSample([np.ones((1, 3, 4), np.float32), np.ones((1, 16), np.float32),
                   np.ones((1, 5, 4), np.float32)], match=("anchor", "(1, 5, 4)", "(1, 3, 4)")),
        BadSample([np.ones((1, 3, 4), np.float32), np.ones((1, 12), np.float32),
                   np.ones((1, 4, 4), np.float32)], match=("loc_pred", "(1, 12)", "(1, 16)")),
        BadSample([np.ones((1, 3, 4), np.float32), np.ones((1, 16), np.float32),
                   np.ones((1, 4, 4), np.float32)], {"variances": (0.1, 0.2)},
                  match=("variances", "4 values"))],
    doc="SSD detection output: (B, A, 6) rows [class_id, score, xmin, ymin, xmax, ymax] "
        "from class probabilities, box offsets and anchors, after NMS; -1 rows for none."))

from . import contrib_multibox_target  # noqa: F401,E402  (_contrib_MultiBoxTarget)
