"""MXNet's linalg_* operators (core/ops/linalg_mx.py, linalg_mx_tri.py) against real MXNet
1.9.1: forward outputs and input gradients recorded in tests/fixtures/ops/linalg_mxnet.npz
(tools/make_linalg_fixtures.py), checked imperatively (mx.nd + autograd), through mx.sym
(bind, forward, backward) and through a hybridized HybridBlock; the mx.nd.linalg /
mx.sym.linalg namespaces; -symbol.json files holding `_linalg_*` nodes; and the error
messages of bad inputs."""
import json

import numpy as np
import pytest

import plait as mx
import mxnet_op_cases as mc
from plait.core.base import PlaitError

CASES = mc.load_cases("linalg_mxnet.npz")
# LAPACK (MXNet) and NumPy's LAPACK may order operations differently
TOL = dict(f32=dict(rtol=2e-4, atol=2e-5), f64=dict(rtol=1e-9, atol=1e-10))
OPS = ["gemm", "gemm2", "potrf", "potri", "trmm", "trsm", "syrk", "sumlogdiag", "extractdiag",
       "makediag", "extracttrian", "maketrian", "inverse", "det", "slogdet"]


(test_imperative_matches_mxnet, test_symbol_executor_matches_mxnet,
 test_hybridized_block_matches_mxnet) = mc.fixture_tests(CASES, **TOL)


def test_fixture_covers_every_op():
    assert {c["op"].replace("linalg.", "linalg_") for c in CASES.values()} == {
        "linalg_" + o for o in OPS}


@pytest.mark.parametrize("name", OPS)
def test_namespaces(name):
    assert getattr(mx.nd.linalg, name) is getattr(mx.nd, "_linalg_" + name)
    assert name in dir(mx.nd.linalg) and name in dir(mx.sym.linalg)
    assert callable(getattr(mx.nd, "linalg_" + name))
    assert callable(getattr(mx.sym.linalg, name))


def test_symbol_names_and_json_op():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    s = mx.sym.linalg.gemm2(a, b)
    (out,) = s.list_outputs()  # MXNet: the short name is the hint, gemm2<k>_output
    assert out.startswith("gemm2") and out.endswith("_output"), out
    assert json.loads(s.tojson())["nodes"][-1]["op"] == "_linalg_gemm2"
    s = mx.sym.linalg_slogdet(a)
    assert len(s.list_outputs()) == 2
    assert json.loads(s.tojson())["nodes"][-1]["op"] == "_linalg_slogdet"




def test_symbol_json_with_linalg_nodes_loads():
    sym = mx.sym.load_json(mc.mxnet_json("_linalg_gemm2", "g", 2,
                                       {"transpose_b": "True", "alpha": "2.0"}))
    r = np.random.default_rng(1)
    x, y = r.uniform(-1, 1, (2, 3)), r.uniform(-1, 1, (4, 3))
    out = sym.eval(ctx=mx.cpu(), x0=mx.nd.array(x, dtype=x.dtype), x1=mx.nd.array(y, dtype=y.dtype))
    np.testing.assert_allclose(out[0].asnumpy(), 2 * x @ y.T, rtol=1e-12)
    sym = mx.sym.load_json(mc.mxnet_json("_linalg_slogdet", "s", 1, {}, n_out=2))
    assert sym.infer_shape(x0=(2, 3, 3))[1] == [(2,), (2,)]


# -- bad inputs ------------------------------------------------------------------------------------


BAD = [
    ("gemm2", [(2, 3), (2, 4)], {}, ("A", "B", "(2, 3)", "(2, 4)")),
    ("gemm2", [(2, 2, 3), (3, 3, 4)], {}, ("B", "(3, 3, 4)", "(2, 2, 3)")),
    ("gemm2", [(2, 3), (3, 4)], {"axis": -1}, ("axis", "-1")),
    ("gemm", [(2, 3), (3, 4), (2, 5)], {}, ("C", "(2, 5)", "(2, 4)")),
    ("potrf", [(2, 3)], {}, ("A", "square", "(2, 3)")),
    ("potri", [(3, 4)], {}, ("A", "square", "(3, 4)")),
    ("potrf", [(3,)], {}, ("A", "(3,)")),
    ("trmm", [(3, 3), (4, 4)], {}, ("B", "(4, 4)", "(3, 3)")),
    ("trsm", [(2, 3, 3), (3, 3, 4)], {}, ("B", "(3, 3, 4)", "(2, 3, 3)")),
    ("trsm", [(3, 4), (3, 4)], {}, ("A", "square", "(3, 4)")),
    ("syrk", [(3,)], {}, ("A", "(3,)")),
    ("sumlogdiag", [(3, 4)], {}, ("A", "square", "(3, 4)")),
    ("extractdiag", [(3, 4)], {}, ("A", "square", "(3, 4)")),
    ("extractdiag", [(3, 3)], {"offset": 3}, ("offset", "3", "(3, 3)")),
    ("extracttrian", [(3, 3)], {"offset": -3}, ("offset", "-3", "(3, 3)")),
    ("maketrian", [(4,)], {}, ("A", "(4,)", "triangular")),
    ("inverse", [(3, 4)], {}, ("A", "square", "(3, 4)")),
    ("det", [(2, 3)], {}, ("A", "square", "(2, 3)")),
    ("slogdet", [(2, 3)], {}, ("A", "square", "(2, 3)")),
]


@pytest.mark.parametrize("op,shapes,attrs,match", BAD,
                         ids=["%s-%d" % (b[0], i) for i, b in enumerate(BAD)])
def test_bad_input_errors_name_op_argument_and_shape(op, shapes, attrs, match):
    ins = [mx.nd.ones(s) for s in shapes]
    for fn in (getattr(mx.nd, "linalg_" + op), getattr(mx.nd.linalg, op)):
        msg = mc.error_of(fn, *ins, **attrs)
        assert "linalg_" + op in msg, msg
        for m in match:
            assert m in msg, "%r not in %s" % (m, msg)


@pytest.mark.parametrize("op", OPS)
def test_integer_dtypes_are_rejected(op):
    """MXNet: 'This operation only supports 32-bit and 64-bit floating point'."""
    n_in = {"gemm": 3, "gemm2": 2, "trmm": 2, "trsm": 2}.get(op, 1)
    shape = (3,) if op in ("makediag", "maketrian") else (3, 3)
    ins = [mx.nd.ones(shape, dtype="int32") for _ in range(n_in)]
    msg = mc.error_of(getattr(mx.nd.linalg, op), *ins)
    assert "linalg_" + op in msg and "int32" in msg, msg


def test_numerical_failures():
    msg = mc.error_of(mx.nd.linalg.potrf, -mx.nd.ones((2, 2)) - mx.nd.array(np.eye(2)))
    assert "linalg_potrf" in msg and "positive definite" in msg
    msg = mc.error_of(mx.nd.linalg.inverse, mx.nd.zeros((2, 2)))
    assert "linalg_inverse" in msg and "singular" in msg
    # as MXNet: a singular matrix has det 0 and slogdet (0, -inf)
    assert mx.nd.linalg.det(mx.nd.zeros((2, 2))).asnumpy().tolist() == [0.0]
    s, l = mx.nd.linalg.slogdet(mx.nd.zeros((2, 2)))
    assert s.asnumpy().tolist() == [0.0] and l.asnumpy().tolist() == [-np.inf]


def test_symbol_shape_inference_reports_bad_shapes():
    sym = mx.sym.linalg.gemm2(mx.sym.var("a"), mx.sym.var("b"))
    with pytest.raises(PlaitError) as info:
        sym.infer_shape(a=(2, 3), b=(4, 5))
    msg = str(info.value)
    assert "linalg_gemm2" in msg and "(4, 5)" in msg and "(2, 3)" in msg
