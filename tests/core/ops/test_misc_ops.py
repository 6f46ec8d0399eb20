"""add_n / ElementWiseSum, hard_sigmoid, depth_to_space, space_to_depth, moments and
argmax_channel (core/ops/misc_ops.py) against real MXNet 1.9.1: forward outputs and input
gradients recorded in tests/fixtures/ops/misc_ops.npz (tools/make_misc_op_fixtures.py), checked
imperatively (mx.nd + autograd), through mx.sym (bind, forward, backward) and through a
hybridized HybridBlock; plus the error messages of bad inputs and MXNet -symbol.json files
holding these ops."""
import json

import numpy as np
import pytest

import plait as mx
import mxnet_op_cases as mc
from plait.core.base import PlaitError

CASES = mc.load_cases("misc_ops.npz")


(test_imperative_matches_mxnet, test_symbol_executor_matches_mxnet,
 test_hybridized_block_matches_mxnet) = mc.fixture_tests(CASES)


def test_fixture_covers_every_op():
    assert {c["op"] for c in CASES.values()} == {
        "add_n", "ElementWiseSum", "hard_sigmoid", "depth_to_space", "space_to_depth",
        "moments", "argmax_channel"}


# -- bad inputs ------------------------------------------------------------------------------------


BAD = [
    ("depth_to_space", [(1, 3, 2, 2)], {"block_size": 2}, ("block_size", "(1, 3, 2, 2)")),
    ("depth_to_space", [(3, 2, 2)], {"block_size": 2}, ("data", "4-D", "(3, 2, 2)")),
    ("depth_to_space", [(1, 4, 2, 2)], {"block_size": 0}, ("block_size", "0")),
    ("space_to_depth", [(1, 1, 3, 4)], {"block_size": 2}, ("block_size", "height", "(1, 1, 3, 4)")),
    ("space_to_depth", [(1, 1, 6, 8)], {"block_size": 4}, ("block_size", "height", "(1, 1, 6, 8)")),
    ("space_to_depth", [(2, 1, 4, 3)], {"block_size": 2}, ("block_size", "width", "(2, 1, 4, 3)")),
    ("moments", [(2, 3)], {}, ("axes", "empty", "(2, 3)")),
    ("moments", [(2, 3)], {"axes": (0, 0)}, ("axes", "(0, 0)")),
    ("moments", [(2, 3)], {"axes": (2,)}, ("axes", "2")),
    ("argmax_channel", [(5,)], {}, ("data", "(5,)")),
    ("add_n", [(2, 3), (2, 3), (3, 2)], {}, ("input 2", "(3, 2)", "(2, 3)")),
    ("hard_sigmoid", [(2, 3)], {"alpha": "abc"}, ("alpha", "abc")),
]


@pytest.mark.parametrize("op,shapes,attrs,match", BAD,
                         ids=["%s-%d" % (b[0], i) for i, b in enumerate(BAD)])
def test_bad_input_errors_name_op_argument_and_shape(op, shapes, attrs, match):
    ins = [mx.nd.ones(s) for s in shapes]
    msg = mc.error_of(getattr(mx.nd, op), *ins, **attrs)
    assert op in msg, msg
    for m in match:
        assert m in msg, "%r not in %s" % (m, msg)


def test_bad_dtypes_are_rejected():
    msg = mc.error_of(mx.nd.hard_sigmoid, mx.nd.ones((2,), dtype="int32"))
    assert "hard_sigmoid" in msg and "int32" in msg
    msg = mc.error_of(mx.nd.add_n, mx.nd.ones((2,)), mx.nd.ones((2,), dtype="int32"))
    assert "add_n" in msg and "int32" in msg and "float32" in msg


def test_symbol_shape_inference_reports_bad_block_size():
    sym = mx.sym.depth_to_space(mx.sym.var("x"), block_size=2)
    with pytest.raises(PlaitError) as info:
        sym.infer_shape(x=(1, 6, 2, 2))
    msg = str(info.value)
    assert "depth_to_space" in msg and "block_size" in msg and "(1, 6, 2, 2)" in msg


# -- variadic calls and -symbol.json ---------------------------------------------------------------
def test_add_n_variadic_calls():
    r = np.random.default_rng(3)
    xs = [r.uniform(-1, 1, (2, 3)).astype(np.float32) for _ in range(4)]
    want = ((xs[0] + xs[1]) + xs[2]) + xs[3]
    np.testing.assert_allclose(mx.nd.add_n(*map(mc.nd, xs)).asnumpy(), want, rtol=1e-6)
    np.testing.assert_allclose(mx.nd.ElementWiseSum(*map(mc.nd, xs[:2])).asnumpy(),
                               xs[0] + xs[1], rtol=1e-6)
    for fn in (mx.sym.add_n, mx.sym.ElementWiseSum):
        s = fn(*[mx.sym.var("v%d" % i) for i in range(4)])
        assert s.list_arguments() == ["v0", "v1", "v2", "v3"]
        out = s.eval(ctx=mx.cpu(), **{"v%d" % i: mc.nd(x) for i, x in enumerate(xs)})[0]
        np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-6)
    # MXNet writes ElementWiseSum nodes under the op's own name, add_n
    node = json.loads(mx.sym.ElementWiseSum(mx.sym.var("a"), mx.sym.var("b")).tojson())["nodes"][2]
    assert node["op"] == "add_n" and node["name"].startswith("elementwisesum")
    assert node["attrs"] == {"num_args": "2"}




@pytest.mark.parametrize("op", ["add_n", "ElementWiseSum"])
def test_symbol_json_with_add_n_loads(op, tmp_path):
    path = tmp_path / "net-symbol.json"
    path.write_text(mc.mxnet_json(op, "sum0", 3, {"num_args": "3"}))
    sym = mx.sym.load(str(path))
    assert sym.list_arguments() == ["x0", "x1", "x2"]
    assert sym.list_outputs() == ["sum0_output"]
    r = np.random.default_rng(4)
    xs = [r.uniform(-1, 1, (3, 2)).astype(np.float32) for _ in range(3)]
    out = sym.eval(ctx=mx.cpu(), **{"x%d" % i: mc.nd(x) for i, x in enumerate(xs)})[0]
    np.testing.assert_allclose(out.asnumpy(), xs[0] + xs[1] + xs[2], rtol=1e-6)
    again = json.loads(sym.tojson())
    assert [n["op"] for n in again["nodes"]][-1] == "add_n"


def test_symbol_json_with_moments_and_depth_to_space_loads():
    sym = mx.sym.load_json(mc.mxnet_json("moments", "m", 1, {"axes": "(1,)", "keepdims": "True"},
                                       n_out=2))
    assert sym.list_outputs() == ["m_output0", "m_output1"]
    x = np.random.default_rng(5).uniform(-1, 1, (3, 4))
    mean, var = sym.eval(ctx=mx.cpu(), x0=mc.nd(x))
    np.testing.assert_allclose(mean.asnumpy(), x.mean(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(var.asnumpy(), x.var(axis=1, keepdims=True), rtol=1e-12)
    sym = mx.sym.load_json(mc.mxnet_json("depth_to_space", "d2s", 1, {"block_size": "2"}))
    assert sym.infer_shape(x0=(2, 8, 3, 1))[1] == [(2, 2, 6, 2)]
    with pytest.raises(PlaitError, match="num_args"):
        mx.sym.load_json(mc.mxnet_json("add_n", "s", 2, {"num_args": "x"}))
