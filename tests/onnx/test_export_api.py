"""mx.onnx.export_model's contract: MXNet 1.9's arguments (files or objects, arg:/aux:
prefixes, [arg, aux] lists, old argument names), HybridBlock export, opsets, dynamic
shapes, graph conventions (no initializer as input, label inputs dropped, constants
folded), atomic writes and the errors for bad input."""
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import plait as mx  # noqa: E402
from plait.core.base import PlaitError  # noqa: E402
from plait.core.onnx import export as ex  # noqa: E402
from plait.gluon import nn  # noqa: E402


def _mlp():
    data = mx.sym.var("data")
    h = mx.sym.FullyConnected(data, num_hidden=5, name="fc1")
    h = mx.sym.Activation(h, act_type="relu", name="relu1")
    h = mx.sym.FullyConnected(h, num_hidden=3, name="fc2")
    out = mx.sym.SoftmaxOutput(h, name="softmax")
    rng = np.random.RandomState(0)
    params = {"fc1_weight": rng.randn(5, 4).astype(np.float32),
              "fc1_bias": rng.randn(5).astype(np.float32),
              "fc2_weight": rng.randn(3, 5).astype(np.float32),
              "fc2_bias": rng.randn(3).astype(np.float32)}
    return out, params


def _numpy_mlp(x, p):
    h = np.maximum(x @ p["fc1_weight"].T + p["fc1_bias"], 0)
    z = h @ p["fc2_weight"].T + p["fc2_bias"]
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_symbol_and_dict(tmp_path, ort_run):
    sym, params = _mlp()
    nd_params = {"arg:" + k: mx.nd.array(v) for k, v in params.items()}
    path = mx.onnx.export_model(sym, nd_params, in_shapes=[(2, 4)],
                                onnx_file_path=str(tmp_path / "m.onnx"))
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    # the label is not an input, no initializer is an input, the output is the node's name
    assert [i.name for i in model.graph.input] == ["data"]
    assert [o.name for o in model.graph.output] == ["softmax"]
    assert {t.name for t in model.graph.initializer} == set(params)
    assert [n.op_type for n in model.graph.node] == ["Gemm", "Relu", "Gemm", "Softmax"]
    assert model.opset_import[0].version == ex.max_opset()
    assert model.ir_version == onnx.helper.find_min_ir_version_for(list(model.opset_import))
    x = np.random.RandomState(1).randn(2, 4).astype(np.float32)
    np.testing.assert_allclose(ort_run(model.SerializeToString(), {"data": x})[0],
                               _numpy_mlp(x, params), rtol=1e-5, atol=1e-6)


def test_files_and_old_argument_names(tmp_path, ort_run):
    sym, params = _mlp()
    sym.save(str(tmp_path / "m-symbol.json"))
    mx.nd.save(str(tmp_path / "m-0000.params"), {"arg:" + k: mx.nd.array(v)
                                                  for k, v in params.items()})
    path = mx.onnx.export_model(str(tmp_path / "m-symbol.json"), str(tmp_path / "m-0000.params"),
                                input_shape=[(3, 4)], input_type=np.float32,
                                onnx_file_path=str(tmp_path / "m.onnx"), opset_version=13)
    model = onnx.load(path)
    assert model.opset_import[0].version == 13
    x = np.random.RandomState(2).randn(3, 4).astype(np.float32)
    np.testing.assert_allclose(ort_run(model, {"data": x})[0], _numpy_mlp(x, params),
                               rtol=1e-5, atol=1e-6)


def test_arg_aux_list_and_dynamic_batch(tmp_path, ort_run):
    data = mx.sym.var("data")
    y = mx.sym.BatchNorm(mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, pad=(1, 1),
                                            name="conv"), fix_gamma=False, name="bn")
    rng = np.random.RandomState(0)
    arg = {"conv_weight": mx.nd.array(rng.randn(4, 2, 3, 3)),
           "conv_bias": mx.nd.array(rng.randn(4)),
           "bn_gamma": mx.nd.array(rng.rand(4) + 0.5), "bn_beta": mx.nd.array(rng.randn(4))}
    aux = {"bn_moving_mean": mx.nd.array(rng.randn(4)),
           "bn_moving_var": mx.nd.array(rng.rand(4) + 0.5)}
    path = mx.onnx.export_model(y, [arg, aux], in_shapes=[(1, 2, 5, 5)], dynamic=True,
                                dynamic_input_shapes=[(None, 2, 5, 5)],
                                onnx_file_path=str(tmp_path / "m.onnx"))
    model = onnx.load(path)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [2, 5, 5]
    assert [n.op_type for n in model.graph.node] == ["Conv", "BatchNormalization"]
    x = rng.randn(3, 2, 5, 5).astype(np.float32)
    ex_ = y.bind(mx.cpu(), dict(arg, data=mx.nd.array(x)), aux_states=aux)
    want = ex_.forward(is_train=False)[0].asnumpy()
    np.testing.assert_allclose(ort_run(model, {"data": x})[0], want, rtol=1e-4, atol=1e-5)


def test_hybrid_block(tmp_path, ort_run):
    net = nn.HybridSequential()
    net.add(nn.Dense(6, activation="tanh"), nn.Dropout(0.5), nn.Dense(2))
    net.initialize()
    x = np.random.RandomState(3).randn(4, 7).astype(np.float32)
    want = net(mx.nd.array(x)).asnumpy()  # not hybridized: the exporter traces it
    path = mx.onnx.export_block(net, [(4, 7)], onnx_file_path=str(tmp_path / "b.onnx"))
    model = onnx.load(path)
    assert "Identity" not in [n.op_type for n in model.graph.node]  # Dropout is folded away
    np.testing.assert_allclose(ort_run(model, {"data": x})[0], want, rtol=1e-5, atol=1e-6)


def test_constant_subgraph_folded(tmp_path, ort_run):
    """Ops on weights alone are computed at export time: one initializer, no ops."""
    data = mx.sym.var("data")
    w = mx.sym.var("w")
    y = mx.sym.broadcast_add(data, mx.sym.exp(w * 2.0))
    wv = np.array([0.1, 0.2, 0.3], np.float32)
    model = ex.build_onnx_model(y, {"w": wv}, [(2, 3)])
    assert [n.op_type for n in model.graph.node] == ["Add"]
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(ort_run(model, {"data": x})[0], x + np.exp(wv * 2), rtol=1e-6)


def test_graph_output_that_is_an_input(ort_run):
    data = mx.sym.var("data")
    y = mx.sym.Group([mx.sym.identity(data) if hasattr(mx.sym, "identity") else
                      mx.sym.BlockGrad(data), mx.sym.relu(data)])
    model = ex.build_onnx_model(y, {}, [(2, 2)])
    onnx.checker.check_model(model, full_check=True)
    x = np.array([[-1, 2], [3, -4]], np.float32)
    a, b = ort_run(model, {"data": x})
    np.testing.assert_array_equal(a, x)
    np.testing.assert_array_equal(b, np.maximum(x, 0))


# -- errors ---------------------------------------------------------------------------------------
def test_missing_rule_names_op_node_and_opset():
    from plait.core.ops import registry
    op = registry.get("sgd_update")
    assert op.onnx_export is None
    w, g = mx.sym.var("w"), mx.sym.var("g")
    y = mx.sym.sgd_update(w, g, lr=0.1, name="upd")
    with pytest.raises(PlaitError) as e:
        ex.build_onnx_model(y, {}, [(2,), (2,)], opset_version=17)
    msg = str(e.value)
    assert "sgd_update" in msg and "'upd'" in msg and "17" in msg


def test_rule_opset_range_is_checked():
    from plait.core.ops import registry
    op = registry.get("relu")
    saved = op.onnx_opsets
    op.onnx_opsets = (20, None)
    try:
        with pytest.raises(PlaitError, match=r"relu.*opsets 20\.\.latest.*opset 13"):
            ex.build_onnx_model(mx.sym.relu(mx.sym.var("x"), name="r"), {}, [(2,)],
                                opset_version=13)
    finally:
        op.onnx_opsets = saved


@pytest.mark.parametrize("shapes, match", [
    ([(2, 4), (2,), (3,)], "3 shapes given for 1 inputs"),
    ([(2, 4), (3,)], "label"),
    ([(2, 5)], "in_shapes"),
    ([(2, -1)], "positive"),
    ([("a", 4)], "tuple of ints"),
    (None, "in_shapes is required"),
])
def test_bad_in_shapes(shapes, match, tmp_path):
    sym, params = _mlp()
    with pytest.raises(PlaitError, match=match):
        mx.onnx.export_model(sym, params, in_shapes=shapes,
                             onnx_file_path=str(tmp_path / "m.onnx"))
    assert not os.path.exists(tmp_path / "m.onnx")


def test_bad_opset_and_dynamic_args(tmp_path):
    sym, params = _mlp()
    with pytest.raises(PlaitError, match="opset 12"):
        mx.onnx.export_model(sym, params, [(2, 4)], opset_version=12,
                             onnx_file_path=str(tmp_path / "m.onnx"))
    with pytest.raises(PlaitError, match="dynamic=True"):
        mx.onnx.export_model(sym, params, [(2, 4)], dynamic_input_shapes=[(None, 4)],
                             onnx_file_path=str(tmp_path / "m.onnx"))
    with pytest.raises(PlaitError, match="same rank"):
        mx.onnx.export_model(sym, params, [(2, 4)], dynamic=True, dynamic_input_shapes=[(None,)],
                             onnx_file_path=str(tmp_path / "m.onnx"))
    with pytest.raises(PlaitError, match="params"):
        mx.onnx.export_model(sym, 42, [(2, 4)], onnx_file_path=str(tmp_path / "m.onnx"))


def test_failed_export_keeps_previous_file(tmp_path):
    sym, params = _mlp()
    path = str(tmp_path / "m.onnx")
    mx.onnx.export_model(sym, params, [(2, 4)], onnx_file_path=path)
    before = open(path, "rb").read()
    with pytest.raises(PlaitError):
        mx.onnx.export_model(sym, params, [(2, 9)], onnx_file_path=path)
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["m.onnx"]  # no temp file left behind


class _TwoInputs(mx.gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.fc = nn.Dense(3)

    def hybrid_forward(self, F, a, b):
        return F.broadcast_sub(self.fc(b), F.sum(a, axis=1, keepdims=True))


def test_block_with_two_inputs_shape_inference_and_verbose(tmp_path, ort_run, caplog):
    net = _TwoInputs()
    net.initialize()
    a = np.random.RandomState(0).randn(2, 5).astype(np.float32)
    b = np.random.RandomState(1).randn(2, 4).astype(np.float32)
    want = net(mx.nd.array(a), mx.nd.array(b)).asnumpy()
    with caplog.at_level("INFO"):
        path = mx.onnx.export_model(net, None, in_shapes=[(2, 5), (2, 4)], verbose=True,
                                    run_shape_inference=True,
                                    onnx_file_path=str(tmp_path / "two.onnx"))
    assert any("exporting" in r.getMessage() for r in caplog.records)
    model = onnx.load(path)
    assert [i.name for i in model.graph.input] == ["data0", "data1"]  # the block's order
    assert len(model.graph.value_info) > 0  # shape inference ran
    got = ort_run(model, {"data0": a, "data1": b})[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_reexport_of_an_imported_model(tmp_path, ort_run):
    """export -> mx.onnx.import_to_gluon -> export again: the same numbers."""
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
            nn.MaxPool2D(2), nn.Flatten(), nn.Dense(3))
    net.initialize()
    net.hybridize()
    x = np.random.RandomState(5).randn(2, 1, 6, 6).astype(np.float32)
    want = net(mx.nd.array(x)).asnumpy()
    first = mx.onnx.export_model(net, None, [x.shape], onnx_file_path=str(tmp_path / "a.onnx"))
    block = mx.onnx.import_to_gluon(first, mx.cpu())
    second = mx.onnx.export_model(block, None, [x.shape], onnx_file_path=str(tmp_path / "b.onnx"))
    model = onnx.load(second)
    got = ort_run(model, {model.graph.input[0].name: x})[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
