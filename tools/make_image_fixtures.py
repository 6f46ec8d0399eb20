"""Fixtures for the mx.nd.image ops, BilinearResize2D, AdaptiveAvgPooling2D and
SyncBatchNorm, made with real MXNet 1.9.1:

    /tmp/plait-anchors/mxnet/bin/python tools/make_image_fixtures.py

Writes tests/fixtures/image/ops.npz (inputs `<case>_in*`, outputs `<case>_out*`, gradients
`<case>_grad*`), ops.json (per case: the op, its keyword arguments, the input names) and
symbols.json (MXNet's JSON of a hybridized ToTensor/Normalize/SyncBatchNorm network and of
the namespaced ops, built the same way by tests/gluon/test_image_transforms_hybrid.py).
Random colour ops are recorded with min_factor == max_factor, which makes them
deterministic.
"""
import json
import os

import numpy as np
try:
    import mxnet as mx
except ImportError:  # tests import build_symbols alone, with plait as `mx`
    mx = None

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "image")
R = np.random.RandomState(42)
ARR, CASES = {}, {}


def img(shape, dtype="uint8"):
    if np.dtype(dtype) == np.uint8:
        return R.randint(0, 256, shape).astype(np.uint8)
    return (R.rand(*shape) * 255).astype(dtype)


def case(name, op, inputs, kwargs=None, grad=False, head=None):
    """Run mx.nd.<op> (dotted: image.x / contrib.x) on `inputs`, record outputs and, when
    `grad`, the gradients of sum(out * head) w.r.t. the float inputs."""
    kwargs = dict(kwargs or {})
    fn = mx.nd
    for part in op.split("."):
        fn = getattr(fn, part)
    nds = [mx.nd.array(x, dtype=x.dtype) for x in inputs]
    for i, x in enumerate(inputs):
        ARR["%s_in%d" % (name, i)] = x
    if grad:
        for a in nds:
            a.attach_grad()
        with mx.autograd.record():
            out = fn(*nds, **kwargs)
        outs = out if isinstance(out, (list, tuple)) else [out]
        h = head if head is not None else R.uniform(0.5, 1.5, outs[0].shape)
        ARR["%s_head" % name] = h.astype(outs[0].dtype)
        outs[0].backward(mx.nd.array(h, dtype=outs[0].dtype))
        for i, a in enumerate(nds):
            ARR["%s_grad%d" % (name, i)] = a.grad.asnumpy()
    else:
        out = fn(*nds, **kwargs)
        outs = out if isinstance(out, (list, tuple)) else [out]
    for i, o in enumerate(outs):
        ARR["%s_out%d" % (name, i)] = o.asnumpy()
    CASES[name] = {"op": op, "kwargs": kwargs, "n_in": len(inputs), "n_out": len(outs),
                   "grad": grad}
    return nds


def image_cases():
    hwc, nhwc = img((5, 4, 3)), img((2, 5, 4, 3))
    case("to_tensor_u8", "image.to_tensor", [hwc])
    case("to_tensor_batch", "image.to_tensor", [nhwc])
    case("to_tensor_f32", "image.to_tensor", [img((3, 6, 1), "float32")])
    case("to_tensor_f64", "image.to_tensor", [img((2, 3, 3), "float64")])
    chw = R.rand(3, 4, 5).astype(np.float32)
    m3, s3 = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    case("normalize_chw", "image.normalize", [chw], dict(mean=m3, std=s3), grad=True)
    case("normalize_nchw", "image.normalize", [R.rand(2, 3, 4, 5).astype(np.float32)],
         dict(mean=m3, std=s3), grad=True)
    case("normalize_1ch", "image.normalize", [R.rand(1, 3, 2)], dict(mean=0.5, std=0.2))
    case("normalize_scalar", "image.normalize", [chw], dict(mean=0.4, std=(0.3,)))
    case("crop_hwc", "image.crop", [hwc], dict(x=1, y=2, width=2, height=3), grad=False)
    case("crop_nhwc", "image.crop", [img((2, 5, 4, 3), "float32")],
         dict(x=0, y=1, width=3, height=2), grad=True)
    case("crop_full", "image.crop", [hwc], dict(x=0, y=0, width=4, height=5))
    big = img((9, 13, 3))
    case("resize_pair", "image.resize", [big], dict(size=(5, 7)))
    case("resize_int", "image.resize", [big], dict(size=4))
    case("resize_keep", "image.resize", [big], dict(size=4, keep_ratio=True))
    case("resize_keep_tall", "image.resize", [img((13, 6, 3))], dict(size=4, keep_ratio=True))
    case("resize_up_nearest", "image.resize", [big], dict(size=(20, 11), interp=0))
    case("resize_area", "image.resize", [big], dict(size=(6, 4), interp=3))
    case("resize_batch", "image.resize", [img((2, 9, 13, 3))], dict(size=(5, 6)))
    case("resize_f32", "image.resize", [img((9, 13, 3), "float32")], dict(size=(5, 7)))
    case("resize_1ch", "image.resize", [img((9, 13, 1))], dict(size=(6, 5)))
    for k, x in (("u8", img((5, 6, 3))), ("f32", img((5, 6, 3), "float32")),
                 ("1ch", img((4, 6, 1)))):
        case("flip_lr_" + k, "image.flip_left_right", [x])
        case("flip_tb_" + k, "image.flip_top_bottom", [x])
    f32 = img((5, 6, 3), "float32")
    u8 = img((5, 6, 3))
    for alpha in ((0.1, -0.2, 0.3), (1.5, 0.0, -2.0)):
        tag = "_".join("%g" % a for a in alpha)
        case("lighting_f32_" + tag, "image.adjust_lighting", [f32], dict(alpha=alpha))
        case("lighting_u8_" + tag, "image.adjust_lighting", [u8], dict(alpha=alpha))
    for a in (0.4, 1.3):
        fx = dict(min_factor=a, max_factor=a)
        for name in ("brightness", "contrast"):
            case("%s_f32_%g" % (name, a), "image.random_" + name, [f32], fx)
            case("%s_u8_%g" % (name, a), "image.random_" + name, [u8], fx)
        case("contrast_1ch_%g" % a, "image.random_contrast", [img((4, 5, 1), "float32")], fx)
        case("hue_f32_%g" % a, "image.random_hue", [f32], fx)
        case("hue_u8_%g" % a, "image.random_hue", [u8], fx)


def resize2d_cases():
    x = R.randn(2, 3, 5, 4).astype(np.float32)
    modes = [("size", dict(height=3, width=7)), ("size_big", dict(height=9, width=11)),
             ("size_1x1", dict(height=1, width=1)),
             ("scale", dict(scale_height=2.0, scale_width=0.5)),
             ("scale_frac", dict(scale_height=1.5, scale_width=1.7)),
             ("odd_scale", dict(mode="odd_scale", scale_height=2.0, scale_width=0.5)),
             ("odd_scale2", dict(mode="odd_scale", scale_height=0.5, scale_width=3.0)),
             ("to_even_down", dict(mode="to_even_down")), ("to_even_up", dict(mode="to_even_up")),
             ("to_odd_down", dict(mode="to_odd_down")), ("to_odd_up", dict(mode="to_odd_up")),
             ("noalign", dict(height=3, width=7, align_corners=False)),
             ("noalign_down", dict(height=2, width=3, align_corners=False)),
             ("noalign_1x1", dict(height=1, width=1, align_corners=False))]
    for name, kw in modes:
        case("bilinear_" + name, "contrib.BilinearResize2D", [x], kw, grad=True)
    case("bilinear_f64", "contrib.BilinearResize2D", [x.astype(np.float64)],
         dict(height=7, width=2), grad=True)
    case("bilinear_like", "contrib.BilinearResize2D", [x, np.ones((2, 3, 6, 7), np.float32)],
         dict(mode="like"), grad=True)


def adaptive_cases():
    x = R.randn(2, 3, 5, 7).astype(np.float32)
    for name, size in (("1", 1), ("empty", ()), ("3", 3), ("2x3", (2, 3)), ("up", (7, 9)),
                       ("same", (5, 7)), ("pair1", (2,)), ("4x6", (4, 6))):
        case("adaptive_" + name, "contrib.AdaptiveAvgPooling2D", [x], dict(output_size=size),
             grad=True)
    case("adaptive_f64", "contrib.AdaptiveAvgPooling2D", [x.astype(np.float64)],
         dict(output_size=(3, 2)), grad=True)


def syncbn_cases():
    x = R.randn(4, 3, 2, 5).astype(np.float32)
    g, b = R.uniform(0.5, 1.5, 3).astype(np.float32), R.randn(3).astype(np.float32)
    mm, mv = R.randn(3).astype(np.float32), R.uniform(0.5, 1.5, 3).astype(np.float32)
    for name, kw in (("train", dict(fix_gamma=False, key="a")),
                     ("train_fixg", dict(key="b", eps=1e-4, momentum=0.7)),
                     ("train_omv", dict(fix_gamma=False, output_mean_var=True, key="c"))):
        nds = case("syncbn_" + name, "contrib.SyncBatchNorm", [x, g, b, mm.copy(), mv.copy()],
                   kw, grad=True)
        ARR["syncbn_%s_mm" % name] = nds[3].asnumpy()  # updated by the backward pass
        ARR["syncbn_%s_mv" % name] = nds[4].asnumpy()
    for name, kw in (("infer", dict(fix_gamma=False, key="d")),
                     ("infer_omv", dict(output_mean_var=True, key="e")),
                     ("global", dict(use_global_stats=True, fix_gamma=False, key="f"))):
        case("syncbn_" + name, "contrib.SyncBatchNorm", [x, g, b, mm, mv], kw)


def build_symbols(mx):
    """The graphs whose JSON is compared (the test builds them with plait the same way)."""
    T = mx.gluon.data.vision.transforms
    net = mx.gluon.nn.HybridSequential(prefix="net_")
    with net.name_scope():
        net.add(T.ToTensor(), T.Normalize((0.1, 0.2, 0.3), (0.5, 0.25, 2.0)))
        net.add(mx.gluon.contrib.nn.SyncBatchNorm(in_channels=3, num_devices=1))
    aug = mx.gluon.nn.HybridSequential(prefix="aug_")
    with aug.name_scope():
        aug.add(T.RandomFlipLeftRight(), T.RandomFlipTopBottom(), T.RandomBrightness(0.3),
                T.RandomContrast(0.2), T.RandomSaturation(0.1), T.RandomHue(0.05),
                T.RandomColorJitter(0.1, 0.2, 0.3, 0.05), T.RandomLighting(0.1))
    x, y = mx.sym.var("x"), mx.sym.var("y")
    ops = mx.sym.Group([
        mx.sym.image.resize(x, size=(3, 2)), mx.sym.image.crop(x, 1, 1, 2, 2),
        mx.sym.image.flip_left_right(x), mx.sym.image.random_brightness(x, 0.5, 1.5),
        mx.sym.image.adjust_lighting(x, alpha=(0.1, 0.2, 0.3)),
        mx.sym.contrib.BilinearResize2D(y, height=3, width=4),
        mx.sym.contrib.BilinearResize2D(y, mode="to_even_up", align_corners=False),
        mx.sym.contrib.AdaptiveAvgPooling2D(y, output_size=(2, 3))])
    return {"net": net(mx.sym.var("data")).tojson(), "ops": ops.tojson(),
            "aug": aug(mx.sym.var("data")).tojson()}


def main():
    os.makedirs(OUT, exist_ok=True)
    image_cases()
    resize2d_cases()
    adaptive_cases()
    syncbn_cases()
    np.savez_compressed(os.path.join(OUT, "ops.npz"), **ARR)
    with open(os.path.join(OUT, "ops.json"), "w") as f:
        json.dump(CASES, f, indent=1, sort_keys=True)
    with open(os.path.join(OUT, "symbols.json"), "w") as f:
        json.dump(build_symbols(mx), f, indent=1, sort_keys=True)
    print("wrote %d cases, %d arrays to %s" % (len(CASES), len(ARR), OUT))


if __name__ == "__main__":
    main()
