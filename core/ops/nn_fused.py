"""Fused ops: a layer and the relu after it in one pass over the data.

- `_contrib_BatchNormWithReLU` (MXNet 1.9's contrib op, what gluon.nn.BatchNormReLU
  calls): BatchNorm, then max(out, 0), in the BatchNorm kernel's own pass.
- `_add_relu`: max(lhs + rhs, 0), a residual sum and its relu (no MXNet counterpart).

Both also stand in for their unfused pairs in inference graphs (core/graph/fuse.py): the
relu after a BatchNorm or a residual sum then costs no pass of its own over the tensor.
"""
import numpy as np

from . import native, sampling
from .nn_norm import bn_forward, bn_grad, bn_op, bn_ref
from .registry import OpDef, Sample, register
from .shape_rules import elemwise


def _relu_of_first(result):
    if isinstance(result, tuple):
        return (np.maximum(result[0], 0).astype(result[0].dtype),) + tuple(result[1:])
    return np.maximum(result, 0).astype(result.dtype)


def _bn_relu_forward(xp, a, ins, outs):
    bn_forward(xp, a, ins, outs, relu=True)


def _bn_relu_grad(F, a, ins, outs, og):
    # relu'(y) from the output: y > 0 exactly where the BatchNorm output was > 0
    return bn_grad(F, a, ins, outs, [F._backward_relu(og[0], outs[0])] + list(og[1:]))


register(bn_op(
    "_contrib_BatchNormWithReLU", _bn_relu_forward,
    lambda a, *ins: _relu_of_first(bn_ref(a, *ins)), _bn_relu_grad,
    "BatchNorm followed by relu, in one pass: max(BatchNorm(data, ...), 0) (the mean and "
    "var outputs, with output_mean_var, are BatchNorm's)."))


def _add_relu_forward(xp, a, ins, outs):
    lhs, rhs = ins
    out = outs[0]
    if native.usable(xp, lhs, rhs, out) and lhs.dtype == rhs.dtype == out.dtype:
        native.kernels().add_relu(lhs, rhs, out)
    else:
        with np.errstate(invalid="ignore"):
            xp.add(lhs, rhs, out=out)
            xp.maximum(out, 0, out=out)


def _add_relu_grad(F, a, ins, outs, og):
    g = F._backward_relu(og[0], outs[0])
    return [g, g]


def _add_relu_samples(dtype):
    v = sampling.values
    return [Sample([v(s, dtype, -3, 3, seed=i), v(s, dtype, -3, 3, seed=i + 7)])
            for i, s in enumerate([(3, 4), (2, 3, 2, 2), (5,), (1,)])]


register(OpDef(
    "_add_relu", inputs=("lhs", "rhs"), infer_shape=elemwise, forward=_add_relu_forward,
    dtypes="float", inplace=[(0, 0), (1, 0)], gradient=_add_relu_grad,
    reference=lambda a, x, y: np.maximum(x + y, 0).astype(x.dtype), samples=_add_relu_samples,
    doc="max(lhs + rhs, 0) in one pass: a residual sum and its relu."))
