"""Binding a graph: forward + backward planned together, buffers allocated once, each
node's kernel bound once to its buffers; running it is one C++ call per phase
(plait._engine.run_graph), which pushes every node to the engine.

Layout of a bound graph (`BoundGraph`):
  full graph  the forward outputs followed by the gradient of each argument that wants
              one (core.graph.gradient.build_backward), as one IndexedGraph
  external    variable entries (arguments, aux states, head gradients: their own
              arrays) and gradient entries written straight into a 'write' grad array
  planned     every other entry: a view into a storage block from
              core.graph.plan.plan_memory (one engine Var per block, so reuse of a block
              is ordered by the engine), or its own buffer when unplanned
  phases      forward nodes; backward nodes followed by 'copy'/'add' steps into the grad
              arrays (an 'add' request computes into a planned temp, then adds)
"""
from functools import partial

import numpy as np

from ..core import engine, rng as _rng
from ..core.base import PlaitError
from ..core.context import xp_of
from ..core.graph.gradient import build_backward, forward_meta
from ..core.graph.ir import Entry, IndexedGraph, Node
from ..core.ops.params import Attrs
from ..ndarray.invoke import INLINE_BYTES, _kernel
from .. import _engine

try:  # engineer C's planner (C++); without it every entry gets its own buffer
    from ..core.graph.plan import plan_memory
except ImportError:  # pragma: no cover
    plan_memory = None


class Phase:
    """The per-node lists run_graph takes, for one phase and one is_train value, plus
    what `repoint` needs to move entries to other buffers: per step, the entries its
    engine Vars come from and a maker that builds its kernel on the current buffers.
    A repointed step gets a NEW kernel: kernels already pushed keep the buffers they
    were built with, so an asynchronous earlier run is never redirected."""
    __slots__ = ("kernels", "reads", "writes", "names", "inline", "deps", "makers", "users")

    def __init__(self):
        self.kernels, self.reads, self.writes, self.names, self.inline = [], [], [], [], []
        self.deps = []    # per step: (read entries, written entries, extra written Vars)
        self.makers = []  # per step: f(bufs) -> the step's kernel on those buffers
        self.users = {}   # entry -> the steps that read or write it

    def add(self, maker, bufs, vars_, name, nbytes, deps):
        k = len(self.kernels)
        r, w, extra = deps
        self.kernels.append(maker(bufs))
        self.reads.append(tuple(vars_[e] for e in r))
        self.writes.append(tuple(vars_[e] for e in w) + extra)
        self.names.append(name)
        self.inline.append(nbytes < INLINE_BYTES)
        self.deps.append(deps)
        self.makers.append(maker)
        for e in set(r) | set(w):
            self.users.setdefault(e, []).append(k)

    def repoint(self, eids, bufs, vars_):
        """Entries `eids` moved (bufs/vars_ hold their new buffers and Vars): rebuild the
        kernels and Var tuples of the steps that use them."""
        steps = set()
        for e in eids:
            steps.update(self.users.get(e, ()))
        for k in steps:
            r, w, extra = self.deps[k]
            self.kernels[k] = self.makers[k](bufs)
            self.reads[k] = tuple(vars_[e] for e in r)
            self.writes[k] = tuple(vars_[e] for e in w) + extra

    def run(self):
        if self.kernels:
            _engine.run_graph(self.kernels, self.reads, self.writes, self.names, self.inline)


def _add_into(dst, src):
    dst += src


def _post_maker(fn, dst, eid, bufs):
    return partial(fn, dst, bufs[eid])


class BoundGraph:
    def __init__(self, graph, ctx, arg_nodes, arg_arrays, aux_nodes, aux_arrays, grad_arrays,
                 grad_reqs, use_planner=True):
        self.graph, self.ctx = graph, ctx
        xp = self.xp = xp_of(ctx)
        n_heads = len(graph.outputs)
        shapes, dtypes = {}, {}
        for n, a in list(zip(arg_nodes, arg_arrays)) + list(zip(aux_nodes, aux_arrays)):
            shapes[n.name], dtypes[n.name] = a.shape, a._data.dtype
        fig = IndexedGraph(graph)
        fwd_ids = {id(n) for n in fig.nodes}
        fshp, fdts = forward_meta(fig, shapes, dtypes)
        self.head_shapes = [fshp[e] for e in fig.output_entries]
        self.head_dtypes = [fdts[e] for e in fig.output_entries]
        wrt = [(n, g, r, i) for i, (n, g, r) in enumerate(zip(arg_nodes, grad_arrays, grad_reqs))
               if r != "null" and g is not None]
        self.head_grad_nodes = [Node(None, "_head_grad_%d" % i) for i in range(n_heads)]
        if wrt:
            for hg, s, t in zip(self.head_grad_nodes, self.head_shapes, self.head_dtypes):
                shapes[hg.name], dtypes[hg.name] = s, t
            # fshp/fdts are per entry of IndexedGraph(graph), which build_backward numbers
            # the same way (the graph's topological order is cached): no second inference
            ents, full = build_backward(graph, [w[0] for w in wrt], self.head_grad_nodes,
                                        fshp, fdts)
        else:
            ents, full = [], graph
        ig = self.igraph = IndexedGraph(full)
        shp, dts = forward_meta(ig, shapes, dtypes)
        for e, (s, t) in enumerate(zip(shp, dts)):
            if s is None or t is None:
                raise PlaitError("cannot bind: the shape or dtype of entry %d is unknown" % e,
                                 op="bind")
        self.shapes, self.dtypes = shp, dts
        bufs, vars_ = [None] * ig.num_entries, [None] * ig.num_entries
        by_node = {id(n): a for n, a in zip(arg_nodes, arg_arrays)}
        by_node.update({id(n): a for n, a in zip(aux_nodes, aux_arrays)})
        self.head_grad_arrays = [None] * n_heads  # NDArray per head whose grad is needed
        hg_index = {id(n): i for i, n in enumerate(self.head_grad_nodes)}
        for nid, node in enumerate(ig.nodes):
            if node.op is not None:
                continue
            e = ig.row_ptr[nid]
            if id(node) in by_node:
                a = by_node[id(node)]
                bufs[e], vars_[e] = a._data, a._var
            elif id(node) in hg_index:
                from ..ndarray.ndarray import NDArray
                a = NDArray(xp.zeros(shp[e], dts[e]), ctx)
                self.head_grad_arrays[hg_index[id(node)]] = a
                bufs[e], vars_[e] = a._data, a._var
            else:
                raise PlaitError("variable '%s' is not bound" % node.name, op="bind")
        # gradient entries: write straight into the grad array when possible
        post = []  # (entry id, grad NDArray, 'copy' | 'add')
        heads = set(ig.output_entries[:n_heads])
        self.grad_entries = {}  # argument index -> the entry its 'write' grad array holds
        for (node, g, req, i), ent in zip(wrt, ents):
            eid = ig.entry_id(ent)
            if (req == "write" and id(ent.node) not in fwd_ids and bufs[eid] is None
                    and eid not in heads and not ent.node.op.mutates):
                bufs[eid], vars_[eid] = g._data, g._var
                self.grad_entries[i] = eid
            else:
                post.append((eid, g, "add" if req == "add" else "copy"))
        external = [e for e in range(ig.num_entries) if bufs[e] is not None]
        outputs = sorted(set(ig.output_entries[:n_heads]) | {p[0] for p in post}
                         - set(external))
        nbytes = [int(np.prod(s, dtype=np.int64)) * np.dtype(t).itemsize
                  for s, t in zip(shp, dts)]
        self.plan = None
        if use_planner and plan_memory is not None:
            self.plan = plan_memory(ig, nbytes, external, outputs)
            blocks = [xp.empty(max(b, 1), np.uint8) for b in self.plan.storage_bytes]
            bvars = [engine.new_var() for _ in blocks]
            for e, sid in enumerate(self.plan.storage_id):
                if bufs[e] is None and sid >= 0:
                    bufs[e] = blocks[sid][:nbytes[e]].view(dts[e]).reshape(shp[e])
                    vars_[e] = bvars[sid]
            self.blocks = blocks
        for e in range(ig.num_entries):
            if bufs[e] is None:
                bufs[e], vars_[e] = xp.empty(shp[e], dts[e]), engine.new_var()
        self.bufs, self.vars = bufs, vars_
        self.external = set(external)
        self.mutated = {ig.input_entries[nid][i] for nid, n in enumerate(ig.nodes)
                        if n.op is not None for i in n.op.mutates
                        if i < len(ig.input_entries[nid])}
        self.head_entries = [ig.entry_id(h) for h in graph.outputs]
        self.arg_entries = [ig.row_ptr[ig.node_id[id(n)]] for n in arg_nodes]
        self.views = {}  # entry -> the view entries aliased to its buffer (_alias_views)
        if self.plan is not None:
            self._alias_views()
        self.head_grad_entries = [ig.row_ptr[ig.node_id[id(n)]] if a is not None else None
                                  for n, a in zip(self.head_grad_nodes, self.head_grad_arrays)]
        self.fwd_nodes = [i for i, n in enumerate(ig.nodes) if n.op is not None and id(n) in fwd_ids]
        self.bwd_nodes = [i for i, n in enumerate(ig.nodes) if n.op is not None
                          and id(n) not in fwd_ids]
        self.post = post
        self._phases = {}

    # -- kernels -------------------------------------------------------------------------------
    def _node_step(self, phase, nid, is_train):
        ig, node = self.igraph, self.igraph.nodes[nid]
        op = node.op
        attrs = node.params()
        if op.train_aware:
            attrs = Attrs(attrs)
            attrs["__is_train__"] = bool(is_train)
        ins_e = ig.input_entries[nid]
        outs_e = list(ig.node_entries(nid))
        w_e = outs_e + [ins_e[i] for i in op.mutates if i < len(ins_e)]
        extra = (_rng.VAR,) if op.resources else ()
        xp, ins_e = self.xp, tuple(ins_e)

        def maker(bufs):
            return _kernel(op, xp, attrs, [bufs[e] for e in ins_e], [bufs[e] for e in outs_e])
        phase.add(maker, self.bufs, self.vars, op.name,
                  sum(self.bufs[e].nbytes for e in outs_e), (ins_e, tuple(w_e), extra))

    def phase(self, which, is_train):
        key = (which, bool(is_train))
        p = self._phases.get(key)
        if p is None:
            p = Phase()
            for nid in (self.fwd_nodes if which == "forward" else self.bwd_nodes):
                self._node_step(p, nid, is_train)
            if which == "backward":
                for eid, g, how in self.post:
                    fn = _add_into if how == "add" else self.xp.copyto
                    p.add(partial(_post_maker, fn, g._data, eid), self.bufs, self.vars,
                          "_backward_" + how, self.bufs[eid].nbytes, ((eid,), (), (g._var,)))
            self._phases[key] = p
        return p

    def outputs(self):
        """NDArrays over the head buffers (the arg arrays themselves for variable heads)."""
        from ..ndarray.ndarray import NDArray
        ig, outs = self.igraph, []
        for h in self.graph.outputs:
            e = ig.entry_id(h)
            outs.append(NDArray(self.bufs[e], self.ctx, self.vars[e]))
        return outs

    def _alias_views(self):
        """A view op (Reshape, Flatten, reshape_like...) reading an external entry (a head
        gradient, an argument, a gradient array) cannot share its storage through the
        planner, so it would copy: give its output a view of the input's buffer and Var
        instead, when the output's planned block is its alone (no in-place consumer can
        then write through the view) and nothing mutates the input."""
        ig, sid = self.igraph, self.plan.storage_id
        uses = {}
        for s in sid:
            uses[s] = uses.get(s, 0) + 1
        for nid, node in enumerate(ig.nodes):
            if node.op is None or not getattr(node.op, "inplace_identity", None):
                continue
            src, (dst,) = ig.input_entries[nid][0], ig.node_entries(nid)
            if ((src in self.external or any(src in v for v in self.views.values()))
                    and src not in self.mutated and sid[dst] >= 0 and uses[sid[dst]] == 1
                    and self.bufs[src].flags.c_contiguous):
                self.bufs[dst] = self.bufs[src].reshape(self.shapes[dst])
                self.vars[dst] = self.vars[src]
                self.views.setdefault(src, []).append(dst)

    def rebind(self, items):
        """Entries live in new buffers (same shape and dtype, C-contiguous) with new engine
        Vars from now on, in every phase, and so do the views aliased to them: items is
        [(entry, buffer, Var)].  How a hybridized block feeds its inputs and head gradients
        and hands out fresh outputs and gradients without copying."""
        moved, todo = [], list(items)
        while todo:
            e, b, v = todo.pop()
            self.bufs[e], self.vars[e] = b, v
            moved.append(e)
            todo.extend((c, b.reshape(self.shapes[c]), v) for c in self.views.get(e, ()))
        if moved:
            for p in self._phases.values():
                p.repoint(moved, self.bufs, self.vars)

    def feed(self, triples):
        """Give each entry the values of an NDArray: triples [(entry, src, home)].  The
        entry is rebound to src's own buffer and Var when the graph can share it (same
        context, shape and dtype, C-contiguous, never written by a kernel), else src is
        copied into `home`, the entry's own NDArray (rebinding back to it first)."""
        items, copies = [], []
        for eid, src, home in triples:
            cur, buf = self.bufs[eid], src._data
            if (src.context == self.ctx and eid not in self.mutated and type(buf) is type(cur)
                    and buf.shape == cur.shape and buf.dtype == cur.dtype
                    and buf.flags.c_contiguous):
                if buf is not cur or src._var is not self.vars[eid]:
                    items.append((eid, buf, src._var))
                continue
            if cur is not home._data:
                items.append((eid, home._data, home._var))
            copies.append((src, home))
        self.rebind(items)
        for src, home in copies:
            src.copyto(home)

    def fresh(self, eids):
        """Rebind the entries to new buffers and Vars; returns those as NDArrays."""
        from ..ndarray.ndarray import NDArray
        items = [(e, self.xp.empty(self.shapes[e], self.dtypes[e]), engine.new_var())
                 for e in eids]
        self.rebind(items)
        return [NDArray(b, self.ctx, v) for _, b, v in items]

    def needed_head_grads(self):
        return [i for i, a in enumerate(self.head_grad_arrays) if a is not None]
