"""MXNet 1.9's `_contrib_MultiBoxTarget` (SSD training targets), a float32-only legacy
operator whose gradients are all zero.

MultiBoxTarget(anchor (1, A, 4), label (B, L, W >= 5), cls_pred (B, C, A)) ->
(loc_target (B, 4A), loc_mask (B, 4A), cls_target (B, A)).  What MXNet 1.9.1's CPU kernel
does, per batch item (checked in tools/make_multibox_fixtures.py):
- The ground truths are the label rows [cls, xmin, ymin, xmax, ymax, ...] before the first
  row whose cls is -1; that row's 4 coordinates must be -1 as well (MXNet's CHECK: an
  error).  No ground truth: loc 0, mask 0, cls_target ignore_label everywhere.
- IoU(anchor, gt) in float32: inter = max(0, min(r) - max(l)) * max(0, min(b) - max(t)),
  union = area_a + area_g - inter with unclamped areas, 0 where union == 0.
- Bipartite step: repeatedly the largest IoU > 1e-6 (strict) over unmatched anchors and
  unmatched ground truths is matched; ties go to the lowest anchor, then the lowest gt.
- overlap_threshold > 0: every other anchor gets its best gt (first maximum over all gts)
  and is positive when that IoU is > overlap_threshold (strict).
- negative_mining_ratio > 0: int(num_positive * ratio) (float32), at most the number of
  non-positive anchors, negatives are the anchors whose best IoU is < negative_mining_thresh
  with the lowest softmax(cls_pred)[0] (stable ascending sort); other anchors are ignored.
  Fewer candidates than wanted is MXNet's CHECK error.  minimum_negative_samples is
  ignored by MXNet's CPU kernel (and here).  Otherwise every non-positive anchor is negative.
- Positives: cls_target = gt cls + 1, mask 1, loc_target ((gx - ax) / aw / vx, (gy - ay) /
  ah / vy, log(gw / aw) / vw, log(gh / ah) / vh) in float32.  Negatives: cls 0, mask 0, loc 0.
"""
import numpy as np

from ..base import PlaitError, fail
from .contrib_multibox import F32, check_variances, host, zero_grads
from .contrib_multibox_ref import target_ref, target_samples
from .params import Param
from .registry import BadSample, OpDef, register

_PARAMS = {
    "overlap_threshold": Param("float", 0.5, doc="IoU above which an anchor is positive."),
    "ignore_label": Param("float", -1.0, doc="cls_target of ignored anchors."),
    "negative_mining_ratio": Param("float", -1.0, doc="Negatives per positive; -1: no mining."),
    "negative_mining_thresh": Param("float", 0.5, doc="IoU below which an anchor may be a "
                                                      "negative."),
    "minimum_negative_samples": Param("int", 0, doc="Ignored (as by MXNet's CPU kernel)."),
    "variances": Param("floats", (0.1, 0.1, 0.2, 0.2), doc="Encoding variances."),
}


def _shape(a, shapes):
    an, lb, cp = (tuple(s) for s in shapes)
    if len(an) != 3 or an[0] != 1 or an[1] <= 0 or an[2] != 4:
        fail("anchor", "must be (1, num_anchors, 4), got shape %s", an)
    if len(lb) != 3 or lb[1] <= 0 or lb[2] < 5:
        fail("label", "must be (batch, num_labels, width >= 5), got shape %s", lb)
    if len(cp) != 3 or cp[2] != an[1] or cp[0] != lb[0]:
        fail("cls_pred", "must be (batch, num_classes, num_anchors) with batch %d (label %s) "
             "and num_anchors %d (anchor %s), got shape %s", lb[0], lb, an[1], an, cp)
    check_variances(a)
    return [(lb[0], an[1] * 4), (lb[0], an[1] * 4), (lb[0], an[1])]


def _kernel_fail(arg, msg, *fmt):
    """A data-dependent error found by the kernel (MXNet's CHECK at run time)."""
    raise PlaitError(msg % fmt, arg=arg, op="_contrib_MultiBoxTarget")


def num_gt(lab):
    """The number of ground truths of one label (L, W), checking the -1 padding row."""
    pad = np.nonzero(lab[:, 0] == -1)[0]
    if not pad.size:
        return lab.shape[0]
    k = int(pad[0])
    if not (lab[k, 1:5] == -1).all():
        _kernel_fail("label", "row %d has class -1 (padding) but coordinates %s; padding "
                     "rows must be all -1", k, lab[k, 1:5].tolist())
    return k


def overlaps(anc, gts):
    """IoU matrix (A, G) of anchors and ground truths, float32, MXNet's formula."""
    f = np.float32
    a, g = anc[:, None, :], gts[None, :, :]
    iw = np.maximum(f(0), np.minimum(a[..., 2], g[..., 2]) - np.maximum(a[..., 0], g[..., 0]))
    ih = np.maximum(f(0), np.minimum(a[..., 3], g[..., 3]) - np.maximum(a[..., 1], g[..., 1]))
    inter = iw * ih
    union = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + \
        (g[..., 2] - g[..., 0]) * (g[..., 3] - g[..., 1]) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union == 0, f(0), inter / np.where(union == 0, f(1), union))


def loc_targets(anc, gt, v):
    """Encoded targets (K, 4) of gt boxes (K, 4) against anchors (K, 4), float32."""
    f = np.float32
    aw, ah = anc[:, 2] - anc[:, 0], anc[:, 3] - anc[:, 1]
    ax, ay = (anc[:, 0] + anc[:, 2]) * f(0.5), (anc[:, 1] + anc[:, 3]) * f(0.5)
    gw, gh = gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]
    gx, gy = (gt[:, 0] + gt[:, 2]) * f(0.5), (gt[:, 1] + gt[:, 3]) * f(0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.stack([(gx - ax) / aw / f(v[0]), (gy - ay) / ah / f(v[1]),
                         np.log(gw / aw) / f(v[2]), np.log(gh / ah) / f(v[3])], 1)


def background_prob(cp):
    """softmax(cp (C, A), over C)[0] in float32, summed class by class as MXNet does."""
    mx = cp.max(axis=0)
    s = np.zeros(cp.shape[1], np.float32)
    for k in range(cp.shape[0]):
        s += np.exp(cp[k] - mx)
    return np.exp(cp[0] - mx) / s


def _one(a, anc, lab, cp, outs):
    """Targets of one batch item, written into outs = (loc (A, 4), mask (A, 4), cls (A,))."""
    f = np.float32
    g = num_gt(lab)
    if g == 0:
        return
    n = anc.shape[0]
    iou = overlaps(anc, lab[:g, 1:5])
    flag = np.full(n, -1, np.int8)  # 1 positive, 0 negative, -1 ignored
    match = np.full(n, -1, np.int64)
    masked = np.where(np.isnan(iou), -np.inf, iou)
    gt_done = np.zeros(g, bool)
    for _ in range(g):
        m = np.where(flag[:, None] == 1, -np.inf, np.where(gt_done[None, :], -np.inf, masked))
        k = int(np.argmax(m))
        j, t = divmod(k, g)
        if not m[j, t] > f(1e-6):
            break
        flag[j], match[j], gt_done[t] = 1, t, True
    cand = np.where(masked > f(-1), masked, -np.inf)
    best = np.argmax(cand, axis=1)
    best_iou = cand[np.arange(n), best]
    best_iou = np.where(np.isinf(best_iou), f(-1), best_iou)  # no gt above -1: MXNet's -1
    if a.overlap_threshold > 0:
        pos = (flag != 1) & (best_iou > f(a.overlap_threshold))
        flag[pos], match[pos] = 1, best[pos]
    npos = int((flag == 1).sum())
    if a.negative_mining_ratio > 0:
        if not a.negative_mining_thresh > 0:
            _kernel_fail("negative_mining_thresh", "must be > 0 when negative_mining_ratio > "
                         "0, got %s", a.negative_mining_thresh)
        nneg = min(int(f(npos) * f(a.negative_mining_ratio)), n - npos)
        if nneg > 0:
            cands = np.nonzero((flag == -1) & (best_iou < f(a.negative_mining_thresh)))[0]
            if cands.size < nneg:
                _kernel_fail("label", "negative mining wants %d negatives but only %d "
                             "anchors have an IoU < negative_mining_thresh %s", nneg,
                             cands.size, a.negative_mining_thresh)
            prob = background_prob(cp)[cands]
            flag[cands[np.argsort(prob, kind="stable")[:nneg]]] = 0
    else:
        flag[flag != 1] = 0
    loc, mask, cls = outs
    pos = np.nonzero(flag == 1)[0]
    cls[pos] = lab[match[pos], 0] + f(1)
    mask[pos] = 1
    loc[pos] = loc_targets(anc[pos], lab[match[pos], 1:5], a.variances)
    cls[flag == 0] = 0


def _compute(xp, a, anchor, label, cls_pred):
    anc, lab, cp = host(anchor).reshape(-1, 4), host(label), host(cls_pred)
    b, n = lab.shape[0], anc.shape[0]
    loc = np.zeros((b, n, 4), np.float32)
    mask = np.zeros((b, n, 4), np.float32)
    cls = np.full((b, n), a.ignore_label, np.float32)
    for i in range(b):
        _one(a, anc, lab[i], cp[i], (loc[i], mask[i], cls[i]))
    return xp.asarray(loc.reshape(b, -1)), xp.asarray(mask.reshape(b, -1)), xp.asarray(cls)


def _bad():
    f = np.float32
    anc, lab, cp = np.ones((1, 4, 4), f), -np.ones((2, 3, 5), f), np.ones((2, 3, 4), f)
    lab1 = lab.copy()
    lab1[0, 0, 0] = -1
    lab1[0, 0, 1] = 0.2
    return [BadSample([np.ones((2, 4, 4), f), lab, cp], match=("anchor", "(2, 4, 4)")),
            BadSample([anc, np.ones((2, 3, 4), f), cp], match=("label", "(2, 3, 4)")),
            BadSample([anc, lab, np.ones((2, 3, 5), f)], match=("cls_pred", "(2, 3, 5)",
                                                                "(1, 4, 4)")),
            BadSample([anc, lab, cp], {"variances": (1, 2, 3)}, match=("variances", "4")),
            BadSample([anc, lab1, cp], match=("label", "row 0", "padding"))]


register(OpDef(
    "_contrib_MultiBoxTarget", inputs=("anchor", "label", "cls_pred"), num_outputs=3,
    output_names=("loc_target", "loc_mask", "cls_target"), params=_PARAMS,
    infer_shape=_shape, infer_type=lambda a, t: [np.dtype(np.float32)] * 3, compute=_compute,
    dtypes=F32, test_dtypes=("float32",), reference=target_ref, samples=target_samples,
    gradient=zero_grads, fd_check=False, bad_samples=_bad,
    doc="SSD training targets from anchors (1, A, 4), labels (B, L, >= 5) padded with -1 rows "
        "and class predictions (B, C, A): (loc_target, loc_mask, cls_target)."))
