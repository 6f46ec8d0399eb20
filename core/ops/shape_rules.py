"""Shape rules shared by op families (MXNet's ElemwiseShape, BinaryBroadcastShape, ...).

A rule is `rule(attrs, in_shapes) -> [out_shape, ...]` and raises through `base.fail`
naming the argument and the shapes.  A rule may carry `bad_shapes`: input shapes it
must reject, which the generic test suite feeds to every op that uses the rule.
"""
from ..base import fail


def _tag(bad):
    def deco(fn):
        fn.bad_shapes = bad
        return fn
    return deco


@_tag([])
def same_as_input(attrs, shapes):
    """One output shaped like input 0."""
    return [shapes[0]]


@_tag([[(2, 3), (3, 2)], [(2, 3), (2, 3, 1)]])
def elemwise(attrs, shapes):
    """All inputs must have the same shape; one output of that shape."""
    s0 = shapes[0]
    for i, s in enumerate(shapes[1:], 1):
        if s != s0:
            fail("input %d" % i, "shape %s does not match input 0's shape %s", s, s0)
    return [s0]


def broadcast_shapes(a, b, arg="rhs"):
    """NumPy/MXNet broadcasting of two shapes (shorter one padded with 1s on the left)."""
    if a == b:
        return a
    n = max(len(a), len(b))
    pa = (1,) * (n - len(a)) + tuple(a)
    pb = (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(pa, pb):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            fail(arg, "shapes %s and %s are not broadcastable", tuple(a), tuple(b))
    return tuple(out)


@_tag([[(2, 3), (4,)], [(2, 3), (3, 2)]])
def broadcast(attrs, shapes):
    """Two inputs broadcast against each other (MXNet broadcast_* ops)."""
    return [broadcast_shapes(shapes[0], shapes[1])]


def like_shape(forward_shape, what):
    """Shape rule of a hidden backward op (data, like): `data` must be the `what` shape that
    the forward op's rule `forward_shape` gives for like's shape; the output is like's shape."""
    def rule(attrs, shapes):
        g, like = tuple(shapes[0]), tuple(shapes[1])
        want = tuple(forward_shape(attrs, [like])[0])
        if g != want:
            fail("data", "shape %s is not the %s shape %s of like %s", g, what, want, like)
        return [like]
    rule.bad_shapes = []
    return rule


def normalize_axis(axis, ndim, arg="axis", allow_end=False):
    """Map a possibly negative axis into [0, ndim) (or [0, ndim] with allow_end)."""
    hi = ndim + 1 if allow_end else ndim
    a = axis + hi if axis < 0 else axis
    if not 0 <= a < hi:
        fail(arg, "axis %d is out of range for an input of %d dimension(s)%s",
             axis, ndim, " (valid: %d..%d)" % (-hi, hi - 1) if hi else "")
    return a


def check_nonnegative_axis(axis, ndim, op, arg="axis"):
    """Reject an axis outside [0, ndim), for ops (like MXNet's) that take no negative axes."""
    if not 0 <= axis < ndim:
        fail(arg, "axis %d is out of range for an input of %d dimension(s) (valid: 0..%d; "
                  "%s takes no negative axes)", axis, ndim, ndim - 1, op)


def normalize_axes(axes, ndim, arg="axis"):
    """A tuple of axes -> sorted tuple of distinct non-negative axes."""
    out = sorted(normalize_axis(a, ndim, arg) for a in axes)
    if len(set(out)) != len(out):
        fail(arg, "axis %s repeats an axis", tuple(axes))
    return tuple(out)


def reduce_axes(axis, ndim, exclude=False, arg="axis"):
    """MXNet reduction axes: None or () -> all axes (exclude ignored, as in MXNet's
    ReduceAxesShapeImpl); otherwise exclude=True takes the complement."""
    if axis is None or axis == ():
        return tuple(range(ndim))
    axes = normalize_axes(axis, ndim, arg)
    if exclude:
        axes = tuple(i for i in range(ndim) if i not in axes)
    return axes


def reduced_shape(shape, axes, keepdims):
    """Shape after reducing `axes`; MXNet 1.x has no 0-d arrays, so a full reduction is (1,)."""
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes) or (1,)


def check_bias_count(names, shapes, no_bias):
    """Reject a call whose inputs are not `names`, the list no_bias allows (the weighted
    layers: FullyConnected, Convolution, the deformable convolutions)."""
    if len(shapes) != len(names):
        fail("bias" if len(shapes) > len(names) else "input",
             "expected %d input(s) (%s) with no_bias=%s, got %d", len(names), ", ".join(names),
             no_bias, len(shapes))


def check_input_count(names, shapes, what):
    """Reject a call whose inputs do not match `names` (the list its params allow); invoke
    only checks counts that differ from the full input list (see OpDef.inputs_fn)."""
    if len(shapes) != len(names):
        fail(what, "expected %d input(s) (%s) with these parameters, got %d",
             len(names), ", ".join(names), len(shapes))
