"""ONNX export rules of core/ops/index_ops_mx*.py: _split_v2, batch_take, khatri_rao and
_np_cumsum (cumsum).  _ravel_multi_index / _unravel_index (truncating integer arithmetic)
and _histogram (data-dependent counts) have no rule: exporting them fails naming the op."""
import numpy as np

from .export_context import onnx_rule, reshape, squeeze, unsqueeze
from .export_math import cast


@onnx_rule("_split_v2")
def _split_v2(ctx, node):
    a = node.attrs
    axis = a.axis % node.ndim
    n = node.in_shapes[0][axis]
    if a.sections > 0:
        q, r = divmod(n, a.sections)
        sizes = [q + (1 if k < r else 0) for k in range(a.sections)]
    else:
        bounds = list(a.indices) + [n]
        sizes = [hi - lo for lo, hi in zip(bounds[:-1], bounds[1:])]
    if 0 in sizes:
        ctx.fail(node, "empty pieces (sizes %s) are not supported" % (sizes,))
    if len(sizes) == 1:
        x = node.inputs[0]
        if a.squeeze_axis:
            squeeze(ctx, x, [axis], out=node.outputs[0])
        else:
            ctx.add("Identity", [x], node.outputs[:1])
        return
    if a.squeeze_axis:
        parts = ctx.add("Split", [node.inputs[0], ctx.ints(sizes)], len(sizes), axis=axis)
        for p, o in zip(parts, node.outputs):
            squeeze(ctx, p, [axis], out=o)
    else:
        ctx.add("Split", [node.inputs[0], ctx.ints(sizes)], node.outputs, axis=axis)


@onnx_rule("batch_take")
def _batch_take(ctx, node):
    rows, cols = node.in_shapes[0]
    idx = cast(ctx, node.inputs[1], node.in_dtypes[1], "int64")
    idx = ctx.add("Max", [ctx.add("Min", [idx, ctx.scalar(cols - 1, "int64")]),
                          ctx.scalar(0, "int64")])  # MXNet clips out-of-range indices
    idx = reshape(ctx, idx, [rows, 1])
    picked = ctx.add("GatherElements", [node.inputs[0], idx], axis=1)
    reshape(ctx, picked, list(node.out_shapes[0]) or [1], out=node.outputs[0])


@onnx_rule("khatri_rao")
def _khatri_rao(ctx, node):
    cols = node.in_shapes[0][1]
    acc = node.inputs[0]
    if len(node.inputs) == 1:
        ctx.add("Identity", [acc], node.outputs[:1])
        return
    for k, m in enumerate(node.inputs[1:], 2):
        prod = ctx.add("Mul", [unsqueeze(ctx, acc, [1]), unsqueeze(ctx, m, [0])])
        acc = reshape(ctx, prod, [-1, cols], out=node.outputs[0] if k == len(node.inputs)
                      else None)


@onnx_rule("_np_cumsum")
def _cumsum(ctx, node):
    odt = node.out_dtypes[0]
    if np.dtype(odt).kind in "iu" and np.dtype(odt).itemsize < 4:
        ctx.fail(node, "%s cumsum is not supported (ONNX CumSum has no such type)" % odt)
    x = cast(ctx, node.inputs[0], node.in_dtypes[0], odt)
    axis = node.attrs.axis
    if axis is None:
        x = reshape(ctx, x, [-1])
        axis = 0
    ctx.add("CumSum", [x, ctx.scalar(axis, "int64")], node.outputs[:1])
