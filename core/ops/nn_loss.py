"""Output (loss) layers: SoftmaxOutput, the *RegressionOutput ops, MakeLoss, BlockGrad.
The losses smooth_l1 and softmax_cross_entropy live in nn_loss_fns.py (imported at the end
of this module).

The output layers' backward is by definition not the derivative of their forward (the
forward is softmax / identity / sigmoid; the backward is the loss gradient against the
label), and it IGNORES the head gradient, as in MXNet: `fd_check=False`, and the tests
compare them with MXNet's gradients (tests/fixtures/ops/nn_act_loss.npz).  Each has a
hidden `_backward_*` op computing that gradient from (output, label).

MXNet 1.9 semantics kept here (checked against MXNet 1.9.1):
- SoftmaxOutput: multi_output -> softmax over axis 1, label (n, prod(rest)), data.shape
  without axis 1, or that with a 1 at axis 1; preserve_shape -> over the last axis, label
  data.shape[:-1]; otherwise the forward is a softmax over each flattened instance
  (n, -1) and the label is data.shape[:-1] (for 2-d data: (n,)); the backward uses the
  first n labels (flattened), truncated to integers; a label outside [0, k) subtracts
  nothing; use_ignore zeroes positions whose label == ignore_label; normalization
  'batch' divides by the label count (multi_output: by n), 'valid' by the number of
  labels != ignore_label (also without use_ignore; at least 1), and for multi_output
  'null' and 'batch' also divide by the spatial size; smooth_alpha subtracts 1 - alpha
  at the label and adds alpha / (k - 1) elsewhere;
- out_grad=True multiplies by the head gradient (MXNet 1.9 imperatively multiplies by its
  own output instead, a buffer-sharing bug not copied);
- *RegressionOutput: label shape == data shape, or same size with the same first
  dimension; gradient (out - label) * grad_scale / (label.size / label.shape[0]) (MAE:
  sign(out - label)); the label gets no gradient;
- MakeLoss: gradient grad_scale / n where n is 1 ('null'), data.shape[0] ('batch') or the
  count of data > valid_thresh, at least 1 ('valid').
"""
import numpy as np

from ..base import fail
from .nn_softmax import softmax_xp, softmax_ref
from .params import Param
from .registry import BadSample, OpDef, Sample, register
from .sampling import values
from .shape_rules import same_as_input

_IGNORE = dict(all="ignore")


def _labels(dtype, n, k, seed, shape=None):
    r = np.random.default_rng(seed)
    lab = r.integers(0, k, size=shape or (n,))
    return lab.astype(dtype)


# -- SoftmaxOutput ------------------------------------------------------------------------------
_SO_PARAMS = {
    "grad_scale": Param("float", 1.0, doc="Scales the gradient."),
    "ignore_label": Param("float", -1.0, doc="Label ignored in backward when use_ignore."),
    "multi_output": Param("bool", False, doc="Softmax along axis 1 (label per position)."),
    "use_ignore": Param("bool", False, doc="Labels == ignore_label get no gradient."),
    "preserve_shape": Param("bool", False, doc="Softmax along the last axis."),
    "normalization": Param("str", "null", choices=("batch", "null", "valid"),
                           doc="How the gradient is normalised."),
    "out_grad": Param("bool", False, doc="Multiply the gradient by the head gradient."),
    "smooth_alpha": Param("float", 0.0, doc="Label smoothing constant for backward."),
}


def _so_shape(attrs, shapes):
    d, lab = tuple(shapes[0]), tuple(shapes[1])
    if len(d) < 2:
        fail("data", "expected at least 2 dimensions (batch, classes), got shape %s", d)
    if attrs.multi_output:
        n = d[0]
        rest = int(np.prod(d[2:], dtype=np.int64)) if len(d) > 2 else 1
        ok = [(n, rest), (n,) + d[2:], (n, 1) + d[2:]]
        if lab not in ok:
            fail("label", "shape %s does not match data shape %s (expected one of %s)",
                 lab, d, ", ".join(str(s) for s in ok))
    elif lab != d[:-1]:
        fail("label", "shape %s does not match data shape %s (expected %s)", lab, d, d[:-1])
    return [d]


def _so_rows(attrs, x):
    """(rows, classes[, spatial]) view used by SoftmaxOutput's forward."""
    if attrs.multi_output:
        return x.reshape(x.shape[0], x.shape[1], -1), 1
    if attrs.preserve_shape:
        return x.reshape(-1, x.shape[-1]), 1
    return x.reshape(x.shape[0], -1), 1


def _so_forward(xp, a, ins, outs):
    x = ins[0]
    v, ax = _so_rows(a, x)
    outs[0][...] = softmax_xp(xp, v, ax).reshape(x.shape)


def _so_ref(a, x, label):
    v, ax = _so_rows(a, x)
    return softmax_ref(v, ax).reshape(x.shape).astype(x.dtype)


def _so_backward(xp, a, ins, outs):
    """(softmax - smoothed one-hot(label)) * scale, from the forward output."""
    out, label = ins[0], ins[1]
    if a.multi_output:
        y = out.reshape(out.shape[0], out.shape[1], -1)          # (n, k, s)
        lab = label.reshape(out.shape[0], 1, -1)                  # (n, 1, s)
    else:
        y = out.reshape(-1, out.shape[-1]) if a.preserve_shape else out.reshape(out.shape[0], -1)
        lab = label.reshape(-1)[:y.shape[0]].reshape(-1, 1)      # (rows, 1)
    k = y.shape[1]
    li = lab.astype(np.int64)
    cls = xp.arange(k).reshape((1, k) + (1,) * (y.ndim - 2))
    hit = cls == li
    alpha = a.smooth_alpha
    if alpha:
        target = xp.where(hit, 1.0 - alpha, alpha / (k - 1))
    else:
        target = hit
    g = y - target.astype(y.dtype)
    labels_all = label.reshape(-1)
    if a.use_ignore:
        g = g * (lab != a.ignore_label)
    if a.normalization == "valid":
        cnt = max(int(xp.sum(labels_all != a.ignore_label)), 1)
    elif a.normalization == "batch":
        cnt = out.shape[0] if a.multi_output else labels_all.size
    else:
        cnt = 1
    scale = a.grad_scale / cnt
    if a.multi_output and a.normalization != "valid":
        scale /= y.shape[2]
    outs[0][...] = (g * y.dtype.type(scale)).reshape(out.shape)


def _so_backward_ref(a, out, label):
    """Loop form of the same rule (independent of the kernel's vectorisation)."""
    out64 = out.astype(np.float64)
    if a.multi_output:
        n, k = out.shape[0], out.shape[1]
        y = out64.reshape(n, k, -1)
        lab = label.reshape(n, -1)
        g = np.zeros_like(y)
        for i in range(n):
            for j in range(y.shape[2]):
                g[i, :, j] = _so_row_grad(a, y[i, :, j], lab[i, j])
        valid = np.sum(label != a.ignore_label)
        norm = {"valid": max(valid, 1), "batch": n * y.shape[2], "null": y.shape[2]}
    else:
        y = out64.reshape(-1, out.shape[-1]) if a.preserve_shape else out64.reshape(out.shape[0], -1)
        lab = label.reshape(-1)
        g = np.stack([_so_row_grad(a, y[i], lab[i]) for i in range(y.shape[0])])
        norm = {"valid": max(np.sum(label != a.ignore_label), 1), "batch": label.size, "null": 1}
    return (g * a.grad_scale / norm[a.normalization]).reshape(out.shape).astype(out.dtype)


def _so_row_grad(a, p, label):
    k = p.shape[0]
    if a.use_ignore and label == a.ignore_label:
        return np.zeros(k)
    t = np.full(k, a.smooth_alpha / (k - 1) if a.smooth_alpha else 0.0)
    li = int(label)
    if 0 <= li < k:
        t[li] = 1.0 - a.smooth_alpha
    return p - t


def _so_grad(F, attrs, ins, outs, g):
    gx = F._backward_SoftmaxOutput(outs[0], ins[1], **dict(attrs))
    if attrs.out_grad:
        gx = gx * g[0]
    return [gx, None]


def _so_samples(dtype):
    v = values
    return [
        Sample([v((3, 4), dtype), _labels(dtype, 3, 4, 0)]),
        Sample([v((4, 3), dtype, seed=1), np.array([0, 2, -1, 1], dtype)],
               {"use_ignore": True, "normalization": "valid", "grad_scale": 2.0}),
        Sample([v((2, 3, 2), dtype, seed=2), _labels(dtype, 2, 3, 1, (2, 2))],
               {"multi_output": True, "normalization": "batch"}),
        Sample([v((2, 2, 3), dtype, seed=3), _labels(dtype, 2, 3, 2, (2, 2))],
               {"preserve_shape": True, "smooth_alpha": 0.1}),
        Sample([v((2, 3, 2), dtype, seed=4), _labels(dtype, 2, 3, 3, (2, 1, 2))],
               {"multi_output": True, "use_ignore": True, "ignore_label": 1.0}),
        Sample([v((2, 2, 3), dtype, seed=5), _labels(dtype, 2, 3, 4, (2, 2))]),
    ]


def _so_bad():
    x = np.ones((2, 3), np.float32)
    return [BadSample([x, np.ones((3,), np.float32)], {}, match=("label", "(3,)", "(2,)")),
            BadSample([np.ones((3,), np.float32), np.ones((1,), np.float32)], {},
                      match=("data", "(3,)")),
            BadSample([np.ones((2, 3, 4), np.float32), np.ones((2, 3), np.float32)],
                      {"multi_output": True}, match=("label", "(2, 3)")),
            BadSample([x, np.ones((2,), np.float32)], {"normalization": "all"},
                      match=("normalization", "all"))]


register(OpDef(
    "SoftmaxOutput", aliases=("Softmax",), inputs=("data", "label"), params=_SO_PARAMS,
    infer_shape=_so_shape, forward=_so_forward, dtypes="float", reference=_so_ref,
    samples=_so_samples, bad_samples=_so_bad, gradient=_so_grad, fd_check=False,
    grad_inputs=(0,),
    doc="Softmax output layer: the forward is a softmax; the backward is the cross-entropy "
        "gradient softmax - one_hot(label) (scaled and normalised), ignoring the head "
        "gradient."))

register(OpDef(
    "_backward_SoftmaxOutput", inputs=("output", "label"), params=_SO_PARAMS,
    infer_shape=lambda a, s: [s[0]], forward=_so_backward, dtypes="float",
    reference=_so_backward_ref,
    samples=lambda dt: [Sample([_so_ref(_parse(s.attrs), *s.inputs), s.inputs[1]], s.attrs)
                        for s in _so_samples(dt)],
    nondiff=True, doc="SoftmaxOutput's gradient w.r.t. data from its output and label."))


def _parse(kw):
    from .registry import get
    return get("SoftmaxOutput").parse_attrs(kw)


# -- regression outputs --------------------------------------------------------------------------
def _reg_shape(attrs, shapes):
    d, lab = tuple(shapes[0]), tuple(shapes[1])
    if not d:
        fail("data", "expected at least 1 dimension, got shape %s", d)
    size = lambda s: int(np.prod(s, dtype=np.int64))
    if lab != d and (not lab or lab[0] != d[0] or size(lab) != size(d)):
        fail("label", "shape %s does not match data shape %s (same shape, or same size and "
             "first dimension expected)", lab, d)
    return [d]


_REG = {  # name: (hidden backward op, forward, reference forward, backward rule on (out - label))
    "LinearRegressionOutput": ("_backward_linear_reg_out", lambda xp, x: x, lambda x: x,
                               lambda xp, d: d),
    "LogisticRegressionOutput": ("_backward_logistic_reg_out",
                                 lambda xp, x: 1 / (1 + xp.exp(-x)),
                                 lambda x: 1.0 / (1.0 + np.exp(-x)), lambda xp, d: d),
    "MAERegressionOutput": ("_backward_mae_reg_out", lambda xp, x: x, lambda x: x,
                            lambda xp, d: xp.sign(d)),
}


def _reg_samples(dtype):
    v = values
    return [Sample([v((3, 2), dtype), v((3, 2), dtype, 0, 1, seed=1)]),
            Sample([v((4, 1), dtype, seed=2), v((4,), dtype, 0, 1, seed=3)], {"grad_scale": 2.0}),
            Sample([v((2, 3, 2), dtype, seed=4), v((2, 6), dtype, 0, 1, seed=5)]),
            Sample([v((5,), dtype, seed=6), v((5,), dtype, 0, 1, seed=7)], {"grad_scale": 0.5})]


def _reg_bad():
    x = np.ones((2, 3), np.float32)
    return [BadSample([x, np.ones((3, 2), np.float32)], {}, match=("label", "(3, 2)", "(2, 3)")),
            BadSample([x, np.ones((2, 4), np.float32)], {}, match=("label", "(2, 4)"))]


def _make_reg(name, bname, fwd, ref, rule):
    def forward(xp, a, ins, outs):
        with np.errstate(**_IGNORE):
            outs[0][...] = fwd(xp, ins[0])

    def backward(xp, a, ins, outs):
        out, label = ins
        num = label.size // label.shape[0] if label.size else 1
        d = out - label.reshape(out.shape)
        outs[0][...] = rule(xp, d) * out.dtype.type(a.grad_scale / num)

    def backward_ref(a, out, label):
        d = out.astype(np.float64) - label.astype(np.float64).reshape(out.shape)
        if name == "MAERegressionOutput":
            d = np.sign(d)
        return (d * a.grad_scale / (label.size / label.shape[0])).astype(out.dtype)

    def gradient(F, attrs, ins, outs, g):
        return [getattr(F, bname)(outs[0], ins[1], grad_scale=attrs.grad_scale), None]

    params = {"grad_scale": Param("float", 1.0, doc="Scale the gradient.")}
    register(OpDef(
        name, inputs=("data", "label"), params=params, infer_shape=_reg_shape,
        forward=forward, dtypes="float", reference=lambda a, x, lab: ref(
            x.astype(np.float64)).astype(x.dtype),
        samples=_reg_samples, bad_samples=_reg_bad, gradient=gradient, fd_check=False,
        grad_inputs=(0,),
        doc="%s: the forward is %s; the backward is %s * grad_scale / (label.size / "
            "label.shape[0]), ignoring the head gradient." % (
                name, "sigmoid(data)" if "Logistic" in name else "the identity",
                "sign(out - label)" if "MAE" in name else "(out - label)")))
    register(OpDef(
        bname, inputs=("output", "label"), params=dict(params), infer_shape=_reg_shape,
        forward=backward, dtypes="float", reference=backward_ref, samples=_reg_samples,
        nondiff=True, doc="%s's gradient w.r.t. data from its output and label." % name))


for _n, (_b, _f, _r, _rule) in _REG.items():
    _make_reg(_n, _b, _f, _r, _rule)


# -- MakeLoss, BlockGrad -------------------------------------------------------------------------
_ML_PARAMS = {
    "grad_scale": Param("float", 1.0, doc="Gradient scale."),
    "valid_thresh": Param("float", 0.0, doc="Elements > valid_thresh count as valid."),
    "normalization": Param("str", "null", choices=("batch", "null", "valid"),
                           doc="Divide the gradient by 1, the batch size or the valid count."),
}


def _ml_count(xp, a, x):
    if a.normalization == "batch":
        return x.shape[0] if x.ndim else 1
    if a.normalization == "valid":
        return max(int(xp.sum(x > a.valid_thresh)), 1)
    return 1


def _ml_backward(xp, a, ins, outs):
    outs[0][...] = a.grad_scale / _ml_count(xp, a, ins[0])


def _ml_samples(dtype):
    v = values
    return [Sample([v((3, 2), dtype)]), Sample([v((4, 3), dtype, seed=1)], {"normalization": "batch"}),
            Sample([v((2, 3), dtype, seed=2)], {"normalization": "valid", "valid_thresh": 0.5}),
            Sample([v((5,), dtype, seed=3)], {"grad_scale": 3.0})]


register(OpDef(
    "MakeLoss", params=_ML_PARAMS, infer_shape=same_as_input,
    forward=lambda xp, a, ins, outs: outs[0].__setitem__(Ellipsis, ins[0]), dtypes="float",
    reference=lambda a, x: x.copy(), samples=_ml_samples,
    gradient=lambda F, a, ins, outs, g: [F._backward_MakeLoss(ins[0], **dict(a))],
    fd_check=False,
    doc="Marks its input as a loss: the forward is the identity; the gradient is "
        "grad_scale (divided by the batch size or the valid count with normalization), "
        "ignoring the head gradient."))

register(OpDef(
    "_backward_MakeLoss", params=dict(_ML_PARAMS), infer_shape=same_as_input,
    forward=_ml_backward, dtypes="float",
    reference=lambda a, x: np.full(x.shape, a.grad_scale / {
        "null": 1, "batch": x.shape[0],
        "valid": max(int(np.sum(x > a.valid_thresh)), 1)}[a.normalization], x.dtype),
    samples=_ml_samples, nondiff=True, doc="MakeLoss's gradient (a constant fill)."))

register(OpDef(
    "make_loss", infer_shape=same_as_input,
    forward=lambda xp, a, ins, outs: outs[0].__setitem__(Ellipsis, ins[0]), dtypes="float",
    inplace=[(0, 0)], reference=lambda a, x: x.copy(),
    samples=lambda dt: [Sample([values((3, 4), dt)]), Sample([values((5,), dt, seed=1)])],
    gradient=lambda F, a, ins, outs, g: [F.ones_like(ins[0])], fd_check=False,
    doc="MXNet's make_loss: the identity in the forward; marks its input as a loss whose "
        "gradient is ones (the head gradient is ignored; MakeLoss has the scaling options)."))

register(OpDef(
    "BlockGrad", aliases=("stop_gradient",), infer_shape=same_as_input,
    forward=lambda xp, a, ins, outs: outs[0].__setitem__(Ellipsis, ins[0]), dtypes="all",
    inplace=[(0, 0)], reference=lambda a, x: x.copy(),
    samples=lambda dt: [Sample([values((3, 4), dt)]), Sample([values((5,), dt, seed=1)])],
    test_dtypes=("float32", "float64", "int32"), nondiff=True,
    doc="The identity in the forward; stops gradients from flowing back through it."))


from . import nn_loss_fns  # noqa: E402,F401  (smooth_l1, softmax_cross_entropy)
