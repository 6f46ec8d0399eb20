"""Import rules: constants and generators, Dropout, TopK, Trilu, OneHot."""
import numpy as np

from . import tensors
from .import_rules import onnx_op


@onnx_op("Constant")
def constant(c):
    a = c.attrs
    if "value" in a:
        return np.asarray(a["value"])
    for key, dt in (("value_float", np.float32), ("value_floats", np.float32),
                    ("value_int", np.int64), ("value_ints", np.int64)):
        if key in a:
            return np.asarray(a[key], dtype=dt)
    if "value_string" in a or "value_strings" in a:
        c.unsupported("string constants are not supported")
    c.unsupported("Constant without a supported value attribute (%s)" % ", ".join(a))


@onnx_op("ConstantOfShape")
def constant_of_shape(c):
    shape = tuple(c.ints(0, None, "shape"))
    v = c.attr("value")
    v = np.zeros(1, np.float32) if v is None else np.asarray(v).reshape(-1)
    return np.full(shape, v[0], dtype=v.dtype)


@onnx_op("EyeLike")
def eye_like(c):
    s = c.shape(0)
    dt = c.attr("dtype")
    dtype = tensors.np_dtype(dt) if dt is not None else c.dtype(0)
    return np.eye(s[0], s[1], k=int(c.attr("k", 0)), dtype=dtype)


@onnx_op("Range")
def range_(c):
    start, limit, delta = (np.asarray(c.value(i, what=w)).reshape(-1)[0]
                           for i, w in enumerate(("start", "limit", "delta")))
    dtype = np.asarray(c.value(0)).dtype
    n = max(int(np.ceil((limit - start) / delta)), 0)
    return (start + np.arange(n, dtype=np.float64) * delta).astype(dtype) if dtype.kind == "f" \
        else (start + np.arange(n, dtype=np.int64) * delta).astype(dtype)


@onnx_op("Dropout")
def dropout(c):
    """Inference: the identity (and an all-true mask); training_mode=True is refused."""
    if c.opset >= 12 and c.has(2) and bool(np.asarray(c.value(2, what="training_mode"))):
        ratio = float(np.asarray(c.value(1, 0.5, "ratio")))
        if ratio != 0.0:
            c.unsupported("training_mode=True with ratio %g is not supported" % ratio)
    x = c.x(0)
    out = [c.F._copy(x)]
    if c.num_outputs > 1:
        out.append(np.ones(c.shape(0), dtype=bool))
    return out


@onnx_op("TopK")
def topk(c):
    F = c.F
    k = int(c.attr("k")) if c.opset < 10 else int(np.asarray(c.value(1, what="k")).reshape(-1)[0])
    axis = int(c.attr("axis", -1)) % c.rank(0)
    largest = bool(c.attr("largest", 1))
    from .import_math import narrow, widen
    x, back = widen(c, c.x(0), 0)
    vals, idx = F.topk(x, k=k, axis=axis, ret_typ="both", is_ascend=not largest,
                       dtype="int64")
    return [narrow(c, vals, back), idx]


@onnx_op("Trilu")
def trilu(c):
    s = c.shape(0)
    k = int(np.asarray(c.value(1, 0, "k")).reshape(-1)[0]) if c.has(1) else 0
    ones = np.ones(s[-2:], dtype=bool)
    mask = np.triu(ones, k) if c.attr("upper", 1) else np.tril(ones, k)
    mask = np.broadcast_to(mask, s).copy()
    F = c.F
    x = c.x(0)
    dt = c.dtype(0)
    if dt == np.dtype(bool):
        x = F.Cast(x, dtype="uint8")
    m = c.imp.tensor(_const(c, mask.astype(np.uint8 if dt == np.dtype(bool) else dt)), F)
    out = F.where(m, x, F.zeros_like(x))
    return F.Cast(out, dtype="bool") if dt == np.dtype(bool) else out


def _const(c, arr):
    from .importer import _Val
    return _Val(c.name + "_const", const=arr)


@onnx_op("OneHot")
def one_hot(c):
    F = c.F
    depth = int(np.asarray(c.value(1, what="depth")).reshape(-1)[0])
    vals = np.asarray(c.value(2, what="values"))
    r = c.rank(0)
    axis = int(c.attr("axis", -1)) % (r + 1)
    idx = c.x(0)
    idx = F.broadcast_add(idx, F._mul_scalar(F._lesser_scalar(idx, scalar=0), scalar=depth))
    out = F.one_hot(idx, depth=depth, on_value=float(vals[1]), off_value=float(vals[0]),
                    dtype=vals.dtype.name)
    if axis != r:
        axes = list(range(r))
        axes.insert(axis, r)
        out = F.transpose(out, axes=tuple(axes))
    return out
