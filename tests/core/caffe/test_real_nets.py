"""The real Caffe networks of ../shared/caffe/prototxt, with seeded random weights, converted
and compared with OpenCV's dnn (an independent Caffe implementation) on a seeded input: the
logits (the blob before the softmax) and the final output, within 1e-4 + 1e-4 * max|ref|.
Big nets run at a reduced input size where their fully-connected sizes allow it."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import caffe_util as cu  # noqa: E402

from plait.core.caffe import convert  # noqa: E402

slow = pytest.mark.slow
# (prototxt, input shape, logits layer)
NETS = [
    ("lenet", (2, 1, 28, 28), "ip2"),
    ("cifar10_quick", (2, 3, 32, 32), "ip2"),
    ("cifar10_full", (2, 3, 32, 32), "ip1"),
    ("bvlc_reference_caffenet", (1, 3, 99, 99), "fc8"),
    ("squeezenet_v1.0", (1, 3, 99, 99), "pool10"),
    ("squeezenet_v1.1", (1, 3, 99, 99), "pool10"),
    ("mobilenet_v1", (1, 3, 64, 64), "fc7"),
    ("mobilenet_v2", (1, 3, 64, 64), "fc7"),
    ("resnet50", (1, 3, 224, 224), "fc1000"),
    pytest.param("bvlc_alexnet", (1, 3, 99, 99), "fc8", marks=slow),
    pytest.param("bvlc_reference_rcnn_ilsvrc13", (1, 3, 99, 99), "fc-rcnn", marks=slow),
    pytest.param("bvlc_googlenet", (1, 3, 224, 224), "loss3/classifier", marks=slow),
    pytest.param("resnet101", (1, 3, 224, 224), "fc1000", marks=slow),
    pytest.param("resnet152", (1, 3, 224, 224), "fc1000", marks=slow),
]


@pytest.mark.parametrize("name,shape,logits", NETS)
def test_real_net_matches_opencv(tmp_path, name, shape, logits):
    cu.cv2_or_skip()
    proto = os.path.join(cu.PROTOTXT_DIR, name + ".prototxt")
    model = cu.make_model(tmp_path, proto, seed=7, input_shape=shape)
    res = convert(proto, model, input_shape=shape)
    (iname, ishape), = res.inputs
    assert ishape == shape
    x = np.random.default_rng(11).normal(0, 1, shape).astype(np.float32)
    got_logits, = cu.run_plait(res, {iname: x}, [logits])
    ref_logits, = cu.run_cv2(proto, model, {iname: x}, [logits])
    assert np.abs(ref_logits).max() > 1e-2  # the random weights keep a real signal
    cu.assert_close(got_logits, ref_logits, name + " logits")
    got, = cu.run_plait(res, {iname: x})
    ref, = cu.run_cv2(proto, model, {iname: x})
    cu.assert_close(got, ref, name + " output")
    # the report counts every caffemodel value except BatchNorm's scale-factor blobs
    written = cu.weights.random_caffemodel(proto, str(tmp_path / "again.caffemodel"), seed=7,
                                           input_shape=shape)
    n_bn = sum(1 for ly in written if ly in res.counts and ly + "_moving_mean" in res.aux_params)
    assert sum(res.counts.values()) == sum(a.size for v in written.values() for a in v) - n_bn


def test_ssd_prototxt_fails_clearly():
    """MobileNet-SSD needs PriorBox/DetectionOutput (SSD fork layers plait does not
    convert): the error names the file, the line, the layer and the field."""
    proto = os.path.join(cu.PROTOTXT_DIR, "mobilenet_ssd.prototxt")
    with pytest.raises(cu.mx.MXNetError) as e:
        convert(proto, None)
    msg = str(e.value)
    assert "mobilenet_ssd.prototxt:" in msg and "conv11_mbox_priorbox" in msg
    assert "PriorBox" in msg and "prior_box_param" in msg
    assert "unsupported layer types in this net: PriorBox (6: " in msg
    assert "DetectionOutput (1: detection_out)" in msg


def test_ssd_heads_convert_with_outputs(tmp_path):
    """Naming the blobs to convert skips what they do not need: MobileNet-SSD's location and
    class-probability heads convert (PriorBox / DetectionOutput are left out) and match
    OpenCV, which runs the whole net."""
    proto = os.path.join(cu.PROTOTXT_DIR, "mobilenet_ssd.prototxt")
    outs = ["mbox_loc", "mbox_conf_flatten"]
    shape = (1, 3, 300, 300)
    model = str(tmp_path / "ssd.caffemodel")
    cu.weights.random_caffemodel(proto, model, seed=3, outputs=outs)
    res = convert(proto, model, outputs=outs)
    assert [n for n, _ in res.outputs] == outs
    assert "conv11_mbox_loc_perm_output" in res.symbol.get_internals().list_outputs()
    x = np.random.default_rng(4).normal(0, 1, shape).astype(np.float32)
    got = cu.run_plait(res, {"data": x})
    ref = cu.run_cv2(proto, model, {"data": x}, outs)
    for g, r, n in zip(got, ref, outs):
        cu.assert_close(g, r, n)
