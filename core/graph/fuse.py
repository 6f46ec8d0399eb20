"""Fusion of the graphs hybridized blocks run: an op whose output nothing else reads
joins the op that reads it (core/ops/nn_fused.py has the fused ops):

    relu(BatchNorm(x, ...))        -> _contrib_BatchNormWithReLU(x, ...)
    relu(elemwise_add(a, b))       -> _add_relu(a, b)
      (relu: Activation(act_type='relu') or the relu op; each saves a pass over the tensor
      and the tensor itself, and ResNet-50 has 49 of them)
    pick(log_softmax(x), j)        -> _log_softmax_pick(x, j)
      (gluon's SoftmaxCrossEntropyLoss: the log_softmax array, as large as the logits, is
      never written, and the gradient is one pass instead of a scatter and a backward)

The fused ops compute the same values, and their gradients need nothing the fusion drops
(relu's from its output, as the unfused _backward_relu can), so training graphs are fused
too.  The graph's variables stay the same Node objects, in the same order, so it binds to
the same arguments.  PLAIT_GRAPH_FUSION=0 turns fusion off.
"""
import os

from ..ops import registry
from .ir import Entry, Graph, Node

_state = {"on": os.environ.get("PLAIT_GRAPH_FUSION", "1") != "0"}


def _is_relu(node):
    if node.op is None:
        return False
    if node.op.name == "Activation":
        return node.params().act_type == "relu"
    return node.op.name == "relu"


def _producer(node, uses):
    """The op node whose output is node's first input, when nothing else reads it."""
    if not node.inputs:
        return None
    src = node.inputs[0]
    prod = src.node
    if prod.op is None or uses[(id(prod), src.index)] != 1:
        return None
    return prod


def _fusable(node, uses):
    """(fused op name, the node whose name, attrs and inputs the fused node takes over) for
    a node that can absorb the op before it, else None."""
    if node.op is None:
        return None
    prod = _producer(node, uses)
    if prod is None:
        return None
    if node.op.name == "pick" and prod.op.name == "log_softmax":
        a = prod.params()
        if (a.temperature in (None, 1.0) and a.dtype is None and not a.use_length
                and a.axis == node.params().axis):
            return "_log_softmax_pick", Node(node.op, node.name, node.attrs,
                                             [prod.inputs[0]] + node.inputs[1:])
        return None
    if not _is_relu(node) or len(node.inputs) != 1:
        return None
    if prod.op.name == "BatchNorm" and not prod.params().output_mean_var:
        return "_contrib_BatchNormWithReLU", prod
    if prod.op.name == "elemwise_add":
        return "_add_relu", prod
    return None


def fuse(graph):
    """A new Graph with the fusions above, or `graph` itself when there is none."""
    if not _state["on"]:
        return graph
    nodes = graph.topo_nodes()
    uses = {}
    for e in [e for n in nodes for e in n.inputs] + list(graph.outputs):
        key = (id(e.node), e.index)
        uses[key] = uses.get(key, 0) + 1
    plan = {}
    for n in nodes:
        f = _fusable(n, uses)
        if f is not None:
            plan[id(n)] = f
    if not plan:
        return graph
    new = {}
    for n in nodes:
        if n.op is None:
            new[id(n)] = n
            continue
        op, src = n.op, n
        if id(n) in plan:  # n becomes the fused op
            name, src = plan[id(n)]
            op = registry.get(name)
        new[id(n)] = Node(op, src.name, src.attrs,
                          [Entry(new[id(e.node)], e.index) for e in src.inputs], src.subgraphs)
    return Graph([Entry(new[id(e.node)], e.index) for e in graph.outputs])
