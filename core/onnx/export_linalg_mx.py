"""ONNX export rules of MXNet's linalg_* ops (core/ops/linalg_mx.py, linalg_mx_tri.py):
_linalg_gemm / _linalg_gemm2 (MatMul with Transpose, Mul by alpha, Add of beta*C; rows at
any axis: Transposes move the row axis next to the last one and back), _linalg_det (Det)
and _linalg_inverse (Inverse is only in the com.microsoft domain: not exported).  The
other linalg ops have no ONNX counterpart and no rule: exporting them fails naming the op."""
from .export_context import onnx_rule


def _perm(ndim, ax):
    """The permutation moving axis `ax` to position ndim-2 (and its inverse)."""
    order = [i for i in range(ndim - 1) if i != ax] + [ax, ndim - 1]
    inv = [order.index(i) for i in range(ndim)]
    return order, inv


def _t_last(ctx, x, ndim):
    perm = list(range(ndim))
    perm[-2], perm[-1] = perm[-1], perm[-2]
    return ctx.add("Transpose", [x], perm=perm)


@onnx_rule("_linalg_gemm", "_linalg_gemm2")
def _gemm(ctx, node):
    a = node.attrs
    nd = len(node.in_shapes[0])
    ax = a.axis % nd
    order, inv = _perm(nd, ax)
    moved = ax != nd - 2
    xs = []
    for x, t in zip(node.inputs[:2], (a.transpose_a, a.transpose_b)):
        if moved:
            x = ctx.add("Transpose", [x], perm=order)
        xs.append(_t_last(ctx, x, nd) if t else x)
    y = ctx.add("MatMul", xs)
    dt = node.out_dtypes[0]
    if float(a.alpha) != 1.0:
        y = ctx.add("Mul", [y, ctx.scalar(a.alpha, dt)])
    if moved:
        y = ctx.add("Transpose", [y], perm=inv)
    out = node.outputs[:1]
    if node.op.name == "_linalg_gemm2":
        ctx.add("Identity", [y], out)
        return
    c = node.inputs[2]
    if float(a.beta) != 1.0:
        c = ctx.add("Mul", [c, ctx.scalar(a.beta, dt)])
    ctx.add("Add", [y, c], out)


@onnx_rule("_linalg_det")
def _det(ctx, node):
    if len(node.in_shapes[0]) == 2:  # MXNet: one matrix gives shape (1,)
        ctx.add("Reshape", [ctx.add("Det", node.inputs[:1]), ctx.ints([1])], node.outputs[:1])
    else:
        ctx.add("Det", node.inputs[:1], node.outputs[:1])
