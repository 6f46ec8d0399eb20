"""Fused ops: two ops in one pass over the data.

- `_contrib_BatchNormWithReLU` (MXNet 1.9's contrib op, what gluon.nn.BatchNormReLU
  calls): BatchNorm, then max(out, 0), in the BatchNorm kernel's own pass.
- `_add_relu`: max(lhs + rhs, 0), a residual sum and its relu (no MXNet counterpart).
- `_log_softmax_pick`: pick(log_softmax(x), j), the sparse-label cross-entropy of
  gluon.loss.SoftmaxCrossEntropyLoss, without writing the log_softmax array; its gradient
  (onehot - softmax) * ograd is one more pass (instead of _backward_pick's scatter into
  zeros and log_softmax's backward over them).

They stand in for their unfused pairs in hybridized graphs (core/graph/fuse.py), training
ones too: the relu gradients take their mask from the fused op's output.
"""
import numpy as np

from ..base import fail
from . import native, registry, sampling
from .index_utils import _mode_index
from .indexing import _pick_ref, _pick_shape, _pick_shapes
from .nn_norm import bn_forward, bn_grad, bn_op, bn_ref
from .nn_softmax import softmax_ref, softmax_xp
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


# -- pick(log_softmax(x), j): a sparse-label cross-entropy in two passes per row -------------
# Outputs: the picked log-probabilities, and `shift`, each row's max m and log-sum-exp ls of
# x - m (x's shape with 2 along the axis), so that the backward recomputes y = x - m - ls
# with one exp per element, bitwise the forward's.  shift is differentiable like any output
# (its gradient is zeros when nothing reads it, which the kernel takes as the usual case).
def _lsm_pick_rows(xp, a, x, idx):
    """(axis, the picked indices shaped like pick's kept-dims output, whether the compiled
    row kernels apply: the last axis, one float dtype, C-contiguous data)."""
    ax, kept, _ = _pick_shapes(a, x.shape)
    j = _mode_index(xp, idx.reshape(kept), x.shape[ax], a.mode)
    return ax, j, ax == x.ndim - 1 and x.size > 0 and native.usable(xp, x)


def _shift_xp(xp, x, ax):
    m = xp.max(x, axis=ax, keepdims=True)
    with np.errstate(invalid="ignore", over="ignore"):
        ls = xp.log(xp.sum(xp.exp(x - m), axis=ax, keepdims=True))
    return m, ls


def _lsm_pick_forward(xp, a, ins, outs):
    x, idx = ins
    ax, j, fast = _lsm_pick_rows(xp, a, x, idx)
    out, shift = outs
    if fast and native.usable(xp, out, shift) and out.dtype == shift.dtype == x.dtype:
        K = x.shape[-1]
        native.kernels().log_softmax_pick(x.reshape(-1, K), j.reshape(-1).astype(np.int64),
                                          out.reshape(-1, 1), shift.reshape(-1, 2))
        return
    m, ls = _shift_xp(xp, x, ax)
    picked = xp.take_along_axis(x, j, axis=ax)
    out[...] = ((picked - m) - ls).reshape(out.shape)
    shift[...] = xp.concatenate([m, ls], axis=ax)


def _lsm_pick_backward(xp, a, ins, outs):
    og, x, idx, shift, dshift = ins
    ax, j, fast = _lsm_pick_rows(xp, a, x, idx)
    gx = outs[0]
    if (fast and native.usable(xp, og, shift, dshift, gx)
            and og.dtype == shift.dtype == dshift.dtype == gx.dtype == x.dtype):
        K = x.shape[-1]
        native.kernels().log_softmax_pick_backward(
            og.reshape(-1, 1), x.reshape(-1, K), j.reshape(-1).astype(np.int64),
            shift.reshape(-1, 2), dshift.reshape(-1, 2), gx.reshape(-1, K))
        return
    m, ls = xp.split(shift, 2, axis=ax)
    dm, dls = xp.split(dshift, 2, axis=ax)
    g = og.reshape(j.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        gx[...] = xp.exp((x - m) - ls) * (dls - g)
    _add_at(xp, gx, j, g, ax)
    _add_at(xp, gx, xp.expand_dims(xp.argmax(x, axis=ax), ax), dm - dls, ax)


def _add_at(xp, a, j, v, ax):
    """a[..., j, ...] += v along ax (one position per row)."""
    xp.put_along_axis(a, j, xp.take_along_axis(a, j, axis=ax) + v, axis=ax)


def _lsm_pick_shape(a, shapes):
    ds = tuple(shapes[0])
    ax = _pick_shapes(a, ds)[0]
    return _pick_shape(a, shapes) + [ds[:ax] + (2,) + ds[ax + 1:]]


def _lsm_pick_ref(a, x, idx):
    ax = a.axis % x.ndim
    x64 = x.astype(np.float64)
    m = x64.max(axis=ax, keepdims=True)
    ls = np.log(np.exp(x64 - m).sum(axis=ax, keepdims=True))
    out = _pick_ref(a, (x64 - m) - ls, idx).astype(x.dtype)
    return out, np.concatenate([m, ls], axis=ax).astype(x.dtype)


def _lsm_pick_bwd_ref(a, og, x, idx, shift, dshift):
    ax = a.axis % x.ndim
    p = softmax_ref(x.astype(np.float64), ax)
    j = _mode_index(np, idx.reshape(_pick_shapes(a, x.shape)[1]), x.shape[ax], a.mode)
    dm, dls = np.split(dshift.astype(np.float64), 2, axis=ax)
    onehot, top = np.zeros_like(p), np.zeros_like(p)
    np.put_along_axis(onehot, j, 1.0, axis=ax)
    np.put_along_axis(top, np.expand_dims(x.argmax(axis=ax), ax), 1.0, axis=ax)
    g = og.reshape(j.shape)
    return ((onehot - p) * g + p * dls + top * (dm - dls)).astype(x.dtype)


def _lsm_pick_grad(F, a, ins, outs, og):
    return [F._backward_log_softmax_pick(og[0], ins[0], ins[1], outs[1], og[1], axis=a.axis,
                                         keepdims=a.keepdims, mode=a.mode), None]


def _lsm_pick_bwd_shape(a, shapes):
    gs, ds, ish, ss, dss = shapes
    want, shift = _lsm_pick_shape(a, [ds, ish])
    for name, got, exp in (("ograd", gs, want), ("shift", ss, shift),
                           ("shift_grad", dss, shift)):
        if tuple(got) != tuple(exp):
            fail(name, "shape %s does not match the expected %s for data %s", tuple(got),
                 tuple(exp), tuple(ds))
    return [tuple(ds)]


def _lsm_pick_samples(dtype):
    v = sampling.values
    x = v((2, 3, 5), dtype, -3, 3)
    i23 = np.array([[0, 1.6, -2], [4, 2, 7]], np.float32)
    return [Sample([x, i23]), Sample([x, i23], {"mode": "wrap", "keepdims": True}),
            Sample([x, np.array([[0, 1, 2, 3, 4], [2, 2, 0, 1, 0]], np.int32)], {"axis": 1}),
            Sample([v((4, 7), dtype, -5, 5, seed=3), np.array([6, 0, 3, 9], np.int64)])]


def _lsm_pick_bwd_samples(dtype):
    out = []
    for s in _lsm_pick_samples(dtype):
        x, idx = s.inputs
        a = registry.get("_log_softmax_pick").parse_attrs(s.attrs)
        shape = _pick_shape(a, [x.shape, idx.shape])[0]
        shift = _lsm_pick_ref(a, x, idx)[1]
        dshift = sampling.values(shift.shape, dtype, -1, 1, seed=6)
        if len(out) % 2:  # as in a graph where only the picked values are used
            dshift = np.zeros_like(dshift)
        out.append(Sample([sampling.values(shape, dtype, -2, 2, seed=5), x, idx, shift,
                           dshift], s.attrs))
    return out


def _float_data(position, n_out):
    def rule(a, types):
        if types[position].kind != "f":
            fail("data", "must be float16, float32 or float64, got %s", types[position].name)
        return [types[position]] * n_out
    return rule


def _pick_params():
    return dict(registry.get("pick").params)


register(OpDef(
    "_log_softmax_pick", inputs=("data", "index"), params=_pick_params(), num_outputs=2,
    output_names=("output", "shift"), infer_shape=_lsm_pick_shape,
    infer_type=_float_data(0, 2), forward=_lsm_pick_forward, dtypes="numeric",
    grad_inputs=(0,), gradient=_lsm_pick_grad, reference=_lsm_pick_ref,
    samples=_lsm_pick_samples,
    doc="pick(log_softmax(data, axis), index, axis, keepdims, mode) without the log_softmax "
        "array: the log-probability of each row's picked class; second output `shift`, each "
        "row's max and log-sum-exp of data - max (along axis: 2 values), for the gradient."))

register(OpDef(
    "_backward_log_softmax_pick", inputs=("ograd", "data", "index", "shift", "shift_grad"),
    params=_pick_params(), infer_shape=_lsm_pick_bwd_shape, infer_type=_float_data(1, 1),
    forward=_lsm_pick_backward, dtypes="numeric", nondiff=True, reference=_lsm_pick_bwd_ref,
    samples=_lsm_pick_bwd_samples,
    doc="The gradient of _log_softmax_pick w.r.t. data: ograd * (onehot(index) - "
        "softmax(data)) along `axis`, softmax from the forward's shift, in one pass per row "
        "(plus shift_grad's part: softmax * dls + onehot(argmax) * (dm - dls))."))
