"""Vectorised kernels of the deformable convolutions (contrib_deform.py), against `xp`.

Both ops sample the data at fractional points: for output position (oh, ow), kernel tap
k = (i, j) and deformable group g, the point
    h = oh*stride_h - pad_h + i*dilate_h + offset[n, g*2K + 2k,     oh, ow]
    w = ow*stride_w - pad_w + j*dilate_w + offset[n, g*2K + 2k + 1, oh, ow]
(K = kh*kw) is read bilinearly from every channel of group g.  The two ops read it by
different rules (MXNet 1.9's CPU kernels, nn/deformable_im2col.h and
nn/modulated_deformable_im2col.h):
- DeformableConvolution: only points with 0 <= h < H and 0 <= w < W count; a point in the
  last row (h >= H-1) reads that row alone (its upper neighbour is clamped onto it), the
  same for the last column.
- ModulatedDeformableConvolution: points with -1 < h < H and -1 < w < W count; corners
  outside the image read 0.  The sample is then scaled by mask[n, g*K + k, oh, ow].
MXNet's backward kernels are the exact derivatives of those rules (right derivatives at
integer coordinates, 0 outside), so one description of a point serves every pass: four
corner indices into the flattened image (H*W stands for a corner reading 0), the bilinear
weights of the corners, and the coefficients of the corner values in d/dh and d/dw.

The columns of one image chunk are (n, C*K, P) with P = Ho*Wo and row c*K + k, as in
MXNet; the GEMMs run per group as batched matmuls; the data gradient is a bincount
scatter-add over the corners.  Images go in chunks of at most _CHUNK_ELEMS gathered corner
values.
"""
_CHUNK_ELEMS = 1 << 22  # gathered corner values (n * C * 4 * K * P) per chunk


class Geometry:
    """kernel/stride/dilate/pad as (h, w) pairs, the group counts, and the sizes."""

    def __init__(self, kernel, stride, dilate, pad, groups, dgroups, in_hw, out_hw):
        self.kernel, self.stride, self.dilate, self.pad = kernel, stride, dilate, pad
        self.groups, self.dgroups = groups, dgroups
        self.in_hw, self.out_hw = in_hw, out_hw
        self.K = kernel[0] * kernel[1]
        self.P = out_hw[0] * out_hw[1]


class Points:
    """Sampling points of a chunk; each array is (n, dg, 4, K*P) (idx: int64)."""
    __slots__ = ("idx", "wt", "coef_h", "coef_w")

    def __init__(self, idx, wt, coef_h, coef_w):
        self.idx, self.wt, self.coef_h, self.coef_w = idx, wt, coef_h, coef_w


def _grid(xp, g, dtype):
    """The undeformed tap positions: (K, Ho, 1) rows and (K, 1, Wo) columns."""
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = g.kernel, g.stride, g.dilate, g.pad
    Ho, Wo = g.out_hw
    tap_h = xp.repeat(xp.arange(kh) * dh, kw)
    tap_w = xp.tile(xp.arange(kw) * dw, kh)
    rows = (xp.arange(Ho) * sh - ph)[None, :, None] + tap_h[:, None, None]
    cols = (xp.arange(Wo) * sw - pw)[None, None, :] + tap_w[:, None, None]
    return rows.astype(dtype), cols.astype(dtype)


def _axis(xp, pos, size, modulated):
    """Per axis: (valid, low index, high index, low in range, high in range, frac)."""
    low = xp.floor(pos)
    if modulated:
        valid = (pos > -1) & (pos < size)
        frac = pos - low
        low = xp.clip(low, -1, size).astype(xp.int64)   # far points: weight 0, index kept small
        high = low + 1
        return valid, low, high, (low >= 0) & (low < size), (high >= 0) & (high < size), frac
    valid = (pos >= 0) & (pos < size)
    edge = low >= size - 1          # the last row: both neighbours are that row, frac 0
    frac = xp.where(edge, 0, pos - low).astype(pos.dtype)
    low = xp.clip(low, 0, size - 1).astype(xp.int64)
    high = xp.minimum(low + 1, size - 1)
    ok = xp.ones(low.shape, bool)
    return valid, low, high, ok, ok, frac


def sample_points(xp, offset, g, modulated):
    """Points of every tap of a chunk's offset (n, dg*2K, Ho, Wo)."""
    n = offset.shape[0]
    H, W = g.in_hw
    dt = offset.dtype
    off = offset.reshape(n, g.dgroups, g.K, 2, g.out_hw[0], g.out_hw[1])
    rows, cols = _grid(xp, g, dt)
    vh, h0, h1, h0_in, h1_in, lh = _axis(xp, rows + off[:, :, :, 0], H, modulated)
    vw, w0, w1, w0_in, w1_in, lw = _axis(xp, cols + off[:, :, :, 1], W, modulated)
    valid = (vh & vw).astype(dt)
    one = dt.type(1)
    corners = [(h0, w0, h0_in & w0_in), (h0, w1, h0_in & w1_in),
               (h1, w0, h1_in & w0_in), (h1, w1, h1_in & w1_in)]
    idx = xp.stack([xp.where(ok, r * W + c, H * W) for r, c, ok in corners], axis=2)
    wt = xp.stack([(one - lh) * (one - lw), (one - lh) * lw, lh * (one - lw), lh * lw], axis=2)
    coef_h = xp.stack([-(one - lw), -lw, one - lw, lw], axis=2)
    coef_w = xp.stack([-(one - lh), one - lh, -lh, lh], axis=2)
    shape = (n, g.dgroups, 4, g.K * g.P)
    v = valid[:, :, None]
    return Points(idx.reshape(shape), (wt * v).reshape(shape), (coef_h * v).reshape(shape),
                  (coef_w * v).reshape(shape))


def _corner_values(xp, x, pts, g):
    """x's values at every corner: (n, dg, C/dg, 4, K*P); corners at H*W read 0."""
    n, C = x.shape[:2]
    HW = g.in_hw[0] * g.in_hw[1]
    cg = C // g.dgroups
    xz = xp.zeros((n, g.dgroups, cg, HW + 1), x.dtype)
    xz[..., :HW] = x.reshape(n, g.dgroups, cg, HW)
    ni = xp.arange(n).reshape(n, 1, 1, 1, 1)
    gi = xp.arange(g.dgroups).reshape(1, -1, 1, 1, 1)
    ci = xp.arange(cg).reshape(1, 1, -1, 1, 1)
    return xz[ni, gi, ci, pts.idx[:, :, None]]


def _columns(xp, vals, pts, mask, g):
    """The column matrices (n, G, C/G*K, P) of the gathered corner values."""
    cols = (vals * pts.wt[:, :, None]).sum(axis=3)            # (n, dg, cg, K*P)
    if mask is not None:
        cols = cols * mask.reshape(mask.shape[0], g.dgroups, 1, g.K * g.P)
    n = vals.shape[0]
    return cols.reshape(n, g.groups, -1, g.P)


def _chunks(n, per_image):
    step = max(1, min(n, _CHUNK_ELEMS // max(1, per_image)))
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def _per_image(x, g):
    return x.shape[1] * 4 * g.K * g.P


def forward(xp, x, offset, mask, w, b, g, out):
    """out (N, F, Ho, Wo) = the deformable convolution (mask None: the unmodulated op)."""
    N, F = out.shape[:2]
    wg = w.reshape(1, g.groups, F // g.groups, -1)
    for s, e in _chunks(N, _per_image(x, g)):
        pts = sample_points(xp, offset[s:e], g, mask is not None)
        vals = _corner_values(xp, x[s:e], pts, g)
        cols = _columns(xp, vals, pts, None if mask is None else mask[s:e], g)
        out[s:e] = xp.matmul(wg, cols).reshape((e - s, F) + g.out_hw)
    if b is not None:
        out += b.reshape(1, F, 1, 1)


def backward(xp, dy, x, offset, mask, w, g):
    """Gradients (d data, d offset, d mask or None, d weight) for the head gradient dy."""
    N, C = x.shape[:2]
    F = dy.shape[1]
    G, dg = g.groups, g.dgroups
    HW = g.in_hw[0] * g.in_hw[1]
    wt_t = w.reshape(1, G, F // G, -1).transpose(0, 1, 3, 2)   # (1, G, C/G*K, F/G)
    dx = xp.zeros(x.shape, x.dtype)
    doff = xp.zeros(offset.shape, x.dtype)
    dmask = None if mask is None else xp.zeros(mask.shape, x.dtype)
    dw = xp.zeros((G, F // G, wt_t.shape[2]), x.dtype)
    for s, e in _chunks(N, _per_image(x, g)):
        n = e - s
        pts = sample_points(xp, offset[s:e], g, mask is not None)
        vals = _corner_values(xp, x[s:e], pts, g)
        m = None if mask is None else mask[s:e].reshape(n, dg, 1, g.K * g.P)
        gy = dy[s:e].reshape(n, G, F // G, g.P)
        dw += xp.matmul(gy, _columns(xp, vals, pts, m, g).transpose(0, 1, 3, 2)).sum(axis=0)
        dcol = xp.matmul(wt_t, gy).reshape(n, dg, C // dg, g.K * g.P)
        # offsets and mask: A[.., q, :] = sum over the group's channels of dcol * corner q
        A = (dcol[:, :, :, None] * vals).sum(axis=2)                      # (n, dg, 4, K*P)
        scale = 1 if m is None else m[:, :, 0]
        d_h = (A * pts.coef_h).sum(axis=2) * scale
        d_w = (A * pts.coef_w).sum(axis=2) * scale
        doff[s:e] = xp.stack([d_h.reshape(n, dg, g.K, g.P), d_w.reshape(n, dg, g.K, g.P)],
                             axis=3).reshape(offset[s:e].shape)
        if m is not None:
            dmask[s:e] = (A * pts.wt).sum(axis=2).reshape(mask[s:e].shape)
            dcol = dcol * m
        # data: every corner gets dcol times its bilinear weight (H*W collects the zeros)
        contrib = dcol[:, :, :, None] * pts.wt[:, :, None]                 # (n, dg, cg, 4, K*P)
        plane = xp.arange(n * C).reshape(n, dg, C // dg, 1, 1) * (HW + 1)
        flat = (plane + pts.idx[:, :, None]).ravel()
        acc = xp.bincount(flat, weights=contrib.ravel(), minlength=n * C * (HW + 1))
        dx[s:e] = acc.reshape(n, C, HW + 1)[:, :, :HW].reshape(x[s:e].shape)
    return dx, doff, dmask, dw.reshape(w.shape)
