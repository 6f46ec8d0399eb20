"""Generate tests/fixtures/ops/index_ops_mxnet.npz with real MXNet 1.9.1: forward outputs and
input gradients (mx.autograd, for fixed random head gradients) of _split_v2, batch_take,
ravel_multi_index, unravel_index, khatri_rao, _histogram and cumsum (_np_cumsum), and the
Python-level mx.nd.split_v2 / mx.nd.histogram / mx.nd.moveaxis (plait's
core/ops/index_ops_mx.py, index_ops_mx_hist.py, ndarray/extra_funcs.py).  Run with the
MXNet anchor:

    /tmp/plait-anchors/mxnet/bin/python tools/make_index_op_fixtures.py

The .npz layout (no pickle) is described in tools/mxnet_op_fixture.py.
"""
import numpy as np
import mxnet as mx

from mxnet_op_fixture import Recorder

REC = Recorder("index_ops_mxnet.npz", 20261124)
R, u = REC.rng, REC.uniform



def case(name, op, inputs, attrs=None, grad=(0,), kind="op"):
    REC.case(name, op, inputs, attrs, grad, kind=kind)


i32 = lambda v: np.array(v, np.int32)  # noqa: E731
# -- _split_v2 (the op) and split_v2 (the Python front end)
case("split_v2_idx", "_split_v2", [u((3, 4))], {"indices": (0, 1, 3), "axis": 1})
case("split_v2_default_axis", "_split_v2", [u((3, 4, 2))], {"indices": (0, 2)})
case("split_v2_sections_uneven", "_split_v2", [u((2, 7))], {"indices": (), "sections": 3,
                                                             "axis": -1})
case("split_v2_sections_more", "_split_v2", [u((4, 2), "float64")], {"indices": (),
                                                                      "sections": 5, "axis": 0})
case("split_v2_squeeze", "_split_v2", [u((3, 2))], {"indices": (0, 1, 2), "axis": 0,
                                                    "squeeze_axis": True})
case("split_v2_empty_piece", "_split_v2", [u((3, 4))], {"indices": (0, 0, 4), "axis": 1})
case("split_v2_one", "_split_v2", [u((3, 4))], {"indices": (0,), "axis": 1})
case("split_v2_int32", "_split_v2", [u((4, 3), "int32", -9, 9)], {"indices": (0, 1)},
     grad=())
case("py_split_v2_int", "split_v2", [u((3, 6))], {"indices_or_sections": 3, "axis": 1},
     kind="py")
case("py_split_v2_tuple", "split_v2", [u((5, 2))], {"indices_or_sections": (1, 3)}, kind="py")
case("py_split_v2_squeeze", "split_v2", [u((2, 3))],
     {"indices_or_sections": 3, "axis": 1, "squeeze_axis": True}, kind="py")
# -- batch_take (int32 indices; out of range clips; no gradient)
case("batch_take", "batch_take", [u((3, 4)), i32([0, 3, 1])], grad=())
case("batch_take_clip", "batch_take", [u((3, 4), "float64"), i32([5, -1, -5])], grad=())
case("batch_take_2d_idx", "batch_take", [u((3, 4), "int32", -9, 9), i32([[0], [1], [2]])],
     grad=())
# -- ravel_multi_index / unravel_index (gradients are zero)
case("ravel", "ravel_multi_index", [np.array([[3, 6, 6], [4, 5, 1]], np.float32)],
     {"shape": (7, 6)})
case("ravel_neg1", "ravel_multi_index", [np.array([[3, 6, 6], [4, 5, 1]], np.int32)],
     {"shape": (-1, 6)}, grad=())
case("ravel_3d_frac", "ravel_multi_index",
     [np.array([[1.7, 0.2, -1.5], [2.2, 1.9, 0.5], [3.5, 0.1, 1.25]], np.float64)],
     {"shape": (2, 3, 4)})
case("ravel_int64_oob", "_ravel_multi_index", [np.array([[-1, 2, 4], [1, -1, 9]], np.int64)],
     {"shape": (3, 4)}, grad=())
case("unravel", "unravel_index", [np.array([22, 41, 37], np.float32)], {"shape": (7, 6)})
case("unravel_neg1", "unravel_index", [np.array([22, 41, 37, 100], np.int32)],
     {"shape": (-1, 6)}, grad=())
case("unravel_3_oob", "_unravel_index", [np.array([0, 5, 23, 45, -1], np.float64)],
     {"shape": (2, 3, 4)})
case("unravel_1", "unravel_index", [np.array([3, 9], np.int64)], {"shape": (30,)}, grad=())
# -- khatri_rao (no gradient in MXNet)
case("khatri_rao_2", "khatri_rao", [u((2, 3)), u((4, 3))], grad=())
case("khatri_rao_1", "khatri_rao", [u((3, 2), "float64")], grad=())
case("khatri_rao_3", "khatri_rao", [u((2, 2)), u((3, 2)), u((2, 2))], grad=())
# -- _histogram (counts int64, edges of data's dtype; no gradient)
hx = np.array([[0, 1], [2, 2], [3, 4]], np.float32)
case("histogram_cnt", "_histogram", [hx], {"bin_cnt": 5, "range": (0, 5)}, grad=())
case("histogram_cnt_random", "_histogram", [u((4, 5), "float32", -3, 7)],
     {"bin_cnt": 4, "range": (-1.0, 5.0)}, grad=())
case("histogram_frac", "_histogram",
     [np.array([0.1, 0.2, 0.3, 0.7, 0.9999, 1.0, 1.2, -0.1], np.float32)],
     {"bin_cnt": 3, "range": (0, 1)}, grad=())
case("histogram_linspace", "_histogram", [np.linspace(0, 1, 11).astype(np.float32)],
     {"bin_cnt": 10, "range": (0, 1)}, grad=())
case("histogram_eq_range", "_histogram", [hx], {"bin_cnt": 4, "range": (2, 2)}, grad=())
case("histogram_int32", "_histogram", [u((3, 4), "int32", -2, 6)],
     {"bin_cnt": 2, "range": (0, 5)}, grad=())
case("histogram_f64", "_histogram", [u((10,), "float64", 0, 3)],
     {"bin_cnt": 3, "range": (0.5, 2.5)}, grad=())
case("histogram_bins", "_histogram", [hx, np.array([0., 2.1, 3.], np.float32)], grad=())
case("histogram_bins_edges", "_histogram",
     [np.array([0, 1, 2, 3, 4, -1, 5], np.float64), np.array([0., 1., 3., 4.], np.float64)],
     grad=())
case("histogram_bins_unsorted", "_histogram", [hx, np.array([0., 3., 2.1], np.float32)],
     grad=())
case("py_histogram_range", "histogram", [hx], {"bins": 3, "range": (0.5, 3.5)}, grad=(),
     kind="py")
case("py_histogram_numpy", "histogram", [u((3, 4))], {"bins": 4}, grad=(), kind="py")
case("py_histogram_nd_bins", "histogram", [hx, np.array([0, 1, 5], np.float32)], grad=(),
     kind="py")
# -- cumsum (_np_cumsum)
case("cumsum_flat", "cumsum", [u((3, 4))])
case("cumsum_ax0", "cumsum", [u((3, 4))], {"axis": 0})
case("cumsum_ax2", "cumsum", [u((2, 3, 4), "float64")], {"axis": 2})
case("cumsum_dtype_f64", "cumsum", [u((3, 4))], {"axis": 1, "dtype": "float64"})
case("cumsum_int32", "cumsum", [u((3, 4), "int32", -9, 9)], {"axis": 1}, grad=())
case("cumsum_int8_wrap", "cumsum", [np.array([100, 100, 100, -7], np.int8)], grad=())
case("cumsum_to_int32", "cumsum", [np.array([1.7, 2.6, -0.5, -2.5], np.float32)],
     {"dtype": "int32"}, grad=())
case("cumsum_ax1", "cumsum", [u((2, 5))], {"axis": 1})
# -- moveaxis (Python function over transpose)
case("py_moveaxis", "moveaxis", [u((2, 3, 4))], {"source": 0, "destination": -1}, kind="py")
case("py_moveaxis_multi", "moveaxis", [u((2, 3, 4, 5))],
     {"source": [0, 1], "destination": [-1, -2]}, kind="py")


def _call(op, ins, attrs, extra):
    if extra["kind"] == "op" and op.startswith("_"):
        return getattr(mx.nd._internal, op)(*ins, **attrs)
    if op == "histogram" and len(ins) == 2:  # the Python front end takes bins as a keyword
        attrs["bins"] = ins.pop()
    return getattr(mx.nd, op)(*ins, **attrs)


def main():
    REC.write(_call)


if __name__ == "__main__":
    main()
