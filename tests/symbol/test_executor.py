"""Executor: bound graphs (built from ir.Node directly) against eager NDArray + autograd;
planned and unplanned execution bit-identical; MXNet's Executor API behaviour."""
import numpy as np
import pytest

import plait as mx
from plait import _engine
from plait.core import engine
from plait.core.graph.ir import Entry, Graph, Node
from plait.core.ops import registry as R
from plait.ndarray.invoke import invoke
from plait.symbol.executor import Executor

import opcheck


def N(op, name, ins, **attrs):
    o = R.get(op)
    return Node(o, name, o.format_attrs(o.parse_attrs(attrs)),
                [x if isinstance(x, Entry) else Entry(x, 0) for x in ins])


def V(*names):
    return [Node(None, n) for n in names]


def mlp():
    data, w1, b1, w2, b2, lab = V("data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias",
                                  "sm_label")
    fc1 = N("FullyConnected", "fc1", [data, w1, b1], num_hidden=8)
    act = N("Activation", "relu1", [fc1], act_type="relu")
    fc2 = N("FullyConnected", "fc2", [act, w2, b2], num_hidden=4)
    sm = N("SoftmaxOutput", "sm", [fc2, lab])
    shapes = {"data": (5, 6), "fc1_weight": (8, 6), "fc1_bias": (8,), "fc2_weight": (4, 8),
              "fc2_bias": (4,), "sm_label": (5,)}
    return Graph([Entry(sm, 0)]), shapes


def lenet():
    data, cw, cb, fw, fb = V("data", "conv_weight", "conv_bias", "fc_weight", "fc_bias")
    conv = N("Convolution", "conv", [data, cw, cb], kernel=(3, 3), num_filter=4)
    act = N("Activation", "tanh", [conv], act_type="tanh")
    pool = N("Pooling", "pool", [act], kernel=(2, 2), stride=(2, 2), pool_type="max")
    flat = N("Flatten", "flat", [pool])
    fc = N("FullyConnected", "fc", [flat, fw, fb], num_hidden=3)
    shapes = {"data": (2, 1, 8, 8), "conv_weight": (4, 1, 3, 3), "conv_bias": (4,),
              "fc_weight": (3, 36), "fc_bias": (3,)}
    return Graph([Entry(fc, 0)]), shapes


def _values(shapes, seed=0, dtype="float32"):
    r = np.random.default_rng(seed)
    vals = {k: r.normal(size=s).astype(dtype) for k, s in shapes.items()}
    if "sm_label" in vals:
        vals["sm_label"] = (np.arange(shapes["sm_label"][0]) % 4).astype(dtype)
    return vals


def bind(graph, vals, grad_req="write", planned=True, grads=True, aux=None):
    args = {k: mx.nd.array(v, dtype=v.dtype) for k, v in vals.items()}
    g = {k: mx.nd.zeros(v.shape, dtype=v.dtype) for k, v in vals.items()} if grads else None
    return Executor(graph, mx.cpu(), args, g, grad_req, aux or {}, use_planner=planned)


def _eager_mlp(vals):
    nd = {k: mx.nd.array(v) for k, v in vals.items()}
    for a in nd.values():
        a.attach_grad()
    with mx.autograd.record():
        h = mx.nd.FullyConnected(nd["data"], nd["fc1_weight"], nd["fc1_bias"], num_hidden=8)
        h = mx.nd.Activation(h, act_type="relu")
        h = mx.nd.FullyConnected(h, nd["fc2_weight"], nd["fc2_bias"], num_hidden=4)
        o = mx.nd.SoftmaxOutput(h, nd["sm_label"])
    o.backward()
    return o.asnumpy(), {k: a.grad.asnumpy() for k, a in nd.items()}


@pytest.mark.parametrize("planned", [True, False])
def test_mlp_matches_autograd(planned):
    g, shapes = mlp()
    vals = _values(shapes)
    ex = bind(g, vals, planned=planned)
    assert (ex.plan is not None) == planned
    out = ex.forward(is_train=True)[0].asnumpy()
    ex.backward()  # SoftmaxOutput: no head gradient needed
    want_out, want_g = _eager_mlp(vals)
    np.testing.assert_array_equal(out, want_out)
    for k in shapes:
        np.testing.assert_allclose(ex.grad_dict[k].asnumpy(), want_g[k], rtol=1e-6, atol=1e-7,
                                   err_msg=k)
    assert list(ex.output_dict) == ["sm_output"]
    assert list(ex.arg_dict) == list(shapes)


def test_lenet_matches_autograd_and_planner_is_bit_identical():
    g, shapes = lenet()
    vals = _values(shapes, 1)
    hg = np.random.default_rng(2).normal(size=(2, 3)).astype("float32")
    res = []
    for planned in (True, False):
        ex = bind(g, vals, planned=planned)
        out = ex.forward(is_train=True)[0].asnumpy()
        ex.backward(mx.nd.array(hg))
        res.append((out, {k: a.asnumpy() for k, a in ex.grad_dict.items()}))
        if planned:
            assert ex.plan.total_bytes < ex.plan.naive_bytes
    (o1, g1), (o2, g2) = res
    np.testing.assert_array_equal(o1, o2)
    for k in g1:
        np.testing.assert_array_equal(g1[k], g2[k], err_msg=k)
    nd = {k: mx.nd.array(v) for k, v in vals.items()}
    for a in nd.values():
        a.attach_grad()
    with mx.autograd.record():
        h = mx.nd.Convolution(nd["data"], nd["conv_weight"], nd["conv_bias"], kernel=(3, 3),
                              num_filter=4)
        h = mx.nd.Pooling(mx.nd.tanh(h), kernel=(2, 2), stride=(2, 2), pool_type="max")
        o = mx.nd.FullyConnected(mx.nd.Flatten(h), nd["fc_weight"], nd["fc_bias"], num_hidden=3)
    o.backward(mx.nd.array(hg))
    np.testing.assert_allclose(o1, o.asnumpy(), rtol=1e-6)
    for k in g1:
        np.testing.assert_allclose(g1[k], nd[k].grad.asnumpy(), rtol=1e-5, atol=1e-6, err_msg=k)


def test_head_gradient_required_for_non_loss_heads():
    g, shapes = lenet()
    ex = bind(g, _values(shapes))
    ex.forward(is_train=True)
    with pytest.raises(mx.PlaitError, match="head_gradient is required"):
        ex.backward()
    with pytest.raises(mx.PlaitError, match="shape"):
        ex.backward(mx.nd.ones((3, 3)))
    ex.backward({"fc_output": mx.nd.ones((2, 3))})  # dict by output name


def test_grad_req_add_accumulates_and_null_leaves_alone():
    g, shapes = mlp()
    vals = _values(shapes)
    _, want = _eager_mlp(vals)
    reqs = {k: "add" for k in shapes}
    reqs["fc2_bias"] = "null"
    ex = bind(g, vals, grad_req=reqs)
    ex.grad_dict["fc2_bias"][:] = 7
    for _ in range(3):
        ex.forward(is_train=True)
        ex.backward()
    np.testing.assert_allclose(ex.grad_dict["fc1_weight"].asnumpy(), 3 * want["fc1_weight"],
                               rtol=1e-5, atol=1e-6)
    assert (ex.grad_dict["fc2_bias"].asnumpy() == 7).all()


def test_identity_gradients_are_copied_and_variable_heads():
    x, y = V("x", "y")
    add = N("elemwise_add", "add", [x, y])  # gradient: the head gradient itself, twice
    g = Graph([Entry(add, 0), Entry(x, 0)])
    vals = {"x": np.ones((2, 2), "float32"), "y": np.full((2, 2), 2, "float32")}
    for planned in (True, False):
        ex = bind(g, vals, planned=planned)
        outs = ex.forward(is_train=True, x=mx.nd.full((2, 2), 3))
        np.testing.assert_array_equal(outs[0].asnumpy(), 5)
        np.testing.assert_array_equal(outs[1].asnumpy(), 3)
        ex.backward([mx.nd.full((2, 2), 4), mx.nd.full((2, 2), 1)])
        np.testing.assert_array_equal(ex.grad_dict["x"].asnumpy(), 5)
        np.testing.assert_array_equal(ex.grad_dict["y"].asnumpy(), 4)


def test_forward_kwargs_checks():
    g, shapes = mlp()
    ex = bind(g, _values(shapes))
    with pytest.raises(ValueError, match="Shape not match"):
        ex.forward(data=mx.nd.ones((2, 2)))
    with pytest.raises(TypeError, match="Unknown argument"):
        ex.forward(nope=mx.nd.ones((2, 2)))
    ex.forward(data=np.zeros((5, 6), "float32"))
    np.testing.assert_array_equal(ex.arg_dict["data"].asnumpy(), 0)


def test_copy_params_from():
    g, shapes = mlp()
    ex = bind(g, _values(shapes))
    ex.copy_params_from({"fc1_bias": mx.nd.ones((8,), dtype="float64")})
    assert ex.arg_dict["fc1_bias"].dtype == np.float32
    np.testing.assert_array_equal(ex.arg_dict["fc1_bias"].asnumpy(), 1)
    with pytest.raises(ValueError, match="not in the arguments"):
        ex.copy_params_from({"zzz": mx.nd.ones(1)})
    ex.copy_params_from({"zzz": mx.nd.ones(1)}, {"aaa": mx.nd.ones(1)}, allow_extra_params=True)
    with pytest.raises(ValueError, match="not in the auxiliary states"):
        ex.copy_params_from({}, {"aaa": mx.nd.ones(1)})


def test_reshape_rules():
    g, shapes = mlp()
    vals = _values(shapes)
    ex = bind(g, vals)
    with pytest.raises(mx.PlaitError, match="unspecifie arg: sm_label"):
        ex.reshape(data=(2, 6))
    with pytest.raises(mx.PlaitError, match="larger than original"):
        ex.reshape(data=(8, 6), sm_label=(8,))
    small = ex.reshape(data=(2, 6), sm_label=(2,))
    assert small.arg_dict["data"].shape == (2, 6)
    assert small.arg_dict["fc1_weight"] is ex.arg_dict["fc1_weight"]
    small.arg_dict["data"][:] = 1  # a view of the old memory
    assert (ex.arg_dict["data"].asnumpy()[:2] == 1).all()
    out = small.forward(is_train=True)[0]
    small.backward()
    assert out.shape == (2, 4) and small.grad_dict["data"].shape == (2, 6)
    big = ex.reshape(allow_up_sizing=True, data=(8, 6), sm_label=(8,))
    assert big.forward()[0].shape == (8, 4)
    with pytest.raises(mx.PlaitError, match="unspecifie arg: fc1_weight"):
        ex.reshape(data=(2, 5), sm_label=(2,))


def _bn_graph():
    x, gamma, beta, mm, mv = V("x", "gamma", "beta", "mm", "mv")
    bn = N("BatchNorm", "bn", [x, gamma, beta, mm, mv], fix_gamma=False)
    return Graph([Entry(bn, 0)])


def test_batchnorm_aux_updated_in_training_only():
    g = _bn_graph()
    r = np.random.default_rng(3)
    x = r.normal(size=(4, 3, 2)).astype("float32")
    args = {"x": mx.nd.array(x), "gamma": mx.nd.ones(3), "beta": mx.nd.zeros(3)}
    aux = {"mm": mx.nd.zeros(3), "mv": mx.nd.ones(3)}
    ex = Executor(g, mx.cpu(), args, {k: mx.nd.zeros(a.shape) for k, a in args.items()},
                  "write", aux)
    assert list(ex.aux_dict) == ["mm", "mv"]
    ex.forward(is_train=False)
    np.testing.assert_array_equal(ex.aux_dict["mm"].asnumpy(), 0)
    out = ex.forward(is_train=True)[0].asnumpy()
    mean, var = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
    np.testing.assert_array_equal(ex.aux_dict["mm"].asnumpy(), 0)  # MXNet: in the backward
    np.testing.assert_allclose(out.mean(axis=(0, 2)), 0, atol=1e-5)
    ex.backward(mx.nd.ones((4, 3, 2)))
    np.testing.assert_allclose(ex.aux_dict["mm"].asnumpy(), 0.1 * mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ex.aux_dict["mv"].asnumpy(), 0.9 + 0.1 * var, rtol=1e-5)
    # eager autograd reference for the gradient (fresh moving stats)
    nd = {k: mx.nd.array(a.asnumpy()) for k, a in args.items()}
    for a in nd.values():
        a.attach_grad()
    with mx.autograd.record():
        o = mx.nd.BatchNorm(nd["x"], nd["gamma"], nd["beta"], mx.nd.zeros(3), mx.nd.ones(3),
                            fix_gamma=False)
    o.backward(mx.nd.ones((4, 3, 2)))
    for k in args:
        np.testing.assert_allclose(ex.grad_dict[k].asnumpy(), nd[k].grad.asnumpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=k)
    with pytest.raises(mx.PlaitError, match="aux_states"):
        Executor(g, mx.cpu(), args, None, "null", None)


def test_monitor_callback_sees_every_op_output():
    g, shapes = mlp()
    ex = bind(g, _values(shapes))
    seen = {}
    ex.set_monitor_callback(lambda name, arr: seen.__setitem__(name, arr.asnumpy()))
    ex.forward()
    assert set(seen) == {"fc1_output", "relu1_output", "fc2_output", "sm_output"}


def test_naive_engine_runs_the_same():
    g, shapes = lenet()
    vals = _values(shapes)
    ex = bind(g, vals)
    want = ex.forward()[0].asnumpy()
    prev = engine.engine_type()
    engine.set_engine_type("NaiveEngine")
    try:
        np.testing.assert_array_equal(bind(g, vals).forward()[0].asnumpy(), want)
    finally:
        engine.set_engine_type(prev)


def test_run_graph_validates_before_pushing():
    v = engine.new_var()
    hit = []
    with pytest.raises(TypeError, match="not callable"):
        _engine.run_graph([lambda: hit.append(1), 3], [(), ()], [(v,), (v,)], ["a", "b"])
    with pytest.raises(TypeError, match="tuple of Var"):
        _engine.run_graph([lambda: hit.append(1)], [[v]], [()], ["a"])
    with pytest.raises(ValueError, match="length"):
        _engine.run_graph([lambda: None], [(), ()], [()], ["a"])
    engine.wait_all()
    assert hit == []
    order = []
    _engine.run_graph([lambda: order.append(0), lambda: order.append(1)], [(), (v,)],
                      [(v,), ()], ["w", "r"])
    engine.wait_write(v)
    assert order == [0, 1]


# -- every registered op bound as a one-node graph ----------------------------------------------
def _bindable(op):
    return op.samples is not None and "rng" not in op.resources and op.check is None


OPS = [op for op in R.all_ops() if _bindable(op)]


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_every_op_binds_forward_and_backward(op):
    dtype = op.test_dtypes[0]
    s = list(op.samples(dtype))[0]
    kw = dict(s.attrs)
    if op.variadic:
        kw[op.variadic] = len(s.inputs)
    ins = V(*["in%d" % i for i in range(len(s.inputs))])
    node = Node(op, "op", op.format_attrs(op.parse_attrs(kw)), [Entry(v, 0) for v in ins])
    n_out = node.num_outputs()
    g = Graph([Entry(node, i) for i in range(n_out)])
    mut = set(op.mutates)
    args = {v.name: mx.nd.array(x, dtype=x.dtype) for i, (v, x) in
            enumerate(zip(ins, s.inputs)) if i not in mut}
    aux = {v.name: mx.nd.array(x, dtype=x.dtype) for i, (v, x) in
           enumerate(zip(ins, s.inputs)) if i in mut}
    diff = []
    if op.gradient is not None:
        want = op.grad_inputs if op.grad_inputs is not None else range(len(s.inputs))
        diff = [i for i in want if s.inputs[i].dtype.kind == "f" and i not in mut]
    grads = {"in%d" % i: mx.nd.zeros(s.inputs[i].shape, dtype=s.inputs[i].dtype) for i in diff}
    eager = [mx.nd.array(x, dtype=x.dtype) for x in s.inputs]
    for i in diff:
        eager[i].attach_grad()
    with mx.autograd.record():
        want_out = opcheck.as_list(invoke(op, eager, dict(s.attrs)))
    heads = [i for i, o in enumerate(want_out) if np.dtype(o.dtype).kind == "f"] if diff else []
    r = np.random.default_rng(0)
    hg = [mx.nd.array(r.uniform(0.5, 1.5, want_out[i].shape), dtype=want_out[i].dtype)
          for i in range(n_out)]
    if heads:
        mx.autograd.backward([want_out[i] for i in heads], [hg[i] for i in heads])
    results = []
    for planned in (True, False):
        a2 = {k: mx.nd.array(v.asnumpy(), dtype=v.dtype) for k, v in args.items()}
        x2 = {k: mx.nd.array(v.asnumpy(), dtype=v.dtype) for k, v in aux.items()}
        g2 = {k: mx.nd.zeros(v.shape, dtype=v.dtype) for k, v in grads.items()}
        ex = Executor(g, mx.cpu(), a2, g2, "write", x2, use_planner=planned)
        outs = [o.asnumpy() for o in ex.forward(is_train=True)]
        if diff:
            ex.backward([h if i in heads else mx.nd.zeros_like(h) for i, h in enumerate(hg)])
        results.append((outs, [ex.grad_dict["in%d" % i].asnumpy() for i in diff]))
    (o1, g1), (o2, g2) = results
    for a, b, w in zip(o1, o2, want_out):
        np.testing.assert_array_equal(a, b)  # planned == unplanned, bit for bit
        if not mut:
            np.testing.assert_allclose(a, w.asnumpy(), rtol=1e-5, atol=1e-6, err_msg=op.name)
    for i, a, b in zip(diff, g1, g2):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, eager[i].grad.asnumpy(), rtol=1e-5, atol=1e-6,
                                   err_msg="%s d/d input %d" % (op.name, i))


def test_inplace_chain_planned_with_backward_is_bit_identical():
    x, = V("x")
    h = N("exp", "e", [x])
    h = N("_mul_scalar", "m", [h], scalar=0.5)
    h = N("Activation", "a", [h], act_type="sigmoid")
    h = N("sin", "s", [h])
    h = N("_plus_scalar", "p", [h], scalar=1.0)
    h = N("Flatten", "f", [h])
    g = Graph([Entry(h, 0)])
    vals = {"x": np.random.default_rng(5).normal(size=(3, 4)).astype("float64")}
    fwd_only = bind(g, vals, grads=False, grad_req="null")
    assert any(i >= 0 for i in fwd_only.plan.inplace)  # the planner did work in place
    res = []
    for planned in (True, False):
        ex = bind(g, vals, planned=planned)
        out = ex.forward(is_train=True)[0].asnumpy()
        ex.backward(mx.nd.ones((3, 4), dtype="float64"))
        res.append((out, ex.grad_dict["x"].asnumpy()))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])
    np.testing.assert_array_equal(fwd_only.forward()[0].asnumpy(), res[0][0])
    xv = vals["x"]
    sg = 1 / (1 + np.exp(-0.5 * np.exp(xv)))
    np.testing.assert_allclose(res[0][0], np.sin(sg) + 1, rtol=1e-12)
    np.testing.assert_allclose(res[0][1], np.cos(sg) * sg * (1 - sg) * 0.5 * np.exp(xv),
                               rtol=1e-10)
