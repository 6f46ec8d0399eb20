"""ONNX export rules of core/ops/misc_ops.py: add_n (ElementWiseSum), hard_sigmoid,
depth_to_space, space_to_depth, moments and argmax_channel."""
from ..ops.shape_rules import normalize_axes
from .export_context import onnx_rule, reduce, squeeze
from .export_math import cast


@onnx_rule("add_n")
def _add_n(ctx, node):
    xs, out = node.inputs, node.outputs[:1]
    if len(xs) == 1:
        ctx.add("Identity", xs, out)
    elif node.in_dtypes[0].kind == "f":
        ctx.add("Sum", xs, out)
    else:  # ONNX Sum is float-only: integers are added pairwise (wrapping as MXNet does)
        acc = xs[0]
        for k, x in enumerate(xs[1:], 2):
            acc = ctx.add("Add", [acc, x], out if k == len(xs) else None)


@onnx_rule("hard_sigmoid")
def _hard_sigmoid(ctx, node):
    # ONNX's alpha/beta are floats, as MXNet's are (float64 data sees the float32 values)
    ctx.add("HardSigmoid", node.inputs[:1], node.outputs[:1], alpha=float(node.attrs.alpha),
            beta=float(node.attrs.beta))


@onnx_rule("depth_to_space")
def _depth_to_space(ctx, node):
    ctx.add("DepthToSpace", node.inputs[:1], node.outputs[:1],
            blocksize=int(node.attrs.block_size), mode="DCR")


@onnx_rule("space_to_depth")
def _space_to_depth(ctx, node):
    ctx.add("SpaceToDepth", node.inputs[:1], node.outputs[:1],
            blocksize=int(node.attrs.block_size))


@onnx_rule("moments")
def _moments(ctx, node):
    if node.in_dtypes[0].kind != "f":
        ctx.fail(node, "integer moments (truncated integer mean) are not supported")
    a, x = node.attrs, node.inputs[0]
    axes = list(normalize_axes(a.axes, node.ndim, "axes"))
    full = len(axes) == node.ndim
    mean = reduce(ctx, "ReduceMean", x, axes, keepdims=True)
    d = ctx.add("Sub", [x, mean])
    var = reduce(ctx, "ReduceMean", ctx.add("Mul", [d, d]), axes, keepdims=True)
    for k, y in enumerate((mean, var)):
        out = node.outputs[k]
        if a.keepdims:
            ctx.add("Identity", [y], [out])
        elif full:  # MXNet: a full reduction is shape (1,)
            ctx.add("Reshape", [y, ctx.ints([1])], [out])
        else:
            squeeze(ctx, y, axes, out=out)


@onnx_rule("argmax_channel")
def _argmax_channel(ctx, node):
    y = ctx.add("ArgMax", node.inputs[:1], axis=1, keepdims=0, select_last_index=0)
    cast(ctx, y, "int64", node.out_dtypes[0], out=node.outputs[0])
