"""Image transforms (gluon.data.vision.transforms): Blocks that map one HWC image (or an
NHWC batch) to another, as in MXNet 1.9, accepting NDArrays (returning NDArrays) or NumPy
arrays.  Cast, ToTensor, Normalize, Resize, CropResize, the random flips and the colour and
lighting jitters are HybridBlocks over the image ops (transforms_ops.py: F.image.* in
hybrid_forward, so they hybridize; imperatively the random ones draw from NumPy, see
HybridRandomTransform); the crops and rotations run vectorised NumPy on the host.

Randomness: crops draw from Python's `random` (as MXNet's image module does, so
`random.seed` reproduces MXNet's crops); flips and colour jitter from NumPy's global
generator, or from plait's (mx.random.seed) when hybridized.
"""
import numpy as np

from ....core.base import PlaitError
from ....ndarray import NDArray
from ...block import Block
from ...block_containers import Sequential
from .. import image
from . import color as _color
from .transforms_ops import (HybridTransform, HybridRandomTransform,  # noqa: F401
                             HybridCompose, Cast, ToTensor, Normalize, Resize, CropResize,
                             size_pair as _size_pair)


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


def _host_chain(block, numpy_input=False):
    """Whether Compose may run `block` as `_apply` on NumPy arrays: no hooks, and a hybrid
    transform only while it is not hybridized or when the data came in as NumPy."""
    return (isinstance(block, (Transform, HybridTransform)) and not block._forward_hooks
            and not block._forward_pre_hooks
            and (numpy_input or not getattr(block, "_active", False)))


class Compose(Sequential):
    """Chain transforms: Compose([Resize(32), ToTensor()]).  Runs of plait transforms pass
    NumPy arrays to each other (one NDArray wrap at the end); hybridize() hybridizes the
    hybrid transforms, which then run as cached graphs."""

    def __init__(self, transforms):
        super().__init__(prefix="")
        for t in transforms:
            self.add(t)

    def forward(self, x):
        a = None
        numpy_input = isinstance(x, np.ndarray)
        for block in self._children.values():
            if _host_chain(block, numpy_input):
                if a is None:
                    a = host(x)
                a = block._apply(a)
            else:
                if a is not None:
                    x, a = like(x, a), None
                x = block(x)
        return x if a is None else like(x, a)

    def hybridize(self, active=True, **kwargs):
        for block in self._children.values():
            if isinstance(block, HybridTransform):
                block.hybridize(active, **kwargs)

    @property
    def batchable(self):
        return all(_host_chain(b) and b.batchable for b in self._children.values())

    def _apply(self, a):
        for block in self._children.values():
            a = block._apply(a)
        return a


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


class _RandomFlip(HybridRandomTransform):
    _axis = -2

    def _apply(self, a):
        if np.random.random() < 0.5:
            return np.ascontiguousarray(np.flip(a, axis=self._axis))
        return a


class RandomFlipLeftRight(_RandomFlip):
    """Mirror the image horizontally with probability 1/2."""
    _axis = -2
    _op = "_image_random_flip_left_right"


class RandomFlipTopBottom(_RandomFlip):
    """Flip the image vertically with probability 1/2."""
    _axis = -3
    _op = "_image_random_flip_top_bottom"


class _RandomFactor(HybridRandomTransform):
    _fn = None

    def __init__(self, amount):
        lo, hi = max(0.0, 1.0 - amount), 1.0 + amount
        super().__init__(min_factor=lo, max_factor=hi)
        self._range = (lo, hi)

    def _apply(self, a):
        return type(self)._fn(a, np.random.uniform(*self._range))


class RandomBrightness(_RandomFactor):
    """Scale the values by a factor drawn from [max(0, 1-brightness), 1+brightness]."""
    _fn = staticmethod(_color.adjust_brightness)
    _op = "_image_random_brightness"


class RandomContrast(_RandomFactor):
    """Blend with the image's mean grey level, factor from [1-contrast, 1+contrast]."""
    _fn = staticmethod(_color.adjust_contrast)
    _op = "_image_random_contrast"


class RandomSaturation(_RandomFactor):
    """Blend with each pixel's grey level, factor from [1-saturation, 1+saturation]."""
    _fn = staticmethod(_color.adjust_saturation)
    _op = "_image_random_saturation"


class RandomHue(_RandomFactor):
    """Rotate the hue by alpha turns, alpha from [1-hue, 1+hue] (MXNet's convention)."""
    _fn = staticmethod(_color.adjust_hue)
    _op = "_image_random_hue"


class RandomColorJitter(HybridRandomTransform):
    """Brightness, contrast, saturation and hue jitter, applied in a random order."""
    _op = "_image_random_color_jitter"

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__(brightness=brightness, contrast=contrast, saturation=saturation,
                         hue=hue)
        # (adjustment, factor range) of each jitter asked for (plain data, not Blocks)
        self._parts = [(cls._fn, (max(0.0, 1.0 - v), 1.0 + v))
                       for cls, v in ((RandomBrightness, brightness), (RandomContrast, contrast),
                                      (RandomSaturation, saturation), (RandomHue, hue)) if v > 0]

    def _apply(self, a):
        for i in np.random.permutation(len(self._parts)):
            fn, rng = self._parts[i]
            a = fn(a, np.random.uniform(*rng))
        return a


class RandomLighting(HybridRandomTransform):
    """AlexNet's PCA lighting noise: add eigvec @ (alpha * eigval), alpha ~ N(0, alpha)."""
    _op = "_image_random_lighting"

    def __init__(self, alpha):
        super().__init__(alpha_std=alpha)
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
