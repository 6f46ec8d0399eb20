"""Hybridized HybridBlocks: the cached graph equals the imperative run (forward, gradients,
running statistics), is recorded as one autograd node, traces once, exports files real
MXNet 1.9.1 loads, and SymbolBlock.imports runs models MXNet exported (fixtures from
tools/make_gluon_block_fixtures.py)."""
import importlib.util
import os
import subprocess
import textwrap

import numpy as np
import pytest

import plait as mx
from plait import autograd, gluon, nd

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "fixtures", "gluon")
ANCHOR = "/tmp/plait-anchors/mxnet/bin/python"


def _models():
    spec = importlib.util.spec_from_file_location("block_models",
                                                  os.path.join(HERE, "block_models.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.define(mx)


M = _models()


@pytest.fixture(autouse=True)
def fresh_names():
    mx.name.NameManager._current.value = mx.name.NameManager()
    yield


def _io():
    return np.load(os.path.join(FIX, "block_cnn_io.npz"))


def _mx_cnn():
    net = M["cnn"]()
    net.load_parameters(os.path.join(FIX, "block_cnn_save.params"))
    return net


def _run(net, x, grad_req="write"):
    """Inference output, then a recorded sum(y**2) with its gradients and the stats."""
    params = net.collect_params()
    for p in params.values():
        if p.grad_req != "null":
            p.grad_req = grad_req
    y = net(x).asnumpy()
    with autograd.record():
        loss = (net(x) ** 2).sum()
    loss.backward()
    grads = {k: p.grad().asnumpy().copy() for k, p in params.items() if p.grad_req != "null"}
    stats = {k: p.data().asnumpy().copy() for k, p in params.items() if p.grad_req == "null"}
    return y, loss.asnumpy(), grads, stats


@pytest.mark.parametrize("hybrid", [False, True])
def test_cnn_matches_mxnet(hybrid):
    io = _io()
    net = _mx_cnn()
    if hybrid:
        net.hybridize()
    y, loss, grads, stats = _run(net, nd.array(io["x"]))
    np.testing.assert_allclose(y, io["y"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loss, io["loss"], rtol=1e-5)
    for k, g in grads.items():
        np.testing.assert_allclose(g, io["grad:" + k], rtol=1e-4, atol=1e-5, err_msg=k)
    for k, s in stats.items():
        np.testing.assert_allclose(s, io["after:" + k], rtol=1e-5, atol=1e-6, err_msg=k)


@pytest.mark.parametrize("make", ["mlp", "cnn"])
def test_hybrid_equals_imperative(make):
    rng = np.random.RandomState(0)
    x = nd.array(rng.uniform(-1, 1, (3, 3, 6, 6) if make == "cnn" else (5, 7)))
    results = []
    for hybrid in (False, True):
        mx.name.NameManager._current.value = mx.name.NameManager()
        mx.random.seed(1)
        net = M[make]()
        net.initialize(mx.init.Xavier())
        if hybrid:
            net.hybridize(static_alloc=True, static_shape=True)
        results.append(_run(net, x))
    (y0, l0, g0, s0), (y1, l1, g1, s1) = results
    np.testing.assert_allclose(y1, y0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(l1, l0, rtol=1e-5)
    assert g0.keys() == g1.keys()
    for k in g0:
        np.testing.assert_allclose(g1[k], g0[k], rtol=1e-4, atol=1e-6, err_msg=k)
    for k in s0:
        np.testing.assert_allclose(s1[k], s0[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_one_tape_node_and_grad_req():
    net = M["mlp"]()
    net.initialize()
    net.hybridize()
    x = nd.ones((2, 4))
    net(x)
    with autograd.record():
        y = net(x)
    node = y._ag.node
    assert type(node.op).__name__ == "_CachedOpNode"
    assert all(e is None or e.node is None for e in node.entries)  # leaves only
    # grad_req 'add' accumulates, 'null' gets nothing
    w0 = net[0].weight
    w0.grad_req = "add"
    net[1].weight.grad_req = "null"
    w0.zero_grad()
    for _ in range(2):
        with autograd.record():
            y = net(x)
        y.backward()
    once = None
    w0.grad_req = "write"
    with autograd.record():
        y = net(x)
    y.backward()
    once = w0.grad().asnumpy()
    assert np.abs(once).sum() > 0
    w0.grad_req = "add"
    w0.zero_grad()
    for _ in range(2):
        with autograd.record():
            y = net(x)
        y.backward()
    np.testing.assert_allclose(w0.grad().asnumpy(), 2 * once, rtol=1e-5)
    assert net[1].weight._grad is None or net[1].weight.grad_req == "null"


def test_input_gradient_and_two_calls_before_backward():
    net = M["mlp"]()
    net.initialize()
    a = nd.array(np.random.RandomState(1).rand(2, 4))
    b = nd.array(np.random.RandomState(2).rand(2, 4))
    want = []
    for hybrid in (False, True):
        if hybrid:
            net.hybridize()
        a.attach_grad()
        b.attach_grad()
        with autograd.record():
            loss = (net(a) * 2).sum() + (net(b) ** 2).sum()
        loss.backward()
        want.append((a.grad.asnumpy().copy(), b.grad.asnumpy().copy(),
                     net[0].weight.grad().asnumpy().copy()))
    for u, v in zip(*want):
        np.testing.assert_allclose(v, u, rtol=1e-5, atol=1e-6)


def test_traces_once_and_outputs_not_aliased():
    calls = []

    class Counting(gluon.HybridBlock):
        def hybrid_forward(self, F, x):
            calls.append(F.__name__)
            return x * 2 + 1

    c = Counting()
    c.hybridize()
    y1 = c(nd.ones((2, 3)))
    y2 = c(nd.zeros((2, 3)))
    y3 = c(nd.ones((4, 1)))  # a new input signature: bound again, not traced again
    assert calls == ["plait.symbol"]
    np.testing.assert_array_equal(y1.asnumpy(), 3)
    np.testing.assert_array_equal(y2.asnumpy(), 1)
    assert y3.shape == (4, 1)
    c.hybridize(False)
    c(nd.ones((1,)))
    assert calls[-1] == "plait.ndarray"


def test_train_and_predict_mode():
    io = _io()
    net = _mx_cnn()
    net.hybridize()
    x = nd.array(io["x"])
    with autograd.predict_mode():
        infer = net(x).asnumpy()
    with autograd.train_mode():
        train = net(x).asnumpy()
    assert np.abs(infer - train).max() > 1e-3  # batch statistics vs running statistics
    np.testing.assert_allclose(infer, io["y"], rtol=1e-5, atol=1e-6)


def test_multiple_inputs_outputs_and_symbol_call():
    class Two(gluon.HybridBlock):
        def hybrid_forward(self, F, a, b):
            return a + b, [a * b, a - b]

    t = Two()
    t.hybridize()
    s, (p, d) = t(nd.ones((2,)) * 3, nd.ones((2,)))
    np.testing.assert_array_equal(s.asnumpy(), [4, 4])
    np.testing.assert_array_equal(p.asnumpy(), [3, 3])
    np.testing.assert_array_equal(d.asnumpy(), [2, 2])
    assert t._cached_graph[1].list_arguments() == ["data0", "data1"]
    sym = M["mlp"]()(mx.sym.var("data"))
    assert isinstance(sym, mx.sym.Symbol)
    assert sym.list_arguments()[:2] == ["data", "hybridsequential0_dense0_weight"]


def test_export_and_import_roundtrip(tmp_path):
    io = _io()
    net = _mx_cnn()
    with pytest.raises(RuntimeError, match="Please first call block.hybridize"):
        net.export(str(tmp_path / "m"))
    net.hybridize()
    x = nd.array(io["x"])
    net(x)
    net.export(str(tmp_path / "m"), epoch=3)
    keys = sorted(nd.load(str(tmp_path / "m-0003.params")))
    assert "aux:hybridsequential0_norm0_running_var" in keys
    assert "arg:hybridsequential0_conv0_weight" in keys
    sb = gluon.SymbolBlock.imports(str(tmp_path / "m-symbol.json"), ["data"],
                                   str(tmp_path / "m-0003.params"))
    np.testing.assert_allclose(sb(x).asnumpy(), io["y"], rtol=1e-5, atol=1e-6)


def test_import_mxnet_export():
    io = _io()
    sb = gluon.SymbolBlock.imports(os.path.join(FIX, "block_cnn-symbol.json"), ["data"],
                                   os.path.join(FIX, "block_cnn-0000.params"))
    assert sb.collect_params()["hybridsequential0_norm0_running_mean"].grad_req == "null"
    x = nd.array(io["x"])
    np.testing.assert_allclose(sb(x).asnumpy(), io["y"], rtol=1e-5, atol=1e-6)
    # trainable through autograd like any block
    with autograd.record():
        loss = (sb(x) ** 2).sum()
    loss.backward()
    g = sb.collect_params()["hybridsequential0_dense1_weight"].grad().asnumpy()
    np.testing.assert_allclose(g, io["grad:hybridsequential0_dense1_weight"], rtol=1e-4,
                               atol=1e-5)


@pytest.mark.skipif(not os.path.exists(ANCHOR), reason="needs the MXNet 1.9.1 anchor venv")
def test_mxnet_loads_plait_export(tmp_path):
    io = _io()
    net = _mx_cnn()
    net.hybridize()
    x = nd.array(io["x"])
    y = net(x).asnumpy()
    net.export(str(tmp_path / "p"))
    net.save_parameters(str(tmp_path / "s.params"))
    np.save(str(tmp_path / "x.npy"), io["x"])
    np.save(str(tmp_path / "y.npy"), y)
    script = textwrap.dedent("""
        import sys, importlib.util, numpy as np, mxnet as mx
        d = sys.argv[1]
        x = mx.nd.array(np.load(d + '/x.npy')); y = np.load(d + '/y.npy')
        sb = mx.gluon.SymbolBlock.imports(d + '/p-symbol.json', ['data'], d + '/p-0000.params')
        np.testing.assert_allclose(sb(x).asnumpy(), y, rtol=1e-5, atol=1e-6)
        spec = importlib.util.spec_from_file_location('bm', sys.argv[2])
        m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
        net = m.define(mx)['cnn'](); net.load_parameters(d + '/s.params')
        np.testing.assert_allclose(net(x).asnumpy(), y, rtol=1e-5, atol=1e-6)
        print('ok')
    """)
    r = subprocess.run([ANCHOR, "-c", script, str(tmp_path),
                        os.path.join(HERE, "block_models.py")],
                       capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-2000:]


def test_two_calls_before_backward_with_running_stats():
    """The second recorded call makes the first one's backward replay its forward; the
    running statistics must still be updated once per call, as imperatively."""
    io = _io()
    x1 = nd.array(io["x"])
    x2 = nd.array(io["x"][::-1] * 0.5)
    out = []
    for hybrid in (False, True):
        mx.name.NameManager._current.value = mx.name.NameManager()
        net = _mx_cnn()
        if hybrid:
            net.hybridize()
        with autograd.record():
            loss = (net(x1) ** 2).sum() + net(x2).sum()
        loss.backward()
        p = net.collect_params()
        out.append([p["hybridsequential0_norm0_running_mean"].data().asnumpy(),
                    p["hybridsequential0_conv0_weight"].grad().asnumpy()])
    for u, v in zip(*out):
        np.testing.assert_allclose(v, u, rtol=1e-4, atol=1e-6)


def test_grad_req_change_after_first_call():
    net = M["mlp"]()
    net.initialize()
    net.hybridize()
    x = nd.ones((2, 4))
    w = net[1].weight
    w.grad_req = "null"
    with autograd.record():
        y = net(x)
    y.backward()
    w.grad_req = "write"
    with autograd.record():
        y = net(x)
    y.backward()
    assert np.abs(w.grad().asnumpy()).sum() > 0


def test_record_in_predict_mode_matches_imperative():
    io = _io()
    x = nd.array(io["x"])
    out = []
    for hybrid in (False, True):
        mx.name.NameManager._current.value = mx.name.NameManager()
        net = _mx_cnn()
        if hybrid:
            net.hybridize()
        x.attach_grad()
        with autograd.record(train_mode=False):
            loss = (net(x) ** 2).sum()
        loss.backward()
        out.append([loss.asnumpy(), x.grad.asnumpy().copy(),
                    net[0].weight.grad().asnumpy().copy()])
    for u, v in zip(*out):
        np.testing.assert_allclose(v, u, rtol=1e-4, atol=1e-6)


# -- optimize_for (MXNet 1.9): hybridize + build the graph without running it ----------------
def _small_convnet():
    from plait.gluon import nn
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"), nn.Dense(3))
    net.initialize(mx.init.Xavier())
    return net


def test_optimize_for_builds_without_running_and_matches_eager(tmp_path):
    net = _small_convnet()  # deferred shapes: optimize_for must infer them
    x = mx.nd.array(np.random.RandomState(0).rand(2, 3, 5, 5))
    net.optimize_for(x, backend="MKLDNN", static_alloc=True)
    assert net.collect_params()[net[0].weight.name].shape == (4, 3, 3, 3)
    got = net(x).asnumpy()
    net.hybridize(False)
    np.testing.assert_allclose(got, net(x).asnumpy(), rtol=1e-5, atol=1e-6)
    net.optimize_for(x, backend="ONEDNN")
    net.export(str(tmp_path / "opt"))
    assert (tmp_path / "opt-symbol.json").exists() and (tmp_path / "opt-0000.params").exists()


def test_optimize_for_rejects_missing_and_unknown_backends():
    net = _small_convnet()
    x = mx.nd.ones((1, 3, 5, 5))
    with pytest.raises(ValueError, match="Must specify"):
        net.optimize_for(x)
    with pytest.raises(ValueError, match="'TensorRT' is not available"):
        net.optimize_for(x, backend="TensorRT")
