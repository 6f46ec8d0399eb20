"""Both GEMM strategies of nn_conv_impl (per-image GEMMs on the image-major column layout,
one GEMM per chunk on the channel-major layout) against the loop references, with chunks of
one, several and unequal numbers of images."""
import numpy as np
import pytest

from plait.core.ops import nn_conv, nn_conv_impl as impl, registry

GEOMETRIES = [  # (data shape, num_filter, kernel, stride, dilate, pad, groups)
    ((5, 4, 7, 6), 6, (3, 3), (1, 1), (1, 1), (1, 1), 1),       # stride 1, padded: flat col2im
    ((5, 4, 7, 6), 4, (3, 2), (2, 1), (1, 2), (2, 0), 2),       # strided, dilated, grouped
    ((3, 4, 5, 5), 6, (1, 1), (1, 1), (1, 1), (0, 0), 2),       # 1x1: no im2col
    ((4, 4, 6, 6), 2, (1, 1), (2, 2), (1, 1), (0, 0), 1),       # 1x1 stride 2
    ((3, 3, 5, 5), 3, (3, 3), (2, 2), (1, 1), (4, 4), 1),       # offsets reading only pad
    ((3, 2, 9), 4, (3,), (1,), (2,), (1,), 1),                  # 1-d
    ((3, 2, 4, 5, 3), 2, (2, 3, 1), (1, 2, 1), (1, 1, 1), (1, 0, 2), 1),  # 3-d
]


@pytest.mark.parametrize("geo", GEOMETRIES)
@pytest.mark.parametrize("threaded_mnk", [0, 1 << 60])  # one GEMM per chunk / per image
@pytest.mark.parametrize("chunk", [1 << 20, 1, 300])    # all, one, some images per chunk
@pytest.mark.parametrize("flat", [-1, 1e9])              # stride-1 col2im: per offset / flat
def test_strategies_match_loop_references(monkeypatch, geo, threaded_mnk, chunk, flat):
    ds, F, k, s, d, p, G = geo
    monkeypatch.setattr(impl, "_FLAT_MAX_EXTRA", flat)
    monkeypatch.setattr(impl, "_THREADED_MNK", threaded_mnk)
    monkeypatch.setattr(impl, "_CHUNK_ELEMS", chunk)
    r = np.random.default_rng(7)
    attrs = registry.get("Convolution").parse_attrs(
        {"kernel": k, "stride": s, "dilate": d, "pad": p, "num_group": G, "num_filter": F})
    x = r.standard_normal(ds)
    w = r.standard_normal((F, ds[1] // G) + k)
    b = r.standard_normal(F)
    out = np.empty((ds[0], F) + impl.out_size(ds[2:], k, s, d, p))
    impl.conv_forward(np, x, w, b, k, s, d, p, G, out)
    np.testing.assert_allclose(out, nn_conv.ref_conv(attrs, x, w, b), rtol=1e-10, atol=1e-12)
    g = r.standard_normal(out.shape)
    want_dx = nn_conv.ref_data_grad(attrs, g, w, ds[2:], x.dtype)
    np.testing.assert_allclose(impl.conv_data_grad(np, g, w, ds[2:], k, s, d, p, G, x.dtype),
                               want_dx, rtol=1e-10, atol=1e-12)
    into = np.full(ds, np.nan)  # written in place: every element must be overwritten
    impl.conv_data_grad_into(np, g, w, k, s, d, p, G, into)
    np.testing.assert_allclose(into, want_dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(impl.conv_weight_grad(np, g, x, w.shape, k, s, d, p, G),
                               nn_conv.ref_weight_grad(attrs, g, x, w.shape),
                               rtol=1e-10, atol=1e-12)


def test_chunks_are_near_equal_and_cover_the_batch():
    for n, per, elems in ((64, 500 * 64, 1 << 20), (8, 3 << 20, 1 << 20), (7, 10, 30)):
        old = impl._CHUNK_ELEMS
        impl._CHUNK_ELEMS = elems
        try:
            chunks = impl._chunks(n, per)
        finally:
            impl._CHUNK_ELEMS = old
        sizes = [z - a for a, z in chunks]
        assert chunks[0][0] == 0 and chunks[-1][1] == n
        assert all(chunks[i][1] == chunks[i + 1][0] for i in range(len(chunks) - 1))
        assert max(sizes) - min(sizes) <= 1 or sizes[-1] < sizes[0]
        assert max(sizes) == 1 or max(sizes) * per <= elems
