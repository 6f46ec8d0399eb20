"""Pooling and UpSampling (MXNet's pooling-inl.h / pool.h, upsampling-inl.h).

Pooling works on channel-first data (N, C, *spatial), 1-3 spatial axes, through a zero-copy
`as_strided` window view of the padded input (max pads with -inf).  MXNet semantics kept:
- stride () means 1 and pad () means 0; global_pool ignores kernel/stride/pad;
- pooling_convention 'valid': floor((x + 2p - k)/s) + 1, 'full': ceil(...) + 1 ('same' is
  rejected: MXNet 1.9's own 'same' fails on every input tried);
- avg divides by the window clipped to the PADDED input (count_include_pad, the default) or
  to the real input (count_include_pad=False); windows of 'full' that run past the padded
  input are clipped in both cases;
- lp: (sum x^p)^(1/p) for p_value 1, 2, 3 with no abs (p=1 is a plain sum);
- max's gradient goes to the FIRST maximum of each window (row-major), as MXNet's.
The gradient is the hidden `_backward_Pooling(out_grad, data, output)`, which has no gradient
of its own (nondiff: second order through Pooling is not supported).
max/avg/sum (not global) run as compiled kernels (csrc/kernels_pool.cc) on NumPy
float32/float64 arrays, giving the xp path's results bit for bit (ties, NaN, summation order).
UpSampling is in nn_upsample.py.
"""
import itertools

import numpy as np

from ..base import fail
from . import native
from .nn_conv_impl import LAYOUTS, parse_attrs_of
from .params import Param
from .registry import BadSample, OpDef, Sample, register
from .sampling import values


POOL_PARAMS = {
    "kernel": Param("shape", (), doc="Pooling window size (ignored with global_pool)."),
    "pool_type": Param("str", "max", choices=("avg", "lp", "max", "sum"), doc="Pooling kind."),
    "global_pool": Param("bool", False, doc="Pool over all spatial positions."),
    "cudnn_off": Param("bool", False, doc="Ignored."),
    "pooling_convention": Param("str", "valid", choices=("full", "same", "valid"),
                                doc="Output size rule: floor ('valid') or ceil ('full')."),
    "stride": Param("shape", (), doc="Window stride; () means 1."),
    "pad": Param("shape", (), doc="Padding on both sides; () means 0."),
    "p_value": Param("int", None, doc="p of lp pooling (1, 2 or 3)."),
    "count_include_pad": Param("bool", None, doc="avg: count padded positions in the divisor "
                                                 "(None means True)."),
    "layout": Param("str", None, choices=("NCDHW", "NCHW", "NCW", "NDHWC", "NHWC", "NWC"),
                    doc="Data layout; only channel-first layouts are implemented."),
}


def geometry(attrs, ds):
    """Validate; returns (kernel, stride, pad, out_spatial)."""
    nd = len(ds) - 2
    if nd not in (1, 2, 3):
        fail("data", "data must be 3-d, 4-d or 5-d (N, C, *spatial), got shape %s", tuple(ds))
    if attrs.layout is not None and attrs.layout != LAYOUTS[nd]:
        fail("layout", "layout %s is not supported: only %s (channel-first) is implemented "
             "for %d-d data", attrs.layout, LAYOUTS[nd], nd + 2)
    if attrs.pool_type == "lp" and attrs.p_value not in (1, 2, 3):
        fail("p_value", "lp pooling needs p_value 1, 2 or 3, got %s", attrs.p_value)
    if attrs.global_pool:
        k, s, p = tuple(ds[2:]), (1,) * nd, (0,) * nd
        return k, s, p, (1,) * nd
    if attrs.pooling_convention == "same":
        fail("pooling_convention", "'same' is not supported (use 'valid' or 'full')")
    k = tuple(attrs.kernel)
    if len(k) != nd:
        fail("kernel", "kernel %s must have %d entries for data of shape %s", k, nd, tuple(ds))
    s = tuple(attrs.stride) or (1,) * nd
    p = tuple(attrs.pad) or (0,) * nd
    for name, v, lo in (("stride", s, 1), ("pad", p, 0), ("kernel", k, 1)):
        if len(v) != nd:
            fail(name, "%s %s must have %d entries for data of shape %s", name, v, nd, tuple(ds))
        if any(a < lo for a in v):
            fail(name, "%s %s must be >= %d", name, v, lo)
    osp = []
    for i in range(nd):
        span = ds[2 + i] + 2 * p[i] - k[i]
        if span < 0:
            fail("kernel", "kernel %s is larger than the padded input (size %d on spatial axis "
                 "%d of data %s with pad %s)", k, ds[2 + i] + 2 * p[i], i, tuple(ds), p)
        o = span // s[i] + 1 if attrs.pooling_convention == "valid" else -(-span // s[i]) + 1
        osp.append(o)
    return k, s, p, tuple(osp)


def _shape(attrs, shapes):
    ds = tuple(shapes[0])
    return [ds[:2] + geometry(attrs, ds)[3]]


_shape.bad_shapes = [[(2, 3)]]


def _padded(xp, x, k, s, p, osp, fill):
    """x padded by p on the left and enough on the right for every window of osp."""
    big = tuple(max(i + 2 * pp, (o - 1) * ss + kk)
                for i, pp, o, ss, kk in zip(x.shape[2:], p, osp, s, k))
    if big == x.shape[2:]:
        return x
    out = xp.full(x.shape[:2] + big, fill, x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(pp, pp + i)
                                           for pp, i in zip(p, x.shape[2:]))] = x
    return out


def _include_pad(attrs):
    """Whether avg pooling divides by the padded window size (MXNet's default)."""
    return attrs.count_include_pad is None or attrs.count_include_pad


def _divisor(xp, attrs, in_sp, k, s, p, osp, dtype):
    include = _include_pad(attrs)
    div = None
    for d, (i, kk, ss, pp, o) in enumerate(zip(in_sp, k, s, p, osp)):
        start = xp.arange(o) * ss - pp
        end = xp.minimum(start + kk, i + pp)
        if include:
            size = end - start
        else:
            size = xp.minimum(end, i) - xp.maximum(start, 0)
        shp = [1] * len(osp)
        shp[d] = o
        size = size.reshape(shp)
        div = size if div is None else div * size
    return div.astype(dtype)


def _offsets(k, s, osp):
    """For each kernel offset (row-major), the slice of the padded input it reads for every
    output position: one strided view per offset, so a kxk pooling is k*k vectorised passes."""
    for kid in itertools.product(*[range(kk) for kk in k]):
        yield (slice(None), slice(None)) + tuple(
            slice(kk, kk + ss * (o - 1) + 1, ss) for kk, ss, o in zip(kid, s, osp))


# -- fast path: non-overlapping windows (stride == kernel, no padding, no partial window) -------
def _tiled(k, s, p, osp, in_sp):
    """True when every window is a disjoint, complete k-block of the input: then the input
    (cropped to osp*k) reshapes to (N, C, o1, k1, o2, k2, ...) with no copy."""
    return (tuple(s) == tuple(k) and not any(p)
            and all(o * kk <= i for o, kk, i in zip(osp, k, in_sp)))


def _blocks(x, k, osp):
    """The (N, C, o1, k1, o2, k2, ...) view of x cropped to osp*k (a view: splitting an axis
    never copies)."""
    crop = x[(slice(None), slice(None)) + tuple(slice(0, o * kk) for o, kk in zip(osp, k))]
    shp = x.shape[:2]
    for o, kk in zip(osp, k):
        shp += (o, kk)
    return crop.reshape(shp)


def _block_offsets(k):
    """For each kernel offset (row-major), the index of the (N, C, o1, k1, ...) view."""
    for kid in itertools.product(*[range(kk) for kk in k]):
        idx = (slice(None), slice(None))
        for kk in kid:
            idx += (slice(None), kk)
        yield idx


def _tiled_forward(xp, t, x, k, osp, out):
    """max/sum/avg of disjoint blocks: reduce one window axis at a time, outermost first,
    by k-1 elementwise passes over slices (long contiguous inner loops; a reduction over
    the short window axes would run a 2- or 3-element inner loop)."""
    v = _blocks(x, k, osp)
    op = xp.maximum if t == "max" else xp.add
    nd = len(k)
    for a in range(nd):
        ax = 3 + a  # the window axis of spatial axis a (the ones before it are reduced away)
        kk = k[a]
        pre = (slice(None),) * ax
        dst = out if a == nd - 1 else None
        if kk == 1:
            r = v[pre + (0,)]
            if dst is not None:
                dst[...] = r
            v = r
            continue
        r = op(v[pre + (0,)], v[pre + (1,)], out=dst)
        for j in range(2, kk):
            op(r, v[pre + (j,)], out=r)
        v = r
    if t == "avg":
        size = 1
        for kk in k:
            size *= kk
        out /= size


def _tiled_backward(xp, t, g, x, y, k, osp, dx):
    """Gradient for disjoint blocks: every input element gets exactly one write."""
    cropped = any(o * kk != i for o, kk, i in zip(osp, k, x.shape[2:]))
    if cropped:  # the tail that no window covers ('valid' with a remainder)
        dx[...] = 0
    d = _blocks(dx, k, osp)
    if t != "max":
        if t == "avg":
            size = 1
            for kk in k:
                size *= kk
            g = g / size
        for idx in _block_offsets(k):
            d[idx] = g
        return
    v = _blocks(x, k, osp)
    offs = list(_block_offsets(k))
    taken = None  # windows whose FIRST maximum (row-major) has been found
    for j, idx in enumerate(offs):
        hit = xp.equal(v[idx], y)
        if taken is None:
            taken = hit
        else:
            xp.greater(hit, taken, out=hit)  # hit and not taken
            if j < len(offs) - 1:
                xp.logical_or(taken, hit, out=taken)
        xp.multiply(g, hit, out=d[idx])


_NATIVE_KINDS = {"max": 0, "avg": 1, "sum": 2}


def _native(xp, attrs, arrays, k, s, p, osp, in_sp):
    """The compiled kernel's arguments (kernel, stride, pad, kind, include_pad, tiled) when
    it can run on these arrays (max/avg/sum, NumPy float32/float64 of one dtype), else None."""
    kind = _NATIVE_KINDS.get(attrs.pool_type)
    if kind is None or not native.usable(xp, *arrays) or len({a.dtype for a in arrays}) != 1:
        return None
    return k, s, p, kind, _include_pad(attrs), _tiled(k, s, p, osp, in_sp)


def _spatial(x):
    return tuple(range(2, x.ndim))


def _global_forward(xp, attrs, x, out):
    t, ax = attrs.pool_type, _spatial(x)
    if t == "max":
        out[...] = x.max(axis=ax, keepdims=True)
    elif t == "avg":
        out[...] = x.mean(axis=ax, keepdims=True)
    elif t == "sum" or attrs.p_value == 1:
        out[...] = x.sum(axis=ax, keepdims=True)
    else:
        acc = (x ** attrs.p_value).sum(axis=ax, keepdims=True)
        with np.errstate(invalid="ignore"):
            out[...] = xp.sqrt(acc) if attrs.p_value == 2 else xp.power(acc, 1.0 / 3)


def _forward(xp, attrs, ins, outs):
    x, out = ins[0], outs[0]
    t = attrs.pool_type
    if attrs.global_pool:
        return _global_forward(xp, attrs, x, out)
    k, s, p, osp = geometry(attrs, x.shape)
    args = _native(xp, attrs, (x, out), k, s, p, osp, x.shape[2:])
    if args is not None:
        return native.kernels().pool_forward(x, out, *args)
    if t in ("max", "avg", "sum") and _tiled(k, s, p, osp, x.shape[2:]):
        return _tiled_forward(xp, t, x, k, osp, out)
    xpad = _padded(xp, x, k, s, p, osp, -np.inf if t == "max" else 0)
    pv = attrs.p_value if t == "lp" else 1
    acc = out if pv == 1 else xp.zeros(out.shape, out.dtype)
    for j, sl in enumerate(_offsets(k, s, osp)):
        v = xpad[sl]
        if pv > 1:
            v = v * v if pv == 2 else v * v * v
        if j == 0:
            acc[...] = v
        elif t == "max":
            xp.maximum(acc, v, out=acc)
        else:
            acc += v
    if t == "avg":
        out /= _divisor(xp, attrs, x.shape[2:], k, s, p, osp, out.dtype)
    elif pv > 1:
        with np.errstate(invalid="ignore"):  # (negative sum)^(1/3) is nan, as MXNet's pow
            out[...] = xp.sqrt(acc) if pv == 2 else xp.power(acc, 1.0 / 3)


def _window(o, k, s, p, in_sp):
    """The window of output position o: its start, its end within the padding, and both
    clipped to the input."""
    lo = [oo * ss - pp for oo, ss, pp in zip(o, s, p)]
    hi_pad = [min(l + kk, i + pp) for l, kk, i, pp in zip(lo, k, in_sp, p)]
    lo_c = [max(v, 0) for v in lo]
    hi_c = [min(v, i) for v, i in zip(hi_pad, in_sp)]
    return lo, hi_pad, lo_c, hi_c


def _reference(attrs, x):
    """Loops over output positions with explicit clipped windows."""
    k, s, p, osp = geometry(attrs, x.shape)
    t = attrs.pool_type
    include = _include_pad(attrs)
    xf = x.astype(np.float64)
    out = np.zeros(x.shape[:2] + osp)
    for o in np.ndindex(*osp):
        lo, hi_pad, lo_c, hi_c = _window(o, k, s, p, x.shape[2:])
        win = xf[(Ellipsis,) + tuple(slice(a, b) for a, b in zip(lo_c, hi_c))]
        win = win.reshape(x.shape[:2] + (-1,))
        if t == "max":
            r = win.max(axis=-1)
        elif t == "sum":
            r = win.sum(axis=-1)
        elif t == "avg":
            size = np.prod([b - a for a, b in (zip(lo, hi_pad) if include else zip(lo_c, hi_c))])
            r = win.sum(axis=-1) / size
        else:
            r = (win ** attrs.p_value).sum(axis=-1)
            if attrs.p_value > 1:
                r = np.where(r < 0, np.nan, np.abs(r) ** (1.0 / attrs.p_value))
        out[(slice(None), slice(None)) + o] = r
    return out.astype(x.dtype)


def _samples(dtype):
    cases = [((1, 2, 4, 4), {"kernel": (2, 2), "stride": (2, 2)}),
             ((2, 1, 5, 5), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1),
                             "pool_type": "avg"}),
             ((1, 2, 5, 4), {"kernel": (3, 2), "stride": (2, 2), "pool_type": "avg",
                             "pooling_convention": "full", "pad": (1, 0),
                             "count_include_pad": False}),
             ((1, 2, 7), {"kernel": (3,), "stride": (2,), "pooling_convention": "full"}),
             ((1, 2, 3, 3, 3), {"kernel": (2, 2, 2), "pool_type": "sum"}),
             ((2, 3, 3, 4), {"global_pool": True, "pool_type": "avg", "kernel": (1, 1)}),
             ((1, 2, 4, 5), {"kernel": (2, 3), "stride": (1, 2), "pool_type": "lp",
                             "p_value": 2}),
             ((1, 2, 4, 4), {"kernel": (2, 2), "pool_type": "lp", "p_value": 1,
                             "layout": "NCHW"}),
             ((2, 2, 3, 3), {"global_pool": True}),
             ((1, 1, 5, 5), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1),
                             "pool_type": "avg", "pooling_convention": "full"})]
    out = [Sample([values(ds, dtype, seed=i)], at) for i, (ds, at) in enumerate(cases)]
    ties = np.array([[[[1, 3, 3, 0], [3, 2, 1, 1], [0, 0, 2, 2], [2, 2, 1, 0]]]], dtype)
    out.append(Sample([ties], {"kernel": (2, 2), "stride": (1, 1)}, note="ties"))
    pos = values((1, 2, 4, 4), dtype, 0.5, 2.0, seed=11)
    out.append(Sample([pos], {"kernel": (2, 2), "pool_type": "lp", "p_value": 3}))
    return out


def _bad():
    f = np.ones
    return [BadSample([f((1, 2, 2, 2))], {"kernel": (3, 3)},
                      match=("kernel", "larger than the padded input", "(1, 2, 2, 2)")),
            BadSample([f((1, 2, 4, 4))], {"kernel": (2,)}, match=("kernel", "2 entries")),
            BadSample([f((2, 4))], {"kernel": (2,)}, match=("data", "(2, 4)")),
            BadSample([f((1, 2, 4, 4))], {"kernel": (2, 2), "layout": "NHWC"},
                      match=("layout", "NHWC")),
            BadSample([f((1, 2, 4, 4))], {"kernel": (2, 2), "pool_type": "lp"},
                      match=("p_value",)),
            BadSample([f((1, 2, 4, 4))], {"kernel": (2, 2), "stride": (0, 1)},
                      match=("stride", ">= 1")),
            BadSample([f((1, 2, 6))], {"kernel": (2,), "pooling_convention": "same"},
                      match=("pooling_convention", "same"))]


def _gradient(F, attrs, inputs, outputs, out_grads):
    return [F._backward_Pooling(out_grads[0], inputs[0], outputs[0], **attrs)]


register(OpDef(
    "Pooling", params=POOL_PARAMS, infer_shape=_shape, forward=_forward, dtypes="float",
    reference=_reference, samples=_samples, bad_samples=_bad, gradient=_gradient,
    doc="Pooling over 1-3 spatial axes of channel-first data: max, avg, sum or lp (p_value), "
        "with kernel/stride/pad, global_pool, pooling_convention 'valid' (floor) or 'full' "
        "(ceil) and count_include_pad for avg."))


# -- backward --------------------------------------------------------------------------------------
def _bshape(attrs, shapes):
    if len(shapes) != 3:
        fail("input", "expected 3 inputs (out_grad, data, output), got %d", len(shapes))
    gs, ds, os_ = (tuple(v) for v in shapes)
    out = _shape(attrs, [ds])[0]
    for name, v in (("out_grad", gs), ("output", os_)):
        if v != out:
            fail(name, "%s has shape %s, the Pooling output has shape %s", name, v, out)
    return [ds]


def _global_backward(xp, attrs, g, x, y, dx):
    t = attrs.pool_type
    if t == "max":  # the first maximum of each (N, C) plane
        n, c = x.shape[:2]
        flat = dx.reshape(n * c, -1)
        flat[...] = 0
        am = xp.ascontiguousarray(x).reshape(n * c, -1).argmax(axis=1)
        flat[xp.arange(n * c), am] = g.reshape(-1)
    elif t == "avg":
        dx[...] = g / (x.size // (x.shape[0] * x.shape[1]))
    elif t == "sum" or attrs.p_value == 1:
        dx[...] = g
    else:
        r = x / y
        dx[...] = g * (r if attrs.p_value == 2 else r * r)


def _bforward(xp, attrs, ins, outs):
    g, x, y = ins
    t = attrs.pool_type
    if attrs.global_pool:
        return _global_backward(xp, attrs, g, x, y, outs[0])
    k, s, p, osp = geometry(attrs, x.shape)
    args = _native(xp, attrs, (g, x, y, outs[0]), k, s, p, osp, x.shape[2:])
    if args is not None:
        return native.kernels().pool_backward(g, x, y, outs[0], *args)
    if t in ("max", "avg", "sum") and _tiled(k, s, p, osp, x.shape[2:]):
        return _tiled_backward(xp, t, g, x, y, k, osp, outs[0])
    xpad = _padded(xp, x, k, s, p, osp, -np.inf if t == "max" else 0)
    dxp = xp.zeros(xpad.shape, outs[0].dtype)
    if t == "max":
        taken = xp.zeros(y.shape, bool)  # each window's gradient goes to its FIRST maximum
    elif t == "avg":
        g = g / _divisor(xp, attrs, x.shape[2:], k, s, p, osp, g.dtype)
    for sl in _offsets(k, s, osp):
        if t == "max":
            hit = xp.equal(xpad[sl], y)
            xp.greater(hit, taken, out=hit)  # hit and not taken
            taken |= hit
            dxp[sl] += g * hit
        elif t == "lp" and attrs.p_value > 1:
            r = xpad[sl] / y
            dxp[sl] += g * (r if attrs.p_value == 2 else r * r)
        else:
            dxp[sl] += g
    outs[0][...] = dxp[(slice(None), slice(None)) + tuple(
        slice(pp, pp + i) for pp, i in zip(p, x.shape[2:]))]


def _bref(attrs, g, x, y):
    """Loops: each output position sends its gradient into its (clipped) window."""
    k, s, p, osp = geometry(attrs, x.shape)
    t = attrs.pool_type
    include = _include_pad(attrs)
    dx = np.zeros(x.shape)
    for o in np.ndindex(*osp):
        lo, hi_pad, lo_c, hi_c = _window(o, k, s, p, x.shape[2:])
        sl = (slice(None), slice(None)) + tuple(slice(a, b) for a, b in zip(lo_c, hi_c))
        gv = g[(slice(None), slice(None)) + o].astype(np.float64)
        for n in range(x.shape[0]):
            for c in range(x.shape[1]):
                win = x[n, c][sl[2:]].astype(np.float64)
                part = np.zeros(win.shape)
                if t == "max":
                    part.flat[np.argmax(win)] = gv[n, c]
                elif t == "avg":
                    size = np.prod([b - a for a, b in (zip(lo, hi_pad) if include
                                                        else zip(lo_c, hi_c))])
                    part[...] = gv[n, c] / size
                elif t == "lp" and attrs.p_value > 1:
                    part = gv[n, c] * (win / y[(n, c) + o]) ** (attrs.p_value - 1)
                else:
                    part[...] = gv[n, c]
                dx[(n, c) + sl[2:]] += part
    return dx.astype(x.dtype)


def _bsamples(dtype):
    out = []
    for i, smp in enumerate(_samples(dtype)):
        x = smp.inputs[0]
        at = parse_attrs_of("Pooling", smp.attrs)
        y = _reference(at, x)
        out.append(Sample([values(y.shape, dtype, seed=i + 40), x, y], smp.attrs))
    return out


register(OpDef(
    "_backward_Pooling", inputs=("out_grad", "data", "output"), params=POOL_PARAMS,
    infer_shape=_bshape, forward=_bforward, dtypes="float", reference=_bref,
    samples=_bsamples, nondiff=True,
    doc="Gradient of Pooling w.r.t. its data: max sends out_grad to the first maximum of "
        "each window, avg/sum spread it (avg divided by the window size), lp scales it by "
        "(x/out)^(p-1).  No gradient of its own."))


from . import nn_upsample  # noqa: E402,F401  (UpSampling's gradient uses Pooling)
