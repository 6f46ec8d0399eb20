"""Per-element references of the deformable convolutions (contrib_deform.py): plain loops
over every sampled point, written after the structure of MXNet 1.9's scalar kernels
(nn/deformable_im2col.h, nn/modulated_deformable_im2col.cuh) and independent of the
vectorised kernels of contrib_deform_impl.py.

Sampling positions are computed in the data's dtype, as MXNet does (a float32 offset gives
a float32 position), everything after that in float64.  The data gradient follows MXNet's
search: the pixels within distance < 1 of the point around its truncated position, each
with its interpolation weight; the offset gradient MXNet's coordinate weights.
"""
import math

import numpy as np

from .nn_conv_impl import geometry, out_size


class _Setup:
    def __init__(self, attrs, x, w):
        self.k, self.s, self.d, self.p = geometry(attrs, 2)
        self.N, self.C, self.H, self.W = x.shape
        self.F = w.shape[0]
        self.G, self.dg = attrs.num_group, attrs.num_deformable_group
        self.K = self.k[0] * self.k[1]
        self.out = out_size(x.shape[2:], self.k, self.s, self.d, self.p)
        self.dt = x.dtype.type
        self.modulated = "im2col_step" in attrs

    def taps(self):
        """(n, c, tap, oh, ow, deformable group) of every column entry."""
        Ho, Wo = self.out
        for n in range(self.N):
            for c in range(self.C):
                for t in range(self.K):
                    for oh in range(Ho):
                        for ow in range(Wo):
                            yield n, c, t, oh, ow, c // (self.C // self.dg)

    def point(self, off, n, g, t, oh, ow):
        i, j = divmod(t, self.k[1])
        ch = g * 2 * self.K + 2 * t
        h = self.dt(oh * self.s[0] - self.p[0] + i * self.d[0]) + off[n, ch, oh, ow]
        w = self.dt(ow * self.s[1] - self.p[1] + j * self.d[1]) + off[n, ch + 1, oh, ow]
        return float(h), float(w)


# -- DeformableConvolution's rules: 0 <= h < H, far neighbours clamped onto the last row ------
def _clamp(pos, size):
    lo = math.floor(pos)
    if lo >= size - 1:
        return size - 1, size - 1, float(size - 1)
    return lo, lo + 1, pos


def _corners(img, h, w, modulated):
    """(r0, r1, c0, c1, h, w, v00, v01, v10, v11) of a point (h, w possibly clamped)."""
    H, W = img.shape
    if modulated:
        r0, c0 = math.floor(h), math.floor(w)
        r1, c1 = r0 + 1, c0 + 1
    else:
        (r0, r1, h), (c0, c1, w) = _clamp(h, H), _clamp(w, W)

    def px(r, c):
        return float(img[r, c]) if 0 <= r < H and 0 <= c < W else 0.0
    return r0, r1, c0, c1, h, w, px(r0, c0), px(r0, c1), px(r1, c0), px(r1, c1)


def _inside(h, w, H, W, modulated):
    if modulated:
        return -1 < h < H and -1 < w < W
    return 0 <= h < H and 0 <= w < W


def _read(img, h, w, modulated):
    if not _inside(h, w, img.shape[0], img.shape[1], modulated):
        return 0.0
    r0, r1, c0, c1, h, w, v00, v01, v10, v11 = _corners(img, h, w, modulated)
    a, b = h - r0, w - c0
    return (1 - a) * (1 - b) * v00 + (1 - a) * b * v01 + a * (1 - b) * v10 + a * b * v11


def _pixel_weight(h, w, r, c, H, W, modulated):
    """The weight pixel (r, c) had in the point's interpolation (MXNet's gradient weight)."""
    if modulated:
        if h <= -1 or h >= H or w <= -1 or w >= W:
            return 0.0
        r0, c0 = math.floor(h), math.floor(w)
        r1, c1 = r0 + 1, c0 + 1
    else:
        if h < 0 or h > H or w < 0 or w > W:
            return 0.0
        (r0, r1, h), (c0, c1, w) = _clamp(h, H), _clamp(w, W)
    fr = (r + 1 - h) if r == r0 else (h + 1 - r) if r == r1 else 0.0
    fc = (c + 1 - w) if c == c0 else (w + 1 - c) if c == c1 else 0.0
    return fr * fc


def _coord_weights(img, h, w, modulated):
    """d(read)/dh and d(read)/dw by MXNet's coordinate weights (0 outside the read area)."""
    if not _inside(h, w, img.shape[0], img.shape[1], modulated):
        return 0.0, 0.0
    r0, r1, c0, c1, h, w, v00, v01, v10, v11 = _corners(img, h, w, modulated)
    a, b = h - r0, w - c0
    dh = -(1 - b) * v00 - b * v01 + (1 - b) * v10 + b * v11
    dw = -(1 - a) * v00 + (1 - a) * v01 - a * v10 + a * v11
    return dh, dw


# -- the references ----------------------------------------------------------------------------
def _columns(S, x, off, mask):
    cols = np.zeros((S.N, S.C * S.K) + S.out)
    for n, c, t, oh, ow, g in S.taps():
        h, w = S.point(off, n, g, t, oh, ow)
        m = 1.0 if mask is None else float(mask[n, g * S.K + t, oh, ow])
        cols[n, c * S.K + t, oh, ow] = m * _read(x[n, c], h, w, S.modulated)
    return cols


def _grouped(S, cols):
    return cols.reshape((S.N, S.G, S.C // S.G * S.K) + S.out)


def forward(attrs, x, off, *rest):
    rest = list(rest)
    mask = rest.pop(0) if "im2col_step" in attrs else None
    wt = rest[0]
    S = _Setup(attrs, x, wt)
    cols = _grouped(S, _columns(S, x, off, mask))
    w = wt.astype(np.float64).reshape(S.G, S.F // S.G, -1)
    out = np.einsum("gfk,ngkyx->ngfyx", w, cols).reshape((S.N, S.F) + S.out)
    if not attrs.no_bias:
        out += rest[1].reshape(1, -1, 1, 1)
    return out.astype(x.dtype)


def backward(attrs, gy, x, off, *rest):
    """(d data, d offset, [d mask,] d weight) for the head gradient gy."""
    mask = rest[0] if "im2col_step" in attrs else None
    wt = rest[-1]
    S = _Setup(attrs, x, wt)
    cols = _grouped(S, _columns(S, x, off, mask))
    gyg = gy.astype(np.float64).reshape((S.N, S.G, S.F // S.G) + S.out)
    w = wt.astype(np.float64).reshape(S.G, S.F // S.G, -1)
    dw = np.einsum("ngfyx,ngkyx->gfk", gyg, cols).reshape(wt.shape)
    dcol = np.einsum("gfk,ngfyx->ngkyx", w, gyg).reshape((S.N, S.C * S.K) + S.out)
    dx, doff = np.zeros(x.shape), np.zeros(off.shape)
    dmask = None if mask is None else np.zeros(mask.shape)
    for n, c, t, oh, ow, g in S.taps():
        h, w_ = S.point(off, n, g, t, oh, ow)
        gc = dcol[n, c * S.K + t, oh, ow]
        m = 1.0 if mask is None else float(mask[n, g * S.K + t, oh, ow])
        img = x[n, c]
        ch = g * 2 * S.K + 2 * t
        dh, dw_ = _coord_weights(img, h, w_, S.modulated)
        doff[n, ch, oh, ow] += dh * gc * m
        doff[n, ch + 1, oh, ow] += dw_ * gc * m
        if mask is not None:
            dmask[n, g * S.K + t, oh, ow] += gc * _read(img, h, w_, True)
        th, tw = int(h), int(w_)                       # C's truncation, as MXNet
        for r in range(th - 2, th + 3):
            for cc in range(tw - 2, tw + 3):
                if 0 <= r < S.H and 0 <= cc < S.W and abs(h - r) < 1 and abs(w_ - cc) < 1:
                    dx[n, c, r, cc] += _pixel_weight(h, w_, r, cc, S.H, S.W, S.modulated) \
                        * gc * m
    grads = [dx, doff] + ([dmask] if mask is not None else []) + [dw]
    return tuple(a.astype(x.dtype) for a in grads)
