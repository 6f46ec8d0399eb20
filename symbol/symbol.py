"""`Symbol`: a handle on some outputs of a graph (core/graph/ir.py), with MXNet 1.9's API.

A Symbol is a list of `Entry`s (`sym._entries`); nodes are shared between symbols, as in
MXNet (setting an attribute on `fc` is seen by every symbol using it), and composition
(`net(data=x)`) copies the graph first.  Python operators map to the registered ops
MXNet's Symbol uses (`a + b` -> elemwise_add named '_plus0', `a + 1` -> _plus_scalar
named '_plusscalar0'): element-wise ops, so shapes must match as in MXNet.
"""
import os
import warnings
from numbers import Number

import numpy as np

from ..core.base import PlaitError
from ..core.graph.ir import Graph
from ..core.ops import registry
from . import compose as _compose_mod
from .compose import listed_attrs

__all__ = ["Symbol"]


def _input_names(op, params):
    """The op's input names for these params (RNN's depend on mode/use_sequence_length)."""
    if op.inputs_fn is None:
        return op.input_names()
    try:
        return op.input_names(op.parse_attrs(dict(params)))
    except PlaitError:
        return op.input_names()


def _op_call(fname, syms, **params):
    """Call registered op `fname` (MXNet's function name: also the naming hint)."""
    op = registry.get(fname)
    kw = dict(zip(_input_names(op, params), syms)) if not op.variadic else None
    node = _compose_mod.make_op_node(op, fname.lower(), list(syms) if op.variadic else None,
                                     kw, params)
    return Symbol.from_node(node)


def _binary(sym_fn, scalar_fn, rscalar_fn=None):
    def fwd(self, other):
        if isinstance(other, Symbol):
            return _op_call(sym_fn, [self, other])
        if isinstance(other, Number):
            return _op_call(scalar_fn, [self], scalar=other)
        raise TypeError("type %s not supported" % str(type(other)))

    def rev(self, other):
        if isinstance(other, Symbol):
            return fwd(other, self)
        if isinstance(other, Number):
            return _op_call(rscalar_fn or scalar_fn, [self], scalar=other)
        raise TypeError("type %s not supported" % str(type(other)))
    return fwd, rev


def _not_for_symbol(what):
    def fn(self, *args):
        raise NotImplementedError("%s is not supported for Symbol" % what)
    return fn


class Symbol:
    """Symbolic outputs of a computation graph (MXNet's mx.sym.Symbol)."""
    __slots__ = ("_entries", "__weakref__")

    def __init__(self, entries):
        self._entries = list(entries)

    @classmethod
    def from_node(cls, node):
        from ..core.graph.ir import Entry
        return cls([Entry(node, i) for i in range(node.num_outputs())])

    def _graph(self):
        return Graph(self._entries)

    # -- structure ---------------------------------------------------------------------------
    def __repr__(self):
        name = self.name
        if name is None:
            return "<%s group [%s]>" % (type(self).__name__, ", ".join(s.name for s in self))
        return "<%s %s>" % (type(self).__name__, name)

    def __len__(self):
        return len(self._entries)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        raise NotImplementedError("The truth value of a Symbol is not defined")

    __hash__ = object.__hash__

    def __getitem__(self, index):
        n = len(self)
        if isinstance(index, slice):
            return Group([self[i] for i in range(*index.indices(n))])
        if isinstance(index, str):
            idx = None
            for i, nm in enumerate(self.list_outputs()):
                if nm == index:
                    if idx is not None:
                        raise ValueError('There are multiple outputs with name "%s"' % index)
                    idx = i
            if idx is None:
                raise ValueError('Cannot find output that matches name "%s"' % index)
            index = idx
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError("Symbol only support integer index to fetch i-th output")
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("output index %d out of range for %d output(s)" % (index, n))
        return Symbol([self._entries[index]])

    @property
    def name(self):
        nodes = {id(e.node) for e in self._entries}
        return self._entries[0].node.name if len(nodes) == 1 else None

    def list_outputs(self):
        return [e.node.output_names()[e.index] for e in self._entries]

    def list_arguments(self):
        return [n.name for n in self._graph().arguments()[0]]

    def list_auxiliary_states(self):
        return [n.name for n in self._graph().arguments()[1]]

    def list_inputs(self):
        return [n.name for n in self._graph().variables()]

    def get_internals(self):
        from ..core.graph.ir import Entry
        return Symbol([Entry(n, i) for n in self._graph().topo_nodes()
                       for i in range(n.num_outputs())])

    def get_children(self):
        ents = [e for out in self._entries for e in out.node.inputs]
        return Symbol(ents) if ents else None

    # -- attributes --------------------------------------------------------------------------
    def attr(self, key):
        if self.name is None:
            return None
        return self._entries[0].node.attrs.get(key)

    def list_attr(self, recursive=False):
        if recursive:
            raise DeprecationWarning("Symbol.list_attr with recursive=True has been deprecated."
                                     " Please use attr_dict instead.")
        return listed_attrs(self._entries[0].node.attrs)

    def attr_dict(self):
        out = {}
        for n in self._graph().topo_nodes():
            if n.attrs:
                out[n.name] = listed_attrs(n.attrs)
        return out

    def _set_attr(self, **kwargs):
        for key, value in kwargs.items():
            if not isinstance(value, str):
                raise ValueError("Set Attr only accepts string values")
            node = self._entries[0].node
            node.attrs[_compose_mod.attr_key(key)] = value
            node._parsed = None

    # -- composition -------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        name = kwargs.pop("name", None)
        if args and kwargs:
            raise TypeError("compose only accept input Symbols either as positional or "
                            "keyword arguments, not both")
        for v in list(args) + list(kwargs.values()):
            if not isinstance(v, Symbol):
                raise TypeError("Compose expect `Symbol` as arguments")
        if args:
            raise PlaitError("General composition only support kwargs for now "
                             "(give the inputs by variable name)")
        return Symbol(_compose_mod.compose(self._entries, kwargs, name))

    def _compose(self, *args, **kwargs):
        self._entries = self(*args, **kwargs)._entries

    def __copy__(self):
        return Symbol(_compose_mod.copy_graph(self._entries))

    def __deepcopy__(self, memo):
        return self.__copy__()

    def __getstate__(self):
        return {"handle": self.tojson()}

    def __setstate__(self, state):
        from ..core.graph.symbol_json import load_json
        self._entries = load_json(state["handle"]).outputs

    # -- Python operators --------------------------------------------------------------------
    __add__, __radd__ = _binary("_Plus", "_PlusScalar")
    __sub__, __rsub__ = _binary("_Minus", "_MinusScalar", "_RMinusScalar")
    __mul__, __rmul__ = _binary("_Mul", "_MulScalar")
    __truediv__, __rtruediv__ = _binary("_Div", "_DivScalar", "_RDivScalar")
    __div__, __rdiv__ = __truediv__, __rtruediv__
    __mod__, __rmod__ = _binary("_Mod", "_ModScalar", "_RModScalar")
    __pow__, __rpow__ = _binary("_Power", "_PowerScalar", "_rpower_scalar")
    __eq__ = _binary("_equal", "_equal_scalar")[0]
    __ne__ = _binary("_not_equal", "_not_equal_scalar")[0]
    __gt__ = _binary("_greater", "_greater_scalar")[0]
    __ge__ = _binary("_greater_equal", "_greater_equal_scalar")[0]
    __lt__ = _binary("_lesser", "_lesser_scalar")[0]
    __le__ = _binary("_lesser_equal", "_lesser_equal_scalar")[0]
    __iadd__ = _not_for_symbol("+=")
    __isub__ = _not_for_symbol("-=")
    __imul__ = _not_for_symbol("*=")
    __itruediv__ = __idiv__ = _not_for_symbol("/=")
    __imod__ = _not_for_symbol("%=")

    def __neg__(self):
        return self.__mul__(-1.0)

    def __abs__(self):
        return _op_call("abs", [self])

    # -- inference ---------------------------------------------------------------------------
    def _known(self, args, kwargs, what, conv):
        if args and kwargs:
            raise ValueError("Can only specify known argument %ss either by positional or "
                             "kwargs way." % what)
        if args:
            names = self.list_arguments()
            if len(args) > len(names):
                raise PlaitError("%d %ss given for %d argument(s)" % (len(args), what,
                                                                     len(names)))
            return {n: conv(v, n) for n, v in zip(names, args) if v is not None}
        names = self.list_inputs()
        bad = [k for k in kwargs if k not in names]
        if bad:
            raise PlaitError("infer_%s: keyword argument name %s not found. Candidate "
                             "arguments: %s" % (what, ", ".join(bad), ", ".join(
                                 "[%d]%s" % (i, n) for i, n in enumerate(names))))
        return {k: conv(v, k) for k, v in kwargs.items() if v is not None}

    def _infer(self, what, partial, args, kwargs):
        from ..core.graph import infer
        if what == "shape":
            def conv(v, n):
                if not isinstance(v, tuple):
                    raise TypeError("Arguments need to be shapes (tuple), but '%s' is %s."
                                    % (n, type(v)))
                return v
            fn, unknown, out = infer.infer_shapes, (), tuple
        else:
            conv = lambda v, n: np.dtype(v)  # noqa: E731
            fn, unknown, out = infer.infer_types, None, lambda t: np.dtype(t).type
        known = self._known(args, kwargs, what, conv)
        vals, ig = fn(self._graph(), known, partial=True)
        g = ig.graph
        argv, auxv = g.arguments()
        entry = lambda n: vals[ig.row_ptr[ig.node_id[id(n)]]]  # noqa: E731
        res = ([entry(n) for n in argv], [vals[e] for e in ig.output_entries],
               [entry(n) for n in auxv])
        if not partial and any(v is None for part in res for v in part):
            names = [n.name for n in argv if entry(n) is None]
            warnings.warn("Cannot decide %s for the following arguments. Consider providing "
                          "them as input:\n\t" % what + "\n\t".join(
                              "%s: %s" % (n, unknown) for n in names[:10]), stacklevel=3)
            return None, None, None
        return tuple([unknown if v is None else out(v) for v in part] for part in res)

    def infer_shape(self, *args, **kwargs):
        """(arg_shapes, out_shapes, aux_shapes) in list_arguments / list_outputs /
        list_auxiliary_states order; (None, None, None) with a warning if incomplete."""
        return self._infer("shape", False, args, kwargs)

    def infer_shape_partial(self, *args, **kwargs):
        """Like infer_shape, with () for the shapes that cannot be inferred."""
        return self._infer("shape", True, args, kwargs)

    def infer_type(self, *args, **kwargs):
        """(arg_types, out_types, aux_types) as numpy types; (None, None, None) if incomplete."""
        return self._infer("dtype", False, args, kwargs)

    def infer_type_partial(self, *args, **kwargs):
        return self._infer("dtype", True, args, kwargs)

    # -- files -------------------------------------------------------------------------------
    def tojson(self, remove_amp_cast=True):
        from ..core.graph.symbol_json import dump_json
        return dump_json(self._graph())

    def save(self, fname, remove_amp_cast=True):
        if not isinstance(fname, str):
            raise TypeError("fname must be a string")
        text = self.tojson()
        tmp = "%s.tmp%d" % (fname, os.getpid())
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, fname)

    # -- execution ---------------------------------------------------------------------------
    def bind(self, ctx, args, args_grad=None, grad_req="write", aux_states=None,
             group2ctx=None, shared_exec=None):
        from .binding import bind
        return bind(self, ctx, args, args_grad, grad_req, aux_states)

    def simple_bind(self, ctx, grad_req="write", type_dict=None, stype_dict=None,
                    group2ctx=None, shared_arg_names=None, shared_exec=None,
                    shared_buffer=None, **kwargs):
        from .binding import simple_bind
        return simple_bind(self, ctx, grad_req, type_dict, kwargs)

    def eval(self, ctx=None, **kwargs):
        """Bind to `kwargs` (name -> NDArray), run forward, return the outputs."""
        from ..core.context import cpu
        return self.bind(cpu() if ctx is None else ctx, kwargs).forward()

    def gradient(self, wrt):
        raise NotImplementedError("Symbol.gradient is not implemented (as in MXNet 1.9)")

    def debug_str(self):
        lines = []
        for n in self._graph().topo_nodes():
            if n.op is None:
                lines.append("Variable:%s" % n.name)
            else:
                lines.append("Op:%s, Name=%s" % (n.op.name, n.name))
                lines += ["\targ[%d]=%s" % (i, e.node.output_names()[e.index])
                          for i, e in enumerate(n.inputs)]
        return "\n".join(lines)


def Group(symbols, create_fn=Symbol):
    """One symbol with the outputs of all `symbols`, in order."""
    if not symbols or any(not isinstance(s, Symbol) for s in symbols):
        raise TypeError("Expected a list of symbols as input")
    return create_fn([e for s in symbols for e in s._entries])
