"""Input-filling rules for graph shape/type inference (what deferred initialisation needs).

An op's `infer_shape` runs forward only: it needs every input shape.  In a graph, the
weights are variables nobody gave a shape to, so MXNet's shape pass also runs each op's
rule "backwards": FullyConnected's weight is (num_hidden, in_units) once data is known.
This module attaches those rules to the existing OpDefs:

    op.infer_inputs(attrs, in_shapes, out_shapes) -> in_shapes
        in_shapes / out_shapes hold a tuple or None (unknown) each; the rule returns the
        input shapes it can determine (None where it cannot).  Known shapes it returns are
        compared with the given ones by core/graph/infer.py, which reports a mismatch as
        MXNet's "shape inconsistent" error naming the variable.
    op.infer_input_types(attrs, in_types, out_types) -> in_types      (same, for dtypes)

Ops without a rule get infer.py's defaults (a one-input op shaped like its input takes
its output's shape; input dtypes default to the other inputs' dtype).

These rules belong in the op definitions themselves (an `infer_inputs=` field of OpDef
next to `infer_shape`); they live here only because the op modules had other owners
when graph inference was written.  Move them there when those files are next edited.
"""
import numpy as np

from . import registry
from . import shape_rules
from .shape_rules import normalize_axis

_LAYOUT_C_LAST = ("NWC", "NHWC", "NDHWC")


def _attach(names, fn, attr="infer_inputs"):
    for n in names:
        try:
            op = registry.get(n)
        except Exception:  # op not registered in this build: nothing to attach to
            continue
        setattr(op, attr, fn)


def _size(shape):
    return int(np.prod(shape, dtype=np.int64))


# -- dense / conv ---------------------------------------------------------------------------------
def _fc(attrs, ins, outs):
    d = ins[0]
    if d is None or not d:
        return ins
    h = attrs.num_hidden
    k = _size(d[1:]) if attrs.flatten else d[-1]
    res = [d, (h, k)]
    if len(ins) > 2:
        res.append((h,))
    return res


def _conv_like(weight_shape):
    """The rule of a (data, weight[, bias]) op with weight_shape(attrs, data shape)."""
    def rule(attrs, ins, outs):
        d = ins[0]
        nd = len(attrs.kernel)
        if d is None or len(d) != nd + 2:
            return ins
        res = [d, weight_shape(attrs, d)]
        if len(ins) > 2:
            res.append((attrs.num_filter,))
        return res
    return rule


def _conv_weight(attrs, d):
    F, G = attrs.num_filter, attrs.num_group
    if attrs.get("layout") in _LAYOUT_C_LAST:
        return (F,) + tuple(attrs.kernel) + (d[-1] // G,)
    return (F, d[1] // G) + tuple(attrs.kernel)


_conv = _conv_like(_conv_weight)
_deconv = _conv_like(lambda a, d: (d[1], a.num_filter // a.num_group) + tuple(a.kernel))


def _deform(attrs, ins, outs):
    """The deformable convolutions: weight and bias as Convolution's; offset (and mask) from
    the output size (MXNet's rule wants them given; filling them costs nothing)."""
    d = ins[0]
    if d is None or len(d) != 4 or len(attrs.kernel) != 2:
        return ins
    from .nn_conv_impl import geometry, out_size
    k, s, dl, p = geometry(attrs, 2)
    oh, ow = out_size(d[2:], k, s, dl, p)
    taps = k[0] * k[1] * attrs.num_deformable_group
    maps = [(d[0], 2 * taps, oh, ow)] + ([(d[0], taps, oh, ow)] if "im2col_step" in attrs else [])
    if min(oh, ow) <= 0:  # the forward rule reports it
        maps = ins[1:1 + len(maps)]
    res = [d] + maps + [_conv_weight(attrs, d)]
    if len(ins) > len(res):
        res.append((attrs.num_filter,))
    return res


# -- normalisation --------------------------------------------------------------------------------
def _channels_on(axis_of):
    def rule(attrs, ins, outs):
        d = ins[0] if ins[0] is not None else (outs[0] if outs and outs[0] is not None else None)
        if d is None or not d:
            return ins
        try:
            c = d[axis_of(attrs, d)]
        except Exception:  # bad axis: the forward rule reports it with its own message
            return ins
        return [d] + [(c,)] * (len(ins) - 1)
    return rule


_bn = _channels_on(lambda a, d: normalize_axis(a.axis, len(d)))
_ln = _channels_on(lambda a, d: normalize_axis(a.axis, len(d)))
_in = _channels_on(lambda a, d: 1)


def _gn(attrs, ins, outs):
    d = ins[0] if ins[0] is not None else outs[0]
    if d is None:
        return ins
    return [d] + [(attrs.num_groups,)] * (len(ins) - 1)


def _prelu(attrs, ins, outs):
    d = ins[0] if ins[0] is not None else outs[0]
    if d is None or len(ins) < 2 or not d:
        return [d] + list(ins[1:])
    return [d, (d[1] if len(d) >= 2 else d[0],)]


def _embedding(attrs, ins, outs):
    return [ins[0], (attrs.input_dim, attrs.output_dim)]


# -- losses: the label's shape follows the data's --------------------------------------------------
def _softmax_output(attrs, ins, outs):
    d = ins[0] if ins[0] is not None else outs[0]
    if d is None or len(d) < 2:
        return [d, ins[1]]
    if attrs.multi_output:
        lab = (d[0], _size(d[2:]))
    else:
        lab = d[:-1]
    return [d, ins[1] if ins[1] is not None else lab]


def _regression(attrs, ins, outs):
    d = ins[0] if ins[0] is not None else outs[0]
    # the label may also be (N,) for data (N, 1): keep a given label, fill a missing one
    return [d, ins[1] if ins[1] is not None else d]


def _sce(attrs, ins, outs):
    d = ins[0]
    return [d, ins[1] if ins[1] is not None or d is None else (d[0],)]


# -- element-wise -----------------------------------------------------------------------------------
def _elemwise(attrs, ins, outs):
    """Every input and the output share one shape (MXNet's ElemwiseShape)."""
    known = next((s for s in list(ins) + list(outs) if s is not None), None)
    return [known if s is None else s for s in ins]


def _concat(attrs, ins, outs):
    """With the output and all but one input known, the missing input is the rest."""
    missing = [i for i, s in enumerate(ins) if s is None]
    out = outs[0] if outs else None
    if len(missing) != 1 or out is None:
        return ins
    try:
        d = normalize_axis(attrs.dim, len(out), "dim")
    except Exception:
        return ins
    rest = out[d] - sum(s[d] for s in ins if s is not None)
    if rest <= 0:
        return ins
    res = list(ins)
    res[missing[0]] = out[:d] + (rest,) + out[d + 1:]
    return res


_attach(["FullyConnected"], _fc)
_attach(["Convolution"], _conv)
_attach(["Deconvolution"], _deconv)
_attach(["_contrib_DeformableConvolution", "_contrib_ModulatedDeformableConvolution"], _deform)
_attach(["BatchNorm", "_contrib_BatchNormWithReLU"], _bn)
_attach(["LayerNorm"], _ln)
_attach(["InstanceNorm"], _in)
_attach(["GroupNorm"], _gn)
_attach(["LeakyReLU"], _prelu)
_attach(["Embedding"], _embedding)
_attach(["SoftmaxOutput"], _softmax_output)
_attach(["LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"],
        _regression)
_attach(["softmax_cross_entropy"], _sce)
_attach(["add_n", "ElementWiseSum"], _elemwise)
for _op in registry.all_ops():  # every fixed-arity op using the shared elemwise rule
    if _op.infer_shape is shape_rules.elemwise and not hasattr(_op, "infer_inputs"):
        _op.infer_inputs = _elemwise
_attach(["Concat"], _concat)


# -- dtypes ----------------------------------------------------------------------------------------
def _embedding_types(attrs, ins, outs):
    return [ins[0], attrs.dtype]


def _no_fill(attrs, ins, outs):
    return ins


_attach(["Embedding"], _embedding_types, "infer_input_types")
_attach(["Cast", "amp_cast"], _no_fill, "infer_input_types")
