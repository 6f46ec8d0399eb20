"""`_contrib_ROIAlign` (MXNet 1.9's src/operator/contrib/roi_align.cc) and, in
contrib_roi_pool.py, `ROIPooling`: features of regions of interest.  Both take data
(N, C, H, W) and rois (R, 5) rows [batch_index, x1, y1, x2, y2] of data's dtype.

ROIAlign, as MXNet 1.9.1 computes it (checked with tools/make_roi_fixtures.py):
- All arithmetic is in the data's dtype; spatial_scale is a float32 parameter (in [0, 1])
  widened to that dtype.  The batch index is the row's first value truncated toward zero.
- A roi's corners are x * spatial_scale - off (off = 0.5 with aligned=True, else 0); its
  width and height are end - start, raised to at least 1 unless aligned (aligned=True
  rejects a width or height <= 0).  A bin is (height / ph) x (width / pw); it averages a
  grid of gh x gw bilinear samples (sample_ratio, or ceil(roi size / pooled size) per roi
  when sample_ratio <= 0) at the centres of the grid cells.
- A sample whose y < -1 or y > H (or x < -1 or x > W) counts 0 (it still counts in the
  average); otherwise y <= 0 becomes 0, and at y_low >= H - 1 the sample sits on row H - 1.
- position_sensitive: output channel c of bin (i, j) reads input channel
  c * ph * pw + i * pw + j; the output has C / (ph * pw) channels.
- A roi with a negative batch index is skipped: plait gives zeros there (MXNet's docs say
  so; MXNet itself leaves that block uninitialised) and, as MXNet, also zeroes the element
  at flat index r of the whole output (MXNet writes `top_data[r] = 0`).  Its gradient is
  skipped.  A batch index >= N is an error here (MXNet reads out of bounds).
- The gradient to data scatters each bin's gradient / count back with the bilinear
  weights; the gradient to rois is zero.
"""
import numpy as np

from ..base import PlaitError, fail
from .index_utils import scatter_add
from .contrib_box import host
from .params import Param
from .registry import BadSample, OpDef, register


def _pooled_check(v):
    if len(v) != 2 or min(v) <= 0:
        return "must be two positive sizes (height, width)"
    return None


def _scale_check(v):
    return None if 0.0 <= v <= 1.0 else "must be in [0, 1]"


POOLED = Param("shape", doc="Output size of each roi: (height, width).", check=_pooled_check)
SCALE = Param("float", doc="Ratio of the feature map's size to the image's (rois are in "
              "image coordinates); in [0, 1].", check=_scale_check)


def check_roi_shapes(shapes):
    """(data shape, rois shape) checked as MXNet's shape rule does."""
    d, r = tuple(shapes[0]), tuple(shapes[1])
    if len(d) != 4:
        fail("data", "must be 4-D (batch, channel, height, width), got shape %s", d)
    if len(r) != 2 or r[1] != 5:
        fail("rois", "must have shape (num_rois, 5) rows [batch_index, x1, y1, x2, y2], got "
             "shape %s", r)
    return d, r


def rois_error(op, msg, *fmt):
    """A data-dependent error of a kernel about its rois (the kernel names its op)."""
    raise PlaitError(msg % fmt, arg="rois", op=op)


def batch_indices(rois, n, allow_negative, op):
    """Each roi's batch index: the value truncated toward zero, as MXNet's int cast."""
    b = np.trunc(rois[:, 0]).astype(np.int64)
    bad = (b >= n) | ((b < 0) & (not allow_negative))
    if bad.any():
        r = int(np.nonzero(bad)[0][0])
        rois_error(op, "roi %d has batch index %d, out of range for data with batch size %d",
             r, int(b[r]), n)
    return b


def _dtype_scalars(dt, a):
    return dt.type(np.float32(a.spatial_scale)), dt.type(0.5 if a.aligned else 0.0)


# -- ROIAlign ----------------------------------------------------------------------------------
_ALIGN_PARAMS = {
    "pooled_size": POOLED,
    "spatial_scale": SCALE,
    "sample_ratio": Param("int", -1, doc="Samples per bin side; <= 0: ceil(roi size / "
                          "pooled size), per roi."),
    "position_sensitive": Param("bool", False, doc="Position-sensitive pooling (R-FCN): "
                                "bin (i, j) reads its own group of C / (ph * pw) channels."),
    "aligned": Param("bool", False, doc="Shift rois by -0.5 pixel (Detectron2's aligned "
                     "RoIAlign)."),
}


def _align_shape(a, shapes):
    d, r = check_roi_shapes(shapes)
    ph, pw = a.pooled_size
    c = d[1]
    if a.position_sensitive:
        if c % (ph * pw):
            fail("data", "channels %d (shape %s) must be divisible by pooled_size[0] * "
                 "pooled_size[1] = %d with position_sensitive=True", c, d, ph * pw)
        c //= ph * pw
    return [(r[0], c, ph, pw)]


def _geometry(a, roi, dt):
    """(start_y, start_x, bin_h, bin_w, grid_h, grid_w, count) of one roi row, in dtype dt."""
    scale, off = _dtype_scalars(dt, a)
    x1, y1, x2, y2 = (dt.type(v) * scale - off for v in roi[1:5])
    w, h = x2 - x1, y2 - y1
    if a.aligned:
        if not (w > 0 and h > 0):
            rois_error("_contrib_ROIAlign", "roi [%s] has width %g and height %g after "
                       "scaling; aligned=True needs both > 0",
                       ", ".join("%g" % v for v in roi), w, h)
    else:
        w, h = max(w, dt.type(1)), max(h, dt.type(1))
    ph, pw = a.pooled_size
    gh = a.sample_ratio if a.sample_ratio > 0 else int(np.ceil(h / dt.type(ph)))
    gw = a.sample_ratio if a.sample_ratio > 0 else int(np.ceil(w / dt.type(pw)))
    return y1, x1, h / dt.type(ph), w / dt.type(pw), gh, gw, dt.type(gh * gw)


def _axis(start, size_bin, n_bins, grid, size, dt):
    """Along one axis: (low, high, weight of low, weight of high), each (n_bins, grid);
    the weights are 0 for samples outside [-1, size]."""
    p = np.arange(n_bins, dtype=dt)[:, None]
    i = np.arange(grid, dtype=dt)[None, :] + dt.type(0.5)
    pos = (start + p * size_bin) + (i * size_bin) / dt.type(grid)
    ok = (pos >= -1) & (pos <= size)
    pos = np.where(pos <= 0, dt.type(0), pos)
    low = np.floor(pos).astype(np.int64)
    edge = low >= size - 1
    low = np.where(edge, size - 1, low)
    high = np.where(edge, size - 1, low + 1)
    pos = np.where(edge, low.astype(dt), pos)
    lw = (pos - low.astype(dt)).astype(dt)
    hw = (dt.type(1) - lw).astype(dt)
    zero = dt.type(0)
    return (np.where(ok, low, 0), np.where(ok, high, 0), np.where(ok, hw, zero),
            np.where(ok, lw, zero))


def _corners(xp, a, roi, dt, H, W):
    """The 4 bilinear corners of every sample of one roi: [(y index (ph, gh, 1, 1), x index
    (1, 1, pw, gw), weight (ph, gh, pw, gw))], plus the sample count."""
    ph, pw = a.pooled_size
    sy, sx, bh, bw, gh, gw, count = _geometry(a, roi, dt)
    yl, yh, wyl, wyh = _axis(sy, bh, ph, gh, H, dt)
    xl, xh, wxl, wxh = _axis(sx, bw, pw, gw, W, dt)
    out = []
    for yi, wy in ((yl, wyl), (yh, wyh)):
        for xi, wx in ((xl, wxl), (xh, wxh)):
            out.append((xp.asarray(yi[:, :, None, None]), xp.asarray(xi[None, None]),
                        xp.asarray(wy[:, :, None, None] * wx[None, None])))
    return out, count


def _bins(xp, a, c_in):
    """(channel groups K, bin index (ph, 1, pw, 1)) for the channel lookup."""
    ph, pw = a.pooled_size
    if not a.position_sensitive:
        return 1, xp.zeros((ph, 1, pw, 1), np.int64)
    k = np.arange(ph)[:, None, None, None] * pw + np.arange(pw)[None, None, :, None]
    return ph * pw, xp.asarray(k)


def _align_fwd(xp, a, ins, outs):
    x, rois = ins
    out = outs[0]
    n, c_in, H, W = x.shape
    dt = x.dtype
    r_host = host(rois)
    b = batch_indices(r_host, n, allow_negative=True, op="_contrib_ROIAlign")
    k, bins = _bins(xp, a, c_in)
    res = xp.zeros(out.shape, dt)
    for r in range(r_host.shape[0]):
        if b[r] < 0:
            continue
        d = x[int(b[r])].reshape(c_in // k, k, H, W)
        corners, count = _corners(xp, a, r_host[r], dt, H, W)
        acc = None
        for yi, xi, w in corners:
            term = w * d[:, bins, yi, xi]
            acc = term if acc is None else acc + term
        res[r] = acc.sum(axis=(2, 4)) / count
    neg = np.nonzero(b < 0)[0]
    if neg.size:  # MXNet's `top_data[r] = 0` for a skipped roi r, in the flat output
        flat = res.reshape(-1)
        flat[xp.asarray(neg)] = 0
    out[...] = res


def _align_bwd(xp, a, ins, outs):
    g, x, rois = ins
    n, c_in, H, W = x.shape
    dt = x.dtype
    r_host = host(rois)
    b = batch_indices(r_host, n, allow_negative=True, op="_contrib_ROIAlign")
    k, bins = _bins(xp, a, c_in)
    grad = xp.zeros((n, c_in // k, k * H * W), dt)
    for r in range(r_host.shape[0]):
        if b[r] < 0:
            continue
        gr = g[r][:, :, None, :, None]
        corners, count = _corners(xp, a, r_host[r], dt, H, W)
        for yi, xi, w in corners:
            idx = xp.broadcast_to((bins * H + yi) * W + xi, w.shape)
            vals = (gr * w) / count
            scatter_add(xp, grad[int(b[r])], (slice(None), idx.reshape(-1)),
                        vals.reshape(vals.shape[0], -1))
    outs[0][...] = grad.reshape(x.shape)


def _align_grad(F, a, ins, outs, g):
    kw = {k: a[k] for k in _ALIGN_PARAMS}
    return [F._backward_ROIAlign(g[0], ins[0], ins[1], **kw), F.zeros_like(ins[1])]


from . import contrib_roi_ref as ref  # noqa: E402  (the scalar references and samples)

register(OpDef(
    "_contrib_ROIAlign", inputs=("data", "rois"), params=_ALIGN_PARAMS,
    infer_shape=_align_shape, forward=_align_fwd, dtypes="float", output_names=("output",),
    reference=ref.align_ref, samples=ref.align_samples, bad_samples=ref.align_bad,
    gradient=_align_grad, grad_inputs=(0,),
    doc="ROIAlign (Mask R-CNN): average of bilinear samples in each of pooled_size bins of "
        "each roi: data (N, C, H, W), rois (R, 5) -> (R, C, ph, pw) (C / (ph * pw) channels "
        "when position_sensitive).  See core/ops/contrib_roi.py for MXNet's details."))


def backward_shape(forward_shape):
    """The shape rule of a backward op (ograd, data, rois) -> data's shape, given its
    forward's rule: ograd must have the forward's output shape."""
    def rule(a, shapes):
        want = tuple(forward_shape(a, shapes[1:])[0])
        if tuple(shapes[0]) != want:
            fail("ograd", "shape %s does not match the output shape %s", tuple(shapes[0]),
                 want)
        return [tuple(shapes[1])]
    return rule


def backward_bad_samples():
    """A wrong ograd shape, for either backward op (pooled 2x2 over 3 rois)."""
    return [BadSample([np.ones((2, 3, 2, 2), np.float32), np.ones((1, 3, 5, 5), np.float32),
                       np.ones((3, 5), np.float32)],
                      {"pooled_size": (2, 2), "spatial_scale": 1.0},
                      match=("ograd", "(2, 3, 2, 2)", "(3, 3, 2, 2)"))]


register(OpDef(
    "_backward_ROIAlign", inputs=("ograd", "data", "rois"), params=_ALIGN_PARAMS,
    infer_shape=backward_shape(_align_shape), infer_type=lambda a, t: [t[1]],
    forward=_align_bwd, dtypes="float", nondiff=True, reference=ref.align_bwd_ref,
    samples=ref.align_bwd_samples, bad_samples=backward_bad_samples,
    doc="Gradient of _contrib_ROIAlign w.r.t. its data (data is read for its shape)."))

from . import contrib_roi_pool  # noqa: F401,E402  (ROIPooling)
