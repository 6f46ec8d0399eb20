"""import_model / import_to_gluon / get_model_metadata / run_model on small hand-built graphs,
checked against onnxruntime: weights, shapes and pads arriving as graph inputs or computed
tensors, omitted optional inputs, function-body ops, errors that name the node."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import plait as mx  # noqa: E402
from plait.core.base import PlaitError  # noqa: E402
from plait.core.onnx.import_rules import DynamicValueError, Unsupported  # noqa: E402

F32 = TensorProto.FLOAT
R = np.random.default_rng(0)


def _model(nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
                          [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
                          [numpy_helper.from_array(v, k) for k, v in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def _ort(m, feed):
    s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return s.run(None, feed)


def _plait(m, feed):
    sym, args, aux = mx.onnx.import_model(m)
    binds = dict(args)
    binds.update(aux)
    binds.update({k: mx.nd.array(v, dtype=v.dtype) for k, v in feed.items()})
    exe = sym.bind(mx.cpu(), {n: binds[n] for n in sym.list_arguments()},
                   aux_states={n: binds[n] for n in sym.list_auxiliary_states()})
    return [o.asnumpy() for o in exe.forward()]


def _check(m, feed, rtol=1e-5, atol=1e-6, run=_plait):
    want = _ort(m, feed)
    got = run(m, feed)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def test_conv_weights_as_graph_inputs():
    """MXNet 1.9's importer failed when weights were inputs instead of initializers."""
    m = _model([helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 0, 2, 1],
                                 strides=[2, 1])],
               [("x", F32, [1, 3, 7, 6]), ("w", F32, [4, 3, 3, 2]), ("b", F32, [4])],
               [("y", F32, None)])
    feed = {"x": R.standard_normal((1, 3, 7, 6)).astype(np.float32),
            "w": R.standard_normal((4, 3, 3, 2)).astype(np.float32),
            "b": R.standard_normal(4).astype(np.float32)}
    _check(m, feed)


def test_shape_computed_from_shape_op_is_folded():
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "zero_s"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "zero"], ["n1"]),
             helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
             helper.make_node("Reshape", ["x", "shape"], ["y"])]
    m = _model(nodes, [("x", F32, [2, 3, 4])], [("y", F32, None)],
               [("zero", np.array([0], np.int64)), ("zero_s", np.array(0, np.int64)), ("minus1", np.array([-1], np.int64))])
    _check(m, {"x": R.standard_normal((2, 3, 4)).astype(np.float32)})


def test_shape_as_graph_input_needs_run_model():
    m = _model([helper.make_node("Reshape", ["x", "shape"], ["y"])],
               [("x", F32, [2, 6]), ("shape", TensorProto.INT64, [2])], [("y", F32, None)])
    with pytest.raises(DynamicValueError, match=r"Reshape node.*'shape'.*run_model"):
        mx.onnx.import_model(m)
    feed = {"x": R.standard_normal((2, 6)).astype(np.float32),
            "shape": np.array([3, -1], np.int64)}
    _check(m, feed, run=lambda m, f: mx.onnx.run_model(m, f))


def test_pads_and_slices_as_inputs_in_run_model():
    nodes = [helper.make_node("Pad", ["x", "pads", ""], ["p"], mode="reflect"),
             helper.make_node("Slice", ["p", "starts", "ends", "axes", "steps"], ["y"])]
    m = _model(nodes, [("x", F32, [3, 5]), ("pads", TensorProto.INT64, [4]),
                       ("starts", TensorProto.INT64, [1]), ("ends", TensorProto.INT64, [1]),
                       ("axes", TensorProto.INT64, [1]), ("steps", TensorProto.INT64, [1])],
               [("y", F32, None)], opset=18)
    feed = {"x": R.standard_normal((3, 5)).astype(np.float32),
            "pads": np.array([1, 2, 0, 1], np.int64), "starts": np.array([-1], np.int64),
            "ends": np.array([-100], np.int64), "axes": np.array([1], np.int64),
            "steps": np.array([-2], np.int64)}
    _check(m, feed, run=lambda m, f: mx.onnx.run_model(m, f))


def test_omitted_optional_inputs_and_dtypes():
    nodes = [helper.make_node("Clip", ["x", "", "hi"], ["c"]),
             helper.make_node("Cast", ["c"], ["y"], to=TensorProto.INT32)]
    m = _model(nodes, [("x", F32, [4, 5])], [("y", TensorProto.INT32, None)],
               [("hi", np.array(0.5, np.float32))])
    _check(m, {"x": R.standard_normal((4, 5)).astype(np.float32) * 3})


def test_function_body_op_layer_normalization():
    m = _model([helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1,
                                 epsilon=1e-3)],
               [("x", F32, [2, 3, 8])], [("y", F32, None)],
               [("g", R.standard_normal(8).astype(np.float32)),
                ("b", R.standard_normal(8).astype(np.float32))])
    _check(m, {"x": R.standard_normal((2, 3, 8)).astype(np.float32)}, rtol=1e-4, atol=1e-5)


def test_import_to_gluon_and_metadata():
    w = R.standard_normal((5, 4)).astype(np.float32)
    b = R.standard_normal(5).astype(np.float32)
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["h"], transB=1),
             helper.make_node("Relu", ["h"], ["y"])]
    m = _model(nodes, [("x", F32, [3, 4])], [("y", F32, [3, 5])], [("w", w), ("b", b)])
    x = R.standard_normal((3, 4)).astype(np.float32)
    net = mx.onnx.import_to_gluon(m, mx.cpu())
    assert isinstance(net, mx.gluon.SymbolBlock)
    np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), np.maximum(x @ w.T + b, 0),
                               rtol=1e-5, atol=1e-6)
    meta = mx.onnx.get_model_metadata(m)
    assert meta == {"input_tensor_data": [("x", (3, 4))], "output_tensor_data": [("y", (3, 5))]}
    assert mx.contrib.onnx.import_model is mx.onnx.import_model


def test_batchnorm_statistics_are_aux_params():
    c = 3
    stats = [R.standard_normal(c).astype(np.float32) for _ in range(3)] + [
        R.uniform(0.5, 2, c).astype(np.float32)]
    m = _model([helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])],
               [("x", F32, [2, c, 4, 4])], [("y", F32, None)],
               list(zip("sbmv", stats)))
    sym, args, aux = mx.onnx.import_model(m)
    assert sorted(aux) == ["m", "v"] and sorted(args) == ["b", "s"]
    _check(m, {"x": R.standard_normal((2, c, 4, 4)).astype(np.float32)}, rtol=1e-4, atol=1e-5)


def test_errors_name_the_node():
    m = _model([helper.make_node("Relu", ["x"], ["y"], name="act1")],
               [("x", F32, [2])], [("y", F32, None)])
    m.graph.node[0].op_type = "NoSuchOp"
    with pytest.raises(Unsupported, match="NoSuchOp.*act1"):
        mx.onnx.import_model(m)
    m2 = _model([helper.make_node("Relu", ["x"], ["y"])], [("x", F32, [2])],
                [("y", F32, None)])
    m2.graph.node[0].input[0] = "nowhere"
    with pytest.raises(PlaitError, match="reads 'nowhere'"):
        mx.onnx.import_model(m2)


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
@pytest.mark.parametrize("pad", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [0, 1])
def test_grid_sample_against_onnxruntime(mode, pad, align):
    """_onnx_grid_sample's registry reference is its own kernel; this is the independent check."""
    m = _model([helper.make_node("GridSample", ["x", "g"], ["y"], mode=mode, padding_mode=pad,
                                 align_corners=align)],
               [("x", F32, [2, 3, 5, 4]), ("g", F32, [2, 6, 3, 2])], [("y", F32, None)],
               opset=20)
    feed = {"x": R.standard_normal((2, 3, 5, 4)).astype(np.float32),
            "g": R.uniform(-1.3, 1.3, (2, 6, 3, 2)).astype(np.float32)}
    if (mode, pad) == ("cubic", "border"):
        # onnxruntime clamps bicubic+border coordinates differently from the ONNX spec's
        # reference implementation; plait follows the spec (onnx.reference)
        from onnx.reference import ReferenceEvaluator
        want = ReferenceEvaluator(m).run(None, feed)[0]
        np.testing.assert_allclose(mx.onnx.run_model(m, feed)[0], want, rtol=1e-4, atol=1e-5)
        return
    _check(m, feed, rtol=1e-4, atol=1e-5)


def test_dft_against_onnxruntime():
    m = _model([helper.make_node("DFT", ["x", "", "axis"], ["y"], onesided=1)],
               [("x", F32, [2, 16, 3, 1])], [("y", F32, None)],
               [("axis", np.array(1, np.int64))], opset=20)
    _check(m, {"x": R.standard_normal((2, 16, 3, 1)).astype(np.float32)}, rtol=1e-4, atol=1e-4)
