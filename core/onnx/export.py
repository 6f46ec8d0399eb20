"""ONNX export: `mx.onnx.export_model` (MXNet 1.9's signature) and `export_block`.

The driver walks the plait graph in topological order and asks each node's OpDef for
its ONNX translation.  Nothing op-specific lives here: every rule is attached to its
OpDef by the export_*.py modules of this package (all of them are imported on first use,
so a new family module -- e.g. export_rnn.py -- needs no registration anywhere else).

Writing a rule (the API for every export_*.py module)
-----------------------------------------------------
    from .export_context import onnx_rule

    @onnx_rule("FullyConnected", opsets=(13, None))       # MXNet op names; opset range
    def _fc(ctx, node):
        x, w = node.inputs[0], node.inputs[1]              # ONNX value names
        ...
        ctx.add("Gemm", [x, w, b], node.outputs[:1], transB=1)

- `node` is an ExportNode: .name, .op (OpDef), .attrs (parsed params, attribute access),
  .inputs / .outputs (ONNX value names; write exactly node.outputs, at least those that
  are read), .in_shapes / .in_dtypes / .out_shapes / .out_dtypes (inferred for the example
  input shapes; the batch dimension may vary at run time, so never bake
  node.in_shapes[0][0] into a constant).
- `ctx` is the ExportContext: .opset, .add(op_type, inputs, outputs=None, **attrs),
  .const(array), .ints(list) (1-D int64), .scalar(value, dtype), .value(name) (the NumPy
  value of an initializer or None: fold weights instead of emitting ops), .fresh(hint),
  .fail(node, msg) (PlaitError naming op, node and opset).  For a configuration ONNX
  cannot express, say "not supported" in msg: the generic test (tests/onnx/
  test_export_ops.py) then skips that sample instead of failing.
- A rule branches on ctx.opset where ONNX changed (e.g. Reduce* axes became an input at
  18); `opsets` is the range it can write.  An op without a rule that covers the target
  opset is an error naming the op, the node and the opset.
- Nodes whose inputs are all constants (weights, folded values) are evaluated here with
  the op's own kernel and become initializers, so rules never see them.  Identity nodes a
  rule writes (Dropout, BlockGrad) are removed afterwards, and nodes whose outputs nobody
  reads (BatchNorm's statistics) are pruned.
- Shared helpers (ONNX signatures that changed across opsets) are in export_context.py:
  reduce(ctx, "ReduceMean", x, axes, keepdims), squeeze, unsqueeze, reshape; dtype casts
  in export_math.cast; index clipping in export_shape.indices.

Modules: export_inputs.py (arguments, files, blocks), export_graph.py (model assembly),
export_nn / export_norm / export_math / export_shape / export_seq / export_onnx_ops (rules).
A HybridBlock exports directly: export_model(block, None, in_shapes) or export_block(block,
in_shapes); an unrun block is run once on zeros of in_shapes (deferred initialisation).

Graph conventions (as MXNet 1.9's exporter): graph inputs are the symbol's inputs that are
not in `params`, in `list_inputs()` order, minus labels read only by output/loss layers
(SoftmaxOutput's label); a node's output is named after the node (`name`, or `name0`,
`name1`, ... when it has several).  Initializers are never graph inputs.
"""
import functools
import importlib
import logging
import os
import pkgutil
import tempfile

import numpy as np

from ..base import PlaitError
from ..graph.infer import infer_shapes, infer_types
from .export_context import ExportContext, ExportNode, supports
from .export_graph import finish_model
from .export_inputs import as_params, as_symbol, block_graph, normalise_inputs

__all__ = ["export_model", "export_block", "build_onnx_model", "max_opset", "MIN_OPSET"]

MIN_OPSET = 13
FOLD_MAX_ELEMENTS = 1 << 20
_RULES_LOADED = False


def _onnx():
    import onnx  # optional dependency: imported only when exporting
    import onnx.defs  # noqa: F401
    import onnx.checker  # noqa: F401
    import onnx.numpy_helper  # noqa: F401
    import onnx.shape_inference  # noqa: F401
    return onnx


def _load_rules():
    """Import every export_*.py module of this package (they attach rules to OpDefs)."""
    global _RULES_LOADED
    if _RULES_LOADED:
        return
    pkg = importlib.import_module(__package__)
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("export_"):
            importlib.import_module("%s.%s" % (__package__, info.name))
    _RULES_LOADED = True


@functools.lru_cache(maxsize=None)
def max_opset():
    """The newest opset plait writes: the installed onnx package's newest one, lowered to the
    newest one the installed onnxruntime (if any) loads (probed once with a one-node model)."""
    onnx = _onnx()
    top = int(onnx.defs.onnx_opset_version())
    try:
        import onnxruntime as ort
    except ImportError:
        return top
    h = onnx.helper
    for opset in range(top, MIN_OPSET - 1, -1):
        ops = [h.make_opsetid("", opset)]
        vi = h.make_tensor_value_info
        f32 = onnx.TensorProto.FLOAT
        g = h.make_graph([h.make_node("Relu", ["x"], ["y"])], "probe",
                         [vi("x", f32, [1])], [vi("y", f32, [1])])
        m = h.make_model(g, opset_imports=ops, ir_version=h.find_min_ir_version_for(ops))
        try:
            ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
            return opset
        except Exception:  # this onnxruntime refuses the opset or its IR version
            continue
    return MIN_OPSET


# -- the driver ----------------------------------------------------------------------------------
def _fold(node, ins):
    """Evaluate an op on constant inputs with its own kernel (None if not foldable: random
    or mutating ops, and results much bigger than their inputs)."""
    op = node.op
    if op.resources or op.mutates:
        return None
    attrs = node.params()
    shapes = op.infer_shape(attrs, [x.shape for x in ins])
    limit = max(FOLD_MAX_ELEMENTS if not ins else 0, 4 * sum(x.size for x in ins), 4096)
    if sum(int(np.prod(s)) for s in shapes) > limit:
        return None
    return _fold_attrs(op, attrs, ins)


def _fold_attrs(op, attrs, ins):
    """Run `op`'s kernel on NumPy inputs (inference mode); returns the output arrays."""
    if op.train_aware:
        attrs = type(attrs)(attrs)
        attrs["__is_train__"] = False
    ins = list(ins)
    shapes = op.infer_shape(attrs, [x.shape for x in ins])
    types = op.infer_type(attrs, [x.dtype for x in ins])
    outs = [np.empty(s, t) for s, t in zip(shapes, types)]
    if op.forward is not None:
        op.forward(np, attrs, ins, outs)
    else:
        rs = op.compute(np, attrs, *ins)
        rs = [rs] if len(outs) == 1 else list(rs)
        for o, r in zip(outs, rs):
            o[...] = r
    return outs


def _missing_rule(node, opset):
    op = node.op
    if op.onnx_export is None:
        why = "has no ONNX export rule"
    else:
        lo, hi = op.onnx_opsets
        why = "has an ONNX export rule only for opsets %d..%s" % (lo, hi if hi else "latest")
    return PlaitError("operator '%s' (node '%s') %s: cannot export it at opset %d"
                      % (op.name, node.name, why, opset), op=op.name)


def build_onnx_model(sym, params, in_shapes, in_types=np.float32, opset_version=None,
                     dynamic=False, dynamic_input_shapes=None, verbose=False, input_names=None):
    """Translate (Symbol, params dict of NumPy/NDArray) to an onnx.ModelProto."""
    onnx = _onnx()
    _load_rules()
    opset = max_opset() if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= max_opset():
        raise PlaitError("opset %d is not supported: plait writes opsets %d..%d"
                         % (opset, MIN_OPSET, max_opset()), arg="opset_version",
                         op="onnx.export_model")
    sym, params = as_symbol(sym), as_params(params)
    graph = sym._graph()
    data, shapes, types = normalise_inputs(graph, params, in_shapes, in_types, input_names)
    used = {v.name for v in graph.variables()}
    params = {k: v for k, v in params.items() if k in used}
    known_s = {v.name: s for v, s in zip(data, shapes)}
    known_s.update((k, v.shape) for k, v in params.items())
    known_t = {v.name: t for v, t in zip(data, types)}
    known_t.update((k, v.dtype) for k, v in params.items())
    try:
        eshapes, ig = infer_shapes(graph, known_s, partial=True)
        etypes, _ = infer_types(graph, known_t, partial=True, igraph=ig)
    except PlaitError as e:
        raise PlaitError("the model cannot run on in_shapes %s / in_types %s: %s" % (
            shapes, [t.name for t in types], e), arg="in_shapes", op="onnx.export_model") from e

    ctx = ExportContext(opset, onnx)
    names = {}       # entry id -> ONNX value name
    producer = {}    # ONNX name -> plait node (error messages)
    for v in graph.variables():
        ctx.reserve(v.name)
    for nid, node in enumerate(ig.nodes):
        base = ig.row_ptr[nid]
        if node.op is None:
            names[base] = node.name
            if node.name in params:
                ctx.initializers[node.name] = np.ascontiguousarray(params[node.name])
            continue
        n_out = ig.row_ptr[nid + 1] - base
        in_ids = [ig.entry_id(e) for e in node.inputs]
        in_names = [names[i] for i in in_ids]
        if all(n in ctx.initializers for n in in_names):
            folded = _fold(node, [ctx.initializers[n] for n in in_names])
            if folded is not None:
                for k, arr in enumerate(folded):
                    names[base + k] = ctx.const(arr, node.name)
                if verbose:
                    logging.info("folded %s (%s) into a constant", node.name, node.op.name)
                continue
        outs = [ctx.reserve(node.name if n_out == 1 else "%s%d" % (node.name, k))
                for k in range(n_out)]
        for k, o in enumerate(outs):
            names[base + k] = o
            producer[o] = node
        if not supports(node.op, opset):
            raise _missing_rule(node, opset)
        enode = ExportNode(node.name, node.op, node.params(), in_names, outs,
                           [eshapes[i] for i in in_ids], [etypes[i] for i in in_ids],
                           [eshapes[base + k] for k in range(n_out)],
                           [etypes[base + k] for k in range(n_out)])
        if verbose:
            logging.info("exporting %s (%s)", node.name, node.op.name)
        try:
            node.op.onnx_export(ctx, enode)
        except PlaitError:
            raise
        except Exception as e:  # a rule bug: say where
            raise PlaitError("ONNX export (opset %d) of node '%s' failed: %s: %s" % (
                opset, node.name, type(e).__name__, e), op=node.op.name) from e
    return finish_model(ctx, onnx, ig, names, producer, shapes, types, eshapes, etypes, dynamic,
                   dynamic_input_shapes, data)


# -- public API ----------------------------------------------------------------------------------
def _write_atomic(path, data):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".onnx-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def export_model(sym, params=None, in_shapes=None, in_types=np.float32,
                 onnx_file_path="model.onnx", verbose=False, dynamic=False,
                 dynamic_input_shapes=None, run_shape_inference=False, input_type=None,
                 input_shape=None, opset_version=None):
    """Export a model to ONNX (MXNet 1.9's mx.onnx.export_model) and return the file path.

    sym     a Symbol, a -symbol.json path, or a (Hybrid)Block (then params may be None:
            the block's parameters are used; an unrun block is run once on zeros)
    params  dict name -> NDArray/ndarray ('arg:'/'aux:' prefixes allowed), a
            [arg_params, aux_params] list, or a .params path
    in_shapes / in_types   one shape / dtype (or one dtype for all) per graph input
    dynamic, dynamic_input_shapes   as MXNet: all input dims symbolic, or those given None
    opset_version   13 .. max_opset() (default: the newest)
    input_type, input_shape   MXNet's old names of in_types, in_shapes
    """
    onnx = _onnx()
    if input_type is not None:
        in_types = input_type
    if input_shape is not None:
        in_shapes = input_shape
    input_names = None
    if hasattr(sym, "collect_params") and hasattr(sym, "hybrid_forward"):
        block = sym
        sym, bparams, input_names = block_graph(block, in_shapes, in_types)
        params = bparams if params is None else params
    model = build_onnx_model(sym, params, in_shapes, in_types, opset_version, dynamic,
                             dynamic_input_shapes, verbose, input_names)
    if run_shape_inference:
        try:
            model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        except Exception as e:  # keep the export; say why
            logging.warning("ONNX shape inference failed, keeping the model without it: %s", e)
    data = model.SerializeToString()
    onnx.checker.check_model(data, full_check=True)
    _write_atomic(onnx_file_path, data)
    if verbose:
        logging.info("exported %s (opset %d, %d nodes)", onnx_file_path,
                     model.opset_import[0].version, len(model.graph.node))
    return onnx_file_path


def export_block(block, in_shapes, in_types=np.float32, onnx_file_path="model.onnx", **kwargs):
    """Export a Gluon HybridBlock: export_model(block, None, in_shapes, ...)."""
    return export_model(block, None, in_shapes, in_types, onnx_file_path, **kwargs)
