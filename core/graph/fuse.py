"""Fusion of a graph that will run forward only (a hybridized block called outside
autograd.record()): a relu whose input is a BatchNorm's or a residual sum's output, read by
nothing else, joins that op:

    relu(BatchNorm(x, ...))        -> _contrib_BatchNormWithReLU(x, ...)
    relu(elemwise_add(a, b))       -> _add_relu(a, b)

(relu: Activation(act_type='relu') or the relu op.)  Each saves one pass over the tensor
(ResNet-50 inference has 49 such relus).  Without a backward pass nothing needs the
unfused intermediate, and the fused ops compute the same values (core/ops/nn_fused.py).
The graph's variables stay the same Node objects, in the same order, so it binds to the
same arguments.  PLAIT_INFERENCE_FUSION=0 turns it off.
"""
import os

from ..ops import registry
from .ir import Entry, Graph, Node

_state = {"on": os.environ.get("PLAIT_INFERENCE_FUSION", "1") != "0"}


def _is_relu(node):
    if node.op is None:
        return False
    if node.op.name == "Activation":
        return node.params().act_type == "relu"
    return node.op.name == "relu"


def _fusable(node, uses):
    """(fused op name, the old input entries) for a relu node that can absorb its input's
    op, else None."""
    if not _is_relu(node) or len(node.inputs) != 1:
        return None
    src = node.inputs[0]
    prod = src.node
    if prod.op is None or uses[(id(prod), src.index)] != 1:
        return None
    if prod.op.name == "BatchNorm" and not prod.params().output_mean_var:
        return "_contrib_BatchNormWithReLU", prod
    if prod.op.name == "elemwise_add":
        return "_add_relu", prod
    return None


def fuse_inference(graph):
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
        if id(n) in plan:  # the relu becomes the fused op on its input's inputs
            name, src = plan[id(n)]
            op = registry.get(name)
        new[id(n)] = Node(op, src.name, src.attrs,
                          [Entry(new[id(e.node)], e.index) for e in src.inputs], src.subgraphs)
    return Graph([Entry(new[id(e.node)], e.index) for e in graph.outputs])
