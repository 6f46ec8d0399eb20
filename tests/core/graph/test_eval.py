"""The reference interpreter on real MXNet 1.9.1 graphs with MXNet's parameters: it must
reproduce MXNet's outputs (fixtures from tools/make_symbol_fixtures.py)."""
import os

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError
from plait.core.graph.eval import eval_graph
from plait.core.graph.ir import Entry, Graph, Node
from plait.core.graph.symbol_json import load_json
from plait.core.ops import registry

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "symbol")


def _load(net):
    with open(os.path.join(FIX, net + "-symbol.json")) as f:
        graph = load_json(f.read())
    params = mx.nd.load(os.path.join(FIX, net + "-0000.params"))
    io = np.load(os.path.join(FIX, net + "-io.npz"), allow_pickle=False)
    values = {k.split(":", 1)[1]: v for k, v in params.items()}
    values.update({k[3:]: mx.nd.array(io[k]) for k in io.files if k.startswith("in:")})
    return graph, values, io


@pytest.mark.parametrize("net", ["mlp", "lenet", "resnet18thin", "convbn-legacy"])
def test_reproduces_mxnet_outputs(net):
    graph, values, io = _load(net)
    outs = eval_graph(graph, values)
    assert len(outs) == len([k for k in io.files if k.startswith("out:")])
    for i, o in enumerate(outs):
        np.testing.assert_allclose(o.asnumpy(), io["out:%d" % i], rtol=1e-5, atol=1e-5)


def test_training_mode_batchnorm_uses_batch_stats_and_updates_aux_in_backward():
    graph, values, io = _load("resnet18thin")
    name = "resnetv10_batchnorm0_running_mean"
    before = values[name].asnumpy().copy()
    x = values["data"]
    x.attach_grad()
    with mx.autograd.record():
        outs = eval_graph(graph, values, is_train=True)
    np.testing.assert_allclose(outs[0].asnumpy(), io["train_out:0"], rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(values[name].asnumpy(), before)  # MXNet: not in forward
    outs[0].backward()
    assert not np.allclose(values[name].asnumpy(), before)  # eager: updated in place
    assert not mx.autograd.is_training()                     # training flag restored
    # inference again with the updated stats differs from the first inference
    out2 = eval_graph(graph, values)[0].asnumpy()
    assert not np.allclose(out2, io["out:0"], rtol=1e-5, atol=1e-5)


def test_multi_output_entries_and_shared_inputs():
    x = Node(None, "x")
    sp = Node(registry.get("SliceChannel"), "s", {"num_outputs": "2", "axis": "1"},
              [Entry(x, 0)])
    add = Node(registry.get("elemwise_add"), "a", {}, [Entry(sp, 1), Entry(sp, 1)])
    g = Graph([Entry(add, 0), Entry(sp, 0), Entry(x, 0)])
    data = np.arange(8, dtype=np.float32).reshape(2, 4)
    outs = eval_graph(g, {"x": mx.nd.array(data)})
    np.testing.assert_array_equal(outs[0].asnumpy(), 2 * data[:, 2:])
    np.testing.assert_array_equal(outs[1].asnumpy(), data[:, :2])
    np.testing.assert_array_equal(outs[2].asnumpy(), data)


def test_errors_name_the_problem():
    graph, values, _ = _load("mlp")
    del values["fc1_weight"]
    with pytest.raises(PlaitError, match="no value given for variable 'fc1_weight'"):
        eval_graph(graph, values)
    graph, values, _ = _load("mlp")
    values["fc1_weight"] = mx.nd.zeros((3, 3))
    with pytest.raises(PlaitError, match="node 'fc1'"):
        eval_graph(graph, values)
    values["fc1_weight"] = np.zeros((32, 20), np.float32)
    with pytest.raises(PlaitError, match="must be an NDArray"):
        eval_graph(graph, values)
