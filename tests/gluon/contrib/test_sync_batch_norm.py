"""gluon.contrib.nn.SyncBatchNorm: MXNet 1.9's arguments and parameter names; on one
device it computes exactly what nn.BatchNorm computes (outputs, gradients, running
statistics), imperatively and hybridized."""
import numpy as np
import pytest

import plait as mx
from plait.gluon.contrib.nn import SyncBatchNorm


def _pair(**kw):
    kw.setdefault("in_channels", 3)
    sync, ref = SyncBatchNorm(**kw), mx.gluon.nn.BatchNorm(
        **{k: v for k, v in kw.items() if k != "num_devices"})
    for b in (sync, ref):
        b.initialize(mx.init.Uniform(0.5))
    for (_, p), (_, q) in zip(sorted(sync.collect_params().items()),
                              sorted(ref.collect_params().items())):
        q.set_data(p.data())
    return sync, ref


@pytest.mark.parametrize("hybrid", [False, True])
@pytest.mark.parametrize("kw", [{}, dict(scale=False, momentum=0.5),
                                dict(use_global_stats=True, epsilon=1e-3),
                                dict(in_channels=3, num_devices=4, center=False)])
def test_equals_batch_norm_on_one_device(hybrid, kw):
    sync, ref = _pair(**kw)
    if hybrid:
        sync.hybridize()
        ref.hybridize()
    x = np.random.RandomState(0).randn(4, 3, 5, 2).astype(np.float32)
    head = mx.nd.array(np.random.RandomState(1).randn(*x.shape))
    res = []
    for b in (sync, ref):
        xi = mx.nd.array(x)
        xi.attach_grad()
        with mx.autograd.record():
            y = b(xi)
        y.backward(head)
        pred = b(mx.nd.array(x)).asnumpy()  # inference: the running statistics
        res.append([y.asnumpy(), xi.grad.asnumpy(), pred]
                   + [p.data().asnumpy() for _, p in sorted(b.collect_params().items())]
                   + [p.grad().asnumpy() for _, p in sorted(b.collect_params().items())
                      if p.grad_req != "null"])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_names_arguments_and_deferred_shapes_are_mxnets():
    b = SyncBatchNorm(num_devices=2)
    assert sorted(b.collect_params().keys()) == [
        b.prefix + n for n in ("beta", "gamma", "running_mean", "running_var")]
    assert b._kwargs == {"eps": 1e-5, "momentum": 0.9, "fix_gamma": False,
                         "use_global_stats": False, "ndev": 2, "key": b.prefix}
    b.initialize()
    b(mx.nd.ones((2, 6, 3)))
    assert b.gamma.shape == (6,) and b.running_var.shape == (6,)
    assert "SyncBatchNorm(" in repr(b) and "ndev=2" in repr(b)
    s = b(mx.sym.var("data"))
    assert s.list_auxiliary_states() == [b.prefix + "running_mean", b.prefix + "running_var"]
    assert s.get_internals().list_outputs()[-1] == b.prefix + "fwd_output"


def test_op_outputs_mean_and_variance():
    x = np.random.RandomState(2).randn(3, 2, 4).astype(np.float64)
    ones, zeros = mx.nd.ones(2, dtype="float64"), mx.nd.zeros(2, dtype="float64")
    mm, mv = mx.nd.zeros(2, dtype="float64"), mx.nd.ones(2, dtype="float64")
    data = mx.nd.array(x, dtype="float64")
    data.attach_grad()
    with mx.autograd.record():
        out, mean, var = mx.nd.contrib.SyncBatchNorm(data, ones,
                                                     zeros, mm, mv, key="k",
                                                     output_mean_var=True, momentum=0.25)
    np.testing.assert_allclose(mean.asnumpy(), x.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(var.asnumpy(), x.var(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_array_equal(mm.asnumpy(), 0)  # the moving stats move in the backward
    out.backward()
    np.testing.assert_allclose(mm.asnumpy(), 0.75 * x.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(mv.asnumpy(), 0.25 + 0.75 * x.var(axis=(0, 2)), rtol=1e-12)
    with pytest.raises(mx.PlaitError, match="key"):
        mx.nd.contrib.SyncBatchNorm(mx.nd.array(x), mx.nd.ones(2), mx.nd.zeros(2),
                                    mx.nd.zeros(2), mx.nd.ones(2))
