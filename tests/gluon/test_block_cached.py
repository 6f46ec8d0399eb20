"""A hybridized call shares its inputs and hands out fresh outputs and gradients instead
of copying (gluon/block_cached.py, BoundGraph.feed/fresh): the results must stay those of
the imperative run however the caller reuses, overwrites or keeps the arrays."""
import numpy as np
import pytest

import plait as mx
from plait import autograd, gluon, nd


def _net(hybrid):
    mx.random.seed(7)
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(gluon.nn.Dense(6, activation="tanh", in_units=5), gluon.nn.Dense(3, in_units=6))
    net.initialize(mx.init.Xavier())
    if hybrid:
        net.hybridize(static_alloc=True, static_shape=True)
    return net


def _x(seed):
    return nd.array(np.random.RandomState(seed).randn(4, 5))


def _entry(net):
    (entry,) = net._cached_op._cache.values()
    return entry


def test_inputs_are_read_in_place_not_copied():
    net = _net(True)
    x = _x(0)
    net(x).wait_to_read()
    entry = _entry(net)
    (e,) = entry.data_entries
    assert entry.bound.bufs[e] is x._data
    assert entry.bound.vars[e] is x._var


def test_input_overwritten_after_the_call_does_not_change_the_result():
    net, ref = _net(True), _net(False)
    x = _x(1)
    want = ref(x).asnumpy()
    y = net(x)
    x[:] = 100.0  # ordered after the graph's reads by x's engine Var
    np.testing.assert_allclose(y.asnumpy(), want, rtol=1e-6)
    np.testing.assert_allclose(net(x).asnumpy(), ref(x).asnumpy(), rtol=1e-6)


def test_outputs_of_earlier_calls_stay_the_callers():
    net, ref = _net(True), _net(False)
    xs = [_x(s) for s in range(3)]
    ys = [net(x) for x in xs]
    assert len({id(y._data) for y in ys}) == 3
    for x, y in zip(xs, ys):
        np.testing.assert_allclose(y.asnumpy(), ref(x).asnumpy(), rtol=1e-6)


def test_non_contiguous_input_is_copied():
    from plait.ndarray.ndarray import NDArray
    net, ref = _net(True), _net(False)
    base = np.asfortranarray(np.random.RandomState(3).randn(4, 5).astype(np.float32))
    x = NDArray(base, mx.cpu())
    got = net(x).asnumpy()
    e = _entry(net).data_entries[0]
    assert _entry(net).bound.bufs[e] is not base
    np.testing.assert_allclose(got, ref(nd.array(base)).asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(net(_x(4)).asnumpy(), ref(_x(4)).asnumpy(), rtol=1e-6)


def test_gradients_are_fresh_arrays_and_match_imperative():
    grads = {}
    for hybrid in (False, True):
        net = _net(hybrid)
        x = _x(5)
        x.attach_grad()
        steps = []
        for s in range(2):
            with autograd.record():
                loss = (net(x) * nd.array(np.arange(12.0).reshape(4, 3) - s)).sum()
            loss.backward()
            steps.append([x.grad.asnumpy()] + [p.grad().asnumpy().copy()
                                               for p in net.collect_params().values()])
        grads[hybrid] = steps
    for a, b in zip(grads[False], grads[True]):
        for ga, gb in zip(a, b):
            np.testing.assert_allclose(gb, ga, rtol=1e-5, atol=1e-6)


def test_kept_gradient_of_an_earlier_backward_is_not_overwritten():
    net = _net(True)
    x = _x(6)
    x.attach_grad()
    with autograd.record():
        y = net(x)
    y.backward(nd.ones((4, 3)))
    g1 = x.grad
    kept = g1.asnumpy().copy()
    with autograd.record():
        y = net(x)
    y.backward(nd.ones((4, 3)) * 3)
    np.testing.assert_allclose(x.grad.asnumpy(), 3 * kept, rtol=1e-5)
    if g1 is not x.grad:  # a handed-out buffer must never be rewritten behind its owner
        np.testing.assert_allclose(g1.asnumpy(), kept, rtol=1e-6)


@pytest.mark.parametrize("same_array", [False, True])
def test_executor_backward_shares_head_gradients(same_array):
    a, b = mx.sym.var("a"), mx.sym.var("b")
    out = mx.sym.tanh(a * b)
    av, bv = np.random.RandomState(8).randn(2, 3, 4)
    args = {"a": nd.array(av), "b": nd.array(bv)}
    grads = {"a": nd.zeros((3, 4)), "b": nd.zeros((3, 4))}
    ex = out.bind(mx.cpu(), args, args_grad=grads)
    ex.forward(is_train=True)
    head = nd.array(np.random.RandomState(9).randn(3, 4))
    ex.backward(head)
    t = np.tanh(av * bv)
    want = head.asnumpy() * (1 - t * t) * bv
    np.testing.assert_allclose(grads["a"].asnumpy(), want, rtol=1e-5)
    head2 = head if same_array else head.copy()
    head2[:] = 2.0  # overwritten after the first backward, before the second
    ex.backward(head2)
    np.testing.assert_allclose(grads["a"].asnumpy(), 2.0 * (1 - t * t) * bv, rtol=1e-5)


def test_view_of_a_head_gradient_is_aliased_not_copied():
    net = gluon.nn.Dense(3, flatten=False, in_units=5)
    net.initialize(mx.init.Xavier())
    ref_w = net.weight.data().asnumpy()
    net.hybridize(static_alloc=True)
    x = nd.array(np.random.RandomState(10).randn(2, 4, 5))
    x.attach_grad()
    heads = [nd.array(np.random.RandomState(s).randn(2, 4, 3)) for s in (11, 12)]
    for head in heads:
        with autograd.record():
            y = net(x)
        y.backward(head)
        np.testing.assert_allclose(x.grad.asnumpy(), head.asnumpy() @ ref_w, rtol=1e-5, atol=1e-6)
        b = _entry(net).bound
        (hg,) = [e for e in b.head_grad_entries if e is not None]
        assert b.bufs[hg] is head._data
        views = b.views.get(hg, [])
        assert views and all(np.shares_memory(b.bufs[v], head._data) for v in views)
