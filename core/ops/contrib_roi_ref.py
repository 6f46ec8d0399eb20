"""Scalar references (plain Python loops, one output element at a time, after MXNet 1.9's
description of the algorithms) and test samples of contrib_roi.py (ROIAlign) and
contrib_roi_pool.py (ROIPooling)."""
import math

import numpy as np

from .registry import BadSample, Sample
from .sampling import values


def _batch(row):
    return int(math.trunc(float(row[0])))


# -- ROIAlign ----------------------------------------------------------------------------------
def _align_samples_of(a, row, H, W, dt):
    """[(bin i, bin j, [(y, x, weight), ...] of every sample point)], count, for one roi."""
    T = dt.type
    scale, off = T(np.float32(a.spatial_scale)), T(0.5 if a.aligned else 0)
    x1, y1, x2, y2 = [T(v) * scale - off for v in row[1:]]
    rw, rh = x2 - x1, y2 - y1
    if not a.aligned:
        rw, rh = max(rw, T(1)), max(rh, T(1))
    ph, pw = a.pooled_size
    bh, bw = rh / T(ph), rw / T(pw)
    gh = a.sample_ratio if a.sample_ratio > 0 else math.ceil(rh / T(ph))
    gw = a.sample_ratio if a.sample_ratio > 0 else math.ceil(rw / T(pw))
    bins = []
    for i in range(ph):
        for j in range(pw):
            pts = []
            for iy in range(gh):
                y = y1 + T(i) * bh + T(iy + 0.5) * bh / T(gh)
                for ix in range(gw):
                    x = x1 + T(j) * bw + T(ix + 0.5) * bw / T(gw)
                    pts += _bilinear(y, x, H, W, T)
            bins.append((i, j, pts))
    return bins, T(gh * gw)


def _bilinear(y, x, H, W, T):
    """The (row, col, weight) terms of one sample point; none outside [-1, H] x [-1, W]."""
    if y < -1 or y > H or x < -1 or x > W:
        return []
    y, x = max(y, T(0)), max(x, T(0))
    y0, x0 = int(y), int(x)
    if y0 >= H - 1:
        y0 = y1 = H - 1
        y = T(y0)
    else:
        y1 = y0 + 1
    if x0 >= W - 1:
        x0 = x1 = W - 1
        x = T(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - T(y0), x - T(x0)
    hy, hx = T(1) - ly, T(1) - lx
    return [(y0, x0, hy * hx), (y0, x1, hy * lx), (y1, x0, ly * hx), (y1, x1, ly * lx)]


def _channel(a, c, i, j):
    ph, pw = a.pooled_size
    return c * ph * pw + i * pw + j if a.position_sensitive else c


def align_ref(a, data, rois):
    n, C, H, W = data.shape
    ph, pw = a.pooled_size
    co = C // (ph * pw) if a.position_sensitive else C
    out = np.zeros((rois.shape[0], co, ph, pw), data.dtype)
    for r, row in enumerate(rois):
        b = _batch(row)
        if b < 0:
            continue
        bins, count = _align_samples_of(a, row, H, W, data.dtype)
        for c in range(co):
            for i, j, pts in bins:
                img = data[b, _channel(a, c, i, j)]
                acc = data.dtype.type(0)
                for y, x, w in pts:
                    acc += w * img[y, x]
                out[r, c, i, j] = acc / count
    for r, row in enumerate(rois):
        if _batch(row) < 0:
            out.reshape(-1)[r] = 0
    return out


def align_bwd_ref(a, g, data, rois):
    n, C, H, W = data.shape
    grad = np.zeros(data.shape, data.dtype)
    for r, row in enumerate(rois):
        b = _batch(row)
        if b < 0:
            continue
        bins, count = _align_samples_of(a, row, H, W, data.dtype)
        for c in range(g.shape[1]):
            for i, j, pts in bins:
                for y, x, w in pts:
                    grad[b, _channel(a, c, i, j), y, x] += g[r, c, i, j] * w / count
    return grad


def roi_rows(rows, dtype):
    return np.array(rows, dtype)


# rois in image coordinates (spatial_scale 0.5 maps them onto a 6 x 7 map): inside,
# partly outside, tiny, inverted (malformed), larger than the map, fractional corners
ROIS = [[0, 1, 1, 9, 7], [1, -3, 2, 6, 13], [0, 4.5, 3.2, 5.1, 3.9], [1, 8, 8, 3, 2],
        [0, -4, -5, 20, 18], [1, 2.6, 0.4, 11.3, 10.9]]


def align_samples(dt):
    d = values((2, 2, 6, 7), dt, seed=3)
    rois = roi_rows(ROIS, dt)
    ok = rois[[0, 1, 2, 4, 5]]
    return [Sample([d, rois], {"pooled_size": (2, 3), "spatial_scale": 0.5}),
            Sample([d, ok], {"pooled_size": (3, 2), "spatial_scale": 0.5, "sample_ratio": 2,
                             "aligned": True}),
            Sample([values((1, 8, 5, 5), dt, seed=4),
                    (rois[[0, 2, 4]] * [0, 1, 1, 1, 1]).astype(dt)],
                   {"pooled_size": (2, 2), "spatial_scale": 0.5,
                    "position_sensitive": True}),
            Sample([d, rois], {"pooled_size": (1, 1), "spatial_scale": 0.25,
                               "sample_ratio": 3}),
            Sample([values((2, 3, 9, 8), dt, seed=5), rois],
                   {"pooled_size": (4, 3), "spatial_scale": 1.0}),
            Sample([values((2, 4, 6, 7), dt, seed=6), ok],
                   {"pooled_size": (2, 2), "spatial_scale": 0.5, "aligned": True,
                    "position_sensitive": True})]


def align_bwd_samples(dt):
    out = []
    for s in align_samples(dt)[:4]:
        d, rois = s.inputs
        ph, pw = s.attrs["pooled_size"]
        c = d.shape[1] // (ph * pw) if s.attrs.get("position_sensitive") else d.shape[1]
        g = values((rois.shape[0], c, ph, pw), dt, seed=7)
        out.append(Sample([g, d, rois], s.attrs))
    return out


def _bad(data_shape, rois_shape, attrs, match, rois=None):
    f = np.float32
    r = np.zeros(rois_shape, f) if rois is None else np.array(rois, f)
    return BadSample([np.ones(data_shape, f), r], attrs, match=match)


P = {"pooled_size": (2, 2), "spatial_scale": 0.5}


def align_bad():
    return [_bad((1, 2, 4, 4), (3, 4), P, ("rois", "(3, 4)", "5")),
            _bad((2, 4, 4), (3, 5), P, ("data", "(2, 4, 4)", "4-D")),
            _bad((1, 6, 4, 4), (3, 5), dict(P, position_sensitive=True),
                 ("data", "6", "(1, 6, 4, 4)", "divisible")),
            _bad((1, 2, 4, 4), (3, 5), {"pooled_size": (2, 2), "spatial_scale": 2.0},
                 ("spatial_scale", "2")),
            _bad((1, 2, 4, 4), (3, 5), {"pooled_size": (2, 0), "spatial_scale": 0.5},
                 ("pooled_size", "(2, 0)")),
            _bad((1, 2, 4, 4), (3, 5), {"spatial_scale": 0.5}, ("pooled_size", "required")),
            _bad((1, 2, 4, 4), None, P, ("rois", "batch index 1", "batch size 1"),
                 rois=[[0, 0, 0, 2, 2], [1, 0, 0, 2, 2]]),
            _bad((1, 2, 4, 4), None, dict(P, aligned=True), ("rois", "aligned", "width"),
                 rois=[[0, 2, 0, 2, 2]])]


# -- ROIPooling --------------------------------------------------------------------------------
def _c_round(v):
    return int(math.floor(abs(v) + 0.5)) * (1 if v >= 0 else -1)


def _pool_bins(a, row, H, W, dt):
    """[(i, j, h range, w range)] of one roi, and its (sh, sw, eh, ew, bin_h, bin_w)."""
    T = dt.type
    s = T(np.float32(a.spatial_scale))
    sw, sh, ew, eh = [_c_round(float(T(v) * s)) for v in row[1:]]
    ph, pw = a.pooled_size
    bh, bw = T(max(eh - sh + 1, 1)) / T(ph), T(max(ew - sw + 1, 1)) / T(pw)
    out = []
    for i in range(ph):
        for j in range(pw):
            h0 = min(max(int(math.floor(T(i) * bh)) + sh, 0), H)
            h1 = min(max(int(math.ceil(T(i + 1) * bh)) + sh, 0), H)
            w0 = min(max(int(math.floor(T(j) * bw)) + sw, 0), W)
            w1 = min(max(int(math.ceil(T(j + 1) * bw)) + sw, 0), W)
            out.append((i, j, range(h0, h1), range(w0, w1)))
    return out, (sh, sw, eh, ew, bh, bw)


def _pool_max(img, hs, ws, T):
    if not len(hs) or not len(ws):
        return T(0), None
    best, arg = T(-np.finfo(np.float32).max), None
    for h in hs:
        for w in ws:
            if img[h, w] > best:
                best, arg = img[h, w], (h, w)
    return best, arg


def pool_ref(a, data, rois):
    n, C, H, W = data.shape
    out = np.zeros((rois.shape[0], C) + tuple(a.pooled_size), data.dtype)
    for r, row in enumerate(rois):
        bins, _ = _pool_bins(a, row, H, W, data.dtype)
        for c in range(C):
            for i, j, hs, ws in bins:
                out[r, c, i, j] = _pool_max(data[_batch(row), c], hs, ws, data.dtype.type)[0]
    return out


def pool_bwd_ref(a, g, data, rois):
    n, C, H, W = data.shape
    T = data.dtype.type
    grad = np.zeros(data.shape, data.dtype)
    for r, row in enumerate(rois):
        bins, (sh, sw, eh, ew, bh, bw) = _pool_bins(a, row, H, W, data.dtype)
        for c in range(C):
            for i, j, hs, ws in bins:
                arg = _pool_max(data[_batch(row), c], hs, ws, T)[1]
                if arg is None:
                    continue
                h, w = arg
                grad[_batch(row), c, h, w] += g[r, c, i, j]
    return grad


def pool_samples(dt):
    d = values((2, 2, 6, 7), dt, seed=8)
    rois = roi_rows(ROIS, dt)
    ok = rois[[0, 1, 2, 4, 5]]
    half = roi_rows([[0, 1, 1, 5, 1], [1, 3, 5, 3, 5], [0, 0.5, 1.5, 2.5, 4.5]], dt)
    return [Sample([d, ok], {"pooled_size": (2, 3), "spatial_scale": 0.5}),
            Sample([d, ok], {"pooled_size": (3, 3), "spatial_scale": 1.0}),
            Sample([d, half], {"pooled_size": (2, 2), "spatial_scale": 1.0}),
            Sample([d, ok], {"pooled_size": (4, 5), "spatial_scale": 0.25}),
            Sample([d, rois], {"pooled_size": (2, 2), "spatial_scale": 0.5}),
            Sample([values((1, 3, 9, 8), dt, seed=9), (rois * [0, 1, 1, 1, 1]).astype(dt)],
                   {"pooled_size": (3, 2), "spatial_scale": 0.7})]


def pool_bwd_samples(dt):
    out = []
    for s in pool_samples(dt)[3:]:
        d, rois = s.inputs
        g = values((rois.shape[0], d.shape[1]) + s.attrs["pooled_size"], dt, seed=10)
        out.append(Sample([g, d, rois], s.attrs))
    return out


def pool_bad():
    return [_bad((1, 2, 4, 4), (3, 4), P, ("rois", "(3, 4)", "5")),
            _bad((2, 4, 4), (3, 5), P, ("data", "(2, 4, 4)", "4-D")),
            _bad((1, 2, 4, 4), (3, 5), {"pooled_size": (2, 2, 2), "spatial_scale": 0.5},
                 ("pooled_size", "(2, 2, 2)")),
            _bad((1, 2, 4, 4), (3, 5), {"pooled_size": (2, 2), "spatial_scale": -0.5},
                 ("spatial_scale", "-0.5")),
            _bad((1, 2, 4, 4), (3, 5), {"pooled_size": (2, 2)}, ("spatial_scale", "required")),
            _bad((2, 2, 4, 4), None, P, ("rois", "batch index -1", "batch size 2"),
                 rois=[[-1, 0, 0, 2, 2]]),
            _bad((2, 2, 4, 4), None, P, ("rois", "batch index 2", "batch size 2"),
                 rois=[[2, 0, 0, 2, 2]])]
