"""gluon.contrib.rnn LSTMPCell against MXNet 1.9.1 (fixture), VariationalDropoutCell (one mask
per sequence, checked on cells whose outputs expose the masks) and dynamic_unroll (equal to
unroll with valid_length, which the gluon.rnn tests check against MXNet)."""
import importlib.util
import os
import re

import numpy as np
import pytest

import plait as mx
from plait import autograd
from plait.core.base import PlaitError
from plait.gluon import rnn as R
from plait.gluon.contrib import rnn as crnn
from plait.gluon.contrib.rnn.rnn_cell import dynamic_unroll

_spec = importlib.util.spec_from_file_location(
    "contrib_conv_cell_tests", os.path.join(os.path.dirname(__file__), "test_conv_rnn_cell.py"))
_conv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conv)


@pytest.mark.parametrize("hybridize", [False, True])
def test_lstmp_matches_mxnet(hybridize):
    out, last, grads, a = _conv.run_case("lstmp", hybridize)
    np.testing.assert_allclose(out, a["out"], rtol=1e-4, atol=1e-5)
    for i, s in enumerate(last):
        np.testing.assert_allclose(s, a["state%d" % i], rtol=1e-4, atol=1e-5)
    for name, g in grads.items():
        np.testing.assert_allclose(g, a["grad:" + name], rtol=1e-4, atol=1e-5, err_msg=name)


def test_lstmp_names_states_and_deferred_input_size():
    cell = crnn.LSTMPCell(4, 3)
    assert re.fullmatch(r"lstmp\d+_", cell.prefix)
    assert sorted(k[len(cell.prefix):] for k in cell.collect_params()) == [
        "h2h_bias", "h2h_weight", "h2r_weight", "i2h_bias", "i2h_weight"]
    assert cell.state_info(2) == [{"shape": (2, 3), "__layout__": "NC"},
                                  {"shape": (2, 4), "__layout__": "NC"}]
    cell.initialize()
    out, states = cell.unroll(2, mx.nd.ones((5, 2, 6)), merge_outputs=True)
    assert out.shape == (5, 2, 3) and cell.i2h_weight.shape == (16, 6)
    assert [s.shape for s in states] == [(5, 3), (5, 4)]
    assert repr(cell) == "LSTMPCell(6 -> 16 -> 3)"


def _identity_rnn(n, i2h, h2h):
    """An RNNCell computing tanh(i2h * x + h2h * h) elementwise (diagonal weights)."""
    cell = R.RNNCell(n, input_size=n)
    cell.initialize()
    cell.i2h_weight.set_data(mx.nd.array(np.eye(n) * i2h))
    cell.h2h_weight.set_data(mx.nd.array(np.eye(n) * h2h))
    return cell


def _check_mask(m, p):
    m = np.asarray(m, np.float64)
    keep = 1.0 / (1 - p)
    assert np.all(np.isclose(m, 0) | np.isclose(m, keep, rtol=1e-5)), np.unique(m)


@pytest.mark.parametrize("merge", [True, False])
def test_vardrop_inputs_one_mask_per_sequence(merge):
    n, T, p = 64, 4, 0.5
    cell = crnn.VariationalDropoutCell(_identity_rnn(n, 1.0, 0.0), drop_inputs=p)
    x = np.full((3, T, n), 0.25, np.float32)
    with autograd.train_mode():
        out, _ = cell.unroll(T, mx.nd.array(x), merge_outputs=merge)
        out2, _ = cell.unroll(T, mx.nd.array(x), merge_outputs=True)
    out = out.asnumpy() if merge else np.stack([o.asnumpy() for o in out], 1)
    mask = np.arctanh(out[:, 0]) / 0.25                       # x*mask -> tanh
    _check_mask(mask, p)
    assert 0 < (mask == 0).mean() < 1
    np.testing.assert_allclose(out, np.tanh(x * mask[:, None]), rtol=1e-5, atol=1e-6)
    assert not np.array_equal(out2.asnumpy(), out)               # a new unroll, a new mask
    with autograd.predict_mode():                                # inference: no dropout
        out3, _ = cell.unroll(T, mx.nd.array(x), merge_outputs=True)
    np.testing.assert_allclose(out3.asnumpy(), np.tanh(x), rtol=1e-6)


def test_vardrop_states_and_outputs_reuse_masks_when_stepping():
    n, p = 64, 0.5
    base = _identity_rnn(n, 0.0, 1.0)
    cell = crnn.VariationalDropoutCell(base, drop_states=p, drop_outputs=0.25)
    h0 = mx.nd.ones((2, n)) * 0.5
    x = mx.nd.zeros((2, n))
    with autograd.train_mode():
        out1, st = cell(x, [h0])
        ms, mo = cell.drop_states_mask.asnumpy(), cell.drop_outputs_mask.asnumpy()
        out2, st = cell(x, st)
        assert np.array_equal(cell.drop_states_mask.asnumpy(), ms)
        assert np.array_equal(cell.drop_outputs_mask.asnumpy(), mo)
    _check_mask(ms, p)
    _check_mask(mo, 0.25)
    h1 = np.tanh(0.5 * ms)                                       # state dropped, then the cell
    np.testing.assert_allclose(out1.asnumpy(), h1 * mo, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out2.asnumpy(), np.tanh(h1 * ms) * mo, rtol=1e-5, atol=1e-6)
    cell.reset()
    assert cell.drop_states_mask is None and cell.drop_outputs_mask is None


def test_vardrop_outputs_mask_shared_over_time_in_unroll():
    n, T = 64, 5
    cell = crnn.VariationalDropoutCell(_identity_rnn(n, 1.0, 0.0), drop_outputs=0.5)
    x = np.full((2, T, n), 0.3, np.float32)
    with autograd.train_mode():
        out, _ = cell.unroll(T, mx.nd.array(x), layout="NTC", merge_outputs=True)
    out = out.asnumpy()
    for t in range(1, T):
        np.testing.assert_array_equal(out[:, t], out[:, 0])
    _check_mask(out[:, 0] / np.tanh(0.3), 0.5)


@pytest.mark.parametrize("drops", [dict(drop_inputs=0.3), dict(drop_states=0.3),
                                   dict(drop_inputs=0.2, drop_states=0.3, drop_outputs=0.4)])
def test_vardrop_inference_equals_base_cell_also_hybridized(drops):
    base = R.LSTMCell(4, input_size=3)
    cell = crnn.VariationalDropoutCell(base, **drops)
    cell.initialize()
    x = mx.nd.random.uniform(shape=(2, 3, 3))
    vl = mx.nd.array([3, 2])
    ref, ref_s = cell.unroll(3, x, merge_outputs=True, valid_length=vl)
    base._modified = False
    plain, plain_s = base.unroll(3, x, merge_outputs=True, valid_length=vl)
    base._modified = True
    np.testing.assert_allclose(ref.asnumpy(), plain.asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(ref_s[1].asnumpy(), plain_s[1].asnumpy(), rtol=1e-6)
    net = _conv._UnrollNet(cell, 3)
    net.hybridize()
    out, _ = net(x)
    np.testing.assert_allclose(out.asnumpy(), cell.unroll(3, x, merge_outputs=True)[0]
                               .asnumpy(), rtol=1e-6)
    assert re.fullmatch(r"lstm\d+_vardrop", cell.prefix)
    assert repr(cell).startswith("VariationalDropoutCell(p_out = ")


def test_vardrop_refuses_state_dropout_on_bidirectional_and_stacks():
    bi = R.BidirectionalCell(R.LSTMCell(2), R.LSTMCell(2))
    with pytest.raises(PlaitError, match="drop_states.*Bidirectional"):
        crnn.VariationalDropoutCell(bi, drop_states=0.5)
    crnn.VariationalDropoutCell(R.BidirectionalCell(R.GRUCell(2), R.GRUCell(2)),
                                drop_inputs=0.5)                # allowed, as in MXNet
    stack = R.SequentialRNNCell()
    stack.add(R.GRUCell(2))
    with pytest.raises(PlaitError, match="drop_states"):
        crnn.VariationalDropoutCell(stack, drop_states=0.5)


@pytest.mark.parametrize("layout", ["TNC", "NTC"])
@pytest.mark.parametrize("with_length", [False, True])
def test_dynamic_unroll_equals_unroll(layout, with_length):
    cell = R.GRUCell(3, input_size=2)
    cell.initialize()
    T, N = 4, 3
    shape = (T, N, 2) if layout == "TNC" else (N, T, 2)
    x = mx.nd.random.uniform(-1, 1, shape=shape)
    begin = [mx.nd.random.uniform(shape=(N, 3))]
    vl = mx.nd.array([4, 1, 3]) if with_length else None
    out, states = dynamic_unroll(cell, x, begin, layout=layout, valid_length=vl)
    ref, ref_states = cell.unroll(T, x, begin_state=begin, layout=layout,
                                  merge_outputs=True, valid_length=vl)
    np.testing.assert_allclose(out.asnumpy(), ref.asnumpy(), rtol=1e-5, atol=1e-6)
    assert len(states) == 1
    np.testing.assert_allclose(states[0].asnumpy(), ref_states[0].asnumpy(), rtol=1e-5,
                               atol=1e-6)


class _DynamicNet(mx.gluon.HybridBlock):
    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.cell = R.LSTMCell(3, input_size=2)

    def hybrid_forward(self, F, x, h, c, valid_length):
        return dynamic_unroll(self.cell, x, [h, c], layout="TNC", valid_length=valid_length)


def test_dynamic_unroll_hybridized():
    net = _DynamicNet()
    net.initialize()
    x = mx.nd.random.uniform(shape=(4, 3, 2))
    h, c, vl = mx.nd.zeros((3, 3)), mx.nd.ones((3, 3)), mx.nd.array([4, 1, 3])
    out1, s1 = net(x, h, c, vl)
    net.hybridize()
    out2, s2 = net(x, h, c, vl)
    np.testing.assert_allclose(out2.asnumpy(), out1.asnumpy(), rtol=1e-6, atol=1e-7)
    for a, b in zip(s1, s2):
        np.testing.assert_allclose(b.asnumpy(), a.asnumpy(), rtol=1e-6, atol=1e-7)
    assert np.all(out1.asnumpy()[1:, 1] == 0)
