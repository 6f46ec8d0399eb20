"""gluon.contrib.cnn.DeformableConvolution / ModulatedDeformableConvolution against MXNet
1.9.1 (fixtures of tools/make_deform_fixtures.py: fixed parameters, forward, gradients of
the input and every parameter), hybridized vs imperative, deferred initialisation."""
import json
import os

import numpy as np
import pytest

import plait as mx
from plait.gluon.contrib import cnn

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "ops",
                       "contrib_deform.npz")
with np.load(FIXTURE, allow_pickle=False) as _z:
    DATA = {k: _z[k] for k in _z.files}
LAYERS = ["gluon_dcn", "gluon_mdcn"]


def _meta(case):
    return json.loads(str(DATA[case + "/attrs"]))


def _layer(case, hybridize=False):
    """The fixture's layer, initialised and set to the fixture's parameter values."""
    m = _meta(case)
    with mx.name.NameManager():  # fresh counters, as the fixture's layer had
        net = getattr(cnn, m["cls"])(**m["ctor"])
    net.initialize()
    if hybridize:
        net.hybridize()
    x = mx.nd.array(DATA[case + "/x"])
    net(x)
    for name, p in net.collect_params().items():
        p.set_data(mx.nd.array(DATA["%s/param/%s" % (case, name[len(net.prefix):])]))
    return net, x


def _run(net, x, head):
    x = x.copy()
    x.attach_grad()
    with mx.autograd.record():
        y = net(x)
    y.backward(mx.nd.array(head))
    grads = {n[len(net.prefix):]: p.grad().asnumpy() for n, p in net.collect_params().items()}
    return y.asnumpy(), x.grad.asnumpy(), grads


@pytest.mark.parametrize("case", LAYERS)
def test_parameter_names_and_shapes_match_mxnet(case):
    m = _meta(case)
    net, _ = _layer(case)
    params = net.collect_params()
    assert list(params.keys()) == m["names"]
    assert net.prefix == m["prefix"]
    assert {n: list(p.shape) for n, p in params.items()} == m["shapes"]


@pytest.mark.parametrize("case", LAYERS)
@pytest.mark.parametrize("hybridize", [False, True])
def test_forward_and_gradients_match_mxnet(case, hybridize):
    net, x = _layer(case, hybridize)
    out, gx, grads = _run(net, x, DATA[case + "/head"])
    tol = dict(rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out, DATA[case + "/out"], err_msg="output", **tol)
    np.testing.assert_allclose(gx, DATA[case + "/grad_x"], err_msg="d input", **tol)
    for n, g in grads.items():
        np.testing.assert_allclose(g, DATA["%s/grad/%s" % (case, n)], err_msg=n, **tol)


@pytest.mark.parametrize("case", LAYERS)
def test_hybridized_equals_imperative(case):
    head = DATA[case + "/head"]
    a = _run(*_layer(case), head)
    b = _run(*_layer(case, hybridize=True), head)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-6, atol=1e-6)
    for n in a[2]:
        np.testing.assert_allclose(a[2][n], b[2][n], rtol=1e-6, atol=1e-6, err_msg=n)


@pytest.mark.parametrize("cls", ["DeformableConvolution", "ModulatedDeformableConvolution"])
def test_fresh_layer_is_a_convolution(cls):
    """Offset weights start at zero: offsets 0 (and mask 2*sigmoid(0) = 1), so the layer
    computes the Conv2D of its deformable_conv parameters."""
    net = getattr(cnn, cls)(5, kernel_size=3, strides=(1, 2), padding=1, groups=1,
                            bias_initializer="normal")
    net.initialize(mx.init.Uniform(0.5))
    x = mx.nd.array(np.random.default_rng(0).uniform(-1, 1, (2, 3, 6, 7)))
    y = net(x)
    conv = mx.gluon.nn.Conv2D(5, 3, strides=(1, 2), padding=1, in_channels=3)
    conv.initialize()
    conv.weight.set_data(net.deformable_conv_weight.data())
    conv.bias.set_data(net.deformable_conv_bias.data())
    np.testing.assert_allclose(y.asnumpy(), conv(x).asnumpy(), rtol=1e-5, atol=1e-5)


def test_deferred_initialisation():
    net = cnn.DeformableConvolution(4, kernel_size=(3, 2), num_deformable_group=2)
    assert net.offset_weight.shape == (24, 0, 3, 2)
    assert net.deformable_conv_weight.shape == (4, 0, 3, 2)
    net.initialize()
    with pytest.raises(Exception, match="deferred"):
        net.offset_weight.data()
    net(mx.nd.ones((1, 6, 5, 5)))
    assert net.offset_weight.shape == (24, 6, 3, 2)
    assert net.offset_bias.shape == (24,)
    assert net.deformable_conv_weight.shape == (4, 6, 3, 2)
    # as in MXNet: in_channels sizes the offset convolution at once, the deformable weight
    # stays deferred (MXNet declares it with 0 input channels)
    net = cnn.ModulatedDeformableConvolution(6, kernel_size=3, in_channels=4, groups=2,
                                             num_deformable_group=2)
    assert net.offset_weight.shape == (54, 2, 3, 3)
    assert net.deformable_conv_weight.shape == (6, 0, 3, 3)
    net.initialize()
    net.hybridize()
    assert net(mx.nd.ones((2, 4, 5, 5))).shape == (2, 6, 3, 3)
    assert net.deformable_conv_weight.shape == (6, 2, 3, 3)


def test_without_biases_and_repr():
    net = cnn.DeformableConvolution(2, kernel_size=2, use_bias=False, offset_use_bias=False,
                                    prefix="d_")
    assert list(net.collect_params().keys()) == ["d_offset_weight", "d_deformable_conv_weight"]
    assert repr(net) == "DeformableConvolution(None -> 2, kernel_size=(2, 2), stride=(1, 1), " \
                        "bias=False)"
    net.initialize()
    assert net(mx.nd.ones((1, 3, 4, 4))).shape == (1, 2, 3, 3)
    assert repr(net).startswith("DeformableConvolution(3 -> 2,")
    net = cnn.ModulatedDeformableConvolution(2, kernel_size=2, use_bias=False, prefix="m_")
    assert list(net.collect_params().keys()) == ["m_deformable_conv_weight", "m_offset_weight",
                                                 "m_offset_bias"]
    with pytest.raises(AssertionError, match="NCHW"):
        cnn.DeformableConvolution(2, layout="NCW")
