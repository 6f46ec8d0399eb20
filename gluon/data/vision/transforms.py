"""Image transforms (gluon.data.vision.transforms): Blocks that map one HWC image (or an
NHWC batch) to another, as in MXNet 1.9.  They run vectorised NumPy on the host, where
data loading happens, and accept NDArrays (returning NDArrays) or NumPy arrays.

Randomness: crops draw from Python's `random` (as MXNet's image module does, so
`random.seed` reproduces MXNet's crops); flips and colour jitter from NumPy's global
generator.
"""
import numpy as np

from ....core.base import PlaitError, to_dtype
from ....ndarray import NDArray
from ...block import Block
from ...block_containers import Sequential
from .. import image
from . import color as _color


def host(x):
    """The NumPy values of x without a copy (x: NDArray or NumPy array)."""
    if isinstance(x, NDArray):
        x.wait_to_read()
        d = x._data
        return d if isinstance(d, np.ndarray) else d.get()
    if isinstance(x, np.ndarray):
        return x
    raise PlaitError("expected an NDArray image, got %s" % type(x).__name__, arg="x",
                     op="transforms")


def like(x, arr):
    return NDArray(arr) if isinstance(x, NDArray) else arr


class Transform(Block):
    """A transform: a parameter-free Block whose work is `_apply(numpy array) -> array`.
    forward() unwraps and rewraps NDArrays; Compose chains `_apply` directly.
    hybridize() is accepted and changes nothing (transforms run on the host)."""

    batchable = False  # element-wise and deterministic: may run on a stacked batch

    def __init__(self):
        super().__init__(prefix="")

    def __call__(self, x):
        if self._forward_hooks or self._forward_pre_hooks:
            return Block.__call__(self, x)
        return self.forward(x)

    def forward(self, x):
        a = host(x)
        out = self._apply(a)
        return x if out is a else like(x, out)

    def _apply(self, a):
        raise NotImplementedError

    def hybridize(self, active=True, **kwargs):
        pass

    def __repr__(self):
        return type(self).__name__ + "()"


class Compose(Sequential):
    """Chain transforms: Compose([Resize(32), ToTensor()]).  Runs of plait transforms pass
    NumPy arrays to each other (one NDArray wrap at the end)."""

    def __init__(self, transforms):
        super().__init__(prefix="")
        for t in transforms:
            self.add(t)

    def forward(self, x):
        a = None
        for block in self._children.values():
            if (isinstance(block, Transform) and not block._forward_hooks
                    and not block._forward_pre_hooks):
                if a is None:
                    a = host(x)
                a = block._apply(a)
            else:
                if a is not None:
                    x, a = like(x, a), None
                x = block(x)
        return x if a is None else like(x, a)

    def hybridize(self, active=True, **kwargs):
        pass

    @property
    def batchable(self):
        return all(isinstance(b, Transform) and b.batchable and not b._forward_hooks
                   and not b._forward_pre_hooks for b in self._children.values())

    def _apply(self, a):
        for block in self._children.values():
            a = block._apply(a)
        return a


class Cast(Transform):
    """Cast to `dtype` (default float32)."""
    batchable = True

    def __init__(self, dtype="float32"):
        super().__init__()
        self._dtype = to_dtype(dtype)

    def _apply(self, a):
        return a.astype(self._dtype)


class ToTensor(Transform):
    """HWC (or NHWC) values in [0, 255] -> CHW (NCHW) float32 in [0, 1]."""
    batchable = True

    def _apply(self, a):
        if a.ndim == 3:
            t = a.transpose(2, 0, 1)
        elif a.ndim == 4:
            t = a.transpose(0, 3, 1, 2)
        else:
            raise PlaitError("expects an HWC image or NHWC batch, got shape %s" % (a.shape,),
                             arg="x", op="ToTensor")
        out = np.empty(t.shape, np.float32)
        # a division, as MXNet (bit-identical results); uint8 -> float32 is exact
        np.divide(t, np.float32(255.0), out=out, dtype=np.float32, casting="unsafe")
        return out


class Normalize(Transform):
    """(x - mean[c]) / std[c] over the channels of a CHW (or NCHW) tensor; mean and std are
    scalars or one value per channel."""
    batchable = True

    def __init__(self, mean=0.0, std=1.0):
        super().__init__()
        self._mean, self._std = mean, std
        self._cache = {}

    def _stats(self, c, dtype):
        key = (c, dtype)
        if key not in self._cache:
            m = np.asarray(self._mean, dtype=dtype).reshape(-1)
            s = np.asarray(self._std, dtype=dtype).reshape(-1)
            for name, v in (("mean", m), ("std", s)):
                if v.size not in (1, c):
                    raise PlaitError("%s has %d values for %d channels" % (name, v.size, c),
                                     arg=name, op="Normalize")
            self._cache[key] = (np.broadcast_to(m, (c,)).reshape(c, 1, 1),
                                np.broadcast_to(s, (c,)).reshape(c, 1, 1))
        return self._cache[key]

    def _apply(self, a):
        if a.ndim not in (3, 4):
            raise PlaitError("expects a CHW tensor or NCHW batch, got shape %s" % (a.shape,),
                             arg="x", op="Normalize")
        if a.dtype.kind != "f":
            a = a.astype(np.float32)
        m, s = self._stats(a.shape[-3], a.dtype)
        out = np.subtract(a, m)
        np.divide(out, s, out=out)
        return out


def _size_pair(size, op):
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise PlaitError("size must be an int or (width, height), got %r" % (size,), arg="size",
                         op=op)
    return int(size[0]), int(size[1])


class Resize(Transform):
    """Resize to `size` (an int: a square, or with keep_ratio the shorter edge; or
    (width, height)); interpolation as OpenCV (1 bilinear)."""

    def __init__(self, size, keep_ratio=False, interpolation=1):
        super().__init__()
        self._size, self._keep, self._interp = size, keep_ratio, interpolation

    def _target(self, h, w):
        s = self._size
        if self._keep and (isinstance(s, (int, np.integer)) or len(s) == 1):
            s = int(s if isinstance(s, (int, np.integer)) else s[0])
            if h > w:
                return s, int(h * s / w)
            return int(w * s / h), s
        return _size_pair(s, "Resize")

    def _apply(self, a):
        if a.ndim == 4:
            return np.stack([self._apply(img) for img in a])
        if a.ndim != 3:
            raise PlaitError("expects an HWC image or NHWC batch, got shape %s" % (a.shape,),
                             arg="x", op="Resize")
        w, h = self._target(*a.shape[:2])
        return image.imresize(a, w, h, self._interp)


class CenterCrop(Transform):
    """The central crop of `size` (int or (w, h)); smaller images are cropped to the same
    aspect ratio and resized up."""

    def __init__(self, size, interpolation=1):
        super().__init__()
        self._args = (_size_pair(size, "CenterCrop"), interpolation)

    def _apply(self, a):
        return np.ascontiguousarray(image.center_crop(a, *self._args)[0])


class RandomResizedCrop(Transform):
    """A crop of random area fraction (`scale`) and aspect ratio (`ratio`, log-uniform),
    resized to `size` (int or (w, h))."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=1):
        super().__init__()
        self._args = (_size_pair(size, "RandomResizedCrop"), scale, ratio, interpolation)

    def _apply(self, a):
        return np.ascontiguousarray(image.random_size_crop(a, *self._args)[0])


class CropResize(Transform):
    """The (width, height) crop at (x, y), resized to `size` when given."""

    def __init__(self, x, y, width, height, size=None, interpolation=None):
        super().__init__()
        self._box = (x, y, width, height)
        self._size = None if size is None else _size_pair(size, "CropResize")
        self._interp = 1 if interpolation is None else interpolation

    def _apply(self, a):
        x0, y0, w, h = self._box
        out = np.ascontiguousarray(a[..., y0:y0 + h, x0:x0 + w, :])
        if self._size is not None:
            out = Resize(self._size, interpolation=self._interp)._apply(out)
        return out


class _RandomFlip(Transform):
    _axis = -2

    def _apply(self, a):
        if np.random.random() < 0.5:
            return np.ascontiguousarray(np.flip(a, axis=self._axis))
        return a


class RandomFlipLeftRight(_RandomFlip):
    """Mirror the image horizontally with probability 1/2."""
    _axis = -2


class RandomFlipTopBottom(_RandomFlip):
    """Flip the image vertically with probability 1/2."""
    _axis = -3


class _RandomFactor(Transform):
    _fn = None

    def __init__(self, amount):
        super().__init__()
        self._range = (max(0.0, 1.0 - amount), 1.0 + amount)

    def _apply(self, a):
        return type(self)._fn(a, np.random.uniform(*self._range))


class RandomBrightness(_RandomFactor):
    """Scale the values by a factor drawn from [max(0, 1-brightness), 1+brightness]."""
    _fn = staticmethod(_color.adjust_brightness)


class RandomContrast(_RandomFactor):
    """Blend with the image's mean grey level, factor from [1-contrast, 1+contrast]."""
    _fn = staticmethod(_color.adjust_contrast)


class RandomSaturation(_RandomFactor):
    """Blend with each pixel's grey level, factor from [1-saturation, 1+saturation]."""
    _fn = staticmethod(_color.adjust_saturation)


class RandomHue(_RandomFactor):
    """Rotate the hue by alpha turns, alpha from [1-hue, 1+hue] (MXNet's convention)."""
    _fn = staticmethod(_color.adjust_hue)


class RandomColorJitter(Transform):
    """Brightness, contrast, saturation and hue jitter, applied in a random order."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self._parts = [cls(v) for cls, v in ((RandomBrightness, brightness),
                                             (RandomContrast, contrast),
                                             (RandomSaturation, saturation),
                                             (RandomHue, hue)) if v > 0]

    def _apply(self, a):
        for i in np.random.permutation(len(self._parts)):
            a = self._parts[i]._apply(a)
        return a


class RandomLighting(Transform):
    """AlexNet's PCA lighting noise: add eigvec @ (alpha * eigval), alpha ~ N(0, alpha)."""

    def __init__(self, alpha):
        super().__init__()
        self._alpha = alpha

    def _apply(self, a):
        return _color.adjust_lighting(a, np.random.normal(0, self._alpha, size=3))


class Rotate(Transform):
    """Rotate a CHW (or NCHW) float32 tensor by `rotation_degrees` counter-clockwise
    (bilinear, zeros outside; zoom_in/zoom_out as mx.image.imrotate)."""

    def __init__(self, rotation_degrees, zoom_in=False, zoom_out=False):
        super().__init__()
        self._args = (rotation_degrees, zoom_in, zoom_out)

    def _apply(self, a):
        return image.imrotate(a, *self._args)


class RandomRotation(Transform):
    """Rotate by an angle drawn uniformly from angle_limits (degrees), with probability
    rotate_with_proba; float32 CHW/NCHW input (put it after ToTensor)."""

    def __init__(self, angle_limits, zoom_in=False, zoom_out=False, rotate_with_proba=1.0):
        super().__init__()
        lower, upper = angle_limits
        if lower >= upper:
            raise PlaitError("angle_limits must be (lower, upper) with lower < upper, got %r"
                             % (angle_limits,), arg="angle_limits", op="RandomRotation")
        if not 0 <= rotate_with_proba <= 1:
            raise PlaitError("rotate_with_proba must be in [0, 1], got %r" % rotate_with_proba,
                             arg="rotate_with_proba", op="RandomRotation")
        self._args, self._proba = (angle_limits, zoom_in, zoom_out), rotate_with_proba

    def _apply(self, a):
        if np.random.random() > self._proba:
            return a
        return image.random_rotate(a, *self._args)


class RandomApply(Sequential):
    """Apply `transforms` with probability p."""

    def __init__(self, transforms, p=0.5):
        super().__init__(prefix="")
        self.add(transforms)
        self.p = p

    def forward(self, x):
        if self.p < np.random.random():
            return x
        return super().forward(x)
