"""Plain-Python references and samples of `_contrib_MultiBoxDetection` and
`_contrib_MultiBoxTarget` (see contrib_multibox.py and contrib_multibox_target.py for the
MXNet semantics): one anchor, one ground truth at a time, in float32 scalars, written
independently of the vectorised kernels so that the generic suite can compare them."""
import numpy as np

from .registry import Sample

f = np.float32


def _iou(p, q, clamp_union):
    """IoU of two corner boxes: MultiBoxDetection's (union <= 0 -> 0) or, with
    clamp_union False, MultiBoxTarget's (union == 0 -> 0)."""
    iw = max(f(0), min(p[2], q[2]) - max(p[0], q[0]))
    ih = max(f(0), min(p[3], q[3]) - max(p[1], q[1]))
    i = iw * ih
    u = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - i
    if (u <= 0) if clamp_union else (u == 0):
        return f(0)
    return i / u


# -- MultiBoxDetection -----------------------------------------------------------------------------
def _det_item(a, cp, loc, anc):
    v = [f(x) for x in a.variances]
    rows = []
    for i in range(cp.shape[1]):
        score, cid = f(-1), 0
        for j in range(1, cp.shape[0]):
            if cp[j, i] > score:
                score, cid = cp[j, i], j
        if cid > 0 and score < f(a.threshold):
            cid = 0
        if cid == 0:
            continue
        al, at, ar, ab = anc[i]
        aw, ah, ax, ay = ar - al, ab - at, (al + ar) / f(2), (at + ab) / f(2)
        ox, oy = loc[i, 0] * v[0] * aw + ax, loc[i, 1] * v[1] * ah + ay
        ow, oh = np.exp(loc[i, 2] * v[2]) * aw / f(2), np.exp(loc[i, 3] * v[3]) * ah / f(2)
        box = [ox - ow, oy - oh, ox + ow, oy + oh]
        if a.clip:
            box = [max(f(0), min(f(1), b)) for b in box]
        rows.append([f(cid - 1), score] + box)
    out = [[f(-1)] * 6 for _ in range(cp.shape[1])]
    out[:len(rows)] = [list(r) for r in rows]
    if not rows or not 0 < a.nms_threshold <= 1:
        return out
    ranked = sorted(range(len(rows)), key=lambda k: -rows[k][1])
    keep = len(rows)
    if 0 < a.nms_topk < keep:
        keep = a.nms_topk
        for k in range(keep, len(rows)):
            out[k][0] = f(-1)
    for k in range(keep):
        out[k] = list(rows[ranked[k]])
    for i in range(keep):
        if out[i][0] < 0:
            continue
        for j in range(i + 1, keep):
            if out[j][0] < 0 or not (a.force_suppress or out[i][0] == out[j][0]):
                continue
            if _iou(out[i][2:], out[j][2:], True) >= f(a.nms_threshold):
                out[j][0] = f(-1)
    return out


def det_ref(a, cls_prob, loc_pred, anchor):
    anc = anchor.reshape(-1, 4)
    return np.array([_det_item(a, cls_prob[b], loc_pred[b].reshape(-1, 4), anc)
                     for b in range(cls_prob.shape[0])], f)


def grid_anchors(h, w, sizes, ratios):
    """SSD-like corner anchors (1, h*w*A, 4) (no clipping), for samples and fixtures."""
    out = []
    for r in range(h):
        for c in range(w):
            cy, cx = (r + 0.5) / h, (c + 0.5) / w
            for s, q in [(s, ratios[0]) for s in sizes] + [(sizes[0], q) for q in ratios[1:]]:
                bw, bh = s * np.sqrt(q) / 2, s / np.sqrt(q) / 2
                out.append([cx - bw, cy - bh, cx + bw, cy + bh])
    return np.array(out, f)[None]


def det_inputs(rng, batch, classes, anchors, peaked=True):
    """(cls_prob, loc_pred) with softmax probabilities; peaked: a few confident anchors."""
    logits = rng.normal(0, 1.0, (batch, classes, anchors))
    if peaked:
        logits[:, 1:, :] += rng.choice([0.0, 3.0], (batch, classes - 1, anchors), p=[.6, .4])
    e = np.exp(logits - logits.max(1, keepdims=True))
    prob = (e / e.sum(1, keepdims=True)).astype(f)
    return prob, rng.normal(0, 0.5, (batch, anchors * 4)).astype(f)


def det_samples(dtype):
    rng = np.random.default_rng(7)
    anc = grid_anchors(3, 3, (0.5, 0.3), (1, 2))
    cp, loc = det_inputs(rng, 2, 3, anc.shape[1])
    tie = np.array([[[0.2, 0.2, 0.1], [0.4, 0.4, 0.6], [0.4, 0.4, 0.3]]], f)
    tanc = np.array([[[0, 0, .5, .5], [0, 0, .5, .5], [.1, .1, .6, .6]]], f)
    return [Sample([cp, loc, anc]), Sample([cp, loc, anc], {"force_suppress": True,
                                                            "nms_threshold": 0.3}),
            Sample([cp, loc, anc], {"nms_topk": 5, "threshold": 0.2, "clip": False}),
            Sample([cp, loc, anc], {"nms_threshold": 0.0}),
            Sample([tie, np.zeros((1, 12), f), tanc], {"nms_threshold": 1.0})]


# -- MultiBoxTarget --------------------------------------------------------------------------------
def _target_item(a, anc, lab, cp, loc, mask, cls):
    n = anc.shape[0]
    g = 0
    while g < lab.shape[0] and lab[g, 0] != -1:
        g += 1
    if g == 0:
        return
    ov = [[_iou(anc[j], lab[k, 1:5], False) for k in range(g)] for j in range(n)]
    flag, match, best = [-1] * n, [-1] * n, [(f(-1), -1)] * n
    gt_done = [False] * g
    while not all(gt_done):
        top, bj, bk = f(1e-6), -1, -1
        for j in range(n):
            for k in range(g):
                if flag[j] != 1 and not gt_done[k] and ov[j][k] > top:
                    top, bj, bk = ov[j][k], j, k
        if bj < 0:
            break
        flag[bj], match[bj], gt_done[bk] = 1, bk, True
    for j in range(n):
        if flag[j] == 1:
            continue
        m, mk = f(-1), -1
        for k in range(g):
            if ov[j][k] > m:
                m, mk = ov[j][k], k
        best[j] = (m, mk)
        if a.overlap_threshold > 0 and mk >= 0 and m > f(a.overlap_threshold):
            flag[j], match[j] = 1, mk
    npos = flag.count(1)
    if a.negative_mining_ratio > 0:
        nneg = min(int(f(npos) * f(a.negative_mining_ratio)), n - npos)
        if nneg > 0:
            cand = []
            for j in range(n):
                if flag[j] == -1 and best[j][0] < f(a.negative_mining_thresh):
                    col = [cp[c, j] for c in range(cp.shape[0])]
                    top = max(col)
                    s = f(0)
                    for v in col:
                        s += np.exp(v - top)
                    cand.append((np.exp(col[0] - top) / s, j))
            for _, j in sorted(cand, key=lambda t: t[0])[:nneg]:
                flag[j] = 0
    else:
        flag = [1 if x == 1 else 0 for x in flag]
    v = [f(x) for x in a.variances]
    for j in range(n):
        if flag[j] == 0:
            cls[j] = 0
        elif flag[j] == 1:
            gt, p = lab[match[j], 1:5], anc[j]
            cls[j] = lab[match[j], 0] + f(1)
            mask[j] = 1
            aw, ah = p[2] - p[0], p[3] - p[1]
            gw, gh = gt[2] - gt[0], gt[3] - gt[1]
            ax, ay = (p[0] + p[2]) * f(0.5), (p[1] + p[3]) * f(0.5)
            gx, gy = (gt[0] + gt[2]) * f(0.5), (gt[1] + gt[3]) * f(0.5)
            loc[j] = [(gx - ax) / aw / v[0], (gy - ay) / ah / v[1], np.log(gw / aw) / v[2],
                      np.log(gh / ah) / v[3]]


def target_ref(a, anchor, label, cls_pred):
    anc = anchor.reshape(-1, 4)
    b, n = label.shape[0], anc.shape[0]
    loc, mask = np.zeros((b, n, 4), f), np.zeros((b, n, 4), f)
    cls = np.full((b, n), a.ignore_label, f)
    for i in range(b):
        _target_item(a, anc, label[i], cls_pred[i], loc[i], mask[i], cls[i])
    return loc.reshape(b, -1), mask.reshape(b, -1), cls


def target_labels(rng, batch, rows, valid):
    """(batch, rows, 5) labels [cls, xmin, ymin, xmax, ymax], valid[i] real rows then -1."""
    lab = -np.ones((batch, rows, 5))
    for i, k in enumerate(valid):
        lab[i, :k, 0] = rng.integers(0, 3, k)
        lab[i, :k, 1:3] = rng.uniform(0, 0.6, (k, 2))
        lab[i, :k, 3:5] = lab[i, :k, 1:3] + rng.uniform(0.15, 0.4, (k, 2))
    return lab.astype(f)


def target_samples(dtype):
    rng = np.random.default_rng(11)
    anc = grid_anchors(4, 4, (0.4, 0.2), (1, 2, 0.5))
    lab = target_labels(rng, 3, 4, (2, 4, 0))
    cp = rng.normal(0, 1, (3, 3, anc.shape[1])).astype(f)
    return [Sample([anc, lab, cp]),
            Sample([anc, lab, cp], {"negative_mining_ratio": 3, "overlap_threshold": 0.4}),
            Sample([anc, lab, cp], {"overlap_threshold": 0.0, "ignore_label": -2,
                                    "variances": (0.2, 0.2, 0.5, 0.5)}),
            Sample([anc, lab, cp], {"negative_mining_ratio": 1.5,
                                    "negative_mining_thresh": 0.3})]
