"""Optimizer update ops, part 2: adam_update, rmsprop_update, rmspropalex_update, ftrl_update,
lamb_update_phase1 and lamb_update_phase2 (shared pieces and MXNet notes in optim_ops.py).

- adam_update has no bias correction (MXNet's Python Adam folds it into lr);
- ftrl_update's inputs are (weight, grad, z, n) and it writes z, then n;
- lamb_update_phase1's output is the update direction g (not a weight); phase 2 scales lr by
  r1/r2 (r1 clamped to [lower_bound, upper_bound] where those are >= 0; lr unchanged when
  r1 or r2 is 0).  r1 and r2 only need shape[0] == 1: MXNet reads their first element.
"""
import numpy as np

from ..base import fail
from . import native
from .optim_ops import (common_params, lr_param, make_samples, missing_lr, p, ref_grad,
                        rescaled, sign, update_op)
from .params import Param
from .registry import BadSample, Sample
from .sampling import values

_IGNORE = dict(all="ignore")


# -- adam --------------------------------------------------------------------------------------------
def _adam_fwd(xp, a, ins, outs):
    w, g, mean, var = ins
    lr, b1, b2, eps, wd, rs, cg = p(a, w.dtype, "lr", "beta1", "beta2", "epsilon", "wd",
                                    "rescale_grad", "clip_gradient")
    if native.usable(xp, w, g, mean, var, outs[0]):  # one dtype: the type rule, out= check
        native.kernels().adam_update(w, g, mean, var, outs[0], lr, b1, b2, eps, wd, rs, cg)
        return
    r = rescaled(xp, g, rs, cg, extra=w * wd)
    mean *= b1
    mean += (1 - b1) * r
    var *= b2
    r *= r
    r *= (1 - b2)
    var += r
    d = xp.sqrt(var)
    d += eps
    step = mean * lr
    step /= d
    outs[0][...] = w - step


def _adam_ref(a, w, g, mean, var):
    lr, b1, b2, eps, wd, rs, cg = p(a, w.dtype, "lr", "beta1", "beta2", "epsilon", "wd",
                                    "rescale_grad", "clip_gradient")
    r = ref_grad(g, rs, cg, extra=w * wd)
    mean[...] = b1 * mean + (1 - b1) * r
    var[...] = b2 * var + (1 - b2) * r * r
    return w - lr * mean / (np.sqrt(var) + eps)


_ADAM_ATTRS = [dict(lr=0.01), dict(lr=0.05, beta1=0.8, beta2=0.99, epsilon=1e-6, wd=0.1,
                                   rescale_grad=0.5, clip_gradient=0.3),
               dict(lr=0.1, wd=0.01, clip_gradient=1.0)]

update_op("adam_update", ("weight", "grad", "mean", "var"),
          dict(common_params(_before_wd=dict(
              beta1=Param("float", 0.9, "The decay rate for the 1st moment estimates."),
              beta2=Param("float", 0.999, "The decay rate for the 2nd moment estimates."),
              epsilon=Param("float", 1e-8, "A small constant for numerical stability."))),
              lazy_update=Param("bool", True, "Lazy update for row_sparse gradients "
                                "(ignored: dense only).")),
          _adam_fwd, _adam_ref, make_samples("wgsp", _ADAM_ATTRS), (2, 3),
          "Adam (no bias correction): g = clip(rescale_grad*grad + wd*weight); mean = "
          "beta1*mean + (1-beta1)*g; var = beta2*var + (1-beta2)*g^2; weight -= "
          "lr*mean/(sqrt(var) + epsilon).  Writes mean and var.",
          bad_samples=missing_lr("wgsp", {}))


# -- rmsprop (Tieleman & Hinton) and rmspropalex (Graves) -------------------------------------------
def _clip_w():
    return Param("float", -1.0, "Clip weights to [-clip_weights, clip_weights] when "
                 "clip_weights >= 0.")


def _rms_params(**decay):
    d = dict(lr=lr_param())
    d.update(decay)
    d.update(epsilon=Param("float", 1e-8, "A small constant for numerical stability."))
    base = common_params()
    del base["lr"]
    d.update(base)
    d.update(clip_weights=_clip_w())
    return d


def _rmsprop_fwd(xp, a, ins, outs):
    w, g, n = ins
    lr, g1, eps, wd, rs, cg, cw = p(a, w.dtype, "lr", "gamma1", "epsilon", "wd",
                                    "rescale_grad", "clip_gradient", "clip_weights")
    r = rescaled(xp, g, rs, cg, extra=w * wd)
    n *= g1
    n += (1 - g1) * (r * r)
    d = n + eps
    xp.sqrt(d, out=d)
    r /= d
    r *= lr
    new = w - r
    if cw >= 0:
        xp.clip(new, -cw, cw, out=new)
    outs[0][...] = new


def _rmsprop_ref(a, w, g, n):
    lr, g1, eps, wd, rs, cg, cw = p(a, w.dtype, "lr", "gamma1", "epsilon", "wd",
                                    "rescale_grad", "clip_gradient", "clip_weights")
    r = ref_grad(g, rs, cg, extra=wd * w)
    n[...] = (1 - g1) * r * r + g1 * n
    new = w - lr * r / np.sqrt(n + eps)
    return np.minimum(np.maximum(new, -cw), cw) if cw >= 0 else new


_RMS_ATTRS = [dict(lr=0.01), dict(lr=0.05, gamma1=0.9, epsilon=1e-6, wd=0.1, rescale_grad=0.5,
                                  clip_gradient=0.3, clip_weights=1.0),
              dict(lr=0.1, wd=0.01, clip_gradient=1.0)]

update_op("rmsprop_update", ("weight", "grad", "n"),
          _rms_params(gamma1=Param("float", 0.95, "The decay rate of momentum estimates.")),
          _rmsprop_fwd, _rmsprop_ref, make_samples("wgp", _RMS_ATTRS), (2,),
          "RMSProp: g = clip(rescale_grad*grad + wd*weight); n = (1-gamma1)*g^2 + gamma1*n; "
          "weight -= lr*g/sqrt(n + epsilon), then clip_weights.  Writes n.",
          bad_samples=missing_lr("wgp", {}))


def _alex_fwd(xp, a, ins, outs):
    w, g, n, gs, delta = ins
    lr, g1, g2, eps, wd, rs, cg, cw = p(a, w.dtype, "lr", "gamma1", "gamma2", "epsilon", "wd",
                                        "rescale_grad", "clip_gradient", "clip_weights")
    r = rescaled(xp, g, rs, cg, extra=w * wd)
    n *= g1
    n += (1 - g1) * (r * r)
    gs *= g1
    gs += (1 - g1) * r
    d = n - gs * gs
    d += eps
    with np.errstate(**_IGNORE):
        xp.sqrt(d, out=d)
    r *= lr
    r /= d
    delta *= g2
    delta -= r
    new = w + delta
    if cw >= 0:
        xp.clip(new, -cw, cw, out=new)
    outs[0][...] = new


def _alex_ref(a, w, g, n, gs, delta):
    lr, g1, g2, eps, wd, rs, cg, cw = p(a, w.dtype, "lr", "gamma1", "gamma2", "epsilon", "wd",
                                        "rescale_grad", "clip_gradient", "clip_weights")
    r = ref_grad(g, rs, cg, extra=wd * w)
    n[...] = (1 - g1) * r * r + g1 * n
    gs[...] = (1 - g1) * r + g1 * gs
    delta[...] = g2 * delta - lr * r / np.sqrt(n - gs * gs + eps)
    new = w + delta
    return np.minimum(np.maximum(new, -cw), cw) if cw >= 0 else new


def _alex_samples(dtype):
    """n must stay above g^2 (n - g^2 is a variance): n in [1, 2], g in [-0.5, 0.5]."""
    out = []
    for s in make_samples("wgpss", _RMS_ATTRS + [dict(lr=0.1, gamma2=0.5)])(dtype):
        w, g, n, gs, delta = s.inputs
        out.append(Sample([w, g, (n + 0.5).astype(dtype), (gs * 0.5).astype(dtype), delta],
                          s.attrs))
    return out


update_op("rmspropalex_update", ("weight", "grad", "n", "g", "delta"),
          _rms_params(gamma1=Param("float", 0.95, "Decay rate."),
                      gamma2=Param("float", 0.9, "Decay rate.")),
          _alex_fwd, _alex_ref, _alex_samples, (2, 3, 4),
          "RMSProp as in Graves (2013): n and g are running means of grad^2 and grad, "
          "delta = gamma2*delta - lr*grad/sqrt(n - g^2 + epsilon); weight += delta.  "
          "Writes n, g and delta.", bad_samples=missing_lr("wgsss", {}))


# -- ftrl --------------------------------------------------------------------------------------------
def _ftrl_fwd(xp, a, ins, outs):
    w, g, z, n = ins
    lr, l1, beta, wd, rs, cg = p(a, w.dtype, "lr", "lamda1", "beta", "wd", "rescale_grad",
                                 "clip_gradient")
    r = rescaled(xp, g, rs, cg)
    r2 = r * r
    sig = xp.sqrt(n + r2)
    sig -= xp.sqrt(n)
    sig *= w
    sig /= lr
    z += r
    z -= sig
    n += r2
    num = sign(xp, z) * l1
    num -= z
    den = xp.sqrt(n)
    den += beta
    den /= lr
    den += wd
    num /= den
    num *= xp.greater(xp.abs(z), l1)
    outs[0][...] = num


def _ftrl_ref(a, w, g, z, n):
    lr, l1, beta, wd, rs, cg = p(a, w.dtype, "lr", "lamda1", "beta", "wd", "rescale_grad",
                                 "clip_gradient")
    r = ref_grad(g, rs, cg)
    z[...] = z + r - (np.sqrt(n + r * r) - np.sqrt(n)) * w / lr
    n[...] = n + r * r
    sgn = np.where(z > 0, 1, np.where(z < 0, -1, 0)).astype(w.dtype)
    return np.where(np.abs(z) > l1, (sgn * l1 - z) / ((beta + np.sqrt(n)) / lr + wd),
                    0).astype(w.dtype)


update_op("ftrl_update", ("weight", "grad", "z", "n"),
          common_params(_before_wd=dict(
              lamda1=Param("float", 0.01, "The L1 regularization coefficient."),
              beta=Param("float", 1.0, "Per-Coordinate Learning Rate beta."))),
          _ftrl_fwd, _ftrl_ref,
          make_samples("wgsp", [dict(lr=0.1), dict(lr=0.05, lamda1=0.1, beta=0.5, wd=0.1,
                                                   rescale_grad=0.5, clip_gradient=0.3),
                                dict(lr=0.2, lamda1=0.5, wd=0.01, clip_gradient=1.0)]),
          (2, 3), "FTRL-Proximal: writes z and n; weight = (sign(z)*lamda1 - z) / "
          "((beta + sqrt(n))/lr + wd) where |z| > lamda1, else 0.",
          bad_samples=missing_lr("wgsp", {}))


# -- lamb ----------------------------------------------------------------------------------------------
def _bias(a, dt):
    """(1 - beta1**t, 1 - beta2**t): MXNet takes std::pow in double, then casts to dtype."""
    b1, b2 = (float(np.float32(a[k])) for k in ("beta1", "beta2"))
    return 1 - dt.type(b1 ** a["t"]), 1 - dt.type(b2 ** a["t"])


def _lamb1_fwd(xp, a, ins, outs):
    w, g, mean, var = ins
    dt = w.dtype
    b1, b2, eps, wd, rs, cg = p(a, dt, "beta1", "beta2", "epsilon", "wd", "rescale_grad",
                                "clip_gradient")
    r = rescaled(xp, g, rs, cg)
    mean *= b1
    mean += (1 - b1) * r
    var *= b2
    r *= r
    r *= (1 - b2)
    var += r
    if a["bias_correction"]:
        c1, c2 = _bias(a, dt)
        m, v = mean / c1, var / c2
    else:
        m, v = mean, var
    d = xp.sqrt(v)
    d += eps
    out = m / d
    out += wd * w
    outs[0][...] = out


def _lamb1_ref(a, w, g, mean, var):
    b1, b2, eps, wd, rs, cg = p(a, w.dtype, "beta1", "beta2", "epsilon", "wd", "rescale_grad",
                                "clip_gradient")
    r = ref_grad(g, rs, cg)
    mean[...] = b1 * mean + (1 - b1) * r
    var[...] = b2 * var + (1 - b2) * r * r
    m, v = mean, var
    if a.bias_correction:
        c1, c2 = _bias(a, w.dtype)
        m, v = mean / c1, var / c2
    return m / (np.sqrt(v) + eps) + wd * w


update_op("lamb_update_phase1", ("weight", "grad", "mean", "var"),
          dict(beta1=Param("float", 0.9, "The decay rate for the 1st moment estimates."),
               beta2=Param("float", 0.999, "The decay rate for the 2nd moment estimates."),
               epsilon=Param("float", 1e-6, "A small constant for numerical stability."),
               t=Param("int", doc="Index update count."),
               bias_correction=Param("bool", True, "Whether to use bias correction."),
               wd=Param("float", doc="Weight decay (L2 penalty) coefficient."),
               rescale_grad=Param("float", 1.0, "Rescale gradient to grad = "
                                  "rescale_grad*grad."),
               clip_gradient=Param("float", -1.0, "Clip gradient to [-clip_gradient, "
                                   "clip_gradient] when clip_gradient >= 0.")),
          _lamb1_fwd, _lamb1_ref,
          make_samples("wgsp", [dict(t=1, wd=0.0), dict(t=3, wd=0.1, beta1=0.8, beta2=0.99,
                                                        rescale_grad=0.5, clip_gradient=0.3),
                                dict(t=2, wd=0.01, bias_correction=False,
                                     clip_gradient=1.0)]),
          (2, 3), "LAMB phase 1: updates mean and var (Adam moments, written) and returns the "
          "direction g = mean_hat/(sqrt(var_hat) + epsilon) + wd*weight.",
          bad_samples=lambda: [BadSample([np.ones((2, 3), np.float32)] * 4, dict(wd=0.1),
                                         match=("t", "required"), note="t missing")])


def _lamb2_shape(attrs, shapes):
    w, g, r1, r2 = (tuple(s) for s in shapes)
    if g != w:
        fail("g", "shape %s does not match the weight's shape %s", g, w)
    for name, s in (("r1", r1), ("r2", r2)):
        if not s or s[0] != 1:
            fail(name, "shape %s is not allowed: %s must have shape (1,) (a norm)", s, name)
    return [w]


_lamb2_shape.bad_shapes = [[(2, 3), (3, 2), (1,), (1,)]]


def _lamb2_fwd(xp, a, ins, outs):
    w, g, r1, r2 = ins
    lr, lo, hi = p(a, w.dtype, "lr", "lower_bound", "upper_bound")
    n1 = r1[(0,) * r1.ndim]
    n2 = r2[(0,) * r2.ndim]
    if lo >= 0:
        n1 = xp.maximum(n1, lo)
    if hi >= 0:
        n1 = xp.minimum(n1, hi)
    with np.errstate(**_IGNORE):
        scaled = xp.where((n1 == 0) | (n2 == 0), lr, lr * n1 / n2).astype(w.dtype)
    outs[0][...] = w - scaled * g


def _lamb2_ref(a, w, g, r1, r2):
    lr, lo, hi = p(a, w.dtype, "lr", "lower_bound", "upper_bound")
    n1, n2 = r1.ravel()[0], r2.ravel()[0]
    if lo >= 0:
        n1 = max(n1, lo)
    if hi >= 0:
        n1 = min(n1, hi)
    if n1 != 0 and n2 != 0:
        lr = lr * n1 / n2
    return w - lr * g


def _lamb2_samples(dtype):
    out = []
    attrs = [dict(lr=0.1), dict(lr=0.05, lower_bound=0.5, upper_bound=1.5),
             dict(lr=0.2, upper_bound=0.3)]
    for i, shape in enumerate([(3, 4), (2, 3, 4), (5,), (1,)]):
        for j, at in enumerate(attrs):
            w = values(shape, dtype, -2, 2, seed=i + 10 * j)
            g = values(shape, dtype, -1, 1, seed=i + 10 * j + 1)
            r1 = np.array([np.linalg.norm(w) if j != 2 else 2.0], dtype)
            r2 = np.array([np.linalg.norm(g) if i != 3 else 0.0], dtype)
            out.append(Sample([w, g, r1, r2], at))
    out.append(Sample([values((2, 3), dtype), values((2, 3), dtype, seed=5),
                       np.zeros((1,), dtype), np.ones((1, 1), dtype)], dict(lr=0.1),
                      note="r1 == 0: lr unchanged; r2 of shape (1, 1)"))
    return out


update_op("lamb_update_phase2", ("weight", "g", "r1", "r2"),
          dict(lr=lr_param(),
               lower_bound=Param("float", -1.0, "Lower limit of r1 (none when < 0)."),
               upper_bound=Param("float", -1.0, "Upper limit of r1 (none when < 0).")),
          _lamb2_fwd, _lamb2_ref, _lamb2_samples, (),
          "LAMB phase 2: weight -= lr * r1/r2 * g, where r1 = ||weight|| clamped to "
          "[lower_bound, upper_bound] and r2 = ||g|| (lr unscaled when either is 0).",
          infer_shape=_lamb2_shape,
          bad_samples=lambda: [BadSample([np.ones((2, 3), np.float32)] * 2
                                         + [np.ones((2,), np.float32)] * 2, dict(lr=0.1),
                                         match=("r1", "(2,)"), note="r1 not (1,)")])
