"""Shared fixtures of the ONNX tests (export: helper A; import: helper B)."""
import pytest


@pytest.fixture(scope="session")
def ort_run():
    """run(model_proto_or_bytes, {input name: array}) -> list of outputs, via onnxruntime."""
    ort = pytest.importorskip("onnxruntime")
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = 1

    def run(model, feeds):
        data = model if isinstance(model, bytes) else model.SerializeToString()
        sess = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        return sess.run(None, feeds)
    return run
