"""Net formats and options: V1 `layers`, the four ways to declare inputs, phase rules,
training-only layers, mean/scale/swap_rgb, and the written checkpoint (SymbolBlock.imports,
mx.sym.load, the mx.contrib.caffe entry point and the command line)."""
import os
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import caffe_util as cu  # noqa: E402

import plait as mx  # noqa: E402
from plait.core.caffe import convert, weights  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
BODY = """
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
        pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool1" top: "ip1"
        inner_product_param { num_output: 5 } }
layer { name: "prob" type: "Softmax" bottom: "ip1" top: "prob" }
"""
V1 = """name: "v1net"
input: "data"
input_dim: 2 input_dim: 3 input_dim: 9 input_dim: 9
layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1" blobs_lr: 1 blobs_lr: 2
         convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }
layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1"
         pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layers { name: "ip1" type: INNER_PRODUCT bottom: "pool1" top: "ip1"
         inner_product_param { num_output: 5 } }
layers { name: "prob" type: SOFTMAX bottom: "ip1" top: "prob" }
"""
INPUT_FORMS = {
    "input_dim": 'input: "data"\ninput_dim: 2\ninput_dim: 3\ninput_dim: 9\ninput_dim: 9\n',
    "input_shape": 'input: "data"\ninput_shape { dim: 2 dim: 3 dim: 9 dim: 9 }\n',
    "input_layer": 'layer { name: "data" type: "Input" top: "data" '
                   'input_param { shape { dim: 2 dim: 3 dim: 9 dim: 9 } } }\n',
}
X = np.random.default_rng(5).normal(size=(2, 3, 9, 9)).astype(np.float32)


def _model_and_output(tmp_path, text, seed=0, **kw):
    proto = cu.write(tmp_path, text, "n%d.prototxt" % abs(hash(text)))
    model = cu.make_model(tmp_path, proto, seed)
    res = convert(proto, model, **kw)
    return proto, model, res


@pytest.mark.parametrize("form", sorted(INPUT_FORMS))
def test_input_forms_agree_with_opencv(tmp_path, form):
    text = INPUT_FORMS[form] + BODY
    res, (out,) = cu.check_against_cv2(tmp_path, text, {"data": (2, 3, 9, 9)}, ["ip1"])
    assert res.inputs == [("data", (2, 3, 9, 9))]
    assert res.outputs == [("prob", (2, 5))]


def test_v1_layers_format(tmp_path):
    """The old V1 `layers { type: ENUM }` net equals OpenCV and the same net in the current
    format with the same weights."""
    res, (out,) = cu.check_against_cv2(tmp_path, V1, {"data": (2, 3, 9, 9)}, ["ip1"])
    proto2 = cu.write(tmp_path, INPUT_FORMS["input_dim"] + BODY, "v2.prototxt")
    model = os.path.join(str(tmp_path), "net.prototxt.caffemodel")  # V1 net's weights
    res2 = convert(proto2, model)
    got2, = cu.run_plait(res2, {"data": cu.np.random.default_rng(1).normal(
        0, 1, (2, 3, 9, 9)).astype(np.float32)}, ["ip1"])
    cu.assert_close(got2, out)


def test_input_shape_override(tmp_path):
    proto, model, res = _model_and_output(tmp_path, INPUT_FORMS["input_shape"] + BODY.replace(
        "ip1\"\n        inner_product_param", "ip1\" inner_product_param"))
    res2 = convert(proto, model, input_shape=(5, 3, 9, 9))
    assert res2.inputs == [("data", (5, 3, 9, 9))] and res2.outputs == [("prob", (5, 5))]
    x5 = np.concatenate([X, X, X[:1]])
    a, = cu.run_plait(res, {"data": X})
    b, = cu.run_plait(res2, {"data": x5})
    cu.assert_close(b[:2], a)


def test_phase_rules_and_training_layers(tmp_path):
    text = INPUT_FORMS["input_shape"] + BODY + """
layer { name: "drop_train" type: "Dropout" bottom: "ip1" top: "ip1" include { phase: TRAIN } }
layer { name: "scale_test" type: "Power" bottom: "prob" top: "p2" include { phase: TEST }
        power_param { scale: 2 } }
layer { name: "not_test" type: "Power" bottom: "p2" top: "p2" exclude { phase: TEST }
        power_param { scale: 100 } }
layer { name: "acc" type: "Accuracy" bottom: "prob" bottom: "label" top: "acc" }
"""
    proto, model, res = _model_and_output(tmp_path, text)
    names = res.symbol.get_internals().list_outputs()
    assert "scale_test_output" in names
    assert not any(n.startswith(("drop_train", "not_test")) for n in names)
    assert res.skipped == ["acc"]
    out, prob = cu.run_plait(res, {"data": X}, ["scale_test", "prob"])
    cu.assert_close(out, 2 * prob)


def _mean_file(path, mean):
    from plait.core.caffe.netfile import atomic_write
    atomic_write(path, weights.blob_chunks(mean[None]))


def test_mean_scale_and_swap_rgb(tmp_path):
    proto, model, plain = _model_and_output(tmp_path, INPUT_FORMS["input_shape"] + BODY)
    ref, = cu.run_plait(plain, {"data": X}, ["ip1"])
    mean = np.array([0.3, -0.2, 0.5], np.float32)
    folded = convert(proto, model, mean=mean, scale=0.5)
    got, = cu.run_plait(folded, {"data": X * 2 + mean.reshape(1, 3, 1, 1)}, ["ip1"])
    cu.assert_close(got, ref)
    swapped = convert(proto, model, mean=mean, scale=0.5, swap_rgb=True)
    rgb = (X * 2 + mean.reshape(1, 3, 1, 1))[:, ::-1]
    got, = cu.run_plait(swapped, {"data": np.ascontiguousarray(rgb)}, ["ip1"])
    cu.assert_close(got, ref)
    image = np.random.default_rng(2).normal(size=(3, 11, 12)).astype(np.float32)
    path = str(tmp_path / "mean.binaryproto")
    _mean_file(path, image)
    from_file = convert(proto, model, mean_file=path)
    crop = image[:, 1:10, 1:10]  # centre crop of the mean image to the 9x9 input
    got, = cu.run_plait(from_file, {"data": X + crop[None]}, ["ip1"])
    cu.assert_close(got, ref)


def test_checkpoint_loads_in_symbolblock_and_symbol(tmp_path):
    proto, model, res = _model_and_output(tmp_path, INPUT_FORMS["input_layer"] + BODY)
    prefix = str(tmp_path / "out")
    sym, args, aux, shapes = mx.contrib.caffe.convert_model(proto, model, prefix=prefix)
    assert shapes == {"data": (2, 3, 9, 9)}
    assert sorted(args) == ["conv1_bias", "conv1_weight", "ip1_bias", "ip1_weight"]
    assert not [f for f in os.listdir(str(tmp_path)) if ".tmp" in f]
    ref, = cu.run_plait(res, {"data": X})
    net = mx.gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"], prefix + "-0000.params")
    cu.assert_close(net(mx.nd.array(X)).asnumpy(), ref)
    loaded = mx.sym.load(prefix + "-symbol.json")
    assert loaded.list_arguments() == sym.list_arguments()
    params = mx.nd.load(prefix + "-0000.params")
    assert sorted(params) == sorted("arg:" + k for k in args)
    np.testing.assert_array_equal(params["arg:conv1_weight"].asnumpy(),
                                  res.arg_params["conv1_weight"])


def test_batchnorm_names_and_stats(tmp_path):
    text = INPUT_FORMS["input_shape"] + """
layer { name: "bn" type: "BatchNorm" bottom: "data" top: "data" }
layer { name: "sc" type: "Scale" bottom: "data" top: "data" scale_param { bias_term: true } }
"""
    proto, model, res = _model_and_output(tmp_path, text)
    assert sorted(res.arg_params) == ["bn_beta", "bn_gamma"]
    assert sorted(res.aux_params) == ["bn_moving_mean", "bn_moving_var"]
    from plait.core.caffe.netfile import blob_array, model_blobs, read_caffemodel
    blobs = {k: [blob_array(b, k) for b in v]
             for k, v in model_blobs(read_caffemodel(model), model).items()}
    mean, var, factor = blobs["bn"]
    np.testing.assert_allclose(res.aux_params["bn_moving_mean"], mean / factor[0], rtol=1e-6)
    np.testing.assert_allclose(res.aux_params["bn_moving_var"], var / factor[0], rtol=1e-6)
    np.testing.assert_array_equal(res.arg_params["bn_gamma"], blobs["sc"][0])
    got, = cu.run_plait(res, {"data": X})
    norm = (X - mean.reshape(1, 3, 1, 1) / factor[0]) / np.sqrt(
        var.reshape(1, 3, 1, 1) / factor[0] + 1e-5)
    cu.assert_close(got, norm * blobs["sc"][0].reshape(1, 3, 1, 1)
                    + blobs["sc"][1].reshape(1, 3, 1, 1))


def test_batchnorm_zero_scale_factor(tmp_path):
    """A zero moving-average factor means zero stats (Caffe: scale = 0 if factor == 0)."""
    text = INPUT_FORMS["input_shape"] + 'layer { name: "bn" type: "BatchNorm" bottom: "data" ' \
                                        'top: "bn" }\n'
    proto = cu.write(tmp_path, text)
    model = str(tmp_path / "m.caffemodel")
    from plait.core.caffe import schema
    from plait.core.caffe.netfile import atomic_write
    chunks = []
    for v in (np.ones(3, np.float32), np.full(3, 4, np.float32), np.zeros(1, np.float32)):
        chunks += weights._message(b"\x3a", weights.blob_chunks(v))
    lp = schema.message("LayerParameter")
    lp.name, lp.type = "bn", "BatchNorm"
    atomic_write(model, weights._message(b"\xa2\x06", [lp.SerializeToString()] + chunks))
    res = convert(proto, model)
    np.testing.assert_array_equal(res.aux_params["bn_moving_var"], np.zeros(3))
    got, = cu.run_plait(res, {"data": X})
    cu.assert_close(got, X / np.sqrt(1e-5))


def test_command_line(tmp_path):
    proto, model, res = _model_and_output(tmp_path, INPUT_FORMS["input_dim"] + BODY)
    prefix = str(tmp_path / "cli")
    tool = os.path.join(ROOT, "tools", "caffe_converter.py")
    run = subprocess.run([sys.executable, tool, proto, model, prefix, "--input-shape",
                          "4,3,9,9"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "total parameters" in run.stdout and "ip1" in run.stdout
    assert str(4 * 3 * 3 * 3 + 4 + 5 * 4 * 4 * 4 + 5) in run.stdout  # conv1 + ip1 values
    assert os.path.exists(prefix + "-symbol.json") and os.path.exists(prefix + "-0000.params")
    helped = subprocess.run([sys.executable, tool, "--help"], capture_output=True, text=True,
                            timeout=60)
    assert helped.returncode == 0 and "Caffe" in helped.stdout and "--swap-rgb" in helped.stdout


def test_legacy_v1_caffemodel_with_4d_blob_dims(tmp_path):
    """Old caffemodels keep weights in V1 `layers` with num/channels/height/width dims
    (an InnerProduct weight as (1, 1, N, K)): read as the prototxt's shapes."""
    from plait.core.caffe import schema
    proto = cu.write(tmp_path, V1)
    rng = np.random.default_rng(4)
    conv_w, conv_b = rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    ip_w, ip_b = rng.normal(size=(5, 64)) / 8, rng.normal(size=5)
    net = schema.message("NetParameter")
    for name, arrays in (("conv1", [conv_w, conv_b]), ("ip1", [ip_w, ip_b])):
        layer = net.layers.add(name=name)
        for a in arrays:
            dims = (1,) * (4 - a.ndim) + a.shape
            blob = layer.blobs.add(num=dims[0], channels=dims[1], height=dims[2], width=dims[3])
            blob.data.extend(a.ravel().tolist())
    model = str(tmp_path / "legacy.caffemodel")
    with open(model, "wb") as f:
        f.write(net.SerializeToString())
    res = convert(proto, model)
    assert res.arg_params["ip1_weight"].shape == (5, 64)
    got, = cu.run_plait(res, {"data": X}, ["ip1"])
    ref, = cu.run_cv2(proto, model, {"data": X}, ["ip1"])
    cu.assert_close(got, ref)


def test_import_plait_does_not_import_protobuf():
    code = ("import sys, plait; assert 'google.protobuf' not in sys.modules; "
            "plait.contrib.caffe.convert_model; assert 'google.protobuf' not in sys.modules")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=str(ROOT))
    assert run.returncode == 0, run.stderr
