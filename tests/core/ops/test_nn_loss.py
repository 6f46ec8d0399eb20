"""Output layers and losses: forward and gradients against MXNet 1.9.1 fixtures
(tests/fixtures/ops/nn_act_loss.npz, made by tools/make_act_loss_fixtures.py; the head
gradient there is random, so these also check that output layers ignore it), plus the
semantics the fixtures cannot show."""

import numpy as np
import pytest

import plait as mx

import fixtures_util as fu


LOSS_OPS = ("SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput",
            "MAERegressionOutput", "MakeLoss", "make_loss", "smooth_l1",
            "softmax_cross_entropy")
CASES = fu.act_loss_cases(LOSS_OPS)


def test_fixture_covers_every_op():
    assert {c["op"] for c in CASES.values()} == set(LOSS_OPS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mxnet(name):
    fu.check_act_loss_case(CASES[name])


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_softmax_output_out_grad_multiplies_by_head_gradient():
    """Documented semantics (MXNet 1.9 imperatively multiplies by its own output)."""
    x = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    label = np.array([2.0, 0.0])
    head = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 2.0]])
    xs = mx.nd.array(x, dtype="float64")
    xs.attach_grad()
    with mx.autograd.record():
        y = mx.nd.SoftmaxOutput(xs, mx.nd.array(label, dtype="float64"), out_grad=True)
    y.backward(mx.nd.array(head, dtype="float64"))
    want = (_softmax(x) - np.eye(3)[label.astype(int)]) * head
    np.testing.assert_allclose(xs.grad.asnumpy(), want, rtol=1e-12)


@pytest.mark.parametrize("op", ["SoftmaxOutput", "LinearRegressionOutput",
                                "softmax_cross_entropy"])
def test_labels_get_no_gradient(op):
    x = mx.nd.array([[0.2, 0.5], [1.0, -1.0]], dtype="float64")
    lab = mx.nd.array([1.0, 0.0] if op != "LinearRegressionOutput" else [[1, 0], [0, 1]],
                      dtype="float64")
    x.attach_grad()
    lab.attach_grad()
    with mx.autograd.record():
        y = getattr(mx.nd, op)(x, lab)
    y.backward()
    assert np.all(lab.grad.asnumpy() == 0)
    assert np.any(x.grad.asnumpy() != 0)


def test_block_grad_stops_gradients():
    for name in ("BlockGrad", "stop_gradient"):
        x = mx.nd.array([1.0, -2.0])
        x.attach_grad()
        with mx.autograd.record():
            y = getattr(mx.nd, name)(x) * 3 + x
        y.backward()
        np.testing.assert_array_equal(x.grad.asnumpy(), [1.0, 1.0])


def test_softmax_cross_entropy_gradient_scales_with_head_and_second_order():
    x0 = np.array([[0.1, 0.9, -0.3], [1.2, 0.0, 0.4]])
    label = mx.nd.array([1.0, 2.0], dtype="float64")
    x = mx.nd.array(x0, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.softmax_cross_entropy(x, label)
        (g,) = mx.autograd.grad([y], [x], [mx.nd.array([2.0], dtype="float64")],
                                create_graph=True)
        z = (g * g).sum()
    np.testing.assert_allclose(g.asnumpy(), 2 * (_softmax(x0) - np.eye(3)[[1, 2]]), rtol=1e-12)
    z.backward()
    # d/dx sum(g^2) with g = 2 (p - t): 8 * J_softmax^T (p - t), row by row
    p = _softmax(x0)
    d = p - np.eye(3)[[1, 2]]
    want = np.stack([8 * (np.diag(p[i]) - np.outer(p[i], p[i])) @ d[i] for i in range(2)])
    np.testing.assert_allclose(x.grad.asnumpy(), want, rtol=1e-10)
