"""The compiled LSTM-step and softmax kernels (csrc/kernels_rnn.cc) against independent
float64 NumPy formulas and against the xp path (native.disabled()): kernel level (odd
sizes, clipping, aliasing, bad arguments) and op level (fused RNN forward/backward in
every LSTM variant, log_softmax / softmax and log_softmax's gradient)."""
import numpy as np
import pytest

import plait as mx
from plait.core.ops import native, nn_rnn
from plait.core.ops.nn_rnn_defs import _inputs
from plait.core.ops.nn_softmax import softmax_ref

K = native.kernels()
DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-6, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _rand(shape, dtype, seed, lo=-3.0, hi=3.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(dtype)


def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


# -- LSTM step kernels ----------------------------------------------------------------------------
def _lstm_step_ref(pre, c0, lo=None, hi=None):
    """pre: (N, 4H) pre-activations with the sigmoid rows halved (the kernel's convention)."""
    p = pre.astype(np.float64)
    H = p.shape[1] // 4
    i, f, o = (_sig(2 * p[:, k * H:(k + 1) * H]) for k in (0, 1, 3))
    g = np.tanh(p[:, 2 * H:3 * H])
    c = f * c0 + i * g
    keep = None
    if lo is not None:
        keep = (c >= lo) & (c <= hi)
        c = np.clip(c, lo, hi)
    return np.concatenate([i, f, g, o], 1), c, np.tanh(c), o * np.tanh(c), keep


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("N,H", [(1, 1), (3, 5), (7, 33), (32, 64)])
@pytest.mark.parametrize("clip", [False, True])
def test_lstm_step_forward_matches_formula(dtype, N, H, clip):
    g = _rand((N, 4 * H), dtype, 1)
    gh = _rand((N, 4 * H), dtype, 2)
    c0 = _rand((N, H), dtype, 3, -1, 1)
    c, tc, h = (np.empty((N, H), dtype) for _ in range(3))
    keep = np.empty((N, H), bool) if clip else None
    lo, hi = (-0.3, 0.4) if clip else (None, None)
    pre = g.astype(np.float64) + gh
    K.lstm_step_forward(g, gh, c0, c, tc, h, lo, hi, False, keep)
    acts, rc, rtc, rh, rkeep = _lstm_step_ref(pre.astype(dtype), c0.astype(np.float64), lo, hi)
    tol = dict(rtol=3e-6, atol=3e-7) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    for got, want in ((g, acts), (c, rc), (tc, rtc), (h, rh)):
        np.testing.assert_allclose(got, want, **tol)
    if clip:
        # the keep mask is computed on the kernel's own unclipped c: compare where not tied
        assert np.array_equal(keep, rkeep) or np.mean(keep != rkeep) < 1e-3


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("N,H", [(1, 1), (5, 9), (33, 40)])
def test_lstm_step_forward_transposed_recurrent(dtype, N, H):
    """recurrent_transposed: the product given as (4H, N) is added transposed."""
    g = _rand((N, 4 * H), dtype, 21)
    gh = _rand((N, 4 * H), dtype, 22)
    c0 = _rand((N, H), dtype, 23, -1, 1)
    outs = [[np.empty((N, H), dtype) for _ in range(3)] for _ in range(2)]
    g2 = g.copy()
    K.lstm_step_forward(g, gh, c0, *outs[0])
    K.lstm_step_forward(g2, np.ascontiguousarray(gh.T), c0, *outs[1], recurrent_transposed=True)
    np.testing.assert_array_equal(g, g2)
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"recurrent \(transposed\) has shape"):
        K.lstm_step_forward(g2, gh, c0, *outs[1], recurrent_transposed=True)


def test_lstm_step_forward_clip_nan():
    H = 3
    g = np.zeros((1, 4 * H), np.float32)
    g[0, 2 * H] = np.nan   # g gate NaN -> c NaN -> clipped to lo with clip_nan
    c, tc, h = (np.empty((1, H), np.float32) for _ in range(3))
    keep = np.empty((1, H), bool)
    K.lstm_step_forward(g, np.zeros_like(g), np.zeros((1, H), np.float32), c, tc, h, -0.5, 0.5,
                        True, keep)
    assert c[0, 0] == np.float32(-0.5) and not keep[0, 0] and keep[0, 1:].all()
    K.lstm_step_forward(g, np.zeros_like(g), np.zeros((1, H), np.float32), c, tc, h, -0.5, 0.5,
                        False, None)
    assert np.isnan(c[0, 0]) and np.isnan(h[0, 0])


def _lstm_bwd_ref(acts, tc, cp, dhu, dc, keep=None):
    a, tc, cp, dhu, dc = (v.astype(np.float64) for v in (acts, tc, cp, dhu, dc))
    H = tc.shape[1]
    i, f, g, o = (a[:, k * H:(k + 1) * H] for k in range(4))
    dcn = dhu * o * (1 - tc * tc) + dc
    if keep is not None:
        dcn = dcn * keep
    d = np.concatenate([dcn * g * i * (1 - i), dcn * cp * f * (1 - f), dcn * i * (1 - g * g),
                        dhu * tc * o * (1 - o)], 1)
    return d, dcn * f


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("N,H", [(1, 1), (5, 3), (9, 37), (32, 64)])
@pytest.mark.parametrize("two_terms", [False, True])
@pytest.mark.parametrize("with_keep", [False, True])
def test_lstm_step_backward_matches_formula(dtype, N, H, two_terms, with_keep):
    acts = _rand((N, 4 * H), dtype, 4, 0.01, 0.99)
    acts[:, 2 * H:3 * H] = _rand((N, H), dtype, 5, -0.99, 0.99)
    tc, cp, dha, dhb = (_rand((N, H), dtype, s, -1, 1) for s in (6, 7, 8, 9))
    dc = _rand((N, H), dtype, 10, -1, 1)
    keep = (_rand((N, H), dtype, 11, 0, 1) > 0.3) if with_keep else None
    dhu = dha.astype(np.float64) + dhb if two_terms else dha
    want_d, want_dc = _lstm_bwd_ref(acts, tc, cp, np.asarray(dhu, dtype), dc, keep)
    d = np.empty((N, 4 * H), dtype)
    K.lstm_step_backward(acts, tc, cp, dha, dhb if two_terms else None, dc, keep, d)
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(d, want_d, **tol)
    np.testing.assert_allclose(dc, want_dc, **tol)


def test_lstm_kernels_reject_bad_arguments():
    f32 = np.float32
    g, gh = np.zeros((2, 8), f32), np.zeros((2, 8), f32)
    c = [np.zeros((2, 2), f32) for _ in range(4)]
    with pytest.raises(ValueError, match=r"lstm_step_forward: gates must be \(batch, 4\*hidden\)"):
        K.lstm_step_forward(np.zeros((2, 7), f32), gh, *c)
    with pytest.raises(ValueError, match="recurrent has dtype float64, expected float32"):
        K.lstm_step_forward(g, gh.astype(np.float64), *c)
    with pytest.raises(ValueError, match=r"c_prev has shape \(2, 3\)"):
        K.lstm_step_forward(g, gh, np.zeros((2, 3), f32), *c[1:])
    with pytest.raises(ValueError, match="C-contiguous"):
        K.lstm_step_forward(g, gh, c[0], c[1], c[2], np.zeros((2, 4), f32)[:, ::2])
    with pytest.raises(ValueError, match="keep must be a C-contiguous bool"):
        K.lstm_step_forward(g, gh, *c, keep=np.zeros((2, 2), f32))
    with pytest.raises(ValueError, match="lstm_step_backward: dout has shape"):
        K.lstm_step_backward(g, c[0], c[1], c[2], np.zeros((3, 2), f32), c[3], None, gh)
    with pytest.raises(ValueError, match="int32 is not float32 or float64"):
        K.lstm_step_backward(g.astype(np.int32), *c[:3], None, c[3], None, gh)


# -- the fused RNN op: native against the xp path and the reference ------------------------------
_LSTM_CASES = [  # (mode, T, N, I, H, layers, bidirectional, extra attrs, sequence lengths)
    ("lstm", 1, 1, 1, 1, 1, False, {}, None),
    ("lstm", 5, 3, 4, 7, 2, False, {}, None),
    ("lstm", 4, 5, 3, 6, 2, True, {}, None),
    ("lstm", 3, 2, 3, 5, 1, True, {"projection_size": 3}, None),
    ("lstm", 4, 3, 2, 4, 2, False, {"lstm_state_clip_min": -0.2, "lstm_state_clip_max": 0.3,
                                    "lstm_state_clip_nan": True}, None),
    ("lstm", 5, 3, 2, 3, 2, True, {}, [5, 2, 1]),
    ("lstm", 2, 65, 3, 4, 1, False, {}, None),   # batch > 64: the untransposed product
]


def _rnn_run(ins, attrs, heads):
    nd = [mx.nd.array(x, dtype=x.dtype) for x in ins]
    for v in nd[:4]:
        v.attach_grad()
    with mx.autograd.record():
        outs = mx.nd.RNN(*nd, **dict(attrs, state_outputs=True))
    mx.autograd.backward(list(outs), [mx.nd.array(h, dtype=h.dtype) for h in heads])
    return [o.asnumpy() for o in outs] + [v.grad.asnumpy() for v in nd[:4]]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", range(len(_LSTM_CASES)))
def test_rnn_op_native_matches_xp_and_reference(dtype, k):
    ins, attrs = _inputs(dtype, _LSTM_CASES[k], 7 * k)
    a = mx.core.ops.registry.get("RNN").parse_attrs(dict(attrs, state_outputs=True))
    ref = nn_rnn.reference_rnn(a, *nn_rnn._split(a, ins))
    rs = np.random.RandomState(k)
    heads = [rs.uniform(-1, 1, np.shape(r)).astype(dtype) for r in ref]
    got = _rnn_run(ins, attrs, heads)
    with native.disabled():
        want = _rnn_run(ins, attrs, heads)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **tol)
    for g, r in zip(got[:3], ref):
        np.testing.assert_allclose(g, r, **tol)


# -- softmax kernels ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (1, 1), (3, 17), (2, 3, 257), (5, 1000)])
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("temperature", [None, 2.5])
def test_softmax_kernel_matches_reference(dtype, shape, log, temperature):
    x = _rand(shape, dtype, 12, -8, 8)
    op = mx.nd.log_softmax if log else mx.nd.softmax
    kw = {} if temperature is None else {"temperature": temperature}
    got = op(mx.nd.array(x, dtype=dtype), axis=-1, **kw).asnumpy()
    with native.disabled():
        xp = op(mx.nd.array(x, dtype=dtype), axis=-1, **kw).asnumpy()
    ref = softmax_ref(x, x.ndim - 1, temperature, log=log)
    np.testing.assert_allclose(got, ref, **TOL[dtype])
    np.testing.assert_allclose(got, xp, **TOL[dtype])


def test_softmax_kernel_special_values():
    x = np.array([[0.0, 1.0, np.nan], [1.0, -np.inf, 2.0], [np.inf, 0.0, 1.0],
                  [-200.0, 0.0, -200.0]], np.float32)
    for log in (False, True):
        out = np.empty_like(x)
        K.softmax_last_axis(x, out, 1.0, log)
        with native.disabled(), np.errstate(all="ignore"):
            want = (mx.nd.log_softmax if log else mx.nd.softmax)(mx.nd.array(x)).asnumpy()
        np.testing.assert_array_equal(np.isnan(out), np.isnan(want))
        np.testing.assert_allclose(out[~np.isnan(out)], want[~np.isnan(want)], rtol=1e-6,
                                   atol=1e-30)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (4, 9), (3, 1001)])
def test_log_softmax_backward_kernel(dtype, shape):
    y = softmax_ref(_rand(shape, dtype, 13), 1, log=True).astype(dtype)
    gy = _rand(shape, dtype, 14, -1, 1)
    want = gy.astype(np.float64) - np.exp(y.astype(np.float64)) * gy.astype(np.float64).sum(
        1, keepdims=True)
    gx = np.empty_like(gy)
    K.log_softmax_backward_last_axis(gy, y, gx)
    np.testing.assert_allclose(gx, want, **TOL[dtype])
    K.log_softmax_backward_last_axis(gy, y, gy)        # in place (the planner may alias)
    np.testing.assert_allclose(gy, want, **TOL[dtype])
    with pytest.raises(ValueError, match=r"_backward_log_softmax: ograd has shape"):
        K.log_softmax_backward_last_axis(np.zeros((shape[0], shape[1] + 1), dtype), y, gx)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [-1, 0])
def test_log_softmax_pick_gradient_native_vs_xp(dtype, axis):
    """The cross-entropy pattern (log_softmax, pick, mean) end to end: d/dx = (p - onehot)/n."""
    x = _rand((6, 11), dtype, 15)
    lab = np.random.default_rng(16).integers(0, x.shape[axis], x.shape[1 - (axis % 2)])

    def grad():
        v = mx.nd.array(x, dtype=dtype)
        v.attach_grad()
        with mx.autograd.record():
            loss = -mx.nd.pick(mx.nd.log_softmax(v, axis=axis), mx.nd.array(lab), axis=axis)
            loss = loss.mean()
        loss.backward()
        return v.grad.asnumpy()

    got = grad()
    with native.disabled():
        want = grad()
    p = softmax_ref(x, axis % 2)
    onehot = np.zeros_like(p)
    if axis % 2 == 1:
        onehot[np.arange(6), lab] = 1
    else:
        onehot[lab, np.arange(11)] = 1
    ref = (p - onehot) / lab.size
    np.testing.assert_allclose(got, ref, **TOL[dtype])
    np.testing.assert_allclose(got, want, **TOL[dtype])
