"""Generate tests/fixtures/ops/multibox_ops_mxnet.npz with real MXNet 1.9.1: forward outputs and
input gradients (mx.autograd, for fixed random head gradients) of contrib.box_encode,
contrib.box_decode (plait's core/ops/contrib_boxcoder.py), contrib.MultiBoxPrior,
contrib.MultiBoxDetection (core/ops/contrib_multibox.py) and contrib.MultiBoxTarget
(core/ops/contrib_multibox_target.py).  Run with the MXNet anchor from tools/:

    /tmp/plait-anchors/mxnet/bin/python make_multibox_fixtures.py

The .npz layout (no pickle) is described in tools/mxnet_op_fixture.py.  Every gradient MXNet
gives these ops is zero; the cases record them all the same.
"""
import numpy as np
import mxnet as mx

from mxnet_op_fixture import Recorder

REC = Recorder("multibox_ops_mxnet.npz", 20261125, lo=0.0, hi=1.0)
R, case = REC.rng, REC.case
f4 = np.float32


def corners(shape, dtype=f4, lo=0.1, hi=0.5):
    b = R.uniform(0, 0.5, shape)
    b[..., 2:] = b[..., :2] + R.uniform(lo, hi, shape[:-1] + (2,))
    return b.astype(dtype)


def anchors(h, w, sizes, ratios, clip=False):
    """MXNet's own MultiBoxPrior anchors (1, h*w*A, 4)."""
    return mx.nd.contrib.MultiBoxPrior(mx.nd.zeros((1, 1, h, w)), sizes=sizes, ratios=ratios,
                                       clip=clip).asnumpy()


def labels(batch, rows, valid, classes=3):
    lab = -np.ones((batch, rows, 5))
    for i, k in enumerate(valid):
        lab[i, :k, 0] = R.integers(0, classes, k)
        lab[i, :k, 1:3] = R.uniform(0, 0.6, (k, 2))
        lab[i, :k, 3:5] = lab[i, :k, 1:3] + R.uniform(0.15, 0.4, (k, 2))
    return lab.astype(f4)


def probs(batch, classes, n, peak=3.0):
    z = R.normal(0, 1, (batch, classes, n))
    z[:, 1:] += R.choice([0.0, peak], (batch, classes - 1, n), p=[.6, .4])
    e = np.exp(z - z.max(1, keepdims=True))
    return (e / e.sum(1, keepdims=True)).astype(f4)


ALL3, ALL6 = (0, 1, 2), (0, 1, 2, 3, 4, 5)
# -- box_encode: samples > 0.5 are positive; matches may be -1 for the others
ENC = "contrib.box_encode"


def enc_inputs(b, n, m, dtype=f4):
    s = R.choice([-1.0, 0.0, 1.0, 0.5, 0.7], (b, n)).astype(dtype)
    mt = R.integers(0, m, (b, n)).astype(dtype)
    mt[s <= 0.5] = -1
    return [s, mt, corners((b, n, 4), dtype), corners((b, m, 4), dtype),
            np.array([0, 0.1, 0, -0.2], dtype), np.array([0.1, 0.1, 0.2, 0.2], dtype)]


case("enc_basic", ENC, enc_inputs(2, 6, 3), grad=ALL6)
case("enc_one_ref", ENC, enc_inputs(1, 9, 1), grad=(2, 3))
case("enc_f64", ENC, enc_inputs(2, 5, 4, np.float64), grad=ALL6)
# -- box_decode: format 'center' by default, 'corner'; clip of the width/height deltas
DEC = "contrib.box_decode"
dd = R.uniform(-1, 1, (2, 5, 4)).astype(f4)
cen = R.uniform(0.1, 0.6, (1, 5, 4)).astype(f4)
cor = corners((1, 5, 4))
case("dec_center", DEC, [dd, cen], grad=(0, 1))
case("dec_corner_stds", DEC, [dd, cor], {"format": "corner", "std0": 0.1, "std1": 0.1,
                                         "std2": 0.2, "std3": 0.2}, grad=(0, 1))
case("dec_clip", DEC, [dd * 4, cor], {"format": "corner", "clip": 1.5}, grad=(0,))
case("dec_clip_center", DEC, [dd * 4, cen], {"clip": 0.5, "std2": 2.0}, grad=(0,))
case("dec_anchors_4d", DEC, [dd, cor.reshape(1, 1, 5, 4)], {"format": "corner"}, grad=(0, 1))
case("dec_f64", DEC, [dd.astype(np.float64), cor.astype(np.float64)], {"format": "corner"},
     grad=(0, 1))
# -- MultiBoxPrior (float32 only in MXNet); only data's shape matters
PRI = "contrib.MultiBoxPrior"
z = np.zeros
case("prior_default", PRI, [z((1, 3, 4, 5), f4)])
case("prior_sizes_ratios", PRI, [z((2, 2, 3, 3), f4)],
     {"sizes": (0.5, 0.25, 0.1), "ratios": (1, 2, 0.5)})
case("prior_clip", PRI, [z((1, 1, 5, 3), f4)], {"sizes": (0.9, 0.4), "ratios": (1, 3),
                                                 "clip": True})
case("prior_steps_offsets", PRI, [z((1, 1, 2, 4), f4)],
     {"sizes": (0.3,), "ratios": (2, 1), "steps": (0.2, 0.1), "offsets": (0.2, 0.7)})
case("prior_one_step_auto", PRI, [z((1, 1, 3, 4), f4)], {"steps": (0.0, 0.25)})
case("prior_5d", PRI, [z((1, 2, 3, 2, 2), f4)], {"sizes": (0.2, 0.1)})
# -- MultiBoxTarget
TGT = "contrib.MultiBoxTarget"
anc = anchors(4, 4, (0.4, 0.2), (1, 2, 0.5))
lab = labels(3, 4, (2, 4, 0))
cp = R.normal(0, 1, (3, 3, anc.shape[1])).astype(f4)
case("tgt_default", TGT, [anc, lab, cp], grad=ALL3)
case("tgt_mining", TGT, [anc, lab, cp], {"negative_mining_ratio": 3, "overlap_threshold": 0.4},
     grad=ALL3)
case("tgt_mining_min_neg", TGT, [anc, lab, cp], {"negative_mining_ratio": 1.5,
                                                 "negative_mining_thresh": 0.3,
                                                 "minimum_negative_samples": 20})
case("tgt_no_threshold", TGT, [anc, lab, cp], {"overlap_threshold": 0.0, "ignore_label": -2,
                                               "variances": (0.2, 0.2, 0.5, 0.5)})
case("tgt_mining_no_threshold", TGT, [anc, lab, cp], {"overlap_threshold": 0.0,
                                                      "negative_mining_ratio": 2})
anc2 = anchors(3, 3, (0.5,), (1, 2))
lab2 = labels(2, 6, (6, 3))
lab2[1, 4:] = 7.0  # rows after the first -1 row are not read
case("tgt_wide_label_rows_after_pad", TGT,
     [anc2, np.concatenate([lab2, R.uniform(0, 1, (2, 6, 1)).astype(f4)], 2),
      R.normal(0, 1, (2, 4, anc2.shape[1])).astype(f4)], {"overlap_threshold": 0.3})
# exact ties: duplicated anchors and duplicated ground truths
ta = np.array([[[0, 0, .5, .5], [0, 0, .5, .5], [.25, .25, .75, .75], [.5, .5, 1, 1],
                [0, 0, .5, .5]]], f4)
tl = np.array([[[1, .25, .25, .75, .75], [2, 0, 0, .5, .5], [0, 0, 0, .5, .5],
                [-1, -1, -1, -1, -1]]], f4)
case("tgt_ties", TGT, [ta, tl, np.zeros((1, 2, 5), f4)], {"negative_mining_ratio": 1})
case("tgt_ties_thresh", TGT, [ta, tl, R.normal(0, 1, (1, 2, 5)).astype(f4)],
     {"overlap_threshold": 0.99})
# -- MultiBoxDetection
DET = "contrib.MultiBoxDetection"
danc = anchors(3, 3, (0.5, 0.3), (1, 2))
n = danc.shape[1]
dcp = probs(2, 3, n)
dloc = R.normal(0, 0.5, (2, n * 4)).astype(f4)
case("det_default", DET, [dcp, dloc, danc], grad=ALL3)
case("det_force", DET, [dcp, dloc, danc], {"force_suppress": True, "nms_threshold": 0.3},
     grad=ALL3)
case("det_topk_noclip", DET, [dcp, dloc, danc], {"nms_topk": 5, "threshold": 0.2,
                                                 "clip": False})
case("det_no_nms", DET, [dcp, dloc, danc], {"nms_threshold": 0.0})
case("det_nms_above_one", DET, [dcp, dloc, danc], {"nms_threshold": 1.5})
case("det_background_id", DET, [dcp, dloc, danc], {"background_id": 2, "variances":
                                                   (0.2, 0.2, 0.1, 0.1)})
big = anchors(5, 5, (0.6, 0.4, 0.2), (1, 2, 0.5))
case("det_crowded", DET, [probs(1, 4, big.shape[1]), R.normal(0, 0.3, (1, big.shape[1] * 4))
                          .astype(f4), big], {"nms_threshold": 0.45, "nms_topk": 30})
tie = np.array([[[0.2, 0.2, 0.1, 0.5], [0.4, 0.4, 0.6, 0.25], [0.4, 0.4, 0.3, 0.25]]], f4)
tanc = np.array([[[0, 0, .5, .5], [0, 0, .5, .5], [.1, .1, .6, .6], [0, 0, .5, .5]]], f4)
case("det_ties_iou_eq", DET, [tie, np.zeros((1, 16), f4), tanc], {"nms_threshold": 1.0})
case("det_ties_thresh_eq", DET, [tie, np.zeros((1, 16), f4), tanc],
     {"threshold": 0.4, "nms_threshold": 0.39})


def main():
    REC.write()


if __name__ == "__main__":
    main()
