"""mx.nd's module-level binary functions (add ... logical_xor) against NumPy formulas: two
arrays broadcast, a number on either side, two numbers give a Python value; and the same
call written as F.fn in a HybridBlock gives the same result imperative and hybridized
(mx.sym has MXNet's subset: maximum, minimum, power)."""
import operator

import numpy as np
import pytest

import plait as mx

AS_FLOAT = lambda f: (lambda x, y: f(x, y).astype(np.float32))  # noqa: E731
REFS = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply,
    "divide": np.divide, "true_divide": np.divide, "modulo": np.mod, "power": np.power,
    "maximum": np.maximum, "minimum": np.minimum,
    "equal": AS_FLOAT(np.equal), "not_equal": AS_FLOAT(np.not_equal),
    "greater": AS_FLOAT(np.greater), "greater_equal": AS_FLOAT(np.greater_equal),
    "lesser": AS_FLOAT(np.less), "lesser_equal": AS_FLOAT(np.less_equal),
    "logical_and": AS_FLOAT(np.logical_and), "logical_or": AS_FLOAT(np.logical_or),
    "logical_xor": AS_FLOAT(np.logical_xor),
}
SCALAR_REFS = {
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
    "divide": operator.truediv, "true_divide": operator.truediv, "modulo": operator.mod,
    "power": operator.pow, "maximum": max, "minimum": min,
    "equal": lambda x, y: int(x == y), "not_equal": lambda x, y: int(x != y),
    "greater": lambda x, y: int(x > y), "greater_equal": lambda x, y: int(x >= y),
    "lesser": lambda x, y: int(x < y), "lesser_equal": lambda x, y: int(x <= y),
    "logical_and": lambda x, y: int(bool(x) and bool(y)),
    "logical_or": lambda x, y: int(bool(x) or bool(y)),
    "logical_xor": lambda x, y: int(bool(x) != bool(y)),
}

RS = np.random.RandomState(0)
A = RS.randint(1, 5, size=(2, 1, 4)).astype(np.float32)
B = RS.randint(0, 4, size=(3, 1)).astype(np.float32)
B[0, 0] = 2.0  # some equal pairs for the comparisons


@pytest.mark.parametrize("name", sorted(REFS))
def test_array_and_number_forms_match_numpy(name):
    fn, ref = getattr(mx.nd, name), REFS[name]
    a, b = mx.nd.array(A), mx.nd.array(B)
    np.testing.assert_allclose(fn(a, b).asnumpy(), ref(A, B), rtol=1e-6)
    for s in (2, 0.5, np.float32(3)):
        if name == "modulo" and s == 0.5:
            continue  # float32 fmod of a float32 scalar vs float64 NumPy: rounding only
        got_r = fn(a, s)
        got_l = fn(s, a)
        assert got_r.shape == got_l.shape == A.shape
        np.testing.assert_allclose(got_r.asnumpy(), ref(A, np.float32(s)), rtol=1e-6)
        np.testing.assert_allclose(got_l.asnumpy(), ref(np.float32(s), A), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(REFS))
def test_two_numbers_give_a_python_value(name):
    for x, y in ((1, 2), (3, 2.5), (0, 4)):
        if name in ("divide", "true_divide", "modulo") and y == 0:
            continue
        got = getattr(mx.nd, name)(x, y)
        assert not isinstance(got, mx.nd.NDArray)
        assert got == SCALAR_REFS[name](x, y)


def test_bad_arguments_name_the_function():
    with pytest.raises(TypeError, match=r"mx.nd.maximum: .*NDArray and str"):
        mx.nd.maximum(mx.nd.ones((2,)), "x")
    with pytest.raises(TypeError, match=r"mx.nd.greater: .*list and NDArray"):
        mx.nd.greater([1, 2], mx.nd.ones((2,)))
    with pytest.raises(mx.MXNetError, match="broadcast"):
        mx.nd.add(mx.nd.ones((2, 3)), mx.nd.ones((4,))).wait_to_read()


def test_gradients_flow_through_scalar_and_array_forms():
    x = mx.nd.array([-1.0, 0.5, 2.0])
    y = mx.nd.array([0.0, 1.0, 1.0])
    x.attach_grad()
    y.attach_grad()
    with mx.autograd.record():
        z = mx.nd.maximum(x, 0) * mx.nd.subtract(3, x) + mx.nd.multiply(x, y)
    z.backward()
    xs, ys = x.asnumpy(), y.asnumpy()
    # d/dx [max(x,0)(3-x) + x*y] = (x>0)(3-x) - max(x,0) + y
    want = (xs > 0) * (3 - xs) - np.maximum(xs, 0) + ys
    np.testing.assert_allclose(x.grad.asnumpy(), want, rtol=1e-6)
    np.testing.assert_allclose(y.grad.asnumpy(), xs, rtol=1e-6)


class _Clamp(mx.gluon.HybridBlock):
    def hybrid_forward(self, F, x, y):
        return F.minimum(F.maximum(x, 0), y) + F.power(x, 2)


def test_hybrid_forward_same_imperative_and_hybridized():
    x = mx.nd.array(RS.randn(3, 4).astype(np.float32))
    y = mx.nd.array(np.full((3, 4), 0.5, np.float32))
    net = _Clamp()
    eager = net(x, y).asnumpy()
    net.hybridize()
    hybrid = net(x, y).asnumpy()
    xs = x.asnumpy()
    want = np.minimum(np.maximum(xs, 0), 0.5) + xs ** 2
    np.testing.assert_allclose(eager, want, rtol=1e-6)
    np.testing.assert_allclose(hybrid, want, rtol=1e-6)
