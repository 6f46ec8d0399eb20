"""Generate tests/fixtures/ops/linalg_mxnet.npz with real MXNet 1.9.1: forward outputs and
input gradients (mx.autograd, for fixed random head gradients) of the linalg_* operators
(plait's core/ops/linalg_mx.py and linalg_mx_tri.py).  Run with the MXNet anchor:

    /tmp/plait-anchors/mxnet/bin/python tools/make_linalg_fixtures.py

The .npz layout (no pickle) is described in tools/mxnet_op_fixture.py.
"""
import numpy as np

from mxnet_op_fixture import Recorder

REC = Recorder("linalg_mxnet.npz", 20261124, lo=-1.0, hi=1.0)
R, u, case = REC.rng, REC.uniform, REC.case



def spd(shape, dtype="float32"):
    a = R.uniform(-1, 1, shape)
    n = shape[-1]
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def low(shape, dtype="float32", junk=False):
    """Lower triangular, diagonal in [1.5, 2.5]; junk=True fills the upper part too (ignored)."""
    n = shape[-1]
    a = np.tril(R.uniform(-1, 1, shape))
    a[..., np.arange(n), np.arange(n)] = R.uniform(1.5, 2.5, shape[:-1])
    if junk:
        a = a + np.triu(R.uniform(-1, 1, shape), 1)
    return a.astype(dtype)


def gen(shape, dtype="float32", flip=False):
    a = R.uniform(-1, 1, shape) + 3 * np.eye(shape[-1])
    return (a[..., ::-1, :] if flip else a).astype(dtype)



# -- gemm / gemm2 (axis: the row axis; columns are last)
case("gemm", "linalg_gemm", [u((2, 3)), u((3, 4)), u((2, 4))], grad=(0, 1, 2))
case("gemm_ta_ab_f64", "linalg_gemm", [u((3, 2), "float64"), u((3, 4), "float64"),
                                       u((2, 4), "float64")],
     {"transpose_a": True, "alpha": 2.0, "beta": 0.5}, grad=(0, 1, 2))
case("gemm_tb_batch", "linalg_gemm", [u((2, 2, 3)), u((2, 4, 3)), u((2, 2, 4))],
     {"transpose_b": True, "alpha": -1.5, "beta": 2.0}, grad=(0, 1, 2))
case("gemm_axis0", "linalg_gemm", [u((3, 2, 4)), u((4, 2, 5)), u((3, 2, 5))], {"axis": 0},
     grad=(0, 1, 2))
case("gemm2", "linalg_gemm2", [u((2, 3)), u((3, 4))], grad=(0, 1))
case("gemm2_tt_batch", "linalg_gemm2", [u((2, 3, 2)), u((2, 4, 3))],
     {"transpose_a": True, "transpose_b": True, "alpha": 0.5}, grad=(0, 1))
case("gemm2_axis1_f64", "linalg_gemm2", [u((2, 3, 2, 4), "float64"), u((2, 4, 2, 3), "float64")],
     {"axis": 1}, grad=(0, 1))
case("gemm2_axis0_ta", "linalg_gemm2", [u((4, 3, 2)), u((4, 3, 5))],
     {"axis": 0, "transpose_a": True}, grad=(0, 1))
case("gemm2_namespace", "linalg.gemm2", [u((1, 2)), u((2, 1))], grad=(0, 1))
# -- potrf / potri
case("potrf", "linalg_potrf", [spd((3, 3))])
case("potrf_batch_f64", "linalg_potrf", [spd((2, 4, 4), "float64")])
case("potrf_4d", "linalg_potrf", [spd((2, 1, 3, 3))])
case("potri", "linalg_potri", [low((3, 3))])
case("potri_junk_upper_f64", "linalg_potri", [low((2, 3, 3), "float64", junk=True)])
# -- trmm / trsm (A with junk in the ignored triangle)
for op in ("trmm", "trsm"):
    case(op, "linalg_" + op, [low((3, 3), junk=True), u((3, 2))], grad=(0, 1))
    case(op + "_t_alpha", "linalg_" + op, [low((3, 3), junk=True), u((3, 4))],
         {"transpose": True, "alpha": 2.0}, grad=(0, 1))
    case(op + "_right", "linalg_" + op, [low((3, 3), junk=True), u((2, 3))],
         {"rightside": True, "alpha": -0.5}, grad=(0, 1))
    case(op + "_right_t_upper_f64", "linalg_" + op,
         [np.swapaxes(low((3, 3), "float64", junk=True), -1, -2).copy(), u((2, 3), "float64")],
         {"rightside": True, "transpose": True, "lower": False}, grad=(0, 1))
    case(op + "_upper_batch", "linalg_" + op,
         [np.swapaxes(low((2, 3, 3), junk=True), -1, -2).copy(), u((2, 3, 2))],
         {"lower": False}, grad=(0, 1))
# -- syrk
case("syrk", "linalg_syrk", [u((3, 2))])
case("syrk_t_alpha_batch", "linalg_syrk", [u((2, 3, 4))], {"transpose": True, "alpha": 2.0})
case("syrk_f64", "linalg_syrk", [u((2, 5), "float64")], {"alpha": -0.5})
# -- sumlogdiag, diagonals, triangles
case("sumlogdiag", "linalg_sumlogdiag", [spd((3, 3))])
case("sumlogdiag_batch_f64", "linalg_sumlogdiag", [spd((2, 4, 4), "float64")])
case("extractdiag", "linalg_extractdiag", [u((4, 4))])
case("extractdiag_off1", "linalg_extractdiag", [u((2, 4, 4))], {"offset": 1})
case("extractdiag_off_m2_f64", "linalg_extractdiag", [u((3, 3), "float64")], {"offset": -2})
case("makediag", "linalg_makediag", [u((3,))])
case("makediag_off_m1_batch", "linalg_makediag", [u((2, 3))], {"offset": -1})
case("makediag_off2", "linalg_makediag", [u((2,), "float64")], {"offset": 2})
for k, at in enumerate([{}, {"lower": False}, {"offset": 1}, {"offset": -1},
                        {"offset": 2, "lower": False}, {"offset": -2, "lower": False}]):
    m = 4 - abs(at.get("offset", 0))
    case("extracttrian_%d" % k, "linalg_extracttrian", [u((4, 4))], at)
    case("maketrian_%d" % k, "linalg_maketrian", [u((m * (m + 1) // 2,))], at)
case("extracttrian_batch_f64", "linalg_extracttrian", [u((2, 3, 3), "float64")],
     {"lower": False})
case("maketrian_batch", "linalg_maketrian", [u((2, 3))], {"offset": 1})
# -- inverse, det, slogdet (non-symmetric, some with negative determinant)
case("inverse", "linalg_inverse", [gen((3, 3))])
case("inverse_batch_f64", "linalg_inverse", [gen((2, 4, 4), "float64")])
case("inverse_spd", "linalg_inverse", [spd((3, 3))])
case("det", "linalg_det", [gen((3, 3))])
case("det_neg_batch", "linalg_det", [gen((2, 3, 3), flip=True)])
case("det_spd_f64", "linalg_det", [spd((4, 4), "float64")])
case("det_1x1", "linalg_det", [gen((1, 1))])
case("slogdet", "linalg_slogdet", [gen((3, 3))])
case("slogdet_neg_batch_f64", "linalg_slogdet", [gen((2, 3, 3), "float64", flip=True)])
case("slogdet_4d", "linalg_slogdet", [spd((2, 1, 3, 3))])


def main():
    REC.write()


if __name__ == "__main__":
    main()
