"""Generate tests/fixtures/ops/box_ops_mxnet.npz with real MXNet 1.9.1: forward outputs and input
gradients (mx.autograd, for fixed random head gradients) of contrib.box_iou, contrib.box_nms
/ contrib.box_non_maximum_suppression (plait's core/ops/contrib_box.py) and
contrib.bipartite_matching (core/ops/contrib_bipartite.py).  Run with the MXNet
anchor from tools/:

    /tmp/plait-anchors/mxnet/bin/python make_box_op_fixtures.py

The .npz layout (no pickle) is described in tools/mxnet_op_fixture.py.
"""
import numpy as np

from mxnet_op_fixture import Recorder

REC = Recorder("box_ops_mxnet.npz", 20261124, lo=0.0, hi=1.0)
R, u, case = REC.rng, REC.uniform, REC.case


def corners(shape, dtype="float32"):
    """Boxes (..., 4) [xmin, ymin, xmax, ymax], a few of them inverted (empty)."""
    b = R.uniform(0, 1, shape)
    b[..., 2:] = b[..., :2] + R.uniform(-0.05, 0.6, shape[:-1] + (2,))
    return b.astype(dtype)


def centers(shape, dtype="float32"):
    b = R.uniform(0, 1, shape)
    b[..., 2:] = R.uniform(0, 0.6, shape[:-1] + (2,))
    return b.astype(dtype)


def dets(batch, n, classes=3, dtype="float32", ties=False):
    """(*batch, n, 6) rows [id, score, xmin, ymin, xmax, ymax], crowded boxes."""
    shape = tuple(batch) + (n,)
    d = np.empty(shape + (6,))
    d[..., 0] = R.integers(0, classes, shape)
    if ties:
        d[..., 1] = R.integers(1, 4, shape) / 4.0
    else:
        d[..., 1] = R.permutation(int(np.prod(shape))).reshape(shape) / np.prod(shape) + 0.01
    d[..., 2:4] = R.uniform(0, 0.4, shape + (2,))
    d[..., 4:] = d[..., 2:4] + R.uniform(0.1, 0.5, shape + (2,))
    return d.astype(dtype)


IOU = "contrib.box_iou"
NMS = "contrib.box_nms"
# -- box_iou (MXNet's gradient is zeros for both inputs)
exact = np.array([[0, 0, 2, 2], [1, 1, 3, 3], [2, 2, 1, 1], [0, 0, 0, 2]], np.float32)
case("iou_2d", IOU, [corners((5, 4)), corners((3, 4))], grad=(0, 1))
case("iou_3d_2d", IOU, [corners((2, 3, 4)), corners((4, 4))], grad=(0, 1))
case("iou_2d_3d_center", IOU, [centers((3, 4)), centers((2, 2, 4))], {"format": "center"},
     grad=(0, 1))
case("iou_exact", IOU, [exact, exact], grad=())
case("iou_exact_center", IOU, [exact, exact], {"format": "center"}, grad=())
case("iou_f64", IOU, [corners((4, 4), "float64"), corners((6, 4), "float64")], grad=(0,))
# -- box_nms (gradient: output rows' gradients back to their input rows)
case("nms_default", NMS, [dets((), 10)])
case("nms_thresh", NMS, [dets((), 10)], {"overlap_thresh": 0.3, "valid_thresh": 0.3})
case("nms_topk", NMS, [dets((), 10)], {"topk": 4, "overlap_thresh": 0.2})
case("nms_ids", NMS, [dets((), 10)], {"id_index": 0, "overlap_thresh": 0.2})
case("nms_background", NMS, [dets((), 10)],
     {"id_index": 0, "background_id": 1, "overlap_thresh": 0.2})
case("nms_force", NMS, [dets((), 10)],
     {"id_index": 0, "force_suppress": True, "overlap_thresh": 0.2})
case("nms_out_center", NMS, [dets((), 8)], {"out_format": "center"})
case("nms_in_center", NMS, [dets((), 8)], {"in_format": "center", "overlap_thresh": 0.2})
case("nms_batch", NMS, [dets((2, 3), 6)], {"overlap_thresh": 0.25})
case("nms_ties", NMS, [dets((), 12, ties=True)], {"overlap_thresh": 0.3})
case("nms_f64", NMS, [dets((2,), 7, dtype="float64")], {"overlap_thresh": 0.3, "topk": 5})
case("nms_layout", NMS, [np.concatenate([dets((), 6)[:, 1:2], dets((), 6)[:, 2:]], 1)],
     {"coord_start": 1, "score_index": 0, "overlap_thresh": 0.2})
case("nms_alias", "contrib.box_non_maximum_suppression", [dets((), 8)],
     {"overlap_thresh": 0.25})
# -- bipartite_matching (markers in the input's dtype; MXNet's gradient is zeros)
BM = "contrib.bipartite_matching"
bt = np.array([[0.5, 0.5], [0.5, 0.5], [0.5, 0.2]], np.float32)
case("bm_default", BM, [u((4, 5))], {"threshold": 0.05})
case("bm_topk", BM, [u((5, 4))], {"threshold": 0.05, "topk": 2})
case("bm_ascend", BM, [u((4, 5))], {"threshold": 0.5, "is_ascend": True})
case("bm_batch_f64", BM, [u((2, 3, 4, 3), "float64")], {"threshold": 0.3})
case("bm_ties", BM, [bt], {"threshold": 0.2}, grad=())
case("bm_ties_at_thresh", BM, [bt], {"threshold": 0.5}, grad=())
case("bm_ties_ascend", BM, [bt[::-1].copy()], {"threshold": 0.6, "is_ascend": True}, grad=())


def main():
    REC.write()


if __name__ == "__main__":
    main()
