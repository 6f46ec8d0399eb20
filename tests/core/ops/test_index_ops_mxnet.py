"""_split_v2 / split_v2, batch_take, ravel_multi_index, unravel_index, khatri_rao,
_histogram / histogram, cumsum (_np_cumsum) and moveaxis (core/ops/index_ops_mx.py,
index_ops_mx_hist.py, ndarray/extra_funcs.py, symbol/extra_funcs.py) against real MXNet
1.9.1: outputs and input gradients recorded in tests/fixtures/ops/index_ops_mxnet.npz
(tools/make_index_op_fixtures.py), checked imperatively (mx.nd + autograd), through mx.sym
(bind, forward, backward) and through a hybridized HybridBlock; plus bad-input errors."""
import json

import numpy as np
import pytest

import plait as mx
import mxnet_op_cases as mc

CASES = mc.load_cases("index_ops_mxnet.npz")
NAMES = sorted(CASES)
# no symbolic form: numpy-computed histogram (MXNet: "null range" in symbol mode), moveaxis
SYMBOLIC = [n for n in NAMES if CASES[n]["op"] != "moveaxis"
            and not (CASES[n]["op"] == "histogram" and "range" not in CASES[n]["attrs"]
                     and CASES[n]["n_in"] == 1)]


def _call(F, c, ins):
    attrs = dict(c["attrs"])
    if c["op"] == "histogram" and len(ins) == 2:
        attrs["bins"] = ins.pop()
    return getattr(F, c["op"])(*ins, **attrs)


(test_imperative_matches_mxnet, test_symbol_executor_matches_mxnet,
 test_hybridized_block_matches_mxnet) = mc.fixture_tests(CASES, SYMBOLIC, _call)


def test_fixture_covers_every_op():
    assert {c["op"] for c in CASES.values()} == {
        "_split_v2", "split_v2", "batch_take", "ravel_multi_index", "_ravel_multi_index",
        "unravel_index", "_unravel_index", "khatri_rao", "_histogram", "histogram", "cumsum",
        "moveaxis"}


def test_names_and_aliases():
    for name in ("_split_v2", "split_v2", "batch_take", "ravel_multi_index",
                 "_ravel_multi_index", "unravel_index", "_unravel_index", "khatri_rao",
                 "_histogram", "histogram", "cumsum", "_np_cumsum", "moveaxis"):
        assert callable(getattr(mx.nd, name)), name
    for name in ("split_v2", "histogram", "cumsum", "khatri_rao", "ravel_multi_index"):
        assert callable(getattr(mx.sym, name)), name
    assert not hasattr(mx.sym, "moveaxis")  # as in MXNet 1.9.1
    node = json.loads(mx.sym.cumsum(mx.sym.var("a")).tojson())["nodes"][-1]
    assert node["op"] == "_np_cumsum" and node["name"].startswith("cumsum")
    node = json.loads(mx.sym.split_v2(mx.sym.var("a"), 2).tojson())["nodes"][-1]
    assert node["op"] == "_split_v2" and node["attrs"]["sections"] == "2"
    node = json.loads(mx.sym.khatri_rao(mx.sym.var("a"), mx.sym.var("b")).tojson())["nodes"][-1]
    assert node["op"] == "khatri_rao" and node["attrs"] == {"num_args": "2"}


# -- bad inputs ------------------------------------------------------------------------------------


def _i32(v):
    return mx.nd.array(v, dtype="int32")


BAD = [
    ("_split_v2", [(3, 4)], {"indices": (0, 2, 6)}, ("indices", "6", "(3, 4)")),
    ("_split_v2", [(3, 4)], {"indices": (0, 3, 1)}, ("indices", "sorted", "(3, 4)")),
    ("_split_v2", [(3, 4)], {"indices": (1, 3)}, ("indices", "(1, 3)", "(3, 4)")),
    ("_split_v2", [(3, 4)], {"indices": (0, 1), "axis": 0, "squeeze_axis": True},
     ("squeeze_axis", "(3, 4)")),
    ("_split_v2", [(3, 4)], {"indices": (0, 1), "axis": 2}, ("axis", "2", "(3, 4)")),
    ("_ravel_multi_index", [(2, 3)], {"shape": (7, 6, 2)}, ("data", "(2, 3)", "(7, 6, 2)")),
    ("ravel_multi_index", [(3,)], {"shape": (3, 4)}, ("data", "(3,)")),
    ("ravel_multi_index", [(2, 3)], {}, ("shape", "empty")),
    ("unravel_index", [(2, 2)], {"shape": (7, 6)}, ("data", "(2, 2)")),
    ("khatri_rao", [(2, 2), (3, 3)], {}, ("input 1", "(3, 3)")),
    ("khatri_rao", [(3,)], {}, ("input 0", "(3,)")),
    ("_histogram", [(2, 3)], {"bin_cnt": 4}, ("range", "bin_cnt")),
    ("_histogram", [(2, 3)], {"bin_cnt": 4, "range": (4, 0)}, ("range", "4", "0")),
    ("_histogram", [(2, 3), (1, 3)], {}, ("bins", "(1, 3)")),
    ("_histogram", [(2, 3), (1,)], {}, ("bins", "(1,)")),
    ("cumsum", [(2, 3)], {"axis": 2}, ("axis", "2", "(2, 3)")),
    ("cumsum", [(2, 3)], {"axis": -1}, ("axis", "-1", "(2, 3)")),
]


@pytest.mark.parametrize("op,shapes,attrs,match", BAD,
                         ids=["%s-%d" % (b[0], i) for i, b in enumerate(BAD)])
def test_bad_input_errors_name_op_argument_and_shape(op, shapes, attrs, match):
    ins = [mx.nd.ones(s) for s in shapes]
    msg = mc.error_of(getattr(mx.nd, op), *ins, **attrs)
    assert op.lstrip("_") in msg, msg
    for m in match:
        assert m in msg, "%r not in %s" % (m, msg)


def test_batch_take_errors():
    msg = mc.error_of(mx.nd.batch_take, mx.nd.ones((3, 4)), mx.nd.array([0, 1, 2]))
    assert "batch_take" in msg and "indices" in msg and "int32" in msg and "float32" in msg
    msg = mc.error_of(mx.nd.batch_take, mx.nd.ones((3, 4)), _i32([0, 1]))
    assert "batch_take" in msg and "indices" in msg and "(2,)" in msg and "(3, 4)" in msg
    msg = mc.error_of(mx.nd.batch_take, mx.nd.ones((2, 3, 4)), _i32([0] * 6))
    assert "batch_take" in msg and "(2, 3, 4)" in msg


def test_dtype_errors():
    msg = mc.error_of(mx.nd.khatri_rao, mx.nd.ones((2, 2), dtype="int32"))
    assert "khatri_rao" in msg and "int32" in msg
    msg = mc.error_of(mx.nd._histogram, mx.nd.ones((3,), dtype="float64"), mx.nd.array([0, 1, 2]))
    assert "histogram" in msg and "bins" in msg and "float32" in msg and "float64" in msg
    msg = mc.error_of(mx.nd.cumsum, mx.nd.ones((3,)), dtype="uint8")
    assert "cumsum" in msg and "dtype" in msg and "uint8" in msg


def test_python_front_end_errors():
    x = mx.nd.ones((3, 4))
    with pytest.raises(ValueError, match="equal division"):
        mx.nd.split_v2(x, 3, axis=1)
    with pytest.raises(ValueError, match="tuple of ints"):
        mx.nd.split_v2(x, [1, 2], axis=1)
    with pytest.raises(ValueError, match="tuple of ints"):
        mx.sym.split_v2(mx.sym.var("a"), [1, 2])
    with pytest.raises(ValueError, match="integer or an NDArray"):
        mx.nd.histogram(x, bins=[0, 1, 2])
    with pytest.raises(ValueError, match="null range"):
        mx.sym.histogram(mx.sym.var("a"), bins=3)
    with pytest.raises(ValueError, match="same number"):
        mx.nd.moveaxis(mx.nd.ones((2, 3, 4)), [0, 1], [2])
    with pytest.raises(ValueError, match="source"):
        mx.nd.moveaxis(mx.nd.ones((2, 3, 4)), 3, 0)


def test_symbol_split_v2_sections_are_array_split_sized():
    """mx.sym.split_v2 passes an int as `sections`: no divisibility check (MXNet)."""
    s = mx.sym.split_v2(mx.sym.var("a"), 3, axis=1)
    _, outs, _ = s.infer_shape(a=(2, 7))
    assert outs == [(2, 3), (2, 2), (2, 2)]


def test_symbol_json_from_mxnet_loads():
    """-symbol.json as MXNet 1.9.1 writes _split_v2 (indices "[]") and _histogram."""
    doc = {"nodes": [{"op": "null", "name": "a", "inputs": []},
                     {"op": "_split_v2", "name": "_split_v20",
                      "attrs": {"axis": "0", "indices": "[]", "sections": "2",
                                "squeeze_axis": "False"}, "inputs": [[0, 0, 0]]}],
           "arg_nodes": [0], "node_row_ptr": [0, 1, 3], "heads": [[1, 0, 0], [1, 1, 0]],
           "attrs": {"mxnet_version": ["int", 10901]}}
    sym = mx.sym.load_json(json.dumps(doc))
    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    a, b = sym.eval(ctx=mx.cpu(), a=mc.nd(x))
    np.testing.assert_array_equal(a.asnumpy(), x[:2])
    np.testing.assert_array_equal(b.asnumpy(), x[2:])
    doc["nodes"][1] = {"op": "_histogram", "name": "_histogram0",
                       "attrs": {"bin_cnt": "3", "range": "(0, 1)"}, "inputs": [[0, 0, 0]]}
    sym = mx.sym.load_json(json.dumps(doc))
    counts, edges = sym.eval(ctx=mx.cpu(), a=mc.nd(np.array([0, 0.5, 1, 2], np.float32)))
    assert counts.dtype == np.int64 and counts.asnumpy().tolist() == [1, 1, 1]
    assert edges.shape == (4,)
