"""NDArray indexing: values against NumPy, views vs copies as MXNet 1.9 decides, errors."""
import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError

X = np.arange(60, dtype=np.float32).reshape(3, 4, 5)

# key, whether MXNet returns a view (writes through to the base array)
GET_CASES = [
    (1, True), ((1,), True), (slice(0, 2), True), ((1, 2), True), ((1, slice(1, 3)), True),
    ((slice(None), 1), False), ((Ellipsis, 1), False), (slice(None, None, 2), False),
    ((1, slice(None), 2), False), ([0, 2], False), (np.array([2, 0]), False),
    ((1, [0, 3]), False), ((None, 1), False), ((-1, -2), True), ((slice(1, None),), True),
]


@pytest.mark.parametrize("key,is_view", GET_CASES, ids=[repr(k) for k, _ in GET_CASES])
def test_getitem_values_and_views(key, is_view):
    a = mx.nd.array(X)
    want = X[key]
    got = a[key]
    assert got.shape == (want.shape or (1,))
    np.testing.assert_array_equal(got.asnumpy(), want.reshape(got.shape))
    got[:] = -1
    changed = (a.asnumpy() == -1).any()
    assert changed == is_view


def test_single_element_is_shape_1():
    a = mx.nd.array([1, 2, 3])
    assert a[1].shape == (1,) and a[-1].asscalar() == 3
    assert mx.nd.array(X)[1, 2, 3].shape == (1,)


def test_ndarray_index():
    a = mx.nd.array(X)
    idx = mx.nd.array([2, 0])
    np.testing.assert_array_equal(a[idx].asnumpy(), X[[2, 0]])


SET_CASES = [
    (1, 7.0), ((slice(None), 1), np.arange(5, dtype=np.float32)), ((0, 1, 2), 3.0),
    ([0, 2], 1.0), ((Ellipsis, 0), np.ones((3, 4), np.float32)),
    (slice(None, None, 2), np.full((4, 5), 2, np.float32)),
]


@pytest.mark.parametrize("key,value", SET_CASES, ids=[repr(k) for k, _ in SET_CASES])
def test_setitem_matches_numpy(key, value):
    a = mx.nd.array(X)
    want = X.copy()
    want[key] = value
    a[key] = mx.nd.array(value) if isinstance(value, np.ndarray) else value
    np.testing.assert_array_equal(a.asnumpy(), want)


def test_setitem_from_numpy_and_list():
    a = mx.nd.zeros((2, 3))
    a[0] = [1, 2, 3]
    a[1] = np.array([4, 5, 6])
    np.testing.assert_array_equal(a.asnumpy(), [[1, 2, 3], [4, 5, 6]])


def test_setitem_is_ordered_with_pending_reads():
    a = mx.nd.ones((4,))
    b = a * 2          # reads a
    a[:] = 10          # must not change b
    np.testing.assert_array_equal(b.asnumpy(), [2, 2, 2, 2])
    np.testing.assert_array_equal(a.asnumpy(), [10] * 4)


def test_indexing_errors_name_the_key_and_shapes():
    a = mx.nd.array(X)
    with pytest.raises(PlaitError, match="out of bounds"):
        a[3]
    with pytest.raises(IndexError, match="index -4 is out of bounds for axis 0 with size 3"):
        a[-4]  # MXNet raises IndexError: `except IndexError` must catch it
    with pytest.raises(IndexError, match="out of bounds for axis 1"):
        a[0, 9] = 1
    with pytest.raises(PlaitError, match="too many indices"):
        a[0, 0, 0, 0]
    with pytest.raises(PlaitError, match=r"\(4,\).*\(3,\)"):
        a[:, 0, 0] = mx.nd.ones((4,))
