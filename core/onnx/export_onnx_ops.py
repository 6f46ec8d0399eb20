"""ONNX export rules for the ops the ONNX importer adds (_onnx_reshape, _onnx_cumulative,
_onnx_scatter_*) and Gluon's _rnn_param_concat, so an imported model exports again."""
import numpy as np

from .export_math import cast
from .export_context import onnx_rule


@onnx_rule("_onnx_reshape")
def _onnx_reshape(ctx, node):
    shape = list(node.attrs.shape)
    if 0 in shape and ctx.opset < 14:
        ctx.fail(node, "a reshape to a 0-size shape is not supported before opset 14")
    ctx.add("Reshape", [node.inputs[0], ctx.ints(shape)], node.outputs[:1],
            allowzero=1 if 0 in shape else None)


@onnx_rule("_onnx_reshape_as")
def _onnx_reshape_as(ctx, node):
    ctx.add("Reshape", [node.inputs[0], ctx.add("Shape", [node.inputs[1]])], node.outputs[:1],
            allowzero=1 if ctx.opset >= 14 else None)


@onnx_rule("_onnx_cumulative")
def _onnx_cumulative(ctx, node):
    a = node.attrs
    op = {"sum": "CumSum", "prod": "CumProd"}.get(a.op)
    if op is None or (op == "CumProd" and ctx.opset < 26):
        ctx.fail(node, "cumulative %s is not supported at this opset (CumProd needs 26)" % a.op)
    ctx.add(op, [node.inputs[0], ctx.scalar(a.axis, np.int64)], node.outputs[:1],
            exclusive=int(a.exclusive), reverse=int(a.reverse))


def _scatter(op_type):
    def rule(ctx, node):
        a = node.attrs
        red = a.reduction
        if red != "none" and ctx.opset < (18 if red in ("max", "min") else 16):
            ctx.fail(node, "reduction=%s is not supported at this opset (16+, max/min 18+)"
                     % red)
        idx = cast(ctx, node.inputs[1], node.in_dtypes[1], np.int64)
        kw = {"axis": a.axis} if op_type == "ScatterElements" else {}
        ctx.add(op_type, [node.inputs[0], idx, node.inputs[2]], node.outputs[:1],
                reduction=None if red == "none" else red, **kw)
    return rule


onnx_rule("_onnx_scatter_elements")(_scatter("ScatterElements"))
onnx_rule("_onnx_scatter_nd")(_scatter("ScatterND"))


@onnx_rule("_rnn_param_concat")
def _rnn_param_concat(ctx, node):
    flat = [ctx.add("Reshape", [x, ctx.ints([-1])]) for x in node.inputs]
    ctx.add("Concat", flat, node.outputs[:1], axis=0)


@onnx_rule("_onnx_bitwise")
def _onnx_bitwise(ctx, node):
    op = node.attrs.op
    if op in ("left_shift", "right_shift"):  # ONNX BitShift: unsigned integers only
        if node.in_dtypes[0].kind != "u":
            ctx.fail(node, "a shift of signed integers is not supported (ONNX BitShift: uint)")
        ctx.add("BitShift", node.inputs[:2], node.outputs[:1],
                direction="LEFT" if op == "left_shift" else "RIGHT")
        return
    if ctx.opset < 18:
        ctx.fail(node, "bitwise ops are not supported before opset 18")
    ctx.add({"and": "BitwiseAnd", "or": "BitwiseOr", "xor": "BitwiseXor"}[op],
            node.inputs[:2], node.outputs[:1])


@onnx_rule("_onnx_bitwise_not")
def _onnx_bitwise_not(ctx, node):
    if ctx.opset < 18:
        ctx.fail(node, "BitwiseNot is not supported before opset 18")
    ctx.add("BitwiseNot", node.inputs[:1], node.outputs[:1])


@onnx_rule("_onnx_einsum")
def _onnx_einsum(ctx, node):
    ctx.add("Einsum", node.inputs, node.outputs[:1], equation=node.attrs.equation)


@onnx_rule("_onnx_grid_sample")
def _onnx_grid_sample(ctx, node):
    a = node.attrs
    if ctx.opset < 20:  # GridSample 16 is 4-d only, with other mode names
        ctx.fail(node, "GridSample is not supported before opset 20")
    ctx.add("GridSample", node.inputs[:2], node.outputs[:1], mode=a.mode,
            padding_mode=a.padding_mode, align_corners=int(a.align_corners))
