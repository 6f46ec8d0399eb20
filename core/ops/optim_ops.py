"""Optimizer update ops (MXNet's optimizer_op.cc): sgd_update, sgd_mom_update, nag_mom_update,
signsgd_update, signum_update, the multi-precision mp_sgd_update / mp_sgd_mom_update /
mp_nag_mom_update here; adam, rmsprop, rmspropalex, ftrl and lamb in optim_ops2.py.

Each op's output IS the new weight (the idiom is `mx.nd.sgd_update(w, g, out=w, lr=...)`,
which updates w in place); the optimizer states (momentum, mean, var, ...) are inputs the
op writes (`mutates`), as MXNet's FMutateInputs.  None has a gradient.

MXNet 1.9 semantics kept here (checked against MXNet 1.9.1):
- float params are stored as float32 and cast to the weight's dtype inside the kernel, so a
  float64 weight sees lr=0.1 as 0.100000001490116 and a float16 one as 0.0999755859375;
- gradient clipping is on when clip_gradient >= 0 (the docs say > 0): clip_gradient=0 clips
  every gradient to 0;
- adam, rmsprop and rmspropalex add wd * weight to the gradient BEFORE clipping; sgd, nag,
  signum, ftrl and lamb clip the rescaled gradient alone;
- nag_mom_update with out=weight (in place) updates the momentum with the NEW weight's decay
  term (MXNet's kernel reads weight[i] after writing out[i]); with a fresh output it uses
  the old weight.  mp_nag_mom_update always uses the new weight;
- signsgd_update ignores rescale_grad and clip_gradient (only the gradient's sign counts);
  sign(nan) is 0 (signsgd, signum, ftrl);
- lazy_update only matters for row_sparse gradients, which plait does not have: accepted
  and ignored.
"""
import numpy as np

from ..base import fail
from . import native
from .params import Param
from .registry import BadSample, OpDef, Sample, first_input_type, register
from .sampling import values

_F32 = np.dtype("float32")
_SHAPES = [(3, 4), (2, 3, 4), (5,), (1,)]


# -- shared pieces -------------------------------------------------------------------------------
def p(attrs, dt, *names):
    """MXNet's float params (stored as float32) cast to the kernel's dtype `dt`."""
    r = tuple(dt.type(np.float32(attrs[n])) for n in names)
    return r if len(r) > 1 else r[0]


def rescaled(xp, g, rescale, clip, extra=None):
    """rescale * g (+ extra), clipped to [-clip, clip] when clip >= 0 (a new array)."""
    r = g * rescale
    if extra is not None:
        r += extra
    if clip >= 0:
        xp.clip(r, -clip, clip, out=r)
    return r


def ref_grad(g, rescale, clip, extra=0):
    """The reference's rescaled (and clipped) gradient."""
    r = g * rescale + extra
    return np.minimum(np.maximum(r, -clip), clip) if clip >= 0 else r


def sign(xp, x):
    """MXNet's sign: 1, -1 or 0 (also for nan), in x's dtype."""
    return xp.greater(x, 0).astype(x.dtype) - xp.less(x, 0).astype(x.dtype)


def same_shapes(names):
    """Shape rule: every input has the weight's shape; one output of that shape."""
    def rule(attrs, shapes):
        s0 = tuple(shapes[0])
        for i, s in enumerate(shapes[1:], 1):
            if tuple(s) != s0:
                fail("input %d" % i, "shape %s does not match the weight's shape %s (%s must "
                     "have the weight's shape)", tuple(s), s0, names[i])
        return [s0]
    rule.bad_shapes = [[(2, 3), (3, 2)] + [(2, 3)] * (len(names) - 2)]
    return rule


def mp_type(n_lo):
    """Multi-precision type rule: inputs [0, n_lo) share the weight's dtype, the rest
    (weight32, and momentum) are float32; the output has the weight's dtype."""
    def rule(attrs, types):
        t0 = types[0]
        for i, t in enumerate(types[1:], 1):
            want = t0 if i < n_lo else _F32
            if t != want:
                fail("input %d" % i, "dtype %s is not %s (%s)", t.name, want.name,
                     "the weight's dtype" if i < n_lo else "multi-precision states are float32")
        return [t0]
    return rule


def lr_param():
    return Param("float", doc="Learning rate")


def common_params(**extra):
    """lr, (extra...), wd, rescale_grad, clip_gradient in MXNet's order."""
    d = {"lr": lr_param()}
    d.update(extra.pop("_before_wd", {}))
    d.update(wd=Param("float", 0.0, "Weight decay (L2 penalty) coefficient."),
             rescale_grad=Param("float", 1.0, "Rescale gradient to grad = rescale_grad*grad."),
             clip_gradient=Param("float", -1.0, "Clip gradient to [-clip_gradient, "
                                 "clip_gradient] when clip_gradient >= 0."))
    d.update(extra)
    return d


def _lazy():
    return Param("bool", True, "Lazy update for row_sparse gradients (ignored: dense only).")


def _momentum():
    return Param("float", 0.0, "The decay rate of momentum estimates at each epoch.")


def make_samples(kinds, attr_list, shapes=_SHAPES, mp_from=None):
    """samples(dtype): inputs by kind ('w' weight, 'g' gradient, 's' signed state,
    'p' positive state); inputs from index `mp_from` on are float32 (multi-precision)."""
    ranges = {"w": (-2, 2), "g": (-3, 3), "s": (-1, 1), "p": (0.1, 1.5)}

    def gen(dtype):
        out = []
        for i, shape in enumerate(shapes):
            for j, a in enumerate(attr_list):
                ins = []
                for k, kind in enumerate(kinds):
                    dt = _F32 if mp_from is not None and k >= mp_from else dtype
                    lo, hi = ranges[kind]
                    ins.append(values(shape, dt, lo, hi, seed=31 * i + 7 * j + k))
                if mp_from is not None:  # weight32 holds the weight's full-precision value
                    ins[-1] = values(shape, _F32, -2, 2, seed=31 * i + 7 * j)
                    ins[0] = ins[-1].astype(dtype)
                out.append(Sample(ins, a))
        return out
    return gen


def missing_lr(kinds, attrs):
    """A bad sample without the required lr."""
    def bad():
        ins = [np.ones((2, 3), np.float32) for _ in kinds]
        return [BadSample(ins, attrs, match=("lr", "required"), note="lr missing")]
    return bad


def update_op(name, inputs, params, forward, reference, samples, mutates, doc, *,
              infer_shape=None, infer_type=first_input_type, bad_samples=None,
              test_dtypes=("float32", "float64")):
    """Register one optimizer update op (float dtypes, no gradient)."""
    return register(OpDef(
        name, inputs=inputs, params=params, infer_shape=infer_shape or same_shapes(inputs),
        infer_type=infer_type, forward=forward, dtypes="float", mutates=mutates,
        nondiff=True, reference=reference, samples=samples, bad_samples=bad_samples,
        test_dtypes=test_dtypes, doc=doc))


_ATTRS = [dict(lr=0.1), dict(lr=0.05, wd=0.1, rescale_grad=0.5, clip_gradient=0.3),
          dict(lr=0.2, wd=0.01, clip_gradient=0.0)]
_MOM_ATTRS = [dict(lr=0.1), dict(lr=0.05, momentum=0.9, wd=0.1, rescale_grad=0.5,
                                 clip_gradient=0.3),
              dict(lr=0.2, momentum=0.5, wd=0.01, clip_gradient=1.0)]


# -- sgd -------------------------------------------------------------------------------------------
def _sgd_fwd(xp, a, ins, outs):
    w, g = ins
    lr, wd, rs, cg = p(a, w.dtype, "lr", "wd", "rescale_grad", "clip_gradient")
    if native.usable(xp, w, g, outs[0]):  # one dtype: the type rule and out= check
        native.kernels().sgd_update(w, g, outs[0], lr, wd, rs, cg)
        return
    r = rescaled(xp, g, rs, cg)
    r *= lr
    new = w * (1 - lr * wd)
    new -= r
    outs[0][...] = new


def _sgd_ref(a, w, g):
    lr, wd, rs, cg = p(a, w.dtype, "lr", "wd", "rescale_grad", "clip_gradient")
    return (1 - lr * wd) * w - lr * ref_grad(g, rs, cg)


update_op("sgd_update", ("weight", "grad"), dict(common_params(), lazy_update=_lazy()),
          _sgd_fwd, _sgd_ref, make_samples("wg", _ATTRS), (),
          "SGD: weight = (1 - lr*wd)*weight - lr*clip(rescale_grad*grad).",
          bad_samples=missing_lr("wg", {}))


# -- sgd with momentum -----------------------------------------------------------------------------
def _sgd_mom_fwd(xp, a, ins, outs):
    w, g, mom = ins
    lr, m, wd, rs, cg = p(a, w.dtype, "lr", "momentum", "wd", "rescale_grad", "clip_gradient")
    if native.usable(xp, w, g, mom, outs[0]):  # one dtype: the type rule and out= check
        native.kernels().sgd_mom_update(w, g, mom, outs[0], lr, m, wd, rs, cg)
        return
    # in-place passes only: one temporary (r), no w + mom temporary, no wd pass when wd == 0
    r = rescaled(xp, g, rs, cg)
    r *= lr
    if wd:
        r += (lr * wd) * w
    mom *= m
    mom -= r
    xp.add(w, mom, out=outs[0])


def _sgd_mom_ref(a, w, g, mom):
    lr, m, wd, rs, cg = p(a, w.dtype, "lr", "momentum", "wd", "rescale_grad", "clip_gradient")
    mom[...] = m * mom - lr * wd * w - lr * ref_grad(g, rs, cg)
    return w + mom


update_op("sgd_mom_update", ("weight", "grad", "mom"),
          dict(common_params(_before_wd=dict(momentum=_momentum())), lazy_update=_lazy()),
          _sgd_mom_fwd, _sgd_mom_ref, make_samples("wgs", _MOM_ATTRS), (2,),
          "Momentum SGD: mom = momentum*mom - lr*wd*weight - lr*clip(rescale_grad*grad); "
          "weight += mom.  Writes mom.", bad_samples=missing_lr("wgs", {}))


# -- Nesterov momentum -----------------------------------------------------------------------------
def _aliased(xp, a, b):
    return a is b or bool(xp.may_share_memory(a, b))


def _nag_fwd(xp, a, ins, outs):
    w, g, mom = ins
    lr, m, wd, rs, cg = p(a, w.dtype, "lr", "momentum", "wd", "rescale_grad", "clip_gradient")
    r = rescaled(xp, g, rs, cg)
    inplace = _aliased(xp, outs[0], w)
    mom *= m
    step = (r + wd * w) * lr
    new = w - mom
    new += (m + 1) * (mom - step)
    outs[0][...] = new
    if inplace:  # MXNet reads weight[i] after writing out[i]: the new weight
        step = (r + wd * outs[0]) * lr
    mom -= step


def _nag_ref(a, w, g, mom):
    lr, m, wd, rs, cg = p(a, w.dtype, "lr", "momentum", "wd", "rescale_grad", "clip_gradient")
    step = lr * (ref_grad(g, rs, cg) + wd * w)
    mom[...] = m * mom
    new = w - mom + (m + 1) * (mom - step)
    mom[...] = mom - step
    return new


update_op("nag_mom_update", ("weight", "grad", "mom"),
          common_params(_before_wd=dict(momentum=_momentum())),
          _nag_fwd, _nag_ref, make_samples("wgs", _MOM_ATTRS), (2,),
          "Nesterov momentum SGD.  Writes mom.  In place (out=weight) the momentum's weight "
          "decay term uses the updated weight, as in MXNet.", bad_samples=missing_lr("wgs", {}))


# -- multi-precision sgd ----------------------------------------------------------------------------
def _mp_sgd_fwd(xp, a, ins, outs):
    w, g, w32 = ins
    lr, wd, rs, cg = p(a, _F32, "lr", "wd", "rescale_grad", "clip_gradient")
    r = rescaled(xp, g.astype(_F32), rs, cg)
    r *= lr
    w32 *= (1 - lr * wd)
    w32 -= r
    outs[0][...] = w32


def _mp_sgd_ref(a, w, g, w32):
    lr, wd, rs, cg = p(a, _F32, "lr", "wd", "rescale_grad", "clip_gradient")
    w32[...] = (1 - lr * wd) * w32 - lr * ref_grad(g.astype(_F32), rs, cg)
    return w32.astype(w.dtype)


_MP_DTYPES = ("float16", "float32")

update_op("mp_sgd_update", ("weight", "grad", "weight32"),
          dict(common_params(), lazy_update=_lazy()), _mp_sgd_fwd, _mp_sgd_ref,
          make_samples("wgw", _ATTRS, mp_from=2), (2,),
          "Multi-precision SGD: the update runs on the float32 master copy weight32 (written), "
          "the output is it cast to the weight's dtype.", infer_type=mp_type(2),
          test_dtypes=_MP_DTYPES, bad_samples=lambda: [BadSample(
              [np.ones(3, np.float16)] * 3, dict(lr=0.1), match=("weight32", "float32"),
              note="weight32 not float32")])


def _mp_sgd_mom_fwd(xp, a, ins, outs):
    w, g, mom, w32 = ins
    lr, m, wd, rs, cg = p(a, _F32, "lr", "momentum", "wd", "rescale_grad", "clip_gradient")
    r = rescaled(xp, g.astype(_F32), rs, cg)
    r *= lr
    r += (lr * wd) * w32
    mom *= m
    mom -= r
    w32 += mom
    outs[0][...] = w32


def _mp_sgd_mom_ref(a, w, g, mom, w32):
    lr, m, wd, rs, cg = p(a, _F32, "lr", "momentum", "wd", "rescale_grad", "clip_gradient")
    mom[...] = m * mom - lr * wd * w32 - lr * ref_grad(g.astype(_F32), rs, cg)
    w32 += mom
    return w32.astype(w.dtype)


def _mp_bad(n):
    def bad():
        ins = [np.ones(3, np.float16)] * 2 + [np.ones(3, np.float32)] * (n - 2)
        return [BadSample(ins[:2] + [np.ones(3, np.float16)] + ins[3:], dict(lr=0.1),
                          match=("mom", "float32"), note="mom not float32"),
                BadSample(ins[:1] + [np.ones(3, np.float32)] + ins[2:], dict(lr=0.1),
                          match=("grad", "float16"), note="grad dtype differs")]
    return bad


update_op("mp_sgd_mom_update", ("weight", "grad", "mom", "weight32"),
          dict(common_params(_before_wd=dict(momentum=_momentum())), lazy_update=_lazy()),
          _mp_sgd_mom_fwd, _mp_sgd_mom_ref, make_samples("wgsw", _MOM_ATTRS, mp_from=2), (2, 3),
          "Multi-precision momentum SGD on the float32 master copy weight32; writes mom and "
          "weight32 (both float32).", infer_type=mp_type(2), test_dtypes=_MP_DTYPES,
          bad_samples=_mp_bad(4))


def _mp_nag_fwd(xp, a, ins, outs):
    w, g, mom, w32 = ins
    lr, m, wd, rs, cg = p(a, _F32, "lr", "momentum", "wd", "rescale_grad", "clip_gradient")
    r = rescaled(xp, g.astype(_F32), rs, cg)
    mom *= m
    new = w32 - mom
    new += (m + 1) * (mom - (r + wd * w32) * lr)
    mom -= (r + wd * new) * lr  # MXNet's kernel uses the updated weight here
    w32[...] = new
    outs[0][...] = new


def _mp_nag_ref(a, w, g, mom, w32):
    lr, m, wd, rs, cg = p(a, _F32, "lr", "momentum", "wd", "rescale_grad", "clip_gradient")
    r = ref_grad(g.astype(_F32), rs, cg)
    mom[...] = m * mom
    w32[...] = w32 - mom + (m + 1) * (mom - lr * (r + wd * w32))
    mom[...] = mom - lr * (r + wd * w32)
    return w32.astype(w.dtype)


update_op("mp_nag_mom_update", ("weight", "grad", "mom", "weight32"),
          common_params(_before_wd=dict(momentum=_momentum())),
          _mp_nag_fwd, _mp_nag_ref, make_samples("wgsw", _MOM_ATTRS, mp_from=2), (2, 3),
          "Multi-precision Nesterov momentum SGD on weight32; writes mom and weight32.",
          infer_type=mp_type(2), test_dtypes=_MP_DTYPES, bad_samples=_mp_bad(4))


# -- sign SGD / Signum ------------------------------------------------------------------------------
def _signsgd_fwd(xp, a, ins, outs):
    w, g = ins
    lr, wd = p(a, w.dtype, "lr", "wd")
    s = sign(xp, g)
    s *= lr
    new = w * (1 - lr * wd)
    new -= s
    outs[0][...] = new


def _signsgd_ref(a, w, g):
    lr, wd = p(a, w.dtype, "lr", "wd")
    return (1 - lr * wd) * w - lr * np.where(g > 0, 1, np.where(g < 0, -1, 0)).astype(w.dtype)


update_op("signsgd_update", ("weight", "grad"), common_params(), _signsgd_fwd, _signsgd_ref,
          make_samples("wg", _ATTRS), (),
          "signSGD: weight = (1 - lr*wd)*weight - lr*sign(grad) (rescale_grad and "
          "clip_gradient have no effect).", bad_samples=missing_lr("wg", {}))


def _signum_fwd(xp, a, ins, outs):
    w, g, mom = ins
    lr, m, wd, rs, cg, lh = p(a, w.dtype, "lr", "momentum", "wd", "rescale_grad",
                              "clip_gradient", "wd_lh")
    r = rescaled(xp, g, rs, cg)
    r += wd * w
    r *= (1 - m)
    mom *= m
    mom -= r
    s = sign(xp, mom)
    s *= lr
    new = w * (1 - lr * lh)
    new += s
    outs[0][...] = new


def _signum_ref(a, w, g, mom):
    lr, m, wd, rs, cg, lh = p(a, w.dtype, "lr", "momentum", "wd", "rescale_grad",
                              "clip_gradient", "wd_lh")
    mom[...] = m * mom - (1 - m) * wd * w - (1 - m) * ref_grad(g, rs, cg)
    return (1 - lr * lh) * w + lr * np.where(mom > 0, 1, np.where(mom < 0, -1, 0)).astype(w.dtype)


update_op("signum_update", ("weight", "grad", "mom"),
          common_params(_before_wd=dict(momentum=_momentum()),
                        wd_lh=Param("float", 0.0, "Decoupled weight decay (Loshchilov & Hutter) "
                                    "applied to the weight only.")),
          _signum_fwd, _signum_ref,
          make_samples("wgs", _MOM_ATTRS + [dict(lr=0.1, momentum=0.9, wd_lh=0.05)]), (2,),
          "Signum: mom = momentum*mom - (1-momentum)*(wd*weight + clip(rescale_grad*grad)); "
          "weight = (1 - lr*wd_lh)*weight + lr*sign(mom).  Writes mom.",
          bad_samples=missing_lr("wgs", {}))


from . import optim_ops2  # noqa: E402,F401  (adam, rmsprop, ftrl, lamb)
