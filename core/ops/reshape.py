"""Reshape (and its alias reshape), with MXNet's special shape codes (imported by shape.py).

MXNet semantics kept here (checked against MXNet 1.9.1):
- Reshape's special codes are applied left to right (right to left with reverse=True):
  0 copies the next input dim, -1 is inferred (and consumes one input dim), -2 copies all
  remaining input dims, -3 merges the next two input dims, -4 splits the next input dim
  into the two values that follow it (one may be -1).  A positive value also consumes one
  input dim, so `(3, -1, 0)` on (2, 3, 4) gives (3, 2, 4).  MXNet does not check that the
  element count is preserved (and then reads out of bounds); plait rejects it.
"""
import numpy as np

from ..base import fail
from .params import Param
from .registry import BadSample, OpDef, register
from .shape import _ALL_TYPES, _copy_into, _reshape_grad, _samples, _size, view_op


# -- Reshape --------------------------------------------------------------------------------------
def _reshape_codes(v):
    bad = [d for d in v if d < -4]
    return ("dimensions must be positive or one of the special codes 0, -1, -2, -3, -4; got %s"
            % (bad,)) if bad else None


def infer_reshape(spec, dshape, reverse=False):
    """MXNet's InferReshapeShape: the special codes applied to the input shape `dshape`."""
    src, spec = list(dshape), list(spec)
    if reverse:
        src.reverse()
        spec.reverse()
    out, si, inf, i = [], 0, -1, 0
    orig = tuple(spec[::-1] if reverse else spec)

    def need(k, code):
        if si + k > len(src):
            fail("shape", "code %d in shape %s needs %d more input dimension(s), but the input "
                          "%s has none left", code, orig, k, tuple(dshape))
    while i < len(spec):
        d = spec[i]
        if d == 0:
            need(1, 0)
            out.append(src[si])
            si += 1
        elif d == -1:
            if inf >= 0:
                fail("shape", "only one dimension can be -1 (inferred); got shape %s", orig)
            inf = len(out)
            out.append(1)
            si += 1
        elif d == -2:
            out.extend(src[si:])
            si = len(src)
        elif d == -3:
            need(2, -3)
            out.append(src[si] * src[si + 1])
            si += 2
        elif d == -4:
            if i + 2 >= len(spec):
                fail("shape", "code -4 in shape %s must be followed by two dimensions", orig)
            need(1, -4)
            d0 = src[si]
            si += 1
            d1, d2 = spec[i + 1], spec[i + 2]
            i += 2
            if (d1 == -1 and d2 == -1) or d1 == 0 or d2 == 0 or d1 < -1 or d2 < -1:
                fail("shape", "code -4 splits a dimension into two sizes, each positive or one "
                              "-1; got %d, %d in shape %s", d1, d2, orig)
            if d1 == -1:
                d1 = d0 // d2
            if d2 == -1:
                d2 = d0 // d1
            if d1 * d2 != d0:
                fail("shape", "code -4 splits input dimension %d into %d x %d, which does not "
                              "multiply to it (shape %s, input %s)", d0, d1, d2, orig,
                 tuple(dshape))
            out += [d1, d2]
        else:
            out.append(d)
            si += 1
        i += 1
    total = _size(dshape)
    if inf >= 0:
        rest = _size(out)
        if rest == 0 or total % rest:
            fail("shape", "cannot infer the -1 in shape %s: the input %s has %d elements, not a "
                          "multiple of %d", orig, tuple(dshape), total, rest)
        out[inf] = total // rest
    if reverse:
        out.reverse()
    return tuple(out)


def _legacy_target(a, dshape):
    """The deprecated target_shape/keep_highest form (used when shape is empty)."""
    out = list(a.target_shape)
    start = 1 if a.keep_highest else 0
    if a.keep_highest:
        out[0] = dshape[0]
    zeros = [i for i in range(start, len(out)) if out[i] == 0]
    if len(zeros) == 1:
        out[zeros[0]] = 1
        rest = _size(out)
        out[zeros[0]] = _size(dshape) // rest if rest else 0
    return tuple(out)


def _reshape_shape(a, shapes):
    dshape = tuple(shapes[0])
    if a.shape:
        out = infer_reshape(a.shape, dshape, a.reverse)
    elif a.target_shape:
        out = _legacy_target(a, dshape)
    else:
        fail("shape", "the target shape is missing (give shape=(...))")
    if _size(out) != _size(dshape):
        fail("shape", "shape %s gives %s (%d elements), but the input %s has %d elements",
             a.shape or a.target_shape, out, _size(out), dshape, _size(dshape))
    if not out:
        fail("shape", "the target shape is empty; MXNet arrays have at least one dimension")
    return [out]


def _reshape_ref(a, x):
    """Independent reading of the documented codes: consume the input dims as a queue."""
    spec = list(a.shape) if a.shape else None
    if spec is None:
        return x.reshape(_legacy_target(a, x.shape))
    dims = list(x.shape)
    if a.reverse:
        spec, dims = spec[::-1], dims[::-1]
    res, hole = [], None
    it = iter(spec)
    for code in it:
        if code == -2:
            res += dims
            dims = []
            continue
        if code == -4:
            first, second, d = next(it), next(it), dims.pop(0)
            first = d // second if first == -1 else first
            second = d // first if second == -1 else second
            res += [first, second]
            continue
        if code == -3:
            res.append(dims.pop(0) * dims.pop(0))
            continue
        d = dims.pop(0) if dims else None
        if code == 0:
            res.append(d)
        elif code == -1:
            hole = len(res)
            res.append(1)
        else:
            res.append(code)
    if hole is not None:
        res[hole] = x.size // int(np.prod(res))
    return x.reshape(res[::-1] if a.reverse else res)


_RESHAPE_CASES = [
    ((2, 3, 4), {"shape": (4, -1)}), ((2, 3, 4), {"shape": (-1,)}),
    ((2, 3, 4), {"shape": (0, -1)}), ((2, 3, 4), {"shape": (3, -1, 0)}),
    ((2, 3, 4), {"shape": (-3, -1)}), ((2, 3, 4), {"shape": (0, -3)}),
    ((2, 3, 4), {"shape": (-2, 1, 1)}), ((2, 3, 4), {"shape": (-1, -2)}),
    ((2, 3, 4), {"shape": (-4, 1, 2, -2)}), ((2, 3, 4), {"shape": (-4, 2, -1, 0, 0)}),
    ((2, 3, 4), {"shape": (0, -4, -1, 1, 0)}), ((2, 3, 4), {"shape": (-1, 0), "reverse": True}),
    ((2, 3, 4), {"shape": (-3, 0), "reverse": True}),
    ((2, 3, 4), {"shape": (-2, -3), "reverse": True}),
    ((10, 5, 4), {"shape": (-1, 0), "reverse": True}), ((6,), {"shape": (2, 3)}),
    ((2, 3, 4), {"target_shape": (0, 4)}),
    ((2, 3, 4), {"target_shape": (4, 0), "keep_highest": True}), ((1,), {"shape": (1, 1)}),
]


def _reshape_bad():
    x = np.ones((2, 3, 4), np.float32)
    return [BadSample([x], {"shape": (-1, -1)}, match=("shape", "-1")),
            BadSample([x], {"shape": (5, -1)}, match=("shape", "(5, -1)", "24")),
            BadSample([x], {"shape": (4, 5)}, match=("shape", "20", "24")),
            BadSample([x], {"shape": (0, 0, 0, 0)}, match=("shape", "code 0")),
            BadSample([x], {"shape": (-3, -3)}, match=("shape", "-3")),
            BadSample([x], {"shape": (-4, 3, 1, -2)}, match=("shape", "-4", "3 x 1")),
            BadSample([x], {"shape": (-4, -1, -1, -2)}, match=("shape", "-4")),
            BadSample([x], {"shape": (-4, 1)}, match=("shape", "-4")),
            BadSample([x], {"shape": (-5, 4)}, match=("shape", "-5")),
            BadSample([x], {}, match=("shape", "missing")),
            BadSample([x], {"shape": (0, -2), "reverse": True}, match=("shape",))]


view_op(OpDef(
    "Reshape", aliases=("reshape",),
    params={"shape": Param("shape", (), check=_reshape_codes,
                           doc="The target shape, with MXNet's special codes 0, -1, -2, -3, -4."),
            "reverse": Param("bool", False, doc="Apply the special codes from right to left."),
            "target_shape": Param("shape", (), doc="(Deprecated; use shape.) Target shape; "
                                                   "one 0 is inferred."),
            "keep_highest": Param("bool", False, doc="(Deprecated) With target_shape: keep the "
                                                     "first input dimension.")},
    infer_shape=_reshape_shape, forward=_copy_into, inplace=[(0, 0)], reference=_reshape_ref,
    gradient=_reshape_grad,
    samples=_samples(_RESHAPE_CASES), test_dtypes=_ALL_TYPES, bad_samples=_reshape_bad,
    doc="The input with a new shape (same elements in the same row-major order). "
        "Special codes in `shape`: 0 copies an input dim, -1 infers one dim, -2 copies the "
        "remaining dims, -3 merges two dims, -4 splits one dim into the next two values. "
        "reverse=True applies them from the right."))
