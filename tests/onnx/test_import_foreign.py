"""Models exported by other frameworks import into plait and give their outputs:
PyTorch 2.13 (torch.onnx.export) and real MXNet 1.9.1 (mx.onnx.export_model), made by
tools/make_onnx_fixtures.py (committed .onnx + inputs/outputs .npz)."""
import os

import numpy as np
import pytest

pytest.importorskip("onnx")
import plait as mx  # noqa: E402

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "onnx")
MODELS = ["torch_small_cnn", "torch_resnetish", "torch_lstm", "torch_gru", "mxnet_cnn"]


def _load(name):
    z = np.load(os.path.join(FIX, name + ".npz"), allow_pickle=False)
    ins = [z["in%d" % i] for i in range(sum(k.startswith("in") for k in z.files))]
    outs = [z["out%d" % i] for i in range(sum(k.startswith("out") for k in z.files))]
    return os.path.join(FIX, name + ".onnx"), ins, outs


def _close(got, want):
    scale = float(np.max(np.abs(want))) if want.size else 1.0
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * max(scale, 1.0))


@pytest.mark.parametrize("name", MODELS)
def test_import_model_matches_the_exporting_framework(name):
    path, ins, outs = _load(name)
    sym, args, aux = mx.onnx.import_model(path)
    data = [n for n in sym.list_inputs() if n not in args and n not in aux]
    feed = dict(args)
    feed.update({n: mx.nd.array(a) for n, a in zip(sorted(data), ins)}
                if len(data) > 1 else {data[0]: mx.nd.array(ins[0])})
    exe = sym.bind(mx.cpu(), {n: feed[n] for n in sym.list_arguments()}, grad_req="null",
                   aux_states=aux)
    got = exe.forward()
    assert len(got) == len(outs)
    for g, w in zip(got, outs):
        _close(g.asnumpy(), w)


@pytest.mark.parametrize("name", ["torch_small_cnn", "mxnet_cnn"])
def test_import_to_gluon_matches(name):
    path, ins, outs = _load(name)
    net = mx.onnx.import_to_gluon(path, mx.cpu())
    _close(net(mx.nd.array(ins[0])).asnumpy(), outs[0])
    net.hybridize()
    _close(net(mx.nd.array(ins[0])).asnumpy(), outs[0])
