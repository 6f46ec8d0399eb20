"""The graph IR: nodes, entries, graphs, and the indexed (numbered) view passes use.

A `Node` is one op call (or a variable when `op` is None): its attributes are kept as
MXNet strings -- exactly what -symbol.json stores -- and parsed once, on demand, by the
op's `Param`s.  An `Entry` is one output of a node.  A `Graph` is a list of output
entries; everything reachable from them is the graph.

`IndexedGraph` numbers the nodes in topological order and the entries by
`row_ptr[node_id] + output_index` (MXNet's node_row_ptr), which is the form the
passes (shape/type inference, planning) and the C++ executor consume.  A pass reads a
graph and returns arrays indexed by node id or entry id; it never mutates nodes.
"""
from collections import namedtuple

from ..base import PlaitError

Entry = namedtuple("Entry", ["node", "index"])
Entry.__doc__ = "Output `index` of `node`."


class Node:
    """One op call, or a variable (op None).

    op       OpDef or None
    name     unique-ish node name ('fullyconnected0', 'data', 'fc1_weight')
    attrs    dict str -> str: the op's params as MXNet strings, plus '__key__' attributes
             (variables: '__shape__', '__dtype__', '__init__', '__lr_mult__', ...)
    inputs   list of Entry
    subgraphs list of Graph (control-flow ops; empty otherwise)
    """
    __slots__ = ("op", "name", "attrs", "inputs", "subgraphs", "_parsed")

    def __init__(self, op, name, attrs=None, inputs=(), subgraphs=()):
        self.op = op
        self.name = name
        self.attrs = dict(attrs or {})
        self.inputs = list(inputs)
        self.subgraphs = list(subgraphs)
        self._parsed = None

    @property
    def is_variable(self):
        return self.op is None

    def params(self):
        """The op's parsed params (cached); '__key__' attributes are left out."""
        if self._parsed is None:
            raw = {k: v for k, v in self.attrs.items() if not k.startswith("__")}
            try:
                parsed = self.op.parse_attrs(raw)
            except PlaitError as e:
                e.msg = "node '%s': %s" % (self.name, e.msg)
                raise
            if self.subgraphs:  # control-flow ops read their bodies from their params
                parsed["subgraphs"] = tuple(self.subgraphs)
            self._parsed = parsed
        return self._parsed

    def num_outputs(self):
        return 1 if self.op is None else self.op.n_outputs(self.params())

    def output_names(self):
        """MXNet's output names: 'fc1_output', 'split0_output0', 'bn_mean', ..."""
        if self.op is None:
            return [self.name]
        n = self.num_outputs()
        names = self.op.output_names
        if callable(names):
            names = names(self.params())
        if names:
            return ["%s_%s" % (self.name, s) for s in list(names)[:n]]
        if n == 1:
            return [self.name + "_output"]
        return ["%s_output%d" % (self.name, i) for i in range(n)]

    def input_names(self):
        return list(self.op.input_names(self.params())) if self.op is not None else []

    def __repr__(self):
        return "<Node %s %s>" % (self.op.name if self.op else "var", self.name)


class Graph:
    """A computation: its output entries (everything reachable from them).

    The topological order is computed once and cached: passes never mutate the nodes of
    a graph they are given (they build new nodes and a new Graph instead)."""
    __slots__ = ("outputs", "_topo")

    def __init__(self, outputs):
        self.outputs = list(outputs)
        self._topo = None

    def topo_nodes(self):
        """Every node reachable from the outputs, inputs before users (MXNet's DFS order:
        a node's inputs are visited in order, depth first)."""
        if self._topo is None:
            self._topo = self._toposort()
        return list(self._topo)

    def _toposort(self):
        order, seen = [], set()
        for out in self.outputs:
            if id(out.node) in seen:
                continue
            stack = [(out.node, 0)]
            while stack:
                node, i = stack.pop()
                if i == 0 and id(node) in seen:
                    continue
                if i < len(node.inputs):
                    stack.append((node, i + 1))
                    child = node.inputs[i].node
                    if id(child) not in seen:
                        stack.append((child, 0))
                else:
                    seen.add(id(node))
                    order.append(node)
        return order

    def variables(self):
        return [n for n in self.topo_nodes() if n.op is None]

    def aux_variables(self):
        """Variables feeding an input that an op mutates (BatchNorm's moving stats)."""
        aux = {}
        for n in self.topo_nodes():
            if n.op is not None and n.op.mutates:
                for i in n.op.mutates:
                    if i < len(n.inputs) and n.inputs[i].node.op is None:
                        aux[id(n.inputs[i].node)] = n.inputs[i].node
        return aux

    def arguments(self):
        """(argument variables, auxiliary-state variables), each in topological order."""
        aux = self.aux_variables()
        vs = self.variables()
        return [v for v in vs if id(v) not in aux], [v for v in vs if id(v) in aux]


class IndexedGraph:
    """Nodes numbered in topological order; entries numbered node_row_ptr[nid] + index."""

    def __init__(self, graph):
        self.graph = graph
        self.nodes = graph.topo_nodes()
        self.node_id = {id(n): i for i, n in enumerate(self.nodes)}
        self.row_ptr = [0]
        for n in self.nodes:
            self.row_ptr.append(self.row_ptr[-1] + n.num_outputs())
        self.input_entries = [[self.entry_id(e) for e in n.inputs] for n in self.nodes]
        self.output_entries = [self.entry_id(e) for e in graph.outputs]

    @property
    def num_entries(self):
        return self.row_ptr[-1]

    def entry_id(self, entry):
        return self.row_ptr[self.node_id[id(entry.node)]] + entry.index

    def node_entries(self, nid):
        return range(self.row_ptr[nid], self.row_ptr[nid + 1])
