"""Normalization ops and Dropout: MXNet 1.9.1 fixtures (tools/make_norm_fixtures.py) for
forward, gradients and moving stats; train vs predict behaviour; a finite-difference check
of BatchNorm's training-mode gradient (the generic suite checks inference mode only)."""
import functools
import json
import os

import numpy as np
import pytest

import plait as mx
from plait.core.ops import registry

FIX = np.load(os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "ops",
                           "nn_norm.npz"))
CASES = sorted({k.split("/")[0] for k in FIX.files})


@pytest.mark.parametrize("case", CASES)
def test_matches_mxnet(case):
    a = json.loads(str(FIX[case + "/attrs"]))
    op, train, diff = a.pop("__op__"), a.pop("__train__"), a.pop("__diff__")
    ins = [FIX["%s/in%d" % (case, i)] for i in range(5) if "%s/in%d" % (case, i) in FIX.files]
    nds = [mx.nd.array(x, dtype=x.dtype) for x in ins]
    for i in diff:
        nds[i].attach_grad()
    with mx.autograd.record(train_mode=train):
        y = functools.reduce(getattr, op.split("."), mx.nd)(*nds, **a)
    ys = y if isinstance(y, list) else [y]
    og = FIX[case + "/ograd"]
    if diff:
        ys[0].backward(mx.nd.array(og, dtype=og.dtype), train_mode=train)
    tol = dict(rtol=1e-4, atol=1e-5) if og.dtype == np.float32 else dict(rtol=1e-7, atol=1e-9)
    for i, o in enumerate(ys):
        np.testing.assert_allclose(o.asnumpy(), FIX["%s/out%d" % (case, i)], err_msg="out%d" % i,
                                   **tol)
    for i in diff:
        np.testing.assert_allclose(nds[i].grad.asnumpy(), FIX["%s/grad%d" % (case, i)],
                                   err_msg="grad%d" % i, **tol)
    for i in (3, 4):
        key = "%s/aux%d" % (case, i)
        if key in FIX.files:
            np.testing.assert_allclose(nds[i].asnumpy(), FIX[key], err_msg=key, **tol)


def _bn_inputs(seed=0):
    r = np.random.default_rng(seed)
    return [r.uniform(-2, 2, (3, 2, 2)), r.uniform(0.5, 1.5, 2), r.uniform(-1, 1, 2),
            r.uniform(-1, 1, 2), r.uniform(0.5, 1.5, 2)]


@pytest.mark.parametrize("shape_axis", [((3, 2, 2), 1), ((3, 2), 1), ((3, 3, 2), -1)])
def test_batchnorm_moving_stats_only_in_training_backward(shape_axis):
    """MXNet 1.9.1 (CPU) updates the moving stats in BatchNorm's backward: not in inference,
    not with use_global_stats, not in a training forward alone (checked in MXNet: a
    train_mode forward, or a recorded one before backward, leaves them as they were)."""
    shape, axis = shape_axis
    ins = _bn_inputs()
    ins[0] = np.random.default_rng(5).uniform(-2, 2, shape)
    nds = [mx.nd.array(x, dtype="float64") for x in ins]
    mx.nd.BatchNorm(*nds, axis=axis).wait_to_read()                     # predict mode
    with mx.autograd.predict_mode():
        mx.nd.BatchNorm(*nds, axis=axis).wait_to_read()
    with mx.autograd.train_mode():
        mx.nd.BatchNorm(*nds, use_global_stats=True, axis=axis).wait_to_read()
        out = mx.nd.BatchNorm(*nds, momentum=0.7, axis=axis).asnumpy()
    nds[0].attach_grad()
    with mx.autograd.record():
        y = mx.nd.BatchNorm(*nds, momentum=0.7, axis=axis)
        y.wait_to_read()
        np.testing.assert_array_equal(nds[3].asnumpy(), ins[3])
        np.testing.assert_array_equal(nds[4].asnumpy(), ins[4])
    y.backward()
    x = np.moveaxis(ins[0], axis, -1).reshape(-1, 2)
    mean, var = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(nds[3].asnumpy(), ins[3] * 0.7 + mean * 0.3, rtol=1e-12)
    np.testing.assert_allclose(nds[4].asnumpy(), ins[4] * 0.7 + var * 0.3, rtol=1e-12)
    bs = [1] * len(shape)
    bs[axis] = 2
    want = ((ins[0] - mean.reshape(bs)) / np.sqrt(var.reshape(bs) + 1e-3)
            + ins[2].reshape(bs))
    np.testing.assert_allclose(out, want, rtol=1e-10)
    with mx.autograd.record():  # use_global_stats: the backward leaves them too
        y = mx.nd.BatchNorm(*nds, use_global_stats=True, axis=axis)
    before = nds[3].asnumpy()
    y.backward()
    np.testing.assert_array_equal(nds[3].asnumpy(), before)


@pytest.mark.parametrize("fix_gamma", [True, False])
@pytest.mark.parametrize("axis", [1, -1])
def test_batchnorm_training_gradient_finite_differences(fix_gamma, axis):
    op = registry.get("BatchNorm")
    ins = _bn_inputs(1)
    if axis == -1:
        ins[0] = np.moveaxis(ins[0], 1, -1).copy()
    attrs = dict(fix_gamma=fix_gamma, axis=axis)
    w = np.random.default_rng(2).uniform(0.5, 1.5, ins[0].shape)

    def f(xs):
        a = op.parse_attrs(dict(attrs))
        a["__is_train__"] = True
        out = np.empty_like(xs[0])
        op.forward(np, a, [x.copy() for x in xs], [out])
        return float((out * w).sum())
    nds = [mx.nd.array(x, dtype="float64") for x in ins]
    for i in range(3):
        nds[i].attach_grad()
    with mx.autograd.record():
        y = mx.nd.BatchNorm(*nds, **attrs)
    y.backward(mx.nd.array(w, dtype="float64"))
    for i in range(3):
        xs = [x.copy() for x in ins]
        num = np.zeros_like(xs[i])
        for j in np.ndindex(xs[i].shape):
            o = xs[i][j]
            xs[i][j] = o + 1e-6
            fp = f(xs)
            xs[i][j] = o - 1e-6
            fm = f(xs)
            xs[i][j] = o
            num[j] = (fp - fm) / 2e-6
        np.testing.assert_allclose(nds[i].grad.asnumpy(), num, rtol=1e-5, atol=1e-7,
                                   err_msg="input %d" % i)
    if fix_gamma:
        assert not nds[1].grad.asnumpy().any()


def test_dropout_predict_identity_train_scaled_mask():
    x = mx.nd.array(np.random.default_rng(0).uniform(1, 2, (50, 40)), dtype="float64")
    np.testing.assert_array_equal(mx.nd.Dropout(x, p=0.3).asnumpy(), x.asnumpy())
    x.attach_grad()
    with mx.autograd.record(train_mode=False):
        y = mx.nd.Dropout(x, p=0.3)
    y.backward()
    np.testing.assert_array_equal(y.asnumpy(), x.asnumpy())
    np.testing.assert_array_equal(x.grad.asnumpy(), np.ones((50, 40)))
    with mx.autograd.record():
        y = mx.nd.Dropout(x, p=0.3)
    y.backward()
    yn, xn = y.asnumpy(), x.asnumpy()
    mask = yn != 0
    np.testing.assert_allclose(yn[mask], xn[mask] / 0.7, rtol=1e-12)
    assert 0.6 < mask.mean() < 0.8
    np.testing.assert_allclose(x.grad.asnumpy(), mask / 0.7, rtol=1e-12)
    always = mx.nd.Dropout(x, p=0.5, mode="always", axes=(0,)).asnumpy() != 0
    assert (always == always[:1]).all() and 0 < always.mean() < 1


def test_dropout_seeded_is_reproducible():
    x = mx.nd.ones((20, 20))
    mx.random.seed(7)
    a = mx.nd.Dropout(x, mode="always").asnumpy()
    mx.random.seed(7)
    b = mx.nd.Dropout(x, mode="always").asnumpy()
    np.testing.assert_array_equal(a, b)
