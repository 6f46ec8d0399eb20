"""The compiled pooling kernels (csrc/kernels_pool.cc) against the xp path (bit for bit,
NaN and signed zeros included) and the loop references of nn_pool, for max/avg/sum over
1-3 spatial axes, tiled and overlapping windows, padding, 'full', count_include_pad, ties,
NaN/inf inputs and gradients."""
import numpy as np
import pytest

from plait.core.ops import native, nn_pool, registry

DTYPES = [np.float32, np.float64]

CASES = [  # (data shape, attrs)
    ((64, 20, 24, 24), {"kernel": (2, 2), "stride": (2, 2)}),            # LeNet, parallel
    ((3, 5, 7, 5), {"kernel": (2, 2), "stride": (2, 2)}),                # tiled with a tail
    ((2, 3, 9, 9), {"kernel": (3, 3), "stride": (3, 3)}),                # tiled 3-wide
    ((1, 1, 1, 1), {"kernel": (1, 1)}),                                  # one element
    ((2, 3, 10, 8), {"kernel": (4, 4), "stride": (4, 4)}),               # tiled, generic width
    ((4, 3, 11, 11), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1)}),
    ((2, 2, 6, 7), {"kernel": (3, 2), "stride": (2, 3), "pad": (1, 0),
                    "pooling_convention": "full"}),
    ((2, 2, 5, 5), {"kernel": (3, 3), "stride": (1, 1), "pad": (2, 2)}),   # pad = kernel-1
    ((2, 3, 9), {"kernel": (3,), "stride": (2,), "pad": (1,)}),          # 1-d
    ((2, 3, 8), {"kernel": (2,), "stride": (2,)}),                       # 1-d tiled
    ((1, 2, 5, 6, 4), {"kernel": (2, 3, 2), "stride": (1, 2, 2), "pad": (1, 1, 0)}),  # 3-d
    ((2, 2, 4, 6, 4), {"kernel": (2, 3, 2), "stride": (2, 3, 2)}),       # 3-d tiled
    ((2, 2, 7, 7), {"kernel": (3, 3), "stride": (2, 2), "pooling_convention": "full"}),
    ((2, 3, 6, 11), {"kernel": (2, 2), "stride": (2, 2)}),               # 2x2 vectors + odd tail
    ((3, 2, 7, 18), {"kernel": (2, 2), "stride": (2, 2)}),               # 2x2, 9 wide, tail row
    ((2, 2, 3, 4, 6), {"kernel": (1, 2, 2), "stride": (1, 2, 2)}),       # 3-d, 2-d windows
    ((1, 2, 2, 7, 6), {"kernel": (1, 3, 3), "stride": (1, 3, 3)}),       # 3-d, 3x3, tail row
]
KINDS = [("max", {}), ("avg", {}), ("avg", {"count_include_pad": False}), ("sum", {})]


def _attrs(at):
    return registry.get("Pooling").parse_attrs(at)


def _both(fn):
    """fn() with the compiled kernels, then with the xp path."""
    assert native.usable(np, np.zeros(1, np.float32))
    a = fn()
    with native.disabled():
        b = fn()
    return a, b


def _run(attrs, x, g):
    osp = nn_pool.geometry(attrs, x.shape)[3]

    def fn():
        y = np.full(x.shape[:2] + osp, 7.0, x.dtype)
        nn_pool._forward(np, attrs, [x], [y])
        dx = np.full(x.shape, 7.0, x.dtype)
        nn_pool._bforward(np, attrs, [g.astype(x.dtype), x, y], [dx])
        return y, dx
    return fn


def _same_bits(a, b):
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind,extra", KINDS, ids=["max", "avg", "avg_nopad", "sum"])
@pytest.mark.parametrize("ds,at", CASES, ids=[str(c[0]) + str(sorted(c[1].items())) for c in CASES])
def test_native_matches_xp_and_reference(ds, at, kind, extra, dtype):
    attrs = _attrs(dict(at, pool_type=kind, **extra))
    r = np.random.default_rng(len(ds) * 7 + ds[-1])
    x = r.integers(-2, 3, ds).astype(dtype)  # many ties
    osp = nn_pool.geometry(attrs, ds)[3]
    g = r.standard_normal(ds[:2] + osp)
    (y, dx), (y0, dx0) = _both(_run(attrs, x, g))
    _same_bits(y, y0)
    _same_bits(dx, dx0)
    if ds[0] * ds[1] <= 16:  # the loop references are slow
        np.testing.assert_allclose(y, nn_pool._reference(attrs, x), rtol=1e-6)
        yr = nn_pool._reference(attrs, x)
        np.testing.assert_allclose(dx, nn_pool._bref(attrs, g.astype(dtype), x, yr), rtol=1e-5,
                                   atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_gradient_routing_by_hand(dtype):
    """Overlapping 2x2 windows, stride 1: each window's gradient goes to its first
    (row-major) maximum; a position that is the first maximum of several windows sums them."""
    x = np.array([[[[1, 3, 3], [3, 2, 3], [0, 3, 1]]]], dtype)
    attrs = _attrs({"kernel": (2, 2), "stride": (1, 1)})
    g = np.array([[[[1, 10], [100, 1000]]]], dtype)
    (y, dx), (y0, dx0) = _both(_run(attrs, x, g))
    np.testing.assert_array_equal(y, [[[[3, 3], [3, 3]]]])
    np.testing.assert_array_equal(dx, [[[[0, 11, 0], [100, 0, 1000], [0, 0, 0]]]])
    _same_bits(dx, dx0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("at", [{"kernel": (2, 2), "stride": (2, 2)},
                                {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1)},
                                {"kernel": (2, 2), "stride": (1, 1), "pad": (1, 1)}])
@pytest.mark.parametrize("kind", ["max", "avg", "sum"])
def test_non_finite_values_and_gradients(at, kind, dtype):
    """NaN and -inf/inf inputs (max propagates NaN; a -inf output may be taken by padding)
    and inf/NaN gradients spread as the xp path's g*hit."""
    r = np.random.default_rng(3)
    x = r.standard_normal((2, 3, 6, 6)).astype(dtype)
    x[0, 0, 1, 1] = np.nan
    x[0, 1, :2, :2] = -np.inf
    x[1, 2] = -np.inf  # a whole plane: every window's max is -inf
    x[1, 0, 3, 3] = np.inf
    attrs = _attrs(dict(at, pool_type=kind))
    osp = nn_pool.geometry(attrs, x.shape)[3]
    g = r.standard_normal((2, 3) + osp)
    g[0, 2, 0, 0] = np.inf
    g[1, 1, 1, 1] = np.nan
    with np.errstate(invalid="ignore"):
        (y, dx), (y0, dx0) = _both(_run(attrs, x, g))
    _same_bits(y, y0)
    _same_bits(dx, dx0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("at", [{"kernel": (2, 2), "stride": (2, 2)},
                                {"kernel": (3, 3), "stride": (1, 1), "pad": (1, 1)},
                                {"kernel": (2, 2), "stride": (1, 1)}])
@pytest.mark.parametrize("kind", ["avg", "sum"])
def test_signed_zeros(at, kind, dtype):
    """Sums of -0.0 stay -0.0 unless the window reads the (+0) padding, as in the xp path."""
    x = np.full((1, 2, 4, 4), -0.0, dtype)
    x[0, 1, 0, 0] = 1.0
    attrs = _attrs(dict(at, pool_type=kind))
    g = -np.ones((1, 2) + nn_pool.geometry(attrs, x.shape)[3])
    (y, dx), (y0, dx0) = _both(_run(attrs, x, g))
    _same_bits(y, y0)
    _same_bits(dx, dx0)


def test_other_pool_types_and_non_contiguous_take_the_xp_path():
    r = np.random.default_rng(0)
    x = r.uniform(0.5, 2, (2, 3, 6, 6))
    attrs = _attrs({"kernel": (2, 2), "pool_type": "lp", "p_value": 2})
    assert nn_pool._native(np, attrs, (x,), (2, 2), (1, 1), (0, 0), (5, 5), (6, 6)) is None
    mx_attrs = _attrs({"kernel": (2, 2)})
    xt = x.transpose(0, 1, 3, 2)
    assert nn_pool._native(np, mx_attrs, (xt,), (2, 2), (1, 1), (0, 0), (5, 5), (6, 6)) is None
    assert nn_pool._native(np, mx_attrs, (x, x.astype(np.float32)), (2, 2), (1, 1), (0, 0),
                           (5, 5), (6, 6)) is None


def test_kernel_rejects_bad_arguments():
    k = native.kernels()
    x = np.zeros((1, 2, 4, 4), np.float32)
    y = np.zeros((1, 2, 2, 2), np.float32)
    with pytest.raises(ValueError, match="pool_forward.*float32 or float64"):
        k.pool_forward(x.astype(np.int32), y, (2, 2), (2, 2), (0, 0), 0, True, True)
    with pytest.raises(ValueError, match="pool_forward: output.*another float dtype"):
        k.pool_forward(x, y.astype(np.float64), (2, 2), (2, 2), (0, 0), 0, True, True)
    with pytest.raises(ValueError, match="C-contiguous"):
        k.pool_forward(x.transpose(0, 1, 3, 2), y, (2, 2), (2, 2), (0, 0), 0, True, True)
    with pytest.raises(ValueError, match=r"does not match data \(1, 2, 4, 4\)"):
        k.pool_forward(x, np.zeros((1, 3, 2, 2), np.float32), (2, 2), (2, 2), (0, 0), 0, True,
                       True)
    with pytest.raises(ValueError, match="tiled pooling needs"):
        k.pool_forward(x, y, (2, 2), (1, 1), (0, 0), 0, True, True)
    with pytest.raises(ValueError, match="pool kind"):
        k.pool_forward(x, y, (2, 2), (2, 2), (0, 0), 5, True, True)
    with pytest.raises(ValueError, match="1-3 entries"):
        k.pool_forward(x, y, (2,), (2, 2), (0, 0), 0, True, True)
    with pytest.raises(ValueError, match="out_grad .* must match"):
        k.pool_backward(np.zeros((1, 2, 3, 3), np.float32), x, y, np.zeros_like(x), (2, 2),
                        (2, 2), (0, 0), 0, True, True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("width", [2, 3, 8, 10, 16, 18])
def test_tiled_2x2_max_edge_values(width, dtype):
    """The vectorised 2x2 max pooling and its gradient (both float dtypes, every lane
    position): NaN anywhere in a window, +-inf, +0/-0 ties and equal values, bit for bit
    against the xp path and an explicit formula in its order (window rows, then columns:
    which zero or NaN wins depends on it)."""
    r = np.random.default_rng(width)
    vals = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, 1.0, -2.0, 3.0], dtype)
    x = r.choice(vals, size=(2, 3, 6, width)).astype(dtype)
    x[0, 0, :2, :2] = [[0.0, -0.0], [-0.0, 0.0]]
    x[0, 1, :2, :2] = [[-0.0, 0.0], [0.0, -0.0]]
    attrs = _attrs({"kernel": (2, 2), "stride": (2, 2), "pool_type": "max"})
    g = r.standard_normal((2, 3, 3, width // 2))
    g[0, 2, 0, 0] = np.inf
    with np.errstate(invalid="ignore"):
        (y, dx), (y0, dx0) = _both(_run(attrs, x, g))
    _same_bits(y, y0)
    _same_bits(dx, dx0)
    xc = x[..., :width // 2 * 2]  # an odd last column is in no window
    a, b = xc[..., 0::2, 0::2], xc[..., 0::2, 1::2]
    c, d = xc[..., 1::2, 0::2], xc[..., 1::2, 1::2]
    mx = np.maximum  # NaN if either is; of equal +0/-0 the second
    _same_bits(y, mx(mx(a, c), mx(b, d)))  # the xp path's order
    np.testing.assert_array_equal(np.signbit(y[0, :2, 0, 0]), [False, True])

