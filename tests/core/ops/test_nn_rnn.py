"""The fused RNN op: real MXNet 1.9.1 outputs and gradients (tests/fixtures/rnn/op_*.npz),
finite-difference gradients through autograd (the cached-forward path of _backward_RNN),
the recompute path, the symbolic executor, dropout, and shape inference."""
import glob
import json
import os

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError
from plait.core.ops import nn_rnn, registry
from plait.core.ops.nn_rnn_defs import _CASES, _inputs

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "rnn")
OP_CASES = sorted(os.path.basename(f)[:-4] for f in glob.glob(os.path.join(FIX, "op_*.npz")))
NAMES = ("data", "parameters", "state", "state_cell")


def _run(ins, attrs, heads, record=True):
    nd = [mx.nd.array(x, dtype=x.dtype) for x in ins]
    for v in nd[:4]:
        if np.dtype(v.dtype).kind == "f":
            v.attach_grad()
    with mx.autograd.record(train_mode=record):
        outs = mx.nd.RNN(*nd, **attrs)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    mx.autograd.backward(list(outs), [mx.nd.array(h) for h in heads])
    return [o.asnumpy() for o in outs], [v.grad.asnumpy() for v in nd if v.grad is not None]


def test_op_fixtures_exist():
    assert len(OP_CASES) == 8


@pytest.mark.parametrize("name", OP_CASES)
def test_matches_mxnet(name):
    z = np.load(os.path.join(FIX, name + ".npz"), allow_pickle=False)
    meta = json.loads(str(z["meta"]))
    names = [n for n in NAMES if "in:" + n in z.files]
    n_out = 3 if meta["mode"] == "lstm" else 2
    outs, grads = _run([z["in:" + n] for n in names], dict(meta, state_outputs=True),
                       [z["head:%d" % k] for k in range(n_out)])
    for k, o in enumerate(outs):
        np.testing.assert_allclose(o, z["out:%d" % k], rtol=1e-5, atol=1e-6, err_msg=name)
    for n, g in zip(names, grads):
        np.testing.assert_allclose(g, z["grad:" + n], rtol=1e-4, atol=1e-6,
                                   err_msg="%s d/d%s" % (name, n))


def _objective(ins, attrs, heads):
    a = registry.get("RNN").parse_attrs(dict(attrs, state_outputs=True))
    x, w, h0, c0, sl = nn_rnn._split(a, ins)
    res = nn_rnn.reference_rnn(a, x, w, h0, c0, sl)
    return sum(float((r * h).sum()) for r, h in zip(res, heads))


@pytest.mark.parametrize("k", [i for i, c in enumerate(_CASES) if not c[7].get("p")])
def test_gradient_matches_finite_differences(k):
    """Analytic gradients (forward in training -> cached reserve -> BPTT) against central
    differences of the plain NumPy reference, in float64."""
    ins, attrs = _inputs(np.float64, _CASES[k], 10 * k)
    attrs = dict(attrs, state_outputs=True)
    a = registry.get("RNN").parse_attrs(dict(attrs))
    shapes = [np.asarray(r).shape for r in nn_rnn.reference_rnn(a, *nn_rnn._split(a, ins))
              if r is not None]
    rs = np.random.RandomState(k)
    heads = [rs.uniform(-1, 1, s) for s in shapes][:3 if a.mode == "lstm" else 2]
    _, grads = _run(ins, attrs, heads)
    n_diff = 4 if a.mode == "lstm" else 3
    for i in range(n_diff):
        x = ins[i]
        num = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            old = x[j]
            x[j] = old + 1e-6
            fp = _objective(ins, attrs, heads)
            x[j] = old - 1e-6
            fm = _objective(ins, attrs, heads)
            x[j] = old
            num[j] = (fp - fm) / 2e-6
        np.testing.assert_allclose(grads[i], num, rtol=1e-5, atol=1e-7,
                                   err_msg="case %d d/d%s" % (k, NAMES[i]))


def test_recompute_path_equals_cached_path():
    ins, attrs = _inputs(np.float32, _CASES[4], 40)
    attrs = dict(attrs, state_outputs=True)
    heads = [np.ones(s, np.float32) for s in [(2, 2, 4), (4, 2, 2), (4, 2, 2)]]
    _, cached = _run(ins, attrs, heads)
    nd = [mx.nd.array(x) for x in ins]
    for v in nd:
        v.attach_grad()
    with mx.autograd.record():
        outs = mx.nd.RNN(*nd, **attrs)
    mx.nd.waitall()
    nn_rnn.clear_cache()
    mx.autograd.backward(list(outs), [mx.nd.array(h) for h in heads])
    for g, v in zip(cached, nd):
        np.testing.assert_allclose(v.grad.asnumpy(), g, rtol=1e-6, atol=1e-7)


def test_overwritten_output_is_not_trusted():
    """The cache is keyed by the output buffer; an output changed after the forward makes
    the backward recompute (with p=0) instead of using stale activations."""
    ins, attrs = _inputs(np.float64, _CASES[0], 0)
    a = registry.get("RNN").parse_attrs(dict(attrs))
    out = np.empty((3, 2, 2))
    a["__is_train__"] = True
    registry.get("RNN").forward(np, a, ins, [out])
    assert nn_rnn._lookup(np, out, ins[0], ins[1]) is not None
    out[0, 0, 0] += 1.0
    assert nn_rnn._lookup(np, out, ins[0], ins[1]) is None


def test_dropout_needs_its_masks():
    mx.random.seed(1)
    ins, attrs = _inputs(np.float32, _CASES[9], 90)
    nd = [mx.nd.array(x) for x in ins]
    nd[1].attach_grad()
    with mx.autograd.record():
        y = mx.nd.RNN(*nd, **attrs)
    with mx.autograd.record(train_mode=False):
        y_pred = mx.nd.RNN(*nd, **attrs)
    assert not np.allclose(y.asnumpy(), y_pred.asnumpy())   # dropout was active
    mx.nd.waitall()
    nn_rnn.clear_cache()
    with pytest.raises(PlaitError, match="dropout"):
        y.backward()
        nd[1].grad.asnumpy()


def test_dropout_masks_scale():
    """Between layers, entries are dropped with probability p and the rest scaled by
    1/(1-p): rnn_relu with identity-like weights passes the mask through."""
    mx.random.seed(2)
    T, N, H = 4, 50, 20
    a = registry.get("RNN").parse_attrs(dict(mode="rnn_relu", state_size=H, num_layers=2,
                                              p=0.4))
    w = np.zeros(nn_rnn.param_size(a, H), np.float32)
    layers, _ = nn_rnn.K.param_layout(a, H)
    for row in layers:
        nn_rnn.K.view(w, row[0].wx)[...] = np.eye(H)
    x = np.abs(np.random.RandomState(0).randn(T, N, H)).astype(np.float32) + 0.5
    with mx.autograd.record():
        y = mx.nd.RNN(mx.nd.array(x), mx.nd.array(w), mx.nd.zeros((2, N, H)), mode="rnn_relu",
                      state_size=H, num_layers=2, p=0.4).asnumpy()
    kept = y != 0
    assert 0.5 < kept.mean() < 0.7
    np.testing.assert_allclose(y[kept], (x / 0.6)[kept], rtol=1e-5)


def test_symbolic_executor_equals_imperative():
    ins, attrs = _inputs(np.float32, _CASES[1], 10)
    attrs = dict(attrs)
    names = ["data", "parameters", "state"]
    sym = mx.sym.RNN(*[mx.sym.var(n) for n in names], **attrs)
    assert sym.list_arguments() == names
    args = {n: mx.nd.array(x) for n, x in zip(names, ins)}
    grads = {n: mx.nd.zeros(x.shape) for n, x in zip(names, ins)}
    ex = sym.bind(mx.cpu(), args, args_grad=grads)
    outs = ex.forward(is_train=True)
    heads = [mx.nd.ones(o.shape) for o in outs]
    ex.backward(heads)
    want_out, want_grads = _run(ins, attrs, [h.asnumpy() for h in heads])
    for o, w in zip(outs, want_out):
        np.testing.assert_allclose(o.asnumpy(), w, rtol=1e-6, atol=1e-7)
    for n, w in zip(names, want_grads):
        np.testing.assert_allclose(grads[n].asnumpy(), w, rtol=1e-5, atol=1e-6)
    # and the graph survives a JSON round trip
    back = mx.sym.load_json(sym.tojson())
    assert back.list_arguments() == names


def test_symbol_infers_parameter_and_state_shapes():
    sym = mx.sym.RNN(mx.sym.var("data"), mx.sym.var("parameters"), mx.sym.var("state"),
                     mx.sym.var("state_cell"), mode="lstm", state_size=4, num_layers=2,
                     bidirectional=True, state_outputs=True)
    args, outs, _ = sym.infer_shape(data=(5, 3, 6))
    # per layer/direction: 4*4*(in + 4) weights + 2*16 biases; layer 2 input is 2*4
    assert args == [(5, 3, 6), (2 * (16 * 10 + 32) + 2 * (16 * 12 + 32),), (4, 3, 4),
                    (4, 3, 4)]
    assert outs == [(5, 3, 8), (4, 3, 4), (4, 3, 4)]


def test_param_concat_packs_in_order():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(4.0) + 10
    r = mx.nd._rnn_param_concat(mx.nd.array(a), mx.nd.array(b), dim=0, num_args=2)
    np.testing.assert_array_equal(r.asnumpy(), np.concatenate([a.ravel(), b]))


def test_placeholder_begin_state_reads_as_zeros():
    """MXNet graphs start from zeros of shape (L*D, 0, H); the op reads them as zeros."""
    ins, attrs = _inputs(np.float32, _CASES[4], 40)   # lstm, 2 layers, bidirectional
    x, w, h0, c0 = ins
    want = mx.nd.RNN(mx.nd.array(x), mx.nd.array(w), mx.nd.zeros(h0.shape),
                     mx.nd.zeros(c0.shape), **attrs)
    empty = (h0.shape[0], 0, h0.shape[2])
    nd = [mx.nd.array(x), mx.nd.array(w), mx.nd.zeros(empty), mx.nd.zeros(empty)]
    for v in nd:
        v.attach_grad()
    with mx.autograd.record():
        got = mx.nd.RNN(*nd, **attrs)
    got[0].backward()
    for g, wnt in zip(got, want):
        np.testing.assert_allclose(g.asnumpy(), wnt.asnumpy(), rtol=1e-6)
    assert nd[2].grad.shape == empty and np.isfinite(nd[1].grad.asnumpy()).all()
    with pytest.raises(PlaitError, match="state"):
        mx.nd.RNN(mx.nd.array(x), mx.nd.array(w), mx.nd.zeros((3, 0, 2)),
                  mx.nd.zeros(empty), **attrs)


def test_cache_entry_released_after_backward():
    """The activations are dropped once the backward has used them (memory); without
    dropout nothing stays cached, and a second backward recomputes."""
    nn_rnn.clear_cache()
    ins, attrs = _inputs(np.float32, _CASES[0], 0)
    nd = [mx.nd.array(x) for x in ins]
    nd[1].attach_grad()
    with mx.autograd.record():
        y = mx.nd.RNN(*nd, **attrs)
    y.backward(retain_graph=True)
    g1 = nd[1].grad.asnumpy().copy()
    assert len(nn_rnn._CACHE) == 0
    y.backward()
    np.testing.assert_allclose(nd[1].grad.asnumpy(), g1, rtol=1e-6)
