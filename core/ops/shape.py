"""Shape manipulation: transpose, expand_dims, squeeze, Flatten, SwapAxis, reverse, tile,
repeat, and the helpers of every pure-view op.  Reshape lives in reshape.py; broadcasting in
broadcast_ops.py; Pad in pad.py; diag in diag.py; reshape_like, shape_array, size_array,
Cast and the *_like fills in like_ops.py (all imported at the end of this module).

MXNet semantics kept here (checked against MXNet 1.9.1):
- transpose and reverse take non-negative axes only; reverse listing an axis twice flips
  it twice (no change).  tile needs reps >= 1; repeats=0 gives shape (0,).
- squeeze removing every axis gives (1,); Flatten of a 1-D (n,) array gives (n, 1).
"""
import numpy as np

from ..base import fail
from . import sampling
from .params import Param
from .registry import BadSample, OpDef, register
from .shape_rules import check_nonnegative_axis, normalize_axes, normalize_axis


def _copy_into(xp, a, ins, outs):
    """Kernel of every pure-view op: the output's values are the view's.  Nothing to do
    when the memory planner gave the output the input's own buffer (view_op)."""
    src, dst = ins[0], outs[0]
    if src.size and _data_ptr(src) == _data_ptr(dst) and src.flags.c_contiguous \
            and dst.flags.c_contiguous:
        return
    dst[...] = src.reshape(dst.shape)


def _data_ptr(a):
    """Address of a NumPy or CuPy array's first element."""
    d = getattr(a, "__array_interface__", None) or a.__cuda_array_interface__
    return d["data"][0]


def view_op(opdef):
    """Register a pure-view op (Reshape, Flatten, expand_dims, ...) whose in-place pair is an
    identity: its output IS its input reshaped, so the planner may give both one buffer even
    while the input is still read later (no copy in planned graphs)."""
    opdef.inplace_identity = (True,) * len(opdef.inplace)
    return register(opdef)


def _reshape_grad(F, a, ins, outs, g):
    """Gradient of every pure-view op: the output gradient in the input's shape."""
    return [F.reshape_like(g[0], ins[0])]


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


_samples = sampling.cases  # cases: [(shape, attrs), ...] -> samples(dtype)


_ALL_TYPES = ("float32", "float64", "int32", "bool")


# -- transpose, expand_dims, squeeze, Flatten, SwapAxis ------------------------------------------
def _transpose_axes(a, ndim):
    if not a.axes:
        return tuple(range(ndim - 1, -1, -1))
    axes = tuple(a.axes)
    if len(axes) != ndim or sorted(axes) != list(range(ndim)):
        fail("axes", "axes %s is not a permutation of 0..%d for an input of %d dimension(s)",
             axes, ndim - 1, ndim)
    return axes


def _transpose_shape(a, shapes):
    s = shapes[0]
    return [tuple(s[i] for i in _transpose_axes(a, len(s)))]


_transpose_shape.bad_shapes = []


def _transpose_grad(F, a, ins, outs, g):
    """Transpose back by the inverse permutation (the default reversal is its own inverse)."""
    if not a.axes:
        return [F.transpose(g[0])]
    return [F.transpose(g[0], axes=tuple(int(i) for i in np.argsort(a.axes)))]


register(OpDef(
    "transpose", gradient=_transpose_grad,
    params={"axes": Param("shape", (), doc="The new order of the axes (a permutation of "
                                           "0..ndim-1); by default the axes are reversed.")},
    infer_shape=_transpose_shape,
    forward=lambda xp, a, ins, outs: outs[0].__setitem__(
        Ellipsis, xp.transpose(ins[0], _transpose_axes(a, ins[0].ndim))),
    reference=lambda a, x: np.transpose(x, a.axes or None),
    samples=_samples([((3, 4), {}), ((2, 3, 4), {}), ((2, 3, 4), {"axes": (1, 0, 2)}),
                      ((2, 3, 4), {"axes": (2, 0, 1)}), ((5,), {}),
                      ((2, 1, 3, 2), {"axes": (3, 1, 0, 2)})]),
    test_dtypes=_ALL_TYPES,
    bad_samples=lambda: [BadSample([np.ones((2, 3, 4))], {"axes": (0, 1)},
                                   match=("axes", "(0, 1)")),
                         BadSample([np.ones((2, 3, 4))], {"axes": (0, 0, 1)}, match=("axes",)),
                         BadSample([np.ones((2, 3, 4))], {"axes": (-1, 0, 1)}, match=("axes",)),
                         BadSample([np.ones((2, 3, 4))], {"axes": (0, 1, 3)}, match=("axes", "3"))],
    doc="Permute the axes of the array (reverse them by default)."))


def _expand_shape(a, shapes):
    s = tuple(shapes[0])
    ax = normalize_axis(a.axis, len(s), allow_end=True)
    return [s[:ax] + (1,) + s[ax:]]


_expand_shape.bad_shapes = []
view_op(OpDef(
    "expand_dims",
    params={"axis": Param("int", doc="Where the new axis goes, in [-ndim-1, ndim].")},
    infer_shape=_expand_shape, forward=_copy_into, inplace=[(0, 0)], gradient=_reshape_grad,
    reference=lambda a, x: np.expand_dims(x, a.axis),
    samples=_samples([((3, 4), {"axis": 0}), ((3, 4), {"axis": 2}), ((3, 4), {"axis": -1}),
                      ((2, 3, 4), {"axis": -4}), ((5,), {"axis": 1})]),
    test_dtypes=_ALL_TYPES,
    bad_samples=lambda: [BadSample([np.ones((2, 3))], {"axis": -4}, match=("axis", "-4")),
                         BadSample([np.ones((2, 3))], {}, match=("axis", "required"))],
    doc="Insert a new axis of size 1 at position `axis`."))


def _squeeze_shape(a, shapes):
    s = tuple(shapes[0])
    if a.axis is None:
        drop = [i for i, d in enumerate(s) if d == 1]
    else:
        drop = normalize_axes(a.axis, len(s))
        for i in drop:
            if s[i] != 1:
                fail("axis", "cannot squeeze axis %d of shape %s: it has size %d, not 1",
                     i, s, s[i])
    return [tuple(d for i, d in enumerate(s) if i not in drop) or (1,)]


_squeeze_shape.bad_shapes = []
view_op(OpDef(
    "squeeze",
    params={"axis": Param("axes", None, doc="The size-1 axes to remove; None removes all.")},
    infer_shape=_squeeze_shape, forward=_copy_into, inplace=[(0, 0)], gradient=_reshape_grad,
    reference=lambda a, x: np.squeeze(x, a.axis).reshape(_squeeze_shape(a, [x.shape])[0]),
    samples=_samples([((1, 3, 1), {}), ((1, 1), {}), ((2, 1, 3), {"axis": 1}),
                      ((1, 3, 1), {"axis": (0, -1)}), ((1, 3, 1), {"axis": ()}),
                      ((3, 4), {}), ((1,), {"axis": 0})]),
    test_dtypes=_ALL_TYPES,
    bad_samples=lambda: [BadSample([np.ones((1, 2, 1))], {"axis": 1}, match=("axis", "size 2")),
                         BadSample([np.ones((1, 2, 1))], {"axis": (0, 0)}, match=("axis",)),
                         BadSample([np.ones((1, 2, 1))], {"axis": 3}, match=("axis", "3"))],
    doc="Remove axes of size 1 (all of them, or those in `axis`); removing every axis "
        "gives shape (1,)."))


def _flatten_shape(a, shapes):
    s = tuple(shapes[0])
    return [(s[0], _size(s[1:]))]


_flatten_shape.bad_shapes = []
view_op(OpDef(
    "Flatten", aliases=("flatten",), infer_shape=_flatten_shape, forward=_copy_into,
    inplace=[(0, 0)], reference=lambda a, x: x.reshape(x.shape[0], -1), gradient=_reshape_grad,
    samples=_samples([((2, 3, 4), {}), ((3, 4), {}), ((5,), {}), ((2, 1, 3, 2), {})]),
    test_dtypes=_ALL_TYPES, doc="Collapse all axes but the first: (d0, d1, ..., dk) -> "
                                "(d0, d1*...*dk); a 1-D (n,) array gives (n, 1)."))


def _swap_dims(a, ndim):
    return normalize_axis(a.dim1, ndim, "dim1"), normalize_axis(a.dim2, ndim, "dim2")


def _swap_shape(a, shapes):
    s = list(shapes[0])
    d1, d2 = _swap_dims(a, len(s))
    s[d1], s[d2] = s[d2], s[d1]
    return [tuple(s)]


_swap_shape.bad_shapes = []
register(OpDef(
    "SwapAxis", aliases=("swapaxes",),
    gradient=lambda F, a, ins, outs, g: [F.SwapAxis(g[0], dim1=a.dim1, dim2=a.dim2)],
    params={"dim1": Param("int", 0, doc="The first axis."),
            "dim2": Param("int", 0, doc="The second axis.")},
    infer_shape=_swap_shape,
    forward=lambda xp, a, ins, outs: outs[0].__setitem__(
        Ellipsis, xp.swapaxes(ins[0], *_swap_dims(a, ins[0].ndim))),
    reference=lambda a, x: np.swapaxes(x, a.dim1, a.dim2),
    samples=_samples([((2, 3, 4), {"dim1": 0, "dim2": 2}), ((2, 3, 4), {}),
                      ((3, 4), {"dim1": 1, "dim2": 0}), ((2, 3, 4), {"dim1": -1, "dim2": 1})]),
    test_dtypes=_ALL_TYPES,
    bad_samples=lambda: [BadSample([np.ones((2, 3))], {"dim1": 2}, match=("dim1", "2")),
                         BadSample([np.ones((2, 3))], {"dim2": -3}, match=("dim2", "-3"))],
    doc="Interchange two axes of the array."))


# -- reverse, tile, repeat ------------------------------------------------------------------------
def _flip_axes(a, ndim):
    """Each listed axis (non-negative, as in MXNet) flipped; listed twice = flipped back."""
    for ax in a.axis:
        check_nonnegative_axis(ax, ndim, "reverse")
    return tuple(ax for ax in range(ndim) if list(a.axis).count(ax) % 2)


def _reverse_fwd(xp, a, ins, outs):
    axes = _flip_axes(a, ins[0].ndim)
    outs[0][...] = xp.flip(ins[0], axis=axes) if axes else ins[0]


def _reverse_shape(a, shapes):
    _flip_axes(a, len(shapes[0]))
    return [tuple(shapes[0])]


def _reverse_ref(a, x):
    for ax in a.axis:
        x = x[(slice(None),) * ax + (slice(None, None, -1),)]
    return x


register(OpDef(
    "reverse", aliases=("flip",),
    gradient=lambda F, a, ins, outs, g: [F.reverse(g[0], axis=a.axis)],
    params={"axis": Param("shape", doc="The axes to reverse.")},
    infer_shape=_reverse_shape,
    forward=_reverse_fwd, reference=_reverse_ref,
    samples=_samples([((3, 4), {"axis": 0}), ((2, 3, 4), {"axis": (0, 2)}),
                      ((2, 3, 4), {"axis": 1}), ((2, 3, 4), {"axis": (1, 1)}),
                      ((5,), {"axis": 0}), ((3, 4), {"axis": ()})]),
    test_dtypes=_ALL_TYPES,
    bad_samples=lambda: [BadSample([np.ones((2, 3))], {"axis": -1}, match=("axis", "-1")),
                         BadSample([np.ones((2, 3))], {"axis": (0, 2)}, match=("axis", "2")),
                         BadSample([np.ones((2, 3))], {}, match=("axis", "required"))],
    doc="Reverse the order of elements along the given axes (non-negative axes)."))


def _tile_shape(a, shapes):
    s, reps = tuple(shapes[0]), tuple(a.reps)
    n = max(len(s), len(reps))
    s = (1,) * (n - len(s)) + s
    reps = (1,) * (n - len(reps)) + reps
    return [tuple(d * r for d, r in zip(s, reps))]


_tile_shape.bad_shapes = []
register(OpDef(
    "tile", gradient=lambda F, a, ins, outs, g: [F._backward_tile(g[0], ins[0], reps=a.reps)],
    params={"reps": Param("shape", doc="Repetitions per axis (aligned from the right).",
                          check=lambda v: None if all(r >= 1 for r in v) else
                          "every repetition must be >= 1")},
    infer_shape=_tile_shape,
    forward=lambda xp, a, ins, outs: outs[0].__setitem__(
        Ellipsis, xp.tile(ins[0], a.reps) if a.reps else ins[0]),
    reference=lambda a, x: np.tile(x, a.reps),
    samples=_samples([((2, 3), {"reps": (2,)}), ((2, 3), {"reps": (2, 1, 3)}),
                      ((2, 3, 4), {"reps": (1, 2, 1)}), ((3,), {"reps": ()}),
                      ((2, 1, 3), {"reps": (3, 2)})]),
    test_dtypes=_ALL_TYPES,
    bad_samples=lambda: [BadSample([np.ones((2, 3))], {"reps": (0, 2)}, match=("reps", ">= 1")),
                         BadSample([np.ones((2, 3))], {"reps": (-1,)}, match=("reps",))],
    doc="Repeat the whole array `reps` times along each axis."))


def _repeat_shape(a, shapes):
    s = tuple(shapes[0])
    if a.axis is None:
        return [(_size(s) * a.repeats,)]
    ax = normalize_axis(a.axis, len(s))
    if a.repeats == 0:
        return [(0,)]
    return [s[:ax] + (s[ax] * a.repeats,) + s[ax + 1:]]


_repeat_shape.bad_shapes = []
register(OpDef(
    "repeat",
    gradient=lambda F, a, ins, outs, g: [F._backward_repeat(g[0], ins[0], repeats=a.repeats,
                                                            axis=a.axis)],
    params={"repeats": Param("int", doc="How many times each element is repeated.",
                             check=lambda v: None if v >= 0 else "repeats cannot be negative"),
            "axis": Param("int", None, doc="The axis; None repeats the flattened array.")},
    infer_shape=_repeat_shape,
    forward=lambda xp, a, ins, outs: outs[0].__setitem__(
        Ellipsis, xp.repeat(ins[0], a.repeats, axis=a.axis).reshape(outs[0].shape)),
    reference=lambda a, x: np.repeat(x, a.repeats, axis=a.axis).reshape(
        _repeat_shape(a, [x.shape])[0]),
    samples=_samples([((2, 3), {"repeats": 2}), ((2, 3), {"repeats": 2, "axis": 1}),
                      ((2, 3, 4), {"repeats": 3, "axis": -1}), ((5,), {"repeats": 1}),
                      ((2, 3), {"repeats": 2, "axis": 0})]),
    test_dtypes=_ALL_TYPES,
    bad_samples=lambda: [BadSample([np.ones((2, 3))], {"repeats": -1}, match=("repeats",)),
                         BadSample([np.ones((2, 3))], {"repeats": 2, "axis": -3},
                                   match=("axis", "-3"))],
    doc="Repeat each element `repeats` times (along `axis`, or over the flattened array)."))


from . import reshape, broadcast_ops, pad, diag, like_ops  # noqa: E402,F401  (registration)
from .reshape import infer_reshape  # noqa: E402,F401  (re-exported)
