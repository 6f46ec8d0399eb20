"""Forward of every zoo model equals MXNet 1.9.1's, given the same seeded parameters and
input (tests/fixtures/zoo/forward.{json,npz}; the recipe is in seeded_params.py).  A few
small models run by default, all of them in the slow run; hybridized == imperative."""
import os

import numpy as np
import pytest

import plait as mx

from conftest import ZOO_FIXTURES, build
from seeded_params import input_value, param_values, set_seeded_params

DEFAULT = ["resnet18_v1", "resnet18_v2", "mobilenet0.25", "mobilenetv2_0.25",
           "squeezenet1.1", "densenet121"]
SLOW = ["resnet34_v1", "resnet50_v1", "resnet101_v1", "resnet152_v1", "resnet34_v2",
        "resnet50_v2", "resnet101_v2", "resnet152_v2", "vgg11", "vgg13", "vgg16", "vgg19",
        "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn", "alexnet", "densenet161",
        "densenet169", "densenet201", "squeezenet1.0", "inceptionv3", "mobilenet1.0",
        "mobilenet0.75", "mobilenet0.5", "mobilenetv2_1.0", "mobilenetv2_0.75",
        "mobilenetv2_0.5"]


def seeded_net(name, case, hybridize=False):
    """(net with the seeded parameters, seeded input) for the fixture case."""
    net = build(name, classes=case["classes"])
    net.initialize()
    if hybridize:
        net.hybridize()
    x = mx.nd.array(input_value(case["input_shape"]))
    net(x)                                  # infers the deferred shapes
    set_seeded_params(net, mx.nd.array)
    return net, x


def check_forward(name, case):
    net, x = seeded_net(name, case)
    y = net(x).asnumpy()
    ref = case["output"]
    assert y.shape == ref.shape
    # Deep random nets reach large magnitudes (resnet152_v1 ~1e9): compare relative to
    # the output's scale; observed differences are ~1e-6 of it.
    scale = np.abs(ref).max()
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4 * scale)


def test_fixture_lists_every_model(forward_fixture):
    assert sorted(forward_fixture) == sorted(DEFAULT + SLOW)


@pytest.mark.parametrize("name", DEFAULT)
def test_forward_matches_mxnet(name, forward_fixture):
    check_forward(name, forward_fixture[name])


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_forward_matches_mxnet_all(name, forward_fixture):
    check_forward(name, forward_fixture[name])


@pytest.mark.parametrize("name", ["resnet18_v2", "mobilenetv2_0.25", "squeezenet1.1"])
def test_hybridized_equals_imperative(name, forward_fixture):
    case = forward_fixture[name]
    imperative, x = seeded_net(name, case)
    hybrid, _ = seeded_net(name, case, hybridize=True)
    y_imp = imperative(x).asnumpy()
    y_hyb = hybrid(x).asnumpy()
    np.testing.assert_allclose(y_hyb, y_imp, rtol=1e-5, atol=1e-5 * np.abs(y_imp).max())
    np.testing.assert_allclose(hybrid(x).asnumpy(), y_hyb, rtol=0, atol=0)  # cached graph


def test_training_step_updates_every_parameter():
    """One SGD step through a zoo model in training mode (BatchNorm batch statistics,
    Dropout) yields a gradient for every trainable parameter."""
    net = build("mobilenetv2_0.25", classes=4)
    net.initialize(mx.init.Xavier())
    net.hybridize()
    x = mx.nd.array(input_value((4, 3, 32, 32)))
    label = mx.nd.array([0, 1, 2, 3])
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    with mx.autograd.record():
        loss = loss_fn(net(x), label)
    loss.backward()
    for name, p in net.collect_params().items():
        if p.grad_req != "null":
            assert np.abs(p.grad().asnumpy()).sum() > 0, name


def test_mxnet_exported_graph_runs_in_plait(forward_fixture):
    """The -symbol.json MXNet's export writes for a hybridized mobilenetv2_0.25 imports as
    a SymbolBlock and, given the seeded parameters, gives MXNet's forward output."""
    case = forward_fixture["mobilenetv2_0.25"]
    json_path = os.path.join(ZOO_FIXTURES, "mobilenetv2_0.25_classes10-symbol.json")
    net = mx.gluon.SymbolBlock.imports(json_path, ["data"])
    x = mx.nd.array(input_value(case["input_shape"]))
    net.initialize(mx.init.One())           # (as in MXNet, the default init would give
    net(x)                                  # negative running_var here) infers the shapes
    # The graph's parameter names are MXNet's full names ('mobilenetv20_...'): all share
    # one prefix, so sorting them gives the seeded recipe's order.
    params = net.collect_params()
    names = list(params.keys())
    prefix = os.path.commonprefix(names)
    prefix = prefix[:prefix.rindex("_") + 1]
    assert prefix == "mobilenetv20_"
    values = param_values({n[len(prefix):]: p.shape for n, p in params.items()})
    for n, p in params.items():
        p.set_data(mx.nd.array(values[n[len(prefix):]]))
    ref = case["output"]
    np.testing.assert_allclose(net(x).asnumpy(), ref, rtol=1e-4,
                               atol=1e-4 * np.abs(ref).max())
