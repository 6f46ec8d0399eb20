"""The random image operators of MXNet 1.9 (src/operator/image/image_random.cc):
`_image_random_flip_left_right/top_bottom` (probability 1/2), `_image_random_brightness/
contrast/saturation/hue` (a factor drawn uniformly from [min_factor, max_factor]),
`_image_random_color_jitter` and `_image_random_lighting`.

Each call draws once (a batch gets one draw for all its images) from plait's generator
(core/rng.py), so mx.random.seed makes them reproducible; they declare resources=('rng',)
and have no gradient.  The adjustments are image_color's (MXNet's formulas; saturation
blends with the full luma, see there).  color_jitter, as MXNet: the four adjustments in a
random order, each only when its amount is > 0, with factors 1 + U(-amount, amount) for
brightness, contrast and saturation and a hue rotation of U(-hue, hue) turns.
"""
import numpy as np

from ..base import fail
from ..rng import generator
from . import image_color
from .image_ops import host, image_samples, image_shape, need_channels
from .params import Param, non_negative
from .registry import BadSample, OpDef, Sample, register

_DT = ("uint8", "float32", "float64")
_RNG = dict(resources=("rng",), nondiff=True, test_dtypes=_DT)


def _uniform(xp, lo, hi):
    return lo + (hi - lo) * float(generator(xp).random())


def _write(xp, outs, arr):
    outs[0][...] = xp.asarray(arr)


def _check_shape(outs, x):
    assert outs[0].shape == x.shape and outs[0].dtype == x.dtype, (outs[0].shape, x.shape)


# -- flips ----------------------------------------------------------------------------------------
def _flip_op(name, axis, what):
    def forward(xp, a, ins, outs):
        x = ins[0]
        outs[0][...] = xp.flip(x, axis=axis) if generator(xp).random() < 0.5 else x

    def check(a, ins, outs):
        x, y = ins[0], outs[0]
        _check_shape(outs, x)
        assert np.array_equal(y, x) or np.array_equal(y, np.flip(x, axis=axis)), name

    register(OpDef(
        name, infer_shape=lambda a, s: [image_shape(s[0])], forward=forward, check=check,
        samples=image_samples([(5, 4, 3), (2, 3, 5, 1)]),
        bad_samples=lambda: [BadSample([np.ones((5, 4), np.uint8)], match=("HWC", "(5, 4)"))],
        doc="Flip an HWC image (or NHWC batch) %s with probability 1/2." % what, **_RNG))


_flip_op("_image_random_flip_left_right", -2, "left to right")
_flip_op("_image_random_flip_top_bottom", -3, "top to bottom")


# -- one-factor colour adjustments ----------------------------------------------------------------
def _fit_alpha(d, e):
    """The blend factor a with e ~ a * d (least squares), None when d is all 0."""
    den = float((d * d).sum())
    return float((d * e).sum()) / den if den else None


def _factor_check(fn, gray_of):
    """y = fn(x, alpha) for one alpha in [min_factor, max_factor], fitted from the output
    (integer images: on the pixels not clipped, within the truncation's error)."""
    def check(a, ins, outs):
        x = ins[0]
        _check_shape(outs, x)
        xf, yf = x.astype(np.float64), outs[0].astype(np.float64)
        gray = np.broadcast_to(gray_of(xf), xf.shape)
        keep = np.ones(x.shape, bool)
        if x.dtype.kind in "iu":
            info = np.iinfo(x.dtype)
            keep = (outs[0] > info.min) & (outs[0] < info.max)
        alpha = _fit_alpha((xf - gray)[keep], (yf - gray)[keep])
        if alpha is None:
            return
        slack = 0.03 if x.dtype.kind in "iu" else 1e-4
        assert a.min_factor - slack <= alpha <= a.max_factor + slack, (alpha, a)
        atol = 2.0 if x.dtype.kind in "iu" else 1e-3
        np.testing.assert_allclose(yf[keep], fn(x, alpha).astype(np.float64)[keep], atol=atol,
                                   rtol=1e-4)
    return check


def _luma(f):
    return (f @ image_color.LUMA.astype(np.float64))[..., None] if f.shape[-1] == 3 else f


_FACTORS = {
    "brightness": (image_color.adjust_brightness, (), lambda f: np.zeros_like(f),
                   "Scale the values by a factor."),
    "contrast": (image_color.adjust_contrast, (1, 3),
                 lambda f: _luma(f)[..., 0].mean(axis=(-1, -2), keepdims=True)[..., None],
                 "Blend with the image's mean grey level."),
    "saturation": (image_color.adjust_saturation, (1, 3), _luma,
                   "Blend each pixel with its grey level (luma)."),
}


def _factor_shape(channels):
    def rule(a, shapes):
        s = image_shape(shapes[0])
        if channels:
            need_channels(s, channels)
        if a.min_factor > a.max_factor:
            fail("max_factor", "must be >= min_factor, got [%g, %g]", a.min_factor,
                 a.max_factor)
        return [s]
    return rule


def _factor_samples(dtype):
    out = []
    for i, (lo, hi) in enumerate(((0.5, 1.5), (0.2, 0.2), (1.3, 1.3))):
        s = image_samples([(5, 4, 3), (2, 3, 2, 3), (4, 3, 1)][i:i + 1])(dtype)[0]
        s.attrs.update(min_factor=lo, max_factor=hi)
        out.append(s)
    return out


_FACTOR_PARAMS = {"min_factor": Param("float", doc="Minimum factor.", check=non_negative),
                  "max_factor": Param("float", doc="Maximum factor.", check=non_negative)}


def _factor_bad(channels):
    def bad():
        x = np.ones((4, 4, 3), np.uint8)
        out = [BadSample([x], dict(min_factor=1.5, max_factor=0.5), match=("max_factor",
                                                                           "min_factor")),
               BadSample([np.ones((4, 4), np.uint8)], dict(min_factor=1, max_factor=1),
                         match=("HWC",))]
        if channels:
            out.append(BadSample([np.ones((4, 4, 2), np.uint8)], dict(min_factor=1,
                                                                      max_factor=1),
                                 match=("channel", "(4, 4, 2)")))
        return out
    return bad


for _name, (_fn, _ch, _gray, _doc) in _FACTORS.items():
    register(OpDef(
        "_image_random_" + _name, params=_FACTOR_PARAMS, infer_shape=_factor_shape(_ch),
        forward=lambda xp, a, ins, outs, _fn=_fn: _write(xp, outs, _fn(
            host(xp, ins[0]), _uniform(xp, a.min_factor, a.max_factor))),
        check=_factor_check(_fn, _gray), samples=_factor_samples, bad_samples=_factor_bad(_ch),
        doc=_doc + " The factor is drawn uniformly from [min_factor, max_factor]; HWC image "
            "or NHWC batch.", **_RNG))


# -- hue ------------------------------------------------------------------------------------------
def _lightness(f):
    return (f.max(-1) + f.min(-1)) / 2


def _hue_check(a, ins, outs):
    """A hue rotation keeps each pixel's HLS lightness."""
    x = ins[0]
    _check_shape(outs, x)
    tol = 1.0 if x.dtype.kind in "iu" else 1e-3
    np.testing.assert_allclose(_lightness(outs[0].astype(np.float64)),
                               _lightness(x.astype(np.float64)), atol=tol)


register(OpDef(
    "_image_random_hue", params=_FACTOR_PARAMS, infer_shape=_factor_shape((3,)),
    forward=lambda xp, a, ins, outs: _write(xp, outs, image_color.adjust_hue(
        host(xp, ins[0]), _uniform(xp, a.min_factor, a.max_factor))),
    check=_hue_check, samples=lambda dt: _factor_samples(dt)[:2],
    bad_samples=_factor_bad((3,)),
    doc="Rotate the hue (HLS) by a factor drawn uniformly from [min_factor, max_factor], in "
        "turns (MXNet's convention); HWC RGB image or NHWC batch.", **_RNG))


# -- color jitter ---------------------------------------------------------------------------------
def _jitter_forward(xp, a, ins, outs):
    img = host(xp, ins[0])
    g = generator(xp)
    order = [int(i) for i in g.permutation(4)]
    for k in order:
        if k == 0 and a.brightness > 0:
            img = image_color.adjust_brightness(img, 1 + _uniform(xp, -a.brightness,
                                                                   a.brightness))
        elif k == 1 and a.contrast > 0:
            img = image_color.adjust_contrast(img, 1 + _uniform(xp, -a.contrast, a.contrast))
        elif k == 2 and a.saturation > 0:
            img = image_color.adjust_saturation(img, 1 + _uniform(xp, -a.saturation,
                                                                   a.saturation))
        elif k == 3 and a.hue > 0:
            img = image_color.adjust_hue(img, _uniform(xp, -a.hue, a.hue))
    _write(xp, outs, img)


def _jitter_shape(a, shapes):
    s = image_shape(shapes[0])
    need_channels(s, (3,))
    return [s]


def _jitter_check(a, ins, outs):
    x, y = ins[0], outs[0]
    _check_shape(outs, x)
    if a.brightness == a.contrast == a.saturation == a.hue == 0:
        assert np.array_equal(x, y)
    elif a.contrast == a.saturation == a.hue == 0:  # brightness only: a scale in range
        _factor_check(image_color.adjust_brightness, lambda f: np.zeros_like(f))(
            dict_attrs(1 - a.brightness, 1 + a.brightness), ins, outs)


def dict_attrs(lo, hi):
    from .params import Attrs
    return Attrs(min_factor=lo, max_factor=hi)


def _jitter_samples(dtype):
    out = []
    for i, amounts in enumerate(((0.3, 0.3, 0.3, 0.1), (0.4, 0, 0, 0), (0, 0, 0, 0))):
        s = image_samples([(5, 4, 3)])(dtype)[0]
        s.attrs.update(zip(("brightness", "contrast", "saturation", "hue"), amounts))
        out.append(s)
    return out


register(OpDef(
    "_image_random_color_jitter",
    params={n: Param("float", doc="How much to jitter %s." % n, check=non_negative)
            for n in ("brightness", "contrast", "saturation", "hue")},
    infer_shape=_jitter_shape, forward=_jitter_forward, check=_jitter_check,
    samples=_jitter_samples,
    bad_samples=lambda: [BadSample([np.ones((4, 4, 1), np.uint8)], dict(
        brightness=0.1, contrast=0.1, saturation=0.1, hue=0.1), match=("channel",))],
    doc="Brightness, contrast, saturation and hue jitter in a random order (each only when "
        "its amount is > 0); HWC RGB image or NHWC batch.", **_RNG))


# -- lighting -------------------------------------------------------------------------------------
def _lighting_check(a, ins, outs):
    x, y = ins[0], outs[0]
    _check_shape(outs, x)
    if x.dtype.kind != "f":
        return
    shift = (y.astype(np.float64) - x).reshape(-1, 3)
    np.testing.assert_allclose(shift, np.broadcast_to(shift[0], shift.shape), atol=1e-3)
    alpha = np.linalg.solve(image_color.EIGVEC.astype(np.float64), shift[0]) / \
        image_color.EIGVAL.astype(np.float64)
    assert np.all(np.abs(alpha) <= 8 * a.alpha_std + 1e-6), (alpha, a.alpha_std)


def _lighting_forward(xp, a, ins, outs):
    alpha = [float(v) * a.alpha_std for v in generator(xp).standard_normal(3)]
    _write(xp, outs, image_color.adjust_lighting(host(xp, ins[0]), alpha))


register(OpDef(
    "_image_random_lighting",
    params={"alpha_std": Param("float", 0.05, doc="Level of the lighting noise.",
                               check=non_negative)},
    infer_shape=_jitter_shape, forward=_lighting_forward, check=_lighting_check,
    samples=lambda dt: [Sample(image_samples([(5, 4, 3)])(dt)[0].inputs, {"alpha_std": 0.1}),
                        Sample(image_samples([(2, 3, 2, 3)])(dt)[0].inputs, {})],
    bad_samples=lambda: [BadSample([np.ones((4, 4, 1), np.uint8)], match=("channel",))],
    doc="AlexNet-style PCA lighting noise: adjust_lighting with alpha ~ N(0, alpha_std) "
        "for R, G, B; HWC RGB image or NHWC batch.", **_RNG))
