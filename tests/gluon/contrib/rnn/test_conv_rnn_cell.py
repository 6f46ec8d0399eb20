"""gluon.contrib.rnn convolutional cells against MXNet 1.9.1 (tools/make_contrib_rnn_fixtures.py):
outputs, last states and input/state/parameter gradients of an unroll on fixed weights,
imperative and hybridized; parameter names and loading MXNet's .params; the channel-last
layouts (which MXNet's CPU build cannot run) against the channel-first cells; errors."""
import json
import os
import re

import numpy as np
import pytest

import plait as mx
from plait import autograd
from plait.core.base import PlaitError
from plait.gluon.contrib import rnn as crnn

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "contrib_rnn")
_Z = np.load(os.path.join(FIX, "cells.npz"), allow_pickle=False)
META = json.loads(str(_Z["meta"]))


def _arrays(case):
    return {k[len(case) + 1:]: _Z[k] for k in _Z.files if k.startswith(case + "/")}


def make_cell(case):
    m = META[case]
    return getattr(crnn, m["cls"])(prefix=m["prefix"], **m["kwargs"])


def run_case(case, hybridize, layout="NTC", merge=True):
    """Unroll the fixture's cell on its weights and inputs; returns outputs (NTC merged),
    states and the gradients of the fixture's loss."""
    m, a = META[case], _arrays(case)
    cell = make_cell(case)
    cell.initialize()
    for name, p in cell.collect_params().items():
        p.set_data(mx.nd.array(a["param:" + name]))
    if hybridize:
        cell.hybridize()
    x = mx.nd.array(a["in:x"] if layout == "NTC" else np.swapaxes(a["in:x"], 0, 1))
    states = [mx.nd.array(a["in:s%d" % i]) for i in range(m["n_states"])]
    for v in [x] + states:
        v.attach_grad()
    with autograd.record():
        out, last = cell.unroll(m["T"], x, begin_state=states, layout=layout,
                                merge_outputs=merge)
        if not merge:
            out = mx.nd.stack(*out, axis=layout.find("T"))
        if layout == "TNC":
            out = mx.nd.swapaxes(out, 0, 1)
        loss = (out * mx.nd.array(a["head:out"])).sum()
        for i, s in enumerate(last):
            loss = loss + (s * mx.nd.array(a["head:s%d" % i])).sum()
    loss.backward()
    grads = {"x": x.grad.asnumpy() if layout == "NTC" else np.swapaxes(x.grad.asnumpy(), 0, 1)}
    grads.update({"s%d" % i: s.grad.asnumpy() for i, s in enumerate(states)})
    grads.update({n: p.grad().asnumpy() for n, p in cell.collect_params().items()})
    return out.asnumpy(), [s.asnumpy() for s in last], grads, a


CONV_CASES = [c for c in META if META[c]["cls"].startswith("Conv")]


@pytest.mark.parametrize("hybridize", [False, True])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_cell_matches_mxnet(case, hybridize):
    out, last, grads, a = run_case(case, hybridize)
    np.testing.assert_allclose(out, a["out"], rtol=1e-4, atol=1e-5)
    for i, s in enumerate(last):
        np.testing.assert_allclose(s, a["state%d" % i], rtol=1e-4, atol=1e-5)
    for name, g in grads.items():
        np.testing.assert_allclose(g, a["grad:" + name], rtol=1e-4, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("case", ["c1gru", "c2lstm", "c3rnn"])
def test_conv_cell_tnc_and_listed_outputs(case):
    out, last, grads, a = run_case(case, False, layout="TNC", merge=False)
    np.testing.assert_allclose(out, a["out"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grads["x"], a["grad:x"], rtol=1e-4, atol=1e-5)


def test_parameter_names_and_shapes_are_mxnets():
    for case in CONV_CASES:
        m, a = META[case], _arrays(case)
        cell = make_cell(case)
        names = sorted(cell.collect_params().keys())
        assert names == m["params"]
        for n in names:
            assert cell.collect_params()[n].shape == a["param:" + n].shape
    fresh = crnn.Conv2DLSTMCell((3, 5, 5), 4, 3, 3)
    assert re.fullmatch(r"conv_lstm\d+_", fresh.prefix)
    assert re.fullmatch(r"conv_gru\d+_", crnn.Conv1DGRUCell((3, 5), 4, 3, 3).prefix)
    assert re.fullmatch(r"conv_rnn\d+_", crnn.Conv3DRNNCell((1, 3, 3, 3), 4, 3, 3).prefix)
    assert fresh.state_info(2) == [{"shape": (2, 4, 3, 3), "__layout__": "NCHW"}] * 2


def test_loads_mxnet_saved_params():
    cell = crnn.Conv2DLSTMCell((2, 4, 4), 2, 3, 3, prefix="saved_")
    cell.collect_params().load(os.path.join(FIX, "conv_lstm.params"))
    mxnet_params = mx.nd.load(os.path.join(FIX, "conv_lstm.params"))
    assert sorted(mxnet_params) == sorted(cell.collect_params().keys())
    for name, p in cell.collect_params().items():
        np.testing.assert_array_equal(p.data().asnumpy(), mxnet_params[name].asnumpy())
    out, states = cell(mx.nd.ones((1, 2, 4, 4)), cell.begin_state(batch_size=1))
    assert out.shape == (1, 2, 2, 2) and states[1].shape == (1, 2, 2, 2)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_channel_last_equals_channel_first(kind, dims):
    """A channel-last cell with MXNet's channel-last weight shapes (O, *k, I) equals the
    channel-first cell on transposed data, weights and states, gradients included."""
    first_layout, last_layout = {1: ("NCW", "NWC"), 2: ("NCHW", "NHWC"),
                                 3: ("NCDHW", "NDHWC")}[dims]
    spatial = (5, 4, 3)[:dims]
    kw = dict(hidden_channels=2, i2h_kernel=(2, 3, 1)[:dims], h2h_kernel=(3, 1, 3)[:dims],
              i2h_pad=(1, 1, 0)[:dims], i2h_dilate=(1, 2, 1)[:dims], h2h_dilate=(2, 1, 1)[:dims])
    cls = getattr(crnn, "Conv%dD%sCell" % (dims, kind))
    cf = cls((3,) + spatial, conv_layout=first_layout, **kw)
    cl = cls(spatial + (3,), conv_layout=last_layout, **kw)
    cf.initialize()
    cl.initialize()
    to_last = (0,) + tuple(range(2, dims + 2)) + (1,)
    for (n, pf), pl in zip(sorted(cf.collect_params().items()),
                           [p for _, p in sorted(cl.collect_params().items())]):
        v = np.random.RandomState(len(n)).uniform(-0.5, 0.5, pf.shape).astype(np.float32)
        pf.set_data(mx.nd.array(v))
        pl.set_data(mx.nd.array(v.transpose(to_last) if v.ndim > 1 else v))
    rs = np.random.RandomState(3)
    x = rs.uniform(-1, 1, (2, 3, 3) + spatial).astype(np.float32)       # (N, T, C, ...)
    xs = mx.nd.array(x), mx.nd.array(x.transpose((0, 1) + tuple(range(3, dims + 3)) + (2,)))
    results = []
    for cell, xi in zip((cf, cl), xs):
        xi.attach_grad()
        with autograd.record():
            out, states = cell.unroll(3, xi, layout="NTC", merge_outputs=True)
            loss = (out * out).sum() + sum((s * 0.5).sum() for s in states)
        loss.backward()
        results.append((out.asnumpy(), [s.asnumpy() for s in states], xi.grad.asnumpy(),
                        cell.i2h_weight.grad().asnumpy()))
    (of, sf, gf, wf), (ol, sl, gl, wl) = results
    step_last = (0, 1) + tuple(range(3, dims + 3)) + (2,)
    np.testing.assert_allclose(ol, of.transpose(step_last), rtol=1e-5, atol=1e-6)
    for a, b in zip(sl, sf):
        np.testing.assert_allclose(a, b.transpose(to_last), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gl, gf.transpose(step_last), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(wl, wf.transpose(to_last), rtol=1e-5, atol=1e-6)


class _UnrollNet(mx.gluon.HybridBlock):
    def __init__(self, cell, length):
        super().__init__()
        self.cell, self.length = cell, length

    def hybrid_forward(self, F, x):
        return self.cell.unroll(self.length, x, layout="NTC", merge_outputs=True)


def test_unroll_inside_hybridized_block_without_begin_state():
    cell = crnn.Conv2DGRUCell((2, 4, 4), 3, 3, 3, i2h_pad=1)
    net = _UnrollNet(cell, 2)
    net.initialize()
    x = mx.nd.random.uniform(shape=(2, 2, 2, 4, 4))
    out1, s1 = net(x)
    net.hybridize()
    out2, s2 = net(x)
    np.testing.assert_allclose(out2.asnumpy(), out1.asnumpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(s2[0].asnumpy(), s1[0].asnumpy(), rtol=1e-6, atol=1e-7)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(PlaitError, match="h2h_kernel.*odd"):
        crnn.Conv2DLSTMCell((2, 5, 5), 3, 3, 2)
    with pytest.raises(PlaitError, match="i2h_pad.*2 ints"):
        crnn.Conv2DRNNCell((2, 5, 5), 3, 3, 3, i2h_pad=(1, 1, 1))
    with pytest.raises(PlaitError, match="conv_layout.*NCHW"):
        crnn.Conv2DGRUCell((2, 5, 5), 3, 3, 3, conv_layout="NCW")
    with pytest.raises(PlaitError, match="input_shape"):
        crnn.Conv1DRNNCell((2, 5, 5), 3, 3, 3)


def test_repr():
    cell = crnn.Conv2DLSTMCell((3, 5, 5), 4, 3, 3)
    assert repr(cell) == "Conv2DLSTMCell(3 -> 16, tanh, NCHW)"
    assert "Conv1DGRUCell" in crnn.Conv1DGRUCell.__doc__.split("\n")[0] or \
        "1D convolutional GRU" in crnn.Conv1DGRUCell.__doc__
