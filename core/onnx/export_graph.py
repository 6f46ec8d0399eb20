"""Assembling the ONNX model once every node is translated: graph outputs (an Identity where
an output is an input, a constant or repeated), dead-node pruning, Identity removal, the
check that every rule produced what is read, and the ModelProto itself (filled in place,
weights written once as raw little-endian bytes)."""
import numpy as np

from ..base import PlaitError


def _dims(shape, dyn, prefix):
    if dyn is None:
        return list(shape)
    return [("%s_d%d" % (prefix, i)) if d is None else int(d) for i, d in enumerate(dyn)]





def finish_model(ctx, onnx, ig, names, producer, shapes, types, eshapes, etypes, dynamic,
            dynamic_input_shapes, data):
    helper = onnx.helper
    # graph outputs: a fresh Identity where an output is an input, a constant or repeated
    out_names, seen = [], set()
    input_names = {v.name for v in data}
    for e in ig.graph.outputs:
        eid = ig.entry_id(e)
        name = names[eid]
        if name in seen or name in input_names or name in ctx.initializers:
            base = e.node.name if e.node.num_outputs() == 1 else "%s%d" % (e.node.name, e.index)
            name = ctx.add("Identity", [name], [ctx.reserve(base + "_out")])[0]
        seen.add(name)
        out_names.append((name, eid))
    fixed = input_names | set(ctx.initializers)
    nodes = _drop_identities(_prune(ctx.nodes, [n for n, _ in out_names]),
                             {n for n, _ in out_names}, fixed)
    produced = set(input_names) | set(ctx.initializers)
    for n in nodes:
        for i in n.input:
            if i and i not in produced:
                p = producer.get(i)
                raise PlaitError("ONNX export: the rule of node '%s' did not produce output '%s' "
                                 "that node '%s' reads" % (p.name if p else "?", i, n.name),
                                 op=p.op.name if p else None)
        produced.update(n.output)
    for name, _ in out_names:
        if name not in produced:
            p = producer.get(name)
            raise PlaitError("ONNX export: the rule of node '%s' did not produce graph output '%s'"
                             % (p.name if p else "?", name), op=p.op.name if p else None)
    read = {i for n in nodes for i in n.input} | {n for n, _ in out_names}
    dyn_shapes = _dynamic_shapes(shapes, dynamic, dynamic_input_shapes)
    # the ModelProto is filled in place: make_graph/make_model would copy every weight twice
    model = onnx.ModelProto()
    g = model.graph
    g.name = "plait_model"
    g.node.extend(nodes)
    for k, v in enumerate(data):
        dims = _dims(shapes[k], dyn_shapes[k] if dyn_shapes else None, v.name)
        g.input.append(helper.make_tensor_value_info(
            v.name, helper.np_dtype_to_tensor_dtype(types[k]), dims))
    for name, eid in out_names:
        t, s = etypes[eid], eshapes[eid]
        dims = None if s is None else ([None] * len(s) if dynamic else list(s))
        g.output.append(helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(np.dtype(t)) if t is not None else 0, dims))
    for name, arr in ctx.initializers.items():
        if name in read:
            _fill_tensor(g.initializer.add(), name, arr, helper)
    opsets = [helper.make_opsetid("", ctx.opset)]
    model.opset_import.extend(opsets)
    model.ir_version = helper.find_min_ir_version_for(opsets)
    model.producer_name = "plait"
    return model


def _fill_tensor(t, name, arr, helper):
    """One initializer, written as raw little-endian bytes (numpy_helper's layout)."""
    arr = np.asarray(arr)
    t.name = name
    t.data_type = helper.np_dtype_to_tensor_dtype(arr.dtype)
    t.dims.extend(arr.shape)
    if arr.dtype == np.bool_ or arr.dtype.byteorder == ">":
        from onnx import numpy_helper
        t.CopyFrom(numpy_helper.from_array(arr, name))
        return
    t.raw_data = np.ascontiguousarray(arr).tobytes()


def _dynamic_shapes(shapes, dynamic, dynamic_input_shapes):
    if not dynamic:
        if dynamic_input_shapes is not None:
            raise PlaitError("dynamic_input_shapes needs dynamic=True",
                             arg="dynamic_input_shapes", op="onnx.export_model")
        return None
    dyn = ([tuple(None for _ in s) for s in shapes] if dynamic_input_shapes is None
           else [tuple(s) for s in dynamic_input_shapes])
    if len(dyn) != len(shapes) or any(len(a) != len(b) for a, b in zip(dyn, shapes)):
        raise PlaitError("dynamic_input_shapes %s must give one shape of the same rank per "
                         "input (in_shapes %s)" % (dynamic_input_shapes, shapes),
                         arg="dynamic_input_shapes", op="onnx.export_model")
    return dyn


def _rename_inputs(node, rename):
    ins = [rename.get(i, i) for i in node.input]
    if ins != list(node.input):
        del node.input[:]
        node.input.extend(ins)


def _drop_identities(nodes, outputs, fixed):
    """Remove Identity nodes (Dropout, BlockGrad, ...): consumers read the Identity's input;
    an Identity making a graph output renames its producer's output instead."""
    rename, keep = {}, []
    for n in nodes:
        _rename_inputs(n, rename)
        if n.op_type == "Identity" and n.output[0] not in outputs:
            rename[n.output[0]] = n.input[0]
        else:
            keep.append(n)
    producer = {o: n for n in keep for o in n.output}
    rename, out = {}, []
    for n in keep:
        src = n.input[0] if n.op_type == "Identity" else None
        if (src is not None and n.output[0] in outputs and src not in fixed
                and src not in outputs and src in producer and src not in rename):
            rename[src] = n.output[0]
            continue
        out.append(n)
    for n in out:
        _rename_inputs(n, rename)
        outs = [rename.get(o, o) for o in n.output]
        if outs != list(n.output):
            del n.output[:]
            n.output.extend(outs)
    return out


def _prune(nodes, outputs):
    """Drop nodes none of whose outputs reach a graph output (e.g. unread BN statistics)."""
    need = set(outputs)
    keep = []
    for n in reversed(nodes):
        if any(o in need for o in n.output):
            keep.append(n)
            need.update(i for i in n.input if i)
    keep.reverse()
    return keep
