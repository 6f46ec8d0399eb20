"""ONNX export rules: sequence ops (SequenceMask/Last/Reverse), NaN-ignoring reductions,
_take_along_axis, and the creation ops (_zeros, _ones, _full, _arange, _eye, _linspace).

Sequence lengths are truncated toward zero and clipped to [0, T] ([1, T] for SequenceLast),
as plait's kernels do.  Creation ops have no inputs, so the exporter folds them into
initializers before any rule runs; their rule below does the same for a direct call.
"""
import numpy as np

from .export_context import onnx_rule, reduce, reshape
from .export_math import cast, reduce_axes


def _lengths(ctx, node, lo):
    """sequence_length as int64, truncated and clipped to [lo, T]."""
    a = node.attrs
    t = node.in_shapes[0][a.axis]
    lens = cast(ctx, node.inputs[1], node.in_dtypes[1], np.int64)
    return ctx.add("Clip", [lens, ctx.scalar(lo, np.int64), ctx.scalar(t, np.int64)]), t


@onnx_rule("SequenceMask")
def _sequence_mask(ctx, node):
    a = node.attrs
    x, dt = node.inputs[0], node.in_dtypes[0]
    if not a.use_sequence_length:
        ctx.add("Identity", [x], node.outputs[:1])
        return
    lens, t = _lengths(ctx, node, 0)
    nd = node.ndim
    steps = np.arange(t, dtype=np.int64)
    if a.axis == 0:  # data (T, N, ...)
        steps = steps.reshape((t,) + (1,) * (nd - 1))
        lens = reshape(ctx, lens, [1, -1] + [1] * (nd - 2))
    else:            # data (N, T, ...)
        steps = steps.reshape((1, t) + (1,) * (nd - 2))
        lens = reshape(ctx, lens, [-1, 1] + [1] * (nd - 2))
    keep = ctx.add("Less", [ctx.const(steps, "steps"), lens])
    ctx.add("Where", [keep, x, ctx.scalar(a.value, dt)], node.outputs[:1])


@onnx_rule("SequenceLast")
def _sequence_last(ctx, node):
    a = node.attrs
    x = node.inputs[0]
    if not a.use_sequence_length:
        ctx.add("Gather", [x, ctx.scalar(-1, np.int64)], node.outputs[:1], axis=a.axis)
        return
    lens, _ = _lengths(ctx, node, 1)
    if a.axis == 0:  # to (N, T, ...)
        perm = [1, 0] + list(range(2, node.ndim))
        x = ctx.add("Transpose", [x], perm=perm)
    idx = reshape(ctx, ctx.add("Sub", [lens, ctx.scalar(1, np.int64)]), [-1, 1])
    ctx.add("GatherND", [x, idx], node.outputs[:1], batch_dims=1)


@onnx_rule("SequenceReverse")
def _sequence_reverse(ctx, node):
    a = node.attrs
    x = node.inputs[0]
    if not a.use_sequence_length:
        ctx.add("Slice", [x, ctx.ints([-1]), ctx.ints([np.iinfo(np.int64).min]),
                          ctx.ints([0]), ctx.ints([-1])], node.outputs[:1])
        return
    lens, _ = _lengths(ctx, node, 0)
    ctx.add("ReverseSequence", [x, lens], node.outputs[:1], batch_axis=1, time_axis=0)


def _nan_reduce(op_type, neutral):
    def rule(ctx, node):
        x, dt = node.inputs[0], node.in_dtypes[0]
        if dt.kind == "f":
            x = ctx.add("Where", [ctx.add("IsNaN", [x]), ctx.scalar(neutral, dt), x])
        axes = reduce_axes(node.attrs, node.ndim)
        if axes == []:
            ctx.add("Identity", [x], node.outputs[:1])
            return
        keep = node.attrs.keepdims
        n_red = node.ndim if axes is None else len(axes)
        to_shape = not keep and len(node.out_shapes[0]) != node.ndim - n_red
        y = reduce(ctx, op_type, x, axes, keep or to_shape)
        if to_shape:
            y = ctx.add("Reshape", [y, ctx.ints(node.out_shapes[0])])
        ctx.add("Identity", [y], node.outputs[:1])
    return rule


onnx_rule("nansum")(_nan_reduce("ReduceSum", 0))
onnx_rule("nanprod")(_nan_reduce("ReduceProd", 1))


@onnx_rule("_take_along_axis")
def _take_along_axis(ctx, node):
    x = node.inputs[0]
    if node.attrs.axis is None:  # NumPy: the flattened data
        x, axis, n = ctx.add("Reshape", [x, ctx.ints([-1])]), 0, int(np.prod(node.in_shapes[0]))
    else:
        axis = node.attrs.axis % node.ndim
        n = node.in_shapes[0][axis]
    idx = cast(ctx, node.inputs[1], node.in_dtypes[1], np.int64)
    idx = ctx.add("Mod", [idx, ctx.scalar(n, np.int64)], fmod=0)  # negative: from the end
    ctx.add("GatherElements", [x, idx], node.outputs[:1], axis=axis)


@onnx_rule("_zeros", "_ones", "_full", "_arange", "_eye", "_linspace")
def _creation(ctx, node):
    from .export import _fold_attrs
    value = _fold_attrs(node.op, node.attrs, [])[0]
    ctx.add("Identity", [ctx.const(value, node.name)], node.outputs[:1])
