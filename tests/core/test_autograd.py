"""mx.autograd semantics (MXNet 1.9): scopes, variables, backward, fan-out, head
gradients, retain_graph, errors, custom Functions, higher order.  Values are checked
against closed-form NumPy derivatives."""
import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError


def _x(values, dtype="float64"):
    x = mx.nd.array(np.asarray(values, dtype=dtype), dtype=dtype)
    x.attach_grad()
    return x


def test_scopes_and_flags():
    assert not mx.autograd.is_recording() and not mx.autograd.is_training()
    with mx.autograd.record():
        assert mx.autograd.is_recording() and mx.autograd.is_training()
        with mx.autograd.pause():
            assert not mx.autograd.is_recording() and not mx.autograd.is_training()
        with mx.autograd.predict_mode():
            assert mx.autograd.is_recording() and not mx.autograd.is_training()
    with mx.autograd.record(train_mode=False):
        assert not mx.autograd.is_training()
    with mx.autograd.train_mode():
        assert mx.autograd.is_training() and not mx.autograd.is_recording()
    assert mx.autograd.set_recording(True) is False
    assert mx.autograd.set_recording(False) is True
    assert mx.autograd.set_training(True) is False
    mx.autograd.set_training(False)


def test_backward_of_a_chain_matches_the_closed_form():
    v = np.array([0.5, -1.0, 2.0])
    x = _x(v)
    with mx.autograd.record():
        y = mx.nd.exp(x) * x + 3 * x          # fan-out: x used three times
        z = (y * y).sum()
    z.backward()
    yv = np.exp(v) * v + 3 * v
    np.testing.assert_allclose(x.grad.asnumpy(), 2 * yv * (np.exp(v) * (1 + v) + 3), rtol=1e-12)


def test_head_gradient_and_grad_req():
    x = _x([1.0, 2.0])
    with mx.autograd.record():
        y = x * x
    y.backward(mx.nd.array([10.0, 100.0], dtype="float64"))
    np.testing.assert_allclose(x.grad.asnumpy(), [20.0, 400.0])
    x.attach_grad("add")
    for _ in range(2):
        with mx.autograd.record():
            y = x * 2
        y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [4.0, 4.0])
    w = mx.nd.array([1.0, 1.0], dtype="float64")
    w.attach_grad("null")
    with mx.autograd.record():
        y = x * w
    y.backward()
    assert w.grad.asnumpy().tolist() == [0.0, 0.0]


def test_retain_graph_and_freed_graph_error():
    x = _x([3.0])
    with mx.autograd.record():
        y = x * x
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [6.0])
    with pytest.raises(PlaitError, match="freed"):
        y.backward()


def test_backward_on_unrecorded_array_raises():
    x = _x([1.0])
    y = x * 2  # not recorded
    with pytest.raises(PlaitError, match="computational graph"):
        y.backward()


def test_in_place_write_into_recorded_array_raises():
    x = _x([1.0, 2.0])
    with mx.autograd.record():
        y = x * 2
        with pytest.raises(PlaitError, match="inplace operations"):
            y += 1
        with pytest.raises(PlaitError, match="inplace operations"):
            y[0] = 5


def test_detach_and_pause_stop_gradients():
    x = _x([2.0])
    with mx.autograd.record():
        a = x * x
        b = a.detach() * x
        with mx.autograd.pause():
            c = x * 100
        d = b + c
    d.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [4.0])  # only through b's x factor


def test_autograd_grad_and_second_order():
    v = np.array([0.3, -0.7])
    x = _x(v)
    with mx.autograd.record():
        y = (x * x * x).sum()
        (g,) = mx.autograd.grad([y], [x], create_graph=True)
        s = g.sum()
    np.testing.assert_allclose(g.asnumpy(), 3 * v ** 2, rtol=1e-12)
    s.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 6 * v, rtol=1e-12)


def test_mark_variables():
    x = mx.nd.array([1.0, 2.0], dtype="float64")
    gbuf = mx.nd.zeros((2,), dtype="float64")
    mx.autograd.mark_variables([x], [gbuf])
    with mx.autograd.record():
        y = x * x
    mx.autograd.backward([y])
    np.testing.assert_allclose(gbuf.asnumpy(), [2.0, 4.0])


def test_indexing_is_differentiable_under_record():
    x = _x(np.arange(12.0).reshape(3, 4))
    with mx.autograd.record():
        y = x[1] * 2 + x[0:2, 1:3].sum() + x[np.array([2, 2])].sum()
    y.backward()
    want = np.zeros((3, 4))
    want[1] += 2
    want[0:2, 1:3] += 4   # y has 4 elements, each adds the slice sum
    want[2] += 2 * 4
    np.testing.assert_allclose(x.grad.asnumpy(), want)


class _Sigmoid(mx.autograd.Function):
    def forward(self, x):
        y = 1 / (1 + mx.nd.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        (y,) = self.saved_tensors
        return dy * y * (1 - y)


def test_custom_function():
    v = np.array([-1.0, 0.0, 2.0])
    x = _x(v)
    f = _Sigmoid()
    with mx.autograd.record():
        y = f(x)
        z = (y * 3).sum()
    z.backward()
    s = 1 / (1 + np.exp(-v))
    np.testing.assert_allclose(x.grad.asnumpy(), 3 * s * (1 - s), rtol=1e-12)


def test_recording_costs_nothing_when_inputs_need_no_grad():
    a = mx.nd.ones((2,))
    with mx.autograd.record():
        b = a * 2
    assert b._ag is None


# -- the tape's C objects (csrc/tape.cc) ----------------------------------------------------------
def test_tape_objects_are_invisible_to_the_gc_and_keep_their_attributes():
    import gc
    x = _x([1.0, 2.0])
    with mx.autograd.record():
        y = x * 3
        z = y + x
    ag, node = z._ag, z._ag.node
    assert not gc.is_tracked(ag) and not gc.is_tracked(node)
    assert not gc.is_tracked(x._ag)
    assert ag.index == 0 and ag.live and ag.needs_grad() and ag.grad is None
    assert ag.grad_req == "null"
    assert node.op.name.endswith("_add") and node.seq > y._ag.node.seq and not node.freed
    assert [a is b for a, b in zip(node.inputs, [y, x])] == [True, True]
    assert node.entries[0] is y._ag and node.entries[1] is x._ag
    assert len(node._outs) == 1 and node._outs[0][2] is z._var
    (o,) = node.outputs
    assert o._data is z._data and o._var is z._var and o._ag.node is node
    assert o._ag.index == 0 and o._ag.needs_grad()
    # attributes set from Python, as backward and attach_grad do
    g_old = x._ag.grad
    x.attach_grad()
    assert x.grad is not g_old and x._ag.grad is x.grad
    ag.live = 0
    assert ag.live is False and not ag.needs_grad()
    ag.live = True
    node.freed = True
    assert node.freed is True
    node.inputs = node._outs = ()
    assert node.inputs == [] and node._outs == () and node.outputs == []
    assert len(node.entries) == 2
    leaf = mx.autograd.AGInfo(None, 0, None, "null")
    assert not leaf.live and leaf.node is None
    assert mx.autograd.AGInfo(grad_req="add").live


def test_deep_tape_is_freed_without_recursion():
    # a chain AGInfo -> Node -> AGInfo -> ... freed at once must not overflow the C stack
    AGInfo, Node = mx.autograd.AGInfo, mx.autograd.Node
    ag = AGInfo(None, 0, None, "write")
    for _ in range(300_000):  # deep enough to overflow an 8 MB stack if recursive
        ag = AGInfo(Node(None, None, [ag], [ag], []), 0)
    del ag
    # the same through recorded ops (NDArrays in between), freed without backward
    x = _x([1.0], "float32")
    with mx.autograd.record():
        y = x
        for _ in range(5000):
            y = y * 1.0
    del y


def test_function_that_saves_its_output_is_collected():
    import gc
    import weakref
    x = _x([0.5])
    f = _Sigmoid()
    with mx.autograd.record():
        y = f(x)
    assert gc.is_tracked(y._ag.node) and gc.is_tracked(y._ag)  # y -> node -> f -> y
    ref = weakref.ref(f)
    del f, y
    gc.collect()
    assert ref() is None


def test_out_into_an_input_under_record_is_collected():
    import gc
    import weakref
    x = _x([1.0, 2.0])
    w = mx.nd.array([1.0, 1.0], dtype="float64")
    with mx.autograd.record():
        mx.nd.elemwise_add(w, x, out=w)   # w -> node -> w
    assert w._ag.node.inputs[0] is w
    ref = weakref.ref(w)
    del w
    gc.collect()
    assert ref() is None


def test_recording_does_not_leak():
    import gc
    import tracemalloc

    def step(backward):
        x = _x(np.ones(4))
        with mx.autograd.record():
            y = x
            for _ in range(20):
                y = y * 1.0001 + 0.0001
            z = y.sum()
        if backward:
            z.backward()
        x.grad.wait_to_read()

    for b in (True, False):
        step(b)
    gc.collect()
    tracemalloc.start()
    try:
        step(True), step(False)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(60):
            step(i % 2 == 0)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 50_000, grown  # a leaked op would be ~1 KB: 60*21 ops


def test_reshape_method_is_recorded():
    x = _x([1.0, 2.0, 3.0, 4.0])
    with mx.autograd.record():
        y = (x.reshape((2, 2)) * 3).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [3.0] * 4)


# -- backward hands fresh gradients over without a copy only when nobody else sees them --
def test_write_grads_stay_independent_when_one_gradient_feeds_two_leaves():
    nd, autograd = mx.nd, mx.autograd
    x, w = nd.ones((3, 4)), nd.ones((3, 4))
    x.attach_grad()
    w.attach_grad()
    with autograd.record():
        y = x + w            # both leaves receive the very same head gradient
    y.backward()
    x.grad[:] += 1           # must not show up in w.grad
    np.testing.assert_array_equal(w.grad.asnumpy(), np.ones((3, 4)))
    np.testing.assert_array_equal(x.grad.asnumpy(), np.full((3, 4), 2.0))


def test_a_held_view_of_grad_sees_the_new_gradient():
    nd, autograd = mx.nd, mx.autograd
    x = nd.ones((3, 4))
    x.attach_grad()
    view = x.grad[1:2]
    with autograd.record():
        y = x * 3
    y.backward()
    np.testing.assert_array_equal(view.asnumpy(), np.full((1, 4), 3.0))


def test_a_head_gradient_is_never_adopted_as_grad():
    nd, autograd = mx.nd, mx.autograd
    x = nd.ones((2, 2))
    x.attach_grad()
    head = nd.ones((2, 2)) * 5
    with autograd.record():
        y = nd.identity(x)
    y.backward(head)
    x.grad[:] = 0
    np.testing.assert_array_equal(head.asnumpy(), np.full((2, 2), 5.0))
