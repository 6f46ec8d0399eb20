"""The compiled convolution copies (csrc/kernels_conv.cc: im2col, col2im, swap01) against
independent NumPy formulas, and the convolution kernels of nn_conv_impl with them against
the xp path and the loop references, for 1-3 spatial axes, stride/dilation/padding, groups,
float32/float64 and chunks of images."""
import itertools

import numpy as np
import pytest

from plait.core.ops import native, nn_conv, nn_conv_impl as impl, registry

DTYPES = [np.float32, np.float64]

GEOMETRIES = [  # (data shape, kernel, stride, dilate, pad)
    ((3, 4, 7, 6), (3, 3), (1, 1), (1, 1), (1, 1)),
    ((2, 3, 7, 6), (3, 2), (2, 1), (1, 2), (2, 0)),
    ((2, 2, 5, 5), (3, 3), (2, 2), (1, 1), (4, 4)),       # offsets reading only padding
    ((1, 1, 1, 1), (1, 1), (1, 1), (1, 1), (0, 0)),       # one element
    ((3, 2, 9), (3,), (1,), (2,), (1,)),                  # 1-d
    ((2, 2, 4, 5, 3), (2, 3, 1), (1, 2, 1), (1, 1, 1), (1, 0, 2)),  # 3-d
    ((5, 3, 12, 12), (5, 5), (1, 1), (1, 1), (0, 0)),     # LeNet-like, parallel chunks
    ((2, 3, 8, 8), (1, 1), (2, 2), (1, 1), (0, 0)),       # 1x1 stride 2
    ((2, 3, 6, 7), (3, 3), (1, 1), (2, 2), (2, 2)),       # 'same' dilated: flat im2col
    ((2, 2, 3, 4, 5), (3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1)),  # 3-d 'same'
    ((2, 2, 5, 1), (3, 1), (1, 1), (1, 1), (1, 0)),       # width 1
    ((2, 2, 2, 3), (3, 5), (1, 1), (1, 1), (2, 2)),       # wider than the input: flat clamps
]
IDS = ["%s_k%s_s%s_d%s_p%s" % g for g in GEOMETRIES]


def _osp(ds, k, s, d, p):
    return impl.out_size(ds[2:], k, s, d, p)


def _im2col_ref(x, k, s, d, p, osp):
    """(N, C, *K, *O) by explicit indexing of the zero-padded input."""
    xp_ = np.pad(x, [(0, 0), (0, 0)] + [(a, a) for a in p])
    out = np.zeros(x.shape[:2] + tuple(k) + tuple(osp), x.dtype)
    for kid in itertools.product(*[range(a) for a in k]):
        idx = tuple(slice(kk * dd, kk * dd + ss * (o - 1) + 1, ss)
                    for kk, dd, ss, o in zip(kid, d, s, osp))
        out[(slice(None), slice(None)) + kid] = xp_[(slice(None), slice(None)) + idx]
    return out


def _col2im_ref(cols, in_shape, k, s, d, p, osp):
    """cols (N, C, *K, *O) scatter-added into the padded input with np.add.at, cropped."""
    padded = np.zeros(in_shape[:2] + tuple(i + 2 * a for i, a in zip(in_shape[2:], p)))
    for kid in itertools.product(*[range(a) for a in k]):
        for o in itertools.product(*[range(a) for a in osp]):
            pos = tuple(oo * ss + kk * dd for oo, ss, kk, dd in zip(o, s, kid, d))
            np.add.at(padded, (slice(None), slice(None)) + pos,
                      cols[(slice(None), slice(None)) + kid + o])
    crop = tuple(slice(a, a + i) for a, i in zip(p, in_shape[2:]))
    return padded[(slice(None), slice(None)) + crop]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channel_major", [False, True])
@pytest.mark.parametrize("geo", GEOMETRIES, ids=IDS)
def test_im2col_and_col2im_match_numpy_formulas(geo, channel_major, dtype):
    _check_im2col_col2im(geo, channel_major, dtype)


# Output widths whose rows are 4 to 136 bytes: every size class of the compiled row copies
# and adds (kernels_window.h "Short rows"), for float32 and float64.
WIDTHS = [1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17]
ROW_GEOMETRIES = [g for w in WIDTHS for g in (
    ((3, 2, 5, w + 2), (3, 3), (1, 1), (1, 1), (0, 0)),     # whole rows, no padding
    ((3, 2, 5, w), (3, 1), (1, 1), (1, 1), (1, 0)),         # rows as long as the input's
    ((2, 2, 4, w), (3, 3), (1, 1), (1, 1), (1, 1)),         # 'same': padded columns
    ((2, 2, 5, 2 * w + 1), (3, 3), (1, 2), (1, 1), (0, 1)),  # strided columns
)] + [
    ((30, 3, 12, 12), (5, 5), (1, 1), (1, 1), (0, 0)),     # several blocks of images
    ((2, 2, 5, 10), (2, 3), (1, 3), (1, 1), (0, 1)),       # column stride 3 (generic loop)
    ((3, 2, 11), (3,), (2,), (1,), (1,)),                  # 1-d, stride 2
    ((2, 2, 9, 9), (1, 1), (2, 2), (1, 1), (0, 0)),        # 1x1 stride 2 (downsampling)
    ((2, 2, 3, 6, 7), (3, 2, 2), (1, 1, 1), (1, 1, 1), (0, 0, 0)),  # 3-d, output depth 1
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channel_major", [False, True])
@pytest.mark.parametrize("geo", ROW_GEOMETRIES, ids=["%s_k%s_s%s_d%s_p%s" % g for g in ROW_GEOMETRIES])
def test_im2col_and_col2im_row_widths(geo, channel_major, dtype):
    _check_im2col_col2im(geo, channel_major, dtype)


def _check_im2col_col2im(geo, channel_major, dtype):
    ds, k, s, d, p = geo
    osp = _osp(ds, k, s, d, p)
    r = np.random.default_rng(1)
    x = r.standard_normal(ds).astype(dtype)
    nd = len(k)
    want = _im2col_ref(x, k, s, d, p, osp)                 # (N, C, *K, *O)
    for a, n in ((0, ds[0]), (ds[0] - 1, 1), (0, max(1, ds[0] - 1))):
        sub = want[a:a + n]
        if channel_major:  # (C, *K, n, *O)
            sub = np.moveaxis(sub, 0, 1 + nd)
        col = np.full(sub.shape, np.nan, dtype)            # every entry must be written
        native.kernels().im2col(x, col, a, n, osp, k, s, d, p, channel_major)
        np.testing.assert_array_equal(col, sub)
        cols = r.standard_normal(sub.shape).astype(dtype)
        dx = np.full(ds, np.nan, dtype)
        native.kernels().col2im(cols, dx, a, n, osp, k, s, d, p, channel_major)
        image_major = np.moveaxis(cols, 1 + nd, 0) if channel_major else cols
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(dx[a:a + n], _col2im_ref(image_major, (n,) + ds[1:], k, s, d,
                                                            p, osp), rtol=tol, atol=tol)
        assert np.isnan(dx[:a]).all() and np.isnan(dx[a + n:]).all()  # other images untouched


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("A,B,R", [(1, 1, 1), (3, 5, 7), (50, 64, 64), (7, 1, 3)])
@pytest.mark.parametrize("with_bias", [False, True])
def test_swap01(A, B, R, with_bias, dtype):
    r = np.random.default_rng(2)
    src = r.standard_normal((A, B, R)).astype(dtype)
    bias = r.standard_normal(A).astype(dtype) if with_bias else None
    dst = np.full((B, A, R), np.nan, dtype)
    native.kernels().swap01(src, dst, A, B, bias)
    want = src.swapaxes(0, 1) + (0 if bias is None else bias.reshape(1, A, 1))
    np.testing.assert_array_equal(dst, want)


def _attrs(k, s, d, p, F, G):
    return registry.get("Convolution").parse_attrs(
        {"kernel": k, "stride": s, "dilate": d, "pad": p, "num_filter": F, "num_group": G})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("strategy", ["per_image", "grouped"])
@pytest.mark.parametrize("G", [1, 2])
@pytest.mark.parametrize("geo", GEOMETRIES, ids=IDS)
def test_conv_kernels_native_vs_xp_vs_reference(monkeypatch, geo, G, strategy, dtype):
    ds, k, s, d, p = geo
    if ds[1] % G:
        pytest.skip("channels not divisible by groups")
    monkeypatch.setattr(impl, "_THREADED_MNK", 1 << 60 if strategy == "per_image" else 0)
    monkeypatch.setattr(impl, "_MIN_K", 0)
    monkeypatch.setattr(impl, "_CHUNK_ELEMS", 700)  # several chunks of images
    F = 4
    r = np.random.default_rng(3)
    x = r.standard_normal(ds).astype(dtype)
    w = r.standard_normal((F, ds[1] // G) + k).astype(dtype)
    b = r.standard_normal(F).astype(dtype)
    osp = _osp(ds, k, s, d, p)
    g = r.standard_normal((ds[0], F) + osp).astype(dtype)
    attrs = _attrs(k, s, d, p, F, G)

    def run():
        out = np.full((ds[0], F) + osp, np.nan, dtype)
        impl.conv_forward(np, x, w, b, k, s, d, p, G, out)
        dx = np.full(ds, np.nan, dtype)
        impl.conv_data_grad_into(np, g, w, k, s, d, p, G, dx)
        dx2 = impl.conv_data_grad(np, g, w, ds[2:], k, s, d, p, G, dtype)
        dw = impl.conv_weight_grad(np, g, x, w.shape, k, s, d, p, G)
        return out, dx, dx2, dw
    got = run()
    with native.disabled():
        xp_ = run()
    tol = 2e-5 if dtype == np.float32 else 1e-12
    refs = (nn_conv.ref_conv(attrs, x, w, b), nn_conv.ref_data_grad(attrs, g, w, ds[2:], dtype),
            nn_conv.ref_data_grad(attrs, g, w, ds[2:], dtype),
            nn_conv.ref_weight_grad(attrs, g, x, w.shape))
    for a, c, want in zip(got, xp_, refs):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, c, rtol=tol, atol=tol)
        np.testing.assert_allclose(a, want, rtol=10 * tol, atol=10 * tol)


def test_kernels_reject_bad_arguments():
    kern = native.kernels()
    x = np.zeros((2, 3, 5, 5), np.float32)
    col = np.zeros((2, 3, 9, 9), np.float32)
    geo = ((3, 3), (3, 3), (1, 1), (1, 1), (0, 0))
    with pytest.raises(ValueError, match="im2col: columns .* should have 486 elements"):
        kern.im2col(x, col[:1], 0, 2, *geo, False)
    with pytest.raises(ValueError, match=r"im2col: images 1..3 are outside data of shape \(2, 3"):
        kern.im2col(x, col, 1, 2, *geo, False)
    with pytest.raises(ValueError, match="im2col: columns has dtype float64"):
        kern.im2col(x, col.astype(np.float64), 0, 2, *geo, False)
    with pytest.raises(ValueError, match="im2col: data must be C-contiguous"):
        kern.im2col(x.transpose(0, 1, 3, 2), col, 0, 2, *geo, False)
    with pytest.raises(ValueError, match="col2im: data must be writeable"):
        ro = np.zeros_like(x)
        ro.flags.writeable = False
        kern.col2im(col, ro, 0, 2, *geo, False)
    with pytest.raises(ValueError, match="im2col: data must have 3 to 5 dimensions"):
        kern.im2col(np.zeros((2, 3), np.float32), col, 0, 2, *geo, False)
    with pytest.raises(ValueError, match="swap01: .* multiple of A\\*B"):
        kern.swap01(np.zeros(10, np.float32), np.zeros(10, np.float32), 3, 2)
    with pytest.raises(ValueError, match="swap01: bias .* should have A = 2"):
        kern.swap01(np.zeros(12, np.float32), np.zeros(12, np.float32), 2, 3,
                    np.zeros(3, np.float32))
