"""mx.sym.contrib foreach / while_loop / cond: graphs with subgraph bodies.

- -symbol.json files made by real MXNet 1.9.1 (tools/make_control_flow_fixtures.py) load,
  run forward and backward, and match MXNet's outputs and gradients; plait writes the
  same bytes back, and building the same graphs in plait writes MXNet's layout;
- symbolic == imperative (outputs and gradients), hybridized Gluon == imperative;
- errors in the user's functions name the function and the values involved.
"""
import json
import os
import re

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "control_flow")
CASES = ["foreach_rnn", "foreach_nested", "while_loop", "cond_then", "cond_else"]


def _nd(a):
    return mx.nd.array(a, dtype=a.dtype)


def _fixture(case):
    with open(os.path.join(FIX, case + "-symbol.json")) as f:
        text = f.read()
    return text, np.load(os.path.join(FIX, case + ".npz"), allow_pickle=False)


def _run(sym, args, heads):
    grads = {k: mx.nd.zeros(v.shape, dtype=v.dtype) for k, v in args.items()}
    ex = sym.bind(mx.cpu(), dict(args), args_grad=grads)
    outs = [o.asnumpy() for o in ex.forward(is_train=True)]
    ex.backward([_nd(h) for h in heads])
    return outs, {k: g.asnumpy() for k, g in grads.items()}


def _cond_grad_a(z):
    """d/da of cond_case's loss, by hand: MXNet 1.9.1's _cond backward returns garbage
    for `a` (an input used by the branch and, through exp(a), by an outer value)."""
    a, b, h0, h1 = (z[k].astype(np.float64) for k in ("arg:a", "arg:b", "head:0", "head:1"))
    if z["arg:p"].sum() > 0:
        return 0.5 * np.exp(a) * b * h0 + h1
    return 0.5 * np.exp(a) * h0 + 2 * a * h1


@pytest.mark.parametrize("case", CASES)
def test_mxnet_files_load_run_and_match_mxnet(case):
    text, z = _fixture(case)
    sym = mx.sym.load_json(text)
    assert sym.tojson() == text  # written back byte for byte
    args = {k[4:]: _nd(z[k]) for k in z.files if k.startswith("arg:")}
    n_out = len([k for k in z.files if k.startswith("out:")])
    outs, grads = _run(sym, args, [z["head:%d" % i] for i in range(n_out)])
    for i, o in enumerate(outs):
        if "steps:%d" % i in z.files:  # while_loop: MXNet leaves the padding undefined
            n = int(z["steps:%d" % i])
            np.testing.assert_array_equal(o[n:], 0)
            o = o[:n]
        np.testing.assert_allclose(o, z["out:%d" % i], rtol=2e-5, atol=2e-6, err_msg=case)
    for k, g in grads.items():
        want = _cond_grad_a(z) if case.startswith("cond") and k == "a" else z["grad:" + k]
        np.testing.assert_allclose(g, want, rtol=2e-5, atol=2e-5, err_msg="%s grad %s" % (case, k))


def _normalized(text):
    return re.sub(r'"__subgraph_name__": "([a-z_]+)\d+', r'"__subgraph_name__": "\1N', text)


def test_plait_builds_mxnets_layout():
    """The graph of foreach_rnn built with mx.sym.contrib.foreach is MXNet's file (up to
    the process-wide counter in the subgraph names)."""
    text, _ = _fixture("foreach_rnn")
    with mx.name.NameManager():
        x, h0 = mx.sym.var("data"), mx.sym.var("h0")
        wi, bi = mx.sym.var("i2h_weight"), mx.sym.var("i2h_bias")
        wh, bh = mx.sym.var("h2h_weight"), mx.sym.var("h2h_bias")

        def body(xt, states):
            h = mx.sym.tanh(mx.sym.FullyConnected(xt, wi, bi, num_hidden=5) +
                            mx.sym.FullyConnected(states[0], wh, bh, num_hidden=5))
            return h * 1.5, [h]
        outs, states = mx.sym.contrib.foreach(body, x, [h0])
        mine = mx.sym.Group([outs, states[0]]).tojson()
    assert _normalized(mine) == _normalized(text)


def test_plait_written_while_and_cond_match_mxnet_layout():
    for case in ("while_loop", "cond_then"):
        text, _ = _fixture(case)
        doc = json.loads(text)
        again = json.loads(mx.sym.load_json(text).tojson())
        assert again == doc
        cf = [n for n in doc["nodes"] if n["op"] in ("_while_loop", "_cond")][0]
        assert int(cf["attrs"]["num_args"]) == len(cf["inputs"]) + len(cf["subgraphs"])


# -- symbolic == imperative ------------------------------------------------------------------------
def _rnn_body(F, w, u):
    def body(xt, states):
        h = F.tanh(F.dot(xt, w) + F.dot(states[0], u))
        return [h * 2, h + 1], [h, states[1] + 1]
    return body


def test_symbolic_foreach_equals_imperative_forward_and_backward():
    r = np.random.RandomState(3)
    vals = {"x": r.randn(4, 2, 3), "h": r.randn(2, 5), "c": r.randn(2, 5),
            "w": r.randn(3, 5) * .5, "u": r.randn(5, 5) * .5}
    heads = [r.uniform(.5, 1.5, s) for s in ((4, 2, 5), (4, 2, 5), (2, 5), (2, 5))]
    v = {k: mx.sym.var(k) for k in vals}
    outs, st = mx.sym.contrib.foreach(_rnn_body(mx.sym, v["w"], v["u"]), v["x"], [v["h"], v["c"]])
    s_outs, s_grads = _run(mx.sym.Group(outs + st), {k: _nd(a) for k, a in vals.items()}, heads)
    nds = {k: _nd(a) for k, a in vals.items()}
    for a in nds.values():
        a.attach_grad()
    with mx.autograd.record():
        o, s = mx.nd.contrib.foreach(_rnn_body(mx.nd, nds["w"], nds["u"]), nds["x"],
                                     [nds["h"], nds["c"]])
        res = o + s
    mx.autograd.backward(res, [_nd(h) for h in heads])
    for a, b in zip(s_outs, res):
        np.testing.assert_allclose(a, b.asnumpy(), rtol=1e-12)
    for k in vals:
        np.testing.assert_allclose(s_grads[k], nds[k].grad.asnumpy(), rtol=1e-10, atol=1e-12)


def test_symbolic_shape_and_type_inference():
    x, h, w = mx.sym.var("x"), mx.sym.var("h"), mx.sym.var("w")

    def body(xt, st):
        nh = mx.sym.FullyConnected(xt, w, no_bias=True, num_hidden=4) + st[0]
        return nh, [nh]
    outs, st = mx.sym.contrib.foreach(body, x, [h])
    g = mx.sym.Group([outs, st[0]])
    args, out_shapes, _ = g.infer_shape(x=(6, 2, 3), h=(2, 4))
    assert dict(zip(g.list_arguments(), args))["w"] == (4, 3)  # filled through the body
    assert out_shapes == [(6, 2, 4), (2, 4)]
    _, out_types, _ = g.infer_type(x=np.float64, h=np.float64, w=np.float64)
    assert out_types == [np.float64, np.float64]
    o, v = mx.sym.contrib.while_loop(lambda i, s: i < 3, lambda i, s: ([s * 2], [i + 1, s + 1]),
                                     [mx.sym.var("i"), mx.sym.var("s")], max_iterations=7)
    _, shapes, _ = mx.sym.Group(o + v).infer_shape(i=(1,), s=(2, 3))
    assert shapes == [(7, 2, 3), (1,), (2, 3)]


def test_symbolic_while_and_cond_equal_imperative():
    r = np.random.RandomState(4)
    s0, w = r.uniform(-1, 1, 3), r.uniform(-1, 1, 3)
    heads = [r.uniform(.5, 1.5, (5, 3)), np.ones(1), r.uniform(.5, 1.5, 3)]

    def func(F, w):
        return lambda i, s: ([F.sin(s * w)], [i + 1, s + w * s])
    sv, wv, iv = mx.sym.var("s"), mx.sym.var("w"), mx.sym.var("i")
    o, v = mx.sym.contrib.while_loop(lambda i, s: i < 3, func(mx.sym, wv), [iv, sv], 5)
    args = {"s": _nd(s0), "w": _nd(w), "i": _nd(np.array([0.0]))}
    s_outs, s_grads = _run(mx.sym.Group(o + v), args, heads)
    nd_s, nd_w = _nd(s0), _nd(w)
    nd_s.attach_grad()
    nd_w.attach_grad()
    with mx.autograd.record():
        oo, vv = mx.nd.contrib.while_loop(lambda i, s: i < 3, func(mx.nd, nd_w),
                                          [_nd(np.array([0.0])), nd_s], 5)
    mx.autograd.backward([oo[0], vv[1]], [_nd(heads[0]), _nd(heads[2])])  # i has no gradient
    for a, b in zip(s_outs, oo + vv):
        np.testing.assert_allclose(a, b.asnumpy(), rtol=1e-12)
    np.testing.assert_allclose(s_grads["s"], nd_s.grad.asnumpy(), rtol=1e-10)
    np.testing.assert_allclose(s_grads["w"], nd_w.grad.asnumpy(), rtol=1e-10)
    # cond: both branches, against NumPy
    p, a, b = mx.sym.var("p"), mx.sym.var("a"), mx.sym.var("b")
    c = mx.sym.contrib.cond(p.sum() > 1, lambda: a * b, lambda: mx.sym.exp(a) - b)
    av, bv = r.uniform(-1, 1, (2, 2)), r.uniform(-1, 1, (2, 2))
    for pv, want, ga in ((np.array([1.0, 1.0]), av * bv, bv),
                         (np.array([1.0, -1.0]), np.exp(av) - bv, np.exp(av))):
        outs, grads = _run(c, {"p": _nd(pv), "a": _nd(av), "b": _nd(bv)}, [np.ones((2, 2))])
        np.testing.assert_allclose(outs[0], want, rtol=1e-12)
        np.testing.assert_allclose(grads["a"], ga, rtol=1e-12)
        np.testing.assert_array_equal(grads["p"], 0)


# -- hybridized Gluon ------------------------------------------------------------------------------
class _Net(mx.gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.dense = mx.gluon.nn.Dense(4, flatten=False)
            self.out = mx.gluon.nn.Dense(2, flatten=False)

    def hybrid_forward(self, F, x, s):
        def body(xt, st):
            h = F.tanh(self.dense(xt) + st[0])
            return self.out(h), [h]
        outs, st = F.contrib.foreach(body, x, [s])
        _, (n, acc) = F.contrib.while_loop(
            lambda n, a: n < 2, lambda n, a: ([], [n + 1, a * 0.5 + st[0]]),
            [F.zeros((1,)), st[0]], max_iterations=3)
        y = F.contrib.cond(F.sum(acc) > 0, lambda: acc * 2, lambda: acc - 1)
        return outs, y


def test_hybridized_block_equals_imperative_and_exports():
    r = np.random.RandomState(5)
    x, s = r.randn(5, 2, 3).astype(np.float32), r.randn(2, 4).astype(np.float32)
    res = []
    for hybridize in (False, True):
        net = _Net(prefix="net_")
        net.initialize(mx.init.Xavier(rnd_type="gaussian"))
        if hybridize:
            net.hybridize()
        xs = _nd(x)
        xs.attach_grad()
        with mx.autograd.record():
            mx.random.seed(0)
            outs, y = net(xs, _nd(s))
            loss = (outs * outs).sum() + y.sum()
        loss.backward()
        res.append((outs.asnumpy(), y.asnumpy(), xs.grad.asnumpy(),
                    net.dense.weight.grad().asnumpy(), net.out.bias.grad().asnumpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_hybridized_export_reloads(tmp_path):
    r = np.random.RandomState(6)
    x, s = r.randn(3, 2, 3).astype(np.float32), r.randn(2, 4).astype(np.float32)
    net = _Net(prefix="net_")
    net.initialize()
    net.hybridize()
    want = [o.asnumpy() for o in net(_nd(x), _nd(s))]
    net.export(str(tmp_path / "cf"))
    doc = json.loads((tmp_path / "cf-symbol.json").read_text())
    assert {"_foreach", "_while_loop", "_cond"} <= {n["op"] for n in doc["nodes"]}
    back = mx.gluon.SymbolBlock.imports(str(tmp_path / "cf-symbol.json"), ["data0", "data1"],
                                        str(tmp_path / "cf-0000.params"))
    for a, b in zip(back(_nd(x), _nd(s)), want):
        np.testing.assert_allclose(a.asnumpy(), b, rtol=1e-6)


def test_mxnet_exported_gluon_block_runs():
    z = np.load(os.path.join(FIX, "rnn_block.npz"), allow_pickle=False)
    net = mx.gluon.SymbolBlock.imports(os.path.join(FIX, "rnn_block-symbol.json"),
                                       ["data0", "data1"],
                                       os.path.join(FIX, "rnn_block-0000.params"))
    for i, o in enumerate(net(_nd(z["x"]), _nd(z["h0"]))):
        np.testing.assert_allclose(o.asnumpy(), z["out:%d" % i], rtol=1e-5, atol=1e-6)


# -- errors ---------------------------------------------------------------------------------------
def test_errors_name_the_function_and_values():
    x, s = mx.sym.var("x"), mx.sym.var("s")
    with pytest.raises(PlaitError, match="foreach.*pair"):
        mx.sym.contrib.foreach(lambda d, st: d, x, [s])
    with pytest.raises(PlaitError, match="foreach.*structure"):
        mx.sym.contrib.foreach(lambda d, st: (d, [st[0], st[0]]), x, [s])
    with pytest.raises(PlaitError, match="foreach.*init_states 0 is not used"):
        mx.sym.contrib.foreach(lambda d, st: (d * 2, [d + 1]), x, [s])
    outs, st = mx.sym.contrib.foreach(lambda d, st: (d, [mx.sym.concat(st[0], st[0], dim=0)]),
                                      x, [s])
    with pytest.raises(PlaitError, match=r"_foreach.*state 0 with shape \(4,\).*\(2,\)"):
        mx.sym.Group([outs, st[0]]).infer_shape(x=(3, 2), s=(2,))
    with pytest.raises(PlaitError, match="while_loop.*loop variable 1 is not used"):
        mx.sym.contrib.while_loop(lambda a, b: a < 1, lambda a, b: ([], [a + 1, a]), [x, s], 3)
    with pytest.raises(PlaitError, match="while_loop.*max_iterations"):
        mx.sym.contrib.while_loop(lambda a: a < 1, lambda a: ([], [a + 1]), [x])
    with pytest.raises(PlaitError, match="cond.*then_func gives 2.*else_func 1"):
        mx.sym.contrib.cond(x.sum() > 0, lambda: [x, s], lambda: x)
    c = mx.sym.contrib.cond(x.sum() > 0, lambda: x, lambda: mx.sym.concat(x, x, dim=0))
    with pytest.raises(PlaitError, match=r"_cond.*output 0 is shape \(2,\).*\(4,\)"):
        c.infer_shape(x=(2,))


class _DropNet(mx.gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.dense = mx.gluon.nn.Dense(4, flatten=False)
            self.drop = mx.gluon.nn.Dropout(0.5)

    def hybrid_forward(self, F, x, s):
        def body(xt, st):
            h = F.tanh(self.drop(self.dense(xt)) + st[0])
            return h, [h]
        return F.contrib.foreach(body, x, [s])[0]


def test_dropout_in_the_body_gets_the_forward_masks_in_backward():
    """Training with Dropout inside foreach: the backward replays the loop with the random
    draws of the forward pass, so hybridized gradients equal imperative ones (seeded)."""
    r = np.random.RandomState(7)
    x, s = r.randn(4, 2, 3).astype(np.float32), r.randn(2, 4).astype(np.float32)
    res = []
    for hybridize in (False, True):
        net = _DropNet(prefix="d_")
        net.initialize(mx.init.Xavier())
        if hybridize:
            net.hybridize()
        mx.random.seed(3)
        xs = _nd(x)
        xs.attach_grad()
        with mx.autograd.record():
            o = net(xs, _nd(s))
            loss = (o * o).sum()
        loss.backward()
        res.append((o.asnumpy(), xs.grad.asnumpy(), net.dense.weight.grad().asnumpy()))
        assert np.abs(net(_nd(x), _nd(s)).asnumpy() - res[-1][0]).max() > 1e-3  # it dropped
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# -- ONNX (core/onnx/export_control_flow.py) ------------------------------------------------------
_ONNX_PARAMS = {"foreach_rnn": ["i2h_weight", "i2h_bias", "h2h_weight", "h2h_bias"],
                "while_loop": ["w"]}


@pytest.mark.parametrize("opset", [13, None])
@pytest.mark.parametrize("case", CASES)
def test_onnx_export_runs_in_onnxruntime_like_mxnet(case, opset, tmp_path):
    """foreach -> Scan, while_loop -> Loop (+ zero padding), cond -> Where of both
    branches; onnxruntime gives MXNet's outputs."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    text, z = _fixture(case)
    sym = mx.sym.load_json(text)
    args = {k[4:]: z[k] for k in z.files if k.startswith("arg:")}
    params = {k: _nd(args[k]) for k in _ONNX_PARAMS.get(case, [])}
    data = [n for n in sym.list_inputs() if n not in params]
    path = mx.onnx.export_model(sym, params, [args[n].shape for n in data],
                                [args[n].dtype for n in data], opset_version=opset,
                                onnx_file_path=str(tmp_path / "m.onnx"))
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for i, r in enumerate(sess.run(None, {n: args[n] for n in data})):
        if "steps:%d" % i in z.files:
            n = int(z["steps:%d" % i])
            np.testing.assert_array_equal(r[n:], 0)
            r = r[:n]
        np.testing.assert_allclose(r, z["out:%d" % i], rtol=2e-5, atol=2e-6, err_msg=case)


def test_onnx_export_of_a_hybridized_block(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    r = np.random.RandomState(8)
    x, s = r.randn(3, 2, 3).astype(np.float32), r.randn(2, 4).astype(np.float32)
    net = _Net(prefix="net_")
    net.initialize()
    net.hybridize()
    want = [o.asnumpy() for o in net(_nd(x), _nd(s))]
    path = mx.onnx.export_block(net, [x.shape, s.shape], onnx_file_path=str(tmp_path / "b.onnx"))
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    for got, w in zip(sess.run(None, dict(zip(names, [x, s]))), want):
        np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-6)


class _RNNBlock(mx.gluon.HybridBlock):
    """The block tools/make_control_flow_fixtures.py exports from MXNet."""

    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.i2h = mx.gluon.nn.Dense(6, flatten=False)
            self.h2h = mx.gluon.nn.Dense(6, flatten=False)

    def hybrid_forward(self, F, x, h0):
        def body(xt, st):
            h = F.tanh(self.i2h(xt) + self.h2h(st[0]))
            return h, [h]
        outs, st = F.contrib.foreach(body, x, [h0])
        return outs, st[0]


def test_exported_block_json_is_mxnets(tmp_path):
    z = np.load(os.path.join(FIX, "rnn_block.npz"), allow_pickle=False)
    net = _RNNBlock(prefix="rnn_")
    net.initialize()
    net.hybridize()
    net(_nd(z["x"]), _nd(z["h0"]))
    net.export(str(tmp_path / "rnn_block"))
    with open(os.path.join(FIX, "rnn_block-symbol.json")) as f:
        want = f.read()
    assert _normalized((tmp_path / "rnn_block-symbol.json").read_text()) == _normalized(want)


def test_grouped_symbol_outputs_are_split():
    x, s = mx.sym.var("x"), mx.sym.var("s")
    o, st = mx.sym.contrib.foreach(
        lambda d, st: (mx.sym.split(d, num_outputs=2, axis=0), [st[0] + d]), x, [s])
    assert len(o) == 2
    xs = np.arange(12.0).reshape(3, 4)
    ex = mx.sym.Group(o + st).bind(mx.cpu(), {"x": _nd(xs), "s": _nd(np.zeros(4))})
    a, b, c = (v.asnumpy() for v in ex.forward())
    np.testing.assert_array_equal(a, xs[:, :2])
    np.testing.assert_array_equal(b, xs[:, 2:])
    np.testing.assert_array_equal(c, xs.sum(0))


class _BranchNet(mx.gluon.HybridBlock):
    """Layers used only inside cond / while_loop bodies: their deferred shapes come
    from the bodies' shape rules."""

    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.d1 = mx.gluon.nn.Dense(3)
            self.d2 = mx.gluon.nn.Dense(3)

    def hybrid_forward(self, F, x):
        y = F.contrib.cond(F.sum(x) > 0, lambda: self.d1(x), lambda: self.d2(x) * 2)
        _, (i, z) = F.contrib.while_loop(lambda i, z: i < 2,
                                         lambda i, z: ([], [i + 1, F.tanh(self.d1(z))]),
                                         [F.zeros((1,)), y], max_iterations=3)
        return z


def test_deferred_init_through_cond_and_while_bodies():
    r = np.random.RandomState(9)
    x = r.randn(2, 3).astype(np.float32)
    fixed = {k: r.randn(*s).astype(np.float32) for k, s in
             (("d1w", (3, 3)), ("d1b", (3,)), ("d2w", (3, 3)), ("d2b", (3,)))}
    res = []
    for hybridize in (False, True):
        net = _BranchNet(prefix="b_")
        net.initialize()
        if hybridize:
            net.hybridize()
        net(_nd(x))
        net(_nd(-x))  # both branches ran: every layer has its shape
        for layer, k in ((net.d1, "d1"), (net.d2, "d2")):
            layer.weight.set_data(_nd(fixed[k + "w"]))
            layer.bias.set_data(_nd(fixed[k + "b"]))
        with mx.autograd.record():
            z = net(_nd(x))
        z.backward()
        res.append((z.asnumpy(), net.d1.weight.grad().asnumpy(), net.d1.bias.grad().asnumpy()))
    assert net.d2.weight.shape == (3, 3)
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
