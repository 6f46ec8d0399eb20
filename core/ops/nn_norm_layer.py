"""LayerNorm, InstanceNorm and GroupNorm, with their gradients (imported by nn_norm.py,
whose module doc gives the MXNet 1.9 semantics kept): one layout each, shared kernels, and
the hidden `_backward_<op>` kernel of each.
"""
import numpy as np

from ..base import fail
from .nn_norm import (_BWD_TOL, _FLOAT, _affine_norm_bwd, _bshape, _check_param_shapes,
                      _eps_param, _omv, _types, fd_vjp)
from .params import Attrs, Param
from .registry import BadSample, OpDef, Sample, register
from .sampling import values
from .shape_rules import normalize_axis


# -- LayerNorm, InstanceNorm, GroupNorm: one layout each, shared kernels ------------------------
# layout(a, shape) -> (rshape, red, gshape, pred): data is viewed as `rshape`, normalized over
# axes `red`; gamma/beta broadcast as `gshape`; their gradients sum over axes `pred`.
def _ln_layout(a, shape):
    ax = a.axis % len(shape)
    return (shape, (ax,), _bshape(len(shape), ax, shape[ax]),
            tuple(i for i in range(len(shape)) if i != ax))


def _in_layout(a, shape):
    red = tuple(range(2, len(shape)))
    return shape, red, _bshape(len(shape), 1, shape[1]), (0,) + red


def _gn_layout(a, shape):
    n, g = shape[0], a.num_groups
    rest = int(np.prod(shape, dtype=np.int64)) // max(n * g, 1)
    return (n, g, rest), (2,), (1, g, 1), (0, 2)


def _norm_compute(layout, stats):
    """Kernel: out (and, with output_mean_var, `stats`(mean, std) reshaped to its outputs)."""
    def compute(xp, a, x, gamma, beta):
        rshape, red, gshape, _ = layout(a, x.shape)
        xr = x.reshape(rshape)
        mean = xr.mean(axis=red, keepdims=True)
        std = xp.sqrt(xr.var(axis=red, keepdims=True) + a.eps)
        out = ((xr - mean) / std * gamma.reshape(gshape) + beta.reshape(gshape)).reshape(x.shape)
        if not a.get("output_mean_var"):
            return out
        return (out,) + tuple(stats(a, x.shape, t) for t in (mean, std))
    return compute


def _norm_bwd_compute(layout):
    def compute(xp, a, og, x, gamma):
        rshape, red, gshape, pred = layout(a, x.shape)
        dx, dg, db = _affine_norm_bwd(xp, og.reshape(rshape), x.reshape(rshape),
                                      gamma.reshape(gshape), red, a.eps, pred)
        return dx.reshape(x.shape), dg.reshape(gamma.shape), db.reshape(gamma.shape)
    return compute


def _register_norm(name, layout, shape_rule, params, reference, samples, bad, stats, doc):
    keys = [k for k in params if k != "output_mean_var"]

    def grad(F, a, ins, outs, og):
        dx, dg, db = getattr(F, "_backward_" + name)(og[0], ins[0], ins[1],
                                                     **{k: a[k] for k in keys})
        return [dx, dg, db]

    def bwd_shape(a, shapes):
        if tuple(shapes[0]) != tuple(shapes[1]):
            fail("ograd", "shape %s does not match the data's shape %s", tuple(shapes[0]),
                 tuple(shapes[1]))
        shape_rule(a, shapes[1:] + shapes[2:])
        return [tuple(shapes[1]), tuple(shapes[2]), tuple(shapes[2])]

    omv = "output_mean_var" in params

    def bwd_ref(a, og, x, gamma):
        a2 = Attrs(a, output_mean_var=False) if omv else a
        r = fd_vjp(lambda *t: np.asarray(_as_tuple(reference(a2, *t))[0]),
                   [x, gamma, np.zeros_like(gamma)], og, (0, 1, 2))
        return tuple(t.astype(x.dtype) for t in r)

    def bwd_samples(dtype):
        return [Sample([values(s.inputs[0].shape, dtype, seed=7)] + s.inputs[:2],
                       {k: v for k, v in s.attrs.items() if k != "output_mean_var"})
                for s in samples(dtype)]
    register(OpDef(
        name, inputs=("data", "gamma", "beta"),
        num_outputs=_omv if omv else 1, infer_type=_types(_omv),
        output_names=("output", "mean", "std") if omv else None,
        params=params, infer_shape=shape_rule, compute=_norm_compute(layout, stats),
        dtypes=_FLOAT, test_dtypes=_FLOAT, gradient=grad, reference=reference, samples=samples,
        bad_samples=bad, doc=doc))
    register(OpDef(
        "_backward_" + name, inputs=("ograd", "data", "gamma"), num_outputs=3,
        infer_type=_types(lambda a: 3),
        params={k: params[k] for k in keys}, infer_shape=bwd_shape,
        compute=_norm_bwd_compute(layout), dtypes=_FLOAT, test_dtypes=_FLOAT, nondiff=True,
        reference=bwd_ref, samples=bwd_samples, tol=_BWD_TOL,
        bad_samples=lambda: [BadSample([np.ones((2, 4), np.float32), np.ones((2, 3), np.float32),
                                        np.ones(3, np.float32)], match=("ograd", "(2, 4)"))],
        doc="Gradient of %s w.r.t. data, gamma and beta." % name))


def _as_tuple(r):
    return r if isinstance(r, tuple) else (r,)


def _norm_samples(specs):
    """specs: [(data shape, gamma length or None for shape[1], attrs)]."""
    def gen(dtype):
        out = []
        for i, (shape, c, attrs) in enumerate(specs):
            c = c(shape) if callable(c) else c
            out.append(Sample([values(shape, dtype, seed=i), values((c,), dtype, 0.5, 1.5, i + 1),
                               values((c,), dtype, seed=i + 2)], attrs))
        return out
    return gen


def _ref_norm(x, axes, eps):
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=axes, keepdims=True)
    var = ((x64 - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x64 - mean) / np.sqrt(var + eps), mean, np.sqrt(var + eps)


# LayerNorm
def _ln_shape(a, shapes):
    d = tuple(shapes[0])
    ax = normalize_axis(a.axis, len(d))
    _check_param_shapes(shapes[1:3], ("gamma", "beta"), d[ax],
                        "the data's size %d on axis %d" % (d[ax], a.axis))
    keep = d[:ax] + (1,) + d[ax + 1:]
    return [d] + ([keep, keep] if a.get("output_mean_var") else [])


def _ln_ref(a, x, gamma, beta):
    ax = a.axis % x.ndim
    xh, mean, std = _ref_norm(x, ax, a.eps)
    s = _bshape(x.ndim, ax, x.shape[ax])
    out = (xh * gamma.reshape(s) + beta.reshape(s)).astype(x.dtype)
    return (out, mean.astype(x.dtype), std.astype(x.dtype)) if a.output_mean_var else out


_register_norm(
    "LayerNorm", _ln_layout, _ln_shape,
    {"axis": Param("int", -1, "the axis to normalize over"), "eps": _eps_param(1e-5),
     "output_mean_var": Param("bool", False, "also output the mean and the std")},
    # (the first four have no mean/std outputs, whose gradients MXNet blocks: FD-checkable)
    _ln_ref, _norm_samples([((2, 3, 4), 4, {}), ((2, 3, 2), 3, dict(axis=1, eps=1e-3)),
                            ((5,), 5, dict(axis=0)), ((4, 3), 4, dict(axis=-2)),
                            ((3, 4), 3, dict(axis=0, output_mean_var=True)),
                            ((2, 3, 4, 2), 4, dict(axis=2, output_mean_var=True))]),
    lambda: [BadSample([np.ones((2, 3), np.float32), np.ones(2, np.float32),
                        np.ones(3, np.float32)], match=("gamma", "(2,)", "(3,)"))],
    lambda a, shape, t: t,
    "Layer normalization over `axis`: out = (data - mean) / sqrt(var + eps) * gamma + beta; "
    "with output_mean_var also the mean and std (the axis kept as size 1).")


# InstanceNorm
def _in_shape(a, shapes):
    d = tuple(shapes[0])
    if len(d) < 2:
        fail("data", "expected at least 2 dimensions (batch, channel, ...), got shape %s", d)
    _check_param_shapes(shapes[1:3], ("gamma", "beta"), d[1], "the data's %d channels" % d[1])
    return [d]


def _in_ref(a, x, gamma, beta):
    xh = _ref_norm(x, tuple(range(2, x.ndim)), a.eps)[0]
    s = _bshape(x.ndim, 1, x.shape[1])
    return (xh * gamma.reshape(s) + beta.reshape(s)).astype(x.dtype)


_register_norm(
    "InstanceNorm", _in_layout, _in_shape, {"eps": _eps_param(1e-3)}, _in_ref,
    _norm_samples([((2, 3, 4), lambda s: s[1], {}), ((1, 2, 3, 2), lambda s: s[1], {}),
                   ((3, 2, 5), lambda s: s[1], dict(eps=1e-2)), ((2, 3), lambda s: s[1], {})]),
    lambda: [BadSample([np.ones((4,), np.float32), np.ones(4, np.float32),
                        np.ones(4, np.float32)], match=("data", "(4,)")),
             BadSample([np.ones((2, 3, 4), np.float32), np.ones(3, np.float32),
                        np.ones(4, np.float32)], match=("beta", "(4,)"))],
    None,
    "Instance normalization: each (sample, channel) slice of data (N, C, ...) is normalized "
    "over the remaining axes, then scaled by gamma[C] and shifted by beta[C].")


# GroupNorm
def _gn_shape(a, shapes):
    d = tuple(shapes[0])
    if len(d) < 3:
        fail("data", "expected at least 3 dimensions (batch, channel, spatial...), got shape %s",
             d)
    if d[1] % a.num_groups:
        fail("num_groups", "the data's %d channels are not divisible by num_groups=%d",
             d[1], a.num_groups)
    _check_param_shapes(shapes[1:3], ("gamma", "beta"), a.num_groups,
                        "num_groups=%d" % a.num_groups)
    return [d] + ([(d[0], a.num_groups)] * 2 if a.get("output_mean_var") else [])


def _gn_ref(a, x, gamma, beta):
    n, g = x.shape[0], a.num_groups
    xg = x.reshape(n, g, -1)
    xh, mean, std = _ref_norm(xg, 2, a.eps)
    out = (xh * gamma[None, :, None] + beta[None, :, None]).reshape(x.shape).astype(x.dtype)
    if a.output_mean_var:
        return out, mean.reshape(n, g).astype(x.dtype), std.reshape(n, g).astype(x.dtype)
    return out


_register_norm(
    "GroupNorm", _gn_layout, _gn_shape,
    {"num_groups": Param("int", 1, "number of channel groups", check=lambda v: None if v >= 1
                         else "must be >= 1"),
     "eps": _eps_param(1e-5),
     "output_mean_var": Param("bool", False, "also output the mean and the std")},
    _gn_ref, _norm_samples([((2, 4, 3), 2, dict(num_groups=2)), ((1, 4, 1), 4, dict(num_groups=4)),
                            ((3, 2, 4), 1, {}), ((2, 6, 2, 1), 3, dict(num_groups=3, eps=1e-3)),
                            ((2, 6, 2, 2), 3, dict(num_groups=3, output_mean_var=True))]),
    lambda: [BadSample([np.ones((2, 4, 3), np.float32), np.ones(3, np.float32),
                        np.ones(3, np.float32)], dict(num_groups=3), match=("num_groups", "4")),
             BadSample([np.ones((2, 4), np.float32), np.ones(1, np.float32),
                        np.ones(1, np.float32)], match=("data", "(2, 4)")),
             BadSample([np.ones((2, 4, 3), np.float32), np.ones(4, np.float32),
                        np.ones(4, np.float32)], dict(num_groups=2), match=("gamma", "(4,)")),
             BadSample([np.ones((2, 4, 3), np.float32), np.ones(1, np.float32),
                        np.ones(1, np.float32)], dict(num_groups=0), match=("num_groups", ">= 1"))],
    lambda a, shape, t: t.reshape(shape[0], a.num_groups),
    "Group normalization: the channels of data (N, C, ...) are split into num_groups groups, "
    "each (sample, group) is normalized, then scaled and shifted by gamma/beta of shape "
    "(num_groups,) (MXNet 1.x).  With output_mean_var also the mean and std, shape (N, groups).")
