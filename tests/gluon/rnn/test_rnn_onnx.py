"""ONNX export of the fused RNN (core/onnx/export_rnn.py): models with LSTM / GRU / RNN
layers run in onnxruntime with plait's outputs; final states too; and import back."""
import os

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError
from plait.gluon import HybridBlock, nn, rnn

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


class _Net(HybridBlock):
    def __init__(self, cls, **kw):
        super().__init__()
        with self.name_scope():
            self.rnn = getattr(rnn, cls)(6, input_size=5, **kw)
            self.out = nn.Dense(3, flatten=False)

    def hybrid_forward(self, F, x):
        return self.out(self.rnn(x))


CASES = [("LSTM", dict(num_layers=2, bidirectional=True)), ("GRU", dict(num_layers=2)),
         ("RNN", dict(activation="tanh", bidirectional=True)), ("RNN", dict(activation="relu")),
         ("LSTM", dict(layout="NTC"))]


@pytest.mark.parametrize("cls,kw", CASES, ids=["%s-%d" % (c[0], i) for i, c in enumerate(CASES)])
def test_exported_model_runs_in_onnxruntime(tmp_path, cls, kw):
    net = _Net(cls, **kw)
    net.initialize(mx.init.Uniform(0.5))
    net.hybridize()
    x = np.random.RandomState(0).uniform(-1, 1, (4, 3, 5)).astype(np.float32)
    want = net(mx.nd.array(x)).asnumpy()
    f = mx.onnx.export_model(net, None, [x.shape], np.float32, str(tmp_path / "m.onnx"))
    sess = ort.InferenceSession(f)
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_final_states_and_import_roundtrip(tmp_path):
    H, L, D = 4, 2, 2
    data, state, cell = mx.sym.var("data"), mx.sym.var("state"), mx.sym.var("state_cell")
    sym = mx.sym.RNN(data, mx.sym.var("w"), state, cell, mode="lstm", state_size=H,
                     num_layers=L, bidirectional=True, state_outputs=True)
    rs = np.random.RandomState(1)
    x = rs.uniform(-1, 1, (5, 2, 3)).astype(np.float32)
    h0 = rs.uniform(-1, 1, (L * D, 2, H)).astype(np.float32)
    c0 = rs.uniform(-1, 1, (L * D, 2, H)).astype(np.float32)
    arg_shapes, _, _ = sym.infer_shape(data=x.shape, state=h0.shape, state_cell=c0.shape)
    w = rs.uniform(-0.5, 0.5, dict(zip(sym.list_arguments(), arg_shapes))["w"])
    w = w.astype(np.float32)
    want = [o.asnumpy() for o in mx.nd.RNN(mx.nd.array(x), mx.nd.array(w), mx.nd.array(h0),
                                           mx.nd.array(c0), mode="lstm", state_size=H,
                                           num_layers=L, bidirectional=True,
                                           state_outputs=True)]
    f = mx.onnx.export_model(sym, {"w": mx.nd.array(w)}, [x.shape, h0.shape, c0.shape],
                             np.float32, str(tmp_path / "lstm.onnx"))
    sess = ort.InferenceSession(f)
    feed = dict(zip([i.name for i in sess.get_inputs()], [x, h0, c0]))
    for g, wnt in zip(sess.run(None, feed), want):
        np.testing.assert_allclose(g, wnt, rtol=1e-5, atol=1e-6)
    if not hasattr(mx.onnx, "import_model"):
        return
    isym, args, aux = mx.onnx.import_model(f)
    names = [n for n in isym.list_inputs() if n not in args and n not in aux]
    ex = isym.bind(mx.cpu(), dict({k: v for k, v in args.items()},
                                  **dict(zip(names, map(mx.nd.array, [x, h0, c0])))))
    for g, wnt in zip(ex.forward(), want):
        np.testing.assert_allclose(g.asnumpy(), wnt, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kw,match", [(dict(projection_size=2), "projection"),
                                      (dict(state_clip_min=-1, state_clip_max=1), "clipping")])
def test_unexportable_options_are_clear_errors(tmp_path, kw, match):
    net = _Net("LSTM", **kw)
    net.initialize()
    net.hybridize()
    net(mx.nd.ones((2, 1, 5)))
    with pytest.raises(PlaitError, match=match):
        mx.onnx.export_model(net, None, [(2, 1, 5)], np.float32,
                             str(tmp_path / "p.onnx"))
    assert not os.path.exists(str(tmp_path / "p.onnx"))
