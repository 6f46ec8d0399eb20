"""Making graph nodes the way MXNet's Symbol API does (MXSymbolCreateAtomicSymbol +
nnvm's Symbol::Compose): op nodes with their attributes as strings, automatic names,
automatically created input variables, and copies of a graph for composition.
"""
import numpy as np

from ..core.base import PlaitError
from ..core.graph.ir import Entry, Graph, Node
from ..core.ops.params import Param
from .name import current_attr_scope, current_name_manager

# keys MXNet stores as '__key__' (and lists under both spellings); c_api_symbolic.cc
HIDDEN_KEYS = ("ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage",
               "profiler_scope")

# '__init__' given to a variable fed to these inputs at composition, unless it has one
# (MXNet's FSetInputVarAttrOnCompose)
VAR_INIT_ON_COMPOSE = {
    "BatchNorm": {3: '["zero", {}]', 4: '["one", {}]'},
    "_contrib_BatchNormWithReLU": {3: '["zero", {}]', 4: '["one", {}]'},
    "LeakyReLU": {1: '["Constant", {"value": 0.25}]'},
}


class _NullType:
    """Default of op parameters in mx.sym signatures: 'not given' (MXNet's _Null)."""
    __slots__ = ()

    def __repr__(self):
        return "_Null"


_Null = _NullType()


def attr_key(key, op_name=None):
    """'lr_mult' -> '__lr_mult__'; 'weight_lr_mult' is refused as MXNet does."""
    for k in HIDDEN_KEYS:
        if key == k:
            return "__%s__" % k
        if key.endswith("_" + k) and not key.startswith("__"):
            raise PlaitError("setting variable attributes with %s is deprecated. please "
                             "instead use\nw = Variable(%s=...)\nsym = YourSymbolName(%s=w)"
                             % (key, k, key[:-len(k) - 1]), arg=key, op=op_name)
    return key


def listed_attrs(attrs):
    """A node's attributes as MXNet lists them: hidden keys also without underscores."""
    out = dict(attrs)
    for k in HIDDEN_KEYS:
        v = attrs.get("__%s__" % k)
        if v is not None:
            out[k] = v
    return out


def _format(op, key, value):
    p = op.params.get(key)
    if p is not None and type(p).format is not Param.format:  # a param printing itself
        return p.format(value)
    if p is not None and p.kind == "dtype" and value is not None and not isinstance(value, str):
        return np.dtype(value).name
    return str(value)


def _single(sym, what):
    ents = sym._entries
    if len(ents) != 1:
        raise PlaitError("%s is a tuple of %d outputs, single value is required"
                         % (what, len(ents)))
    return ents[0]


def _mismatch(where, keys, candidates):
    bad = [k for k in keys if k not in candidates]
    return PlaitError("%s: keyword argument name %s not found. Candidate arguments: %s"
                      % (where, ", ".join(bad),
                         ", ".join("[%d]%s" % (i, c) for i, c in enumerate(candidates))))


def make_op_node(op, hint, sym_args, sym_kwargs, params, name=None, attr=None):
    """A new node calling `op`; returns it (wrap its outputs in a Symbol).

    sym_args     list of Symbols (variadic ops) -- or None
    sym_kwargs   dict input name -> Symbol (fixed-arity ops)
    params       dict param name -> Python value (strings kept as MXNet does: str(v))
    Inputs not given become variables '<name>_<input>' carrying the node's attributes.
    """
    params = dict(params)
    params.update(current_attr_scope().get(attr))
    # control-flow ops: bodies given as `subgraphs` become the node's subgraphs
    subgraphs = params.pop("subgraphs", None) if "subgraphs" in op.params else None
    name = current_name_manager().get(name, hint)
    strs = {}
    for k, v in params.items():
        if v is _Null:
            continue
        strs[attr_key(k, op.name)] = _format(op, k, v)
    if op.variadic and op.variadic not in strs:
        strs[op.variadic] = str(len(sym_args or ()) + len(sym_kwargs or {}))
    node = Node(op, name, strs, subgraphs=subgraphs or ())
    try:
        parsed = node.params()
    except PlaitError as e:
        e.op = e.op or op.name
        raise
    if op.variadic:
        if sym_kwargs:
            raise PlaitError("variable length function does not accept keyword inputs (%s)"
                             % ", ".join(sym_kwargs), op=op.name)
        node.inputs = [_single(s, "argument %d" % i) for i, s in enumerate(sym_args or ())]
        n = parsed[op.variadic]
        if len(node.inputs) != n:
            raise PlaitError("%s=%d but %d input(s) were given" % (op.variadic, n,
                                                                   len(node.inputs)),
                             arg=op.variadic, op=op.name)
    else:
        names = list(op.input_names(parsed))
        sym_kwargs = dict(sym_kwargs or {})
        if any(k not in names for k in sym_kwargs):
            e = _mismatch("Symbol.Compose", list(sym_kwargs), names)
            e.op = op.name
            raise e
        inputs = []
        for nm in names:
            s = sym_kwargs.get(nm)
            if s is not None:
                inputs.append(_single(s, "keyword argument %s" % nm))
            else:
                v = Node(None, "%s_%s" % (name, nm) if name else nm, node.attrs)
                inputs.append(Entry(v, 0))
        node.inputs = inputs
    init = VAR_INIT_ON_COMPOSE.get(op.name)
    if init:
        for i, e in enumerate(node.inputs):
            if i in init and e.node.op is None and "__init__" not in e.node.attrs:
                e.node.attrs["__init__"] = init[i]
    return node


def make_variable(name, attrs):
    return Node(None, name, attrs)


def copy_graph(entries):
    """Fresh copies of every node reachable from `entries` (same names and attributes)."""
    memo = {}
    for n in Graph(entries).topo_nodes():
        memo[id(n)] = Node(n.op, n.name, n.attrs,
                           [Entry(memo[id(e.node)], e.index) for e in n.inputs], n.subgraphs)
    return [Entry(memo[id(e.node)], e.index) for e in entries]


def compose(entries, kwargs, name=None):
    """Copy the graph of `entries`, replacing variables named in `kwargs` (name -> Symbol)
    by those symbols' outputs (nnvm's general Symbol::Compose); rename output 0's node."""
    if len(entries) == 1 and entries[0].node.op is None:
        raise PlaitError("Variable cannot be composed")
    repl = {k: _single(v, "keyword argument %s" % k) for k, v in kwargs.items()}
    new = copy_graph(entries)
    nodes = Graph(new).topo_nodes()
    names = [n.name for n in nodes if n.op is None]
    if any(k not in names for k in repl):
        raise _mismatch("Symbol.Compose", list(repl), names)
    for n in nodes:
        n.inputs = [repl.get(e.node.name, e) if e.node.op is None else e for e in n.inputs]
        n._parsed = None
    new = [repl.get(e.node.name, e) if e.node.op is None else e for e in new]
    if name:
        new[0].node.name = name
    return new
