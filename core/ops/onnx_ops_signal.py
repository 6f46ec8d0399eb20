"""Hidden ops of the ONNX importer, continued: DFT and GridSample (imported by onnx_ops.py).

_onnx_dft          ONNX DFT: a (inverse) discrete Fourier transform along one axis of a
                   real (last dim 1) or complex (last dim 2: real, imaginary) signal.
_onnx_grid_sample  ONNX GridSample: sample X (N, C, *spatial) at the normalized coordinates
                   of grid (N, *out, D) (x first, i.e. the last spatial axis first), with
                   nearest / linear / cubic interpolation and zeros / border / reflection
                   padding, in 2-D or 3-D.  Vectorised: one gather per neighbour offset.
"""
import itertools

import numpy as np

from ..base import fail
from .params import Param
from .registry import OpDef, Sample, register
from .shape_rules import normalize_axis


# -- DFT ----------------------------------------------------------------------------------------
def _dft_geometry(a, shape):
    r = len(shape)
    if r < 2 or shape[-1] not in (1, 2):
        fail("data", "the last dim must be 1 (real) or 2 (complex), got shape %s", tuple(shape))
    axis = normalize_axis(a.axis, r - 1, "axis")
    m = shape[axis]
    n = a.length if a.length else (2 * (m - 1) if a.inverse and a.onesided else m)
    return axis, n


def _dft_shape(a, shapes):
    s = list(shapes[0])
    axis, n = _dft_geometry(a, s)
    if a.inverse and a.onesided:
        s[axis], s[-1] = n, 1
    else:
        s[axis], s[-1] = (n // 2 + 1 if a.onesided else n), 2
    return [tuple(s)]


_dft_shape.bad_shapes = [[(2, 3)]]


def _dft(xp, a, x):
    axis, n = _dft_geometry(a, x.shape)
    z = x[..., 0] + 1j * x[..., 1] if x.shape[-1] == 2 else x[..., 0]
    if a.inverse and a.onesided:
        return xp.fft.irfft(z, n=n, axis=axis)[..., None].astype(x.dtype)
    y = (xp.fft.ifft if a.inverse else xp.fft.fft)(z, n=n, axis=axis)
    if a.onesided:
        y = xp.take(y, xp.arange(n // 2 + 1), axis=axis)
    return xp.stack([y.real, y.imag], axis=-1).astype(x.dtype)


def _dft_ref(a, x):
    """The transform as an explicit sum over exp(-+2 pi i k t / n) (no FFT)."""
    axis, n = _dft_geometry(a, x.shape)
    z = (x[..., 0] + 1j * x[..., 1]) if x.shape[-1] == 2 else x[..., 0].astype(complex)
    z = np.moveaxis(z, axis, -1)
    if a.inverse and a.onesided:   # rebuild the full spectrum from its first half
        m = z.shape[-1]
        full = np.zeros(z.shape[:-1] + (n,), complex)
        full[..., :m] = z[..., :n]
        full[..., n - np.arange(1, n - m + 1)] = np.conj(z[..., 1:n - m + 1])
        z = full
    elif z.shape[-1] != n:
        zz = np.zeros(z.shape[:-1] + (n,), complex)
        k = min(n, z.shape[-1])
        zz[..., :k] = z[..., :k]
        z = zz
    sign = 1 if a.inverse else -1
    t = np.arange(n)
    w = np.exp(sign * 2j * np.pi * np.outer(t, t) / n)
    y = z @ w.T / (n if a.inverse else 1)
    if a.inverse and a.onesided:
        return np.moveaxis(y.real, -1, axis)[..., None].astype(x.dtype)
    if a.onesided:
        y = y[..., :n // 2 + 1]
    y = np.moveaxis(y, -1, axis)
    return np.stack([y.real, y.imag], -1).astype(x.dtype)


def _dft_samples(dt):
    r = np.random.default_rng(11)
    v = lambda *s: r.uniform(-1, 1, s).astype(dt)  # noqa: E731
    return [Sample([v(2, 8, 1)], {"axis": 1}), Sample([v(3, 5, 2)], {"axis": 0}),
            Sample([v(2, 6, 2)], {"axis": 1, "inverse": True}),
            Sample([v(1, 8, 3, 1)], {"axis": 1, "onesided": True}),
            Sample([v(2, 5, 2)], {"axis": 1, "inverse": True, "onesided": True}),
            Sample([v(2, 6, 1)], {"axis": 1, "length": 8})]


register(OpDef(
    "_onnx_dft",
    params={"axis": Param("int", 1, doc="The signal axis (the last dim holds re/im)."),
            "length": Param("int", 0, doc="Transform length (0: the axis' size)."),
            "inverse": Param("bool", False, doc="Inverse transform (divided by length)."),
            "onesided": Param("bool", False, doc="Half spectrum (real signals).")},
    infer_shape=_dft_shape,
    forward=lambda xp, a, ins, outs: outs[0].__setitem__(Ellipsis, _dft(xp, a, ins[0])),
    reference=_dft_ref, nondiff=True, dtypes="float", samples=_dft_samples, tol=(1e-4, 1e-4),
    doc="ONNX DFT of a real or complex (last dim 2) signal along one axis."))


# -- GridSample ---------------------------------------------------------------------------------
_MODES, _PADS = ("nearest", "linear", "cubic"), ("zeros", "border", "reflection")


def _grid_shape(a, shapes):
    x, g = tuple(shapes[0]), tuple(shapes[1])
    d = len(x) - 2
    if d not in (2, 3) or len(g) != d + 2 or g[0] != x[0] or g[-1] != d:
        fail("grid", "shape %s does not fit X of shape %s (expected (N, *out, %d))", g, x, d)
    return [x[:2] + g[1:-1]]


_grid_shape.bad_shapes = [[(1, 1, 3, 3), (1, 2, 2, 3)]]


def _reflect(xp, v, lo, hi):
    rng = hi - lo
    safe = np.where(rng > 0, rng, 1.0)
    below, above = lo - v, v - hi
    nb, na = np.trunc(below / safe), np.trunc(above / safe)
    rb, ra = below - nb * safe, above - na * safe
    out = xp.where(v < lo, xp.where(nb % 2 == 0, lo + rb, hi - rb),
                   xp.where(v > hi, xp.where(na % 2 == 0, hi - ra, lo + ra), v))
    return xp.where(rng > 0, out, lo)


def _cubic_w(t, A=-0.75):
    def near(d):
        return ((A + 2) * d - (A + 3)) * d * d + 1

    def far(d):
        return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _grid_sample(xp, a, X, G):
    dims = X.shape[2:]
    D = len(dims)
    size = np.array(dims[::-1], dtype=np.float64)        # grid order: x (last axis) first
    g = G.astype(np.float64)
    pos = (g + 1) / 2 * (size - 1) if a.align_corners else ((g + 1) * size - 1) / 2
    lo = np.zeros(D) if a.align_corners else np.full(D, -0.5)
    hi = size - 1 if a.align_corners else size - 0.5
    if a.mode == "nearest":
        pos = xp.rint(pos)
    if a.padding_mode == "border":
        pos = xp.where((pos < lo) | (pos > hi), xp.clip(pos, 0, size - 1), pos)
    elif a.padding_mode == "reflection":
        pos = _reflect(xp, pos, lo, hi)
    base = pos if a.mode == "nearest" else xp.floor(pos)
    t = pos - base
    offsets = {"nearest": [0], "linear": [0, 1], "cubic": [-1, 0, 1, 2]}[a.mode]
    if a.mode == "linear":
        weights = [[1 - t[..., k], t[..., k]] for k in range(D)]
    elif a.mode == "cubic":
        weights = [_cubic_w(t[..., k]) for k in range(D)]
    else:
        weights = [[np.ones(t.shape[:-1])] for _ in range(D)]
    N = X.shape[0]
    nidx = np.arange(N).reshape((N,) + (1,) * (G.ndim - 2))
    out = np.zeros(G.shape[:-1] + (X.shape[1],))
    for combo in itertools.product(range(len(offsets)), repeat=D):
        w = np.ones(G.shape[:-1])
        valid = np.ones(G.shape[:-1], bool)
        idx = []
        for k in range(D):                      # k: grid component (x, y, z)
            i = base[..., k] + offsets[combo[k]]
            w = w * weights[k][combo[k]]
            n = dims[D - 1 - k]
            if a.padding_mode == "zeros":
                valid &= (i >= 0) & (i < n)
                i = np.clip(i, 0, n - 1)
            elif a.padding_mode == "border":
                i = np.clip(i, 0, n - 1)
            else:
                i = np.clip(np.trunc(_reflect(xp, i, lo[k], hi[k])), 0, n - 1)
            idx.append(i.astype(np.int64))
        vals = np.moveaxis(X, 1, -1)[(nidx,) + tuple(idx[::-1])]     # (N, *out, C)
        out += (w * valid)[..., None] * vals
    return np.moveaxis(out, -1, 1).astype(X.dtype)


def _grid_ref(a, X, G):
    return _grid_sample(np, a, X, G)  # checked against onnxruntime in tests/onnx


def _grid_samples(dt):
    r = np.random.default_rng(12)
    x = r.uniform(-1, 1, (1, 2, 3, 4)).astype(dt)
    g = r.uniform(-1.2, 1.2, (1, 2, 3, 2)).astype(dt)
    x3 = r.uniform(-1, 1, (1, 1, 2, 3, 2)).astype(dt)
    g3 = r.uniform(-1, 1, (1, 2, 2, 1, 3)).astype(dt)
    return [Sample([x, g], {"mode": m, "padding_mode": p, "align_corners": ac})
            for m in _MODES for p, ac in (("zeros", False), ("border", True),
                                          ("reflection", False))] + [
        Sample([x3, g3], {"mode": "linear"})]


register(OpDef(
    "_onnx_grid_sample", inputs=("data", "grid"),
    params={"mode": Param("str", "linear", choices=_MODES, doc="Interpolation."),
            "padding_mode": Param("str", "zeros", choices=_PADS, doc="Outside the input."),
            "align_corners": Param("bool", False, doc="-1/1 are the corner pixels' centres.")},
    infer_shape=_grid_shape, infer_type=lambda a, t: [t[0]],
    forward=lambda xp, a, ins, outs: outs[0].__setitem__(Ellipsis, _grid_sample(xp, a, *ins)),
    reference=_grid_ref, nondiff=True, dtypes="float",
    samples=_grid_samples,
    doc="ONNX GridSample: X sampled at grid's normalized coordinates."))


# -- BitCast ------------------------------------------------------------------------------------
def _bitcast_type(a, types):
    if np.dtype(types[0]).itemsize != a.dtype.itemsize:
        fail("dtype", "%s (%d bytes) cannot reinterpret %s (%d bytes)", a.dtype,
             a.dtype.itemsize, np.dtype(types[0]), np.dtype(types[0]).itemsize)
    return [a.dtype]


register(OpDef(
    "_onnx_bitcast", params={"dtype": Param("dtype", doc="Element type of the same size.")},
    infer_shape=lambda a, s: [tuple(s[0])], infer_type=_bitcast_type,
    forward=lambda xp, a, ins, outs: outs[0].__setitem__(
        Ellipsis, xp.ascontiguousarray(ins[0]).view(a.dtype)),
    reference=lambda a, x: np.frombuffer(x.tobytes(), a.dtype).reshape(x.shape), nondiff=True,
    samples=lambda dt: [Sample([np.linspace(-2, 2, 6).astype(dt).reshape(2, 3)],
                               {"dtype": {4: "int32", 8: "int64", 2: "int16"}[np.dtype(dt).itemsize]})],
    doc="ONNX BitCast: the same bytes read as another element type of the same size."))


# -- Col2Im -------------------------------------------------------------------------------------
def _col2im_geometry(a, shape):
    img, blk = tuple(a.image_shape), tuple(a.block_shape)
    nd = len(img)
    if len(blk) != nd:
        fail("block_shape", "%s has %d dims, image_shape %s has %d", blk, len(blk), img, nd)
    dil = tuple(a.dilations) or (1,) * nd
    st = tuple(a.strides) or (1,) * nd
    pads = tuple(a.pads) or (0,) * (2 * nd)
    blocks = [(img[i] + pads[i] + pads[i + nd] - dil[i] * (blk[i] - 1) - 1) // st[i] + 1
              for i in range(nd)]
    kb = int(np.prod(blk))
    if len(shape) != 3 or shape[1] % kb or shape[2] != int(np.prod(blocks)):
        fail("data", "shape %s does not fit image %s with blocks %s (need (N, C*%d, %d))",
             tuple(shape), img, blk, kb, int(np.prod(blocks)))
    return img, blk, dil, st, pads, blocks


def _col2im_shape(a, shapes):
    img, blk = _col2im_geometry(a, shapes[0])[:2]
    s = shapes[0]
    return [(s[0], s[1] // int(np.prod(blk))) + img]


_col2im_shape.bad_shapes = []


def _col2im_index(a, shape):
    """Flat index into the padded image of every (kernel offset, block) column entry."""
    img, blk, dil, st, pads, blocks = _col2im_geometry(a, shape)
    nd = len(img)
    padded = [img[i] + pads[i] + pads[i + nd] for i in range(nd)]
    k = np.stack(np.meshgrid(*[np.arange(b) for b in blk], indexing="ij"), -1).reshape(-1, nd)
    p = np.stack(np.meshgrid(*[np.arange(b) for b in blocks], indexing="ij"), -1).reshape(-1, nd)
    pos = k[:, None, :] * np.array(dil) + p[None, :, :] * np.array(st)     # (K, L, nd)
    return np.ravel_multi_index(tuple(np.moveaxis(pos, -1, 0)), padded), padded, img, pads


def _col2im_fwd(xp, a, ins, outs):
    x = ins[0]
    idx, padded, img, pads = _col2im_index(a, x.shape)
    n, ck, L = x.shape
    K = idx.shape[0]
    cols = x.reshape(n, ck // K, K * L)
    flat = xp.zeros((n, ck // K, int(np.prod(padded))), x.dtype)
    np.add.at(flat, (slice(None), slice(None), idx.reshape(-1)), cols)
    nd = len(img)
    crop = tuple(slice(pads[i], pads[i] + img[i]) for i in range(nd))
    outs[0][...] = flat.reshape((n, ck // K) + tuple(padded))[(slice(None), slice(None)) + crop]


def _col2im_ref(a, x):
    img, blk, dil, st, pads, blocks = _col2im_geometry(a, x.shape)
    nd = len(img)
    K = int(np.prod(blk))
    out = np.zeros((x.shape[0], x.shape[1] // K) + tuple(img), x.dtype)
    for ki, koff in enumerate(np.ndindex(*blk)):
        for li, boff in enumerate(np.ndindex(*blocks)):
            pos = [boff[i] * st[i] + koff[i] * dil[i] - pads[i] for i in range(nd)]
            if all(0 <= pos[i] < img[i] for i in range(nd)):
                out[(slice(None), slice(None)) + tuple(pos)] += \
                    x.reshape(x.shape[0], -1, K, x.shape[2])[:, :, ki, li]
    return out


register(OpDef(
    "_onnx_col2im",
    params={"image_shape": Param("shape", doc="Spatial shape of the output image."),
            "block_shape": Param("shape", doc="Spatial shape of a sliding block."),
            "dilations": Param("shape", (), doc="Block dilations (default 1)."),
            "pads": Param("shape", (), doc="Begin pads then end pads (default 0)."),
            "strides": Param("shape", (), doc="Block strides (default 1).")},
    infer_shape=_col2im_shape, forward=_col2im_fwd, reference=_col2im_ref, nondiff=True,
    dtypes="float",
    samples=lambda dt: [Sample([np.random.default_rng(3).uniform(-1, 1, (2, 8, 9)).astype(dt)],
                               {"image_shape": (4, 4), "block_shape": (2, 2)}),
                        Sample([np.random.default_rng(4).uniform(-1, 1, (1, 4, 9)).astype(dt)],
                               {"image_shape": (5, 5), "block_shape": (2, 2),
                                "strides": (2, 2), "pads": (1, 1, 1, 1)}),
                        Sample([np.random.default_rng(5).uniform(-1, 1, (1, 4, 4)).astype(dt)],
                               {"image_shape": (5, 5), "block_shape": (2, 2),
                                "dilations": (3, 3)})],
    doc="ONNX Col2Im: sliding-block columns summed back into an image."))
