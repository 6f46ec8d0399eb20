"""MXNet 1.9's `linalg_*` operators (BLAS/LAPACK level 3): gemm, gemm2, potrf and potri here;
trmm, trsm and syrk in linalg_mx_trsm.py; the diagonal/triangle ops, inverse, det and slogdet
in linalg_mx_tri.py (both imported at the end of this module).

Each op is registered as MXNet names it, `_linalg_<x>` (what -symbol.json files hold), with
the alias `linalg_<x>`; mx.nd.linalg / mx.sym.linalg expose it as `linalg.<x>`.  All take
float32/float64 tensors of matrices in the last two axes, batched over leading axes (the
batch shapes must be equal; no broadcasting).  Semantics checked against MXNet 1.9.1
(tools/make_linalg_fixtures.py):
- gemm/gemm2: `axis` is the axis of the matrix rows, the columns are always the last axis;
  the output keeps that layout.  alpha*op(A)*op(B) (+ beta*C for gemm).
- potrf: lower Cholesky factor, reading only the lower triangle of A (the upper one is
  ignored); its gradient is MXNet's symmetric one, 0.5 L^-T copyltu(L^T dL) L^-1, which is
  not the finite-difference derivative of a lower-triangle-only kernel (fd_check=False;
  checked against MXNet fixtures).
- potri: takes the Cholesky factor L (lower triangle read) and returns (L L^T)^-1, the
  inverse of the original matrix; its gradient is lower triangular.
- trmm/trsm: alpha*op(T)*B (alpha*B*op(T) with rightside), op(T) = T or T^T, T the lower
  (default lower=True) or upper triangle of A; the other triangle is ignored and gets a
  zero gradient.  trsm solves instead of multiplying (a zero pivot gives inf/nan as BLAS).
- syrk: alpha*A*A^T, or alpha*A^T*A with transpose=True.
"""
import numpy as np

from ..base import PlaitError, fail
from . import sampling
from .params import Param
from .registry import BadSample, OpDef, Sample, register

_R = np.random.default_rng


# -- shared helpers ------------------------------------------------------------------------------
def swap(x):
    """x with its last two axes swapped (a view)."""
    return x.swapaxes(-1, -2)


def matrices(name, s, square=False):
    s = tuple(s)
    if len(s) < 2:
        fail(name, "expected a tensor of matrices (at least 2 dimensions), got shape %s", s)
    if square and s[-1] != s[-2]:
        fail(name, "expected square matrices in the last two axes, got shape %s", s)
    return s


def same_batch(names, shapes):
    s0 = shapes[0]
    for n, s in zip(names[1:], shapes[1:]):
        if len(s) != len(s0) or s[:-2] != s0[:-2]:
            fail(n, "batch shape %s of shape %s does not match %s's batch shape %s of shape %s",
                 s[:-2], s, names[0], s0[:-2], s0)


def rand(shape, dtype, seed, lo=-1.0, hi=1.0):
    return sampling.values(shape, dtype, lo, hi, seed)


def spd(shape, dtype, seed):
    """Well-conditioned symmetric positive definite matrices of shape (..., n, n)."""
    a = _R(seed).uniform(-1, 1, shape)
    n = shape[-1]
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def lower_tri(shape, dtype, seed):
    """Lower triangular matrices with diagonal entries in [1.5, 2.5] (well conditioned)."""
    a = np.tril(_R(seed).uniform(-1, 1, shape))
    n = shape[-1]
    a[..., np.arange(n), np.arange(n)] = _R(seed + 1).uniform(1.5, 2.5, shape[:-1])
    return a.astype(dtype)


def tri_mask(F, x, lower):
    """The lower (or upper) triangle of x, the rest zero, built from differentiable ops."""
    return F.linalg_maketrian(F.linalg_extracttrian(x, lower=lower), lower=lower)


# -- gemm / gemm2 ----------------------------------------------------------------------------------
def _row_axis(a, ndim):
    ax = a.axis
    if not -ndim <= ax < ndim or ax % ndim == ndim - 1:
        fail("axis", "axis=%d is out of range for %d-D inputs: the row axis must be one of "
             "-%d..%d other than the last (column) axis", ax, ndim, ndim, ndim - 2)
    return ax % ndim


def _gemm_out_shape(a, sa, sb):
    sa, sb = matrices("A", sa), matrices("B", sb)
    if len(sa) != len(sb):
        fail("B", "shape %s has %d dimensions, A's shape %s has %d", sb, len(sb), sa, len(sa))
    ax = _row_axis(a, len(sa))
    for i in range(len(sa) - 1):
        if i != ax and sa[i] != sb[i]:
            fail("B", "shape %s does not match A's shape %s except on the row axis %d and the "
                 "last axis", sb, sa, ax)
    ka = sa[ax] if a.transpose_a else sa[-1]
    kb = sb[-1] if a.transpose_b else sb[ax]
    if ka != kb:
        fail("B", "incompatible matrix dimensions for multiplication: A %s%s and B %s%s "
             "(%d vs %d)", sa, " (transposed)" if a.transpose_a else "", sb,
             " (transposed)" if a.transpose_b else "", ka, kb)
    out = list(sa)
    out[ax] = sa[-1] if a.transpose_a else sa[ax]
    out[-1] = sb[ax] if a.transpose_b else sb[-1]
    return tuple(out)


def _gemm2_shape(a, shapes):
    return [_gemm_out_shape(a, shapes[0], shapes[1])]


def _gemm_shape(a, shapes):
    out = _gemm_out_shape(a, shapes[0], shapes[1])
    if tuple(shapes[2]) != out:
        fail("C", "shape %s does not match the product's shape %s (A %s, B %s)",
             tuple(shapes[2]), out, tuple(shapes[0]), tuple(shapes[1]))
    return [out]


_gemm2_shape.bad_shapes = [[(2, 3), (4, 5)], [(2, 3, 4), (3, 4, 5)]]
_gemm_shape.bad_shapes = [[(2, 3), (3, 4), (2, 5)], [(2, 3), (4, 4), (2, 4)]]


def _product(xp, a, A, B):
    ax = _row_axis(a, A.ndim)
    A, B = xp.moveaxis(A, ax, -2), xp.moveaxis(B, ax, -2)
    p = xp.matmul(swap(A) if a.transpose_a else A, swap(B) if a.transpose_b else B)
    return xp.moveaxis(p, -2, ax), A.dtype.type


def _gemm2_compute(xp, a, A, B):
    p, t = _product(xp, a, A, B)
    return p * t(a.alpha)


def _gemm_compute(xp, a, A, B, C):
    p, t = _product(xp, a, A, B)
    return p * t(a.alpha) + C * t(a.beta)


def _gemm_ref(a, A, B, C=None):
    """einsum over explicit index letters, rows at `axis`, columns last."""
    nd = A.ndim
    ax = a.axis % nd
    letters = "abcdefgh"[:nd]
    i, k, j = "x", "y", "z"

    def spec(rows, cols):
        s = list(letters)
        s[ax], s[-1] = rows, cols
        return "".join(s)
    sa = spec(k, i) if a.transpose_a else spec(i, k)
    sb = spec(j, k) if a.transpose_b else spec(k, j)
    out = a.alpha * np.einsum("%s,%s->%s" % (sa, sb, spec(i, j)), A.astype(np.float64),
                              B.astype(np.float64))
    if C is not None:
        out = out + a.beta * C
    return out.astype(A.dtype)


def _mm(F, x, y, ta, tb, alpha, axis):
    return F.linalg_gemm2(x, y, transpose_a=ta, transpose_b=tb, alpha=alpha, axis=axis)


def _gemm_grads(F, a, A, B, g):
    al, ax, ta, tb = a.alpha, a.axis, a.transpose_a, a.transpose_b
    if not ta:
        dA = _mm(F, g, B, False, not tb, al, ax)
    else:
        dA = _mm(F, B, g, tb, True, al, ax)
    if not tb:
        dB = _mm(F, A, g, not ta, False, al, ax)
    else:
        dB = _mm(F, g, A, True, ta, al, ax)
    return [dA, dB]


def _gemm_samples(dtype, with_c):
    def mk(sa, sb, attrs, seed):
        A, B = rand(sa, dtype, seed), rand(sb, dtype, seed + 1)
        ins = [A, B]
        if with_c:
            out = _gemm_out_shape(_Attrs(attrs), sa, sb)
            ins.append(rand(out, dtype, seed + 2))
        if not with_c:
            attrs = {k: v for k, v in attrs.items() if k != "beta"}
        return Sample(ins, attrs)
    return [mk((2, 3), (3, 4), {}, 0),
            mk((3, 2), (3, 4), {"transpose_a": True, "alpha": 2.0, "beta": 0.5}, 3),
            mk((2, 3), (4, 3), {"transpose_b": True, "alpha": -1.5}, 6),
            mk((2, 3, 2), (2, 4, 3), {"transpose_a": True, "transpose_b": True}, 9),
            mk((2, 2, 3), (2, 3, 4), {}, 12),
            mk((3, 2, 4), (4, 2, 5), {"axis": 0, "beta": 2.0}, 15),
            mk((2, 3, 2, 4), (2, 4, 2, 3), {"axis": 1, "transpose_b": False}, 18)]


class _Attrs:
    def __init__(self, d):
        self.transpose_a = d.get("transpose_a", False)
        self.transpose_b = d.get("transpose_b", False)
        self.axis = d.get("axis", -2)


_GEMM_PARAMS = {
    "transpose_a": Param("bool", False, doc="Multiply with transposed of first input (A)."),
    "transpose_b": Param("bool", False, doc="Multiply with transposed of second input (B)."),
    "alpha": Param("float", 1.0, doc="Scalar factor multiplied with A*B."),
}
_AXIS = {"axis": Param("int", -2, doc="Axis corresponding to the matrix rows.")}


def _mismatch_bad(n_in):
    f = np.float32

    def bad(sa, sb, sc, match, dt=f):
        ins = [np.ones(sa, dt), np.ones(sb, dt)] + ([np.ones(sc, dt)] if n_in == 3 else [])
        return BadSample(ins, match=match)
    return [bad((2, 3), (2, 4), (2, 4), ("B", "(2, 4)", "(2, 3)", "incompatible")),
            bad((2, 3), (3,), (2, 1), ("B", "(3,)")),
            bad((2, 2, 3), (3, 3, 4), (2, 2, 4), ("B", "(3, 3, 4)")),
            bad((2, 3), (3, 4), (2, 4), ("int32",), np.int32)]


register(OpDef(
    "_linalg_gemm", aliases=("linalg_gemm",), hidden=False, inputs=("A", "B", "C"),
    params=dict(_GEMM_PARAMS, beta=Param("float", 1.0, doc="Scalar factor multiplied with C."),
                **_AXIS),
    infer_shape=_gemm_shape, compute=_gemm_compute, dtypes="float", reference=_gemm_ref,
    samples=lambda dt: _gemm_samples(dt, True),
    bad_samples=lambda: _mismatch_bad(3) + [BadSample(
        [np.ones((2, 3), np.float32), np.ones((3, 4), np.float32), np.ones((2, 5), np.float32)],
        match=("C", "(2, 5)", "(2, 4)"))],
    gradient=lambda F, a, ins, outs, g: _gemm_grads(F, a, ins[0], ins[1], g[0]) + [
        g[0] * float(a.beta)],
    doc="Performs general matrix multiplication and accumulation: "
        "out = alpha * op(A) * op(B) + beta * C, op() an optional transpose, batched over the "
        "leading axes; `axis` is the axis of the matrix rows (columns are the last axis)."))

register(OpDef(
    "_linalg_gemm2", aliases=("linalg_gemm2",), hidden=False, inputs=("A", "B"),
    params=dict(_GEMM_PARAMS, **_AXIS),
    infer_shape=_gemm2_shape, compute=_gemm2_compute, dtypes="float", reference=_gemm_ref,
    samples=lambda dt: _gemm_samples(dt, False), bad_samples=lambda: _mismatch_bad(2),
    gradient=lambda F, a, ins, outs, g: _gemm_grads(F, a, ins[0], ins[1], g[0]),
    doc="Performs general matrix multiplication: out = alpha * op(A) * op(B), op() an "
        "optional transpose, batched over the leading axes; `axis` is the axis of the "
        "matrix rows (columns are the last axis)."))


# -- potrf / potri -------------------------------------------------------------------------------
def _square_shape(a, shapes):
    return [matrices("A", shapes[0], square=True)]


_square_shape.bad_shapes = [[(2, 3)], [(3,)]]


def _lower_sym(xp, A):
    low = xp.tril(A)
    return low + swap(xp.tril(A, -1))


def _potrf_compute(xp, a, A):
    try:
        return xp.linalg.cholesky(_lower_sym(xp, A))
    except Exception as e:  # numpy.linalg.LinAlgError / cupy's equivalent
        if type(e).__name__ != "LinAlgError":
            raise
        raise PlaitError("Cholesky factorization of shape %s failed: the matrix is not "
                         "symmetric positive definite" % (A.shape,), arg="A",
                         op="_linalg_potrf") from None


def _potrf_ref(a, A):
    out = np.zeros(A.shape, np.float64)
    for idx in np.ndindex(A.shape[:-2]):
        m = np.tril(A[idx].astype(np.float64))
        out[idx] = np.linalg.cholesky(m + np.tril(m, -1).T)
    return out.astype(A.dtype)


def _potrf_grad(F, a, ins, outs, g):
    L = outs[0]
    M = F.linalg_gemm2(L, g[0], transpose_a=True)
    low = tri_mask(F, M, True)
    P = low + F.swapaxes(low, dim1=-1, dim2=-2) - F.linalg_makediag(F.linalg_extractdiag(M))
    X = F.linalg_trsm(L, P, transpose=True)
    return [F.linalg_trsm(L, X, rightside=True, alpha=0.5)]


def _spd_samples(dtype):
    return [Sample([spd((3, 3), dtype, 0)]), Sample([spd((2, 4, 4), dtype, 1)]),
            Sample([spd((1, 1), dtype, 2)]), Sample([spd((2, 1, 3, 3), dtype, 3)])]


def _sq_bad(extra=()):
    f = np.float32
    return [BadSample([np.ones((2, 3), f)], match=("A", "square", "(2, 3)")),
            BadSample([np.ones((3,), f)], match=("A", "(3,)")),
            BadSample([np.ones((2, 2), np.int32)], match=("int32",))] + list(extra)


register(OpDef(
    "_linalg_potrf", aliases=("linalg_potrf",), hidden=False, inputs=("A",),
    infer_shape=_square_shape, compute=_potrf_compute, dtypes="float", reference=_potrf_ref,
    samples=_spd_samples, gradient=_potrf_grad, fd_check=False,
    bad_samples=lambda: _sq_bad([BadSample([-np.eye(3, dtype=np.float32)],
                                           match=("A", "positive definite"))]),
    doc="Performs Cholesky factorization of symmetric positive-definite matrices: A = L L^T, "
        "L lower triangular (only the lower triangle of A is read)."))


def _potri_compute(xp, a, A):
    Li = xp.linalg.inv(xp.tril(A))
    return xp.matmul(swap(Li), Li)


def _potri_ref(a, A):
    out = np.zeros(A.shape, np.float64)
    for idx in np.ndindex(A.shape[:-2]):
        L = np.tril(A[idx].astype(np.float64))
        out[idx] = np.linalg.inv(L @ L.T)
    return out.astype(A.dtype)


def _potri_grad(F, a, ins, outs, g):
    X, L = outs[0], ins[0]
    Gs = g[0] + F.swapaxes(g[0], dim1=-1, dim2=-2)
    d = F.linalg_gemm2(F.linalg_gemm2(X, Gs), F.linalg_gemm2(X, tri_mask(F, L, True)),
                       alpha=-1.0)
    return [tri_mask(F, d, True)]


register(OpDef(
    "_linalg_potri", aliases=("linalg_potri",), hidden=False, inputs=("A",),
    infer_shape=_square_shape, compute=_potri_compute, dtypes="float", reference=_potri_ref,
    samples=lambda dt: [Sample([lower_tri((3, 3), dt, 0)]), Sample([lower_tri((2, 4, 4), dt, 2)]),
                        Sample([lower_tri((1, 1), dt, 4)])],
    gradient=_potri_grad, bad_samples=_sq_bad,
    doc="Computes the inverse of a symmetric positive-definite matrix A from its Cholesky "
        "factor L (A = L L^T; only the lower triangle of the input is read): out = A^-1."))


from . import linalg_mx_trsm  # noqa: E402,F401  (trmm, trsm, syrk)
from . import linalg_mx_tri  # noqa: E402,F401  (sumlogdiag, diag/trian, inverse, det)
