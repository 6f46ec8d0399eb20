"""Normalization layers: BatchNorm here, with the helpers every normalization shares;
LayerNorm, InstanceNorm, GroupNorm in nn_norm_layer.py and L2Normalization, LRN, Dropout
in nn_norm2.py (both imported at the end of this module); all with their gradients.

MXNet 1.9 semantics kept here (checked against MXNet 1.9.1):
- BatchNorm in training mode (autograd train mode, attrs["__is_train__"]) with
  use_global_stats=False normalizes with the batch mean and biased variance; otherwise with
  the moving stats.  output_mean_var=True adds two outputs: the mean used and the inverse std
  1/sqrt(var + eps) used, in both modes (MXNet's native CPU kernel; its MKLDNN float32 path
  returns moving_var itself in inference, which is not copied).
- moving_mean/moving_var are updated as m = m*momentum + batch_stat*(1-momentum) (biased
  variance) in the BACKWARD pass of a training-mode BatchNorm, as MXNet's CPU kernels do
  (imperative autograd, hybridized blocks and executors alike): a training-mode forward
  without backward (validation under autograd.record() or train_mode(), Monte-Carlo dropout)
  leaves them alone.  bn_grad passes momentum to _backward_BatchNorm, which updates them
  from the batch statistics it recomputes for the gradient anyway.
- fix_gamma=True uses gamma = 1 and gives gamma a zero gradient.
- LayerNorm's extra outputs are (mean, std) with the normalized axis kept as size 1;
  GroupNorm's gamma/beta have shape (num_groups,) (one scale per group, as in MXNet 1.x) and
  its extra outputs have shape (N, num_groups).  Variances are biased everywhere.

Gradients: each op's rule calls a hidden `_backward_<op>` kernel (closed forms over arbitrary
axes are awkward with shape-agnostic registered ops); those are marked nondiff, so
second-order gradients through these layers are not available.
"""
import numpy as np

from ..base import fail
from . import native
from .params import Attrs, Param, non_negative
from .registry import BadSample, OpDef, Sample, first_input_type, register
from .sampling import values
from .shape_rules import normalize_axis

_FLOAT = ("float32", "float64")
_BWD_TOL = (1e-4, 1e-5)  # backward references are finite differences of the forward ones


# -- shared helpers ---------------------------------------------------------------------------
def _bshape(ndim, ax, c):
    s = [1] * ndim
    s[ax] = c
    return tuple(s)


def _check_param_shapes(shapes, names, c, what):
    for s, n in zip(shapes, names):
        if tuple(s) != (c,):
            fail(n, "shape %s does not match %s: expected (%d,)", tuple(s), what, c)


def _affine_norm_bwd(xp, og, x, gamma_b, red, eps, pred):
    """Gradient of out = xhat * gamma_b + beta_b, xhat normalized over axes `red` with its own
    mean and biased variance.  Returns dx, d(gamma_b) and d(beta_b) summed over axes `pred`."""
    mean = x.mean(axis=red, keepdims=True)
    var = x.var(axis=red, keepdims=True)
    invstd = 1.0 / xp.sqrt(var + eps)
    xhat = (x - mean) * invstd
    dxhat = og * gamma_b
    dx = invstd * (dxhat - dxhat.mean(axis=red, keepdims=True)
                   - xhat * (dxhat * xhat).mean(axis=red, keepdims=True))
    return dx, (og * xhat).sum(axis=pred), og.sum(axis=pred)


def fd_vjp(f, xs, og, wrt):
    """Reference gradients by central differences: d<og, f(xs)>/d xs[i] for i in wrt,
    in float64 (used by the hidden backward ops' references)."""
    xs = [np.array(x, dtype=np.float64) for x in xs]
    og = np.asarray(og, np.float64)

    def obj():
        return float((np.asarray(f(*xs), np.float64) * og).sum())
    res = []
    for i in wrt:
        g = np.zeros_like(xs[i])
        for j in np.ndindex(xs[i].shape):
            orig = xs[i][j]
            h = 1e-6 * max(1.0, abs(orig))
            xs[i][j] = orig + h
            fp = obj()
            xs[i][j] = orig - h
            fm = obj()
            xs[i][j] = orig
            g[j] = (fp - fm) / (2 * h)
        res.append(g)
    return res


def _types(nout):
    """Type rule: every input has input 0's float dtype; `nout(attrs)` outputs of it."""
    def rule(attrs, in_types):
        return first_input_type(attrs, in_types) * nout(attrs)
    return rule


def _omv(a):
    return 3 if a.get("output_mean_var") else 1


def _eps_param(default):
    return Param("float", default, "epsilon added to the variance", check=non_negative)


# -- BatchNorm --------------------------------------------------------------------------------
def _bn_shape(attrs, shapes):
    d = shapes[0]
    ax = normalize_axis(attrs.axis, len(d))
    c = d[ax]
    _check_param_shapes(shapes[1:5], ("gamma", "beta", "moving_mean", "moving_var"), c,
                        "the data's %d channels on axis %d" % (c, attrs.axis))
    return [tuple(d)] + ([(c,), (c,)] if attrs.get("output_mean_var") else [])


def _native_ok(xp, x, *arrays):
    """The compiled kernels (csrc/kernels_nn.cc) take these arrays: non-empty, one dtype."""
    return x.size > 0 and native.usable(xp, x, *arrays) and all(
        t.dtype == x.dtype for t in arrays)


def bn_forward(xp, a, ins, outs, relu=False):
    """BatchNorm's kernel; `relu`: then max(out, 0) in the same pass (BatchNormWithReLU)."""
    x, gamma, beta, mm, mv = ins
    ax = a.axis % x.ndim
    train = a.get("__is_train__", False) and not a.use_global_stats
    if _native_ok(xp, x, gamma, beta, mm, mv, outs[0]):
        # one pass per element (the batch stats: per channel, while it is in cache)
        if train:
            mean, var = xp.empty_like(mm), xp.empty_like(mv)
            native.kernels().bn_train_forward(x, gamma, beta, outs[0], mean, var, a.eps,
                                              bool(a.fix_gamma), ax, relu)
            invstd = 1.0 / xp.sqrt(var + a.eps)
        else:
            mean, var = mm, mv
            invstd = 1.0 / xp.sqrt(var + a.eps)
            scale = invstd if a.fix_gamma else gamma * invstd
            native.kernels().bn_affine(x, mean, scale, beta, outs[0], ax, relu)
    else:
        red = tuple(i for i in range(x.ndim) if i != ax)
        bs = _bshape(x.ndim, ax, x.shape[ax])
        if train:
            mean, var = x.mean(axis=red), x.var(axis=red)
        else:
            mean, var = mm, mv
        invstd = 1.0 / xp.sqrt(var + a.eps)
        scale = invstd if a.fix_gamma else gamma * invstd
        outs[0][...] = (x - mean.reshape(bs)) * scale.reshape(bs) + beta.reshape(bs)
        if relu:
            xp.maximum(outs[0], 0, out=outs[0])
    if len(outs) == 3:
        outs[1][...] = mean
        outs[2][...] = invstd


def bn_reference(a, x, gamma, beta, mm, mv, train=False):
    """NumPy BatchNorm: (out, mean_out, var_out, new_mm, new_mv)."""
    x = np.asarray(x)
    ax = a.axis % x.ndim
    xt = np.moveaxis(x, ax, -1).astype(np.float64)
    flat = xt.reshape(-1, xt.shape[-1])
    if train and not a.use_global_stats:
        mean = flat.mean(axis=0)
        var = ((flat - mean) ** 2).mean(axis=0)
    else:
        mean, var = mm.astype(np.float64), mv.astype(np.float64)
    g = np.ones_like(mean) if a.fix_gamma else gamma
    out = (xt - mean) / np.sqrt(var + a.eps) * g + beta
    out = np.moveaxis(out, -1, ax).astype(x.dtype)
    if train and not a.use_global_stats:
        o1, o2 = mean, 1 / np.sqrt(var + a.eps)
        nm = mm * a.momentum + mean * (1 - a.momentum)
        nv = mv * a.momentum + var * (1 - a.momentum)
    else:
        o1, o2, nm, nv = mm, 1 / np.sqrt(mv.astype(np.float64) + a.eps), mm, mv
    dt = x.dtype
    return out, o1.astype(dt), o2.astype(dt), nm.astype(dt), nv.astype(dt)


def bn_ref(a, *ins):
    r = bn_reference(a, *ins)
    return r[:3] if a.output_mean_var else r[0]


def bn_grad(F, a, ins, outs, og):
    x, gamma, _, mm, mv = ins
    glob = bool(a.use_global_stats or not a.get("__is_train__", False))
    # training: the moving stats are updated here, from the batch stats (MXNet's CPU order)
    dx, dg, db = F._backward_BatchNorm(og[0], x, gamma, mm, mv, eps=a.eps, fix_gamma=a.fix_gamma,
                                       use_global_stats=glob, axis=a.axis,
                                       momentum=None if glob else a.momentum)
    return [dx, dg, db, None, None]


def bn_samples(dtype):
    def ins(shape, ax=1, seed=0):
        c = shape[ax]
        return [values(shape, dtype, seed=seed), values((c,), dtype, 0.5, 1.5, seed + 1),
                values((c,), dtype, seed=seed + 2), values((c,), dtype, -1, 1, seed + 3),
                values((c,), dtype, 0.5, 1.5, seed + 4)]
    # the first four use the moving stats in training too (finite-difference checkable)
    return [Sample(ins((2, 3, 4)), dict(use_global_stats=True, fix_gamma=False)),
            Sample(ins((2, 3), seed=1), dict(use_global_stats=True)),
            Sample(ins((2, 4, 3), -1, 2), dict(use_global_stats=True, fix_gamma=False, axis=-1,
                                               output_mean_var=True)),
            Sample(ins((1, 2, 2, 2), seed=3), dict(use_global_stats=True, eps=1e-2,
                                                   fix_gamma=False)),
            Sample(ins((3, 2, 2, 3), seed=4), dict(output_mean_var=True)),
            Sample(ins((4, 5), 0, 5), dict(axis=0, fix_gamma=False, momentum=0.5))]


def bn_bad():
    x = np.ones((2, 3, 4), np.float32)
    c3, c4 = np.ones(3, np.float32), np.ones(4, np.float32)
    return [BadSample([x, c4, c3, c3, c3], match=("gamma", "(4,)", "(3,)")),
            BadSample([x, c3, c3, c3, np.ones((3, 1), np.float32)],
                      match=("moving_var", "(3, 1)")),
            BadSample([x, c3, c3, c3, c3], dict(eps=-1.0), match=("eps", ">= 0"))]


def bn_op(name, forward, reference, gradient, doc):
    """The OpDef of BatchNorm or a fused variant of it (same inputs, params, outputs)."""
    return OpDef(
        name, inputs=("data", "gamma", "beta", "moving_mean", "moving_var"),
        num_outputs=_omv, infer_type=_types(_omv), output_names=("output", "mean", "var"),
        params=_bn_params(), infer_shape=_bn_shape, forward=forward, dtypes=_FLOAT,
        test_dtypes=_FLOAT, mutates=(3, 4), inplace=[(0, 0)], train_aware=True,
        gradient=gradient, grad_inputs=(0, 1, 2), reference=reference, samples=bn_samples,
        bad_samples=bn_bad, tol=(2e-5, 2e-5), doc=doc)


def _bn_params():
    return {"eps": _eps_param(1e-3),
            "momentum": Param("float", 0.9, "momentum of the moving averages"),
            "fix_gamma": Param("bool", True, "use gamma = 1 (and give gamma a zero gradient)"),
            "use_global_stats": Param("bool", False, "normalize with the moving stats also "
                                      "in training"),
            "output_mean_var": Param("bool", False, "also output the mean and the inverse std"),
            "axis": Param("int", 1, "the channel axis"),
            "cudnn_off": Param("bool", False, "ignored"),
            "min_calib_range": Param("float", None, "quantization only; ignored"),
            "max_calib_range": Param("float", None, "quantization only; ignored")}


register(bn_op(
    "BatchNorm", bn_forward, bn_ref, bn_grad,
    "Batch normalization over every axis but `axis`: out = (data - mean) / sqrt(var + eps)"
    " * gamma + beta, with the batch's statistics in training (updating moving_mean and "
    "moving_var with `momentum`) and the moving statistics otherwise."))


def _bn_bwd_shape(attrs, shapes):
    d = shapes[1]
    if tuple(shapes[0]) != tuple(d):
        fail("ograd", "shape %s does not match the data's shape %s", tuple(shapes[0]), tuple(d))
    c = d[normalize_axis(attrs.axis, len(d))]
    _check_param_shapes(shapes[2:5], ("gamma", "moving_mean", "moving_var"), c,
                        "the data's %d channels on axis %d" % (c, attrs.axis))
    return [tuple(d), (c,), (c,)]


def _bn_bwd(xp, a, ins, outs):
    og, x, gamma, mm, mv = ins
    ax = a.axis % x.ndim
    update = a.get("momentum") is not None and not a.use_global_stats
    if _native_ok(xp, x, og, gamma, mm, mv, *outs):
        stats = (xp.empty_like(mm), xp.empty_like(mv)) if update else (None, None)
        native.kernels().bn_backward(og, x, gamma, mm, mv, outs[0], outs[1], outs[2], a.eps,
                                     bool(a.fix_gamma), bool(a.use_global_stats), ax, *stats)
        if update:
            _update_moving(mm, mv, *stats, a.momentum)
        return
    c = x.shape[ax]
    bs = _bshape(x.ndim, ax, c)
    red = tuple(i for i in range(x.ndim) if i != ax)
    g = xp.ones_like(gamma) if a.fix_gamma else gamma
    if a.use_global_stats:
        invstd = 1.0 / xp.sqrt(mv + a.eps)
        xhat = (x - mm.reshape(bs)) * invstd.reshape(bs)
        dx = og * (g * invstd).reshape(bs)
        dg, db = (og * xhat).sum(axis=red), og.sum(axis=red)
    else:
        dx, dg, db = _affine_norm_bwd(xp, og, x, g.reshape(bs), red, a.eps, red)
    if a.fix_gamma:
        dg = xp.zeros_like(gamma)
    outs[0][...], outs[1][...], outs[2][...] = dx, dg, db
    if update:
        _update_moving(mm, mv, x.mean(axis=red), x.var(axis=red), a.momentum)


def _update_moving(mm, mv, mean, var, m):
    """The moving averages, in place, from a training batch's mean and biased variance."""
    mm[...] = mm * m + mean * (1 - m)
    mv[...] = mv * m + var * (1 - m)


def _bn_bwd_ref(a, og, x, gamma, mm, mv):
    train = not a.use_global_stats
    a2 = Attrs(a, use_global_stats=False, momentum=0.9)

    def f(x_, g_, b_):
        return bn_reference(a2, x_, g_, b_, mm, mv, train)[0]
    beta = np.zeros_like(gamma)
    r = fd_vjp(f, [x, gamma, beta], og, (0, 1, 2))
    return tuple(t.astype(x.dtype) for t in r)


def _bn_bwd_samples(dtype):
    out = []
    for s in bn_samples(dtype)[:4] + bn_samples(dtype)[5:]:
        x, gamma, _, mm, mv = s.inputs
        at = {k: v for k, v in s.attrs.items() if k not in ("momentum", "output_mean_var")}
        for glob in (True, False):
            out.append(Sample([values(x.shape, dtype, seed=9), x, gamma, mm, mv],
                              dict(at, use_global_stats=glob)))
    return out


register(OpDef(
    "_backward_BatchNorm", inputs=("ograd", "data", "gamma", "moving_mean", "moving_var"),
    num_outputs=3, infer_type=_types(lambda a: 3),
    params={"eps": _eps_param(1e-3), "fix_gamma": Param("bool", True, "gamma fixed to 1"),
            "use_global_stats": Param("bool", False, "the forward used the moving stats "
                                      "(inference, or use_global_stats)"),
            "axis": Param("int", 1, "the channel axis"),
            "momentum": Param("float", None, "update moving_mean/moving_var with this momentum "
                              "from the batch stats (training; None: leave them)")},
    infer_shape=_bn_bwd_shape, forward=_bn_bwd, dtypes=_FLOAT, test_dtypes=_FLOAT,
    nondiff=True, mutates=(3, 4), inplace=[(0, 0)], reference=_bn_bwd_ref,
    samples=_bn_bwd_samples, tol=_BWD_TOL,
    bad_samples=lambda: [BadSample([np.ones((2, 4), np.float32), np.ones((2, 3), np.float32)]
                                   + [np.ones(3, np.float32)] * 3, match=("ograd", "(2, 4)"))],
    doc="Gradient of BatchNorm w.r.t. data, gamma and beta (batch statistics, or the moving "
        "ones when use_global_stats); with momentum, also the training update of the moving "
        "statistics, which MXNet does in BatchNorm's backward."))


from . import nn_norm_layer  # noqa: E402,F401  (LayerNorm, InstanceNorm, GroupNorm)
from . import nn_norm2  # noqa: E402,F401  (L2Normalization, LRN, Dropout)
