"""MXNet 1.9's `linalg_*` diagonal and triangle ops, inverse, det and slogdet (the BLAS ops
are in linalg_mx.py, which imports this module).  Registered as `_linalg_<x>` with the
alias `linalg_<x>`; float32/float64 only, batched over leading axes.

MXNet semantics kept (checked against MXNet 1.9.1, tools/make_linalg_fixtures.py):
- sumlogdiag, det, slogdet of a single matrix return shape (1,); of (..., n, n), shape (...).
- extractdiag/makediag: `offset` > 0 is above the main diagonal, < 0 below; extractdiag
  needs square matrices and |offset| < n; makediag of (..., k) is (..., k+|o|, k+|o|).
- extracttrian/maketrian: a triangle of n x n matrices as a vector of m(m+1)/2 entries,
  m = n - |offset|.  offset < 0 (or offset 0 with lower=True) is the lower part read row by
  row; offset > 0 (or 0 with lower=False) the upper part read column by column, i.e. the
  lower part of the transpose read row by row.  `lower` matters only for offset 0.
- slogdet returns (sign, logabsdet); only logabsdet has a gradient (A^-T); det's gradient is
  det * A^-T.  A singular matrix has det 0 and slogdet (0, -inf); inverse rejects it.
"""
import numpy as np

from ..base import PlaitError, fail
from .linalg_mx import matrices, rand, spd
from .params import Param
from .registry import BadSample, OpDef, Sample, register

_OFFSET = {"offset": Param("int", 0, doc="Offset of the diagonal versus the main diagonal. 0 "
                                         "corresponds to the main diagonal, a negative/positive "
                                         "value to diagonals below/above the main diagonal.")}
_LOWER = {"lower": Param("bool", True, doc="Refer to the lower triangular matrix if "
                                           "lower=true, refer to the upper otherwise. Only "
                                           "relevant when offset=0")}


def _sq(a, shapes):
    return matrices("A", shapes[0], square=True)


def _batch_out(s):
    return s[:-2] if len(s) > 2 else (1,)


def _bcast(F, v, A, nexp):
    """v (batch shape, or (1,) for one matrix) with `nexp` trailing axes, to multiply A's."""
    for _ in range(nexp):
        v = F.expand_dims(v, axis=-1)
    return v


def _sf(s):
    return [_batch_out(matrices("A", s[0], square=True))]


_sf.bad_shapes = [[(2, 3)], [(3,)]]


def _sq_bad():
    f = np.float32
    return [BadSample([np.ones((2, 3), f)], match=("A", "square", "(2, 3)")),
            BadSample([np.ones((3,), f)], match=("A", "(3,)")),
            BadSample([np.ones((2, 2), np.int32)], match=("int32",))]


def _scalar_shape(a, shapes):
    return _sf(shapes)


_scalar_shape.bad_shapes = _sf.bad_shapes


def _spd_samples(dtype):
    return [Sample([spd((3, 3), dtype, 0)]), Sample([spd((2, 4, 4), dtype, 1)]),
            Sample([spd((1, 1), dtype, 2)]), Sample([spd((2, 2, 2, 2), dtype, 3)])]


def _general_samples(dtype):
    """Well-conditioned matrices that are not symmetric, some with negative determinant."""
    def m(shape, seed, flip=False):
        x = rand(shape, dtype, seed) + 3 * np.eye(shape[-1], dtype=dtype)
        if flip:
            x = x[..., ::-1, :].copy()
        return x
    return [Sample([m((3, 3), 0)]), Sample([m((2, 4, 4), 1)]), Sample([m((2, 2), 2, True)]),
            Sample([m((1, 1), 3)]), Sample([m((2, 1, 3, 3), 4, True)])]


def _reg(name, doc, **kw):
    kw.setdefault("dtypes", "float")
    kw.setdefault("inputs", ("A",))
    register(OpDef("_linalg_" + name, aliases=("linalg_" + name,), hidden=False, doc=doc, **kw))


# -- sumlogdiag ----------------------------------------------------------------------------------
def _sld_compute(xp, a, A):
    r = xp.sum(xp.log(xp.diagonal(A, 0, -2, -1)), axis=-1)
    return r.reshape(_batch_out(A.shape))


def _sld_ref(a, A):
    out = np.zeros(A.shape[:-2], np.float64)
    for idx in np.ndindex(A.shape[:-2]):
        out[idx] = sum(np.log(float(A[idx][i, i])) for i in range(A.shape[-1]))
    return out.reshape(_batch_out(A.shape)).astype(A.dtype)


def _sld_grad(F, a, ins, outs, g):
    A = ins[0]
    d = F.broadcast_div(_bcast(F, g[0], A, 1), F.linalg_extractdiag(A))
    return [F.reshape_like(F.linalg_makediag(d), A)]


_reg("sumlogdiag", "Computes the sum of the logarithms of the diagonal elements of square "
     "matrices (shape (1,) for one matrix).", infer_shape=_scalar_shape, compute=_sld_compute,
     reference=_sld_ref, samples=_spd_samples, gradient=_sld_grad, bad_samples=_sq_bad)


# -- extractdiag / makediag ----------------------------------------------------------------------
def _check_offset(s, k):
    if abs(k) >= s[-1]:
        fail("offset", "offset=%d is out of range for %dx%d matrices (shape %s)", k, s[-1],
             s[-1], s)


def _ed_shape(a, shapes):
    s = _sq(a, shapes)
    _check_offset(s, a.offset)
    return [s[:-2] + (s[-1] - abs(a.offset),)]


_ed_shape.bad_shapes = [[(2, 3)], [(3,)]]


def _md_shape(a, shapes):
    s = tuple(shapes[0])
    if len(s) < 1:
        fail("A", "expected a tensor of vectors (at least 1 dimension), got shape %s", s)
    n = s[-1] + abs(a.offset)
    return [s[:-1] + (n, n)]


_md_shape.bad_shapes = [[()]]


def _diag_idx(n, k):
    m = n - abs(k)
    i = np.arange(m)
    return (i - min(k, 0), i + max(k, 0))


def _ed_compute(xp, a, A):
    return xp.diagonal(A, a.offset, -2, -1).copy()


def _md_compute(xp, a, v):
    n = v.shape[-1] + abs(a.offset)
    out = xp.zeros(v.shape[:-1] + (n, n), v.dtype)
    r, c = _diag_idx(n, a.offset)
    out[..., xp.asarray(r), xp.asarray(c)] = v
    return out


def _ed_ref(a, A):
    out = np.zeros(A.shape[:-2] + (A.shape[-1] - abs(a.offset),), A.dtype)
    for idx in np.ndindex(A.shape[:-2]):
        out[idx] = np.diag(A[idx], a.offset)
    return out


def _md_ref(a, v):
    n = v.shape[-1] + abs(a.offset)
    out = np.zeros(v.shape[:-1] + (n, n), v.dtype)
    for idx in np.ndindex(v.shape[:-1]):
        out[idx] = np.diag(v[idx], a.offset)
    return out


_reg("extractdiag", "Extracts the diagonal (offset 0), or a diagonal above (offset > 0) or "
     "below (offset < 0) it, of square matrices as vectors.", params=_OFFSET,
     infer_shape=_ed_shape, compute=_ed_compute, reference=_ed_ref,
     samples=lambda dt: [Sample([rand((4, 4), dt, 0)]),
                         Sample([rand((4, 4), dt, 1)], {"offset": 1}),
                         Sample([rand((2, 3, 3), dt, 2)], {"offset": -2}),
                         Sample([rand((2, 1, 3, 3), dt, 3)])],
     gradient=lambda F, a, ins, outs, g: [F.linalg_makediag(g[0], offset=a.offset)],
     bad_samples=lambda: _sq_bad() + [BadSample([np.ones((3, 3), np.float32)], {"offset": 3},
                                                match=("offset", "3", "(3, 3)"))])
_reg("makediag", "Constructs square matrices with the input vectors on the diagonal "
     "(offset 0) or a diagonal above (> 0) or below (< 0) it, zeros elsewhere.", params=_OFFSET,
     infer_shape=_md_shape, compute=_md_compute, reference=_md_ref,
     samples=lambda dt: [Sample([rand((3,), dt, 0)]), Sample([rand((3,), dt, 1)], {"offset": 1}),
                         Sample([rand((2, 2), dt, 2)], {"offset": -2}),
                         Sample([rand((2, 2, 3), dt, 3)])],
     gradient=lambda F, a, ins, outs, g: [F.linalg_extractdiag(g[0], offset=a.offset)],
     bad_samples=lambda: [BadSample([np.ones((2,), np.int32)], match=("int32",))])


# -- extracttrian / maketrian --------------------------------------------------------------------
def _tri_idx(n, k, lower):
    """(rows, cols) of the entries in MXNet's order (see the module docstring)."""
    r, c = np.tril_indices(n, -abs(k))
    if k > 0 or (k == 0 and not lower):
        return c, r  # the transpose's lower part, row by row: the upper part by columns
    return r, c


def _et_shape(a, shapes):
    s = _sq(a, shapes)
    _check_offset(s, a.offset)
    m = s[-1] - abs(a.offset)
    return [s[:-2] + (m * (m + 1) // 2,)]


_et_shape.bad_shapes = [[(2, 3)], [(3,)]]


def _mt_size(a, s):
    if len(s) < 1:
        fail("A", "expected a tensor of vectors (at least 1 dimension), got shape %s", s)
    L = s[-1]
    m = int((np.sqrt(8 * L + 1) - 1) // 2)
    if m * (m + 1) // 2 != L:
        fail("A", "the last axis of shape %s has length %d, which is not a triangular number "
             "m(m+1)/2", s, L)
    return m + abs(a.offset)


def _mt_shape(a, shapes):
    s = tuple(shapes[0])
    n = _mt_size(a, s)
    return [s[:-1] + (n, n)]


_mt_shape.bad_shapes = [[(4,)]]


def _et_compute(xp, a, A):
    r, c = _tri_idx(A.shape[-1], a.offset, a.lower)
    return A[..., xp.asarray(r), xp.asarray(c)]


def _mt_compute(xp, a, v):
    n = _mt_size(a, v.shape)
    out = xp.zeros(v.shape[:-1] + (n, n), v.dtype)
    r, c = _tri_idx(n, a.offset, a.lower)
    out[..., xp.asarray(r), xp.asarray(c)] = v
    return out


def _tri_order(n, k, lower):
    """The same entries by explicit loops, independent of _tri_idx."""
    upper = k > 0 or (k == 0 and not lower)
    d = abs(k)
    if upper:
        return [(i, j) for j in range(n) for i in range(n) if j - i >= d]
    return [(i, j) for i in range(n) for j in range(n) if i - j >= d]


def _et_ref(a, A):
    pos = _tri_order(A.shape[-1], a.offset, a.lower)
    return np.stack([A[..., i, j] for i, j in pos], axis=-1)


def _mt_ref(a, v):
    L = v.shape[-1]
    m = next(m for m in range(L + 2) if m * (m + 1) // 2 == L)
    n = m + abs(a.offset)
    out = np.zeros(v.shape[:-1] + (n, n), v.dtype)
    for p, (i, j) in enumerate(_tri_order(n, a.offset, a.lower)):
        out[..., i, j] = v[..., p]
    return out


_TRI_ATTRS = [{}, {"lower": False}, {"offset": 1}, {"offset": -1}, {"offset": 2, "lower": False}]


def _tri_samples(make):
    def gen(dt):
        out = [Sample([make(4, at, dt, k)], at) for k, at in enumerate(_TRI_ATTRS)]
        out.append(Sample([make(3, {}, dt, 9, (2,))], {"lower": False}))
        return out
    return gen


def _et_in(n, at, dt, seed, batch=()):
    return rand(batch + (n, n), dt, seed)


def _mt_in(n, at, dt, seed, batch=()):
    m = n - abs(at.get("offset", 0))
    return rand(batch + (m * (m + 1) // 2,), dt, seed)


_reg("extracttrian", "Extracts a triangular part of square matrices as vectors: the lower "
     "part (offset < 0, or 0 with lower=True) row by row, the upper part (offset > 0, or 0 "
     "with lower=False) column by column.", params=dict(_OFFSET, **_LOWER),
     infer_shape=_et_shape, compute=_et_compute, reference=_et_ref,
     samples=_tri_samples(_et_in),
     gradient=lambda F, a, ins, outs, g: [F.linalg_maketrian(g[0], offset=a.offset,
                                                             lower=a.lower)],
     bad_samples=lambda: _sq_bad() + [BadSample([np.ones((3, 3), np.float32)], {"offset": -3},
                                                match=("offset", "-3", "(3, 3)"))])
_reg("maketrian", "Constructs square matrices from vectors holding a triangular part (the "
     "inverse of extracttrian with the same offset and lower), zeros elsewhere.",
     params=dict(_OFFSET, **_LOWER), infer_shape=_mt_shape, compute=_mt_compute,
     reference=_mt_ref, samples=_tri_samples(_mt_in),
     gradient=lambda F, a, ins, outs, g: [F.linalg_extracttrian(g[0], offset=a.offset,
                                                                lower=a.lower)],
     bad_samples=lambda: [BadSample([np.ones((4,), np.float32)], match=("A", "(4,)", "4")),
                          BadSample([np.ones((3,), np.int32)], match=("int32",))])


# -- inverse / det / slogdet ---------------------------------------------------------------------
def _inv(xp, A):
    try:
        return xp.linalg.inv(A)
    except Exception as e:
        if type(e).__name__ != "LinAlgError":
            raise
        raise PlaitError("a matrix of shape %s is singular (not invertible)" % (A.shape,),
                         arg="A", op="_linalg_inverse") from None


def _inv_ref(a, A):
    out = np.zeros(A.shape, np.float64)
    for idx in np.ndindex(A.shape[:-2]):
        out[idx] = np.linalg.solve(A[idx].astype(np.float64), np.eye(A.shape[-1]))
    return out.astype(A.dtype)


def _inv_grad(F, a, ins, outs, g):
    Y = outs[0]
    return [F.linalg_gemm2(F.linalg_gemm2(Y, g[0], transpose_a=True), Y, transpose_b=True,
                           alpha=-1.0)]


def _inv_shape(a, shapes):
    return [_sq(a, shapes)]


_inv_shape.bad_shapes = [[(2, 3)], [(3,)]]

_reg("inverse", "Computes the inverse of square matrices.", infer_shape=_inv_shape,
     compute=lambda xp, a, A: _inv(xp, A), reference=_inv_ref, samples=_general_samples,
     gradient=_inv_grad,
     bad_samples=lambda: _sq_bad() + [BadSample([np.zeros((2, 2), np.float32)],
                                                match=("A", "singular", "(2, 2)"))])


def _det_compute(xp, a, A):
    return xp.linalg.det(A).reshape(_batch_out(A.shape))


def _lu_det(M):
    """Determinant by Gaussian elimination with partial pivoting (independent of LAPACK)."""
    M = M.astype(np.float64).copy()
    n, det = M.shape[0], 1.0
    for i in range(n):
        p = i + int(np.argmax(np.abs(M[i:, i])))
        if M[p, i] == 0:
            return 0.0
        if p != i:
            M[[i, p]] = M[[p, i]]
            det = -det
        det *= M[i, i]
        M[i + 1:] -= np.outer(M[i + 1:, i] / M[i, i], M[i])
    return det


def _det_ref(a, A):
    out = np.zeros(A.shape[:-2], np.float64)
    for idx in np.ndindex(A.shape[:-2]):
        out[idx] = _lu_det(A[idx])
    return out.reshape(_batch_out(A.shape)).astype(A.dtype)


def _inv_t(F, A):
    return F.swapaxes(F.linalg_inverse(A), dim1=-1, dim2=-2)


def _det_grad(F, a, ins, outs, g):
    A = ins[0]
    return [F.reshape_like(F.broadcast_mul(_bcast(F, g[0] * outs[0], A, 2), _inv_t(F, A)), A)]


_reg("det", "Computes the determinant of square matrices (shape (1,) for one matrix).",
     infer_shape=_scalar_shape, compute=_det_compute, reference=_det_ref,
     samples=_general_samples, gradient=_det_grad, bad_samples=_sq_bad)


def _sld2_shape(a, shapes):
    s = _batch_out(_sq(a, shapes))
    return [s, s]


_sld2_shape.bad_shapes = [[(2, 3)], [(3,)]]


def _slogdet_compute(xp, a, A):
    s, l = xp.linalg.slogdet(A)
    shape = _batch_out(A.shape)
    return s.astype(A.dtype).reshape(shape), l.astype(A.dtype).reshape(shape)


def _slogdet_ref(a, A):
    d = _det_ref(a, A.astype(np.float64))
    with np.errstate(divide="ignore"):
        return np.sign(d).astype(A.dtype), np.log(np.abs(d)).astype(A.dtype)


def _slogdet_grad(F, a, ins, outs, g):
    A = ins[0]
    if g[1] is None:
        return [F.zeros_like(A)]
    return [F.reshape_like(F.broadcast_mul(_bcast(F, g[1], A, 2), _inv_t(F, A)), A)]


_reg("slogdet", "Computes the sign and the natural logarithm of the absolute value of the "
     "determinant of square matrices: two outputs (sign, logabsdet), each of shape (1,) for "
     "one matrix. Only logabsdet has a gradient.", num_outputs=2,
     infer_shape=_sld2_shape, infer_type=lambda a, t: [t[0], t[0]],
     compute=_slogdet_compute, reference=_slogdet_ref, samples=_general_samples,
     gradient=_slogdet_grad, bad_samples=_sq_bad)
