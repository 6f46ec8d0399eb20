"""Colour adjustments on HWC (or NHWC) RGB arrays, vectorised: brightness, contrast,
saturation, hue and PCA lighting.  Integer images are computed in float32, truncated
and clipped back to their range, as MXNet's image operators do."""
import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# AlexNet's PCA of ImageNet RGB (the same constants MXNet uses)
_EIGVAL = np.array([55.46, 4.794, 1.148], dtype=np.float32)
_EIGVEC = np.array([[-0.5675, 0.7192, 0.4009],
                    [-0.5808, -0.0045, -0.8140],
                    [-0.5836, -0.6948, 0.4203]], dtype=np.float32)


def _back(a, out):
    if a.dtype.kind == "f":
        return out.astype(a.dtype, copy=False)
    info = np.iinfo(a.dtype)
    return np.clip(np.trunc(out), info.min, info.max).astype(a.dtype)


def adjust_brightness(a, alpha):
    return _back(a, a.astype(np.float32) * np.float32(alpha))


def adjust_contrast(a, alpha):
    f = a.astype(np.float32)
    gray = (f @ _LUMA).mean(axis=(-1, -2), keepdims=True)[..., None]
    return _back(a, f * np.float32(alpha) + (1 - np.float32(alpha)) * gray)


def adjust_saturation(a, alpha):
    f = a.astype(np.float32)
    gray = (f @ _LUMA)[..., None]
    return _back(a, f * np.float32(alpha) + (1 - np.float32(alpha)) * gray)


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
    return _back(a, (_hls_to_rgb(h + alpha, light, sat) * 255.0).astype(np.float32))


def adjust_lighting(a, alpha):
    """Add eigvec @ (alpha * eigval) to every pixel's RGB."""
    pca = _EIGVEC @ (np.asarray(alpha, dtype=np.float32) * _EIGVAL)
    return _back(a, a.astype(np.float32) + pca)
