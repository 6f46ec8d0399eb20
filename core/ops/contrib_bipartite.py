"""`_contrib_bipartite_matching` (MXNet 1.9's src/operator/contrib/bounding_box): greedy
bipartite matching of a score matrix data (..., N, M) -> (row marker (..., N), column marker
(..., M)), both float32 whatever the input's float dtype (as MXNet).

Checked against MXNet 1.9.1 (tools/make_box_op_fixtures.py): the scores are visited in
descending order (ascending with is_ascend), ties in row-major input order; the visit stops
at the first score not strictly > threshold (not strictly < it with is_ascend); a pair is
matched when neither its row nor its column is matched yet.  topk > 0 stops once more than
topk pairs are matched, so MXNet matches up to topk + 1 pairs (kept here).  Row marker:
the matched column or -1; column marker: the matched row or -1.  The gradient is zero.
"""
import numpy as np

from ..base import fail
from .contrib_box import host
from .params import Param
from .registry import BadSample, OpDef, Sample, register
from .sampling import values


def _bm_shape(a, shapes):
    s = tuple(shapes[0])
    if len(s) < 2:
        fail("data", "score matrix must have dim >= 2, got shape %s", s)
    return [s[:-1], s[:-2] + s[-1:]]


def _match_one(s, a):
    """Row and column markers of one (N, M) matrix, in plain Python."""
    n, m = s.shape
    flat = [(float(s[i, j]), i * m + j) for i in range(n) for j in range(m)]
    flat.sort(key=lambda t: t[0] if a.is_ascend else -t[0])  # stable: row-major ties
    rows, cols, count = [-1] * n, [-1] * m, 0
    th = float(s.dtype.type(a.threshold))
    for v, k in flat:
        if (v >= th) if a.is_ascend else (v <= th):
            break
        i, j = divmod(k, m)
        if rows[i] == -1 and cols[j] == -1:
            rows[i], cols[j] = j, i
            count += 1
            if a.topk > 0 and count > a.topk:
                break
    return rows, cols


def _bm_compute(xp, a, x):
    n, m = x.shape[-2:]
    x3 = host(x).reshape(-1, n, m)
    r = np.empty((x3.shape[0], n), x3.dtype)
    c = np.empty((x3.shape[0], m), x3.dtype)
    for b in range(x3.shape[0]):
        r[b], c[b] = _match_one(x3[b], a)
    return xp.asarray(r.reshape(x.shape[:-1])), xp.asarray(c.reshape(x.shape[:-2] + (m,)))


def _bm_ref(a, x):
    n, m = x.shape[-2:]
    x3 = x.reshape(-1, n, m)
    outs = [_match_one(s, a) for s in x3]
    return (np.array([o[0] for o in outs], x.dtype).reshape(x.shape[:-1]),
            np.array([o[1] for o in outs], x.dtype).reshape(x.shape[:-2] + (m,)))


def _bm_samples(dtype):
    ties = np.array([[0.5, 0.5], [0.5, 0.5], [0.5, 0.2]], dtype)
    return [Sample([values((4, 5), dtype, 0, 1)], {"threshold": 0.05}),
            Sample([values((4, 5), dtype, 0, 1)], {"threshold": 0.05, "topk": 2}),
            Sample([values((4, 5), dtype, 0, 1)], {"threshold": 0.5, "is_ascend": True}),
            Sample([values((2, 3, 4, 3), dtype, 0, 1, seed=1)], {"threshold": 0.3}),
            Sample([ties], {"threshold": 0.2}), Sample([ties], {"threshold": 0.5})]


register(OpDef(
    "_contrib_bipartite_matching", num_outputs=2,
    params={"is_ascend": Param("bool", False, doc="Visit scores in ascending order."),
            "threshold": Param("float", doc="Stop at the first score not beyond it."),
            "topk": Param("int", -1, doc="Limit on the matches (MXNet: topk + 1); -1: none.")},
    infer_shape=_bm_shape, infer_type=lambda a, t: [t[0], t[0]],
    compute=_bm_compute, dtypes="float", reference=_bm_ref, samples=_bm_samples,
    fd_check=False, gradient=lambda F, a, ins, outs, g: [F.zeros_like(ins[0])],
    bad_samples=lambda: [BadSample([np.ones((3,), np.float32)], {"threshold": 0.1},
                                   match=("data", "(3,)", "dim")),
                         BadSample([np.ones((3, 2), np.float32)], {},
                                   match=("threshold", "required"))],
    doc="Greedy bipartite matching of a score matrix (..., N, M): (row marker (..., N), "
        "column marker (..., M)), -1 where unmatched."))
