"""Argument handling of mx.onnx.export_model: Symbols or -symbol.json paths, params dicts /
[arg, aux] lists / .params paths (arg:/aux: prefixes), HybridBlocks, in_shapes/in_types, and
MXNet's rule for which variables are graph inputs (labels of output layers are not)."""
import os

import numpy as np

from ..base import PlaitError

LABEL_OPS = frozenset(("SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput",
                       "MAERegressionOutput", "SVMOutput"))


def as_symbol(sym):
    from ...symbol import symbol as _symmod
    from ...symbol.api import load as _symload
    if isinstance(sym, (str, os.PathLike)):
        return _symload(os.fspath(sym))
    if isinstance(sym, _symmod.Symbol):
        return sym
    raise PlaitError("expected a Symbol or a -symbol.json path, got %s" % type(sym).__name__,
                     arg="sym", op="onnx.export_model")


def _to_numpy(v, name):
    if hasattr(v, "asnumpy"):
        return v.asnumpy()
    if hasattr(v, "data") and callable(v.data):  # a gluon Parameter
        return v.data().asnumpy()
    if isinstance(v, (np.ndarray, np.generic)):
        return np.asarray(v)
    raise PlaitError("parameter '%s' is a %s, expected an NDArray or a NumPy array"
                     % (name, type(v).__name__), arg="params", op="onnx.export_model")


def as_params(params):
    from ..serialize import load as _load_arrays  # NumPy arrays: no NDArray round trip
    if params is None:
        return {}
    if isinstance(params, (str, os.PathLike)):
        params = _load_arrays(os.fspath(params))
        if not isinstance(params, dict):
            raise PlaitError("the .params file holds no names: cannot match it to the symbol",
                             arg="params", op="onnx.export_model")
    if isinstance(params, (list, tuple)):
        if not all(isinstance(p, dict) for p in params):
            raise PlaitError("a list of params must hold dicts (arg_params, aux_params)",
                             arg="params", op="onnx.export_model")
        merged = {}
        for p in params:
            merged.update(p)
        params = merged
    if not isinstance(params, dict):
        raise PlaitError("expected a dict, a [arg_params, aux_params] list or a .params path, "
                         "got %s" % type(params).__name__, arg="params", op="onnx.export_model")
    out = {}
    for k, v in params.items():
        key = k[4:] if k.startswith(("arg:", "aux:")) else k
        out[key] = _to_numpy(v, key)
    return out


def _label_vars(graph, params):
    """Variables read only as the label input of output layers: not graph inputs."""
    readers = {}
    for n in graph.topo_nodes():
        for i, e in enumerate(n.inputs):
            if e.node.op is None:
                readers.setdefault(id(e.node), []).append((n.op.name, i))
    return {vid for vid, rs in readers.items()
            if all(op in LABEL_OPS and i == 1 for op, i in rs)}


def normalise_inputs(graph, params, in_shapes, in_types, input_names):
    variables = [v for v in graph.variables() if v.name not in params]
    labels = _label_vars(graph, params)
    if input_names is not None:
        by_name = {v.name: v for v in variables}
        data = [by_name[n] for n in input_names if n in by_name]
    else:
        data = [v for v in variables if id(v) not in labels]
    if in_shapes is None:
        raise PlaitError("in_shapes is required: one shape per input (%s)"
                         % ", ".join(v.name for v in data), arg="in_shapes",
                         op="onnx.export_model")
    in_shapes = list(in_shapes)
    if len(in_shapes) == len(variables) and len(variables) != len(data) and input_names is None:
        data = variables  # shapes were given for the labels too (MXNet accepts that)
    if len(in_shapes) != len(data):
        raise PlaitError("%d shapes given for %d inputs (%s)" % (
            len(in_shapes), len(data), ", ".join(v.name for v in data)),
            arg="in_shapes", op="onnx.export_model")
    shapes = []
    for v, s in zip(data, in_shapes):
        try:
            s = tuple(int(d) for d in s)
        except (TypeError, ValueError):
            raise PlaitError("shape of input '%s' must be a tuple of ints, got %r" % (v.name, s),
                             arg="in_shapes", op="onnx.export_model") from None
        if any(d <= 0 for d in s):
            raise PlaitError("shape of input '%s' must have positive dimensions, got %s"
                             % (v.name, s), arg="in_shapes", op="onnx.export_model")
        shapes.append(s)
    types = in_types if isinstance(in_types, (list, tuple)) else [in_types] * len(data)
    if len(types) != len(data):
        raise PlaitError("%d dtypes given for %d inputs (%s)" % (
            len(types), len(data), ", ".join(v.name for v in data)),
            arg="in_types", op="onnx.export_model")
    types = [np.dtype(t) for t in types]
    return data, shapes, types


def block_graph(block, in_shapes, in_types):
    """(Symbol, params, data input names) of a HybridBlock, tracing it if needed."""
    from ... import ndarray as nd
    if in_shapes is None:
        raise PlaitError("in_shapes is required to export a block", arg="in_shapes",
                         op="onnx.export_model")
    types = in_types if isinstance(in_types, (list, tuple)) else [in_types] * len(in_shapes)
    if not getattr(block, "_cached_graph", None):
        args = [nd.zeros(tuple(s), dtype=np.dtype(t)) for s, t in zip(in_shapes, types)]
        block(*args)  # finishes deferred initialisation
        if not block._cached_graph:
            block._get_graph(*args)
    data, out = block._cached_graph
    used = set(out.list_inputs())
    params = {n: p.data() for n, p in block.collect_params().items() if n in used}
    return out, params, [d.name for d in data]
