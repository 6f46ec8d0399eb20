"""contrib.box_encode, contrib.box_decode (core/ops/contrib_boxcoder.py), contrib.MultiBoxPrior,
contrib.MultiBoxDetection (core/ops/contrib_multibox.py) and contrib.MultiBoxTarget
(core/ops/contrib_multibox_target.py) against real MXNet 1.9.1: outputs and input gradients
recorded in tests/fixtures/ops/multibox_ops_mxnet.npz (tools/make_multibox_fixtures.py),
checked imperatively (mx.nd + autograd), through mx.sym (bind, forward, backward) and through
a hybridized HybridBlock; plus names, output names, dtypes and bad-input errors."""
import json

import numpy as np
import pytest

import plait as mx
import mxnet_op_cases as mc

CASES = mc.load_cases("multibox_ops_mxnet.npz")
# float32 exp/log of NumPy and of MXNet's libm may differ in the last bits
TOL = dict(f32=dict(rtol=2e-5, atol=2e-6))

(test_imperative_matches_mxnet, test_symbol_executor_matches_mxnet,
 test_hybridized_block_matches_mxnet) = mc.fixture_tests(CASES, **TOL)

OPS = ("box_encode", "box_decode", "MultiBoxPrior", "MultiBoxTarget", "MultiBoxDetection")


def test_fixture_covers_every_op():
    assert {c["op"] for c in CASES.values()} == {"contrib." + o for o in OPS}


def test_fixture_cases_exercise_the_branches():
    """The recorded targets hold positives, negatives and ignored anchors; the detections
    hold kept and suppressed rows (so the comparisons above are not vacuous)."""
    a = CASES["tgt_mining"]["arrays"]["out2"]
    assert (a > 0).any() and (a == 0).any() and (a == -1).any()
    d = CASES["det_default"]["arrays"]["out0"]
    assert (d[..., 0] >= 0).any() and (d[..., 0] == -1).any()
    assert (d[..., 1] != -1).sum() > (d[..., 0] >= 0).sum()  # suppressed rows stay in place


def test_names_and_outputs():
    for name in OPS:
        assert callable(getattr(mx.nd.contrib, name)), name
        assert callable(getattr(mx.sym.contrib, name)), name
        assert callable(getattr(mx.nd, "_contrib_" + name)), name
    v = mx.sym.var
    s = mx.sym.contrib.MultiBoxTarget(v("a"), v("l"), v("c"), name="t")
    assert s.list_outputs() == ["t_loc_target", "t_loc_mask", "t_cls_target"]
    assert s.list_arguments() == ["a", "l", "c"]
    s = mx.sym.contrib.MultiBoxDetection(v("c"), v("l"), v("a"), name="d", nms_threshold=0.3)
    assert s.list_outputs() == ["d_output"]
    node = json.loads(s.tojson())["nodes"][-1]
    assert node["op"] == "_contrib_MultiBoxDetection" and node["attrs"] == {
        "nms_threshold": "0.3"}
    s = mx.sym.contrib.box_encode(*[v(n) for n in "abcdef"], name="e")
    assert s.list_outputs() == ["e_output0", "e_output1"]
    assert mx.sym.contrib.box_decode(v("x"), v("y"), name="q").list_outputs() == ["q_output"]
    s = mx.sym.contrib.MultiBoxPrior(v("x"), sizes=(0.5, 0.2), name="p")
    assert s.list_outputs() == ["p_output"]
    assert json.loads(s.tojson())["nodes"][-1]["attrs"] == {"sizes": "(0.5, 0.2)"}
    out = mx.nd.contrib.MultiBoxTarget(mx.nd.ones((1, 3, 4)), -mx.nd.ones((2, 1, 5)),
                                       mx.nd.ones((2, 2, 3)))
    assert [o.shape for o in out] == [(2, 12), (2, 12), (2, 3)]


def test_symbol_shape_inference():
    v = mx.sym.var
    s = mx.sym.contrib.MultiBoxPrior(v("x"), sizes=(0.5, 0.2), ratios=(1, 2, 3))
    assert s.infer_shape(x=(2, 8, 5, 6))[1] == [(1, 5 * 6 * 4, 4)]
    s = mx.sym.contrib.MultiBoxDetection(v("c"), v("l"), v("a"))
    assert s.infer_shape(c=(2, 3, 7), l=(2, 28), a=(1, 7, 4))[1] == [(2, 7, 6)]


def _f32(shape):
    return mx.nd.ones(shape, dtype="float32")


BAD = [
    ("box_encode", [(2, 4), (2, 6), (2, 6, 4), (2, 3, 4), (4,), (4,)], {},
     ("samples", "(2, 4)", "(2, 6, 4)")),
    ("box_encode", [(2, 6), (2, 6), (2, 6, 4), (1, 3, 4), (4,), (4,)], {},
     ("refs", "(1, 3, 4)")),
    ("box_encode", [(2, 6), (2, 6), (2, 6, 4), (2, 3, 4), (4,), (3,)], {}, ("stds", "(3,)")),
    ("box_decode", [(2, 5), (1, 5, 4)], {}, ("data", "(2, 5)")),
    ("box_decode", [(2, 5, 4), (1, 4, 4)], {}, ("anchors", "(1, 4, 4)")),
    ("box_decode", [(2, 5, 4), (1, 5, 4)], {"format": "xyxy"}, ("format", "xyxy")),
    ("MultiBoxPrior", [(1, 3, 4)], {}, ("data", "(1, 3, 4)")),
    ("MultiBoxPrior", [(1, 3, 4, 4)], {"steps": (-1, 0.1)}, ("steps", "both")),
    ("MultiBoxPrior", [(1, 3, 4, 4)], {"offsets": (0.5, 1.5)}, ("offsets", "1.5")),
    ("MultiBoxTarget", [(2, 4, 4), (2, 3, 5), (2, 3, 4)], {}, ("anchor", "(2, 4, 4)")),
    ("MultiBoxTarget", [(1, 4, 4), (2, 3, 4), (2, 3, 4)], {}, ("label", "(2, 3, 4)")),
    ("MultiBoxTarget", [(1, 4, 4), (2, 3, 5), (2, 3, 5)], {}, ("cls_pred", "(2, 3, 5)")),
    ("MultiBoxTarget", [(1, 4, 4), (2, 3, 5), (2, 3, 4)], {"variances": (1, 2)},
     ("variances",)),
    ("MultiBoxDetection", [(1, 3, 4), (1, 16), (1, 5, 4)], {}, ("anchor", "(1, 5, 4)")),
    ("MultiBoxDetection", [(1, 3, 4), (1, 12), (1, 4, 4)], {}, ("loc_pred", "(1, 12)")),
    ("MultiBoxDetection", [(1, 3, 4), (1, 16), (1, 4, 4)], {"variances": (1.0,)},
     ("variances",)),
]


test_bad_inputs_name_op_argument_and_shape = mc.bad_input_test(BAD, "nd.contrib")


def test_bad_label_padding_is_an_error_as_in_mxnet():
    lab = -np.ones((1, 2, 5), np.float32)
    lab[0, 0, 2] = 0.3
    msg = mc.error_of(mx.nd.contrib.MultiBoxTarget, _f32((1, 3, 4)), mx.nd.array(lab),
                      _f32((1, 2, 3)))
    assert "MultiBoxTarget" in msg and "label" in msg and "row 0" in msg, msg


@pytest.mark.parametrize("op,shapes", [("MultiBoxPrior", [(1, 1, 2, 2)]),
                                       ("MultiBoxDetection", [(1, 3, 4), (1, 16), (1, 4, 4)])])
def test_legacy_ops_are_float32_only(op, shapes):
    msg = mc.error_of(getattr(mx.nd.contrib, op),
                      *[mx.nd.ones(s, dtype="float64") for s in shapes])
    assert op in msg and "float64" in msg, msg


@pytest.mark.parametrize("attrs,match", [
    ({"negative_mining_ratio": 2, "negative_mining_thresh": 0.0}, "negative_mining_thresh"),
    ({"negative_mining_ratio": 3, "overlap_threshold": 0.95}, "negative mining wants 3")])
def test_mining_check_failures_are_errors_as_in_mxnet(attrs, match):
    """MXNet 1.9.1 fails these CHECKs (negative_mining_thresh > 0; enough candidates)."""
    anc = np.array([[[0, 0, .5, .5], [.5, .5, 1, 1], [0, 0, .45, .5], [0, 0, .5, .45]]],
                   np.float32)
    lab = np.array([[[1, 0, 0, .5, .5]]], np.float32)
    msg = mc.error_of(mx.nd.contrib.MultiBoxTarget, mx.nd.array(anc), mx.nd.array(lab),
                      mx.nd.zeros((1, 2, 4)), **attrs)
    assert "MultiBoxTarget" in msg and match in msg, msg
