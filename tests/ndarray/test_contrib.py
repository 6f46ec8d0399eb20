"""mx.nd.contrib: imperative foreach / while_loop / cond against plain NumPy loops, their
gradients (through autograd) against finite differences, MXNet's result structures, and
clear errors naming the function."""
import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError


def _nd(a):
    return mx.nd.array(a, dtype=a.dtype)


def _fd(f, xs, i, eps=1e-6):
    """Central differences of the scalar f(xs) w.r.t. xs[i] (float64 arrays)."""
    x = xs[i]
    g = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        v = x[j]
        x[j] = v + eps
        fp = f(xs)
        x[j] = v - eps
        fm = f(xs)
        x[j] = v
        g[j] = (fp - fm) / (2 * eps)
    return g


# -- foreach --------------------------------------------------------------------------------------
def _rnn_np(x, h, w, u):
    outs = []
    for t in range(x.shape[0]):
        h = np.tanh(x[t] @ w + h @ u)
        outs.append(2 * h)
    return np.stack(outs), h


def _rnn_nd(x, h, w, u):
    def body(xt, states):
        nh = mx.nd.tanh(mx.nd.dot(xt, w) + mx.nd.dot(states[0], u))
        return nh * 2, [nh]
    return mx.nd.contrib.foreach(body, x, [h])


def test_foreach_matches_numpy_loop():
    r = np.random.RandomState(0)
    x, h, w, u = r.randn(5, 2, 3), r.randn(2, 4), r.randn(3, 4) * .5, r.randn(4, 4) * .5
    outs, states = _rnn_nd(*map(_nd, (x, h, w, u)))
    want_o, want_h = _rnn_np(x, h, w, u)
    assert isinstance(states, list) and len(states) == 1
    np.testing.assert_allclose(outs.asnumpy(), want_o, rtol=1e-12)
    np.testing.assert_allclose(states[0].asnumpy(), want_h, rtol=1e-12)


def test_foreach_gradients_match_finite_differences():
    r = np.random.RandomState(1)
    xs = [r.randn(4, 2, 3), r.randn(2, 4), r.randn(3, 4) * .5, r.randn(4, 4) * .5]
    wo, wh = r.uniform(.5, 1.5, (4, 2, 4)), r.uniform(.5, 1.5, (2, 4))

    def objective(vals):
        o, h = _rnn_np(*vals)
        return float((o * wo).sum() + (h * wh).sum())
    nds = [_nd(a) for a in xs]
    for a in nds:
        a.attach_grad()
    with mx.autograd.record():
        o, st = _rnn_nd(*nds)
        loss = (o * _nd(wo)).sum() + (st[0] * _nd(wh)).sum()
    loss.backward()
    for i, a in enumerate(nds):
        np.testing.assert_allclose(a.grad.asnumpy(), _fd(objective, xs, i), rtol=1e-6, atol=1e-8)


def test_foreach_nested_lists_keep_their_structure():
    a, b = _nd(np.arange(6.).reshape(3, 2)), _nd(np.ones((3, 2)))
    s = [_nd(np.zeros(2)), [_nd(np.ones(2))]]

    def body(d, states):
        x, y = d
        s0, (s1,) = states[0], states[1]
        return [x + y, [x * y]], [s0 + x, [s1 * 2]]
    outs, states = mx.nd.contrib.foreach(body, [a, b], s)
    assert isinstance(outs, list) and isinstance(outs[1], list)
    np.testing.assert_array_equal(outs[0].asnumpy(), np.arange(6.).reshape(3, 2) + 1)
    np.testing.assert_array_equal(outs[1][0].asnumpy(), np.arange(6.).reshape(3, 2))
    np.testing.assert_array_equal(states[0].asnumpy(), np.arange(6.).reshape(3, 2).sum(0))
    np.testing.assert_array_equal(states[1][0].asnumpy(), np.full(2, 8.))


def test_foreach_errors_name_the_function():
    x, s = _nd(np.ones((3, 2))), [_nd(np.zeros(2))]
    with pytest.raises(PlaitError, match="foreach.*pair"):
        mx.nd.contrib.foreach(lambda d, st: d, x, s)
    with pytest.raises(PlaitError, match=r"foreach.*state 0 with shape \(3,\).*\(2,\)"):
        mx.nd.contrib.foreach(lambda d, st: (d, [mx.nd.ones(3)]), x, s)
    with pytest.raises(PlaitError, match="foreach.*structure"):
        mx.nd.contrib.foreach(lambda d, st: (d, [st[0], st[0]]), x, s)
    with pytest.raises(PlaitError, match="foreach.*init_states.*NDArray"):
        mx.nd.contrib.foreach(lambda d, st: (d, st), x, [np.zeros(2)])
    with pytest.raises(PlaitError, match="foreach.*steps"):
        mx.nd.contrib.foreach(lambda d, st: (d[0], st), [x, _nd(np.ones((4, 2)))], s)


# -- while_loop -----------------------------------------------------------------------------------
def test_while_loop_matches_mxnet_docstring_example():
    """MXNet's documented example: i <= 5; outputs i + s; (i, s) -> (i + 1, s + i)."""
    outs, states = mx.nd.contrib.while_loop(
        lambda i, s: i <= 5, lambda i, s: ([i + s], [i + 1, s + i]),
        (mx.nd.array([0], dtype="int64"), mx.nd.array([1], dtype="int64")), max_iterations=10)
    i, s, rows = 0, 1, []
    while i <= 5:
        rows.append(i + s)
        i, s = i + 1, s + i
    assert outs[0].shape == (10, 1) and outs[0].dtype == np.int64
    np.testing.assert_array_equal(outs[0].asnumpy()[:6, 0], rows)
    np.testing.assert_array_equal(outs[0].asnumpy()[6:], 0)  # plait pads with zeros
    assert [int(v.asscalar()) for v in states] == [i, s]


def test_while_loop_stops_at_max_iterations_and_single_var():
    outs, final = mx.nd.contrib.while_loop(lambda x: x.sum() < 100,
                                           lambda x: (x * 1, x * 2), _nd(np.ones(2)), 3)
    assert isinstance(final, mx.nd.NDArray)  # a lone NDArray stays lone
    np.testing.assert_array_equal(final.asnumpy(), [8, 8])
    np.testing.assert_array_equal(outs.asnumpy(), [[1, 1], [2, 2], [4, 4]])


def test_while_loop_without_steps_returns_no_outputs():
    outs, final = mx.nd.contrib.while_loop(lambda x: x.sum() < 0, lambda x: ([x], [x]),
                                           [_nd(np.ones(2))], 4)
    assert outs == [] and final[0].asnumpy().tolist() == [1, 1]


def test_while_loop_gradients_match_finite_differences():
    r = np.random.RandomState(2)
    xs = [r.uniform(-1, 1, (3,)), r.uniform(-1, 1, (3,))]
    wo = r.uniform(.5, 1.5, (5, 3))

    def np_loop(vals):
        s, w = vals
        rows, n = [], 0.5
        while n < 4:
            rows.append(np.sin(s * w))
            s, n = s + w * s, n + 1
        o = np.zeros((5, 3))
        o[:len(rows)] = rows
        return float((o * wo).sum() + s.sum())
    s, w = _nd(xs[0]), _nd(xs[1])
    s.attach_grad()
    w.attach_grad()
    with mx.autograd.record():
        outs, (n, fs) = mx.nd.contrib.while_loop(
            lambda n, s: n < 4, lambda n, s: ([mx.nd.sin(s * w)], [n + 1, s + w * s]),
            [_nd(np.array([0.5])), s], max_iterations=5)
        loss = (outs[0] * _nd(wo)).sum() + fs.sum()
    loss.backward()
    np.testing.assert_allclose(s.grad.asnumpy(), _fd(np_loop, xs, 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(w.grad.asnumpy(), _fd(np_loop, xs, 1), rtol=1e-6, atol=1e-8)


def test_while_loop_errors():
    x = _nd(np.ones(2))
    with pytest.raises(PlaitError, match="while_loop.*max_iterations should be specified"):
        mx.nd.contrib.while_loop(lambda x: x.sum() > 0, lambda x: ([], [x]), [x])
    with pytest.raises(PlaitError, match="while_loop.*loop_vars.*at least one"):
        mx.nd.contrib.while_loop(lambda: True, lambda: ([], []), [], 2)
    with pytest.raises(PlaitError, match="while_loop.*cond.*one element.*\\(2,\\)"):
        mx.nd.contrib.while_loop(lambda x: x, lambda x: ([], [x]), [x], 2)
    with pytest.raises(PlaitError, match="while_loop.*2 loop variable"):
        mx.nd.contrib.while_loop(lambda x: x.sum() > 0, lambda x: ([], [x, x]), [x], 2)
    with pytest.raises(PlaitError, match="while_loop.*func.*pair"):
        mx.nd.contrib.while_loop(lambda x: x.sum() > 0, lambda x: x, [x], 2)


# -- cond -----------------------------------------------------------------------------------------
def test_cond_picks_a_branch_and_differentiates_it():
    a, b = _nd(np.array([1.0, 2.0])), _nd(np.array([3.0, -1.0]))
    a.attach_grad()
    for p, grad in ((1.0, 2 * np.array([1.0, 2.0])), (0.0, np.array([3.0, -1.0]))):
        with mx.autograd.record():
            y = mx.nd.contrib.cond(_nd(np.array([p])), lambda: a * a, lambda: a * b)
        y.backward()
        np.testing.assert_allclose(a.grad.asnumpy(), grad)
    with pytest.raises(PlaitError, match="cond.*pred.*one element"):
        mx.nd.contrib.cond(_nd(np.ones(2)), lambda: a, lambda: b)


def test_contrib_ops_are_reachable_by_short_name():
    assert mx.nd.contrib.CTCLoss is mx.nd._contrib_CTCLoss
    assert mx.contrib.nd.foreach is mx.nd.contrib.foreach
    assert mx.contrib.ndarray is mx.nd.contrib
    assert "foreach" in dir(mx.nd.contrib) and "CTCLoss" in dir(mx.nd.contrib)
    with pytest.raises(AttributeError):
        mx.nd.contrib.no_such_op


def test_isinf_isfinite_isnan_match_numpy():
    a = np.array([np.inf, -np.inf, np.nan, 1.5, 0.0, -2.0], np.float32)
    d = _nd(a)
    for fn, ref in ((mx.nd.contrib.isinf, np.isinf), (mx.nd.contrib.isfinite, np.isfinite),
                    (mx.nd.contrib.isnan, np.isnan)):
        got = fn(d)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got.asnumpy(), ref(a).astype(np.float32))
