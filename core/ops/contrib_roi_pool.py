"""`ROIPooling` (MXNet 1.9's src/operator/roi_pooling.cc): max pooling of each roi into
pooled_size bins.  data (N, C, H, W), rois (R, 5) -> (R, C, ph, pw).

As MXNet 1.9.1 computes it (checked with tools/make_roi_fixtures.py):
- A roi's corners are round(x * spatial_scale) (float32 parameter widened to the data's
  dtype, product in that dtype; C's round: halves away from zero); its size is
  end - start + 1, at least 1.  Bin i spans [floor(i * s), ceil((i + 1) * s)) + start with
  s = size / pooled (in the dtype), clipped to the map.  Bins overlap when s is fractional.
- An empty bin gives 0.  Otherwise the output starts at -FLT_MAX (also for float64) and
  takes every value strictly greater, scanning rows then columns: the first maximum wins,
  NaN and values <= -FLT_MAX are never taken (a bin of only those gives -FLT_MAX).
- MXNet's second output, maxidx, is hidden (NumVisibleOutputs 1): mx.nd returns one array,
  list_outputs() is ['<name>_output'].  plait recomputes the argmax in the backward op.
- The gradient of each non-empty bin goes to its argmax (accumulated over bins and rois);
  the gradient to rois is zero.
- The batch index is the first value truncated toward zero; outside [0, N) is an error
  (MXNet only asserts it in debug builds).
"""
import numpy as np

from .index_utils import scatter_add
from .contrib_roi import (POOLED, SCALE, backward_bad_samples, backward_shape, batch_indices,
                          check_roi_shapes, host)
from . import contrib_roi_ref as ref
from .registry import OpDef, register

_PARAMS = {"pooled_size": POOLED, "spatial_scale": SCALE}


def round_away(v):
    """C's round(): halves away from zero (NumPy rounds them to even)."""
    t = np.trunc(v)
    return (t + np.sign(v) * (np.abs(v - t) >= 0.5)).astype(np.int64)


def pool_geometry(a, roi, dt):
    """(start_h, start_w, end_h, end_w, bin_h, bin_w) of one roi row, in dtype dt."""
    scale = dt.type(np.float32(a.spatial_scale))
    sw, sh, ew, eh = (int(round_away(dt.type(v) * scale)) for v in roi[1:5])
    ph, pw = a.pooled_size
    bh = dt.type(max(eh - sh + 1, 1)) / dt.type(ph)
    bw = dt.type(max(ew - sw + 1, 1)) / dt.type(pw)
    return sh, sw, eh, ew, bh, bw


def _edges(start, size_bin, n_bins, size, dt):
    i = np.arange(n_bins + 1, dtype=dt)
    lo = np.floor(i[:-1] * size_bin).astype(np.int64) + start
    hi = np.ceil(i[1:] * size_bin).astype(np.int64) + start
    return np.clip(lo, 0, size), np.clip(hi, 0, size)


def _pool_one(xp, a, d, roi, dt):
    """(max (C, ph, pw), flat argmax h * W + w or -1) of one roi over d (C, H, W)."""
    C, H, W = d.shape
    ph, pw = a.pooled_size
    sh, sw, _, _, bh, bw = pool_geometry(a, roi, dt)
    hs, he = _edges(sh, bh, ph, H, dt)
    ws, we = _edges(sw, bw, pw, W, dt)
    empty = xp.asarray((he <= hs)[:, None] | (we <= ws)[None, :])
    out = xp.zeros((C, ph, pw), dt)
    arg = xp.full((C, ph, pw), -1, np.int64)
    h0, h1, w0, w1 = int(hs.min()), int(he.max()), int(ws.min()), int(we.max())
    if h1 <= h0 or w1 <= w0:
        return out, arg
    low = dt.type(-np.finfo(np.float32).max)
    v = d[:, h0:h1, w0:w1]
    v = xp.where(v > low, v, -np.inf)  # never taken: NaN and values <= -FLT_MAX
    rows, cols = np.arange(h0, h1), np.arange(w0, w1)
    mw = xp.asarray((ws[:, None] <= cols) & (cols < we[:, None]))     # (pw, w')
    mh = xp.asarray((hs[:, None] <= rows) & (rows < he[:, None]))     # (ph, h')
    s1 = xp.where(mw[None, None], v[:, :, None, :], -np.inf)          # (C, h', pw, w')
    m1, a1 = s1.max(axis=3), s1.argmax(axis=3)                        # (C, h', pw)
    s2 = xp.where(mh[None, :, :, None], m1[:, None], -np.inf)         # (C, ph, h', pw)
    m2, a2 = s2.max(axis=2), s2.argmax(axis=2)                        # (C, ph, pw)
    wi = xp.take_along_axis(a1, a2, axis=1)                             # its column
    found = (m2 > -np.inf) & ~empty[None]
    out = xp.where(empty[None], dt.type(0), xp.where(found, m2, low)).astype(dt)
    flat = (a2 + h0) * W + (wi + w0)
    return out, xp.where(found, flat, -1)


def _shape(a, shapes):
    d, r = check_roi_shapes(shapes)
    return [(r[0], d[1]) + tuple(a.pooled_size)]


def _fwd(xp, a, ins, outs):
    x, rois = ins
    r_host = host(rois)
    b = batch_indices(r_host, x.shape[0], allow_negative=False, op="ROIPooling")
    for r in range(r_host.shape[0]):
        outs[0][r] = _pool_one(xp, a, x[int(b[r])], r_host[r], x.dtype)[0]


def _bwd(xp, a, ins, outs):
    g, x, rois = ins
    n, C, H, W = x.shape
    r_host = host(rois)
    b = batch_indices(r_host, n, allow_negative=False, op="ROIPooling")
    grad = xp.zeros((n, C, H * W), x.dtype)
    for r in range(r_host.shape[0]):
        arg = _pool_one(xp, a, x[int(b[r])], r_host[r], x.dtype)[1]
        ok = arg >= 0
        ch = xp.broadcast_to(xp.arange(C)[:, None, None], arg.shape)
        scatter_add(xp, grad[int(b[r])], (ch[ok], arg[ok]), g[r][ok])
    outs[0][...] = grad.reshape(x.shape)


def _grad(F, a, ins, outs, g):
    kw = {k: a[k] for k in _PARAMS}
    return [F._backward_ROIPooling(g[0], ins[0], ins[1], **kw), F.zeros_like(ins[1])]


register(OpDef(
    "ROIPooling", inputs=("data", "rois"), params=_PARAMS, infer_shape=_shape, forward=_fwd,
    dtypes="float", output_names=("output",), reference=ref.pool_ref,
    samples=ref.pool_samples, bad_samples=ref.pool_bad, gradient=_grad, grad_inputs=(0,),
    doc="Max pooling of each roi into pooled_size bins (Fast R-CNN): data (N, C, H, W), "
        "rois (R, 5) rows [batch_index, x1, y1, x2, y2] -> (R, C, ph, pw); empty bins give "
        "0.  See core/ops/contrib_roi_pool.py for MXNet's rounding."))


register(OpDef(
    "_backward_ROIPooling", inputs=("ograd", "data", "rois"), params=_PARAMS,
    infer_shape=backward_shape(_shape), infer_type=lambda a, t: [t[1]], forward=_bwd,
    dtypes="float", nondiff=True, reference=ref.pool_bwd_ref, samples=ref.pool_bwd_samples,
    bad_samples=backward_bad_samples,
    doc="Gradient of ROIPooling w.r.t. its data: each bin's gradient to its argmax (data "
        "is read to recompute the argmax)."))
