"""MXNet 1.9's contrib box coders `_contrib_box_encode` and `_contrib_box_decode` (GluonCV's
NormalizedBoxCenterEncoder / Decoder call them).

MXNet semantics kept here (checked against MXNet 1.9.1, tools/make_multibox_fixtures.py):
- box_encode(samples (B, N), matches (B, N), anchors (B, N, 4), refs (B, M, 4), means (4,),
  stds (4,)) -> (targets (B, N, 4), masks (B, N, 4)), every input in one float dtype and
  the arithmetic in it.  Anchors and refs are corners.  A sample is positive when its value
  is > 0.5 (strict); its mask is 1 and its target ((ref_x - a_x) / a_w - mean0) / std0,
  ((ref_y - a_y) / a_h - mean1) / std1, (log(ref_w / a_w) - mean2) / std2, (log(ref_h /
  a_h) - mean3) / std3 with x = xmin + w * 0.5.  Other samples: mask 0, target 0 (even
  when the arithmetic would give inf or nan).  The match index is the float truncated
  toward zero; MXNet reads out of bounds for one outside [0, M), plait clamps it.
- box_decode(data (B, N, 4), anchors (1, N, 4) -- any shape of ndim >= 3 ending in 4 and
  holding N boxes) -> corners (B, N, 4).  format (default 'center', unlike box_iou/box_nms)
  is the anchors' encoding.  ox = d0 * std0 * a_w + a_x, dw = d2 * std2, clipped to
  `clip` when clip > 0 with `dw < clip ? dw : clip` (so nan becomes clip), ow = exp(dw) *
  a_w * 0.5; the output is [ox - ow, oy - oh, ox + ow, oy + oh].  The stds and clip are
  cast to the dtype first.
- Both have MXNet's zero gradient (MakeZeroGradNodes) for every input: box_decode is not
  differentiated w.r.t. its data either.
"""
import numpy as np

from ..base import fail
from .params import Param
from .registry import BadSample, OpDef, Sample, register


def _zero_grads(F, a, ins, outs, g):
    return [F.zeros_like(x) for x in ins]


def _center(xp, b, corner):
    """(x, y, w, h) of boxes b (..., 4); corner boxes converted as MXNet does."""
    x, y, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    if corner:
        half = b.dtype.type(0.5)
        w = w - x
        h = h - y
        x = x + w * half
        y = y + h * half
    return x, y, w, h


# -- box_encode ------------------------------------------------------------------------------------
def _enc_shape(a, shapes):
    s, m, an, r, mu, sd = (tuple(x) for x in shapes)
    if len(an) != 3 or an[-1] != 4:
        fail("anchors", "must have shape (B, N, 4), got %s", an)
    if s != an[:2]:
        fail("samples", "shape %s must be (B, N) = %s of anchors %s", s, an[:2], an)
    if m != an[:2]:
        fail("matches", "shape %s must be (B, N) = %s of anchors %s", m, an[:2], an)
    if len(r) != 3 or r[-1] != 4 or r[0] != an[0]:
        fail("refs", "must have shape (B, M, 4) with B = %d (anchors %s), got %s", an[0], an, r)
    for name, x in (("means", mu), ("stds", sd)):
        if x != (4,):
            fail(name, "must have shape (4,), got %s", x)
    return [an, an]


def _enc_type(a, types):
    for i, t in enumerate(types[1:], 1):
        if t != types[0]:
            fail(("samples", "matches", "anchors", "refs", "means", "stds")[i],
                 "dtype %s does not match samples' dtype %s", t.name, types[0].name)
    return [types[0], types[0]]


def _enc_compute(xp, a, samples, matches, anchors, refs, means, stds):
    m = refs.shape[1]
    idx = xp.clip(matches.astype(np.int64), 0, max(m - 1, 0))
    ref = xp.take_along_axis(refs, idx[..., None], axis=1) if m else xp.zeros_like(anchors)
    rx, ry, rw, rh = _center(xp, ref, True)
    ax, ay, aw, ah = _center(xp, anchors, True)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = xp.stack([((rx - ax) / aw - means[0]) / stds[0],
                      ((ry - ay) / ah - means[1]) / stds[1],
                      (xp.log(rw / aw) - means[2]) / stds[2],
                      (xp.log(rh / ah) - means[3]) / stds[3]], axis=-1)
    valid = (samples > 0.5)[..., None]
    zero = anchors.dtype.type(0)
    masks = xp.broadcast_to(valid, anchors.shape).astype(anchors.dtype)
    return xp.where(valid, t, zero).astype(anchors.dtype), masks


def _enc_ref(a, samples, matches, anchors, refs, means, stds):
    """One box at a time in numpy scalars of the dtype."""
    dt = anchors.dtype.type
    tg, mk = np.zeros(anchors.shape, anchors.dtype), np.zeros(anchors.shape, anchors.dtype)
    for b in range(anchors.shape[0]):
        for i in range(anchors.shape[1]):
            if not samples[b, i] > 0.5:
                continue
            j = min(max(int(matches[b, i]), 0), refs.shape[1] - 1)
            g, p = refs[b, j], anchors[b, i]
            gw, gh, pw, ph = g[2] - g[0], g[3] - g[1], p[2] - p[0], p[3] - p[1]
            gx, gy, px, py = g[0] + gw * dt(0.5), g[1] + gh * dt(0.5), p[0] + pw * dt(0.5), \
                p[1] + ph * dt(0.5)
            with np.errstate(all="ignore"):
                raw = [(gx - px) / pw, (gy - py) / ph, np.log(gw / pw), np.log(gh / ph)]
                tg[b, i] = [(v - means[k]) / stds[k] for k, v in enumerate(raw)]
            mk[b, i] = 1
    return tg, mk


def _enc_inputs(dtype, seed, b=2, n=6, m=3):
    r = np.random.default_rng(seed)
    samples = r.choice([-1.0, 0.0, 1.0, 0.5, 0.7], (b, n)).astype(dtype)
    matches = r.integers(-1, m, (b, n)).astype(dtype)
    anc = r.uniform(0, 0.5, (b, n, 4))
    anc[..., 2:] = anc[..., :2] + r.uniform(0.1, 0.5, (b, n, 2))
    refs = r.uniform(0, 0.5, (b, m, 4))
    refs[..., 2:] = refs[..., :2] + r.uniform(0.1, 0.5, (b, m, 2))
    return [samples, matches, anc.astype(dtype), refs.astype(dtype),
            np.array([0, 0.1, 0, -0.2], dtype), np.array([0.1, 0.1, 0.2, 0.2], dtype)]


def _enc_bad():
    f = np.float32
    good = _enc_inputs(f, 0)
    return [BadSample([good[0][:, :4]] + good[1:], match=("samples", "(2, 4)", "(2, 6, 4)")),
            BadSample(good[:2] + [good[2][..., :3]] + good[3:], match=("anchors", "(2, 6, 3)")),
            BadSample(good[:3] + [good[3][:1]] + good[4:], match=("refs", "(1, 3, 4)")),
            BadSample(good[:5] + [np.ones(3, f)], match=("stds", "(3,)"))]


register(OpDef(
    "_contrib_box_encode", inputs=("samples", "matches", "anchors", "refs", "means", "stds"),
    num_outputs=2, output_names=("output0", "output1"), infer_shape=_enc_shape,
    infer_type=_enc_type, compute=_enc_compute, dtypes="float", reference=_enc_ref,
    samples=lambda dt: [Sample(_enc_inputs(dt, 1)), Sample(_enc_inputs(dt, 2, 1, 9, 1))],
    bad_samples=_enc_bad, gradient=_zero_grads, fd_check=False,
    doc="Encode matched reference boxes against corner anchors as normalised center "
        "offsets: (targets, masks), both (B, N, 4).  Zero gradient, as in MXNet."))


# -- box_decode ------------------------------------------------------------------------------------
_DEC_PARAMS = {
    "std0": Param("float", 1.0, doc="Multiplies the 1st encoded value."),
    "std1": Param("float", 1.0, doc="Multiplies the 2nd encoded value."),
    "std2": Param("float", 1.0, doc="Multiplies the 3rd encoded value."),
    "std3": Param("float", 1.0, doc="Multiplies the 4th encoded value."),
    "clip": Param("float", -1.0, doc="If > 0, the width/height deltas are clipped to it."),
    "format": Param("str", "center", choices=("center", "corner"),
                    doc="Encoding of the anchors: 'center' [x, y, w, h] or 'corner'."),
}


def _dec_shape(a, shapes):
    d, an = tuple(shapes[0]), tuple(shapes[1])
    if len(d) != 3 or d[-1] != 4:
        fail("data", "must have shape (B, N, 4), got %s", d)
    if len(an) < 3 or an[-1] != 4 or int(np.prod(an)) != d[1] * 4:
        fail("anchors", "must have ndim >= 3, last dimension 4 and hold N = %d boxes (data %s),"
             " got shape %s", d[1], d, an)
    return [d]


def _dec_compute(xp, a, data, anchors):
    dt = data.dtype.type
    ax, ay, aw, ah = _center(xp, anchors.reshape(1, -1, 4), a.format == "corner")
    ox = data[..., 0] * dt(a.std0) * aw + ax
    oy = data[..., 1] * dt(a.std1) * ah + ay
    dw = data[..., 2] * dt(a.std2)
    dh = data[..., 3] * dt(a.std3)
    if a.clip > 0:
        c = dt(a.clip)
        dw = xp.where(dw < c, dw, c)
        dh = xp.where(dh < c, dh, c)
    with np.errstate(over="ignore", invalid="ignore"):
        ow = xp.exp(dw) * aw * dt(0.5)
        oh = xp.exp(dh) * ah * dt(0.5)
        return xp.stack([ox - ow, oy - oh, ox + ow, oy + oh], axis=-1).astype(data.dtype)


def _dec_ref(a, data, anchors):
    dt = data.dtype.type
    out = np.empty_like(data)
    stds = [dt(a["std%d" % k]) for k in range(4)]
    for b in range(data.shape[0]):
        for i in range(data.shape[1]):
            x, y, w, h = anchors.reshape(-1, 4)[i]
            if a.format == "corner":
                w, h = w - x, h - y
                x, y = x + w * dt(0.5), y + h * dt(0.5)
            d = data[b, i]
            dw, dh = d[2] * stds[2], d[3] * stds[3]
            if a.clip > 0:
                dw, dh = (v if v < dt(a.clip) else dt(a.clip) for v in (dw, dh))
            with np.errstate(all="ignore"):
                ow, oh = np.exp(dw) * w * dt(0.5), np.exp(dh) * h * dt(0.5)
            ox, oy = d[0] * stds[0] * w + x, d[1] * stds[1] * h + y
            out[b, i] = [ox - ow, oy - oh, ox + ow, oy + oh]
    return out


def _dec_samples(dtype):
    r = np.random.default_rng(3)
    d = r.uniform(-1, 1, (2, 5, 4)).astype(dtype)
    c = r.uniform(0.1, 0.6, (1, 5, 4)).astype(dtype)
    k = c.copy()
    k[..., 2:] += k[..., :2]
    big = d * 4
    return [Sample([d, c]), Sample([d, k], {"format": "corner", "std0": 0.1, "std1": 0.1,
                                            "std2": 0.2, "std3": 0.2}),
            Sample([big, k.reshape(1, 1, 5, 4)], {"format": "corner", "clip": 1.5}),
            Sample([big, c], {"clip": 0.5, "std2": 2.0})]


register(OpDef(
    "_contrib_box_decode", inputs=("data", "anchors"), params=_DEC_PARAMS,
    infer_shape=_dec_shape, compute=_dec_compute, dtypes="float", reference=_dec_ref,
    samples=_dec_samples, gradient=_zero_grads, fd_check=False,
    bad_samples=lambda: [
        BadSample([np.ones((2, 5), np.float32), np.ones((1, 5, 4), np.float32)],
                  match=("data", "(2, 5)")),
        BadSample([np.ones((2, 5, 4), np.float32), np.ones((1, 4, 4), np.float32)],
                  match=("anchors", "(1, 4, 4)", "(2, 5, 4)")),
        BadSample([np.ones((2, 5, 4), np.float32), np.ones((1, 5, 4), np.float32)],
                  {"format": "xyxy"}, match=("format", "xyxy"))],
    doc="Decode normalised center offsets data (B, N, 4) against anchors (1, N, 4) into "
        "corner boxes.  Zero gradient, as in MXNet."))
