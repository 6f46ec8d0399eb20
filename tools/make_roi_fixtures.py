"""Generate tests/fixtures/ops/roi_ops_mxnet.npz with real MXNet 1.9.1: forward outputs and
data gradients (mx.autograd, for fixed random head gradients) of contrib.ROIAlign
(plait's core/ops/contrib_roi.py) and ROIPooling (core/ops/contrib_roi_pool.py).  Run with
the MXNet anchor from tools/:

    /tmp/plait-anchors/mxnet/bin/python make_roi_fixtures.py

Cases with "pick" in their meta have a third input: the output rows kept (mx.nd.take), to
leave out the rows of rois with a negative batch index, which MXNet leaves uninitialised.
The .npz layout (no pickle) is described in tools/mxnet_op_fixture.py.
"""
import numpy as np

import mxnet as mx
from mxnet_op_fixture import Recorder, resolve

REC = Recorder("roi_ops_mxnet.npz", 20261207, lo=-1.0, hi=1.0)
R, u, case = REC.rng, REC.uniform, REC.case
ALIGN, POOL = "contrib.ROIAlign", "ROIPooling"


def rois(n, batch, size, lo=-0.2, hi=1.1, dtype="float32"):
    """n rows [b, x1, y1, x2, y2] in image coordinates of a size (h, w) image, some partly
    outside, some inverted."""
    h, w = size
    b = R.integers(0, batch, n)
    x = R.uniform(lo, hi, (n, 2)) * w
    y = R.uniform(lo, hi, (n, 2)) * h
    return np.stack([b, x[:, 0], y[:, 0], x[:, 1], y[:, 1]], 1).astype(dtype)


def ordered(r):
    """Rows with x1 <= x2 and y1 <= y2 (and at least a pixel wide)."""
    r = r.copy()
    r[:, [1, 3]] = np.sort(r[:, [1, 3]], 1)
    r[:, [2, 4]] = np.sort(r[:, [2, 4]], 1)
    r[:, 3:] += 1.0
    return r


def fixed(rows, dtype="float32"):
    return np.array(rows, dtype)


# -- ROIAlign
d = u((2, 3, 8, 9))
case("align_basic", ALIGN, [d, rois(7, 2, (16, 18))], {"pooled_size": (2, 2),
                                                       "spatial_scale": 0.5})
case("align_sample2", ALIGN, [d, rois(6, 2, (16, 18))],
     {"pooled_size": (3, 2), "spatial_scale": 0.5, "sample_ratio": 2})
case("align_adaptive_big", ALIGN, [u((1, 2, 12, 10)), rois(4, 1, (12, 10), -0.5, 1.5)],
     {"pooled_size": (2, 3), "spatial_scale": 1.0})
case("align_aligned", ALIGN, [d, ordered(rois(6, 2, (16, 18)))],
     {"pooled_size": (2, 2), "spatial_scale": 0.5, "aligned": True})
case("align_aligned_sr", ALIGN, [d, ordered(rois(5, 2, (8, 9)))],
     {"pooled_size": (3, 3), "spatial_scale": 1.0, "aligned": True, "sample_ratio": 3})
case("align_ps", ALIGN, [u((2, 8, 7, 7)), rois(5, 2, (14, 14))],
     {"pooled_size": (2, 2), "spatial_scale": 0.5, "position_sensitive": True})
case("align_ps_aligned", ALIGN, [u((1, 12, 6, 6)), ordered(rois(4, 1, (6, 6)))],
     {"pooled_size": (2, 3), "spatial_scale": 1.0, "position_sensitive": True,
      "aligned": True, "sample_ratio": 2})
case("align_f64", ALIGN, [u((2, 2, 6, 7), "float64"), rois(5, 2, (24, 28), dtype="float64")],
     {"pooled_size": (2, 2), "spatial_scale": 0.25})
case("align_edges", ALIGN, [u((1, 2, 5, 6)),
                            fixed([[0, -1.5, -1.2, 0.5, 0.4], [0, 4.2, 3.1, 7.5, 6.8],
                                   [0, -3, -3, 9, 8], [0, 5, 4, 5, 4], [0, 2, 1, 1, 0.5]])],
     {"pooled_size": (2, 2), "spatial_scale": 1.0, "sample_ratio": 2})
case("align_batch_trunc", ALIGN, [u((2, 2, 5, 5)),
                                  fixed([[0.7, 0, 0, 4, 4], [1.9, 1, 1, 3, 4],
                                         [-0.6, 0.5, 0.5, 2.5, 3.5]])],
     {"pooled_size": (2, 2), "spatial_scale": 1.0})
case("align_negative_batch", ALIGN,
     [u((2, 3, 6, 6)), fixed([[0, 0, 0, 4, 4], [-1, 1, 1, 3, 3], [1, 0, 0, 5, 5],
                              [-1, 0, 0, 2, 2]]), fixed([0, 2])],
     {"pooled_size": (2, 2), "spatial_scale": 1.0}, pick=True)
# -- ROIPooling
case("pool_basic", POOL, [d, rois(7, 2, (16, 18))], {"pooled_size": (2, 2),
                                                     "spatial_scale": 0.5})
case("pool_overlap", POOL, [d, ordered(rois(6, 2, (8, 9)))],
     {"pooled_size": (3, 4), "spatial_scale": 1.0})
case("pool_fine", POOL, [u((1, 2, 6, 5)), ordered(rois(4, 1, (12, 10)))],
     {"pooled_size": (5, 4), "spatial_scale": 0.5})
case("pool_round_halves", POOL, [u((1, 2, 9, 9)),
                                 fixed([[0, 1, 3, 5, 7], [0, 2.5, 1.5, 6.5, 5.5],
                                        [0, -1, -3, 3, 5], [0, 0.99, 4.01, 8.99, 9.01]])],
     {"pooled_size": (2, 2), "spatial_scale": 0.5})
case("pool_malformed", POOL, [u((1, 2, 6, 6)),
                              fixed([[0, 4, 4, 1, 1], [0, 3, 1, 2, 5], [0, 2, 5, 4, 2],
                                     [0, 1, 1, 4, 4]])],
     {"pooled_size": (2, 2), "spatial_scale": 1.0})
case("pool_outside", POOL, [u((1, 2, 5, 5)),
                            fixed([[0, 7, 7, 9, 9], [0, -6, -6, -2, -2], [0, -2, 3, 2, 8],
                                   [0, 3, -4, 9, 1]])],
     {"pooled_size": (3, 3), "spatial_scale": 1.0})
ties = np.round(u((2, 2, 6, 6)) * 2) / 2
case("pool_ties_dup", POOL, [ties.astype("float32"),
                             fixed([[0, 0, 0, 5, 5], [0, 0, 0, 5, 5], [1, 1, 0, 4, 5],
                                    [1.8, 0, 0, 3, 3]])],
     {"pooled_size": (2, 3), "spatial_scale": 1.0})
low = u((1, 2, 4, 4), "float64")
low[0, 0, :2, :2] = -1e39
low[0, 1, :2, :2] = -np.inf
case("pool_f64_below_flt_max", POOL, [low, fixed([[0, 0, 0, 3, 3]], "float64")],
     {"pooled_size": (2, 2), "spatial_scale": 1.0})
case("pool_f64", POOL, [u((2, 3, 7, 6), "float64"), rois(6, 2, (14, 12), dtype="float64")],
     {"pooled_size": (3, 2), "spatial_scale": 0.5})


def call(op, ins, attrs, extra):
    if extra.get("pick"):
        return mx.nd.take(resolve(mx.nd, op)(ins[0], ins[1], **attrs), ins[2])
    return resolve(mx.nd, op)(*ins, **attrs)


def main():
    REC.write(call)


if __name__ == "__main__":
    main()
