"""The main demo's --quick mode on the committed Fashion-MNIST slice (300 training and 200
test images from the real data set): it learns (far above chance), writes the TensorBoard log
and checkpoints, and its exported model reloads in SymbolBlock and onnxruntime with the same
predictions as the trained network."""
import os
import sys

import numpy as np
import pytest

import plait as mx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "data", "fashion_small")


@pytest.fixture(scope="module")
def demo():
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    try:
        import fashion_mnist
    finally:
        sys.path.pop(0)
    return fashion_mnist


def test_quick_run_learns_and_exports(demo, tmp_path, capsys):
    out = tmp_path / "out"
    acc = demo.main(["--quick", "--data-dir", FIXTURE, "--batch-size", "16", "--out", str(out)])
    text = capsys.readouterr().out
    assert "300 training and 200 test images" in text
    assert acc > 0.3, text  # 10 classes: chance is 0.1
    assert "Test accuracy %.2f%%" % (100 * acc) in text
    names = set(os.listdir(out))
    assert {"lenet.params", "lenet-symbol.json", "lenet-0001.params"} <= names
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(out / "tensorboard"))
    assert "lenet-epoch0batch19.params" in os.listdir(out / "checkpoints")

    # the exported graph + params predict what the trained network predicts
    test = mx.gluon.data.vision.FashionMNIST(root=FIXTURE, train=False)
    x = mx.nd.stack(*[test[i][0] for i in range(16)]).transpose((0, 3, 1, 2))
    x = (x.astype("float32") / 255 - 0.286) / 0.353
    net = demo.lenet()
    net.load_parameters(str(out / "lenet.params"))
    ref = net(x).asnumpy()
    block = mx.gluon.SymbolBlock.imports(str(out / "lenet-symbol.json"), ["data"],
                                         str(out / "lenet-0001.params"))
    np.testing.assert_allclose(block(x).asnumpy(), ref, rtol=1e-4, atol=1e-5)
    if "lenet.onnx" in names:
        ort = pytest.importorskip("onnxruntime")
        sess = ort.InferenceSession(str(out / "lenet.onnx"), providers=["CPUExecutionProvider"])
        got = sess.run(None, {sess.get_inputs()[0].name: x.asnumpy()})[0]
        np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-4 * np.abs(ref).max())


def test_missing_data_says_where_to_put_it(demo, tmp_path, monkeypatch):
    # hide Debian's copy, which the dataset would otherwise fall back to
    monkeypatch.setattr(mx.gluon.data.vision.FashionMNIST, "_fallback_dirs", ())
    with pytest.raises(SystemExit) as info:
        demo.main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "o")])
    assert "train-images-idx3-ubyte" in str(info.value) and str(tmp_path) in str(info.value)
