"""Import rules: shapes and data movement (Reshape, Slice, Gather, Pad, Concat, Split, ...).

ONNX passes shapes, axes, starts/ends, pads and repeats as tensors (since opset 5-18).  These
rules fold them: the value must be constant at import (see importer.py), and the resulting
shape is computed here with the input's static shape, so the plait op gets a concrete one.
"""
import numpy as np

from .import_rules import onnx_op


def _norm_axes(axes, r):
    return [int(a) % r if r else 0 for a in axes]


def static_slice(c, x, axes, begins, ends, steps=None):
    """x[begin:end:step] on `axes` (Python slice semantics, ends None = to the end)."""
    r = c.rank(0)
    shape = list(c.shape(0))
    for i, ax in enumerate(axes):
        st = steps[i] if steps is not None else 1
        shape[ax] = len(range(*slice(begins[i], ends[i], st).indices(shape[ax])))
    if 0 in shape:
        return np.zeros(shape, dtype=c.dtype(0))
    b, e, s = [None] * r, [None] * r, [None] * r
    for i, ax in enumerate(axes):
        b[ax], e[ax] = begins[i], ends[i]
        s[ax] = steps[i] if steps is not None else None
    return c.F.slice(x, begin=tuple(b), end=tuple(e), step=tuple(s))


def _concat(F, xs, axis):
    xs = [x for x in xs if x is not None]
    return xs[0] if len(xs) == 1 else F.Concat(*xs, dim=axis, num_args=len(xs))


def onnx_pad(c, x, width, value=0.0, mode="constant", shape=None):
    """Pad `x` by ONNX-style per-axis (begin, end) pairs given interleaved in `width`
    ([b0, e0, b1, e1, ...]); negative widths crop.  Built from slices, reverses and one
    Concat per padded axis."""
    F = c.F
    shape = list(shape or c.shape(0))
    dtype = c.dtype(0)
    for ax in range(len(shape)):
        b, e = int(width[2 * ax]), int(width[2 * ax + 1])
        if b < 0 or e < 0:
            x = F.slice_axis(x, axis=ax, begin=max(-b, 0), end=shape[ax] - max(-e, 0))
            shape[ax] -= max(-b, 0) + max(-e, 0)
            b, e = max(b, 0), max(e, 0)
        if not b and not e:
            continue
        n = shape[ax]

        def block(count, front):
            if not count:
                return None
            if mode == "constant":
                bs = list(shape)
                bs[ax] = count
                return F._full(shape=tuple(bs), value=float(value), dtype=dtype.name)
            if mode == "edge":
                edge = F.slice_axis(x, axis=ax, begin=0 if front else n - 1, end=1 if front else n)
                return F.repeat(edge, repeats=count, axis=ax)
            if mode == "reflect":
                if front:
                    part = F.slice_axis(x, axis=ax, begin=1, end=count + 1)
                else:
                    part = F.slice_axis(x, axis=ax, begin=n - 1 - count, end=n - 1)
                return F.reverse(part, axis=ax)
            if mode == "wrap":
                return F.slice_axis(x, axis=ax, begin=n - count, end=n) if front else \
                    F.slice_axis(x, axis=ax, begin=0, end=count)
            c.unsupported("pad mode %r is not supported" % mode)
        x = _concat(F, [block(b, True), x, block(e, False)], ax)
        shape[ax] += b + e
    return x


@onnx_op("Pad")
def pad(c):
    r = c.rank(0)
    mode = c.attr("mode", "constant")
    if c.opset >= 11:
        pads = c.ints(1, None, "pads")
        value = c.value(2, None, "constant_value")
        value = 0.0 if value is None or np.asarray(value).size == 0 else np.asarray(value).reshape(-1)[0].item()
        axes = c.ints(3, None, "axes")
    else:
        pads, value, axes = list(c.attr("pads", c.attr("paddings"))), c.attr("value", 0.0), None
    axes = _norm_axes(axes, r) if axes is not None else list(range(r))
    width = [0] * (2 * r)
    k = len(axes)
    for i, ax in enumerate(axes):
        width[2 * ax], width[2 * ax + 1] = pads[i], pads[i + k]
    return onnx_pad(c, c.x(0), width, value, mode)


@onnx_op("Reshape")
def reshape(c):
    if c.opset < 5:
        target = list(c.attr("shape"))
    else:
        target = c.ints(1, None, "shape")
    s = c.shape(0)
    allowzero = c.attr("allowzero", 0)
    out = [s[i] if (d == 0 and not allowzero and i < len(s)) else d for i, d in enumerate(target)]
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1], dtype=np.int64))
        out[out.index(-1)] = int(np.prod(s, dtype=np.int64)) // known if known else 0
    return _reshape(c, c.x(0), tuple(out))


def _reshape(c, x, shape):
    if int(np.prod(shape, dtype=np.int64)) != int(np.prod(c.shape(0), dtype=np.int64)):
        c.fail("cannot reshape %s to %s" % (c.shape(0), shape))
    return reshape_to(c.F, x, shape)


def reshape_to(F, x, shape):
    """Reshape to a concrete shape: MXNet's Reshape, or _onnx_reshape for () and 0 dims
    (which MXNet's Reshape reads as special codes)."""
    shape = tuple(int(d) for d in shape)
    if shape and all(d > 0 for d in shape):
        return F.reshape(x, shape=shape)
    return F._onnx_reshape(x, shape=shape)


@onnx_op("Flatten")
def flatten(c):
    s = c.shape(0)
    axis = int(c.attr("axis", 1))
    axis = axis + len(s) if axis < 0 else axis
    return _reshape(c, c.x(0), (int(np.prod(s[:axis], dtype=np.int64)),
                                int(np.prod(s[axis:], dtype=np.int64))))


@onnx_op("Transpose")
def transpose(c):
    r = c.rank(0)
    perm = c.attr("perm", list(range(r))[::-1])
    return c.F.transpose(c.x(0), axes=tuple(int(p) for p in perm))


@onnx_op("Squeeze")
def squeeze(c):
    s = c.shape(0)
    axes = c.ints(1, None, "axes") if c.opset >= 13 else c.attr("axes")
    axes = set(_norm_axes(axes, len(s))) if axes else {i for i, d in enumerate(s) if d == 1}
    return reshape_to(c.F, c.x(0), tuple(d for i, d in enumerate(s) if i not in axes))


@onnx_op("Unsqueeze")
def unsqueeze(c):
    s = list(c.shape(0))
    axes = c.ints(1, None, "axes") if c.opset >= 13 else c.attr("axes")
    r = len(s) + len(axes)
    for a in sorted(_norm_axes(axes, r)):
        s.insert(a, 1)
    return reshape_to(c.F, c.x(0), tuple(s))


@onnx_op("Concat")
def concat(c):
    xs = [c.x(i) for i in range(len(c.ins)) if c.has(i)]
    axis = int(c.attr("axis", 1)) % c.rank(0)
    keep = [x for i, x in enumerate(xs) if c.shape(i)[axis] != 0] or xs[:1]
    return _concat(c.F, keep, axis)


@onnx_op("Split")
def split(c):
    s = c.shape(0)
    axis = int(c.attr("axis", 0)) % len(s)
    n_out = c.num_outputs
    if c.opset >= 13:
        sizes = c.ints(1, None, "split")
    else:
        sizes = c.attr("split")
        if sizes is None and c.has(1):
            sizes = c.ints(1, None, "split")
    if sizes is None:
        n_out = int(c.attr("num_outputs", n_out))
        chunk = -(-s[axis] // n_out)
        sizes = [min(chunk, s[axis] - i * chunk) for i in range(n_out)]
    outs, start = [], 0
    for k in sizes:
        if k == 0:
            outs.append(np.zeros(s[:axis] + (0,) + s[axis + 1:], dtype=c.dtype(0)))
        else:
            outs.append(c.F.slice_axis(c.x(0), axis=axis, begin=start, end=start + k))
        start += k
    return outs


@onnx_op("Slice")
def slice_(c):
    s = c.shape(0)
    if c.opset < 10:
        starts, ends = c.attr("starts"), c.attr("ends")
        axes, steps = c.attr("axes"), None
    else:
        starts, ends = c.ints(1, None, "starts"), c.ints(2, None, "ends")
        axes, steps = c.ints(3, None, "axes"), c.ints(4, None, "steps")
    axes = _norm_axes(axes, len(s)) if axes is not None else list(range(len(starts)))
    steps = steps or [1] * len(axes)
    b, e = [], []
    for ax, st, en, sp in zip(axes, starts, ends, steps):
        lo, hi, _ = slice(st, en, sp).indices(s[ax])
        b.append(lo)
        e.append(None if (sp < 0 and hi < 0) else hi)
    return static_slice(c, c.x(0), axes, b, e, steps)


@onnx_op("Gather")
def gather(c):
    s = c.shape(0)
    axis = int(c.attr("axis", 0)) % len(s)
    # mode='wrap' maps ONNX's negative indices (-n..-1) to n-1..0
    return c.F.take(c.x(0), c.x(1), axis=axis, mode="wrap")


@onnx_op("GatherElements")
def gather_elements(c):
    axis = int(c.attr("axis", 0)) % c.rank(0)
    idx = c.x(1)
    n = c.shape(0)[axis]
    F = c.F
    idx = F.broadcast_add(idx, F._mul_scalar(F._lesser_scalar(idx, scalar=0), scalar=n))
    return F._take_along_axis(c.x(0), idx, axis=axis)


@onnx_op("GatherND")
def gather_nd(c):
    """MXNet's gather_nd takes the index tuples along the FIRST axis; ONNX along the last.
    batch_dims b: the leading b axes are flattened into one, whose index is prepended."""
    F = c.F
    b = int(c.attr("batch_dims", 0))
    sd, si = c.shape(0), c.shape(1)
    data, idx = c.x(0), F.Cast(c.x(1), dtype="int64")
    if b:
        nb = int(np.prod(sd[:b], dtype=np.int64))
        data = F.reshape(data, shape=(nb,) + tuple(sd[b:]))
        idx = F.reshape(idx, shape=(nb,) + tuple(si[b:]))
        grid = np.broadcast_to(np.arange(nb, dtype=np.int64).reshape((nb,) + (1,) * (len(si) - b)),
                               (nb,) + tuple(si[b:-1]) + (1,)).copy()
        from .importer import _Val
        idx = F.Concat(c.imp.tensor(_Val(c.name + "_batch", const=grid), F), idx,
                       dim=len(si) - b, num_args=2)
    ri = len(si) - b + (1 if b else 0)
    idx = F.transpose(idx, axes=(ri - 1,) + tuple(range(ri - 1)))
    out = F.gather_nd(data, idx)
    if b:
        k = si[-1]
        out = reshape_to(F, out, tuple(sd[:b]) + tuple(si[b:-1]) + tuple(sd[b + k:]))
    return out


@onnx_op("Expand")
def expand(c):
    s = c.shape(0)
    target = tuple(np.broadcast_shapes(tuple(s), tuple(c.ints(1, None, "shape"))))
    x = c.x(0)
    if len(s) < len(target):
        x = c.F.reshape(x, shape=(1,) * (len(target) - len(s)) + tuple(s))
    if tuple(target) == tuple(s):
        return c.F._copy(x)
    return c.F.broadcast_to(x, shape=target)


@onnx_op("Tile")
def tile(c):
    reps = c.ints(1, None, "repeats") if c.opset >= 6 else None
    return c.F.tile(c.x(0), reps=tuple(reps))


@onnx_op("DepthToSpace")
def depth_to_space(c):
    n, ch, h, w = c.shape(0)
    b = int(c.need_attr("blocksize"))
    F = c.F
    if c.attr("mode", "DCR") == "DCR":
        t = F.reshape(c.x(0), shape=(n, b, b, ch // (b * b), h, w))
        t = F.transpose(t, axes=(0, 3, 4, 1, 5, 2))
    else:
        t = F.reshape(c.x(0), shape=(n, ch // (b * b), b, b, h, w))
        t = F.transpose(t, axes=(0, 1, 4, 2, 5, 3))
    return F.reshape(t, shape=(n, ch // (b * b), h * b, w * b))


@onnx_op("SpaceToDepth")
def space_to_depth(c):
    n, ch, h, w = c.shape(0)
    b = int(c.need_attr("blocksize"))
    F = c.F
    t = F.reshape(c.x(0), shape=(n, ch, h // b, b, w // b, b))
    crd = c.attr("mode", "DCR") == "CRD"
    t = F.transpose(t, axes=(0, 1, 3, 5, 2, 4) if crd else (0, 3, 5, 1, 2, 4))
    return F.reshape(t, shape=(n, ch * b * b, h // b, w // b))


@onnx_op("Shape")
def shape(c):
    s = np.array(c.shape(0), dtype=np.int64)
    r = len(s)
    start = int(c.attr("start", 0))
    end = c.attr("end", None)
    start = max(0, min(r, start + r if start < 0 else start))
    end = r if end is None else max(0, min(r, int(end) + r if int(end) < 0 else int(end)))
    return s[start:end]


@onnx_op("Size")
def size(c):
    return np.array(int(np.prod(c.shape(0), dtype=np.int64)), dtype=np.int64)
