"""ONNX export of the control-flow ops (core/ops/control_flow*.py).

_foreach     -> Scan: the loop states, then the free inputs (carried unchanged), are
                Scan's state variables; the data inputs are its scan inputs (axis 0); the
                per-step outputs its scan outputs.
_while_loop  -> Loop with trip count max_iterations: the loop variables, then the other
                inputs (carried unchanged), are Loop's carried values; the condition runs
                once before the loop and at the end of each iteration; the per-step outputs
                (Loop stacks the iterations that ran) are zero-padded to max_iterations
                rows, as plait pads them.
_cond        -> both branches and Where: ONNX If branches can only see outer values by
                capture, which the exporter's pruning does not track, so the branches are
                inlined and the outputs selected (the same values; both branches run).

Every value a body reads is a subgraph input (nothing is captured from the outer graph),
and constants made while translating a body are the subgraph's own initializers, so the
outer exporter's pruning and initializer bookkeeping need no knowledge of subgraphs.
"""
import numpy as np

from ..base import PlaitError
from ..graph.ir import IndexedGraph
from ..ops.control_flow_exec import _meta, inputs_of
from .export_context import ExportContext, ExportNode, onnx_rule, supports


class _BodyContext(ExportContext):
    """A subgraph under construction: its own nodes and initializers, the model's names."""

    def __init__(self, parent):
        super().__init__(parent.opset, parent.onnx)
        self.used_names = parent.used_names


def _emit(ctx, graph, feeds, in_shapes, in_dtypes, where):
    """Translate body `graph` into ctx with its inputs (list_inputs order) named `feeds`;
    returns (output names, output shapes, output dtypes)."""
    ig = IndexedGraph(graph)
    inputs = inputs_of(graph)
    shp, _ = _meta(ig, inputs, list(in_shapes), "shape", where)
    dts, _ = _meta(ig, inputs, list(in_dtypes), "dtype", where)
    names = {}
    for v, f in zip(inputs, feeds):
        names[ig.row_ptr[ig.node_id[id(v)]]] = f
    for nid, node in enumerate(ig.nodes):
        if node.op is None:
            continue
        base, n_out = ig.row_ptr[nid], ig.row_ptr[nid + 1] - ig.row_ptr[nid]
        in_ids = [ig.entry_id(e) for e in node.inputs]
        outs = [ctx.reserve(node.name if n_out == 1 else "%s%d" % (node.name, k))
                for k in range(n_out)]
        if not supports(node.op, ctx.opset):
            raise PlaitError("ONNX export (opset %d): body node '%s' of %s: operator '%s' has "
                             "no export rule" % (ctx.opset, node.name, where, node.op.name),
                             op=where)
        enode = ExportNode(node.name, node.op, node.params(), [names[i] for i in in_ids], outs,
                           [shp[i] for i in in_ids], [dts[i] for i in in_ids],
                           [shp[base + k] for k in range(n_out)],
                           [dts[base + k] for k in range(n_out)])
        node.op.onnx_export(ctx, enode)
        for k, o in enumerate(outs):
            names[base + k] = o
    outs = ig.output_entries
    return [names[e] for e in outs], [shp[e] for e in outs], [dts[e] for e in outs]


def _vi(ctx, name, shape, dtype):
    h = ctx.onnx.helper
    return h.make_tensor_value_info(name, h.np_dtype_to_tensor_dtype(np.dtype(dtype)),
                                    None if shape is None else list(shape))


def _graph(sub, name, inputs, outputs):
    """GraphProto from a _BodyContext; inputs/outputs: [(name, shape, dtype)].  An output
    that is an input or repeated goes through Identity (a graph output must be made by
    a node of the graph)."""
    from onnx import numpy_helper
    h = sub.onnx.helper
    made, out_vi = {n for n, _, _ in inputs}, []
    seen = set()
    for n, s, t in outputs:
        if n in made or n in seen or n not in {o for nd in sub.nodes for o in nd.output}:
            n = sub.add("Identity", [n], [sub.fresh(n + "_out")])[0]
        seen.add(n)
        out_vi.append(_vi(sub, n, s, t))
    inits = [numpy_helper.from_array(np.asarray(a), k) for k, a in sub.initializers.items()]
    return h.make_graph(sub.nodes, sub.fresh(name), [_vi(sub, *i) for i in inputs], out_vi,
                        initializer=inits)


def _bool_scalar(ctx, x):
    b = ctx.add("Cast", [x], to=ctx.onnx.TensorProto.BOOL)
    return ctx.add("Reshape", [b, ctx.ints([])])


# -- _foreach -> Scan -----------------------------------------------------------------------------
@onnx_rule("_foreach", opsets=(13, None))
def _foreach(ctx, node):
    a = node.attrs
    nd, ns, nr = len(a.in_data_locs), len(a.in_state_locs), len(a.remain_locs)
    nod = a.num_out_data
    sub = _BodyContext(ctx)
    ins = [(sub.fresh(n + "_in"), s, t) for n, s, t in
           zip(node.inputs, node.in_shapes, node.in_dtypes)]
    data = [(n, s[1:], t) for n, s, t in ins[:nd]]
    states, free = ins[nd:nd + ns], ins[nd + ns:]
    feeds = [None] * (nd + ns + nr)
    for locs, vals in ((a.in_data_locs, data), (a.in_state_locs, states), (a.remain_locs, free)):
        for loc, v in zip(locs, vals):
            feeds[loc] = v
    outs, shp, dts = _emit(sub, a.subgraphs[0], [f[0] for f in feeds], [f[1] for f in feeds],
                           [f[2] for f in feeds], "_foreach")
    body_out = list(zip(outs, shp, dts))
    g = _graph(sub, node.name + "_body", states + free + data,
               body_out[nod:] + free + body_out[:nod])
    scan_outs = list(node.outputs[nod:]) + [ctx.fresh("free") for _ in free] + \
        list(node.outputs[:nod])
    ctx.add("Scan", node.inputs[nd:nd + ns] + node.inputs[nd + ns:] + node.inputs[:nd],
            scan_outs, name=node.name, body=g, num_scan_inputs=nd)


# -- _while_loop -> Loop --------------------------------------------------------------------------
@onnx_rule("_while_loop", opsets=(13, None))
def _while_loop(ctx, node):
    a = node.attrs
    cond_g, func_g = a.subgraphs
    nod, nv = a.num_out_data, len(a.func_var_locs)
    var_pos = [a.func_input_locs[j] for j in a.func_var_locs]
    others = [i for i in range(len(node.inputs)) if i not in var_pos]

    def cond_on(c, names):
        out, _, _ = _emit(c, cond_g, [names[i] for i in a.cond_input_locs],
                          [node.in_shapes[i] for i in a.cond_input_locs],
                          [node.in_dtypes[i] for i in a.cond_input_locs], "_while_loop")
        return _bool_scalar(c, out[0])

    first = cond_on(ctx, node.inputs)
    sub = _BodyContext(ctx)
    it, c_in = sub.fresh("iter"), sub.fresh("cond_in")
    cur = {i: sub.fresh(node.inputs[i] + "_in") for i in range(len(node.inputs))}
    outs, shp, dts = _emit(sub, func_g, [cur[i] for i in a.func_input_locs],
                           [node.in_shapes[i] for i in a.func_input_locs],
                           [node.in_dtypes[i] for i in a.func_input_locs], "_while_loop")
    new = dict(cur)
    for k, p in enumerate(var_pos):
        new[p] = outs[nod + k]
    c_out = cond_on(sub, new)
    carried_in = [(cur[i], node.in_shapes[i], node.in_dtypes[i]) for i in var_pos + others]
    carried_out = [(new[i], node.in_shapes[i], node.in_dtypes[i]) for i in var_pos] + \
        [(cur[i], node.in_shapes[i], node.in_dtypes[i]) for i in others]
    body_in = [(it, (), np.int64), (c_in, (), np.bool_)] + carried_in
    g = _graph(sub, node.name + "_body", body_in,
               [(c_out, (), np.bool_)] + carried_out + list(zip(outs, shp, dts))[:nod])
    scans = [ctx.fresh("steps") for _ in range(nod)]
    loop_outs = list(node.outputs[nod:nod + nv]) + [ctx.fresh("carried") for _ in others] + scans
    ctx.add("Loop", [ctx.const(np.array(a.max_iterations, np.int64), "max_iterations"), first] +
            [node.inputs[i] for i in var_pos + others], loop_outs, name=node.name, body=g)
    for k, y in enumerate(scans):  # pad the rows that ran to max_iterations
        rank = len(node.out_shapes[k])
        n = ctx.add("Slice", [ctx.add("Shape", [y]), ctx.ints([0]), ctx.ints([1])])
        rest = ctx.add("Sub", [ctx.ints([a.max_iterations]), n])
        pads = ctx.add("Concat", [ctx.ints([0] * rank), rest, ctx.ints([0] * (rank - 1))], axis=0)
        ctx.add("Pad", [y, pads], [node.outputs[k]])


# -- _cond -> Where over both branches ------------------------------------------------------------
@onnx_rule("_cond", opsets=(13, None))
def _cond(ctx, node):
    a = node.attrs
    pred_g, then_g, else_g = a.subgraphs

    def branch(g, locs):
        return _emit(ctx, g, [node.inputs[i] for i in locs], [node.in_shapes[i] for i in locs],
                     [node.in_dtypes[i] for i in locs], "_cond")[0]
    pred = _bool_scalar(ctx, branch(pred_g, a.cond_input_locs)[0])
    then = branch(then_g, a.then_input_locs)
    other = branch(else_g, a.else_input_locs)
    for t, e, o in zip(then, other, node.outputs):
        ctx.add("Where", [pred, t, e], [o])
