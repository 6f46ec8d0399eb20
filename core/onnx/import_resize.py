"""Import rule: Resize / Upsample, every mode, as one interpolation matrix per resized axis.

ONNX's nearest, linear and cubic resizes (with or without antialias) are separable: output
sample j of an axis is a fixed weighted sum of input samples along that axis.  The weights
depend only on the sizes and attributes, so they are computed here once, as a constant
(out_len, in_len) matrix M per axis, and the graph does x <- x @ M.T along each resized axis
(transpose + dot).  tf_crop_and_resize's extrapolation value is a constant mask afterwards.
"""
import numpy as np

from .import_rules import onnx_op


def _source_coords(ctm, j, in_len, out_len, scale, roi):
    """Input coordinate of output samples j (float array) for coordinate transform `ctm`."""
    if ctm == "half_pixel":
        return (j + 0.5) / scale - 0.5
    if ctm == "half_pixel_symmetric":
        adj = out_len / (scale * in_len)
        return in_len / 2.0 * (1 - adj) + (j + 0.5) / scale - 0.5
    if ctm == "pytorch_half_pixel":
        return (j + 0.5) / scale - 0.5 if out_len > 1 else np.zeros_like(j)
    if ctm == "align_corners":  # ONNX divides by the unrounded output length scale * in_len
        n = scale * in_len
        return j * (in_len - 1) / (n - 1) if n > 1 else np.zeros_like(j)
    if ctm == "asymmetric":
        return j / scale
    if ctm == "tf_crop_and_resize":
        lo, hi = roi
        if out_len > 1:
            return lo * (in_len - 1) + j * (hi - lo) * (in_len - 1) / (out_len - 1)
        return np.full_like(j, 0.5 * (lo + hi) * (in_len - 1))
    raise ValueError(ctm)


def _nearest_index(x, mode):
    if mode == "round_prefer_floor":
        return np.ceil(x - 0.5)
    if mode == "round_prefer_ceil":
        return np.floor(x + 0.5)
    if mode == "floor":
        return np.floor(x)
    if mode == "ceil":
        return np.ceil(x)
    raise ValueError(mode)


def _cubic(d, A):
    d = np.abs(d)
    near = ((A + 2) * d - (A + 3)) * d * d + 1
    far = ((A * d - 5 * A) * d + 8 * A) * d - 4 * A
    return np.where(d <= 1, near, np.where(d < 2, far, 0.0))


def axis_matrix(in_len, out_len, scale, attrs, roi=(0.0, 1.0)):
    """(out_len, in_len) weights and a bool mask of outputs that extrapolate."""
    mode = attrs.get("mode", "nearest")
    ctm = attrs.get("coordinate_transformation_mode", "half_pixel")
    j = np.arange(out_len, dtype=np.float64)
    x = _source_coords(ctm, j, in_len, out_len, scale, roi)
    outside = (x < 0) | (x > in_len - 1) if ctm == "tf_crop_and_resize" else np.zeros(out_len, bool)
    M = np.zeros((out_len, in_len))
    rows = np.arange(out_len)
    if mode == "nearest":
        idx = np.clip(_nearest_index(x, attrs.get("nearest_mode", "round_prefer_floor")),
                      0, in_len - 1).astype(np.int64)
        M[rows, idx] = 1.0
        return M, outside
    base = np.floor(x)
    ratio = x - base
    anti = bool(attrs.get("antialias", 0)) and scale < 1
    s = min(scale, 1.0) if anti else 1.0
    if mode == "linear":
        start = int(np.floor(-1 / s) + 1) if anti else 0
        offs = np.arange(start, 2 - start)
        w = np.clip(1 - np.abs((offs[None, :] - ratio[:, None]) * s), 0, 1)
    elif mode == "cubic":
        A = float(attrs.get("cubic_coeff_a", -0.75))
        start = int(np.floor(-2 / s) + 1) if anti else -1
        offs = np.arange(start, 2 - start + (0 if anti else 1))
        w = _cubic((offs[None, :] - ratio[:, None]) * s, A)
    else:
        raise ValueError(mode)
    idx = base[:, None] + offs[None, :]
    if attrs.get("exclude_outside", 0):
        w = np.where((idx < 0) | (idx > in_len - 1), 0.0, w)
    if anti or attrs.get("exclude_outside", 0):
        w = w / w.sum(axis=1, keepdims=True)
    idx = np.clip(idx, 0, in_len - 1).astype(np.int64)
    np.add.at(M, (np.repeat(rows, idx.shape[1]), idx.reshape(-1)), w.reshape(-1))
    return M, outside


def _targets(c, s):
    """(scales, output sizes, roi) per axis of the input."""
    r = len(s)
    if c.op_type == "Upsample":
        scales = c.attr("scales") if c.opset < 9 else list(np.asarray(c.value(1, what="scales")))
        scales = [float(v) for v in scales]
        return scales, [int(np.floor(n * f)) for n, f in zip(s, scales)], [(0.0, 1.0)] * r
    if c.opset < 11:
        scales = [float(v) for v in np.asarray(c.value(1, what="scales")).reshape(-1)]
        return scales, [int(np.floor(n * f)) for n, f in zip(s, scales)], [(0.0, 1.0)] * r
    axes = c.attr("axes")
    axes = [int(a) % r for a in axes] if axes is not None else list(range(r))
    roi_v = c.value(1, None, "roi")
    roi = [(0.0, 1.0)] * r
    if roi_v is not None and np.asarray(roi_v).size:
        rv = np.asarray(roi_v, np.float64).reshape(-1)
        k = len(axes)
        for i, ax in enumerate(axes):
            roi[ax] = (rv[i], rv[i + k])
    scales_v = c.value(2, None, "scales")
    scales, sizes = [1.0] * r, list(s)
    if scales_v is not None and np.asarray(scales_v).size:
        for ax, f in zip(axes, np.asarray(scales_v, np.float64).reshape(-1)):
            scales[ax] = float(f)
            sizes[ax] = int(np.floor(s[ax] * (roi[ax][1] - roi[ax][0]) * f))
        return scales, sizes, roi
    want = c.ints(3, None, "sizes")
    if want is None:
        c.fail("one of scales or sizes must be given")
    policy = c.attr("keep_aspect_ratio_policy", "stretch")
    ratios = [w / s[ax] for ax, w in zip(axes, want)]
    if policy in ("not_larger", "not_smaller"):
        f = min(ratios) if policy == "not_larger" else max(ratios)
        for ax in axes:
            scales[ax] = f
            sizes[ax] = int(np.floor(s[ax] * f + 0.5))
    else:
        for ax, w, f in zip(axes, want, ratios):
            scales[ax], sizes[ax] = f, w
    return scales, sizes, roi


@onnx_op("Resize", "Upsample")
def resize(c):
    F = c.F
    s = c.shape(0)
    dt = c.dtype(0)
    if dt.kind != "f":
        c.unsupported("resizing %s tensors is not supported" % dt)
    scales, sizes, roi = _targets(c, s)
    attrs = dict(c.attrs)
    if c.op_type == "Upsample" or c.opset < 11:
        attrs.setdefault("coordinate_transformation_mode", "asymmetric")
        if attrs.get("mode", "nearest") == "nearest":
            attrs.setdefault("nearest_mode", "floor")
    x = c.x(0)
    mask = np.zeros(sizes, bool)
    r = len(s)
    for ax in range(r):
        if sizes[ax] == s[ax] and scales[ax] == 1.0 and roi[ax] == (0.0, 1.0):
            continue
        M, outside = axis_matrix(s[ax], sizes[ax], scales[ax], attrs, roi[ax])
        shape_m = [1] * r
        shape_m[ax] = sizes[ax]
        mask |= outside.reshape(shape_m)
        m = c.imp.tensor(_const(c, M.T.astype(dt), ax), F)
        perm = [i for i in range(r) if i != ax] + [ax]
        t = F.transpose(x, axes=tuple(perm)) if ax != r - 1 else x
        cur = [int(v) for v in (sizes[:ax] + list(s[ax:]))]
        moved = [cur[i] for i in perm]
        t = F.reshape(F.dot(F.reshape(t, shape=(-1, s[ax])), m),
                      shape=tuple(moved[:-1]) + (sizes[ax],))
        x = F.transpose(t, axes=tuple(int(i) for i in np.argsort(perm))) if ax != r - 1 else t
    if mask.any():
        value = float(c.attr("extrapolation_value", 0.0))
        keep = c.imp.tensor(_const(c, (~mask).astype(dt), "keep"), F)
        fill = c.imp.tensor(_const(c, (mask * value).astype(dt), "fill"), F)
        x = F.broadcast_add(F.broadcast_mul(x, keep), fill)
    return x


def _const(c, arr, tag):
    from .importer import _Val
    return _Val("%s_resize_%s" % (c.name, tag), const=arr)
