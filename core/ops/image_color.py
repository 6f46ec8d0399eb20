"""Colour adjustments on HWC (or NHWC) RGB NumPy arrays, shared by the `_image_*` colour
ops and gluon.data.vision.transforms: brightness, contrast, saturation, hue and PCA
lighting.  Integer images are computed in float32, truncated and clipped back to their
range, as MXNet's image operators do (checked against MXNet 1.9.1).

One deliberate difference: saturation blends each pixel with its full luma
0.299 R + 0.587 G + 0.114 B; MXNet 1.9.1's kernel keeps only 0.114 B (an assignment where
a sum was meant).  One-channel images: contrast blends with the mean value, saturation is
the identity (as MXNet).
"""
import numpy as np

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# AlexNet's PCA of ImageNet RGB (the same constants MXNet uses)
EIGVAL = np.array([55.46, 4.794, 1.148], dtype=np.float32)
EIGVEC = np.array([[-0.5675, 0.7192, 0.4009],
                   [-0.5808, -0.0045, -0.8140],
                   [-0.5836, -0.6948, 0.4203]], dtype=np.float32)


def back(a, out):
    """`out` (float) in the dtype of image `a`: integers truncated and clipped."""
    if a.dtype.kind == "f":
        return out.astype(a.dtype, copy=False)
    info = np.iinfo(a.dtype) if a.dtype.kind in "iu" else None
    if info is None:  # bool
        return out != 0
    return np.clip(np.trunc(out), info.min, info.max).astype(a.dtype)


def _gray(f):
    """Each pixel's grey level (..., H, W, 1)."""
    if f.shape[-1] == 1:
        return f
    return (f @ LUMA)[..., None]


def adjust_brightness(a, alpha):
    return back(a, a.astype(np.float32) * np.float32(alpha))


def adjust_contrast(a, alpha):
    f = a.astype(np.float32)
    gray = _gray(f)[..., 0].mean(axis=(-1, -2), keepdims=True)[..., None]
    return back(a, f * np.float32(alpha) + (1 - np.float32(alpha)) * gray)


def adjust_saturation(a, alpha):
    if a.shape[-1] == 1:
        return a.copy()
    f = a.astype(np.float32)
    return back(a, f * np.float32(alpha) + (1 - np.float32(alpha)) * _gray(f))


def _rgb_to_hls(f):
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    mx, mn = f.max(-1), f.min(-1)
    light = (mx + mn) / 2
    d = mx - mn
    nz = d > 0
    safe = np.where(nz, d, 1)
    sat = np.where(light <= 0.5, d / np.where(nz, mx + mn, 1), d / np.where(nz, 2 - mx - mn, 1))
    sat = np.where(nz, sat, 0)
    h = np.where(mx == r, (g - b) / safe, np.where(mx == g, 2 + (b - r) / safe, 4 + (r - g) / safe))
    h = np.where(nz, (h / 6) % 1.0, 0)
    return h, light, sat


def _hls_to_rgb(h, light, sat):
    m2 = np.where(light <= 0.5, light * (1 + sat), light + sat - light * sat)
    m1 = 2 * light - m2

    def v(hue):
        hue = hue % 1.0
        return np.where(hue < 1 / 6, m1 + (m2 - m1) * hue * 6,
                        np.where(hue < 0.5, m2,
                                 np.where(hue < 2 / 3, m1 + (m2 - m1) * (2 / 3 - hue) * 6, m1)))
    rgb = np.stack([v(h + 1 / 3), v(h), v(h - 1 / 3)], axis=-1)
    return np.where((sat == 0)[..., None], light[..., None], rgb)


def adjust_hue(a, alpha):
    """Rotate the hue by `alpha` turns (in HLS space)."""
    f = a.astype(np.float64) / 255.0
    h, light, sat = _rgb_to_hls(f)
    return back(a, (_hls_to_rgb(h + alpha, light, sat) * 255.0).astype(np.float32))


def adjust_lighting(a, alpha):
    """Add eigvec @ (alpha * eigval) to every pixel's RGB."""
    # float64 images in float64 (the gradient of the op is checked numerically), others in
    # float32 as MXNet
    ft = np.float64 if a.dtype == np.float64 else np.float32
    pca = (EIGVEC @ (np.asarray(alpha, dtype=np.float32) * EIGVAL)).astype(ft)
    return back(a, a.astype(ft) + pca)
