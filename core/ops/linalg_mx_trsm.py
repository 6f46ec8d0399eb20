"""MXNet 1.9's linalg_trmm, linalg_trsm and linalg_syrk (registered as `_linalg_<x>` with the
alias `linalg_<x>`; imported by linalg_mx.py, whose docstring has the MXNet semantics):
trmm/trsm compute alpha*op(T)*B or alpha*op(T)^-1*B (B*op(T), B*op(T)^-1 with rightside),
op(T) = T or T^T, T the lower (default) or upper triangle of A; syrk alpha*A*A^T (A^T*A with
transpose=True).  Float32/float64, batched over equal leading axes.
"""
import numpy as np

from ..base import fail
from .linalg_mx import lower_tri, matrices, rand, same_batch, swap, tri_mask
from .params import Param
from .registry import BadSample, OpDef, Sample, register


# -- trmm / trsm ---------------------------------------------------------------------------------
def _tr_shape(a, shapes):
    sa = matrices("A", shapes[0], square=True)
    sb = matrices("B", shapes[1])
    same_batch(("A", "B"), (sa, sb))
    k = sb[-1] if a.rightside else sb[-2]
    if k != sa[-1]:
        fail("B", "shape %s does not fit the %dx%d triangular matrix A (shape %s) multiplied "
             "from the %s", sb, sa[-1], sa[-1], sa, "right" if a.rightside else "left")
    return [sb]


_tr_shape.bad_shapes = [[(3, 3), (4, 4)], [(2, 3, 3), (3, 3, 4)]]


def _op_t(xp, a, A):
    T = xp.tril(A) if a.lower else xp.triu(A)
    return swap(T) if a.transpose else T


def _trmm_compute(xp, a, A, B):
    T = _op_t(xp, a, A)
    p = xp.matmul(B, T) if a.rightside else xp.matmul(T, B)
    return p * A.dtype.type(a.alpha)


def _trsm_compute(xp, a, A, B):
    T = _op_t(xp, a, A)
    t = A.dtype.type
    with np.errstate(divide="ignore", invalid="ignore"):
        if a.rightside:  # B T^-1 = (T^-T B^T)^T
            x = swap(_solve(xp, swap(T), swap(B)))
        else:
            x = _solve(xp, T, B)
    return x * t(a.alpha)


def _solve(xp, T, B):
    """Triangular solve by xp.linalg.solve; a singular T gives inf/nan as BLAS trsm does."""
    try:
        return xp.linalg.solve(T, B)
    except Exception as e:
        if type(e).__name__ != "LinAlgError":
            raise
        return xp.full(B.shape, np.nan, B.dtype)


def _tr_ref(solve):
    def ref(a, A, B):
        A64, B64 = A.astype(np.float64), B.astype(np.float64)
        out = np.zeros(B.shape, np.float64)
        for idx in np.ndindex(A.shape[:-2]):
            T = np.tril(A64[idx]) if a.lower else np.triu(A64[idx])
            T = T.T if a.transpose else T
            if solve:
                T = np.linalg.inv(T)
            out[idx] = B64[idx] @ T if a.rightside else T @ B64[idx]
        return (a.alpha * out).astype(A.dtype)
    return ref


def _tr_grad(solve):
    def grad(F, a, ins, outs, g):
        A, B, G = ins[0], ins[1], g[0]
        kw = dict(rightside=a.rightside, lower=a.lower)
        f = F.linalg_trsm if solve else F.linalg_trmm
        dB = f(A, G, transpose=not a.transpose, alpha=a.alpha, **kw)
        if solve:  # d op(T) = -op(T)^-T G Y^T (left) or -Y^T G op(T)^-T (right)
            Z = f(A, G, transpose=not a.transpose, **kw)
            Y = outs[0]
            if not a.rightside:
                dT = F.linalg_gemm2(Y, Z, transpose_b=True, alpha=-1.0) if a.transpose else \
                    F.linalg_gemm2(Z, Y, transpose_b=True, alpha=-1.0)
            else:
                dT = F.linalg_gemm2(Z, Y, transpose_a=True, alpha=-1.0) if a.transpose else \
                    F.linalg_gemm2(Y, Z, transpose_a=True, alpha=-1.0)
        else:  # d op(T) = alpha G B^T (left) or alpha B^T G (right)
            x, y = (B, G) if a.rightside else (G, B)
            if a.transpose:
                x, y = y, x
            dT = F.linalg_gemm2(x, y, transpose_a=a.rightside, transpose_b=not a.rightside,
                                alpha=a.alpha)
        return [tri_mask(F, dT, a.lower), dB]
    return grad


def _tr_samples(dtype):
    out = []
    for k, (t, r, low, al) in enumerate([(False, False, True, 1.0), (True, False, True, 2.0),
                                         (False, True, True, -0.5), (True, True, False, 1.5),
                                         (False, False, False, 1.0)]):
        A = lower_tri((3, 3), dtype, 10 * k)
        A = A + rand((3, 3), dtype, 10 * k + 5) * np.triu(np.ones((3, 3)), 1).astype(dtype)
        if not low:
            A = A.T.copy()
            A = A + rand((3, 3), dtype, 10 * k + 6) * np.tril(np.ones((3, 3)), -1).astype(dtype)
        B = rand((2, 3) if r else (3, 2), dtype, 10 * k + 7)
        out.append(Sample([A, B], {"transpose": t, "rightside": r, "lower": low, "alpha": al}))
    out.append(Sample([lower_tri((2, 3, 3), dtype, 60), rand((2, 3, 4), dtype, 61)]))
    out.append(Sample([lower_tri((2, 2, 2), dtype, 62), rand((2, 3, 2), dtype, 63)],
                      {"rightside": True, "transpose": True}))
    return out


_TR_PARAMS = {
    "transpose": Param("bool", False, doc="Use transposed of the triangular matrix"),
    "rightside": Param("bool", False, doc="Multiply triangular matrix from the right to "
                                          "non-triangular one."),
    "lower": Param("bool", True, doc="True if the triangular matrix is lower triangular, false "
                                     "if it is upper triangular."),
    "alpha": Param("float", 1.0, doc="Scalar factor to be applied to the result."),
}


def _tr_bad():
    f = np.float32
    return [BadSample([np.ones((3, 3), f), np.ones((4, 4), f)], match=("B", "(4, 4)", "(3, 3)")),
            BadSample([np.ones((3, 4), f), np.ones((3, 4), f)], match=("A", "square", "(3, 4)")),
            BadSample([np.ones((2, 3, 3), f), np.ones((3, 3, 4), f)],
                      match=("B", "(3, 3, 4)", "(2, 3, 3)")),
            BadSample([np.ones((2, 2), np.int32), np.ones((2, 2), np.int32)], match=("int32",))]


for _name, _solve_op, _what in (("trmm", False, "Performs multiplication with a lower "
                                 "(or upper) triangular matrix: out = alpha * op(A) * B, or "
                                 "alpha * B * op(A) with rightside=True"),
                                ("trsm", True, "Solves matrix equations with a triangular "
                                 "matrix: out = alpha * op(A)^-1 * B, or alpha * B * "
                                 "op(A)^-1 with rightside=True")):
    register(OpDef(
        "_linalg_" + _name, aliases=("linalg_" + _name,), hidden=False, inputs=("A", "B"),
        params=_TR_PARAMS, infer_shape=_tr_shape,
        compute=_trsm_compute if _solve_op else _trmm_compute, dtypes="float",
        reference=_tr_ref(_solve_op), samples=_tr_samples, gradient=_tr_grad(_solve_op),
        bad_samples=_tr_bad,
        doc=_what + "; op(A) is A or A^T (transpose) and only A's lower (lower=True, the "
        "default) or upper triangle is read."))


# -- syrk ----------------------------------------------------------------------------------------
def _syrk_shape(a, shapes):
    s = matrices("A", shapes[0])
    n = s[-1] if a.transpose else s[-2]
    return [s[:-2] + (n, n)]


_syrk_shape.bad_shapes = [[(3,)]]


def _syrk_compute(xp, a, A):
    p = xp.matmul(swap(A), A) if a.transpose else xp.matmul(A, swap(A))
    return p * A.dtype.type(a.alpha)


def _syrk_ref(a, A):
    A64 = A.astype(np.float64)
    return (a.alpha * (np.einsum("...ki,...kj->...ij", A64, A64) if a.transpose else
                       np.einsum("...ik,...jk->...ij", A64, A64))).astype(A.dtype)


def _syrk_grad(F, a, ins, outs, g):
    Gs = g[0] + F.swapaxes(g[0], dim1=-1, dim2=-2)
    if a.transpose:
        return [F.linalg_gemm2(ins[0], Gs, alpha=a.alpha)]
    return [F.linalg_gemm2(Gs, ins[0], alpha=a.alpha)]


register(OpDef(
    "_linalg_syrk", aliases=("linalg_syrk",), hidden=False, inputs=("A",),
    params={"transpose": Param("bool", False, doc="Use transpose of input matrix."),
            "alpha": Param("float", 1.0, doc="Scalar factor to be applied to the result.")},
    infer_shape=_syrk_shape, compute=_syrk_compute, dtypes="float", reference=_syrk_ref,
    samples=lambda dt: [Sample([rand((3, 2), dt, 0)]),
                        Sample([rand((3, 2), dt, 1)], {"transpose": True, "alpha": 2.0}),
                        Sample([rand((2, 2, 4), dt, 2)], {"alpha": -0.5}),
                        Sample([rand((2, 4, 3), dt, 3)], {"transpose": True})],
    gradient=_syrk_grad,
    bad_samples=lambda: [BadSample([np.ones((3,), np.float32)], match=("A", "(3,)")),
                         BadSample([np.ones((2, 2), np.int32)], match=("int32",))],
    doc="Multiplication of a matrix with its transpose: out = alpha * A * A^T, or "
        "alpha * A^T * A with transpose=True."))
