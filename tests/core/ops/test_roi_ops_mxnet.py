"""contrib.ROIAlign (core/ops/contrib_roi.py) and ROIPooling (core/ops/contrib_roi_pool.py)
against real MXNet 1.9.1: outputs and data gradients recorded in
tests/fixtures/ops/roi_ops_mxnet.npz (tools/make_roi_fixtures.py), checked imperatively
(mx.nd + autograd), through mx.sym (bind, forward, backward) and through a hybridized
HybridBlock; plus names, output names, bad-input errors and the ONNX export (onnxruntime
against the same MXNet fixtures)."""
import json

import numpy as np
import pytest

import plait as mx
import mxnet_op_cases as mc

CASES = mc.load_cases("roi_ops_mxnet.npz")


def call(F, case, ins):
    """Cases marked 'pick' keep only the output rows listed in their third input (MXNet
    leaves the rows of rois with a negative batch index uninitialised)."""
    op = mc.resolve(F, case["op"])
    if case.get("pick"):
        return F.take(op(ins[0], ins[1], **case["attrs"]), ins[2])
    return op(*ins, **case["attrs"])


(test_imperative_matches_mxnet, test_symbol_executor_matches_mxnet,
 test_hybridized_block_matches_mxnet) = mc.fixture_tests(CASES, call=call)


def test_fixture_covers_every_op():
    assert {c["op"] for c in CASES.values()} == {"contrib.ROIAlign", "ROIPooling"}


def test_negative_batch_roi_gives_zeros():
    x = mx.nd.array(np.random.default_rng(0).uniform(1, 2, (1, 2, 5, 5)))
    rois = mx.nd.array([[0, 0, 0, 4, 4], [-1, 0, 0, 4, 4]])
    out = mx.nd.contrib.ROIAlign(x, rois, pooled_size=(2, 2), spatial_scale=1.0).asnumpy()
    assert (out[1] == 0).all()
    flat = out.reshape(-1)
    assert flat[1] == 0 and (flat[[0, 2, 3]] != 0).all()  # MXNet's top_data[1] = 0


def test_names_and_outputs():
    assert callable(mx.nd.contrib.ROIAlign) and callable(mx.sym.contrib.ROIAlign)
    assert callable(mx.nd._contrib_ROIAlign) and callable(mx.nd.ROIPooling)
    d, r = mx.sym.var("d"), mx.sym.var("r")
    s = mx.sym.ROIPooling(d, r, pooled_size=(2, 2), spatial_scale=0.5, name="rp")
    assert s.list_outputs() == ["rp_output"]  # MXNet 1.9.1: maxidx is hidden
    assert s.list_arguments() == ["d", "r"]
    node = json.loads(s.tojson())["nodes"][-1]
    assert node["op"] == "ROIPooling"
    assert node["attrs"] == {"pooled_size": "(2, 2)", "spatial_scale": "0.5"}
    s = mx.sym.contrib.ROIAlign(d, r, pooled_size=(2, 2), spatial_scale=1.0, name="ra")
    assert s.list_outputs() == ["ra_output"]
    assert json.loads(s.tojson())["nodes"][-1]["op"] == "_contrib_ROIAlign"
    out = mx.nd.ROIPooling(mx.nd.ones((1, 2, 4, 4)), mx.nd.array([[0, 0, 0, 3, 3]]),
                           pooled_size=(2, 2), spatial_scale=1.0)
    assert isinstance(out, mx.nd.NDArray) and out.shape == (1, 2, 2, 2)


def test_gluon_style_F_contrib_call():
    class Net(mx.gluon.HybridBlock):
        def hybrid_forward(self, F, x, rois):
            return F.contrib.ROIAlign(x, rois, (2, 2), 0.5, sample_ratio=2)
    c = CASES["align_sample2"]
    net = Net()
    net.hybridize()
    x, rois = (mc.nd(v) for v in mc.inputs(c))
    want = mx.nd.contrib.ROIAlign(x, rois, (2, 2), 0.5, sample_ratio=2).asnumpy()
    np.testing.assert_array_equal(net(x, rois).asnumpy(), want)


def _f32(shape):
    return mx.nd.ones(shape, dtype="float32")


P = {"pooled_size": (2, 2), "spatial_scale": 0.5}
BAD = [
    ("contrib.ROIAlign", [(1, 2, 4, 4), (3, 4)], P, ("rois", "(3, 4)", "5")),
    ("contrib.ROIAlign", [(2, 4, 4), (3, 5)], P, ("data", "(2, 4, 4)", "4-D")),
    ("contrib.ROIAlign", [(1, 6, 4, 4), (3, 5)], dict(P, position_sensitive=True),
     ("data", "(1, 6, 4, 4)", "divisible")),
    ("contrib.ROIAlign", [(1, 2, 4, 4), (3, 5)], {"pooled_size": (2, 2), "spatial_scale": 1.5},
     ("spatial_scale", "1.5")),
    ("contrib.ROIAlign", [(1, 2, 4, 4), (3, 5)], {"spatial_scale": 0.5},
     ("pooled_size", "required")),
    ("ROIPooling", [(1, 2, 4, 4), (3, 6)], P, ("rois", "(3, 6)", "5")),
    ("ROIPooling", [(1, 2, 4, 4), (3,)], P, ("rois", "(3,)")),
    ("ROIPooling", [(1, 2, 4, 4), (3, 5)], {"pooled_size": (0, 2), "spatial_scale": 0.5},
     ("pooled_size", "(0, 2)")),
    ("ROIPooling", [(1, 2, 4, 4), (3, 5)], {"pooled_size": (2, 2)},
     ("spatial_scale", "required")),
]


test_bad_inputs_name_op_argument_and_shape = mc.bad_input_test(BAD)


@pytest.mark.parametrize("op,rois,attrs,match", [
    ("contrib.ROIAlign", [[0, 0, 0, 2, 2], [1, 0, 0, 2, 2]], P, ("batch index 1", "size 1")),
    ("contrib.ROIAlign", [[0, 3, 0, 2, 2]], dict(P, aligned=True), ("aligned", "width")),
    ("ROIPooling", [[-1, 0, 0, 2, 2]], P, ("batch index -1", "size 1")),
])
def test_bad_rois_values(op, rois, attrs, match):
    msg = mc.error_of(mc.resolve(mx.nd, op), _f32((1, 2, 4, 4)), mx.nd.array(rois), **attrs)
    for m in (op.split(".")[-1], "rois") + match:
        assert m in msg, (m, msg)


def test_mismatched_dtypes_rejected():
    msg = mc.error_of(mx.nd.ROIPooling, _f32((1, 2, 4, 4)),
                      mx.nd.array([[0, 0, 0, 2, 2]], dtype="float64"), **P)
    assert "ROIPooling" in msg and "float64" in msg, msg


# -- ONNX export, run in onnxruntime, against the MXNet fixtures
ONNX_CASES = [n for n in sorted(CASES) if not CASES[n].get("pick")
              and not CASES[n]["attrs"].get("position_sensitive")
              and n != "pool_f64_below_flt_max"]


@pytest.mark.parametrize("opset", [13, 16, 21])
@pytest.mark.parametrize("name", ONNX_CASES)
def test_onnx_export_matches_mxnet(name, opset):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from plait.core.onnx import export as ex
    c = CASES[name]
    if c["attrs"].get("aligned") and opset < 16:
        pytest.skip("aligned needs opset 16")
    xs = mc.inputs(c)
    sym = call(mx.sym, c, [mx.sym.var("x0"), mx.sym.var("x1")])
    model = ex.build_onnx_model(sym, {}, [x.shape for x in xs], [x.dtype for x in xs],
                                opset_version=opset)
    try:
        sess = ort.InferenceSession(model.SerializeToString())
    except Exception as e:  # ORT has no float64 MaxRoiPool kernel
        if "NOT_IMPLEMENTED" in str(e):
            pytest.skip(str(e)[:100])
        raise
    got = sess.run(None, {"x0": xs[0], "x1": xs[1]})[0]
    mc.check(got, c["arrays"]["out0"], name + " onnx")


def test_onnx_export_refuses_unsupported_configurations():
    pytest.importorskip("onnx")
    from plait.core.base import PlaitError
    from plait.core.onnx import export as ex
    d, r = mx.sym.var("x0"), mx.sym.var("x1")
    for attrs, opset, text in [(dict(P, position_sensitive=True), 16, "position_sensitive"),
                               (dict(P, aligned=True), 13, "opset 16")]:
        s = mx.sym.contrib.ROIAlign(d, r, **attrs)
        with pytest.raises(PlaitError) as info:
            ex.build_onnx_model(s, {}, [(1, 8, 4, 4), (2, 5)], [np.float32] * 2,
                                opset_version=opset)
        assert text in str(info.value) and "_contrib_ROIAlign" in str(info.value)
