"""The control-flow ops at the graph level (core/ops/control_flow*.py): malformed nodes
and bodies give errors naming the op, -symbol.json subgraphs are read with the same
checks as the top level, planned execution equals unplanned, bodies with train-aware
ops see the mode.  (Forward vs NumPy loops and gradients vs finite differences of every
sample run in tests/test_ops_generic.py and tests/test_ops_grad.py.)"""
import json

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError
from plait.core.graph.ir import Entry, Graph, Node
from plait.core.ops import registry
from plait.core.ops.control_flow_samples import foreach_samples, np_body
from plait.ndarray.invoke import invoke


def _nd(a):
    return mx.nd.array(a, dtype=a.dtype)


def _sample():
    return foreach_samples(np.dtype("float64"))[0]


def _call(attrs_update, inputs=None):
    s = _sample()
    ins = [_nd(x) for x in (inputs if inputs is not None else s.inputs)]
    r = invoke(registry.get("_foreach"), ins, dict(s.attrs, **attrs_update))
    for o in (r if isinstance(r, list) else [r]):
        o.wait_to_read()


@pytest.mark.parametrize("update, match", [
    ({"subgraphs": None}, "_foreach.*subgraphs.*needs 1 subgraph"),
    ({"num_args": 7}, "_foreach.*expected 6 input"),
    ({"remain_locs": (0,)}, "_foreach.*body input positions \\[0, 0, 2\\]"),
    ({"num_outputs": 3}, "_foreach.*num_outputs.*returns 2 output"),
    ({"num_out_data": 0}, "_foreach.*num_outputs=2 must be num_out_data \\(0\\)"),
])
def test_malformed_foreach_nodes_are_rejected(update, match):
    with pytest.raises(PlaitError, match=match):
        _call(update)


def test_foreach_input_errors_name_the_input_and_shapes():
    x, s, w = _sample().inputs
    with pytest.raises(PlaitError, match=r"^_foreach: body node 'elemwise_add\d+' \(elemwise_add, "
                                         r"argument 'input 1'\): shape \(4,\) does not match"):
        _call({}, [x, np.ones(4), w])
    with pytest.raises(PlaitError, match=r"_foreach: .*expected 3 input"):
        _call({}, [x, s])


def test_while_loop_and_cond_check_their_conditions():
    from plait.core.ops.control_flow_samples import cond_samples, while_samples
    s = while_samples(np.dtype("float64"))[0]
    ins = [_nd(x) for x in s.inputs]
    op = registry.get("_while_loop")
    with pytest.raises(PlaitError, match="_while_loop.*cond.*one element.*\\(3,\\)"):
        invoke(op, [_nd(np.zeros(3))] + ins[1:], dict(s.attrs))
    with pytest.raises(PlaitError, match="_while_loop.*func_var_locs refers to func input 7"):
        invoke(op, ins, dict(s.attrs, func_var_locs=(7, 0)))
    with pytest.raises(PlaitError, match="_while_loop.*max_iterations.*must be > 0"):
        invoke(op, ins, dict(s.attrs, max_iterations=0))
    c = cond_samples(np.dtype("float64"))[0]
    with pytest.raises(PlaitError, match="_cond.*then_input_locs refers to input 5"):
        invoke(registry.get("_cond"), [_nd(x) for x in c.inputs],
               dict(c.attrs, then_input_locs=(1, 5)))


def test_body_errors_name_the_body_node():
    """A body op rejecting its inputs: the error names _foreach and the body node."""
    x, s = Node(None, "x"), Node(None, "s")
    dot = Node(registry.get("dot"), "mydot", {}, [Entry(x, 0), Entry(s, 0)])
    body = Graph([Entry(dot, 0), Entry(dot, 0)])
    with pytest.raises(PlaitError, match=r"_foreach.*body node 'mydot' \(dot, argument 'rhs'\)"
                                         r".*\(3,\).*\(4,\)"):
        invoke(registry.get("_foreach"), [_nd(np.ones((2, 3))), _nd(np.ones(4))],
               dict(num_args=3, num_outputs=2, num_out_data=1, in_data_locs=(0,),
                    in_state_locs=(1,), remain_locs=(), subgraphs=(body,)))


def _foreach_json():
    x, s = mx.sym.var("x"), mx.sym.var("s")
    o, st = mx.sym.contrib.foreach(lambda d, st: (d * 2, [st[0] + d]), x, [s])
    return json.loads(mx.sym.Group([o, st[0]]).tojson())


def test_subgraph_json_is_checked_like_the_top_level():
    doc = _foreach_json()
    sub = doc["nodes"][-1]["subgraphs"][0]
    sub["nodes"][1]["op"] = "no_such_op"
    with pytest.raises(PlaitError, match="unknown operator 'no_such_op'"):
        mx.sym.load_json(json.dumps(doc))
    doc = _foreach_json()
    doc["nodes"][-1]["subgraphs"] = {"nodes": []}
    with pytest.raises(PlaitError, match="'subgraphs' must be a list"):
        mx.sym.load_json(json.dumps(doc))
    doc = _foreach_json()
    doc["nodes"][-1]["subgraphs"][0]["heads"] = [[99, 0, 0]]
    with pytest.raises(PlaitError, match="heads"):
        mx.sym.load_json(json.dumps(doc))


def test_planned_execution_equals_unplanned():
    from plait.symbol.executor import Executor
    x, s, w = (mx.sym.var(n) for n in "xsw")
    o, st = mx.sym.contrib.foreach(
        lambda d, st: (mx.sym.tanh(d * w + st[0]), [mx.sym.tanh(d * w + st[0]) * 0.5]), x, [s])
    g = mx.sym.Group([o * 3, st[0] + 1])._graph()
    r = np.random.RandomState(0)
    vals = {"x": r.randn(5, 4), "s": r.randn(4), "w": r.randn(4)}
    res = []
    for planned in (True, False):
        args = {k: _nd(v) for k, v in vals.items()}
        grads = {k: mx.nd.zeros(v.shape, dtype=v.dtype) for k, v in vals.items()}
        ex = Executor(g, mx.cpu(), args, grads, use_planner=planned)
        outs = [a.asnumpy() for a in ex.forward(is_train=True)]
        ex.backward([mx.nd.ones((5, 4), dtype="float64"), mx.nd.ones(4, dtype="float64")])
        res.append(outs + [grads[k].asnumpy() for k in sorted(vals)])
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)


def test_train_aware_ops_in_a_body_see_the_mode():
    """BatchNorm-free check: Dropout(p=1) zeroes in training, passes in inference."""
    x, s = mx.sym.var("x"), mx.sym.var("s")
    o, _ = mx.sym.contrib.foreach(lambda d, st: (mx.sym.Dropout(d, p=0.99) + st[0], st), x, [s])
    xs = np.ones((3, 50))
    args = {"x": _nd(xs), "s": _nd(np.zeros(50))}
    ex = o.bind(mx.cpu(), args)
    np.testing.assert_array_equal(ex.forward(is_train=False)[0].asnumpy(), xs)
    assert (ex.forward(is_train=True)[0].asnumpy() == 0).mean() > 0.8


def test_numpy_reference_interpreter_is_independent_of_kernels():
    s = _sample()
    body = s.attrs["subgraphs"][0]
    x, st, w = s.inputs
    out, new = np_body(body, [x[0], w, st])  # list_inputs order: x, w, s
    np.testing.assert_allclose(out, x[0] * w + st)
    np.testing.assert_allclose(new, np.tanh(x[0] * w + st))


def test_backward_without_saved_steps_replays_the_same_random_draws():
    """_backward_foreach called without the forward's saved steps replays the loop with
    the generator rewound per step: the gradient equals the one from saved steps."""
    from plait.core.ops.control_flow import bodies
    x, s = mx.sym.var("x"), mx.sym.var("s")
    o, st = mx.sym.contrib.foreach(
        lambda d, st: (mx.sym.Dropout(d * st[0], p=0.5), [st[0] + mx.sym.Dropout(d, p=0.5)]),
        x, [s])
    node = o._entries[0].node
    op, bop = registry.get("_foreach"), registry.get("_backward_foreach")
    a = node.params()
    bodies(a, "_foreach", 1)
    a["__is_train__"] = True
    r = np.random.RandomState(0)
    ins = [r.uniform(1, 2, (4, 30)), r.uniform(1, 2, 30)]
    outs = [np.empty(sh) for sh in op.infer_shape(a, [i.shape for i in ins])]
    mx.random.seed(1)
    op.forward(np, a, ins, outs)
    assert (outs[0] == 0).any()  # some dropped
    heads = [r.uniform(.5, 1.5, v.shape) for v in outs]
    b = bop.parse_attrs({"fwd": a, "num_args": 4})
    grads = []
    for _ in range(2):
        g = [np.empty(i.shape) for i in ins]
        bop.forward(np, b, heads + ins, g)
        grads.append(g)
        a["__programs__"].pop("__saved__", None)  # the second run replays
    for u, v in zip(*grads):
        np.testing.assert_allclose(u, v, rtol=1e-12)
