"""contrib.box_iou, contrib.box_nms / box_non_maximum_suppression (core/ops/contrib_box.py) and
contrib.bipartite_matching (core/ops/contrib_bipartite.py)
against real MXNet 1.9.1: outputs and input gradients recorded in
tests/fixtures/ops/box_ops_mxnet.npz (tools/make_box_op_fixtures.py), checked imperatively
(mx.nd + autograd), through mx.sym (bind, forward, backward) and through a hybridized
HybridBlock; plus names, output names and bad-input errors."""
import json

import plait as mx
import mxnet_op_cases as mc

CASES = mc.load_cases("box_ops_mxnet.npz")


(test_imperative_matches_mxnet, test_symbol_executor_matches_mxnet,
 test_hybridized_block_matches_mxnet) = mc.fixture_tests(CASES)


def test_fixture_covers_every_op():
    assert {c["op"] for c in CASES.values()} == {
        "contrib.box_iou", "contrib.box_nms", "contrib.box_non_maximum_suppression",
        "contrib.bipartite_matching"}


def test_names_and_outputs():
    for name in ("box_iou", "box_nms", "box_non_maximum_suppression", "bipartite_matching"):
        assert callable(getattr(mx.nd.contrib, name)), name
        assert callable(getattr(mx.sym.contrib, name)), name
    for name in ("_contrib_box_iou", "_contrib_box_nms", "_contrib_box_non_maximum_suppression"):
        assert callable(getattr(mx.nd, name)), name
    s = mx.sym.contrib.box_nms(mx.sym.var("d"), overlap_thresh=0.3, name="nms")
    assert s.list_outputs() == ["nms_output0"]  # MXNet: a second, hidden output
    node = json.loads(s.tojson())["nodes"][-1]
    assert node["op"] == "_contrib_box_nms" and node["attrs"] == {"overlap_thresh": "0.3"}
    node = json.loads(mx.sym.contrib.box_iou(mx.sym.var("a"), mx.sym.var("b")).tojson())
    assert node["nodes"][-1]["op"] == "_contrib_box_iou"
    out = mx.nd.contrib.box_nms(mx.nd.ones((3, 6)))
    assert isinstance(out, mx.nd.NDArray) and out.shape == (3, 6)


BAD = [
    ("box_iou", [(2, 3), (2, 4)], {}, ("lhs", "(2, 3)", "4")),
    ("box_iou", [(2, 4), (4,)], {}, ("rhs", "(4,)", "dim")),
    ("box_iou", [(2, 4), (2, 4)], {"format": "xywh"}, ("format", "xywh")),
    ("box_nms", [(5,)], {"coord_start": 0}, ("data", "(5,)", "dim")),
    ("box_nms", [(4, 5)], {}, ("coord_start", "(4, 5)")),
    ("box_nms", [(4, 6)], {"score_index": 7}, ("score_index", "7", "(4, 6)")),
    ("box_nms", [(4, 6)], {"id_index": 6}, ("id_index", "6", "(4, 6)")),
    ("box_nms", [(4, 6)], {"out_format": "xyxy"}, ("out_format", "xyxy")),
    ("bipartite_matching", [(3,)], {"threshold": 0.1}, ("data", "(3,)", "dim")),
    ("bipartite_matching", [(3, 2)], {}, ("threshold", "required")),
]


test_bad_inputs_name_op_argument_and_shape = mc.bad_input_test(BAD, "nd.contrib")


def test_integer_data_rejected():
    msg = mc.error_of(mx.nd.contrib.box_nms, mx.nd.ones((3, 6), dtype="int32"))
    assert "box_nms" in msg and "int32" in msg, msg
