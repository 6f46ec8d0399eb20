"""ONNX export rules: shape and layout ops (Reshape with MXNet's codes, transpose, concat,
stack, slice family, split, expand_dims, squeeze, tile, repeat, reverse, broadcast_*, *_like,
take/pick/one_hot/gather_nd, shape_array/size_array, topk/sort/argsort).

MXNet's Reshape codes (0, -1, -2, -3, -4, reverse) are resolved from the inferred shapes;
the first axis is written as 0 (copy) or -1 (infer) when it carries the batch, so an
export with a dynamic batch dimension keeps working.
"""
import numpy as np

from .export_context import onnx_rule, reshape, squeeze, unsqueeze
from .export_math import cast

INT64_MAX, INT64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min


def batch_shape(in_shape, out_shape):
    """ONNX Reshape target for out_shape that keeps a variable first (batch) axis."""
    out = list(out_shape)
    if not in_shape or not out:
        return out
    if out[0] == in_shape[0]:
        return [0] + out[1:]
    if out[0] % in_shape[0] == 0:
        return [-1] + out[1:]
    return out


@onnx_rule("Reshape")
def _reshape(ctx, node):
    reshape(ctx, node.inputs[0], batch_shape(node.in_shapes[0], node.out_shapes[0]),
            out=node.outputs[0])


@onnx_rule("reshape_like")
def _reshape_like(ctx, node):
    reshape(ctx, node.inputs[0], batch_shape(node.in_shapes[0], node.out_shapes[0]),
            out=node.outputs[0])


@onnx_rule("transpose")
def _transpose(ctx, node):
    perm = list(node.attrs.axes) or list(range(node.ndim))[::-1]
    ctx.add("Transpose", node.inputs[:1], node.outputs[:1], perm=[p % node.ndim for p in perm])


@onnx_rule("SwapAxis")
def _swap_axis(ctx, node):
    perm = list(range(node.ndim))
    a, b = node.attrs.dim1 % node.ndim, node.attrs.dim2 % node.ndim
    perm[a], perm[b] = perm[b], perm[a]
    ctx.add("Transpose", node.inputs[:1], node.outputs[:1], perm=perm)


@onnx_rule("Concat")
def _concat(ctx, node):
    ctx.add("Concat", node.inputs, node.outputs[:1], axis=node.attrs.dim % node.ndim)


@onnx_rule("stack")
def _stack(ctx, node):
    axis = node.attrs.axis % (node.ndim + 1)
    parts = [unsqueeze(ctx, x, [axis]) for x in node.inputs]
    ctx.add("Concat", parts, node.outputs[:1], axis=axis)


# -- slicing --------------------------------------------------------------------------------------
@onnx_rule("slice")
def _slice(ctx, node):
    a = node.attrs
    n = len(a.begin)
    steps = list(a.step) + [None] * (n - len(a.step)) if a.step else [None] * n
    starts, ends, st = [], [], []
    for b, e, s in zip(a.begin, a.end, steps):
        s = 1 if s is None else s
        starts.append((0 if s > 0 else -1) if b is None else b)
        ends.append((INT64_MAX if s > 0 else INT64_MIN) if e is None else e)
        st.append(s)
    ctx.add("Slice", [node.inputs[0], ctx.ints(starts), ctx.ints(ends), ctx.ints(range(n)),
                      ctx.ints(st)], node.outputs[:1])


@onnx_rule("slice_axis")
def _slice_axis(ctx, node):
    a = node.attrs
    end = INT64_MAX if a.end is None else a.end
    ctx.add("Slice", [node.inputs[0], ctx.ints([a.begin]), ctx.ints([end]),
                      ctx.ints([a.axis % node.ndim])], node.outputs[:1])


@onnx_rule("slice_like")
def _slice_like(ctx, node):
    axes = [x % node.ndim for x in node.attrs.axes] or list(range(len(node.in_shapes[1])))
    ends = ctx.add("Gather", [ctx.add("Shape", [node.inputs[1]]), ctx.ints(axes)], axis=0)
    ctx.add("Slice", [node.inputs[0], ctx.ints([0] * len(axes)), ends, ctx.ints(axes)],
            node.outputs[:1])


@onnx_rule("SliceChannel")
def _split(ctx, node):
    a = node.attrs
    axis = a.axis % node.ndim
    k = a.num_outputs
    size = node.in_shapes[0][axis] // k
    if a.squeeze_axis and len(node.out_shapes[0]) < node.ndim:
        parts = ctx.add("Split", [node.inputs[0], ctx.ints([size] * k)], k, axis=axis)
        for p, o in zip(parts, node.outputs):
            squeeze(ctx, p, [axis], out=o)
    else:
        ctx.add("Split", [node.inputs[0], ctx.ints([size] * k)], node.outputs, axis=axis)


@onnx_rule("expand_dims")
def _expand_dims(ctx, node):
    unsqueeze(ctx, node.inputs[0], [node.attrs.axis % (node.ndim + 1)], out=node.outputs[0])


@onnx_rule("squeeze")
def _squeeze(ctx, node):
    ax = node.attrs.axis
    axes = None if ax is None else [x % node.ndim for x in ax]
    if axes is None:
        axes = [i for i, d in enumerate(node.in_shapes[0]) if d == 1]
    if not axes:
        ctx.add("Identity", node.inputs[:1], node.outputs[:1])
        return
    if len(axes) == node.ndim:  # MXNet keeps one axis: (1, 1) -> (1,)
        reshape(ctx, node.inputs[0], [1], out=node.outputs[0])
        return
    squeeze(ctx, node.inputs[0], axes, out=node.outputs[0])


@onnx_rule("tile")
def _tile(ctx, node):
    reps = list(node.attrs.reps)
    x, nd = node.inputs[0], node.ndim
    if len(reps) > nd:
        x = unsqueeze(ctx, x, list(range(len(reps) - nd)))
    reps = [1] * (nd - len(reps)) + reps
    ctx.add("Tile", [x, ctx.ints(reps)], node.outputs[:1])


@onnx_rule("repeat")
def _repeat(ctx, node):
    a = node.attrs
    x, r = node.inputs[0], a.repeats
    if a.axis is None:
        t = ctx.add("Tile", [ctx.add("Reshape", [x, ctx.ints([-1, 1])]), ctx.ints([1, r])])
        ctx.add("Reshape", [t, ctx.ints([-1])], node.outputs[:1])
        return
    axis = a.axis % node.ndim
    u = unsqueeze(ctx, x, [axis + 1])
    reps = [1] * (node.ndim + 1)
    reps[axis + 1] = r
    t = ctx.add("Tile", [u, ctx.ints(reps)])
    shape = list(node.out_shapes[0])
    shape[axis] = -1
    if axis != 0:
        shape[0] = 0
    ctx.add("Reshape", [t, ctx.ints(shape)], node.outputs[:1])


@onnx_rule("reverse")
def _reverse(ctx, node):
    flips = [x % node.ndim for x in node.attrs.axis]
    axes = sorted(a for a in set(flips) if flips.count(a) % 2)  # a twice-flipped axis stays
    if not axes:
        ctx.add("Identity", node.inputs[:1], node.outputs[:1])
        return
    n = len(axes)
    ctx.add("Slice", [node.inputs[0], ctx.ints([-1] * n), ctx.ints([INT64_MIN] * n),
                      ctx.ints(axes), ctx.ints([-1] * n)], node.outputs[:1])


# -- broadcasting and *_like ----------------------------------------------------------------------
@onnx_rule("broadcast_to")
def _broadcast_to(ctx, node):
    shape = [1 if s == 0 else s for s in node.attrs.shape]
    ctx.add("Expand", [node.inputs[0], ctx.ints(shape)], node.outputs[:1])


@onnx_rule("broadcast_axis")
def _broadcast_axis(ctx, node):
    shape = [1] * node.ndim
    for ax, size in zip(node.attrs.axis, node.attrs.size):
        shape[ax % node.ndim] = size
    ctx.add("Expand", [node.inputs[0], ctx.ints(shape)], node.outputs[:1])


@onnx_rule("broadcast_like")
def _broadcast_like(ctx, node):
    a = node.attrs
    if a.lhs_axes is None:
        ctx.add("Expand", [node.inputs[0], ctx.add("Shape", [node.inputs[1]])], node.outputs[:1])
        return
    shape = [1] * node.ndim
    rshape = node.in_shapes[1]
    for la, ra in zip(a.lhs_axes, a.rhs_axes):
        shape[la % node.ndim] = rshape[ra % len(rshape)]
    ctx.add("Expand", [node.inputs[0], ctx.ints(shape)], node.outputs[:1])


def _fill_like(value):
    def rule(ctx, node):
        v = node.attrs.fill_value if value is None else value
        dt = node.out_dtypes[0]
        t = ctx.onnx.numpy_helper.from_array(np.asarray([v], dtype=dt), "value")
        ctx.add("ConstantOfShape", [ctx.add("Shape", [node.inputs[0]])], node.outputs[:1], value=t)
    return rule


onnx_rule("zeros_like")(_fill_like(0))
onnx_rule("ones_like")(_fill_like(1))
onnx_rule("_full_like")(_fill_like(None))


@onnx_rule("shape_array")
def _shape_array(ctx, node):
    cast(ctx, ctx.add("Shape", node.inputs[:1]), np.int64, node.out_dtypes[0], node.outputs[0])


@onnx_rule("size_array")
def _size_array(ctx, node):
    s = reshape(ctx, ctx.add("Size", node.inputs[:1]), [1])
    cast(ctx, s, np.int64, node.out_dtypes[0], node.outputs[0])


# -- indexing -------------------------------------------------------------------------------------
def indices(ctx, idx, dtype, n, mode):
    """Indices as int64 in [0, n): clipped (mode clip) or wrapped (mode wrap)."""
    if dtype != np.int64:
        idx = ctx.add("Cast", [idx], to=ctx.onnx.TensorProto.INT64)
    if mode == "wrap":
        return ctx.add("Mod", [idx, ctx.scalar(n, np.int64)], fmod=0)
    return ctx.add("Clip", [idx, ctx.scalar(0, np.int64), ctx.scalar(n - 1, np.int64)])


@onnx_rule("take")
def _take(ctx, node):
    axis = node.attrs.axis % node.ndim
    idx = indices(ctx, node.inputs[1], node.in_dtypes[1], node.in_shapes[0][axis],
                   node.attrs.mode)
    ctx.add("Gather", [node.inputs[0], idx], node.outputs[:1], axis=axis)


@onnx_rule("pick")
def _pick(ctx, node):
    a = node.attrs
    axis = a.axis % node.ndim
    idx = indices(ctx, node.inputs[1], node.in_dtypes[1], node.in_shapes[0][axis], a.mode)
    if len(node.in_shapes[1]) < node.ndim:
        idx = unsqueeze(ctx, idx, [axis])
    g = ctx.add("GatherElements", [node.inputs[0], idx], axis=axis)
    if len(node.out_shapes[0]) == node.ndim:
        ctx.add("Identity", [g], node.outputs[:1])
    else:
        squeeze(ctx, g, [axis], out=node.outputs[0])


@onnx_rule("one_hot")
def _one_hot(ctx, node):
    a = node.attrs
    dt = node.out_dtypes[0]
    idx = node.inputs[0]
    if node.in_dtypes[0] != np.int64:
        idx = ctx.add("Cast", [idx], to=ctx.onnx.TensorProto.INT64)
    # MXNet: an index outside [0, depth) gives a row of off_value; ONNX wraps negative ones
    depth = ctx.scalar(a.depth, np.int64)
    idx = ctx.add("Where", [ctx.add("Less", [idx, ctx.scalar(0, np.int64)]), depth, idx])
    if a.depth == 0:  # an empty last axis (onnxruntime rejects OneHot with depth 0)
        shape = ctx.add("Concat", [ctx.add("Shape", [node.inputs[0]]), ctx.ints([0])], axis=0)
        t = ctx.onnx.numpy_helper.from_array(np.zeros(1, dt), "value")
        ctx.add("ConstantOfShape", [shape], node.outputs[:1], value=t)
        return
    # onnxruntime's OneHot writes float32 or int64 only: other dtypes go through float32
    work = dt if dt in (np.dtype(np.float32), np.dtype(np.int64)) else np.dtype(np.float32)
    vals = ctx.const(np.array([a.off_value, a.on_value], dtype=work), "one_hot_values")
    if work == dt:
        ctx.add("OneHot", [idx, depth, vals], node.outputs[:1], axis=-1)
    else:
        cast(ctx, ctx.add("OneHot", [idx, depth, vals], axis=-1), work, dt, node.outputs[0])


@onnx_rule("gather_nd")
def _gather_nd(ctx, node):
    # MXNet: index tuples along axis 0 of indices, trunc(i + n) % n; ONNX: along the last axis
    idx, ish = node.inputs[1], node.in_shapes[1]
    k = len(ish)
    n = np.array(node.in_shapes[0][:ish[0]], np.int64).reshape((-1,) + (1,) * (k - 1))
    if node.in_dtypes[1].kind == "f":
        idx = ctx.add("Add", [idx, ctx.const(n.astype(node.in_dtypes[1]), "gather_n")])
    if node.in_dtypes[1] != np.int64:
        idx = ctx.add("Cast", [idx], to=ctx.onnx.TensorProto.INT64)
    idx = ctx.add("Mod", [idx, ctx.const(n, "gather_n")], fmod=0)
    if k > 1:
        idx = ctx.add("Transpose", [idx], perm=list(range(1, k)) + [0])
    ctx.add("GatherND", [node.inputs[0], idx], node.outputs[:1])


def _sort_axis(ctx, node):
    """(input, axis, axis length): axis None sorts the flattened input."""
    if node.attrs.axis is None:
        flat = ctx.add("Reshape", [node.inputs[0], ctx.ints([-1])])
        return flat, 0, int(np.prod(node.in_shapes[0]))
    axis = node.attrs.axis % node.ndim
    return node.inputs[0], axis, node.in_shapes[0][axis]


def _topk(ctx, x, k, axis, ascend):
    vals, inds = ctx.add("TopK", [x, ctx.ints([k])], 2, axis=axis,
                         largest=0 if ascend else 1, sorted=1)
    return vals, inds


@onnx_rule("topk")
def _topk_rule(ctx, node):
    a = node.attrs
    x, axis, n = _sort_axis(ctx, node)
    k = a.k if 0 < a.k <= n else n
    vals, inds = _topk(ctx, x, k, axis, a.is_ascend)
    if a.ret_typ == "value":
        ctx.add("Identity", [vals], node.outputs[:1])
    elif a.ret_typ == "indices":
        cast(ctx, inds, np.int64, node.out_dtypes[0], node.outputs[0])
    elif a.ret_typ == "both":
        ctx.add("Identity", [vals], node.outputs[:1])
        cast(ctx, inds, np.int64, node.out_dtypes[1], node.outputs[1])
    else:  # mask: 1 at the top-k positions of data, 0 elsewhere (output dtype)
        dt = node.out_dtypes[0]
        one = ctx.onnx.numpy_helper.from_array(np.ones(1, dt), "one")
        zero = ctx.onnx.numpy_helper.from_array(np.zeros(1, dt), "zero")
        zeros = ctx.add("ConstantOfShape", [ctx.add("Shape", [x])], value=zero)
        ones = ctx.add("ConstantOfShape", [ctx.add("Shape", [inds])], value=one)
        if a.axis is not None:
            ctx.add("ScatterElements", [zeros, inds, ones], node.outputs[:1], axis=axis)
            return
        m = ctx.add("ScatterElements", [zeros, inds, ones], axis=axis)
        ctx.add("Reshape", [m, ctx.add("Shape", [node.inputs[0]])], node.outputs[:1])


@onnx_rule("sort")
def _sort(ctx, node):
    x, axis, n = _sort_axis(ctx, node)
    vals, _ = _topk(ctx, x, n, axis, node.attrs.is_ascend)
    ctx.add("Identity", [vals], node.outputs[:1])


@onnx_rule("argsort")
def _argsort(ctx, node):
    x, axis, n = _sort_axis(ctx, node)
    _, inds = _topk(ctx, x, n, axis, node.attrs.is_ascend)
    cast(ctx, inds, np.int64, node.out_dtypes[0], node.outputs[0])
