"""Compiled BatchNorm / relu kernels (csrc/kernels_nn.cc) against the xp path and NumPy.

Each kernel is checked three ways: against the op's xp code (`native.disabled()`), against
an independent float64 NumPy formula, and on the edge cases of its own (in-place use, odd
shapes split across threads, nan/inf, bad arguments).  Inference BatchNorm and relu must
match the xp path bit for bit; the batch statistics accumulate in double, so training
results agree to rounding.
"""
import numpy as np
import pytest

import plait as mx
from plait.core.graph import ir
from plait.core.graph.plan import plan_memory
from plait.core.ops import native, registry
from plait.core.ops.params import Attrs

K = native.kernels()
DTYPES = ("float32", "float64")
TOL = {"float32": 2e-5, "float64": 1e-12}
# (shape, axis): 1-element, inner == 1 (after Dense), channel-last, channel-first; the
# kernels walk channels when a channel's runs are >= 16 long, rows otherwise
# (kernels_nn_rows.h); the last three split over the pool's threads unevenly (> 2 * 65536
# elements: 3 channels of 34060, 301 rows of 700, 1501 rows of 8 * 15)
SHAPES = [((1, 1), 1), ((3, 5), 1), ((2, 3, 4), -1), ((5, 4), 0), ((2, 3, 5, 7), 1),
          ((1, 7, 1, 1), 1), ((3, 2, 9, 11, 5), 2), ((4, 3, 4, 4), 1),
          ((2, 3, 130, 131), 1), ((301, 700), 1), ((1501, 8, 15), 1)]


def _data(shape, ax, dtype, seed=0, offset=2.0):
    rs = np.random.RandomState(seed)
    c = shape[ax]
    x = (rs.randn(*shape) * 3 + offset).astype(dtype)
    gamma, beta = rs.uniform(0.5, 1.5, c).astype(dtype), rs.randn(c).astype(dtype)
    mm, mv = rs.randn(c).astype(dtype), rs.uniform(0.5, 1.5, c).astype(dtype)
    return x, gamma, beta, mm, mv


def _bcast(v, ndim, ax):
    s = [1] * ndim
    s[ax] = -1
    return np.asarray(v, np.float64).reshape(s)


def _bn_np(x, gamma, beta, mean, var, eps, ax):
    """float64 (x - mean) / sqrt(var + eps) * gamma + beta."""
    b = lambda v: _bcast(v, x.ndim, ax)  # noqa: E731
    return (x.astype(np.float64) - b(mean)) / np.sqrt(b(var) + eps) * b(gamma) + b(beta)


def _batch_stats(x, ax):
    red = tuple(i for i in range(x.ndim) if i != ax)
    x64 = x.astype(np.float64)
    return x64.mean(axis=red), x64.var(axis=red)


def _run(op, attrs, ins, nout):
    """The op's kernel on NumPy arrays: (outputs with the kernels, outputs on the xp path)."""
    od = registry.get(op)
    res = []
    for on in (True, False):
        outs = [np.full(s, np.nan, ins[0].dtype) for s in nout]
        args = [a.copy() for a in ins]  # BatchNorm mutates its moving stats
        if on:
            od.forward(np, Attrs(attrs), args, outs)
        else:
            with native.disabled():
                od.forward(np, Attrs(attrs), args, outs)
        res.append((outs, args))
    return res


def _bn_attrs(ax, train=False, fix_gamma=False, eps=1e-3, omv=True):
    return dict(eps=eps, momentum=0.9, fix_gamma=fix_gamma, use_global_stats=False,
                output_mean_var=omv, axis=ax, __is_train__=train)


def _close(a, b, dtype, scale=1.0):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                               rtol=TOL[dtype] * scale, atol=TOL[dtype] * scale)


# -- BatchNorm forward -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,ax", SHAPES)
@pytest.mark.parametrize("fix_gamma", [False, True])
def test_bn_inference_matches_xp_bitwise_and_numpy(dtype, shape, ax, fix_gamma):
    x, gamma, beta, mm, mv = _data(shape, ax, dtype)
    c = shape[ax]
    (on, _), (off, _) = _run("BatchNorm", _bn_attrs(ax, fix_gamma=fix_gamma),
                             [x, gamma, beta, mm, mv], [shape, (c,), (c,)])
    for a, b in zip(on, off):
        np.testing.assert_array_equal(a, b)
    g = np.ones(c) if fix_gamma else gamma
    _close(on[0], _bn_np(x, g, beta, mm, mv, 1e-3, ax % len(shape)), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,ax", SHAPES)
@pytest.mark.parametrize("fix_gamma", [False, True])
def test_bn_training_forward(dtype, shape, ax, fix_gamma):
    x, gamma, beta, mm, mv = _data(shape, ax, dtype, seed=1)
    c, axn = shape[ax], ax % len(shape)
    (on, on_aux), (off, off_aux) = _run("BatchNorm", _bn_attrs(ax, True, fix_gamma),
                                        [x, gamma, beta, mm, mv], [shape, (c,), (c,)])
    mean, var = _batch_stats(x, axn)
    g = np.ones(c) if fix_gamma else gamma
    want = [_bn_np(x, g, beta, mean, var, 1e-3, axn), mean, 1 / np.sqrt(var + 1e-3)]
    for a, b, w in zip(on, off, want):
        _close(a, w, dtype, 4)
        _close(a, b, dtype, 4)
    for aux in (on_aux, off_aux):  # the moving stats change in the backward (MXNet's CPU)
        np.testing.assert_array_equal(aux[3], mm)
        np.testing.assert_array_equal(aux[4], mv)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bn_training_stats_of_offset_data(dtype):
    """Data far from zero (mean 1e4, std 1e-1): the variance must not cancel away."""
    x, gamma, beta, mm, mv = _data((4, 3, 33, 17), 1, dtype, seed=2, offset=0.0)
    x = (x / 30 + 1e4).astype(dtype)
    mean = np.empty(3, dtype)
    var = np.empty(3, dtype)
    out = np.empty_like(x)
    K.bn_train_forward(x, gamma, beta, out, mean, var, 1e-5, False, 1)
    m64, v64 = _batch_stats(x, 1)
    np.testing.assert_allclose(mean, m64, rtol=1e-6 if dtype == "float32" else 1e-14)
    np.testing.assert_allclose(var, v64, rtol=1e-5 if dtype == "float32" else 1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("shape", [(2, 3, 45, 41), (300, 3, 7)])  # channel walk, row walk
def test_bn_kernels_in_place_and_fused_relu(dtype, train, shape):
    x, gamma, beta, mm, mv = _data(shape, 1, dtype, seed=3)
    scale = (gamma / np.sqrt(mv + 1e-3)).astype(dtype)
    ref = np.empty_like(x)
    mean, var = np.empty_like(mm), np.empty_like(mv)
    if train:
        K.bn_train_forward(x, gamma, beta, ref, mean, var, 1e-3, False, 1)
    else:
        K.bn_affine(x, mm, scale, beta, ref, 1)
    y = x.copy()  # out is x
    if train:
        K.bn_train_forward(y, gamma, beta, y, mean, var, 1e-3, False, 1)
    else:
        K.bn_affine(y, mm, scale, beta, y, 1)
    np.testing.assert_array_equal(y, ref)
    r = np.empty_like(x)
    if train:
        K.bn_train_forward(x, gamma, beta, r, mean, var, 1e-3, False, 1, relu=True)
    else:
        K.bn_affine(x, mm, scale, beta, r, 1, relu=True)
    np.testing.assert_array_equal(r, np.maximum(ref, 0))


# -- BatchNorm backward ------------------------------------------------------------------------
def _bn_bwd_np(og, x, gamma, mm, mv, eps, ax, fix_gamma, glob):
    """float64 closed form of BatchNorm's gradients (independent of the op's code)."""
    red = tuple(i for i in range(x.ndim) if i != ax)
    og, x64 = og.astype(np.float64), x.astype(np.float64)
    if glob:
        mean, var = mm.astype(np.float64), mv.astype(np.float64)
    else:
        mean, var = _batch_stats(x, ax)
    b = lambda v: _bcast(v, x.ndim, ax)  # noqa: E731
    g = np.ones_like(mean) if fix_gamma else gamma.astype(np.float64)
    inv = 1 / np.sqrt(var + eps)
    xhat = (x64 - b(mean)) * b(inv)
    db, dg = og.sum(axis=red), (og * xhat).sum(axis=red)
    if glob:
        dx = og * b(g * inv)
    else:
        n = x.size / x.shape[ax]
        dx = b(g * inv / n) * (n * og - b(db) - xhat * b(dg))
    return dx, (np.zeros_like(dg) if fix_gamma else dg), db


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,ax", SHAPES)
@pytest.mark.parametrize("glob", [False, True])
@pytest.mark.parametrize("fix_gamma", [False, True])
def test_bn_backward(dtype, shape, ax, glob, fix_gamma):
    x, gamma, _, mm, mv = _data(shape, ax, dtype, seed=4)
    og = np.random.RandomState(5).randn(*shape).astype(dtype)
    c, axn = shape[ax], ax % len(shape)
    attrs = dict(eps=1e-3, fix_gamma=fix_gamma, use_global_stats=glob, axis=ax, momentum=0.8)
    (on, on_aux), (off, off_aux) = _run("_backward_BatchNorm", attrs, [og, x, gamma, mm, mv],
                                        [shape, (c,), (c,)])
    want = _bn_bwd_np(og, x, gamma, mm, mv, 1e-3, axn, fix_gamma, glob)
    n = x.size // c
    for a, b, w in zip(on, off, want):
        sc = 10 * max(1.0, np.sqrt(n) / 10)  # sums of n float32 terms on the xp path
        _close(a, w, dtype, sc)
        _close(a, b, dtype, sc)
    # the training update of the moving stats (none with use_global_stats)
    mean, var = _batch_stats(x, axn)
    want_aux = (mm, mv) if glob else (mm * 0.8 + mean * 0.2, mv * 0.8 + var * 0.2)
    for aux in (on_aux, off_aux):
        _close(aux[3], want_aux[0], dtype, 4)
        _close(aux[4], want_aux[1], dtype, 4)


@pytest.mark.parametrize("glob", [False, True])
@pytest.mark.parametrize("shape", [(2, 4, 37, 29), (500, 4, 9)])
def test_bn_backward_dx_may_be_ograd(glob, shape):
    x, gamma, _, mm, mv = _data(shape, 1, "float32", seed=6)
    og = np.random.RandomState(7).randn(*x.shape).astype("float32")
    outs = [np.empty_like(x), np.empty_like(gamma), np.empty_like(gamma)]
    K.bn_backward(og, x, gamma, mm, mv, *outs, 1e-3, False, glob, 1)
    og2 = og.copy()
    dg, db = np.empty_like(gamma), np.empty_like(gamma)
    K.bn_backward(og2, x, gamma, mm, mv, og2, dg, db, 1e-3, False, glob, 1)
    np.testing.assert_array_equal(og2, outs[0])
    np.testing.assert_array_equal(dg, outs[1])
    np.testing.assert_array_equal(db, outs[2])


def test_bn_autograd_end_to_end_matches_xp():
    """Training step through mx.nd with autograd: kernels vs xp path."""
    x, gamma, beta, mm, mv = _data((3, 4, 6, 5), 1, "float32", seed=8)
    og = np.random.RandomState(9).randn(*x.shape).astype("float32")
    res = []
    for on in (True, False):
        native._state["on"] = on
        try:
            xs, gs, bs = mx.nd.array(x), mx.nd.array(gamma), mx.nd.array(beta)
            ms, vs = mx.nd.array(mm), mx.nd.array(mv)
            for a in (xs, gs, bs):
                a.attach_grad()
            with mx.autograd.record():
                y = mx.nd.Activation(mx.nd.BatchNorm(xs, gs, bs, ms, vs, fix_gamma=False),
                                     act_type="relu")
            y.backward(mx.nd.array(og))
            res.append([t.asnumpy() for t in (y, xs.grad, gs.grad, bs.grad, ms, vs)])
        finally:
            native._state["on"] = True
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


# -- relu --------------------------------------------------------------------------------------
_SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 3.0, -3.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 9, 140001])
def test_relu_forward(dtype, n):
    x = np.resize(_SPECIAL, n).astype(dtype)
    x[9:] = np.random.RandomState(n).randn(max(n - 9, 0))
    (on, _), (off, _) = _run("Activation", dict(act_type="relu"), [x], [x.shape])
    np.testing.assert_array_equal(on[0], off[0])
    want = np.where(np.isnan(x), x, np.where(x > 0, x, 0))
    np.testing.assert_array_equal(on[0], want)
    y = x.copy()
    K.relu_forward(y, y)  # in place
    np.testing.assert_array_equal(y, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 9, 140001])
def test_relu_backward(dtype, n):
    x = np.resize(_SPECIAL, n).astype(dtype)
    gy = np.random.RandomState(n).randn(n).astype(dtype)
    gy[:3] = [np.nan, np.inf, np.inf][:n]  # nan/inf times 0 where x <= 0: as the product gives
    (on, _), (off, _) = _run("_backward_relu", {}, [gy, x], [x.shape])
    np.testing.assert_array_equal(on[0], off[0])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(on[0], gy * (x > 0).astype(dtype))
    g2 = gy.copy()
    K.relu_backward(g2, x, g2)  # out is ograd
    np.testing.assert_array_equal(g2, on[0])


def test_relu_gradient_and_second_order():
    x = mx.nd.array([-2.0, 0.0, 0.5, 3.0])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Activation(x, act_type="relu")
        g = mx.autograd.grad(y, [x], head_grads=mx.nd.array([1.0, 2.0, 3.0, 4.0]),
                             create_graph=True)[0]
        z = (g * g).sum()
    np.testing.assert_array_equal(g.asnumpy(), [0, 0, 3, 4])
    z.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [0, 0, 0, 0])


# -- planner hints -----------------------------------------------------------------------------
def test_batchnorm_and_relu_outputs_reuse_their_input_block():
    """relu -> BatchNorm -> relu -> sum: BatchNorm writes into the first relu's block and
    the second relu into BatchNorm's (the in-place hints on both ops)."""
    def node(op, name, *ins, **attrs):
        ents = [ir.Entry(i, 0) for i in ins]
        return ir.Node(registry.get(op), name, {k: str(v) for k, v in attrs.items()}, ents)
    params = [ir.Node(None, n) for n in ("g", "b", "m", "v")]
    r1 = node("Activation", "r1", ir.Node(None, "x"), act_type="relu")
    bn = node("BatchNorm", "bn", r1, *params)
    r2 = node("Activation", "r2", bn, act_type="relu")
    ig = ir.IndexedGraph(ir.Graph([ir.Entry(node("sum", "total", r2), 0)]))
    entry = {n.name: ig.row_ptr[i] for i, n in enumerate(ig.nodes)}
    nbytes = [4 * 2 * 3 * 5] * ig.num_entries  # x, r1, bn, r2: (2, 3, 5) float32
    for name in ("g", "b", "m", "v"):
        nbytes[entry[name]] = 4 * 3
    nbytes[entry["total"]] = 4
    plan = plan_memory(ig, nbytes, ())
    assert plan.inplace[entry["bn"]] == entry["r1"]
    assert plan.inplace[entry["r2"]] == entry["bn"]


# -- bad arguments -----------------------------------------------------------------------------
def test_kernels_reject_bad_arrays():
    x = np.ones((2, 3, 4), np.float32)
    c3 = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="BatchNorm: beta has shape"):
        K.bn_affine(x, c3, c3, np.ones(4, np.float32), np.empty_like(x), 1)
    with pytest.raises(ValueError, match="scale has dtype float64, expected float32"):
        K.bn_affine(x, c3, c3.astype(np.float64), c3, np.empty_like(x), 1)
    with pytest.raises(ValueError, match="out has shape"):
        K.bn_affine(x, c3, c3, c3, np.empty((2, 3, 5), np.float32), 1)
    with pytest.raises(ValueError, match="axis 3 out of range"):
        K.bn_affine(x, c3, c3, c3, np.empty_like(x), 3)
    with pytest.raises(ValueError, match="C-contiguous"):
        K.relu_forward(np.ones((4, 6), np.float32)[:, ::2], np.empty((4, 3), np.float32))
    with pytest.raises(ValueError, match="expected float32 or float64"):
        K.relu_forward(np.ones(3, np.int32), np.ones(3, np.int32))
    with pytest.raises(ValueError, match="read-only"):
        ro = np.empty_like(x)
        ro.flags.writeable = False
        K.relu_backward(x, x, ro)
    with pytest.raises(ValueError, match="empty input"):
        e = np.ones((0, 3), np.float32)
        K.bn_backward(e, e, c3, c3, c3, e, c3.copy(), c3.copy(), 1e-3, False, False, 1)
    with pytest.raises(ValueError, match="ograd has shape"):
        K.bn_backward(np.ones((2, 3, 5), np.float32), x, c3, c3, c3, np.empty_like(x),
                      c3.copy(), c3.copy(), 1e-3, False, False, 1)


def test_ops_still_give_plait_errors():
    x = mx.nd.ones((2, 3, 4))
    with pytest.raises(mx.base.MXNetError, match="gamma"):
        mx.nd.BatchNorm(x, mx.nd.ones(4), mx.nd.ones(3), mx.nd.ones(3), mx.nd.ones(3))
    with pytest.raises(mx.base.MXNetError, match=r"_backward_relu.*'data'.*\(2, 3\)"):
        mx.nd._backward_relu(x, mx.nd.ones((2, 3)))


def test_empty_batch_takes_the_xp_path():
    x = np.ones((0, 3), np.float32)
    c3 = np.ones(3, np.float32)
    (on, _), (off, _) = _run("BatchNorm", _bn_attrs(1, omv=False), [x, c3, c3, c3, c3],
                             [x.shape])
    assert on[0].shape == (0, 3)


# -- LeakyReLU family --------------------------------------------------------------------------
_ALPHA, _LAMBDA = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _leaky_np(t, x, slope, gamma):
    """float64 formulas (the negative branch at 0 and for nan)."""
    x64 = x.astype(np.float64)
    neg = ~(x64 > 0)
    if t == "leaky":
        r = np.where(neg, x64 * slope, x64)
    elif t == "prelu":
        gm = gamma.astype(np.float64)
        gm = gm.reshape((1, -1) + (1,) * (x.ndim - 2)) if x.ndim >= 2 else gm
        r = np.where(neg, x64 * gm, x64)
    elif t == "elu":
        r = np.where(neg, slope * np.expm1(x64), x64)
    else:
        r = _LAMBDA * np.where(neg, _ALPHA * np.expm1(x64), x64)
    return r


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("t", ["leaky", "prelu", "elu", "selu"])
@pytest.mark.parametrize("shape", [(9,), (1, 1), (4, 9), (2, 3, 5, 7), (3, 5, 150, 99)])
def test_leaky_family_forward(dtype, t, shape):
    rs = np.random.RandomState(len(shape))
    x = (rs.randn(*shape) * 3).astype(dtype)
    x.ravel()[:9] = _SPECIAL[:x.size]
    c = shape[1] if len(shape) >= 2 else shape[0]
    ins = [x]
    if t == "prelu":
        ins.append(rs.uniform(0.1, 0.5, c if len(shape) != 4 else 1).astype(dtype))
    attrs = dict(act_type=t, slope=0.3, lower_bound=0.125, upper_bound=0.334)
    (on, _), (off, _) = _run("LeakyReLU", attrs, ins, [shape])
    if t in ("leaky", "prelu"):
        np.testing.assert_array_equal(on[0], off[0])
    else:  # libm's expm1 and NumPy's may differ in the last bit (and in the sign of -0)
        np.testing.assert_allclose(on[0], off[0], rtol=4 * np.finfo(dtype).eps, atol=0)
    with np.errstate(all="ignore"):
        want = _leaky_np(t, x, 0.3, ins[1] if t == "prelu" else None)
    np.testing.assert_allclose(on[0], want, rtol=TOL[dtype] / 10, atol=TOL[dtype] / 10)
    y = x.copy()  # in place
    kind = {"leaky": 0, "prelu": 1, "elu": 2, "selu": 3}[t]
    slope, scale = (_ALPHA, _LAMBDA) if t == "selu" else (0.3, 1.0)
    K.leaky_forward(y, y, kind, slope, scale, ins[1] if t == "prelu" else None)
    np.testing.assert_array_equal(y, on[0])


def test_leaky_forward_rejects_bad_gamma():
    x = np.ones((2, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"gamma has shape \(2,\), expected \(3,\) or \(1,\)"):
        K.leaky_forward(x, np.empty_like(x), 1, 0.25, 1.0, np.ones(2, np.float32))
    with pytest.raises(ValueError, match="prelu needs gamma"):
        K.leaky_forward(x, np.empty_like(x), 1, 0.25, 1.0, None)


@pytest.mark.parametrize("shape", [(2, 3, 70, 3), (40, 3)])  # channel walk, row walk
def test_bn_nonfinite_data_as_xp(shape):
    """inf / nan in a channel: the same inf / nan pattern as the xp path (mean inf, var nan)."""
    x, gamma, beta, mm, mv = _data(shape, 1, "float32", seed=10)
    x[(0, 1) + (2,) * (len(shape) - 2)] = np.inf
    x[(1, 2) + (1,) * (len(shape) - 2)] = np.nan
    og = np.ones_like(x)
    with np.errstate(all="ignore"):
        fwd = _run("BatchNorm", _bn_attrs(1, True), [x, gamma, beta, mm, mv],
                   [shape, (3,), (3,)])
        battrs = dict(eps=1e-3, fix_gamma=False, use_global_stats=False, axis=1)
        bwd = _run("_backward_BatchNorm", battrs, [og, x, gamma, mm, mv], [shape, (3,), (3,)])
    for (on, on_aux), (off, off_aux) in (fwd, bwd):
        for a, b in zip(on + on_aux[3:], off + off_aux[3:]):
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
            np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
            fin = np.isfinite(b)
            np.testing.assert_allclose(a[fin], b[fin], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 9, 140001])
@pytest.mark.parametrize("slope", [0.1, -0.5])
def test_leaky_backward(dtype, n, slope):
    x = np.resize(_SPECIAL, n).astype(dtype)
    gy = np.random.RandomState(n).randn(n).astype(dtype)
    (on, _), (off, _) = _run("_backward_leaky", dict(slope=slope), [gy, x], [x.shape])
    np.testing.assert_array_equal(on[0], off[0])
    want = gy.astype(np.float64) * np.where(x > 0, 1.0, slope)
    np.testing.assert_allclose(on[0], want, rtol=TOL[dtype] / 10, atol=0)
    g2 = gy.copy()
    K.relu_backward(g2, x, g2, slope)  # out is ograd
    np.testing.assert_array_equal(g2, on[0])


def test_leaky_relu_gradient_through_autograd():
    x = mx.nd.array([-2.0, 0.0, 0.5, 3.0])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.LeakyReLU(x, act_type="leaky", slope=0.2)
    y.backward(mx.nd.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_allclose(x.grad.asnumpy(), [0.2, 0.4, 3.0, 4.0], rtol=1e-6)
