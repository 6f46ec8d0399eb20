"""Importing ONNX ops that have no plait rule through their schema's function body.

ONNX defines many ops (LayerNormalization, Gelu, Softmax-family losses, ...) as a function of
other ops.  When no rule is registered, the driver asks onnx for the body at the model's
opset (a fixed FunctionProto, or one built for this node's attributes and input types) and
imports its nodes inline, in a scope of their own, with `ref_attr_name` attributes taken from
the calling node (or the function's defaults).
"""
import numpy as np

from .import_rules import Unsupported


def _input_types(imp, ins):
    """TypeProto bytes per node input, for context-dependent function builders."""
    from onnx import TypeProto
    from . import tensors
    out = []
    for v in ins:
        tp = TypeProto()
        if v is not None:
            dt = imp.static_dtype(v)
            if dt is not None:
                tp.tensor_type.elem_type = tensors.onnx_code(dt)
            try:
                shape = imp.static_shape(v)
            except Exception:  # shape inference failing only loses optional information
                shape = None
            if shape is not None:
                tp.tensor_type.shape.SetInParent()
                for d in shape:
                    tp.tensor_type.shape.dim.add().dim_value = d
        out.append(tp.SerializeToString())
    return out


def _schema(node, opset):
    from onnx import defs
    try:
        return defs.get_schema(node.op_type, opset, node.domain or "")
    except Exception:  # onnx raises SchemaError for unknown ops
        return None


def _resolved_node(node, attrs):
    """A copy of `node` whose attributes are the resolved `attrs` (inside a function body,
    attributes may refer to the caller's; the body builders need the values)."""
    from onnx import NodeProto, helper, numpy_helper
    n = NodeProto()
    n.CopyFrom(node)
    del n.attribute[:]
    for k, v in attrs.items():
        if isinstance(v, np.ndarray):
            v = numpy_helper.from_array(v, k)
        n.attribute.append(helper.make_attribute(k, v))
    return n


def function_body(imp, node, ins, opset, attrs=None):
    """The FunctionProto that defines `node` at `opset`, or None."""
    from onnx import FunctionProto
    schema = _schema(node, opset)
    if schema is None:
        return None
    if attrs is not None:
        node = _resolved_node(node, attrs)
    fn = FunctionProto()
    if schema.has_function:
        vers = [v for v in schema.function_opset_versions if v <= opset]
        raw = schema.get_function_with_opset_version(max(vers)) if vers else None
        if raw:
            fn.ParseFromString(raw)
            return fn
    if schema.has_context_dependent_function:
        vers = [v for v in schema.context_dependent_function_opset_versions if v <= opset]
        if vers:
            raw = schema.get_context_dependent_function_with_opset_version(
                max(vers), node.SerializeToString(), _input_types(imp, ins))
            if raw:
                fn.ParseFromString(raw)
                return fn
    return None


def import_function_node(imp, node, ins, attrs, opset):
    """Import `node` through its function body; returns the list of output _Vals."""
    fn = function_body(imp, node, ins, opset, attrs)
    if fn is None:
        raise Unsupported("no import rule for ONNX operator %s at opset %d (and its schema "
                          "has no function body)" % (node.op_type, opset),
                          op="ONNX %s node '%s'" % (node.op_type, node.name or node.output[0]))
    from onnx import helper
    scope = {}
    for i, name in enumerate(fn.input):
        scope[name] = ins[i] if i < len(ins) else None
    attr_scope = {}
    schema = _schema(node, opset)
    for name, a in schema.attributes.items():  # the schema's defaults
        if a.default_value is not None and a.default_value.type:
            v = helper.get_attribute_value(a.default_value)
            attr_scope[name] = v.decode("utf-8") if isinstance(v, bytes) else v
    for a in fn.attribute_proto:
        v = helper.get_attribute_value(a)
        attr_scope[a.name] = v.decode("utf-8") if isinstance(v, bytes) else v
    attr_scope.update(attrs)
    body_opset = opset
    for o in fn.opset_import:
        if o.domain in ("", "ai.onnx"):
            body_opset = int(o.version)
    imp.import_nodes(fn.node, body_opset, scope, attr_scope)
    return [scope.get(name) for name in fn.output]
