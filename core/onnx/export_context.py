"""What an ONNX export rule sees: the node being translated and the graph under construction.

The rule API (also used by core/onnx/export_rnn.py and any other export_*.py module) is
described in core/onnx/export.py's module docstring.  This module holds its pieces:

- `onnx_rule(*op_names, opsets=(13, None))`: decorator attaching a rule to the OpDefs;
- `ExportNode`: one plait graph node, with its parsed attrs, ONNX input/output names and
  the inferred shapes/dtypes of every input and output;
- `ExportContext`: the ONNX graph being built (nodes, initializers, fresh names, opset).
"""
import numpy as np

from ..base import PlaitError
from ..ops import registry

DEFAULT_OPSETS = (13, None)


def onnx_rule(*op_names, opsets=DEFAULT_OPSETS):
    """Attach the decorated function as the ONNX export rule of the named ops.

    `opsets=(lo, hi)` is the inclusive range of ONNX opsets the rule can write (hi None:
    no upper bound).  The rule is stored on the OpDef (`onnx_export`, `onnx_opsets`), so
    the exporter only ever reads the registry."""
    def attach(fn):
        for name in op_names:
            opdef = registry.get(name)
            opdef.onnx_export = fn
            opdef.onnx_opsets = tuple(opsets)
        return fn
    return attach


def supports(opdef, opset):
    """Whether `opdef` has an export rule that can write `opset`."""
    if opdef.onnx_export is None:
        return False
    lo, hi = getattr(opdef, "onnx_opsets", None) or DEFAULT_OPSETS
    return lo <= opset and (hi is None or opset <= hi)


class ExportNode:
    """One plait node as an export rule sees it.

    name       the node's name (use it for the ONNX node name)
    op         the OpDef
    attrs      parsed params (an Attrs dict with attribute access: node.attrs.kernel)
    inputs     ONNX value names of the inputs, in the op's input order
    outputs    ONNX value names the rule must produce, one per op output (outputs nobody
               reads still get a name; the rule may leave them unproduced)
    in_shapes, in_dtypes, out_shapes, out_dtypes
               shapes (tuples) and NumPy dtypes inferred for the example input shapes;
               the batch dimension of a dynamic export is whatever the caller gave, so a
               rule must not bake in_shapes[0][0] into a constant (use 0/-1 in Reshape)
    """
    __slots__ = ("name", "op", "attrs", "inputs", "outputs", "in_shapes", "in_dtypes",
                 "out_shapes", "out_dtypes")

    def __init__(self, name, op, attrs, inputs, outputs, in_shapes, in_dtypes, out_shapes,
                 out_dtypes):
        self.name, self.op, self.attrs = name, op, attrs
        self.inputs, self.outputs = list(inputs), list(outputs)
        self.in_shapes, self.in_dtypes = list(in_shapes), list(in_dtypes)
        self.out_shapes, self.out_dtypes = list(out_shapes), list(out_dtypes)

    @property
    def ndim(self):
        """Rank of the first input."""
        return len(self.in_shapes[0])

    def __repr__(self):
        return "<ExportNode %s %s>" % (self.op.name, self.name)


class ExportContext:
    """The ONNX graph under construction.  Rules call:

    ctx.opset                 the target opset (int)
    ctx.add(op_type, inputs, outputs=None, name=None, **attrs)
                              append an ONNX node; `outputs` None -> one fresh name, returned
                              as a str; an int k -> k fresh names; a list -> those names;
                              (int or list: returns the list).  Attribute values go through
                              onnx.helper.make_node (ints, floats, strings, lists, tensors)
    ctx.const(array, hint)    a new initializer holding `array` (exact dtype); its name
    ctx.ints(values)          a 1-D int64 initializer (shapes, axes, pads); its name
    ctx.scalar(value, dtype)  a 0-d initializer of `dtype`; its name
    ctx.value(name)           the NumPy value of `name` if it is an initializer, else None
                              (how rules fold weights: transpose, reshape, fix_gamma, ...)
    ctx.fresh(hint)           a new unique value name
    ctx.fail(node, msg)       raise a PlaitError naming the op, the node and the opset
    """

    def __init__(self, opset, onnx_mod):
        self.opset = int(opset)
        self.onnx = onnx_mod
        self.nodes = []            # NodeProtos in order
        self.initializers = {}     # name -> np.ndarray
        self.used_names = set()
        self._const_cache = {}
        self._counter = 0

    # -- names -----------------------------------------------------------------------------
    def reserve(self, name):
        """Claim `name` (graph inputs, plait node outputs); returns a unique variant."""
        base, k = name, 0
        while name in self.used_names:
            k += 1
            name = "%s_%d" % (base, k)
        self.used_names.add(name)
        return name

    def fresh(self, hint="t"):
        self._counter += 1
        return self.reserve("%s__%d" % (hint, self._counter))

    # -- nodes -----------------------------------------------------------------------------
    def add(self, op_type, inputs, outputs=None, name=None, **attrs):
        single = outputs is None
        if single:
            outs = [self.fresh(op_type)]
        elif isinstance(outputs, int):
            outs = [self.fresh(op_type) for _ in range(outputs)]
        else:
            outs = list(outputs)
        attrs = {k: v for k, v in attrs.items() if v is not None}
        node = self.onnx.helper.make_node(op_type, list(inputs), outs,
                                          name=self.fresh(name or op_type), **attrs)
        self.nodes.append(node)
        return outs[0] if single else outs

    # -- constants -------------------------------------------------------------------------
    def const(self, array, hint="const"):
        array = np.asarray(array)
        if not array.flags.c_contiguous:
            array = np.ascontiguousarray(array)
        key = None
        if array.size <= 64:
            key = (array.dtype.str, array.shape, array.tobytes())
            hit = self._const_cache.get(key)
            if hit is not None:
                return hit
        name = self.fresh(hint)
        self.initializers[name] = array
        if key is not None:
            self._const_cache[key] = name
        return name

    def ints(self, values):
        return self.const(np.asarray(list(values), dtype=np.int64).reshape(-1), "ints")

    def scalar(self, value, dtype):
        return self.const(np.asarray(value, dtype=np.dtype(dtype)), "scalar")

    def value(self, name):
        return self.initializers.get(name)

    def fail(self, node, msg):
        raise PlaitError("ONNX export (opset %d) of node '%s': %s" % (self.opset, node.name, msg),
                         op=node.op.name)


# -- helpers shared by the rule modules (ONNX signatures that changed across opsets) -----------
AXES_AS_INPUT_SINCE = {"ReduceSum": 13, "Squeeze": 13, "Unsqueeze": 13}  # others: 18


def reduce(ctx, op_type, x, axes, keepdims=True, out=None):
    """ReduceSum/Mean/Max/Min/Prod/... over `axes` (None: all), axes as input or attribute."""
    outs = None if out is None else [out]
    since = AXES_AS_INPUT_SINCE.get(op_type, 18)
    kd = 1 if keepdims else 0
    if axes is None:
        r = ctx.add(op_type, [x], outs, keepdims=kd)
    elif ctx.opset >= since:
        r = ctx.add(op_type, [x, ctx.ints(axes)], outs, keepdims=kd)
    else:
        r = ctx.add(op_type, [x], outs, axes=list(axes), keepdims=kd)
    return r if out is None else r[0]


def unsqueeze(ctx, x, axes, out=None):
    r = ctx.add("Unsqueeze", [x, ctx.ints(axes)], None if out is None else [out])
    return r if out is None else r[0]


def squeeze(ctx, x, axes, out=None):
    ins = [x] if axes is None else [x, ctx.ints(axes)]
    r = ctx.add("Squeeze", ins, None if out is None else [out])
    return r if out is None else r[0]


def reshape(ctx, x, shape, out=None):
    """Reshape to `shape` (ONNX codes: 0 copies, -1 infers); a constant input is folded."""
    v = ctx.value(x)
    if v is not None and all(d > 0 for d in shape):
        name = ctx.const(v.reshape(shape), "reshaped")
        return name if out is None else ctx.add("Identity", [name], [out])[0]
    r = ctx.add("Reshape", [x, ctx.ints(shape)], None if out is None else [out])
    return r if out is None else r[0]

