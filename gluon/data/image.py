"""mx.image: decoding, resizing and cropping images held as HWC NDArrays.

Decoding and resizing use OpenCV when it is installed (MXNet is built on OpenCV, so
results match it exactly), else Pillow for decoding and NumPy for nearest/bilinear
resizing (within one grey level of OpenCV).  Crop sizes are (width, height), as MXNet.
"""
import io
import random

import numpy as np

from ...core.base import PlaitError
from ...ndarray import NDArray

_CV2 = []


def _cv2():
    """OpenCV's module, or None when it is not installed (imported at first use)."""
    if not _CV2:
        try:
            import cv2
        except ImportError:
            cv2 = None
        _CV2.append(cv2)
    return _CV2[0]


def _host(src, op):
    if isinstance(src, NDArray):
        return src.asnumpy()
    if isinstance(src, np.ndarray):
        return src
    raise PlaitError("expected an NDArray image, got %s" % type(src).__name__, arg="src", op=op)


def _like(src, arr):
    return NDArray(np.ascontiguousarray(arr)) if isinstance(src, NDArray) else arr


def imdecode(buf, flag=1, to_rgb=True, out=None):
    """Decode an encoded image (bytes, bytearray or uint8 array) into an HWC uint8 NDArray:
    flag=1 colour (3 channels, RGB when to_rgb else BGR), flag=0 grayscale (1 channel)."""
    if isinstance(buf, NDArray):
        buf = buf.asnumpy()
    data = bytes(buf) if not isinstance(buf, bytes) else buf
    if not data:
        raise PlaitError("empty buffer", arg="buf", op="imdecode")
    cv2 = _cv2()
    if cv2 is not None:
        img = cv2.imdecode(np.frombuffer(data, np.uint8),
                           cv2.IMREAD_COLOR if flag else cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise PlaitError("cannot decode the %d-byte buffer as an image (OpenCV)" % len(data),
                             arg="buf", op="imdecode")
        if img.ndim == 2:
            img = img[:, :, None]
        elif to_rgb:
            img = img[:, :, ::-1]
    else:
        img = _pil_decode(data, flag, to_rgb)
    res = NDArray(np.ascontiguousarray(img))
    if out is not None:
        out[:] = res
        return out
    return res


def _pil_decode(data, flag, to_rgb):
    try:
        from PIL import Image
    except ImportError:
        raise PlaitError("decoding images needs OpenCV (opencv-python-headless) or Pillow; "
                         "install one of them", op="imdecode") from None
    try:
        with Image.open(io.BytesIO(data)) as im:
            img = np.asarray(im.convert("RGB" if flag else "L"))
    except Exception as e:  # noqa: BLE001  (Pillow raises many kinds)
        raise PlaitError("cannot decode the %d-byte buffer as an image (Pillow: %s)"
                         % (len(data), e), arg="buf", op="imdecode") from None
    if img.ndim == 2:
        return img[:, :, None]
    return img if to_rgb else img[:, :, ::-1]


def imread(filename, flag=1, to_rgb=True, out=None):
    """Read and decode an image file (see imdecode)."""
    try:
        with open(filename, "rb") as f:
            data = f.read()
    except OSError as e:
        raise PlaitError("cannot read %s: %s" % (filename, e.strerror), arg="filename",
                         op="imread") from None
    try:
        return imdecode(data, flag, to_rgb, out)
    except PlaitError as e:
        raise PlaitError("%s: %s" % (filename, e.msg), arg="filename", op="imread") from None


def imencode(img, ext=".jpg", quality=95):
    """Encode an HWC RGB uint8 image as bytes (used by recordio.pack_img)."""
    arr = _host(img, "imencode")
    cv2 = _cv2()
    if cv2 is not None:
        bgr = arr[:, :, ::-1] if arr.ndim == 3 and arr.shape[2] == 3 else arr
        params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext.lower() in (".jpg", ".jpeg") else \
            [cv2.IMWRITE_PNG_COMPRESSION, quality] if ext.lower() == ".png" else []
        ok, enc = cv2.imencode(ext, np.ascontiguousarray(bgr), params)
        if not ok:
            raise PlaitError("OpenCV could not encode the image as %s" % ext, op="imencode")
        return enc.tobytes()
    from PIL import Image
    im = Image.fromarray(arr[:, :, 0] if arr.ndim == 3 and arr.shape[2] == 1 else arr)
    buf = io.BytesIO()
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}.get(ext.lower(), ext.strip(".").upper())
    im.save(buf, format=fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buf.getvalue()


def _resize_np(arr, w, h, interp):
    """Nearest (0) or bilinear (1) resizing with OpenCV's pixel-centre convention."""
    ih, iw = arr.shape[:2]
    if interp == 0:
        ys = np.minimum((np.arange(h) * (ih / h)).astype(np.int64), ih - 1)
        xs = np.minimum((np.arange(w) * (iw / w)).astype(np.int64), iw - 1)
        return arr[ys][:, xs]

    def axis(n_out, n_in):
        c = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        c = np.clip(c, 0, n_in - 1)
        lo = np.floor(c).astype(np.int64)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, (c - lo).astype(np.float32)

    y0, y1, fy = axis(h, ih)
    x0, x1, fx = axis(w, iw)
    a = arr.astype(np.float32)
    fx = fx[None, :, None] if a.ndim == 3 else fx[None, :]
    fy = fy[:, None, None] if a.ndim == 3 else fy[:, None]
    top = a[y0][:, x0] * (1 - fx) + a[y0][:, x1] * fx
    bot = a[y1][:, x0] * (1 - fx) + a[y1][:, x1] * fx
    out = top * (1 - fy) + bot * fy
    if arr.dtype == np.uint8:
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return out.astype(arr.dtype)


def imresize(src, w, h, interp=1):
    """Resize an HWC image to width w and height h (interp: 0 nearest, 1 bilinear,
    2 bicubic, 3 area, 4 Lanczos; 2-4 need OpenCV)."""
    arr = _host(src, "imresize")
    w, h = int(w), int(h)
    if w <= 0 or h <= 0:
        raise PlaitError("target size must be positive, got w=%d h=%d" % (w, h), arg="size",
                         op="imresize")
    if interp not in (0, 1, 2, 3, 4):
        raise PlaitError("unknown interpolation %r (0-4)" % (interp,), arg="interp",
                         op="imresize")
    cv2 = _cv2()
    if cv2 is not None:
        out = cv2.resize(arr, (w, h), interpolation=interp)
        if out.ndim == 2 and arr.ndim == 3:
            out = out[:, :, None]
    elif interp in (0, 1):
        out = _resize_np(arr, w, h, interp)
    else:
        raise PlaitError("interpolation %d needs OpenCV (pip install opencv-python-headless); "
                         "without it use 0 (nearest) or 1 (bilinear)" % interp, arg="interp",
                         op="imresize")
    return _like(src, out)


def _interp_method(interp, sizes=()):
    """MXNet's interp codes: 9 picks by direction (cubic up, area down, else bilinear),
    10 picks at random."""
    if interp == 9:
        if sizes:
            oh, ow, nh, nw = sizes
            if nh > oh and nw > ow:
                return 2
            if nh < oh and nw < ow:
                return 3
            return 1
        return 2
    if interp == 10:
        return random.randint(0, 4)
    if interp not in (0, 1, 2, 3, 4):
        raise PlaitError("unknown interpolation %r" % (interp,), arg="interp", op="image")
    return interp


def scale_down(src_size, size):
    """Shrink a (w, h) crop size, keeping its aspect ratio, until it fits (w, h) src_size."""
    w, h = size
    sw, sh = src_size
    if sh < h:
        w, h = float(w * sh) / h, sh
    if sw < w:
        w, h = sw, float(h * sw) / w
    return int(w), int(h)


def resize_short(src, size, interp=2):
    """Resize so the shorter edge is `size`, keeping the aspect ratio."""
    h, w = src.shape[:2]
    if h > w:
        new_h, new_w = size * h // w, size
    else:
        new_h, new_w = size, size * w // h
    return imresize(src, new_w, new_h, interp=_interp_method(interp, (h, w, new_h, new_w)))


def fixed_crop(src, x0, y0, w, h, size=None, interp=2):
    """The (w, h) crop at (x0, y0), resized to `size` (w, h) when given."""
    arr = _host(src, "fixed_crop")
    out = _like(src, arr[y0:y0 + h, x0:x0 + w])
    if size is not None and (w, h) != tuple(size):
        out = imresize(out, *size, interp=_interp_method(interp, (h, w, size[1], size[0])))
    return out


def random_crop(src, size, interp=2):
    """A random crop of `size` (w, h) (shrunk to fit, then resized back); returns
    (image, (x0, y0, w, h))."""
    h, w = src.shape[:2]
    new_w, new_h = scale_down((w, h), size)
    x0 = random.randint(0, w - new_w)
    y0 = random.randint(0, h - new_h)
    return fixed_crop(src, x0, y0, new_w, new_h, size, interp), (x0, y0, new_w, new_h)


def center_crop(src, size, interp=2):
    """The central crop of `size` (w, h) (shrunk to fit, then resized back); returns
    (image, (x0, y0, w, h))."""
    h, w = src.shape[:2]
    new_w, new_h = scale_down((w, h), size)
    x0 = int((w - new_w) / 2)
    y0 = int((h - new_h) / 2)
    return fixed_crop(src, x0, y0, new_w, new_h, size, interp), (x0, y0, new_w, new_h)


def random_size_crop(src, size, area, ratio, interp=2):
    """A crop of random area (fraction in `area`, a float meaning (area, 1)) and aspect
    ratio (log-uniform in `ratio`), resized to `size`; 10 tries, then a centre crop.
    Draws from Python's `random`, as MXNet does."""
    h, w = src.shape[:2]
    src_area = h * w
    if isinstance(area, (int, float)):
        area = (area, 1.0)
    for _ in range(10):
        target_area = random.uniform(area[0], area[1]) * src_area
        log_ratio = (np.log(ratio[0]), np.log(ratio[1]))
        new_ratio = np.exp(random.uniform(*log_ratio))
        new_w = int(round(np.sqrt(target_area * new_ratio)))
        new_h = int(round(np.sqrt(target_area / new_ratio)))
        if new_w <= w and new_h <= h:
            x0 = random.randint(0, w - new_w)
            y0 = random.randint(0, h - new_h)
            return fixed_crop(src, x0, y0, new_w, new_h, size, interp), (x0, y0, new_w, new_h)
    return center_crop(src, size, interp)


def color_normalize(src, mean, std=None):
    """(src - mean) / std, broadcasting over the channel (last) axis."""
    if mean is not None:
        src = src - mean
    if std is not None:
        src = src / std
    return src


def _bilinear_sample(img, xs, ys):
    """img (N, C, H, W) sampled at pixel coordinates xs, ys (N, H', W'); neighbours outside
    the image count as 0 (MXNet's BilinearSampler)."""
    n, c, h, w = img.shape
    x0, y0 = np.floor(xs).astype(np.int64), np.floor(ys).astype(np.int64)
    fx, fy = (xs - x0).astype(np.float32), (ys - y0).astype(np.float32)
    out = np.zeros((n, c) + xs.shape[1:], np.float32)
    b = np.arange(n)[:, None, None]
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            yy, xx = y0 + dy, x0 + dx
            inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            vals = img[b, :, np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]  # (N, H', W', C)
            out += np.moveaxis(vals * (wy * wx * inside)[..., None], -1, 1)
    return out


def imrotate(src, rotation_degrees, zoom_in=False, zoom_out=False):
    """Rotate CHW (or NCHW, one angle per image) float32 images counter-clockwise about
    their centre, sampling bilinearly (zeros outside).  zoom_in scales so no empty corner
    shows; zoom_out so the whole rotated image fits."""
    arr = _host(src, "imrotate")
    if arr.dtype != np.float32:
        raise PlaitError("only float32 images are supported, got %s (use ToTensor first)"
                         % arr.dtype, arg="src", op="imrotate")
    if zoom_in and zoom_out:
        raise PlaitError("zoom_in and zoom_out are exclusive", arg="zoom_in", op="imrotate")
    single = arr.ndim == 3
    if single:
        arr = arr[None]
    elif arr.ndim != 4:
        raise PlaitError("expects CHW or NCHW, got shape %s" % (arr.shape,), arg="src",
                         op="imrotate")
    deg = np.asarray(rotation_degrees.asnumpy() if isinstance(rotation_degrees, NDArray)
                     else rotation_degrees, np.float64).reshape(-1)
    if deg.size == 1:
        deg = np.repeat(deg, len(arr))
    if deg.size != len(arr):
        raise PlaitError("%d angles for %d images" % (deg.size, len(arr)),
                         arg="rotation_degrees", op="imrotate")
    _, _, h, w = arr.shape
    rad = (np.pi * deg / 180).astype(np.float32)[:, None, None]
    hs, ws = (h - 1) / 2.0, (w - 1) / 2.0
    hm = np.arange(h, dtype=np.float32)[:, None] - np.float32(hs)
    wm = np.arange(w, dtype=np.float32)[None, :] - np.float32(ws)
    # the source position of each output pixel, in MXNet's normalised grid [-1, 1]
    gx = (wm * np.cos(rad) - hm * np.sin(rad)) / np.float32(ws)
    gy = (wm * np.sin(rad) + hm * np.cos(rad)) / np.float32(hs)
    if zoom_in or zoom_out:
        rho, ang = np.sqrt(h * h + w * w), np.arctan(h / w)
        a = np.abs(rad)
        max_x = np.maximum(np.abs(rho * np.cos(ang + a)), np.abs(rho * np.cos(ang - a)))
        max_y = np.maximum(np.abs(rho * np.sin(ang + a)), np.abs(rho * np.sin(ang - a)))
        scale = (np.maximum(max_x / w, max_y / h) if zoom_out
                 else np.minimum(w / max_x, h / max_y)).astype(np.float32)
        gx, gy = gx * scale, gy * scale
    out = _bilinear_sample(arr, (gx + 1) * np.float32((w - 1) / 2.0),
                           (gy + 1) * np.float32((h - 1) / 2.0))
    return _like(src, out[0] if single else out)


def random_rotate(src, angle_limits, zoom_in=False, zoom_out=False):
    """imrotate by angles drawn uniformly from angle_limits (one per image of a batch)."""
    n = None if src.ndim == 3 else src.shape[0]
    return imrotate(src, np.random.uniform(*angle_limits, size=n), zoom_in, zoom_out)


from .image_aug import (Augmenter, SequentialAug, RandomOrderAug, ResizeAug,  # noqa: E402,F401
                        ForceResizeAug, RandomCropAug, RandomSizedCropAug, CenterCropAug,
                        BrightnessJitterAug, ContrastJitterAug, SaturationJitterAug,
                        HueJitterAug, ColorJitterAug, LightingAug, ColorNormalizeAug,
                        RandomGrayAug, HorizontalFlipAug, CastAug, CreateAugmenter)
from .image_iter import ImageIter  # noqa: E402,F401
