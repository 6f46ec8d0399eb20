"""Hidden ops the ONNX importer needs where MXNet's ops cannot express ONNX's semantics.

_onnx_reshape  an exact reshape to any shape, including () (a 0-d scalar, which ONNX
               reductions, Squeeze and Gather produce) and shapes with 0-length axes; MXNet's
               Reshape reads 0 and () as special codes, so it cannot make those.
"""
import numpy as np

from ..base import PlaitError, fail
from .params import Param
from .registry import BadSample, OpDef, Sample, register
from .shape import _ALL_TYPES
from .shape_rules import normalize_axis


def _reshape_shape(a, shapes):
    s, t = tuple(shapes[0]), tuple(a.shape)
    if any(d < 0 for d in t):
        fail("shape", "dims must be >= 0, got %s", t)
    if int(np.prod(s, dtype=np.int64)) != int(np.prod(t, dtype=np.int64)):
        fail("shape", "cannot reshape %s (%d elements) to %s (%d elements)", s,
             int(np.prod(s, dtype=np.int64)), t, int(np.prod(t, dtype=np.int64)))
    return [t]


_reshape_shape.bad_shapes = []


def _reshape_fwd(xp, a, ins, outs):
    outs[0][...] = ins[0].reshape(tuple(a.shape))


def _reshape_samples(dtype):
    r = np.random.default_rng(3)
    mk = lambda s: r.uniform(-2, 2, s).astype(dtype)  # noqa: E731
    return [Sample([mk((1, 1))], {"shape": ()}), Sample([mk((2, 3))], {"shape": (3, 2)}),
            Sample([mk((2, 3, 4))], {"shape": (6, 1, 4)}), Sample([mk((4,))], {"shape": (2, 2)})]


register(OpDef(
    "_onnx_reshape",
    params={"shape": Param("shape", doc="The exact output shape (no special codes).")},
    infer_shape=_reshape_shape, forward=_reshape_fwd,
    reference=lambda a, x: x.reshape(tuple(a.shape)),
    gradient=lambda F, a, ins, outs, g: [F._onnx_reshape_as(g[0], ins[0])],
    samples=_reshape_samples, test_dtypes=_ALL_TYPES,
    bad_samples=lambda: [BadSample([np.zeros((2, 3), np.float32)], {"shape": (4,)},
                                   match="cannot reshape")],
    doc="Exact reshape (ONNX import): any target shape with the same element count."))


def _reshape_as_shape(a, shapes):
    s, t = tuple(shapes[0]), tuple(shapes[1])
    if int(np.prod(s, dtype=np.int64)) != int(np.prod(t, dtype=np.int64)):
        fail("like", "cannot reshape %s to like's shape %s", s, t)
    return [t]


_reshape_as_shape.bad_shapes = [[(2, 3), (4,)]]

register(OpDef(
    "_onnx_reshape_as", inputs=("data", "like"), infer_shape=_reshape_as_shape,
    infer_type=lambda a, t: [t[0]],
    forward=lambda xp, a, ins, outs: outs[0].__setitem__(Ellipsis, ins[0].reshape(ins[1].shape)),
    reference=lambda a, x, like: x.reshape(like.shape),
    gradient=lambda F, a, ins, outs, g: [F._onnx_reshape_as(g[0], ins[0]), None],
    grad_inputs=(0,),
    samples=lambda dt: [Sample([(np.arange(6) % 3).astype(dt).reshape(2, 3), np.zeros((3, 2), dt)]),
                        Sample([np.full((4,), 1.5).astype(dt), np.zeros((2, 1, 2), dt)])],
    test_dtypes=_ALL_TYPES,
    doc="Exact reshape to like's shape (0-d included): _onnx_reshape's gradient."))


# -- scatter ------------------------------------------------------------------------------------
_REDUCTIONS = ("none", "add", "mul", "max", "min")


def _scatter_apply(xp, out, where, updates, reduction):
    """out[where] (op)= updates, repeated indices accumulating (ufunc.at) unless 'none'."""
    if reduction == "none":
        out[where] = updates
    else:
        fn = {"add": xp.add, "mul": xp.multiply, "max": xp.maximum, "min": xp.minimum}[reduction]
        fn.at(out, where, updates)


def _scatter_elements_shape(a, shapes):
    d, i, u = (tuple(s) for s in shapes)
    normalize_axis(a.axis, len(d), "axis")
    if len(i) != len(d):
        fail("indices", "rank %d differs from data's rank %d (data %s, indices %s)", len(i),
             len(d), d, i)
    if i != u:
        fail("updates", "shape %s differs from indices' shape %s", u, i)
    return [d]


_scatter_elements_shape.bad_shapes = []


def _elements_index(xp, a, data, idx):
    axis = a.axis % data.ndim
    n = data.shape[axis]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise PlaitError("an index is outside [-%d, %d) along axis %d" % (n, n, axis),
                         arg="indices", op="_onnx_scatter_elements")
    idx = xp.where(idx < 0, idx + n, idx)
    grids = list(xp.indices(idx.shape, sparse=True))
    grids[axis] = idx
    return tuple(grids)


def _scatter_elements_fwd(xp, a, ins, outs):
    data, idx, upd = ins
    outs[0][...] = data
    _scatter_apply(xp, outs[0], _elements_index(xp, a, data, idx.astype(np.int64)), upd,
                   a.reduction)


def _scatter_elements_ref(a, data, idx, upd):
    out = data.copy()
    axis = a.axis % data.ndim
    for pos in np.ndindex(*idx.shape):
        tgt = list(pos)
        tgt[axis] = int(idx[pos]) % data.shape[axis]
        tgt = tuple(tgt)
        v = upd[pos]
        r = a.reduction
        out[tgt] = v if r == "none" else out[tgt] + v if r == "add" else out[tgt] * v \
            if r == "mul" else max(out[tgt], v) if r == "max" else min(out[tgt], v)
    return out


def _scatter_samples(kind):
    def gen(dtype):
        r = np.random.default_rng(5)
        v = lambda s: r.uniform(-2, 2, s).astype(dtype)  # noqa: E731
        if kind == "elements":
            perm = np.stack([r.permutation(4)[:3] for _ in range(2)], 1)  # unique per column
            return [Sample([v((4, 2)), perm, v((3, 2))], {"axis": 0}),
                    Sample([v((2, 5)), np.array([[1, -1], [0, 2]]), v((2, 2))], {"axis": 1}),
                    Sample([v((3, 3)), np.array([[0, 0, 1]]), v((1, 3))],
                           {"axis": 0, "reduction": "add"}),
                    Sample([v((3, 3)), np.array([[2], [2], [0]]), v((3, 1))],
                           {"axis": 1, "reduction": "max"})]
        return [Sample([v((4, 3)), np.array([[1], [3]]), v((2, 3))], {}),
                Sample([v((2, 3, 2)), np.array([[0, 1], [1, 2]]), v((2, 2))], {}),
                Sample([v((5,)), np.array([[1], [1], [4]]), v((3,))], {"reduction": "add"}),
                Sample([v((3, 2)), np.array([[0, 1], [2, 0]]), v((2,))], {"reduction": "mul"})]
    return gen


_SCATTER_PARAMS = {"reduction": Param("str", "none", choices=_REDUCTIONS,
                                      doc="How updates meet existing values.")}

register(OpDef(
    "_onnx_scatter_elements", inputs=("data", "indices", "updates"),
    params=dict(_SCATTER_PARAMS, axis=Param("int", 0, doc="The axis indices index.")),
    infer_shape=_scatter_elements_shape, infer_type=lambda a, t: [t[0]],
    forward=_scatter_elements_fwd, reference=_scatter_elements_ref, nondiff=True,
    samples=_scatter_samples("elements"), test_dtypes=("float32", "float64"),
    dtypes="all",
    bad_samples=lambda: [BadSample([np.zeros((2, 2), np.float32), np.array([[5, 0]]),
                                    np.zeros((1, 2), np.float32)], {"axis": 0},
                                   match="outside")],
    doc="ONNX ScatterElements: data with updates written at indices along axis."))


def _scatter_nd_shape(a, shapes):
    d, i, u = (tuple(s) for s in shapes)
    k = i[-1] if i else 0
    if not i or k > len(d):
        fail("indices", "last dim %s exceeds data's rank %d (data %s, indices %s)", k, len(d),
             d, i)
    want = i[:-1] + d[k:]
    if u != want:
        fail("updates", "shape %s, expected %s for data %s and indices %s", u, want, d, i)
    return [d]


_scatter_nd_shape.bad_shapes = []


def _scatter_nd_fwd(xp, a, ins, outs):
    data, idx, upd = ins
    outs[0][...] = data
    k = idx.shape[-1]
    flat = idx.reshape(-1, k).astype(np.int64)
    dims = np.array(data.shape[:k])
    if flat.size and ((flat < -dims).any() or (flat >= dims).any()):
        raise PlaitError("an index is outside data's shape %s" % (data.shape[:k],),
                         arg="indices", op="_onnx_scatter_nd")
    flat = xp.where(flat < 0, flat + dims, flat)
    where = tuple(flat[:, j] for j in range(k))
    _scatter_apply(xp, outs[0], where, upd.reshape((-1,) + data.shape[k:]), a.reduction)


def _scatter_nd_ref(a, data, idx, upd):
    out = data.copy()
    k = idx.shape[-1]
    for pos in np.ndindex(*idx.shape[:-1]):
        tgt = tuple(int(v) for v in idx[pos])
        v = upd[pos]
        r = a.reduction
        out[tgt] = v if r == "none" else out[tgt] + v if r == "add" else out[tgt] * v \
            if r == "mul" else np.maximum(out[tgt], v) if r == "max" else np.minimum(out[tgt], v)
    _ = k
    return out


register(OpDef(
    "_onnx_scatter_nd", inputs=("data", "indices", "updates"), params=dict(_SCATTER_PARAMS),
    infer_shape=_scatter_nd_shape, infer_type=lambda a, t: [t[0]], forward=_scatter_nd_fwd,
    reference=_scatter_nd_ref, nondiff=True, samples=_scatter_samples("nd"), dtypes="all",
    bad_samples=lambda: [BadSample([np.zeros((2, 2), np.float32), np.array([[3]]),
                                    np.zeros((1, 2), np.float32)], {}, match="outside")],
    doc="ONNX ScatterND: data with slices at index tuples replaced (or reduced) by updates."))


# -- cumulative sum / product -------------------------------------------------------------------
def _cum_fwd(xp, a, ins, outs):
    x = ins[0]
    axis = a.axis % x.ndim
    fn = xp.cumsum if a.op == "sum" else xp.cumprod
    if a.reverse:
        x = xp.flip(x, axis)
    y = fn(x, axis=axis, dtype=x.dtype)
    if a.exclusive:
        ident = 0 if a.op == "sum" else 1
        pad = xp.full(x.shape[:axis] + (1,) + x.shape[axis + 1:], ident, x.dtype)
        y = xp.concatenate([pad, xp.take(y, xp.arange(x.shape[axis] - 1), axis=axis)], axis)
    outs[0][...] = xp.flip(y, axis) if a.reverse else y


def _cum_ref(a, x):
    axis = a.axis % x.ndim
    m = np.moveaxis(x, axis, -1)
    out = np.zeros_like(m)
    n = m.shape[-1]
    for i in range(n):
        rng = range(i, n) if a.reverse else range(0, i + 1)
        rng = [j for j in rng if not (a.exclusive and j == i)]
        acc = np.zeros(m.shape[:-1], m.dtype) if a.op == "sum" else np.ones(m.shape[:-1], m.dtype)
        for j in rng:
            acc = acc + m[..., j] if a.op == "sum" else acc * m[..., j]
        out[..., i] = acc
    return np.moveaxis(out, -1, axis)


def _cum_grad(F, a, ins, outs, g):
    if a.op != "sum":
        return [None]
    # d/dx of a cumulative sum is the cumulative sum the other way
    return [F._onnx_cumulative(g[0], axis=a.axis, exclusive=a.exclusive,
                               reverse=not a.reverse, op="sum")]


register(OpDef(
    "_onnx_cumulative",
    params={"axis": Param("int", 0, doc="The axis to accumulate along."),
            "exclusive": Param("bool", False, doc="Leave out the element itself."),
            "reverse": Param("bool", False, doc="Accumulate from the end."),
            "op": Param("str", "sum", choices=("sum", "prod"), doc="sum or prod.")},
    infer_shape=lambda a, s: [tuple(s[0])] if normalize_axis(a.axis, len(s[0]), "axis") is not None
    else None, forward=_cum_fwd, reference=_cum_ref,
    gradient=_cum_grad, grad_inputs=(0,), dtypes="numeric",
    samples=lambda dt: [Sample([np.random.default_rng(i).uniform(-2, 2, s).astype(dt)], at)
                        for i, (s, at) in enumerate([
                            ((5,), {}), ((3, 4), {"axis": 1}), ((3, 4), {"exclusive": True}),
                            ((2, 3, 2), {"axis": -2, "reverse": True}),
                            ((4, 3), {"axis": 0, "reverse": True, "exclusive": True})])],
    doc="ONNX CumSum/CumProd: running sum or product along an axis."))


# -- bitwise (ONNX BitShift, BitwiseAnd/Or/Xor/Not) ---------------------------------------------
_INT_TYPES = ("uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64")
_BITWISE = {"and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor,
            "left_shift": np.left_shift, "right_shift": np.right_shift}


def _bitwise_shape(a, shapes):
    from .shape_rules import broadcast_shapes
    return [broadcast_shapes(tuple(shapes[0]), tuple(shapes[1]))]


_bitwise_shape.bad_shapes = [[(2, 3), (4,)]]


def _bitwise_fwd(xp, a, ins, outs):
    fn = getattr(xp, _BITWISE[a.op].__name__)
    fn(ins[0], ins[1], out=outs[0])


def _int_type(dt):
    """The integer type to sample in (sweeps that ask for a float type get int32)."""
    return np.dtype(dt) if np.dtype(dt).kind in "iu" else np.dtype("int32")


def _bitwise_samples(dt):
    dt = _int_type(dt)
    r = np.random.default_rng(9)
    hi = 8 if np.dtype(dt).kind in "iu" else 2
    v = lambda s: r.integers(0, 100, s).astype(dt)  # noqa: E731
    sh = lambda s: r.integers(0, hi, s).astype(dt)  # noqa: E731
    return [Sample([v((3, 4)), v((3, 4))], {"op": "and"}), Sample([v((2, 3)), v((3,))], {"op": "or"}),
            Sample([v((4,)), v((1,))], {"op": "xor"}),
            Sample([v((2, 3)), sh((2, 3))], {"op": "left_shift"}),
            Sample([v((3,)), sh((3,))], {"op": "right_shift"})]


register(OpDef(
    "_onnx_bitwise", inputs=("lhs", "rhs"),
    params={"op": Param("str", choices=tuple(_BITWISE), doc="and, or, xor, left_shift or "
                                                              "right_shift.")},
    infer_shape=_bitwise_shape, forward=_bitwise_fwd,
    reference=lambda a, x, y: _BITWISE[a.op](x, y).astype(x.dtype), nondiff=True,
    dtypes=_INT_TYPES, samples=_bitwise_samples, test_dtypes=("uint8", "int32", "uint64"),
    doc="Element-wise bitwise and/or/xor/shift of integers, broadcasting (ONNX import)."))

register(OpDef(
    "_onnx_bitwise_not", infer_shape=lambda a, s: [tuple(s[0])],
    forward=lambda xp, a, ins, outs: xp.invert(ins[0], out=outs[0]),
    reference=lambda a, x: np.invert(x), nondiff=True, dtypes=_INT_TYPES + ("bool",),
    samples=lambda dt: [Sample([np.random.default_rng(2).integers(0, 100, (3, 4)).astype(
        _int_type(dt))])],
    test_dtypes=("uint8", "int32", "uint64"),
    doc="Element-wise bitwise not of integers (ONNX import)."))


# -- einsum -------------------------------------------------------------------------------------
def _einsum_shape(a, shapes):
    eq = a.equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        fail("equation", "%r has %d operand(s), %d input(s) given", a.equation, len(terms),
             len(shapes))
    dims, ell, counts = {}, (), {}
    for term, s in zip(terms, shapes):
        s = tuple(s)
        letters = term.replace("...", "")
        n_ell = len(s) - len(letters)
        if n_ell < 0 or (n_ell and "..." not in term):
            fail("equation", "operand %r does not match an input of shape %s", term, s)
        i = term.find("...")
        e = s[i:i + n_ell] if "..." in term else ()
        try:
            ell = tuple(np.broadcast_shapes(ell, e))
        except ValueError:
            fail("equation", "the '...' dims %s and %s do not broadcast", ell, e)
        rest = s[:i] + s[i + n_ell:] if "..." in term else s
        for ch, d in zip(letters, rest):
            if ch in dims and dims[ch] != d and 1 not in (d, dims[ch]):
                fail("equation", "index %r is %d in one operand and %d in another", ch,
                     dims[ch], d)
            dims[ch] = max(d, dims.get(ch, d)) if 1 in (d, dims.get(ch, d)) else d
            counts[ch] = counts.get(ch, 0) + 1
    if not arrow:
        out = ("..." if ell else "") + "".join(sorted(ch for ch, n in counts.items() if n == 1))
    i = out.find("...")
    head, tail = (out[:i], out[i + 3:]) if i >= 0 else (out, "")
    for ch in head + tail:
        if ch not in dims:
            fail("equation", "output index %r is not in any operand", ch)
    shape = [dims[ch] for ch in head] + (list(ell) if i >= 0 else []) + [dims[ch] for ch in tail]
    return [tuple(shape)]


_einsum_shape.bad_shapes = []


def _einsum_samples(dt):
    r = np.random.default_rng(4)
    v = lambda *s: r.uniform(-1, 1, s).astype(dt)  # noqa: E731
    return [Sample([v(3, 4), v(4, 5)], {"equation": "ij,jk->ik", "num_args": 2}),
            Sample([v(2, 3, 4)], {"equation": "bij->bji", "num_args": 1}),
            Sample([v(3, 3)], {"equation": "ii", "num_args": 1}),
            Sample([v(2, 3, 4), v(2, 4, 2)], {"equation": "...ij,...jk", "num_args": 2}),
            Sample([v(5), v(5)], {"equation": "i,i", "num_args": 2})]


register(OpDef(
    "_onnx_einsum", variadic="num_args",
    params={"equation": Param("str", doc="Einstein summation equation (NumPy's syntax)."),
            "num_args": Param("int", doc="Number of operands.")},
    infer_shape=_einsum_shape,
    forward=lambda xp, a, ins, outs: outs[0].__setitem__(Ellipsis, xp.einsum(a.equation, *ins)),
    reference=lambda a, *xs: np.asarray(np.einsum(
        a.equation, *[x.astype(np.float64) for x in xs])).astype(xs[0].dtype),
    nondiff=True, dtypes="numeric", samples=_einsum_samples,
    doc="Einstein summation of the inputs (ONNX import)."))
from . import onnx_ops_signal  # noqa: F401,E402  (DFT, GridSample, BitCast)
