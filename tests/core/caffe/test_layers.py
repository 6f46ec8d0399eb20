"""Hand-written prototxts for each Caffe layer option, converted with seeded random weights and
compared with OpenCV's dnn, or with a NumPy formula of Caffe's arithmetic where OpenCV does not
implement the option (round_mode FLOOR, LRN k != 1, InnerProduct transpose, Bias, Threshold,
Clip, Embed, ArgMax)."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import caffe_util as cu  # noqa: E402

from plait.core.caffe import convert  # noqa: E402
from plait.core.caffe.netfile import blob_array, model_blobs, read_caffemodel  # noqa: E402


def net(body, shape=(2, 4, 5, 5)):
    dims = " ".join("dim: %d" % s for s in shape)
    return 'name: "t"\ninput: "data"\ninput_shape { %s }\n%s\n' % (dims, body)


def layer(name, type_, bottoms=("data",), tops=None, params=""):
    tops = tops or (name,)
    return 'layer { name: "%s" type: "%s" %s %s %s }' % (
        name, type_, " ".join('bottom: "%s"' % b for b in bottoms),
        " ".join('top: "%s"' % t for t in tops), params)


POOL = "pooling_param { %s }"
CASES = {
    # Caffe: 5 + 2 - 2 = 5 -> ceil(5/3) + 1 = 3, but the last window would start in the
    # padding, so 2: the clipping plait's 'full' pooling lacks
    "pool_max_pad_ceil_clip": net(layer("p", "Pooling", params=POOL % "pool: MAX kernel_size: 2 "
                                                                      "stride: 3 pad: 1")),
    "pool_ave_pad_ceil_clip": net(layer("p", "Pooling", params=POOL % "pool: AVE kernel_size: 2 "
                                                                      "stride: 3 pad: 1")),
    "pool_ave_pad": net(layer("p", "Pooling", params=POOL % "pool: AVE kernel_size: 3 stride: 2 "
                                                            "pad: 1"), (1, 2, 8, 7)),
    "pool_hw": net(layer("p", "Pooling", params=POOL % "pool: AVE kernel_h: 3 kernel_w: 2 "
                                                       "stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0"),
                   (1, 2, 8, 7)),
    "pool_global": net(layer("p", "Pooling", params=POOL % "pool: AVE global_pooling: true")),
    "conv_group_dilated": net(layer("c", "Convolution", params=(
        "convolution_param { num_output: 6 group: 2 dilation: 2 kernel_h: 3 kernel_w: 2 "
        "pad_h: 1 pad_w: 0 stride_h: 2 stride_w: 1 }")), (1, 4, 9, 8)),
    "conv_repeated_values_no_bias": net(layer("c", "Convolution", params=(
        "convolution_param { num_output: 3 bias_term: false kernel_size: 3 kernel_size: 1 "
        "pad: 1 pad: 0 stride: 1 stride: 2 }")), (1, 4, 9, 8)),
    "conv_depthwise": net(layer("c", "Convolution", params=(
        "convolution_param { num_output: 4 group: 4 kernel_size: 3 pad: 1 }"))),
    "eltwise_prod": net(layer("a", "Sigmoid") + layer("b", "TanH") + layer(
        "e", "Eltwise", ("data", "a", "b"), params="eltwise_param { operation: PROD }")),
    "eltwise_max": net(layer("a", "Sigmoid") + layer(
        "e", "Eltwise", ("data", "a"), params="eltwise_param { operation: MAX }")),
    "eltwise_sum_coeff": net(layer("a", "Sigmoid") + layer("b", "TanH") + layer(
        "e", "Eltwise", ("data", "a", "b"),
        params="eltwise_param { operation: SUM coeff: 0.5 coeff: -1 coeff: 2 }")),
    "lrn_within_channel": net(layer("l", "LRN", params=(
        "lrn_param { norm_region: WITHIN_CHANNEL local_size: 3 alpha: 0.5 beta: 0.75 }"))),
    "lrn_across_channels": net(layer("l", "LRN", params=(
        "lrn_param { local_size: 3 alpha: 0.5 beta: 0.6 }"))),
    "deconv_crop": net(layer("d", "Deconvolution", params=(
        "convolution_param { num_output: 4 group: 2 kernel_size: 4 stride: 2 pad: 1 }"))
        + layer("cr", "Crop", ("d", "data"), params="crop_param { axis: 2 offset: 1 offset: 2 }")),
    "batchnorm_scale_folded_inplace": net(
        layer("bn", "BatchNorm", tops=("data",)) + layer(
            "sc", "Scale", tops=("data",), params="scale_param { bias_term: true }")
        + layer("r", "ReLU")),
    "batchnorm_alone_scale_two_axes": net(
        layer("bn", "BatchNorm", tops=("bn",), params="batch_norm_param { eps: 0.01 }")
        + layer("sc", "Scale", params="scale_param { axis: 1 num_axes: 2 bias_term: true }")
        + layer("e", "Eltwise", ("bn", "sc"))),
    "scale_from_second_bottom": net(layer("pool", "Pooling", params=POOL % "pool: AVE "
                                          "global_pooling: true") + layer(
        "f", "Flatten", ("pool",)) + layer("sc", "Scale", ("data", "f"),
                                           params="scale_param { axis: 0 }"), (2, 4, 5, 5)),
    "innerproduct_axis2": net(layer("ip", "InnerProduct", params=(
        "inner_product_param { num_output: 3 axis: 2 }"))),
    "slice_split_concat": net(
        layer("s", "Slice", tops=("s1", "s2", "s3"),
              params="slice_param { slice_point: 1 slice_point: 3 }")
        + layer("c", "Concat", ("s3", "s1")) + layer("sp", "Split", ("s2",), ("x1", "x2"))
        + layer("c2", "Concat", ("x1", "c", "x2"), params="concat_param { axis: 1 }")),
    "reshape_softmax_flatten": net(
        layer("r", "Reshape", params="reshape_param { shape { dim: 0 dim: -1 dim: 5 } }")
        + layer("sm", "Softmax", ("r",), params="softmax_param { axis: 2 }")
        + layer("f", "Flatten", ("sm",))),
    "reshape_axis_num_axes_flatten_axis": net(
        layer("r", "Reshape", params="reshape_param { axis: 1 num_axes: 2 shape { dim: -1 } }")
        + layer("f", "Flatten", ("data",), params="flatten_param { axis: 2 }")),
    "softmax_axis3": net(layer("sm", "Softmax", params="softmax_param { axis: 3 }")),
    "permute": net(layer("pm", "Permute", params=(
        "permute_param { order: 0 order: 2 order: 3 order: 1 }"))),
    "normalize_per_position": net(layer("n", "Normalize", params=(
        "norm_param { across_spatial: false channel_shared: false eps: 0.001 }"))),
    "normalize_across_spatial": net(layer("n", "Normalize", params=(
        "norm_param { across_spatial: true channel_shared: true }"))),
    "dropout_inplace_relu": net(layer("c", "Convolution", params=(
        "convolution_param { num_output: 3 kernel_size: 1 }")) + layer(
        "r", "ReLU", ("c",), ("c",)) + layer("dr", "Dropout", ("c",), ("c",))),
}
ACTS = [("ReLU", "relu_param { negative_slope: 0.1 }"), ("PReLU", ""),
        ("ELU", "elu_param { alpha: 0.7 }"), ("Sigmoid", ""), ("TanH", ""), ("AbsVal", ""),
        ("BNLL", ""), ("Power", "power_param { power: 2 scale: 0.5 shift: 3 }"),
        ("Exp", "exp_param { base: 2 scale: 0.5 shift: 0.1 }")]
CASES["activations"] = net("".join(layer(t.lower(), t, params=p) for t, p in ACTS))
OUTPUTS = {"activations": [t.lower() for t, _ in ACTS],
           "reshape_axis_num_axes_flatten_axis": ["r", "f"]}


def _feed_shape(text):
    import re
    return tuple(int(d) for d in re.findall(r"dim: (\d+)", text.split("layer")[0]))


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer_matches_opencv(tmp_path, case):
    text = CASES[case]
    cu.check_against_cv2(tmp_path, text, {"data": _feed_shape(text)}, OUTPUTS.get(case))


def test_pool_clipping_changes_the_shape(tmp_path):
    res, (out,) = cu.check_against_cv2(tmp_path, CASES["pool_max_pad_ceil_clip"],
                                       {"data": (2, 4, 5, 5)})
    assert out.shape == (2, 4, 2, 2) and res.outputs == [("p", (2, 4, 2, 2))]


# -- NumPy references for options OpenCV lacks ---------------------------------------------
def _caffe_pool(x, k, s, p, ceil, kind):
    """Caffe's pooling loop (pooling_layer.cpp semantics), written out for small inputs."""
    n, c, h, w = x.shape

    def size(i, kk, ss, pp):
        span = i + 2 * pp - kk
        o = (-(-span // ss) if ceil else span // ss) + 1
        return o - 1 if pp and (o - 1) * ss >= i + pp else o
    oh, ow = size(h, k[0], s[0], p[0]), size(w, k[1], s[1], p[1])
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * s[0] - p[0], j * s[1] - p[1]
            he, we = min(hs + k[0], h + p[0]), min(ws + k[1], w + p[1])
            area = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            win = x[:, :, hs:he, ws:we]
            out[:, :, i, j] = win.max((2, 3)) if kind == "MAX" else win.sum((2, 3)) / area
    return out


def _convert_random(tmp_path, text, seed=0):
    proto = cu.write(tmp_path, text)
    model = cu.make_model(tmp_path, proto, seed)
    res = convert(proto, model)
    blobs = {k: [blob_array(b, k) for b in v]
             for k, v in model_blobs(read_caffemodel(model), model).items()}
    return res, blobs


@pytest.mark.parametrize("kind", ["MAX", "AVE"])
@pytest.mark.parametrize("geom,ceil", [((3, 2, 1), False), ((3, 2, 1), True), ((2, 3, 1), True),
                                       ((3, 3, 2), True), ((4, 2, 0), True)])
def test_pooling_matches_caffe_formula(tmp_path, kind, geom, ceil):
    k, s, p = geom
    mode = "" if ceil else "round_mode: FLOOR"
    text = net(layer("p", "Pooling", params=POOL % ("pool: %s kernel_size: %d stride: %d pad: %d %s"
                                                    % (kind, k, s, p, mode))), (1, 3, 7, 8))
    res, _ = _convert_random(tmp_path, text)
    x = np.random.default_rng(3).normal(size=(1, 3, 7, 8)).astype(np.float32)
    got, = cu.run_plait(res, {"data": x})
    cu.assert_close(got, _caffe_pool(x.astype(np.float64), (k, k), (s, s), (p, p), ceil, kind))


def test_lrn_across_with_k(tmp_path):
    """OpenCV ignores k; Caffe: x / (k + alpha/n * sum over n channels of x^2)^beta."""
    text = net(layer("l", "LRN", params="lrn_param { local_size: 3 alpha: 0.5 beta: 0.6 k: 2 }"))
    res, _ = _convert_random(tmp_path, text)
    x = np.random.default_rng(3).normal(size=(2, 4, 5, 5))
    got, = cu.run_plait(res, {"data": x.astype(np.float32)})
    sq = np.pad(x ** 2, ((0, 0), (1, 1), (0, 0), (0, 0)))
    cu.assert_close(got, x / (2 + 0.5 / 3 * (sq[:, :4] + sq[:, 1:5] + sq[:, 2:6])) ** 0.6)


@pytest.mark.parametrize("axis", [1, 2])
def test_innerproduct_transpose(tmp_path, axis):
    text = net(layer("ip", "InnerProduct", params=(
        "inner_product_param { num_output: 3 axis: %d transpose: true }" % axis)))
    res, blobs = _convert_random(tmp_path, text)
    w, b = blobs["ip"]
    x = np.random.default_rng(3).normal(size=(2, 4, 5, 5))
    got, = cu.run_plait(res, {"data": x.astype(np.float32)})
    lead = x.shape[:axis]
    cu.assert_close(got, x.reshape(lead + (-1,)) @ w + b)  # Caffe stores (K, N) when transposed


def test_bias_threshold_clip(tmp_path):
    text = net(layer("bi", "Bias", params="bias_param { axis: 1 num_axes: 1 }")
               + layer("th", "Threshold", params="threshold_param { threshold: 0.2 }")
               + layer("cl", "Clip", params="clip_param { min: -0.3 max: 0.5 }"))
    res, blobs = _convert_random(tmp_path, text)
    x = np.random.default_rng(3).normal(size=(2, 4, 5, 5))
    bi, th, cl = cu.run_plait(res, {"data": x.astype(np.float32)}, ["bi", "th", "cl"])
    cu.assert_close(bi, x + blobs["bi"][0].reshape(1, 4, 1, 1))
    cu.assert_close(th, (x > 0.2).astype(float))
    cu.assert_close(cl, np.clip(x, -0.3, 0.5))


def test_log_exp_power(tmp_path):
    """OpenCV's Log returns NaN for a base != e, so these use Caffe's formulas."""
    text = net(layer("l10", "Log", params="log_param { base: 10 scale: 2 shift: 12 }")
               + layer("le", "Log", params="log_param { shift: 12 }")
               + layer("ex", "Exp", params="exp_param { base: 3 scale: 0.5 shift: 0.1 }")
               + layer("pw", "Power", params="power_param { power: -1.5 scale: 0.5 shift: 4 }"))
    res, _ = _convert_random(tmp_path, text)
    x = np.random.default_rng(3).normal(size=(2, 4, 5, 5))
    got = cu.run_plait(res, {"data": x.astype(np.float32)}, ["l10", "le", "ex", "pw"])
    for g, r in zip(got, [np.log10(12 + 2 * x), np.log(12 + x), 3 ** (0.1 + 0.5 * x),
                          (4 + 0.5 * x) ** -1.5]):
        cu.assert_close(g, r)


def test_embed(tmp_path):
    text = net(layer("em", "Embed", params="embed_param { num_output: 3 input_dim: 7 }"), (2, 4))
    res, blobs = _convert_random(tmp_path, text)
    idx = np.random.default_rng(3).integers(0, 7, (2, 4))
    got, = cu.run_plait(res, {"data": idx.astype(np.float32)})
    w, b = blobs["em"]
    cu.assert_close(got, w[idx] + b)


@pytest.mark.parametrize("params", ["top_k: 2", "top_k: 1 out_max_val: true",
                                    "top_k: 2 axis: 1", "top_k: 1 axis: 2 out_max_val: true"])
def test_argmax(tmp_path, params):
    text = net(layer("am", "ArgMax", params="argmax_param { %s }" % params))
    res, _ = _convert_random(tmp_path, text)
    x = np.random.default_rng(3).normal(size=(2, 4, 5, 5))
    got, = cu.run_plait(res, {"data": x.astype(np.float32)})
    k = int(params.split()[1])
    if "axis" in params:
        ax = int(params.split("axis: ")[1].split()[0])
        order = np.argsort(-x, axis=ax, kind="stable").take(range(k), axis=ax)
        ref = np.take_along_axis(x, order, ax) if "out_max_val" in params else order
    else:
        flat = x.reshape(2, -1)
        order = np.argsort(-flat, axis=1, kind="stable")[:, :k]
        ref = order[:, None, :]
        if "out_max_val" in params:
            ref = np.concatenate([ref, np.take_along_axis(flat, order, 1)[:, None, :]], 1)
    cu.assert_close(got, ref)
