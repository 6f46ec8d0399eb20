"""mx.image augmenters (Augmenter, ResizeAug, RandomCropAug, ..., CreateAugmenter): callables
on HWC images, with MXNet 1.9's random draws (Python's `random`, and NumPy's for
LightingAug), so a seeded run augments exactly as MXNet does.  Used by mx.image.ImageIter."""
import json
import random

import numpy as np

from ...core.base import PlaitError
from ...ndarray import NDArray
from . import image as _img


def _np(src):
    if isinstance(src, NDArray):
        src.wait_to_read()
        d = src._data
        return d if isinstance(d, np.ndarray) else d.get()
    return np.asarray(src)


def _out(src, arr):
    return NDArray(np.ascontiguousarray(arr)) if isinstance(src, NDArray) else arr


class Augmenter:
    """Base class: subclasses define __call__(src) -> augmented src; dumps() describes."""

    def __init__(self, **kwargs):
        self._kwargs = {k: (v.asnumpy() if isinstance(v, NDArray) else v)
                        for k, v in kwargs.items()}
        self._kwargs = {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                        for k, v in self._kwargs.items()}

    def dumps(self):
        """[name, parameters] as a JSON string."""
        return json.dumps([type(self).__name__.lower(), self._kwargs])

    def __call__(self, src):
        raise NotImplementedError


class SequentialAug(Augmenter):
    """Apply `ts` in order."""

    def __init__(self, ts):
        super().__init__()
        self.ts = ts

    def dumps(self):
        return [type(self).__name__.lower(), [t.dumps() for t in self.ts]]

    def __call__(self, src):
        for t in self.ts:
            src = t(src)
        return src


class RandomOrderAug(SequentialAug):
    """Apply `ts` in a random order (random.shuffle)."""

    def __call__(self, src):
        random.shuffle(self.ts)
        return super().__call__(src)


class ResizeAug(Augmenter):
    """Resize the shorter edge to `size`."""

    def __init__(self, size, interp=2):
        super().__init__(size=size, interp=interp)
        self.size, self.interp = size, interp

    def __call__(self, src):
        return _img.resize_short(src, self.size, self.interp)


class ForceResizeAug(Augmenter):
    """Resize to `size` (w, h), ignoring the aspect ratio."""

    def __init__(self, size, interp=2):
        super().__init__(size=size, interp=interp)
        self.size, self.interp = size, interp

    def __call__(self, src):
        sizes = (src.shape[0], src.shape[1], self.size[1], self.size[0])
        return _img.imresize(src, *self.size, interp=_img._interp_method(self.interp, sizes))


class RandomCropAug(Augmenter):
    """mx.image.random_crop to `size` (w, h)."""

    def __init__(self, size, interp=2):
        super().__init__(size=size, interp=interp)
        self.size, self.interp = size, interp

    def __call__(self, src):
        return _img.random_crop(src, self.size, self.interp)[0]


class RandomSizedCropAug(Augmenter):
    """mx.image.random_size_crop to `size` (w, h) with `area` and aspect `ratio` ranges."""

    def __init__(self, size, area, ratio, interp=2):
        super().__init__(size=size, area=area, ratio=ratio, interp=interp)
        self.size, self.area, self.ratio, self.interp = size, area, ratio, interp

    def __call__(self, src):
        return _img.random_size_crop(src, self.size, self.area, self.ratio, self.interp)[0]


class CenterCropAug(Augmenter):
    """mx.image.center_crop to `size` (w, h)."""

    def __init__(self, size, interp=2):
        super().__init__(size=size, interp=interp)
        self.size, self.interp = size, interp

    def __call__(self, src):
        return _img.center_crop(src, self.size, self.interp)[0]


class BrightnessJitterAug(Augmenter):
    """Scale by 1 + uniform(-brightness, brightness)."""

    def __init__(self, brightness):
        super().__init__(brightness=brightness)
        self.brightness = brightness

    def __call__(self, src):
        alpha = 1.0 + random.uniform(-self.brightness, self.brightness)
        return _out(src, _np(src) * np.float32(alpha))


_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


class ContrastJitterAug(Augmenter):
    """Blend with the image's mean luma, factor 1 + uniform(-contrast, contrast)."""

    def __init__(self, contrast):
        super().__init__(contrast=contrast)
        self.contrast = contrast

    def __call__(self, src):
        alpha = 1.0 + random.uniform(-self.contrast, self.contrast)
        a = _np(src)
        gray = np.float32(3.0 * (1.0 - alpha) / a.size) * (a * _LUMA).sum(dtype=np.float32)
        return _out(src, a * np.float32(alpha) + gray)


class SaturationJitterAug(Augmenter):
    """Blend with each pixel's luma, factor 1 + uniform(-saturation, saturation)."""

    def __init__(self, saturation):
        super().__init__(saturation=saturation)
        self.saturation = saturation

    def __call__(self, src):
        alpha = 1.0 + random.uniform(-self.saturation, self.saturation)
        a = _np(src)
        gray = (a * _LUMA).sum(axis=2, keepdims=True) * np.float32(1.0 - alpha)
        return _out(src, a * np.float32(alpha) + gray)


class HueJitterAug(Augmenter):
    """Rotate the hue by uniform(-hue, hue) half-turns in YIQ space (a linear map)."""
    _TYIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.321],
                      [0.211, -0.523, 0.311]])
    _ITYIQ = np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.107, 1.705]])

    def __init__(self, hue):
        super().__init__(hue=hue)
        self.hue = hue

    def __call__(self, src):
        alpha = random.uniform(-self.hue, self.hue)
        u, w = np.cos(alpha * np.pi), np.sin(alpha * np.pi)
        bt = np.array([[1.0, 0.0, 0.0], [0.0, u, -w], [0.0, w, u]])
        t = (self._ITYIQ @ bt @ self._TYIQ).T.astype(np.float32)
        return _out(src, _np(src) @ t)


class ColorJitterAug(RandomOrderAug):
    """Brightness, contrast and saturation jitter in random order."""

    def __init__(self, brightness, contrast, saturation):
        ts = [cls(v) for cls, v in ((BrightnessJitterAug, brightness),
                                    (ContrastJitterAug, contrast),
                                    (SaturationJitterAug, saturation)) if v > 0]
        super().__init__(ts)


class LightingAug(Augmenter):
    """Add eigvec @ (alpha * eigval), alpha ~ N(0, alphastd) (NumPy's generator)."""

    def __init__(self, alphastd, eigval, eigvec):
        super().__init__(alphastd=alphastd, eigval=eigval, eigvec=eigvec)
        self.alphastd, self.eigval, self.eigvec = alphastd, eigval, eigvec

    def __call__(self, src):
        alpha = np.random.normal(0, self.alphastd, size=(3,))
        rgb = np.dot(np.asarray(self.eigvec) * alpha, np.asarray(self.eigval))
        return _out(src, _np(src) + rgb.astype(np.float32))


class ColorNormalizeAug(Augmenter):
    """(src - mean) / std."""

    def __init__(self, mean, std):
        super().__init__(mean=mean, std=std)
        self.mean = None if mean is None else np.asarray(_np(mean), np.float32)
        self.std = None if std is None else np.asarray(_np(std), np.float32)

    def __call__(self, src):
        return _out(src, _img.color_normalize(_np(src), self.mean, self.std))


class RandomGrayAug(Augmenter):
    """With probability p, replace RGB by a grey level (0.21 R + 0.72 G + 0.07 B)."""
    _MAT = np.array([[0.21, 0.21, 0.21], [0.72, 0.72, 0.72], [0.07, 0.07, 0.07]], np.float32)

    def __init__(self, p):
        super().__init__(p=p)
        self.p = p

    def __call__(self, src):
        if random.random() < self.p:
            return _out(src, _np(src) @ self._MAT)
        return src


class HorizontalFlipAug(Augmenter):
    """Mirror left-right with probability p."""

    def __init__(self, p):
        super().__init__(p=p)
        self.p = p

    def __call__(self, src):
        if random.random() < self.p:
            return _out(src, _np(src)[:, ::-1])
        return src


class CastAug(Augmenter):
    """Cast to `typ` (float32)."""

    def __init__(self, typ="float32"):
        super().__init__(type=typ)
        self.typ = typ

    def __call__(self, src):
        return _out(src, _np(src).astype(self.typ))


def CreateAugmenter(data_shape, resize=0, rand_crop=False, rand_resize=False,  # noqa: N802
                    rand_mirror=False, mean=None, std=None, brightness=0, contrast=0,
                    saturation=0, hue=0, pca_noise=0, rand_gray=0, inter_method=2):
    """MXNet's standard augmenter list for data_shape (c, h, w): resize, crop (random
    sized, random or centre), mirror, cast, colour jitter, hue, PCA lighting, grey,
    normalisation (mean/std True = ImageNet's)."""
    auglist = []
    if resize > 0:
        auglist.append(ResizeAug(resize, inter_method))
    crop_size = (data_shape[2], data_shape[1])
    if rand_resize:
        if not rand_crop:
            raise PlaitError("rand_resize needs rand_crop=True", arg="rand_resize",
                             op="CreateAugmenter")
        auglist.append(RandomSizedCropAug(crop_size, 0.08, (3.0 / 4.0, 4.0 / 3.0),
                                          inter_method))
    elif rand_crop:
        auglist.append(RandomCropAug(crop_size, inter_method))
    else:
        auglist.append(CenterCropAug(crop_size, inter_method))
    if rand_mirror:
        auglist.append(HorizontalFlipAug(0.5))
    auglist.append(CastAug())
    if brightness or contrast or saturation:
        auglist.append(ColorJitterAug(brightness, contrast, saturation))
    if hue:
        auglist.append(HueJitterAug(hue))
    if pca_noise > 0:
        eigval = np.array([55.46, 4.794, 1.148])
        eigvec = np.array([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140],
                           [-0.5836, -0.6948, 0.4203]])
        auglist.append(LightingAug(pca_noise, eigval, eigvec))
    if rand_gray > 0:
        auglist.append(RandomGrayAug(rand_gray))
    if mean is True:
        mean = np.array([123.68, 116.28, 103.53])
    if std is True:
        std = np.array([58.395, 57.12, 57.375])
    for name, v in (("mean", mean), ("std", std)):
        if v is not None and np.asarray(_np(v)).shape[0] not in (1, 3):
            raise PlaitError("%s needs 1 or 3 values, got %s" % (name, np.shape(_np(v))),
                             arg=name, op="CreateAugmenter")
    if mean is not None or std is not None:
        auglist.append(ColorNormalizeAug(mean, std))
    return auglist
