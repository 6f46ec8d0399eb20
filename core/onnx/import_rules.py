"""The ONNX import rule table and the context a rule works with.

A rule translates one ONNX node into plait ops.  It is registered for an ONNX op type and an
opset range with `@onnx_op("Relu", since=6)` in one of the import_*.py family modules, and
the driver (importer.py) looks rules up by (op type, model opset).

A rule is `rule(c)` where `c` is a `NodeCtx`; it returns one output or a list.  It writes its
computation against `c.F`, which is `mx.nd` when every input of the node is a constant (the
node is then folded into a constant at import time) and `mx.sym` otherwise, exactly as a
HybridBlock's hybrid_forward is written against F.  An output may also be a NumPy array (a
constant the rule computed itself, e.g. Shape of a statically shaped tensor).
"""
import numpy as np

from ..base import PlaitError

RULES = {}  # op type -> list of (since, until, fn)


def onnx_op(*op_types, since=1, until=None):
    """Register the decorated function as the import rule of `op_types` for opsets
    since..until (inclusive; None = no upper bound)."""
    def deco(fn):
        for t in op_types:
            RULES.setdefault(t, []).append((since, until, fn))
        return fn
    return deco


def find_rule(op_type, opset):
    best = None
    for since, until, fn in RULES.get(op_type, ()):
        if since <= opset and (until is None or opset <= until):
            if best is None or since > best[0]:
                best = (since, fn)
    return None if best is None else best[1]


def is_constant(v):
    """A tensor _Val with a constant value, or a sequence/optional of such."""
    if v.kind == "tensor":
        return v.const is not None
    return all(is_constant(x) for x in v.seq)


class DynamicValueError(PlaitError):
    """A node needs the value of an input (a shape, axes, pads...) that is only known when
    the graph runs.  import_model cannot build a static graph for it; run_model can."""


class Unsupported(PlaitError):
    """The ONNX node uses a feature plait does not translate (the message says which)."""


class NodeCtx:
    """What a rule sees of one ONNX node: attributes, inputs and the F namespace."""

    def __init__(self, imp, node, ins, attrs, opset):
        self.imp, self.node, self.ins, self.attrs, self.opset = imp, node, ins, attrs, opset
        self.op_type = node.op_type
        self.name = node.name or (node.output[0] if node.output else node.op_type)
        self.folding = all(v is None or is_constant(v) for v in ins)
        from ... import ndarray, symbol
        self.F = ndarray if self.folding else symbol
        self.num_outputs = len(node.output)

    # -- attributes ------------------------------------------------------------------------
    def attr(self, name, default=None):
        return self.attrs.get(name, default)

    def need_attr(self, name):
        if name not in self.attrs:
            self.fail("required attribute '%s' is missing" % name)
        return self.attrs[name]

    # -- inputs ----------------------------------------------------------------------------
    def has(self, i):
        return i < len(self.ins) and self.ins[i] is not None

    def is_const(self, i):
        return self.has(i) and self.ins[i].const is not None

    def value(self, i, default=None, what=None):
        """The constant NumPy value of input i (default when the input is omitted)."""
        if not self.has(i):
            return default
        v = self.ins[i]
        if v.const is None:
            raise DynamicValueError(
                "input %d ('%s', the %s) is computed when the graph runs, but its value decides "
                "the output shape; import_model needs it constant (an initializer, a Constant "
                "node or foldable from them): use plait.onnx.run_model to evaluate such graphs "
                "node by node" % (i, self.node.input[i], what or "value"),
                op="%s node '%s'" % (self.op_type, self.name))
        return v.const

    def ints(self, i, default=None, what=None):
        v = self.value(i, None, what)
        return default if v is None else [int(x) for x in np.asarray(v).reshape(-1)]

    def x(self, i):
        """Input i as an NDArray (folding) or a Symbol."""
        if not self.has(i):
            self.fail("input %d is required but omitted" % i)
        if self.ins[i].kind != "tensor":
            self.unsupported("input %d is a %s where a tensor is needed" % (i, self.ins[i].kind))
        return self.imp.tensor(self.ins[i], self.F)

    def shape(self, i):
        """Static shape of input i (a tuple), or a DynamicValueError."""
        s = self.imp.static_shape(self.ins[i])
        if s is None:
            raise DynamicValueError("the shape of input %d ('%s') is not known before the graph "
                                    "runs" % (i, self.node.input[i]),
                                    op="%s node '%s'" % (self.op_type, self.name))
        return s

    def dtype(self, i):
        return self.imp.static_dtype(self.ins[i])

    def rank(self, i):
        return len(self.shape(i))

    # -- errors ----------------------------------------------------------------------------
    def fail(self, msg, cls=PlaitError):
        raise cls(msg, op="ONNX %s node '%s' (opset %d)" % (self.op_type, self.name, self.opset))

    def unsupported(self, msg):
        self.fail(msg, Unsupported)
