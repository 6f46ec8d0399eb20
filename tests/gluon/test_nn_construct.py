"""gluon.nn construction facts against MXNet 1.9.1 (tests/fixtures/gluon/nn_construct.json,
made by tools/make_gluon_nn_fixtures.py), constructor validation, default initial values,
Dropout's statistics, cast, and the errors a misused layer raises."""
import json
import os

import numpy as np
import pytest

import plait as mx
from plait.gluon import nn
from plait.gluon.contrib import nn as cnn

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "gluon",
                       "nn_construct.json")
with open(FIXTURE) as _f:
    FACTS = json.load(_f)


def _kw(kwargs):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}


def build(spec):
    cls = getattr(nn, spec[0], None) or getattr(cnn, spec[0])
    return cls(**_kw(spec[1]))


def test_names_shapes_dtypes_repr_before_first_forward():
    with mx.name.NameManager():
        net = nn.HybridSequential()
        with net.name_scope():
            layers = [build(f["spec"]) for f in FACTS["layers"]]
    for fact, layer in zip(FACTS["layers"], layers):
        params = layer.collect_params()
        assert layer.prefix == fact["prefix"]
        assert list(params.keys()) == fact["names"], fact["spec"]
        assert [list(p.shape) for p in params.values()] == fact["shapes"], fact["spec"]
        assert [p.grad_req for p in params.values()] == fact["grad_req"], fact["spec"]
        assert [np.dtype(p.dtype).name for p in params.values()] == fact["dtypes"]
        assert repr(layer) == fact["repr"], fact["spec"]


def test_default_initial_values():
    specs = (["BatchNorm", {"in_channels": 3}], ["PReLU", {"in_channels": 2}],
             ["Dense", {"units": 2, "in_units": 2}], ["LayerNorm", {"in_channels": 2}],
             ["InstanceNorm", {"in_channels": 2}], ["GroupNorm", {"num_groups": 2}],
             ["Conv1D", {"channels": 2, "kernel_size": 1, "in_channels": 1}])
    got = {}
    with mx.name.NameManager():
        for spec in specs:
            layer = build(spec)
            layer.initialize()
            for name, p in layer.collect_params().items():
                if not name.endswith("weight"):
                    got[name] = p.data().asnumpy().tolist()
    assert got == FACTS["init_values"]


def test_nn_exports_blocks_and_containers():
    from plait.gluon import block, block_containers
    assert nn.Block is block.Block and nn.HybridBlock is block.HybridBlock
    assert nn.SymbolBlock is block.SymbolBlock
    assert nn.Sequential is block_containers.Sequential
    assert nn.HybridSequential is block_containers.HybridSequential
    for name in nn.__all__:
        assert hasattr(nn, name), name
    assert cnn.HybridConcatenate is cnn.HybridConcurrent
    assert cnn.Concatenate is cnn.Concurrent
    assert cnn.Identity is nn.Identity


@pytest.mark.parametrize("ctor", [
    lambda: nn.Conv1D(2, 3, layout="NWC"),
    lambda: nn.Conv2D(2, (3, 3, 3)),
    lambda: nn.Conv2DTranspose(2, 3, output_padding=(1, 1, 1)),
    lambda: nn.MaxPool2D(layout="NCW"),
    lambda: nn.AvgPool3D(pool_size=(2, 2)),
    lambda: nn.LeakyReLU(-0.1),
    lambda: nn.ReflectionPad2D((1, 2)),
    lambda: nn.Lambda("no_such_function"),
    lambda: nn.HybridLambda("no_such_function"),
    lambda: nn.Conv2DTranspose(4, 3, groups=2),   # MXNet cannot infer this either
])
def test_constructor_rejects_bad_arguments(ctor):
    with pytest.raises((AssertionError, ValueError)):
        ctor()


@pytest.mark.parametrize("hybridize", [False, True])
def test_dense_shape_mismatch_names_layer_and_shapes(hybridize):
    with mx.name.NameManager():
        layer = nn.Dense(5, in_units=3)
    layer.initialize()
    if hybridize:
        layer.hybridize()
    with pytest.raises(mx.base.MXNetError) as info:
        layer(mx.nd.ones((2, 4)))
    msg = str(info.value)
    assert "dense0" in msg and "(2, 4)" in msg and "(5, 3)" in msg


def test_conv_shape_mismatch_after_deferred_init_names_layer():
    with mx.name.NameManager():
        net = nn.HybridSequential()
        with net.name_scope():
            net.add(nn.Conv2D(2, 3))
    net.initialize()
    net(mx.nd.ones((1, 3, 5, 5)))               # in_channels inferred as 3
    with pytest.raises(mx.base.MXNetError) as info:
        net(mx.nd.ones((1, 4, 5, 5)))
    msg = str(info.value)
    assert "hybridsequential0_conv0" in msg and "(1, 4, 5, 5)" in msg and "(2, 3, 3, 3)" in msg


def test_batchnorm_channel_mismatch_names_layer():
    layer = nn.BatchNorm(in_channels=3)
    layer.initialize()
    with pytest.raises(mx.base.MXNetError) as info:
        layer(mx.nd.ones((2, 4, 2)))
    assert layer.name in str(info.value) and "(2, 4, 2)" in str(info.value)


def test_forward_before_initialize_raises():
    layer = nn.Dense(2)
    with pytest.raises(RuntimeError):
        layer(mx.nd.ones((1, 3)))


def test_dropout_training_statistics_and_axes():
    mx.random.seed(7)
    x = mx.nd.ones((200, 100))
    layer = nn.Dropout(0.3)
    with mx.autograd.record():
        y = layer(x).asnumpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    with mx.autograd.record():
        y = nn.Dropout(0.5, axes=(1,))(x).asnumpy()
    # one mask per row, shared along axis 1
    assert ((y == 0).all(axis=1) | (y != 0).all(axis=1)).all()
    np.testing.assert_array_equal(layer(x).asnumpy(), x.asnumpy())   # not training


def test_batchnorm_running_stats_follow_momentum():
    rng = np.random.RandomState(3)
    layer = nn.BatchNorm(momentum=0.7, in_channels=2)
    layer.initialize()
    mean, var = np.zeros(2), np.ones(2)
    for _ in range(3):
        x = rng.randn(5, 2, 3).astype("float32")
        with mx.autograd.record():
            y = layer(mx.nd.array(x))
        y.backward()  # MXNet updates them in BatchNorm's backward
        mean = 0.7 * mean + 0.3 * x.mean(axis=(0, 2))
        var = 0.7 * var + 0.3 * x.var(axis=(0, 2))  # biased, as MXNet
    np.testing.assert_allclose(layer.running_mean.data().asnumpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(layer.running_var.data().asnumpy(), var, rtol=1e-5)


def test_batchnorm_cast_float16_keeps_float32():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(2, in_units=2), nn.BatchNorm(in_channels=2))
    net.initialize()
    net.cast("float16")
    assert np.dtype(net[0].weight.dtype) == np.float16
    assert np.dtype(net[1].gamma.dtype) == np.float32


def test_lambda_and_hybridlambda_with_callables():
    x = mx.nd.array([[-1.0, 2.0]])
    lam = nn.Lambda(lambda a: a * 2)
    np.testing.assert_allclose(lam(x).asnumpy(), [[-2.0, 4.0]])
    hl = nn.HybridLambda(lambda F, a: F.LeakyReLU(a, slope=0.1))
    np.testing.assert_allclose(hl(x).asnumpy(), [[-0.1, 2.0]], rtol=1e-6)
    hl.hybridize()
    np.testing.assert_allclose(hl(x).asnumpy(), [[-0.1, 2.0]], rtol=1e-6)
    assert repr(hl) == "HybridLambda(<lambda>)"


def test_concurrent_imperative_matches_hybrid():
    with mx.name.NameManager():
        a, b = cnn.Concurrent(axis=1), cnn.HybridConcatenate(axis=1)
        for net in (a, b):
            with net.name_scope():
                net.add(nn.Dense(3, in_units=4), nn.Identity())
    for net in (a, b):
        net.initialize(mx.init.One())
    x = mx.nd.ones((2, 4))
    ya, yb = a(x).asnumpy(), b(x).asnumpy()
    assert ya.shape == (2, 7)
    np.testing.assert_allclose(ya, yb)
    np.testing.assert_allclose(ya[:, :3], 4.0)


@pytest.mark.parametrize("hybridize", [False, True])
def test_batchnorm_running_stats_move_in_backward_only(hybridize):
    """As MXNet 1.9.1 on CPU (checked there): a training-mode forward, or a recorded one
    before its backward, leaves the running statistics alone; the backward updates them."""
    x = np.random.RandomState(4).randn(4, 3, 5).astype("float32") + 3
    layer = nn.BatchNorm(momentum=0.6)
    layer.initialize()
    if hybridize:
        layer.hybridize()
    with mx.autograd.train_mode():
        layer(mx.nd.array(x)).wait_to_read()
    with mx.autograd.record():
        y = layer(mx.nd.array(x))
        y.wait_to_read()
    np.testing.assert_array_equal(layer.running_mean.data().asnumpy(), 0)
    np.testing.assert_array_equal(layer.running_var.data().asnumpy(), 1)
    y.backward()
    np.testing.assert_allclose(layer.running_mean.data().asnumpy(),
                               0.4 * x.mean(axis=(0, 2)), rtol=1e-5)
    np.testing.assert_allclose(layer.running_var.data().asnumpy(),
                               0.6 + 0.4 * x.var(axis=(0, 2)), rtol=1e-5)
