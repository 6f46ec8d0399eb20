"""gluon.rnn.RNN / LSTM / GRU against MXNet 1.9.1 (outputs, input and parameter gradients),
hybridized against imperative, fused layer against unrolled cells, MXNet .params loading."""
import os

import numpy as np
import pytest

import plait as mx
from plait.gluon import rnn

import rnn_fixtures as fx

LAYERS = fx.case_names("layer_")


def make_layer(meta):
    kw = {k: meta[k] for k in ("num_layers", "bidirectional", "layout", "prefix")}
    if "activation" in meta:
        kw["activation"] = meta["activation"]
    return getattr(rnn, meta["cls"])(meta["hidden"], input_size=meta["input_size"], **kw)


def call_layer(b, x, h0=None, c0=None):
    if h0 is None:
        return b(x)
    return b(x, [h0, c0] if c0 is not None else [h0])


def test_fixture_cases_exist():
    assert len(LAYERS) == 24


@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_mxnet(name):
    meta, data = fx.load(name)
    layer = make_layer(meta)
    layer.initialize()
    got_out, got_grad = fx.run(layer, data, call_layer)
    fx.assert_matches(name, data, got_out, got_grad)


@pytest.mark.parametrize("name", [n for n in LAYERS if "l2_bi" in n and "states" in n])
def test_hybridized_layer_matches_mxnet(name):
    meta, data = fx.load(name)
    layer = make_layer(meta)
    layer.initialize()
    got_out, got_grad = fx.run(layer, data, call_layer, hybridize=True)
    fx.assert_matches(name, data, got_out, got_grad)


def test_parameter_names_are_mxnets():
    layer = rnn.LSTM(4, num_layers=2, bidirectional=True, input_size=3, prefix="lstm0_",
                     projection_size=2)
    names = sorted(layer.collect_params().keys())
    assert "lstm0_l0_i2h_weight" in names and "lstm0_r1_h2r_weight" in names
    assert len(names) == 2 * 2 * 5
    assert layer.l1_i2h_weight.shape == (16, 4)   # input: 2 directions x projection 2
    assert layer.l0_h2h_weight.shape == (16, 2)


def test_mxnet_saved_params_load():
    """lstm_layer.params was written by MXNet's save_parameters ('_unfused.*' names)."""
    meta, data = fx.load("layer_lstm_l2_bi_TNC_states")
    layer = make_layer(meta)
    layer.load_parameters(os.path.join(fx.DIR, "lstm_layer.params"))
    for key, v in data.items():
        if key.startswith("param:"):
            np.testing.assert_array_equal(layer.collect_params()[key[6:]].data().asnumpy(), v)
    x = mx.nd.array(data["in:x"])
    out, _ = layer(x, [mx.nd.array(data["in:h0"]), mx.nd.array(data["in:c0"])])
    np.testing.assert_allclose(out.asnumpy(), data["out:0"], rtol=1e-4, atol=1e-5)


def test_save_load_roundtrip(tmp_path):
    a = rnn.GRU(3, num_layers=2, input_size=2)
    a.initialize()
    f = str(tmp_path / "gru.params")
    a.save_parameters(f)
    b = rnn.GRU(3, num_layers=2, input_size=2)
    b.load_parameters(f)
    x = mx.nd.array(np.random.RandomState(0).randn(4, 2, 2))
    np.testing.assert_array_equal(a(x).asnumpy(), b(x).asnumpy())


@pytest.mark.parametrize("cls,layout", [("LSTM", "NTC"), ("GRU", "TNC"), ("RNN", "TNC")])
def test_layer_equals_unrolled_cells(cls, layout):
    layer = getattr(rnn, cls)(5, num_layers=2, bidirectional=True, layout=layout, input_size=3)
    layer.initialize(mx.init.Uniform(0.5))
    shape = (4, 2, 3) if layout == "TNC" else (2, 4, 3)
    x = mx.nd.array(np.random.RandomState(1).uniform(-1, 1, shape))
    cells = layer._unfuse()
    want = cells.unroll(4, x, layout=layout, merge_outputs=True)[0]
    np.testing.assert_allclose(layer(x).asnumpy(), want.asnumpy(), rtol=1e-5, atol=1e-6)


def test_deferred_input_size_and_hybridize():
    layer = rnn.LSTM(6, num_layers=2)
    layer.initialize()
    x = mx.nd.array(np.random.RandomState(2).randn(3, 2, 5))
    y0 = layer(x).asnumpy()
    assert layer.l0_i2h_weight.shape == (24, 5)
    layer.hybridize()
    np.testing.assert_allclose(layer(x).asnumpy(), y0, rtol=1e-6, atol=1e-7)


def test_begin_state_and_state_info():
    layer = rnn.LSTM(4, num_layers=3, bidirectional=True, projection_size=2)
    info = layer.state_info(5)
    assert [i["shape"] for i in info] == [(6, 5, 2), (6, 5, 4)]
    st = layer.begin_state(5)
    assert [s.shape for s in st] == [(6, 5, 2), (6, 5, 4)]
    sym = layer.begin_state(0, func=mx.sym.var)
    assert sym[0].name.endswith("h0_0")


def test_bad_state_shape_is_a_clear_error():
    layer = rnn.GRU(4, input_size=3)
    layer.initialize()
    with pytest.raises(ValueError, match="Expecting"):
        layer(mx.nd.ones((2, 3, 3)), [mx.nd.zeros((1, 2, 4))])


def test_dropout_between_layers_trains():
    """Dropout masks are reused by the backward (gradients finite, and identical across
    two backward passes of the same forward)."""
    mx.random.seed(3)
    layer = rnn.LSTM(4, num_layers=2, dropout=0.5, input_size=3)
    layer.initialize()
    x = mx.nd.array(np.random.RandomState(3).randn(5, 2, 3))
    with mx.autograd.record():
        y = layer(x)
    y.backward(retain_graph=True)
    g1 = layer.l0_i2h_weight.grad().asnumpy().copy()
    y.backward()
    np.testing.assert_array_equal(g1, layer.l0_i2h_weight.grad().asnumpy())
    assert np.isfinite(g1).all() and np.abs(g1).sum() > 0
    # in prediction dropout is off: deterministic
    np.testing.assert_array_equal(layer(x).asnumpy(), layer(x).asnumpy())


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_sequence_length_equals_truncated_runs(cls):
    """With use_sequence_length, each sequence behaves as if run alone on its valid
    steps: outputs past the length are zero and the states are those of its last step."""
    layer = getattr(rnn, cls)(4, num_layers=2, bidirectional=True, input_size=3,
                              use_sequence_length=True)
    layer.initialize(mx.init.Uniform(0.5))
    rs = np.random.RandomState(4)
    x = rs.uniform(-1, 1, (5, 3, 3)).astype(np.float32)
    lens = np.array([5, 2, 3], np.float32)
    states = layer.begin_state(3)
    out, new = layer(mx.nd.array(x), states, mx.nd.array(lens))
    for b, n in enumerate(lens.astype(int)):
        ref = getattr(rnn, cls)(4, num_layers=2, bidirectional=True, input_size=3,
                                params=layer.collect_params())
        o, s = ref(mx.nd.array(x[:n, b:b + 1]), ref.begin_state(1))
        np.testing.assert_allclose(out.asnumpy()[:n, b], o.asnumpy()[:, 0], rtol=1e-5,
                                   atol=1e-6)
        assert (out.asnumpy()[n:, b] == 0).all()
        for got, want in zip(new, s):
            np.testing.assert_allclose(got.asnumpy()[:, b], want.asnumpy()[:, 0], rtol=1e-5,
                                       atol=1e-6)


def test_embedding_sparse_grad_is_accepted_with_a_dense_gradient():
    x = mx.nd.array([[1, 2, 1], [3, 1, 0]])
    grads = []
    for sparse in (True, False):
        e = mx.gluon.nn.Embedding(5, 3, sparse_grad=sparse)
        e.initialize()
        with mx.autograd.record():
            y = e(x)
        y.backward()
        grads.append(e.weight.grad().asnumpy())
    want = np.zeros((5, 3))
    np.add.at(want, x.asnumpy().astype(int).ravel(), 1.0)
    np.testing.assert_array_equal(grads[0], want)
    np.testing.assert_array_equal(grads[1], want)


@pytest.mark.parametrize("cls", ["lstm", "gru"])
@pytest.mark.parametrize("hybrid", [False, True])
def test_mxnet_exported_model_loads_and_runs(cls, hybrid):
    """A hybridized MXNet net with a fused layer, exported by MXNet: its graph begins the
    recurrence with zeros of shape (L*D, 0, H) (MXNet fills the 0 by inference)."""
    base = os.path.join(fx.DIR, "exported_" + cls)
    z = np.load(base + ".npz", allow_pickle=False)
    net = mx.gluon.SymbolBlock.imports(base + "-symbol.json", ["data"], base + "-0000.params")
    if hybrid:
        net.hybridize()
    x = mx.nd.array(z["x"])
    x.attach_grad()
    with mx.autograd.record():
        y = net(x)
    y.backward(mx.nd.array(z["head"]))
    np.testing.assert_allclose(y.asnumpy(), z["y"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), z["dx"], rtol=1e-4, atol=1e-6)
