"""gluon.Trainer against real MXNet 1.9.1 (tests/fixtures/gluon/optim_trainer.npz from
tools/make_gluon_optim_fixtures.py): step's 1/batch_size rescale, lr_mult/wd_mult,
grad_req='add'; plus learning-rate API, kvstore paths, save/load_states round trip, errors."""
import os

import numpy as np
import pytest

import plait as mx
from plait.core.base import MXNetError
from plait.gluon import trainer as trainer_mod

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "gluon")
DATA = np.load(os.path.join(FIX, "optim_trainer.npz"), allow_pickle=False)
VARIANTS = {
    "sgd_plain": dict(opt="sgd", params={"learning_rate": 0.1}, bs=4),
    "sgd_mult": dict(opt="sgd", params={"learning_rate": 0.1, "momentum": 0.9, "wd": 0.05},
                     bs=2, lr_mult=0.5, wd_mult=3.0),
    "adam_add": dict(opt="adam", params={"learning_rate": 0.05}, bs=3, grad_req="add"),
}


def _params(v=None, ctx=None):
    v = v or {}
    a = mx.gluon.Parameter("a", shape=(2, 3), grad_req=v.get("grad_req", "write"))
    b = mx.gluon.Parameter("b", shape=(3,), lr_mult=v.get("lr_mult", 1.0),
                           wd_mult=v.get("wd_mult", 1.0))
    for p, init in ((a, DATA["a0"]), (b, DATA["b0"])):
        p.initialize(ctx=ctx or mx.cpu())
        p.set_data(mx.nd.array(init))
    return a, b


def _loss(a, b, t, ctx=None):
    x = mx.nd.array(DATA["x"][t], ctx=ctx)
    y = mx.nd.array(DATA["y"][t], ctx=ctx)
    loss = (a.data(ctx) * x).sum() + (b.data(ctx) * y).sum()
    return loss * loss


@pytest.mark.parametrize("key", sorted(VARIANTS))
def test_step_matches_mxnet(key):
    v = VARIANTS[key]
    a, b = _params(v)
    tr = mx.gluon.Trainer([a, b], v["opt"], v["params"])
    want = DATA["tr_" + key]
    for t in range(want.shape[0]):
        with mx.autograd.record():
            loss = _loss(a, b, t)
        loss.backward()
        tr.step(v["bs"])
        if v.get("grad_req") == "add" and t % 3 == 2:
            a.zero_grad()
        got = np.concatenate([a.data().asnumpy().ravel(), b.data().asnumpy().ravel()])
        np.testing.assert_allclose(got, want[t], rtol=1e-5, atol=1e-6, err_msg="step %d" % t)


def test_parameter_dict_sorted_and_errors():
    a, b = _params()
    pd = {"z": a, "y": b}
    tr = mx.gluon.Trainer(pd, "sgd")
    assert tr._params == [b, a]
    with pytest.raises(ValueError, match="First argument must be a list or dict of Param"):
        mx.gluon.Trainer(a, "sgd")
    with pytest.raises(ValueError, match="got list of"):
        mx.gluon.Trainer([1], "sgd")
    with pytest.raises(AssertionError, match="optimizer_params must be None"):
        mx.gluon.Trainer([a], mx.optimizer.SGD(), {"learning_rate": 1})
    with pytest.raises(ValueError, match="Cannot find optimizer"):
        mx.gluon.Trainer([a], "nosuch")


def test_learning_rate_and_rescale():
    a, b = _params()
    tr = mx.gluon.Trainer([a, b], "sgd", {"learning_rate": 0.5, "rescale_grad": 2.0})
    assert tr.learning_rate == 0.5
    tr.set_learning_rate(0.25)
    assert tr.learning_rate == 0.25 and tr.optimizer.lr == 0.25
    with mx.autograd.record():
        loss = _loss(a, b, 0)
    loss.backward()
    tr.step(4)
    assert tr.optimizer.rescale_grad == pytest.approx(0.5)  # original scale / batch_size
    sched = mx.lr_scheduler.FactorScheduler(step=1, factor=0.5, base_lr=1.0)
    tr2 = mx.gluon.Trainer([a], "sgd", {"lr_scheduler": sched})
    with pytest.raises(UserWarning, match="LRScheduler of the optimizer"):
        tr2.set_learning_rate(0.1)


def test_grad_req_null_is_skipped_and_allreduce_update():
    a, b = _params()
    b.grad_req = "null"
    tr = mx.gluon.Trainer([a, b], "sgd", {"learning_rate": 1.0}, kvstore=None)
    with mx.autograd.record():
        loss = _loss(a, b, 0)
    loss.backward()
    g = a.grad().asnumpy()
    tr.allreduce_grads()
    tr.update(2)
    np.testing.assert_allclose(a.data().asnumpy(), DATA["a0"] - g / 2, rtol=1e-6)
    np.testing.assert_array_equal(b.data().asnumpy(), DATA["b0"])


def test_stale_gradient_error():
    """MXNet's message when a parameter's gradient was not refreshed by backward: b is not
    used by the loss, and after a step a's gradient is stale until the next backward."""
    a, b = _params()
    tr = mx.gluon.Trainer([a, b], "sgd", {"learning_rate": 1.0})
    with mx.autograd.record():
        loss = (a.data() * 2).sum()
    loss.backward()
    with pytest.raises(UserWarning, match=r"Gradient of Parameter `b` on context cpu\(0\) has "
                                          r"not been updated by backward since last `step`"):
        tr.step(1)
    a0, b0 = a.data().asnumpy().copy(), b.data().asnumpy().copy()
    tr.step(1, ignore_stale_grad=True)  # updates a only
    np.testing.assert_allclose(a.data().asnumpy(), a0 - 2, rtol=1e-6)
    np.testing.assert_array_equal(b.data().asnumpy(), b0)
    with pytest.raises(UserWarning, match="Parameter `a`"):
        tr.step(1)  # no backward since the last step
    with mx.autograd.record():
        loss = (a.data() * b.data()).sum()
    loss.backward()
    tr.step(1)  # both fresh again


def test_save_load_states_roundtrip(tmp_path):
    v = VARIANTS["sgd_mult"]
    a, b = _params(v)
    tr = mx.gluon.Trainer([a, b], "adam", {"learning_rate": 0.05, "wd": 0.01})
    for t in range(3):
        with mx.autograd.record():
            loss = _loss(a, b, t)
        loss.backward()
        tr.step(2)
    fname = str(tmp_path / "t.states")
    tr.save_states(fname)
    with open(fname, "rb") as f:
        assert f.read(1) != b"\x80"
    snapshot = [a.data().copy(), b.data().copy()]
    # continue training the original for 2 steps
    for t in range(3, 5):
        with mx.autograd.record():
            loss = _loss(a, b, t)
        loss.backward()
        tr.step(2)
    want = [a.data().asnumpy(), b.data().asnumpy()]
    # a fresh trainer (other optimizer settings) restored from the file does the same
    a2, b2 = _params(v)
    a2.set_data(snapshot[0])
    b2.set_data(snapshot[1])
    tr2 = mx.gluon.Trainer([a2, b2], "sgd", {"learning_rate": 9.0})
    tr2.load_states(fname)
    assert isinstance(tr2.optimizer, mx.optimizer.Adam) and tr2.learning_rate == 0.05
    assert tr2.optimizer.num_update == 3
    assert tr2.optimizer.param_dict[0] is a2
    for t in range(3, 5):
        with mx.autograd.record():
            loss = _loss(a2, b2, t)
        loss.backward()
        tr2.step(2)
    np.testing.assert_allclose(a2.data().asnumpy(), want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b2.data().asnumpy(), want[1], rtol=1e-5, atol=1e-6)


def test_load_mxnet_pickled_states_gives_conversion_hint(tmp_path):
    a, b = _params()
    tr = mx.gluon.Trainer([a, b], "sgd")
    fname = str(tmp_path / "mx.states")
    with open(fname, "wb") as f:
        f.write(b"\x80\x03(X\x01\x00\x00\x00a")
    with pytest.raises(MXNetError, match="pickle.*tools/convert_mxnet_states.py"):
        tr.load_states(fname)
    with open(fname, "wb") as f:
        f.write(b"garbage")
    with pytest.raises(MXNetError, match="not a plait optimizer-state file"):
        tr.load_states(fname)


def _multi_ctx():
    return [mx.cpu(0), mx.cpu(1)]


@pytest.mark.parametrize("update_on_kvstore", [None, False])
def test_multi_device_sums_gradients_through_kvstore(update_on_kvstore):
    """Two devices: gradients are summed by the kvstore before the update (MXNet updates on
    the kvstore by default, or locally with update_on_kvstore=False)."""
    ctxs = _multi_ctx()
    a, b = _params(ctx=ctxs)
    tr = mx.gluon.Trainer([a, b], "sgd", {"learning_rate": 0.1, "momentum": 0.5},
                          update_on_kvstore=update_on_kvstore)
    ref_a, ref_b = _params()
    ref = mx.gluon.Trainer([ref_a, ref_b], "sgd", {"learning_rate": 0.1, "momentum": 0.5})
    for t in range(3):
        with mx.autograd.record():
            losses = [_loss(a, b, t, ctx) for ctx in ctxs]
        mx.autograd.backward(losses)
        tr.step(4)
        with mx.autograd.record():
            loss = _loss(ref_a, ref_b, t) * 2
        loss.backward()
        ref.step(4)
    assert tr._kvstore is not None
    assert tr._update_on_kvstore is (update_on_kvstore is None)
    for ctx in ctxs:
        np.testing.assert_allclose(a.data(ctx).asnumpy(), ref_a.data().asnumpy(), rtol=1e-5)
        np.testing.assert_allclose(b.data(ctx).asnumpy(), ref_b.data().asnumpy(), rtol=1e-5)
    if update_on_kvstore is None:
        with pytest.raises(AssertionError, match="allreduce_grads\\(\\) when parameters"):
            tr.allreduce_grads()


def test_load_states_converted_from_mxnet():
    """An Adam + FactorScheduler state saved by MXNet 1.9.1 and converted with
    tools/convert_mxnet_states.py continues exactly as MXNet did."""
    a = mx.gluon.Parameter("a", shape=(2, 3))
    a.initialize(ctx=mx.cpu())
    a.set_data(mx.nd.array(DATA["conv_saved"]))
    tr = mx.gluon.Trainer([a], "sgd", kvstore=None)
    tr.load_states(os.path.join(FIX, "optim_converted.states"))
    assert isinstance(tr.optimizer, mx.optimizer.Adam)
    assert isinstance(tr.optimizer.lr_scheduler, mx.lr_scheduler.FactorScheduler)
    coef = np.arange(6, dtype=np.float32).reshape(2, 3)
    for t in range(3, 5):
        with mx.autograd.record():
            loss = (a.data() * mx.nd.array(coef + t)).sum()
        loss.backward()
        tr.step(2)
    np.testing.assert_allclose(a.data().asnumpy(), DATA["conv_final"], rtol=1e-6)
