"""ONNX -> plait: import_model, import_to_gluon, get_model_metadata, run_model.

How a graph is translated
-------------------------
Nodes are visited in the file's (topological) order.  Each value is either a *constant* (a
NumPy array: initializers, Constant nodes, and everything computable from them) or a
*symbolic* plait Symbol.  The rule of each node (import_rules.RULES, keyed by ONNX op type and
the model's opset, filled by the import_*.py family modules) is written against `F`:
- every input constant -> F is `mx.nd`: the node runs right away through plait's own kernels
  and its outputs are constants (constant folding);
- otherwise F is `mx.sym` and the node becomes plait ops in the Symbol graph.  Constants it
  consumes as tensors become parameters (arg_params; BatchNorm statistics go to aux_params).
A rule may also need an input's *value* (Reshape's shape, Slice's starts, Pad's pads, Resize's
scales, TopK's k...): constants are folded into the op's attributes.  A static shape (what
Shape/Size of a symbolic tensor give) comes from plait's shape inference on the graph built
so far, with the graph inputs' declared shapes.
ONNX ops without a rule whose schema has a function body (LayerNormalization, Gelu, ...) are
imported through that body, inlined with the node's attributes.

Value-dependent shapes
----------------------
plait's graph executor plans every shape before running, so a Symbol cannot have an output
whose shape depends on a value computed while it runs (a Reshape whose shape is a graph
input, NonZero...).  import_model raises DynamicValueError naming the node and the input for
such graphs.  `run_model(model, inputs)` evaluates them instead: it is the same translation
with the graph inputs bound as constants, so every node runs eagerly, node by node, through
mx.nd (the reference interpreter's way, core/graph/eval.py) and every shape is known when
it is needed.  The same holds for control flow (If needs a constant condition, Loop/Scan are
unrolled) and for NonZero / Unique / NonMaxSuppression / TfIdfVectorizer, which are evaluated
on constant inputs only (import_control.py).

dtypes: every ONNX type NumPy holds is read exactly (tensors.py); plait's NDArray holds all of
them but bfloat16/float8/int4/strings.  Ops whose kernels lack a type (int16, uint16, uint32,
uint64 arithmetic) compute in a wider integer type and cast back (import_math.widen).
"""
import os

import numpy as np

from ..base import PlaitError
from . import tensors
from .import_rules import DynamicValueError, NodeCtx, Unsupported, find_rule  # noqa: F401
from . import import_math, import_nn, import_shape, import_misc, import_resize, import_rnn, import_extra, import_control, import_sequence  # noqa: F401,E501


class _Val:
    """One ONNX value: const (NumPy) or sym (Symbol); name is the ONNX name.  Sequences and
    optionals (kind 'sequence' / 'optional') hold their element _Vals in `seq` (an empty
    optional: seq == [])."""
    __slots__ = ("const", "sym", "name", "shape", "dtype", "kind", "seq")

    def __init__(self, name, const=None, sym=None, shape=None, dtype=None, kind="tensor",
                 seq=None):
        self.name, self.const, self.sym, self.shape, self.dtype = name, const, sym, shape, dtype
        self.kind, self.seq = kind, seq


def _value_of(name, v, vi=None):
    """A run_model input (array, list of arrays, None) as a _Val of the declared kind."""
    optional = vi is not None and vi.type.HasField("optional_type")
    if v is None:
        return _Val(name, kind="optional", seq=[])
    if isinstance(v, (list, tuple)):
        inner = _Val(name, kind="sequence", seq=[_Val(name, const=np.asarray(a)) for a in v])
    else:
        inner = _Val(name, const=np.asarray(v))
    return _Val(name, kind="optional", seq=[inner]) if optional else inner


def _plain(v):
    """run_model's output form of a _Val: array, list, or None (empty optional)."""
    if v.kind == "sequence":
        return [_plain(x) for x in v.seq]
    if v.kind == "optional":
        return _plain(v.seq[0]) if v.seq else None
    return v.const


def _load(model_file):
    try:
        import onnx
    except ImportError as e:
        raise ImportError("ONNX import needs the 'onnx' package: pip install 'plait[onnx]'") from e
    if isinstance(model_file, onnx.ModelProto):
        return model_file, None
    path = os.fspath(model_file)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise PlaitError("cannot read ONNX model %r: %s" % (path, e), op="onnx import") from None
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as e:  # protobuf DecodeError: truncated or not a model
        raise PlaitError("%r is not a valid ONNX model (%d bytes; truncated or corrupt?): %s"
                         % (path, len(data), e), op="onnx import") from None
    if not model.HasField("graph"):
        raise PlaitError("%r holds no graph (%d bytes): not an ONNX model" % (path, len(data)),
                         op="onnx import")
    return model, os.path.dirname(os.path.abspath(path))


def _opset(model):
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return int(o.version)
    return 1


def _value_info(vi):
    """(shape or None, dtype or None) of a ValueInfoProto (None dims -> None shape)."""
    t = vi.type
    if not t.HasField("tensor_type"):
        return None, None
    tt = t.tensor_type
    dtype = tensors.ONNX_TO_NP.get(tt.elem_type)
    if not tt.HasField("shape"):
        return None, dtype
    dims = []
    for d in tt.shape.dim:
        if not d.HasField("dim_value"):
            return None, dtype
        dims.append(int(d.dim_value))
    return tuple(dims), dtype


class Importer:
    """Translates one ONNX GraphProto (see the module docstring)."""

    def __init__(self, model, base_dir=None, input_values=None):
        self.model, self.base_dir = model, base_dir
        self.opset = _opset(model)
        self.vals = {}
        self.params = {}          # variable name -> NumPy array (constants used as tensors)
        self.input_shapes = {}    # graph input name -> declared shape
        self.input_values = input_values
        self._const_syms = {}
        self._n = 0

    # -- values ----------------------------------------------------------------------------
    def tensor(self, v, F):
        from ... import ndarray, symbol
        if F is ndarray:
            return ndarray.array(v.const, dtype=v.const.dtype)
        if v.sym is None:
            key = id(v)
            if key not in self._const_syms:
                name = self._fresh(v.name or "const")
                c = v.const
                if c.ndim == 0:  # a graph variable cannot be 0-d (MXNet reads () as unknown)
                    self.params[name] = c.reshape(1)
                    var = symbol.var(name, shape=(1,), dtype=c.dtype)
                    self._const_syms[key] = symbol._onnx_reshape(var, shape=())
                else:
                    self.params[name] = c
                    self._const_syms[key] = symbol.var(name, shape=c.shape, dtype=c.dtype)
            return self._const_syms[key]
        return v.sym

    def _fresh(self, base):
        base = base.replace(":", "_") or "v"
        name = base
        while name in self.params or name in self.input_shapes:
            self._n += 1
            name = "%s_%d" % (base, self._n)
        return name

    def _known_shapes(self):
        known = dict(self.input_shapes)
        known.update({k: v.shape for k, v in self.params.items()})
        return {k: s for k, s in known.items() if s is not None}

    def static_shape(self, v):
        if v.const is not None:
            return tuple(v.const.shape)
        if v.shape is None:
            from ..graph.infer import infer_shapes
            g = v.sym._graph()
            vals, ig = infer_shapes(g, self._known_shapes(), partial=True)
            s = vals[ig.output_entries[0]]
            v.shape = None if s is None else tuple(s)
        return v.shape

    def static_dtype(self, v):
        if v.const is not None:
            return v.const.dtype
        if v.dtype is None:
            from ..graph.infer import infer_types
            known = {k: a.dtype for k, a in self.params.items()}
            vals, ig = infer_types(v.sym._graph(), known, partial=True)
            t = vals[ig.output_entries[0]]
            v.dtype = None if t is None else np.dtype(t)
        return v.dtype

    # -- the walk --------------------------------------------------------------------------
    def run(self):
        from ... import symbol
        g = self.model.graph
        for t in g.initializer:
            self.vals[t.name] = _Val(t.name, const=tensors.to_array(t, self.base_dir))
        for t in getattr(g, "sparse_initializer", ()):
            raise Unsupported("sparse initializer '%s' is not supported" % t.values.name,
                              op="onnx import")
        for vi in g.input:
            if vi.name in self.vals:
                continue  # IR < 4: initializers are listed as inputs too
            shape, dtype = _value_info(vi)
            if self.input_values is not None:
                if vi.name not in self.input_values:
                    raise PlaitError("no value given for graph input '%s'" % vi.name,
                                     op="onnx run_model")
                self.vals[vi.name] = _value_of(vi.name, self.input_values[vi.name], vi)
                continue
            if not vi.type.HasField("tensor_type"):
                raise DynamicValueError("graph input '%s' is not a tensor: a Symbol cannot take "
                                        "sequences or optionals; use plait.onnx.run_model"
                                        % vi.name, op="onnx import")
            if dtype is None:
                raise PlaitError("graph input '%s' has element type %s, which plait cannot hold"
                                 % (vi.name, tensors.onnx_type_name(vi.type.tensor_type.elem_type)),
                                 op="onnx import")
            self.input_shapes[vi.name] = shape
            sym = symbol.var(vi.name, shape=shape, dtype=dtype)
            self.vals[vi.name] = _Val(vi.name, sym=sym, shape=shape, dtype=dtype)
        self.import_nodes(g.node, self.opset, self.vals)
        outs = []
        for o in g.output:
            if o.name not in self.vals:
                raise PlaitError("graph output '%s' is not produced by any node" % o.name,
                                 op="onnx import")
            outs.append(self.vals[o.name])
        return outs

    def import_nodes(self, nodes, opset, scope, attr_scope=None):
        from .import_functions import import_function_node
        for node in nodes:
            key = node.op_type
            if node.domain == "ai.onnx.ml":
                key = "ai.onnx.ml:" + node.op_type
            elif node.domain not in ("", "ai.onnx"):
                raise Unsupported("node '%s': operator %s of domain '%s' is not supported"
                                  % (node.name, node.op_type, node.domain), op="onnx import")
            ins = []
            for name in node.input:
                if name == "":
                    ins.append(None)
                elif name in scope:
                    ins.append(scope[name])
                else:
                    raise PlaitError("node '%s' (%s) reads '%s', which no earlier node, input "
                                     "or initializer defines" % (node.name, node.op_type, name),
                                     op="onnx import")
            attrs = self.node_attrs(node, attr_scope)
            rule = find_rule(key, opset if key == node.op_type else 1)
            if rule is None and key != node.op_type:
                raise Unsupported("node '%s': operator %s of domain '%s' is not supported"
                                  % (node.name, node.op_type, node.domain), op="onnx import")
            if rule is None:
                outs = import_function_node(self, node, ins, attrs, opset)
            else:
                ctx = NodeCtx(self, node, ins, attrs, opset)
                ctx.scope = scope
                outs = self._apply(rule, ctx)
            for name, o in zip(node.output, outs):
                if name:
                    scope[name] = o

    def _apply(self, rule, c):
        from ... import ndarray
        try:
            res = rule(c)
        except PlaitError as e:
            where = "ONNX %s node '%s'" % (c.op_type, c.name)
            if where not in str(e):
                e.msg = "%s: %s" % (where, e.msg)
            raise
        if not isinstance(res, (list, tuple)):
            res = [res]
        outs = []
        for name, r in zip(list(c.node.output) + [""] * len(res), res):
            if isinstance(r, np.ndarray) or np.isscalar(r):
                outs.append(_Val(name, const=np.asarray(r)))
            elif isinstance(r, ndarray.NDArray):
                outs.append(_Val(name, const=r.asnumpy()))
            elif isinstance(r, _Val):
                outs.append(r)
            else:
                outs.append(_Val(name, sym=r))
        return outs

    def node_attrs(self, node, attr_scope=None):
        from onnx import helper
        out = {}
        for a in node.attribute:
            if a.ref_attr_name:
                if attr_scope is not None and a.ref_attr_name in attr_scope:
                    out[a.name] = attr_scope[a.ref_attr_name]
                continue
            v = helper.get_attribute_value(a)
            if isinstance(v, bytes):
                v = v.decode("utf-8")
            elif a.type == a.TENSOR:
                v = tensors.to_array(v, self.base_dir)
            elif isinstance(v, list) and v and isinstance(v[0], bytes):
                v = [s.decode("utf-8") for s in v]
            out[a.name] = v
        return out


def _split_params(sym, params):
    from ... import ndarray
    aux_names = set(sym.list_auxiliary_states())
    args, aux = {}, {}
    for k, v in params.items():
        (aux if k in aux_names else args)[k] = ndarray.array(v, dtype=v.dtype)
    return args, aux


def _outputs_symbol(imp, outs):
    from ... import symbol
    for v in outs:
        if v.kind != "tensor":
            raise DynamicValueError("graph output '%s' is a %s, which a Symbol cannot return; "
                                    "use plait.onnx.run_model" % (v.name, v.kind),
                                    op="onnx import")
    syms = [imp.tensor(v, symbol) for v in outs]
    return syms[0] if len(syms) == 1 else symbol.Group(syms)


def import_model(model_file):
    """Import an ONNX model (file path or ModelProto) -> (sym, arg_params, aux_params), as
    MXNet 1.9's mx.onnx.import_model: bind `sym` with the params, or build a SymbolBlock."""
    model, base = _load(model_file)
    imp = Importer(model, base)
    sym = _outputs_symbol(imp, imp.run())
    used = set(sym.list_inputs())
    params = {k: v for k, v in imp.params.items() if k in used}
    args, aux = _split_params(sym, params)
    return sym, args, aux


def import_to_gluon(model_file, ctx=None):
    """Import an ONNX model as a gluon.SymbolBlock with its parameters loaded on `ctx`."""
    from ...gluon import SymbolBlock
    from ... import symbol
    from ..context import cpu
    sym, args, aux = import_model(model_file)
    params = dict(args)
    params.update(aux)
    data_names = [n for n in sym.list_inputs() if n not in params]
    block = SymbolBlock(sym, [symbol.var(n) for n in data_names])
    ctx = cpu() if ctx is None else ctx
    for name, p in block.collect_params().items():
        if name in params:
            p._load_init(params[name], ctx)
    return block


def get_model_metadata(model_file):
    """{'input_tensor_data': [(name, shape)], 'output_tensor_data': [(name, shape)]} of the
    graph's real inputs (initializers left out) and outputs."""
    model, _ = _load(model_file)
    g = model.graph
    inits = {t.name for t in g.initializer}

    def dims(vi):
        return tuple(d.dim_value if d.HasField("dim_value") else d.dim_param or None
                     for d in vi.type.tensor_type.shape.dim)
    return {"input_tensor_data": [(vi.name, dims(vi)) for vi in g.input if vi.name not in inits],
            "output_tensor_data": [(vi.name, dims(vi)) for vi in g.output]}


def run_model(model_file, inputs):
    """Evaluate an ONNX model eagerly, node by node, with plait's kernels (mx.nd): the way to
    run graphs whose shapes depend on values (see the module docstring).  `inputs` maps
    graph input names to NumPy arrays; returns the list of output NumPy arrays."""
    model, base = _load(model_file)
    imp = Importer(model, base, input_values=inputs)
    return [_plain(v) for v in imp.run()]
