"""`_contrib_DeformableConvolution` and `_contrib_ModulatedDeformableConvolution` (MXNet
1.9's contrib/deformable_convolution and modulated_deformable_convolution), and their
hidden backward ops.

A 2-d convolution (NCHW only) whose taps sample the data at learned offsets: offset
(N, 2*kh*kw*num_deformable_group, Ho, Wo) holds a (dy, dx) pair per kernel tap and output
position for each deformable group (a contiguous block of C/num_deformable_group data
channels); the modulated op (deformable convolution v2) also scales each sample by
mask (N, kh*kw*num_deformable_group, Ho, Wo).  The two read the data by different boundary
rules (see contrib_deform_impl.py); the weight, bias and num_group are Convolution's.

Gradients: one hidden op returns the gradients of data, offset, (mask) and weight, the
derivatives MXNet's backward computes; the bias gradient is the sum of the head gradient.
The backward ops are not differentiable (MXNet's are not either).
"""
import numpy as np

from ..base import fail
from . import contrib_deform_impl as impl
from . import contrib_deform_ref as ref
from .nn_conv import CONV_PARAMS, _conv_out
from .nn_conv_impl import geometry, out_size
from .params import Param, positive
from .registry import BadSample, OpDef, Sample, register
from .sampling import values
from .shape_rules import check_bias_count

_DCN, _MDCN = "_contrib_DeformableConvolution", "_contrib_ModulatedDeformableConvolution"


def _params(modulated):
    """MXNet's params in MXNet's order; those Convolution also has are Convolution's."""
    ps = {k: CONV_PARAMS[k] for k in ("kernel", "stride", "dilate", "pad", "num_filter",
                                      "num_group")}
    ps["num_deformable_group"] = Param("int", 1, check=positive, doc="Number of offset groups "
                                       "(blocks of channels sharing one set of offsets).")
    ps.update({k: CONV_PARAMS[k] for k in ("workspace", "no_bias")})
    if modulated:
        ps["im2col_step"] = Param("int", 64, check=positive, doc="MXNet's images per im2col "
                                  "pass; a larger batch must be a multiple of it.")
    ps["layout"] = Param("str", None, choices=("NCW", "NCHW", "NCDHW"),
                         doc="Data layout; only NCHW is implemented (as in MXNet).")
    return ps


DCN_PARAMS, MDCN_PARAMS = _params(False), _params(True)


def _modulated(attrs):
    return "im2col_step" in attrs


def _names(attrs):
    head = ("data", "offset", "mask") if _modulated(attrs) else ("data", "offset")
    return head + (("weight",) if attrs.no_bias else ("weight", "bias"))


def _check(attrs, shapes):
    """Validate every input shape; returns the output shape."""
    names = _names(attrs)
    check_bias_count(names, shapes, attrs.no_bias)
    sh = dict(zip(names, (tuple(s) for s in shapes)))
    ds, k = sh["data"], tuple(attrs.kernel)
    if len(k) != 2:
        fail("kernel", "only 2-d kernels (h, w) are implemented, got kernel %s", k)
    for name in ("data", "offset", "mask"):
        if name in sh and len(sh[name]) != 4:
            fail(name, "%s must be 4-d (NCHW), got shape %s", name, sh[name])
    out, _ = _conv_out(attrs, ds, sh["weight"])
    C, F, dg = ds[1], attrs.num_filter, attrs.num_deformable_group
    if C % dg:
        fail("num_deformable_group", "the data's %d channels (shape %s) are not divisible by "
             "num_deformable_group=%d", C, ds, dg)
    K = k[0] * k[1]
    want = {"offset": (ds[0], 2 * K * dg) + out[2:], "mask": (ds[0], K * dg) + out[2:]}
    for name, per_tap in (("offset", "2*kh*kw"), ("mask", "kh*kw")):
        if name in sh and sh[name] != want[name]:
            fail(name, "%s has shape %s, expected (batch, %s*num_deformable_group, out_h, "
                 "out_w) = %s for data %s, kernel %s, num_deformable_group=%d", name,
                 sh[name], per_tap, want[name], ds, k, dg)
    if "bias" in sh and sh["bias"] != (F,):
        fail("bias", "bias has shape %s, expected (num_filter,) = %s", sh["bias"], (F,))
    if _modulated(attrs):
        if F % dg:
            fail("num_deformable_group", "num_filter=%d is not divisible by "
                 "num_deformable_group=%d (MXNet's modulated op requires it)", F, dg)
        step = attrs.im2col_step
        if ds[0] > step and ds[0] % step:
            fail("im2col_step", "a batch of %d images (data %s) larger than im2col_step=%d "
                 "must be a multiple of it", ds[0], ds, step)
    return out


def _shape(attrs, shapes):
    return [_check(attrs, shapes)]


def _geom(attrs, ds, os):
    k, s, d, p = geometry(attrs, 2)
    return impl.Geometry(k, s, d, p, attrs.num_group, attrs.num_deformable_group,
                         tuple(ds[2:]), tuple(os[2:]))


def _split(attrs, ins):
    """(data, offset, mask or None, weight, bias or None) of one call's inputs."""
    ins = list(ins)
    x, off = ins[0], ins[1]
    mask = ins.pop(2) if _modulated(attrs) else None
    return x, off, mask, ins[2], (None if attrs.no_bias else ins[3])


def _forward(xp, attrs, ins, outs):
    x, off, mask, w, b = _split(attrs, ins)
    impl.forward(xp, x, off, mask, w, b, _geom(attrs, x.shape, outs[0].shape), outs[0])


def _kwargs(attrs):
    return {k: attrs[k] for k in attrs if not k.startswith("__")}


def _gradient(backward_name):
    def grad(F, attrs, inputs, outputs, out_grads):
        g = out_grads[0]
        nd = 4 if _modulated(attrs) else 3          # data, offset, (mask), weight
        res = getattr(F, backward_name)(g, *inputs[:nd], **_kwargs(attrs))
        res = [res[i] for i in range(nd)]
        if not attrs.no_bias:
            res.append(F.sum(g, axis=(0, 2, 3)))
        return res
    return grad


# -- the hidden backward ops: (out_grad, data, offset, [mask,] weight) -> their gradients ------
def _bwd_shape(attrs, shapes):
    nd = 4 if _modulated(attrs) else 3
    if len(shapes) != nd + 1:
        fail("input", "expected %d inputs (out_grad, data, offset, %sweight), got %d", nd + 1,
             "mask, " if nd == 4 else "", len(shapes))
    ins = [tuple(s) for s in shapes[1:]]
    bias = [] if attrs.no_bias else [(attrs.num_filter,)]
    out = _check(attrs, ins + bias)
    if tuple(shapes[0]) != out:
        fail("out_grad", "out_grad has shape %s, the output has shape %s", tuple(shapes[0]), out)
    return ins


def _bwd_forward(xp, attrs, ins, outs):
    g, x, off = ins[0], ins[1], ins[2]
    mask = ins[3] if _modulated(attrs) else None
    w = ins[-1]
    dx, doff, dmask, dw = impl.backward(xp, g, x, off, mask, w, _geom(attrs, x.shape, g.shape))
    for o, r in zip(outs, [dx, doff] + ([dmask] if mask is not None else []) + [dw]):
        o[...] = r


# -- samples --------------------------------------------------------------------------------------
# (data shape, num_filter, kernel, attrs, offset range): the first four are small enough for
# the finite-difference suite; 'int' offsets are whole numbers (points on the pixel grid)
_CASES = [
    ((1, 2, 4, 4), 2, (2, 2), {}, 1.5),
    ((1, 4, 4, 4), 2, (2, 2), {"num_group": 2, "num_deformable_group": 2, "no_bias": True}, 2),
    ((1, 2, 5, 5), 2, (2, 2), {"stride": (2, 2), "pad": (1, 1)}, 3),
    ((1, 2, 5, 4), 2, (2, 2), {"dilate": (2, 2), "pad": (1, 0)}, 1),
    ((2, 4, 5, 5), 4, (3, 3), {"pad": (1, 1), "stride": (2, 1), "dilate": (1, 2),
                               "num_group": 2, "num_deformable_group": 2}, 2.5),
    ((1, 2, 4, 5), 2, (3, 3), {"pad": (1, 1)}, "int"),
    ((2, 3, 3, 3), 3, (1, 1), {"num_deformable_group": 3, "layout": "NCHW"}, 1.2),
]

_IM2COL_STEP = {4: 1}  # the modulated op's case 4 (2 images) runs one image per im2col pass


def _sample_inputs(i, case, dtype, modulated, grad=False):
    ds, F, k, at, rng = case
    at = dict(at, kernel=k, num_filter=F)
    dg = at.get("num_deformable_group", 1)
    oh, ow = out_size(ds[2:], k, at.get("stride", (1, 1)), at.get("dilate", (1, 1)),
                      at.get("pad", (0, 0)))
    K = k[0] * k[1]
    if rng == "int":
        off = np.round(values((ds[0], 2 * K * dg, oh, ow), np.float64, -2, 2, i + 10))
    else:
        off = values((ds[0], 2 * K * dg, oh, ow), np.float64, -rng, rng, i + 10)
    ins = [values(ds, dtype, seed=i), off.astype(dtype)]
    if modulated:
        ins.append(values((ds[0], K * dg, oh, ow), dtype, 0, 2, i + 20))
        at["im2col_step"] = _IM2COL_STEP.get(i, 64)
    ins.append(values((F, ds[1] // at.get("num_group", 1)) + k, dtype, seed=i + 30))
    if not at.get("no_bias"):
        ins.append(values((F,), dtype, seed=i + 40))
    if grad:
        nd = 4 if modulated else 3
        ins = [values((ds[0], F, oh, ow), dtype, seed=i + 50)] + ins[:nd]
    return ins, at


def _samples(modulated, grad=False):
    def gen(dtype):
        return [Sample(*_sample_inputs(i, c, dtype, modulated, grad))
                for i, c in enumerate(_CASES)]
    return gen


def _bad(modulated):
    def gen():
        f = np.ones
        k = {"kernel": (2, 2), "num_filter": 2}
        mk = [f((1, 4, 3, 3))] if modulated else []

        def ins(ds=(1, 2, 4, 4), off=(1, 8, 3, 3), w=(2, 2, 2, 2), b=(2,), mask=None):
            m = [f(mask)] if mask is not None else mk
            return [f(ds), f(off)] + m + [f(w), f(b)]
        out = [
            BadSample(ins(off=(1, 6, 3, 3)), k, match=("offset", "(1, 6, 3, 3)",
                                                       "(1, 8, 3, 3)")),
            BadSample(ins(off=(1, 8, 4, 4)), k, match=("offset", "(1, 8, 4, 4)")),
            BadSample(ins(off=(2, 8, 3, 3)), k, match=("offset", "(2, 8, 3, 3)")),
            BadSample(ins(w=(3, 2, 2, 2), b=(3,)), dict(k, num_filter=3, num_group=2),
                      match=("num_group", "num_filter=3")),
            BadSample(ins(ds=(1, 3, 4, 4), w=(2, 3, 2, 2)), dict(k, num_deformable_group=2),
                      match=("num_deformable_group", "(1, 3, 4, 4)")),
            BadSample(ins(w=(2, 1, 2, 2)), k, match=("weight", "(2, 1, 2, 2)", "(2, 2, 2, 2)")),
            BadSample(ins(b=(3,)), k, match=("bias", "(3,)")),
            BadSample(ins(ds=(1, 2, 4)), k, match=("data", "(1, 2, 4)")),
            BadSample(ins(), dict(k, kernel=(2, 2, 2)), match=("kernel", "(2, 2, 2)")),
            BadSample(ins(), dict(k, layout="NCW"), match=("layout", "NCW")),
            BadSample(ins(ds=(1, 2, 1, 1)), k, match=("kernel", "larger", "(1, 2, 1, 1)")),
        ]
        if modulated:
            out += [
                BadSample(ins(mask=(1, 8, 3, 3)), k, match=("mask", "(1, 8, 3, 3)",
                                                            "(1, 4, 3, 3)")),
                BadSample(ins(ds=(3, 2, 4, 4), off=(3, 8, 3, 3), mask=(3, 4, 3, 3)),
                          dict(k, im2col_step=2), match=("im2col_step", "3")),
                BadSample(ins(ds=(1, 4, 4, 4), off=(1, 16, 3, 3), mask=(1, 8, 3, 3),
                              w=(3, 4, 2, 2), b=(3,)),
                          dict(k, num_filter=3, num_deformable_group=2),
                          match=("num_deformable_group", "num_filter=3")),
            ]
        return out
    return gen


def _register(name, modulated):
    params = MDCN_PARAMS if modulated else DCN_PARAMS
    bwd = "_backward" + name
    what = ("data, offset, mask and weight" if modulated else "data, offset and weight")
    inputs = ("data", "offset") + (("mask",) if modulated else ()) + ("weight", "bias")
    rule = ("points with -1 < y < H and -1 < x < W are read, corners outside the image as 0, "
            "and each sample is scaled by its mask value" if modulated else
            "points with 0 <= y < H and 0 <= x < W are read, the last row and column "
            "without interpolation beyond them; other points read 0")
    register(OpDef(
        name, inputs=inputs, inputs_fn=_names, params=params, infer_shape=_shape,
        forward=_forward, dtypes=("float32", "float64"), gradient=_gradient(bwd),
        reference=ref.forward, samples=_samples(modulated), bad_samples=_bad(modulated),
        doc="%s 2-d convolution of NCHW data: kernel tap k at output (y, x) reads the data "
            "at (y*stride - pad + i*dilate + offset[2k], x*stride - pad + j*dilate + "
            "offset[2k+1]) by bilinear interpolation (%s); offsets per deformable group of "
            "channels.  weight (num_filter, C/num_group, kh, kw), bias (num_filter,)."
            % ("Modulated deformable (v2)" if modulated else "Deformable", rule)))
    n_out = 4 if modulated else 3
    register(OpDef(
        bwd, inputs=("out_grad",) + inputs[:n_out], num_outputs=n_out, params=params,
        infer_shape=_bwd_shape, infer_type=lambda a, t: [t[1]] * n_out,
        forward=_bwd_forward, dtypes=("float32", "float64"), nondiff=True, reference=ref.backward,
        samples=_samples(modulated, grad=True),
        doc="Gradients of %s w.r.t. %s for the head gradient out_grad." % (name, what)))


_register(_DCN, False)
_register(_MDCN, True)
