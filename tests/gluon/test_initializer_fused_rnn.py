"""mx.init.FusedRNN against MXNet 1.9.1 (fused_init.npz of tools/make_contrib_rnn_fixtures.py):
the packed vector after init for LSTM/GRU/RNN, 1-3 layers, bidirectional, explicit and
global inits; the forget-bias positions by a NumPy layout formula; Xavier per gate shape."""
import json
import os

import numpy as np
import pytest

import plait as mx

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "contrib_rnn", "fused_init.npz")
_Z = np.load(FIX, allow_pickle=False)
META = json.loads(str(_Z["meta"]))


def make_init(spec):
    if spec is None:
        return None
    if spec in ("one", "zero"):
        return {"one": mx.init.One, "zero": mx.init.Zero}[spec]()
    if spec == "json_one":
        return mx.init.One().dumps()      # a JSON init (MXNet 1.9.1 itself fails on it)
    return mx.init.Constant(float(spec[len("const"):]))


def start_vector(size):
    return np.random.RandomState(41).uniform(-0.5, 0.5, size=(size,)).astype(np.float32)


@pytest.mark.parametrize("path", ["attrs", "direct", "gluon"])
@pytest.mark.parametrize("case", sorted(META))
def test_matches_mxnet(case, path):
    m = META[case]
    init = mx.init.FusedRNN(make_init(m["init"]), **m["kwargs"])
    assert json.loads(init.dumps()) == json.loads(m["dumps"])
    want = _Z[case]
    arr = mx.nd.array(start_vector(want.size))
    glob = make_init(m["global"])
    if path == "attrs":      # a Variable/Parameter carrying init=FusedRNN(...), under `glob`
        glob(mx.init.InitDesc("fused_parameters", attrs={"__init__": init.dumps()}), arr)
    elif path == "direct":
        init._init_weight(mx.init.InitDesc("fused_parameters", global_init=glob), arr)
    else:
        p = mx.gluon.Parameter("lstm_parameters", shape=(want.size,), init=init)
        p.initialize(default_init=glob)  # init=... would replace the Parameter's own init
        arr = p.data()
    np.testing.assert_array_equal(arr.asnumpy(), want)


def lstm_forget_bias_positions(n_in, h, layers, dirs):
    """Indices of the '_f' biases in the RNN op's packed LSTM vector: all weights first
    (layer, direction, i2h then h2h, 4 gates i f c o), then the biases in the same order."""
    n_w = 0
    for layer in range(layers):
        cols = n_in if layer == 0 else dirs * h
        n_w += dirs * 4 * h * (cols + h)
    pos = []
    for k in range(layers * dirs * 2):          # (layer, direction, i2h/h2h) bias blocks
        start = n_w + k * 4 * h + h             # the second gate of the block
        pos.extend(range(start, start + h))
    return n_w, np.array(pos)


@pytest.mark.parametrize("layers,bidir", [(1, False), (2, True), (3, False)])
def test_forget_bias_layout_numpy(layers, bidir):
    n_in, h, dirs = 3, 2, 2 if bidir else 1
    n_w, pos = lstm_forget_bias_positions(n_in, h, layers, dirs)
    size = n_w + layers * dirs * 2 * 4 * h
    arr = mx.nd.array(start_vector(size))
    init = mx.init.FusedRNN(mx.init.One(), h, layers, "lstm", bidirectional=bidir,
                            forget_bias=3.0)
    mx.init.Zero()(mx.init.InitDesc("p", attrs={"__init__": init.dumps()}), arr)
    want = np.zeros(size, np.float32)
    want[:n_w] = 1.0
    want[pos] = 3.0
    np.testing.assert_array_equal(arr.asnumpy(), want)


def test_xavier_uses_each_gate_shape():
    n_in, h = 30, 4
    size = 4 * h * (n_in + h) + 8 * h
    arr = mx.nd.zeros((size,))
    init = mx.init.FusedRNN(mx.init.Xavier(magnitude=3), h, 1, "lstm")
    mx.init.Zero()(mx.init.InitDesc("p", attrs={"__init__": init.dumps()}), arr)
    v = arr.asnumpy()
    i2h, h2h = v[:4 * h * n_in].reshape(4, h, n_in), v[4 * h * n_in:4 * h * (n_in + h)]
    bound_i2h, bound_h2h = np.sqrt(3 / ((n_in + h) / 2)), np.sqrt(3 / h)
    assert np.abs(i2h).max() <= bound_i2h and np.abs(h2h).max() <= bound_h2h
    assert np.abs(h2h).max() > bound_i2h        # h2h gates draw from their own wider range
    np.testing.assert_array_equal(v[4 * h * (n_in + h):][[4, 5, 6, 7, 20, 21, 22, 23]], 1.0)


def test_registered_and_needs_a_global_init_when_init_is_none():
    init = mx.init.create(mx.init.FusedRNN(None, 2, 1, "gru").dumps())
    assert isinstance(init, mx.init.FusedRNN)
    with pytest.raises(ValueError, match="global initializer"):
        init._init_weight("fused_parameters", mx.nd.zeros((3 * 2 * (3 + 2 + 2),)))


def test_legacy_fused_cell_carries_the_initializer():
    """mx.rnn.FusedRNNCell's `parameters` variable has init=FusedRNN(None, ...), as in MXNet:
    a global Xavier fills the weights and the LSTM forget biases become forget_bias."""
    cell = mx.rnn.FusedRNNCell(4, num_layers=1, mode="lstm", prefix="lstm_", forget_bias=2.0)
    out, _ = cell.unroll(3, mx.sym.var("data"), layout="NTC", merge_outputs=True)
    attrs = out.attr_dict()["lstm_parameters"]
    assert json.loads(attrs["__init__"])[0] == "fusedrnn"
    arr = mx.nd.zeros((4 * 4 * (5 + 4 + 2),))
    mx.init.Xavier()(mx.init.InitDesc("lstm_parameters", attrs), arr)
    n_w, pos = lstm_forget_bias_positions(5, 4, 1, 1)
    v = arr.asnumpy()
    want_bias = np.zeros(v.size - n_w, np.float32)
    want_bias[pos - n_w] = 2.0
    np.testing.assert_array_equal(v[n_w:], want_bias)
    assert np.all(v[:n_w] != 0)
