"""Winograd F(4x4, 3x3) convolutions (nn_conv_winograd + csrc/kernels_winograd.cc) against
the loop references of nn_conv, and the dispatch from nn_conv_impl."""
import numpy as np
import pytest

import plait as mx
from plait.core.ops import nn_conv, nn_conv_impl as impl, nn_conv_winograd as wino, registry
from plait import _engine

CASES = [  # (data shape, num_filter, pad): sizes that are and are not multiples of 4
    ((2, 3, 8, 8), 5, (1, 1)),
    ((3, 4, 9, 7), 2, (1, 1)),
    ((2, 2, 5, 6), 3, (0, 0)),
    ((1, 3, 3, 3), 4, (2, 2)),
    ((2, 3, 1, 1), 2, (1, 1)),
    ((4, 2, 6, 11), 3, (0, 2)),
]


def _attrs(F, p):
    return registry.get("Convolution").parse_attrs(
        {"kernel": (3, 3), "pad": p, "num_filter": F})


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("tile_cols", [1, 7, 2048])  # one, some, all images per chunk
def test_float64_matches_loop_references(monkeypatch, case, tile_cols):
    monkeypatch.setattr(wino, "_TILE_COLS", tile_cols)
    ds, F, p = case
    r = np.random.default_rng(3)
    x, w, b = r.standard_normal(ds), r.standard_normal((F, ds[1], 3, 3)), r.standard_normal(F)
    attrs = _attrs(F, p)
    want = nn_conv.ref_conv(attrs, x, w, b)
    out = np.full(want.shape, np.nan)  # every element must be written
    wino.forward(np, x, w, b, p, out)
    np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-12)
    g = r.standard_normal(want.shape)
    dx = np.full(ds, np.nan)
    wino.data_grad(np, g, w, p, dx)
    np.testing.assert_allclose(dx, nn_conv.ref_data_grad(attrs, g, w, ds[2:], x.dtype),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(wino.weight_grad(np, g, x, p),
                               nn_conv.ref_weight_grad(attrs, g, x, w.shape),
                               rtol=1e-10, atol=1e-12)


def test_float32_error_is_rounding_sized():
    """float32 against the float64 reference: within a few 1e-6 of the summed magnitudes
    (the F(4,3) transforms scale values by up to 8 and 1/24)."""
    r = np.random.default_rng(5)
    x = r.standard_normal((4, 32, 14, 14))
    w = r.standard_normal((24, 32, 3, 3))
    attrs = _attrs(24, (1, 1))
    want = nn_conv.ref_conv(attrs, x, w, None)
    out = np.empty(want.shape, np.float32)
    wino.forward(np, x.astype(np.float32), w.astype(np.float32), None, (1, 1), out)
    scale = nn_conv.ref_conv(attrs, np.abs(x), np.abs(w), None)  # sum of |products|
    assert np.max(np.abs(out - want) / scale) < 5e-6


def _conv_all(x, w, b, p):
    k, s, d = (3, 3), (1, 1), (1, 1)
    out = np.empty(x.shape[:1] + (w.shape[0],) + impl.out_size(x.shape[2:], k, s, d, p), x.dtype)
    impl.conv_forward(np, x, w, b, k, s, d, p, 1, out)
    g = np.cos(np.arange(out.size)).reshape(out.shape).astype(x.dtype)
    dx = impl.conv_data_grad(np, g, w, x.shape[2:], k, s, d, p, 1, x.dtype)
    dw = impl.conv_weight_grad(np, g, x, w.shape, k, s, d, p, 1)
    return out, dx, dw


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_impl_dispatches_and_agrees_with_im2col(monkeypatch, dtype):
    monkeypatch.setattr(wino, "_MIN_TILES", 0)
    calls = []
    for name in ("forward", "data_grad", "weight_grad"):
        orig = getattr(wino, name)
        monkeypatch.setattr(wino, name, lambda *a, _o=orig, _n=name, **k: calls.append(_n)
                            or _o(*a, **k))
    r = np.random.default_rng(1)
    x = r.standard_normal((4, 16, 12, 10)).astype(dtype)
    w = r.standard_normal((16, 16, 3, 3)).astype(dtype)
    b = r.standard_normal(16).astype(dtype)
    got = _conv_all(x, w, b, (1, 1))
    assert calls == ["forward", "data_grad", "forward", "weight_grad"]  # dx: a forward
    monkeypatch.setitem(wino._state, "on", False)
    want = _conv_all(x, w, b, (1, 1))
    assert len(calls) == 4  # switched off: im2col
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for a, e in zip(got, want):
        np.testing.assert_allclose(a, e, **tol)


@pytest.mark.parametrize("why, shape, F, geo", [
    ("stride 2", (4, 16, 12, 12), 16, dict(s=(2, 2))),
    ("dilated", (4, 16, 12, 12), 16, dict(d=(2, 2))),
    ("grouped", (4, 16, 12, 12), 16, dict(G=2)),
    ("few channels", (8, 3, 32, 32), 16, {}),
    ("few tiles", (2, 32, 7, 7), 32, {}),
    ("5x5 kernel", (4, 16, 12, 12), 16, dict(k=(5, 5))),
])
def test_not_used_where_it_does_not_apply_or_pay(why, shape, F, geo):
    k, s, d, G = geo.get("k", (3, 3)), geo.get("s", (1, 1)), geo.get("d", (1, 1)), geo.get("G", 1)
    x = np.zeros(shape, np.float32)
    osp = impl.out_size(shape[2:], k, s, d, (1, 1))
    assert not wino.usable(np, [x], F, shape[1], osp, k, s, d, (1, 1), G), why


def test_operator_gradients_equal_with_and_without_winograd():
    r = np.random.default_rng(2)
    xs = r.standard_normal((8, 16, 16, 16))  # 128 tiles: used
    ws = r.standard_normal((16, 16, 3, 3)) * 0.1

    def run():
        x, w = mx.nd.array(xs, dtype="float64"), mx.nd.array(ws, dtype="float64")
        x.attach_grad()
        w.attach_grad()
        with mx.autograd.record():
            y = mx.nd.Convolution(x, w, kernel=(3, 3), pad=(1, 1), num_filter=16, no_bias=True)
            (y * y).sum().backward()
        return y.asnumpy(), x.grad.asnumpy(), w.grad.asnumpy()

    got = run()
    wino._state["on"] = False
    try:
        want = run()
    finally:
        wino._state["on"] = True
    for a, e in zip(got, want):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-10)


def test_kernels_reject_bad_arguments():
    x = np.zeros((2, 3, 8, 8), np.float32)
    with pytest.raises(ValueError, match=r"wino_input: v has shape \(36, 3, 7\), expected \(36, 3, 8\)"):
        _engine.wino_input(x, np.zeros((36, 3, 7), np.float32), 0, 2, 8, 8, 1, 1)
    with pytest.raises(ValueError, match=r"wino_input: a 3x3 stride-1 output of data \(2, 3, 8, 8\)"):
        _engine.wino_input(x, np.zeros((36, 3, 8), np.float32), 0, 2, 9, 9, 1, 1)
    with pytest.raises(ValueError, match=r"wino_input: images 1..3 are outside"):
        _engine.wino_input(x, np.zeros((36, 3, 8), np.float32), 1, 2, 8, 8, 1, 1)
    with pytest.raises(ValueError, match="wino_weights: u has dtype float64"):
        _engine.wino_weights(np.zeros((4, 3, 3, 3), np.float32), np.zeros((36, 4, 3)))
    with pytest.raises(ValueError, match=r"wino_weights: w has shape \(4, 3, 5, 5\)"):
        _engine.wino_weights(np.zeros((4, 3, 5, 5), np.float32), np.zeros((36, 4, 3), np.float32))
    with pytest.raises(ValueError, match="wino_output: y must be writeable"):
        y = np.zeros((2, 4, 8, 8), np.float32)
        y.flags.writeable = False
        _engine.wino_output(np.zeros((36, 4, 8), np.float32), y, 0, 2)
    with pytest.raises(ValueError, match="wino_weight_grad: dw must be float32 or float64"):
        _engine.wino_weight_grad(np.zeros((36, 4, 3), np.float32), np.zeros((4, 3, 3, 3), np.int32))


def test_deconvolution_forward_uses_it_and_agrees():
    """Deconvolution's forward is conv_data_grad: a 3x3 stride-1 one takes the Winograd
    data-gradient path (pad 0..2), with the same result as im2col + col2im."""
    r = np.random.default_rng(4)
    xs = r.standard_normal((12, 16, 14, 12))  # >= 96 output tiles for every pad
    ws = r.standard_normal((16, 24, 3, 3)) * 0.1
    for pad in ((0, 0), (1, 1), (2, 1)):
        def run():
            y = mx.nd.Deconvolution(mx.nd.array(xs, dtype="float64"),
                                    mx.nd.array(ws, dtype="float64"), kernel=(3, 3), pad=pad,
                                    num_filter=24, no_bias=True)
            return y.asnumpy()
        calls = []
        orig = wino.data_grad
        wino.data_grad = lambda *a, **k: calls.append(1) or orig(*a, **k)
        try:
            got = run()
            wino._state["on"] = False
            want = run()
        finally:
            wino._state["on"] = True
            wino.data_grad = orig
        assert calls == [1]
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
