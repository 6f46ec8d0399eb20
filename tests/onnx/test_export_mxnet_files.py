"""Models saved by real MXNet 1.9.1 (tools/make_onnx_export_fixtures.py): plait exports the
-symbol.json + .params files as MXNet 1.9's mx.onnx.export_model is called, and onnxruntime
must reproduce MXNet's own outputs (an independent reference: MXNet's kernels)."""
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import plait as mx  # noqa: E402

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "onnx_export")


@pytest.mark.parametrize("name", ["branchy", "symmlp"])
@pytest.mark.parametrize("opset", [13, None])
def test_mxnet_saved_model(name, opset, tmp_path, ort_run):
    ref = np.load(os.path.join(FIX, name + ".npz"), allow_pickle=False)
    prefix = os.path.join(FIX, name)
    path = mx.onnx.export_model(prefix + "-symbol.json", prefix + "-0000.params",
                                [ref["x"].shape], [np.float32], str(tmp_path / "m.onnx"),
                                opset_version=opset)
    model = onnx.load(path)
    assert [i.name for i in model.graph.input] == ["data"]
    got = ort_run(model, {"data": ref["x"]})[0]
    np.testing.assert_allclose(got, ref["y"], rtol=1e-4, atol=1e-5 * np.abs(ref["y"]).max())
