"""Running a control-flow body (a subgraph) on raw xp arrays, step after step.

A control-flow op's kernel runs inside one engine push, so its body cannot go back
through the engine: `Program` is a small interpreter that calls each body node's kernel
directly, in topological order, on buffers it allocates from the body's shape/dtype
rules.  It is compiled once per input signature (shapes, dtypes) and cached on the
op's parsed attributes (`program`), which the executor keeps for the node's lifetime.

`grad_program` compiles the body's gradient graph (core/graph/gradient.py, the same pass
as symbolic backward and hybridized blocks): inputs are the body's inputs followed by
one head gradient per body output; outputs are the gradients of every body input.  The
loop ops' backward kernels run it once per step, newest step first.

`body_meta` infers shapes or dtypes through a body without running it (forward rules
only: every body input is known when the op's own rule is called).
"""
import numpy as np

from ..base import PlaitError
from ..graph.ir import Graph, IndexedGraph, Node
from .params import Attrs


def inputs_of(graph):
    """The body's inputs in MXNet's list_inputs order (variables, depth-first)."""
    return graph.variables()


def _fail(where, msg):
    raise PlaitError(msg, op=where)


def body_meta(graph, in_vals, what, where):
    """Shapes (what='shape') or dtypes (what='dtype') of the body's outputs given those of
    its inputs (list_inputs order).  Errors name the control-flow op and the body node."""
    ig = IndexedGraph(graph)
    return _meta(ig, inputs_of(graph), in_vals, what, where)[1]


def _meta(ig, input_nodes, in_vals, what, where):
    if len(in_vals) != len(input_nodes):
        _fail(where, "the body has %d input(s) (%s), %d given"
              % (len(input_nodes), ", ".join(n.name for n in input_nodes), len(in_vals)))
    vals = [None] * ig.num_entries
    for n, v in zip(input_nodes, in_vals):
        nid = ig.node_id.get(id(n))
        if nid is not None:  # an input the outputs do not depend on is not in the graph
            vals[ig.row_ptr[nid]] = v
    for nid, node in enumerate(ig.nodes):
        if node.op is None:
            if vals[ig.row_ptr[nid]] is None:
                _fail(where, "the body's input '%s' is not fed" % node.name)
            continue
        ins = [vals[e] for e in ig.input_entries[nid]]
        try:
            attrs = node.params()
            if what == "shape":
                res = [tuple(int(d) for d in s) for s in node.op.infer_shape(attrs, ins)]
            else:
                node.op.check_dtypes(ins)
                res = [np.dtype(t) for t in node.op.infer_type(attrs, ins)]
        except PlaitError as e:
            arg = e.arg if e.op in (None, node.op.name) else None
            e.msg = "body node '%s' (%s%s): %s" % (node.name, node.op.name,
                                                  ", argument '%s'" % arg if arg else "", e.msg)
            e.op, e.arg = where, None
            raise
        for e, v in zip(ig.node_entries(nid), res):
            vals[e] = v
    return vals, [vals[e] for e in ig.output_entries]


class Program:
    """`graph` compiled for fixed input shapes/dtypes; `run` calls the kernels."""

    def __init__(self, graph, input_nodes, in_shapes, in_dtypes, where):
        ig = IndexedGraph(graph)
        shapes, _ = _meta(ig, input_nodes, list(in_shapes), "shape", where)
        dtypes, _ = _meta(ig, input_nodes, list(in_dtypes), "dtype", where)
        self.shapes, self.dtypes = shapes, dtypes
        self.n_entries = ig.num_entries
        self.in_eids = [ig.row_ptr[ig.node_id[id(n)]] if id(n) in ig.node_id else None
                        for n in input_nodes]
        self.out_eids = list(ig.output_entries)
        self.steps = []
        for nid, node in enumerate(ig.nodes):
            if node.op is None:
                continue
            outs = list(ig.node_entries(nid))
            self.steps.append((node.op, node.params(), ig.input_entries[nid], outs,
                               [shapes[e] for e in outs], [dtypes[e] for e in outs], id(node)))

    def run(self, xp, inputs, is_train=False, keep=None, pre=None):
        """The output arrays for `inputs`.  keep: a dict that receives every node's
        outputs (by node identity); pre: such a dict from a forward run of the same body,
        whose nodes are then not run again (a gradient Program reuses the forward's
        intermediate values instead of recomputing them)."""
        vals = [None] * self.n_entries
        for e, x in zip(self.in_eids, inputs):
            if e is not None:
                vals[e] = x
        for op, attrs, ins_e, outs_e, shapes, dtypes, key in self.steps:
            if pre is not None:
                got = pre.get(key)
                if got is not None:
                    for e, o in zip(outs_e, got):
                        vals[e] = o
                    continue
            if op.train_aware:
                attrs = Attrs(attrs)
                attrs["__is_train__"] = bool(is_train)
            ins = [vals[e] for e in ins_e]
            outs = [xp.empty(s, t) for s, t in zip(shapes, dtypes)]
            if op.forward is not None:
                op.forward(xp, attrs, ins, outs)
            else:
                r = op.compute(xp, attrs, *ins)
                if len(outs) == 1:
                    outs[0][...] = r
                else:
                    for o, v in zip(outs, r):
                        o[...] = v
            for e, o in zip(outs_e, outs):
                vals[e] = o
            if keep is not None:
                keep[key] = outs
        return [vals[e] for e in self.out_eids]


# -- what a training forward leaves for its backward ---------------------------------------------
def _key(ins):
    return tuple(id(x) for x in ins)


def save_steps(attrs, ins, steps, is_train):
    """A training forward keeps each step's body inputs and intermediate values (`steps`)
    in the node's shared cache for the backward of the same call, which then runs only
    the backward nodes (no replay, no recomputation: random ops and aux-state updates
    in the body happen once).  A later forward replaces it; an inference forward on the
    same buffers drops it."""
    cache = attrs.get("__programs__")
    if cache is None:
        return
    if is_train:
        cache["__saved__"] = (_key(ins), steps)
    elif cache.get("__saved__", (None,))[0] == _key(ins):
        del cache["__saved__"]


def saved_steps(attrs, ins):
    """The steps a training forward on these input arrays saved, or None."""
    got = (attrs.get("__programs__") or {}).get("__saved__")
    return got[1] if got is not None and got[0] == _key(ins) else None


def program(attrs, which, in_shapes, in_dtypes, where, grad=False):
    """The (cached) Program of subgraph `which` of a control-flow node."""
    cache = attrs.get("__programs__")
    if cache is None:
        cache = attrs["__programs__"] = {}
    key = (which, grad, tuple(map(tuple, in_shapes)), tuple(np.dtype(t).str for t in in_dtypes))
    p = cache.get(key)
    if p is None:
        g = attrs["subgraphs"][which]
        p = cache[key] = (grad_program(g, in_shapes, in_dtypes, where) if grad else
                          Program(g, inputs_of(g), in_shapes, in_dtypes, where))
    return p


def grad_program(graph, in_shapes, in_dtypes, where):
    """Program of the body's gradient: inputs = body inputs + one head gradient per body
    output; outputs = the gradient of each body input (zeros where none flows)."""
    from ..graph.gradient import build_backward
    ig = IndexedGraph(graph)
    inputs = inputs_of(graph)
    shp, _ = _meta(ig, inputs, list(in_shapes), "shape", where)
    dts, _ = _meta(ig, inputs, list(in_dtypes), "dtype", where)
    heads = [Node(None, "_cf_head_grad%d" % i) for i in range(len(graph.outputs))]
    try:
        ents, full = build_backward(graph, inputs, heads, shp, dts)
    except PlaitError as e:
        e.op = where
        raise
    head_s = [shp[e] for e in ig.output_entries]
    head_t = [dts[e] for e in ig.output_entries]
    # the body's outputs first: the forward nodes then run in the forward Program's
    # order, so random ops draw what they drew in the forward pass (see RngReplay)
    prog = Program(Graph(list(graph.outputs) + ents), inputs + heads,
                   list(in_shapes) + head_s, list(in_dtypes) + head_t, where)
    prog.out_eids = prog.out_eids[len(graph.outputs):]
    return prog


def uses_rng(graph):
    return any(n.op is not None and ("rng" in n.op.resources or any(
        uses_rng(g) for g in n.subgraphs)) for n in graph.topo_nodes())


class RngReplay:
    """Random ops in a body (Dropout while training) must draw in the backward pass what
    they drew in the forward pass.  The forward kernel records the generator's state
    before each step (`mark`); the backward kernel sets it back before replaying step t
    (`rewind`) and leaves the generator as it found it (`restore`).  The record lives in
    the node's shared attribute cache, so the backward node of the same call finds it."""

    def __init__(self, xp, attrs, graphs, is_train, record):
        self.gen, self.replaying = None, not record
        if is_train and any(uses_rng(g) for g in graphs):
            from .. import rng
            self.gen = rng.generator(xp)
            self.saved = self.gen.bit_generator.state
            cache = attrs.get("__programs__")
            if record:
                self.states = []
                if cache is not None:
                    cache["__rng__"] = self.states
            else:
                self.states = (cache or {}).get("__rng__")

    def mark(self):
        if self.gen is not None:
            self.states.append(self.gen.bit_generator.state)

    def rewind(self, t):
        if self.gen is not None and self.states is not None and t < len(self.states):
            self.gen.bit_generator.state = self.states[t]

    def restore(self):
        if self.gen is not None:
            self.gen.bit_generator.state = self.saved
