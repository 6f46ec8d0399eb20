"""Recurrent cells and unroll against MXNet 1.9.1 (outputs, states, input and parameter
gradients), both layouts, merged and listed outputs, valid_length; hybridized cells;
modifiers and error cases."""
import numpy as np
import pytest

import plait as mx
from plait.gluon import rnn as R

import rnn_fixtures as fx

CELLS = fx.case_names("cell_")


def _make(kind, H, I):
    if kind == "rnn_tanh":
        return R.RNNCell(H, input_size=I, prefix="rnn0_")
    if kind == "rnn_relu":
        return R.RNNCell(H, activation="relu", input_size=I, prefix="rnn0_")
    if kind in ("lstm", "lstm_valid_length"):
        return R.LSTMCell(H, input_size=I, prefix="lstm0_")
    if kind == "gru":
        return R.GRUCell(H, input_size=I, prefix="gru0_")
    if kind == "seq":
        s = R.SequentialRNNCell(prefix="seq_")
        with s.name_scope():
            s.add(R.LSTMCell(H, input_size=I, prefix="l0_"))
            s.add(R.GRUCell(H, input_size=H, prefix="l1_"))
        return s
    if kind == "hseq":
        s = R.HybridSequentialRNNCell(prefix="hseq_")
        with s.name_scope():
            s.add(R.RNNCell(H, input_size=I, prefix="l0_"))
            s.add(R.DropoutCell(0.0))
            s.add(R.LSTMCell(H, input_size=H, prefix="l1_"))
        return s
    if kind == "bidir":
        return R.BidirectionalCell(R.LSTMCell(H, input_size=I, prefix="l_"),
                                   R.GRUCell(H, input_size=I, prefix="r_"))
    if kind == "residual":
        return R.ResidualCell(R.GRUCell(I, input_size=I, prefix="res_"))
    if kind == "zoneout":
        return R.ZoneoutCell(R.LSTMCell(H, input_size=I, prefix="zo_"), 0.0, 0.0)
    if kind == "dropout_last":
        s = R.SequentialRNNCell(prefix="dseq_")
        with s.name_scope():
            s.add(R.GRUCell(H, input_size=I, prefix="g0_"))
            s.add(R.DropoutCell(0.0))
            s.add(R.RNNCell(H, input_size=H, prefix="v0_"))
        return s
    raise KeyError(kind)


def _kind(name):
    body = name[len("cell_"):]
    if body == "lstm_valid_length":
        return body
    return body.rsplit("_", 2)[0]


def _run_case(name, hybridize=False):
    meta, data = fx.load(name)
    cell = _make(_kind(name), meta["H"], meta["I"])
    cell.initialize()
    T = meta["T"]

    def call(b, x, vl=None, **states):
        st = [states["s%d" % j] for j in range(len(states))]
        outs, new = b.unroll(T, x, begin_state=st or None, layout=meta["layout"],
                             merge_outputs=meta["merge"], valid_length=vl)
        return [outs, new]
    got_out, got_grad = fx.run(cell, data, call, hybridize=hybridize)
    fx.assert_matches(name, data, got_out, got_grad)


def test_fixture_cases_exist():
    assert len(CELLS) == 41


@pytest.mark.parametrize("name", CELLS)
def test_cell_matches_mxnet(name):
    _run_case(name)


@pytest.mark.parametrize("name", ["cell_lstm_NTC_merge", "cell_gru_TNC_merge", "cell_hseq_NTC_merge",
                                  "cell_residual_TNC_merge"])
def test_hybridized_cell_matches_mxnet(name):
    _run_case(name, hybridize=True)


def test_step_by_step_equals_unroll():
    cell = R.GRUCell(4, input_size=3)
    cell.initialize(mx.init.Uniform(0.5))
    x = mx.nd.array(np.random.RandomState(0).randn(2, 5, 3))
    outs, states = cell.unroll(5, x, layout="NTC", merge_outputs=False)
    s = cell.begin_state(batch_size=2)
    for t in range(5):
        o, s = cell(x[:, t, :], s)
        np.testing.assert_allclose(o.asnumpy(), outs[t].asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(s[0].asnumpy(), states[0].asnumpy(), rtol=1e-6)


def test_state_info_and_param_names():
    c = R.LSTMCell(3, prefix="lstm0_")
    assert [i["shape"] for i in c.state_info(2)] == [(2, 3), (2, 3)]
    assert sorted(c.collect_params().keys()) == ["lstm0_h2h_bias", "lstm0_h2h_weight",
                                                 "lstm0_i2h_bias", "lstm0_i2h_weight"]
    seq = R.SequentialRNNCell()
    seq.add(R.RNNCell(2))
    seq.add(R.LSTMCell(2))
    assert len(seq.state_info(1)) == 3 and len(seq.begin_state(batch_size=1)) == 3


def test_deferred_input_size():
    c = R.LSTMCell(3)
    c.initialize()
    out, _ = c.unroll(2, mx.nd.ones((4, 2, 5)), merge_outputs=True)
    assert out.shape == (4, 2, 3) and c.i2h_weight.shape == (12, 5)


def test_symbolic_unroll_default_states():
    c = R.LSTMCell(3, input_size=2, prefix="l_")
    outs, states = c.unroll(3, mx.sym.var("data"), layout="TNC", merge_outputs=True)
    _, shapes, _ = mx.sym.Group([outs] + states).infer_shape(data=(3, 4, 2))
    assert shapes == [(3, 4, 3), (4, 3), (4, 3)]


def test_symbolic_unroll():
    c = R.GRUCell(3, input_size=2, prefix="g_")
    begin = c.begin_state(func=mx.sym.var)
    outs, states = c.unroll(3, mx.sym.var("data"), begin_state=begin, layout="NTC",
                            merge_outputs=True)
    assert "g_i2h_weight" in outs.list_arguments()
    _, shapes, _ = outs.infer_shape(data=(4, 3, 2), g_begin_state_0=(4, 3))
    assert shapes == [(4, 3, 3)]


def test_modifier_rules():
    base = R.LSTMCell(3)
    R.ZoneoutCell(base, 0.5, 0.5)
    with pytest.raises(AssertionError, match="modif"):
        base.begin_state(batch_size=1)
    with pytest.raises(ValueError, match="SequentialRNNCell"):
        R.ZoneoutCell(R.SequentialRNNCell())
    bi = R.BidirectionalCell(R.RNNCell(2), R.RNNCell(2))
    with pytest.raises(NotImplementedError, match="unroll"):
        bi(mx.nd.ones((1, 2)), bi.begin_state(batch_size=1))


def test_zoneout_and_variational_dropout_in_training():
    mx.random.seed(5)
    x = mx.nd.array(np.random.RandomState(5).randn(3, 4, 2))
    zc = R.ZoneoutCell(R.RNNCell(50, input_size=2), zoneout_outputs=0.5, zoneout_states=0.0)
    zc.initialize()
    with mx.autograd.record():
        outs, _ = zc.unroll(4, x, merge_outputs=False)
    prev = np.zeros((3, 50))
    kept = 0
    for o in outs:   # each entry is either the new output or the previous one
        o = o.asnumpy()
        kept += (o == prev).mean()
        prev = o
    assert 0.2 < kept / 4 < 0.8
    vd = R.VariationalDropoutCell(R.GRUCell(4, input_size=2), drop_inputs=0.5)
    vd.initialize()
    with mx.autograd.record():
        y, _ = vd.unroll(4, mx.nd.ones((3, 4, 2)), merge_outputs=True)
    y.backward()
    assert np.isfinite(vd.base_cell.i2h_weight.grad().asnumpy()).all()
    # prediction: both are the plain cell
    plain = vd.unroll(4, mx.nd.ones((3, 4, 2)), merge_outputs=True)[0]
    vd.base_cell._modified = False
    ref = vd.base_cell.unroll(4, mx.nd.ones((3, 4, 2)), merge_outputs=True)[0]
    np.testing.assert_allclose(plain.asnumpy(), ref.asnumpy(), rtol=1e-6)
