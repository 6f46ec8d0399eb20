"""Graph fusion (core/graph/fuse.py): which pairs of ops become one, that the fused graph
computes what the unfused one does (values and gradients), and that hybridized blocks run
the fused graph."""
import numpy as np
import pytest

import plait as mx
from plait import autograd, gluon, nd
from plait.core.graph import fuse


def _ops(sym):
    return [n.op.name for n in sym._graph().topo_nodes() if n.op is not None]


def _fused(sym):
    return mx.sym.Symbol(fuse.fuse(sym._graph()).outputs)


def _bn(x, name, **kw):
    return mx.sym.BatchNorm(x, name=name, fix_gamma=False, **kw)


def _block():
    """conv-bn-relu, conv-bn, + shortcut, relu: a ResNet basic block."""
    x = mx.sym.var("data")
    c1 = mx.sym.Convolution(x, kernel=(3, 3), pad=(1, 1), num_filter=4, name="c1")
    h = mx.sym.Activation(_bn(c1, "bn1"), act_type="relu", name="r1")
    c2 = mx.sym.Convolution(h, kernel=(3, 3), pad=(1, 1), num_filter=4, name="c2")
    return mx.sym.relu(_bn(c2, "bn2") + x, name="r2")


def _run(sym, shapes, seed=0):
    r = np.random.RandomState(seed)
    args = {n: nd.array(r.randn(*s)) for n, s in
            zip(sym.list_arguments(), sym.infer_shape(**shapes)[0])}
    aux = {n: nd.array(r.uniform(0.5, 1.5, s)) for n, s in
           zip(sym.list_auxiliary_states(), sym.infer_shape(**shapes)[2])}
    return sym.bind(mx.cpu(), args, aux_states=aux).forward()[0].asnumpy()


def test_relus_after_batchnorm_and_residual_sum_are_fused():
    sym = _block()
    f = _fused(sym)
    assert _ops(sym).count("Activation") + _ops(sym).count("relu") == 2
    assert _ops(f) == ["Convolution", "_contrib_BatchNormWithReLU", "Convolution", "BatchNorm",
                       "_add_relu"]
    assert f.list_arguments() == sym.list_arguments()
    assert f.list_auxiliary_states() == sym.list_auxiliary_states()
    shapes = {"data": (2, 4, 5, 5)}
    np.testing.assert_allclose(_run(f, shapes), _run(sym, shapes), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("why, build", [
    ("the BatchNorm output is read twice", lambda x: (lambda b: mx.sym.relu(b) * b)(_bn(x, "b"))),
    ("the sum is read twice", lambda x: (lambda s: mx.sym.relu(s) * s)(x + x)),
    ("the BatchNorm outputs its mean and var",
     lambda x: mx.sym.relu(_bn(x, "b", output_mean_var=True)[0])),
    ("not a relu", lambda x: mx.sym.Activation(_bn(x, "b"), act_type="tanh")),
    ("a broadcast sum", lambda x: mx.sym.relu(mx.sym.broadcast_add(x, x))),
])
def test_not_fused(why, build):
    sym = build(mx.sym.var("data"))
    assert fuse.fuse(sym._graph()).outputs == sym._graph().outputs, why


def test_read_twice_through_a_shared_bn_keeps_it():
    x = mx.sym.var("data")
    b = _bn(x, "b")
    sym = mx.sym.Group([mx.sym.relu(b), b])  # BatchNorm's output is also a graph output
    assert fuse.fuse(sym._graph()).outputs == sym._graph().outputs


def test_switched_off(monkeypatch):
    monkeypatch.setitem(fuse._state, "on", False)
    sym = _block()
    assert fuse.fuse(sym._graph()).outputs == sym._graph().outputs


class _Res(gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.conv = gluon.nn.Conv2D(3, 3, padding=1, in_channels=3)
            self.bn = gluon.nn.BatchNorm(in_channels=3)
            self.act = gluon.nn.Activation("relu")

    def hybrid_forward(self, F, x):
        return F.Activation(self.act(self.bn(self.conv(x))) + x, act_type="relu")


def _res_net(hybrid):
    mx.random.seed(3)
    net = _Res()
    net.initialize(mx.init.Xavier())
    for p in ("running_mean", "running_var"):  # stats that are not the identity
        getattr(net.bn, p).set_data(nd.array(np.random.RandomState(1).uniform(0.5, 2, 3)))
    if hybrid:
        net.hybridize(static_alloc=True, static_shape=True)
    return net


def test_hybridized_inference_is_fused_and_equals_imperative():
    x = nd.array(np.random.RandomState(0).randn(2, 3, 6, 6))
    want = _res_net(False)(x).asnumpy()
    net = _res_net(True)
    np.testing.assert_allclose(net(x).asnumpy(), want, rtol=1e-5, atol=1e-6)
    (entry,) = net._cached_op._cache.values()
    names = [n.op.name for n in entry.bound.igraph.nodes if n.op is not None]
    assert "_contrib_BatchNormWithReLU" in names and "_add_relu" in names
    assert "Activation" not in names


@pytest.mark.parametrize("train", [True, False])
def test_recorded_calls_are_fused_and_gradients_match(train):
    x = nd.array(np.random.RandomState(0).randn(2, 3, 6, 6))
    got = []
    for hybrid in (False, True):
        net = _res_net(hybrid)
        xx = x.copy()
        xx.attach_grad()
        with autograd.record(train_mode=train):
            y = net(xx)
        y.backward(nd.array(np.random.RandomState(1).randn(*y.shape)))
        got.append([y.asnumpy(), xx.grad.asnumpy()] + [p.grad().asnumpy() for p in (
            net.conv.weight, net.conv.bias, net.bn.gamma, net.bn.beta)] + [
            net.bn.running_mean.data().asnumpy()])
    for a, b in zip(got[1], got[0]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    if not train:  # recording in predict mode runs imperatively (gluon/block_hybrid.py)
        return
    (entry,) = net._cached_op._cache.values()
    names = [n.op.name for n in entry.bound.igraph.nodes if n.op is not None]
    assert "_contrib_BatchNormWithReLU" in names and "_add_relu" in names
    assert "Activation" not in names


def _ce(axis=-1, **lsm):
    x, j = mx.sym.var("data"), mx.sym.var("label")
    return -mx.sym.pick(mx.sym.log_softmax(x, axis=axis, **lsm), j, axis=axis, keepdims=True)


def test_cross_entropy_is_fused():
    sym = _ce()
    f = _fused(sym)
    assert _ops(f)[0] == "_log_softmax_pick" and "log_softmax" not in _ops(f)
    assert f.list_arguments() == sym.list_arguments()


@pytest.mark.parametrize("why, sym", [
    ("a temperature", _ce(temperature=2.0)),
    ("other axes", (lambda x: mx.sym.pick(mx.sym.log_softmax(x, axis=1), mx.sym.var("j"),
                                          axis=-1))(mx.sym.var("data"))),
    ("log_softmax read twice", (lambda y: mx.sym.pick(y, mx.sym.var("j")) + mx.sym.sum(y))(
        mx.sym.log_softmax(mx.sym.var("data")))),
])
def test_cross_entropy_not_fused(why, sym):
    assert fuse.fuse(sym._graph()).outputs == sym._graph().outputs, why


def _loss_run(hybrid, pred, label):
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    if hybrid:
        loss_fn.hybridize(static_alloc=True, static_shape=True)
    p = nd.array(pred)
    p.attach_grad()
    with autograd.record():
        loss = loss_fn(p, nd.array(label))
    loss.backward()
    return loss_fn, loss.asnumpy(), p.grad.asnumpy()


@pytest.mark.parametrize("shape", [(6, 11), (5, 4, 37)])
def test_hybridized_softmax_cross_entropy_is_fused_and_equals_imperative(shape):
    r = np.random.RandomState(2)
    pred = (r.randn(*shape) * 4).astype(np.float32)
    label = r.randint(0, shape[-1], shape[:-1]).astype(np.float32)
    _, want_loss, want_grad = _loss_run(False, pred, label)
    loss_fn, loss, grad = _loss_run(True, pred, label)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-6, atol=1e-8)
    # against NumPy: the mean over the last axis of -log softmax[label], and its gradient
    z = pred - pred.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    idx = label.astype(int)[..., None]
    ref = -np.take_along_axis(logp, idx, -1)
    np.testing.assert_allclose(loss, ref.reshape(shape[0], -1).mean(1), rtol=1e-5)
    onehot = np.zeros_like(pred)
    np.put_along_axis(onehot, idx, 1.0, -1)
    n = int(np.prod(shape[1:-1]))  # the mean over the non-batch axes
    np.testing.assert_allclose(grad, (np.exp(logp) - onehot) / n, rtol=1e-5, atol=1e-7)
    (entry,) = loss_fn._cached_op._cache.values()
    names = [n.op.name for n in entry.bound.igraph.nodes if n.op is not None]
    assert "_log_softmax_pick" in names and "_backward_log_softmax_pick" in names
    assert "log_softmax" not in names
