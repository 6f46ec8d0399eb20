"""Assorted MXNet 1.9 operators: add_n (ElementWiseSum), hard_sigmoid, depth_to_space,
space_to_depth, moments and argmax_channel, with gradients.

MXNet semantics kept here (checked against MXNet 1.9.1, tools/make_misc_op_fixtures.py):
- `add_n` (alias ElementWiseSum; symbols and -symbol.json write the op as "add_n") sums
  num_args >= 1 arrays of one shape and one dtype, integers included.
- `hard_sigmoid` is max(0, min(1, alpha*x + beta)), float inputs only; its gradient is
  alpha strictly inside (0, 1) and 0 where the output is clipped, at the corners too.
  alpha and beta are C++ floats in MXNet: float64 data is computed with their float32
  roundings (alpha=-0.3 acts as -0.30000001192...), and so it is here.
- `depth_to_space` / `space_to_depth` take 4-D NCHW input only and use the DCR order (as
  ONNX DepthToSpace mode="DCR"): output[n, c, h*b + i, w*b + j] is input[n, (i*b + j)*C'
  + c, h, w], with C' = C / b^2; space_to_depth is its exact inverse.
- `moments` returns (mean, var), var the population variance (divided by N).  `axes` is
  required in practice: MXNet rejects None or () ("Empty axes is not supported").  Integer
  inputs compute in their own dtype as C does: mean is the integer sum divided by N,
  truncated toward zero, and var the truncated mean of (x - that mean)^2.
- `argmax_channel` is argmax over axis 1 (not the last axis) without keepdims: (N, C) ->
  (N,), (N, C, H, W) -> (N, H, W); 1-D input is rejected.  The index has the input's
  dtype, ties give the first index, and it has no gradient (MXNet: non-differentiable).
"""
import functools

import numpy as np

from ..base import fail
from . import sampling
from .params import Param, positive
from .registry import BadSample, OpDef, Sample, register
from .shape_rules import elemwise, normalize_axes, reduced_shape, same_as_input

_v = sampling.values
_TEST3 = ("float32", "float64", "int32")


# -- add_n / ElementWiseSum ----------------------------------------------------------------------
def _add_n_fwd(xp, a, ins, outs):
    out = outs[0]
    if len(ins) == 1:
        out[...] = ins[0]
        return
    xp.add(ins[0], ins[1], out=out)  # outs never alias an input here (no inplace pairs)
    for x in ins[2:]:
        xp.add(out, x, out=out)


def _add_n_ref(a, *xs):
    return functools.reduce(lambda s, x: (s + x).astype(xs[0].dtype), xs[1:], xs[0].copy())


def _add_n_samples(dtype):
    return [Sample([_v((3, 4), dtype, seed=k) for k in range(3)]),
            Sample([_v((2, 3, 2), dtype, seed=4), _v((2, 3, 2), dtype, seed=5)]),
            Sample([_v((5,), dtype, seed=6)]),
            Sample([_v((2, 1, 3), dtype, seed=k) for k in range(7, 12)])]


def _add_n_bad():
    x = np.ones((2, 3), np.float32)
    return [BadSample([x, np.ones((2, 3), np.int32)], match=("input 1", "int32", "float32")),
            BadSample([x, x, np.ones((3, 2), np.float32)], match=("input 2", "(3, 2)", "(2, 3)")),
            BadSample([x, x], {"num_args": 3}, match=("expected 3 input",))]


register(OpDef(
    "add_n", aliases=("ElementWiseSum",), variadic="num_args",
    params={"num_args": Param("int", check=positive, doc="Number of inputs to be summed.")},
    infer_shape=elemwise, forward=_add_n_fwd, dtypes="numeric", reference=_add_n_ref,
    samples=_add_n_samples, test_dtypes=_TEST3, bad_samples=_add_n_bad,
    gradient=lambda F, a, ins, outs, g: [g[0]] * len(ins),
    doc="Adds all input arguments element-wise: add_n(a_1, ..., a_n) = a_1 + ... + a_n. "
        "All inputs must have the same shape and dtype."))


# -- hard_sigmoid --------------------------------------------------------------------------------
def _f32(v):
    """MXNet stores alpha and beta as C++ floats: float64 inputs see them rounded."""
    return float(np.float32(v))


def _hs_fwd(xp, a, ins, outs):
    x, out = ins[0], outs[0]
    t = x.dtype.type
    r = x * t(_f32(a.alpha)) + t(_f32(a.beta))  # a temporary: `out` is written once, at the end
    xp.clip(r, t(0), t(1), out=out)


def _hs_ref(a, x):
    r = _f32(a.alpha) * x.astype(np.float64) + _f32(a.beta)
    return np.where(r <= 0, 0.0, np.where(r >= 1, 1.0, r)).astype(x.dtype)


def _hs_grad(F, a, ins, outs, g):
    y = outs[0]
    inside = F._greater_scalar(y, scalar=0.0) * F._lesser_scalar(y, scalar=1.0)
    return [g[0] * inside * _f32(a.alpha)]


register(OpDef(
    "hard_sigmoid", params={"alpha": Param("float", 0.2, doc="Slope of hard sigmoid"),
                            "beta": Param("float", 0.5, doc="Bias of hard sigmoid.")},
    infer_shape=same_as_input, forward=_hs_fwd, dtypes="float", reference=_hs_ref,
    samples=sampling.unary(-4, 4, shapes=[(3, 4), (2, 3, 4), (7,)],
                           attrs=[{}, {"alpha": 0.5, "beta": 0.25}, {"alpha": -0.3}]),
    gradient=_hs_grad,
    doc="Hard sigmoid max(0, min(1, alpha * x + beta)), element-wise. The gradient is alpha "
        "where the output is strictly between 0 and 1, else 0."))


# -- depth_to_space / space_to_depth ----------------------------------------------------------
def _d2s_check(a, s):
    if len(s) != 4:
        fail("data", "expected a 4-D (N, C, H, W) input, got shape %s", tuple(s))


def _d2s_shape(a, shapes):
    s = tuple(shapes[0])
    _d2s_check(a, s)
    n, c, h, w = s
    b = a.block_size
    if c % (b * b):
        fail("block_size", "block_size=%d: the channel count %d of shape %s is not a multiple "
             "of block_size^2 = %d", b, c, s, b * b)
    return [(n, c // (b * b), h * b, w * b)]


def _s2d_shape(a, shapes):
    s = tuple(shapes[0])
    _d2s_check(a, s)
    n, c, h, w = s
    b = a.block_size
    for axis, d, what in ((2, h, "height"), (3, w, "width")):
        if d % b:
            fail("block_size", "block_size=%d does not divide the %s %d (axis %d) of shape %s",
                 b, what, d, axis, s)
    return [(n, c * b * b, h // b, w // b)]


def _d2s_fwd(xp, a, ins, outs):
    x, out, b = ins[0], outs[0], a.block_size
    n, c, h, w = x.shape
    t = x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
    out[...] = t.reshape(out.shape)


def _s2d_fwd(xp, a, ins, outs):
    x, out, b = ins[0], outs[0], a.block_size
    n, c, h, w = x.shape
    t = x.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4)
    out[...] = t.reshape(out.shape)


def _d2s_ref(a, x):
    """Strided copies, one block offset (i, j) at a time (no reshape/transpose)."""
    b = a.block_size
    n, c, h, w = x.shape
    co = c // (b * b)
    out = np.zeros((n, co, h * b, w * b), x.dtype)
    for i in range(b):
        for j in range(b):
            k = (i * b + j) * co
            out[:, :, i::b, j::b] = x[:, k:k + co]
    return out


def _s2d_ref(a, x):
    b = a.block_size
    n, c, h, w = x.shape
    out = np.zeros((n, c * b * b, h // b, w // b), x.dtype)
    for i in range(b):
        for j in range(b):
            k = (i * b + j) * c
            out[:, k:k + c] = x[:, :, i::b, j::b]
    return out


def _d2s_samples(dtype):
    return [Sample([_v((1, 4, 2, 3), dtype)], {"block_size": 2}),
            Sample([_v((2, 8, 1, 2), dtype, seed=1)], {"block_size": 2}),
            Sample([_v((1, 9, 2, 2), dtype, seed=2)], {"block_size": 3}),
            Sample([_v((2, 3, 2, 2), dtype, seed=3)], {"block_size": 1})]


def _s2d_samples(dtype):
    return [Sample([_v((1, 1, 4, 6), dtype)], {"block_size": 2}),
            Sample([_v((2, 2, 2, 4), dtype, seed=1)], {"block_size": 2}),
            Sample([_v((1, 1, 3, 6), dtype, seed=2)], {"block_size": 3}),
            Sample([_v((2, 3, 2, 2), dtype, seed=3)], {"block_size": 1})]


def _d2s_bad():
    f = np.float32
    return [BadSample([np.ones((1, 3, 2, 2), f)], {"block_size": 2},
                      match=("block_size", "(1, 3, 2, 2)")),
            BadSample([np.ones((4, 2, 2), f)], {"block_size": 2}, match=("data", "(4, 2, 2)")),
            BadSample([np.ones((1, 4, 2, 2), f)], {"block_size": 0}, match=("block_size",)),
            BadSample([np.ones((1, 4, 2, 2), f)], {}, match=("block_size", "required"))]


def _s2d_bad():
    f = np.float32
    return [BadSample([np.ones((1, 1, 3, 4), f)], {"block_size": 2},
                      match=("block_size", "height", "(1, 1, 3, 4)")),
            BadSample([np.ones((1, 1, 4, 3), f)], {"block_size": 2},
                      match=("block_size", "width", "(1, 1, 4, 3)")),
            BadSample([np.ones((1, 1, 4, 4, 4), f)], {"block_size": 2},
                      match=("data", "(1, 1, 4, 4, 4)")),
            BadSample([np.ones((1, 1, 4, 4), f)], {"block_size": -2}, match=("block_size",))]


_BLOCK = {"block_size": Param("int", check=positive, doc="Blocks of [block_size, block_size] "
                                                         "are moved")}


def _register_block_op(name, inverse, infer_shape, forward, reference, samples, bad, doc):
    """depth_to_space and space_to_depth: each one's gradient is the other."""
    register(OpDef(
        name, params=_BLOCK, infer_shape=infer_shape, forward=forward, dtypes="numeric",
        reference=reference, samples=samples, test_dtypes=_TEST3, bad_samples=bad,
        gradient=lambda F, a, ins, outs, g: [getattr(F, inverse)(g[0],
                                                                 block_size=a.block_size)],
        doc=doc))


_register_block_op(
    "depth_to_space", "space_to_depth", _d2s_shape, _d2s_fwd, _d2s_ref, _d2s_samples, _d2s_bad,
    "Rearranges (N, C, H, W) data into (N, C/b^2, H*b, W*b), b = block_size, moving blocks of "
    "depth into space in DCR order (ONNX DepthToSpace mode 'DCR'). The inverse of "
    "space_to_depth.")
_register_block_op(
    "space_to_depth", "depth_to_space", _s2d_shape, _s2d_fwd, _s2d_ref, _s2d_samples, _s2d_bad,
    "Rearranges (N, C, H, W) data into (N, C*b^2, H/b, W/b), b = block_size, moving b x b "
    "spatial blocks into depth (the inverse of depth_to_space).")


# -- moments ---------------------------------------------------------------------------------------
def _moment_axes(a, ndim, shape):
    if a.axes is None or a.axes == ():
        fail("axes", "empty axes is not supported (input shape %s); for global moments pass "
             "every axis, e.g. axes=%s", tuple(shape), tuple(range(ndim)))
    return normalize_axes(a.axes, ndim, "axes")


def _moments_shape(a, shapes):
    s = tuple(shapes[0])
    out = reduced_shape(s, _moment_axes(a, len(s), s), a.keepdims)
    return [out, out]


_moments_shape.bad_shapes = []


def _moments_fwd(xp, a, ins, outs):
    x = ins[0]
    axes = _moment_axes(a, x.ndim, x.shape)
    dt = x.dtype
    n = max(1, int(np.prod([x.shape[i] for i in axes], dtype=np.int64)))

    def mean(t):
        s = xp.sum(t, axis=axes, dtype=dt, keepdims=True)
        if dt.kind == "f":
            return s / dt.type(n)
        q = xp.abs(s) // dt.type(n)  # C integer division: truncated toward zero
        return xp.where(s < 0, -q, q).astype(dt, copy=False)

    m = mean(x)
    d = x - m
    var = mean(d * d)
    outs[0][...] = m.reshape(outs[0].shape)
    outs[1][...] = var.reshape(outs[1].shape)


def _moments_ref(a, x):
    axes = _moment_axes(a, x.ndim, x.shape)
    shape = reduced_shape(x.shape, axes, a.keepdims)
    if x.dtype.kind == "f":
        x64 = x.astype(np.float64)
        return (np.mean(x64, axis=axes).astype(x.dtype).reshape(shape),
                np.var(x64, axis=axes).astype(x.dtype).reshape(shape))
    cnt = int(np.prod([x.shape[i] for i in axes]))
    m = np.trunc(np.sum(x, axis=axes, keepdims=True, dtype=np.int64) / cnt).astype(np.int64)
    v = np.trunc(np.sum((x - m) ** 2, axis=axes, dtype=np.int64) / cnt)
    return m.astype(x.dtype).reshape(shape), v.astype(x.dtype).reshape(shape)


def _moments_grad(F, a, ins, outs, g):
    """d mean/dx = 1/N; d var/dx = 2 (x - mean) / N, each broadcast back to x's shape."""
    x = ins[0]
    kw = {"axis": a.axes, "keepdims": a.keepdims}
    gm = F._reduce_broadcast(g[0], x, mean=True, **kw)
    gv = F._reduce_broadcast(g[1], x, mean=True, **kw)
    centred = x - F._reduce_broadcast(outs[0], x, **kw)
    return [gm + gv * centred * 2.0]


def _moments_samples(dtype):
    lo, hi = (-9, 9) if np.dtype(dtype).kind != "f" else (-2, 2)
    x34, x234 = _v((3, 4), dtype, lo, hi), _v((2, 3, 4), dtype, lo, hi, seed=1)
    return [Sample([x34], {"axes": (1,)}), Sample([x34], {"axes": (0,), "keepdims": True}),
            Sample([x234], {"axes": (0, 2)}), Sample([x234], {"axes": (-1,), "keepdims": True}),
            Sample([x234], {"axes": (0, 1, 2)}), Sample([_v((5,), dtype, lo, hi, 2)],
                                                        {"axes": (0,)})]


def _moments_bad():
    x = np.ones((2, 3), np.float32)
    return [BadSample([x], {}, match=("axes", "empty", "(2, 3)")),
            BadSample([x], {"axes": ()}, match=("axes", "empty")),
            BadSample([x], {"axes": (1, 1)}, match=("axes", "(1, 1)")),
            BadSample([x], {"axes": (2,)}, match=("axes", "2"))]


register(OpDef(
    "moments", num_outputs=2,
    params={"axes": Param("axes", None, doc="Array of ints. Axes along which to compute mean "
                                            "and variance."),
            "keepdims": Param("bool", False, doc="produce moments with the same "
                                                 "dimensionality as the input.")},
    infer_shape=_moments_shape, infer_type=lambda a, t: [t[0], t[0]], forward=_moments_fwd,
    dtypes="numeric", reference=_moments_ref, samples=_moments_samples, test_dtypes=_TEST3,
    bad_samples=_moments_bad, gradient=_moments_grad,
    doc="Mean and (population) variance of data over `axes` (required: MXNet rejects empty "
        "axes), as two outputs. Integer inputs: truncated integer mean and variance."))


# -- argmax_channel ------------------------------------------------------------------------------
def _amc_shape(a, shapes):
    s = tuple(shapes[0])
    if len(s) < 2:
        fail("data", "argmax_channel searches axis 1: it needs at least 2 dimensions, got "
             "shape %s", s)
    if s[1] == 0:
        fail("data", "cannot search the empty axis 1 of shape %s", s)
    return [s[:1] + s[2:]]


_amc_shape.bad_shapes = []


def _amc_fwd(xp, a, ins, outs):
    outs[0][...] = xp.argmax(ins[0], axis=1)


def _amc_ref(a, x):
    """Scan each channel column, keeping the first strict maximum."""
    xt = np.moveaxis(x, 1, -1)
    out = np.zeros(xt.shape[:-1], x.dtype)
    for idx in np.ndindex(out.shape):
        row = list(xt[idx])
        best = 0
        for k, val in enumerate(row):
            if val > row[best]:
                best = k
        out[idx] = best
    return out


def _amc_samples(dtype):
    ties = np.array([[1, 3, 3, 0], [2, 2, 0, 0], [0, 0, 0, 0]], dtype)
    return [Sample([_v((3, 4), dtype, -10, 10)]), Sample([_v((2, 3, 4), dtype, -10, 10, 1)]),
            Sample([_v((2, 5, 2, 3), dtype, -10, 10, 2)]), Sample([ties]),
            Sample([_v((4, 1), dtype, -10, 10, 3)])]


register(OpDef(
    "argmax_channel", infer_shape=_amc_shape, forward=_amc_fwd, dtypes="numeric",
    reference=_amc_ref, samples=_amc_samples, test_dtypes=_TEST3, nondiff=True,
    bad_samples=lambda: [BadSample([np.ones((3,), np.float32)], match=("data", "(3,)"))],
    doc="Index of the maximum along axis 1 (the channel axis), in the input's dtype: (N, C) "
        "gives (N,), (N, C, H, W) gives (N, H, W). Ties give the first index."))
