"""Generate tests/fixtures/ops/misc_ops.npz with real MXNet 1.9.1: forward outputs and input
gradients (mx.autograd, for fixed random head gradients) of add_n / ElementWiseSum,
hard_sigmoid, depth_to_space, space_to_depth, moments and argmax_channel
(plait's core/ops/misc_ops.py).  Run with the MXNet anchor:

    /tmp/plait-anchors/mxnet/bin/python tools/make_misc_op_fixtures.py

The .npz layout (no pickle) is described in tools/mxnet_op_fixture.py.
"""
import numpy as np

from mxnet_op_fixture import Recorder

REC = Recorder("misc_ops.npz", 20260412)
R, u, case = REC.rng, REC.uniform, REC.case




# -- add_n / ElementWiseSum
case("add_n_3", "add_n", [u((3, 4)) for _ in range(3)], grad=(0, 1, 2))
case("add_n_1", "add_n", [u((2, 3))])
case("add_n_5_f64", "add_n", [u((2, 1, 3), "float64") for _ in range(5)], grad=(0, 2, 4))
case("add_n_int32", "add_n", [u((4,), "int32", -50, 50) for _ in range(3)], grad=())
case("ElementWiseSum_2", "ElementWiseSum", [u((2, 3, 2)), u((2, 3, 2))], grad=(0, 1))
# -- hard_sigmoid: exact corners -2.5 and 2.5 (outputs 0 and 1: gradient 0 there)
hx = np.array([[-5.0, -2.5, -1.0, 0.0], [0.7, 2.5, 4.0, -2.4]], np.float32)
case("hard_sigmoid_default", "hard_sigmoid", [hx])
case("hard_sigmoid_random", "hard_sigmoid", [u((2, 3, 4), lo=-4, hi=4)])
case("hard_sigmoid_ab", "hard_sigmoid", [hx], {"alpha": 0.5, "beta": 0.25})
case("hard_sigmoid_neg_alpha_f64", "hard_sigmoid", [u((3, 5), "float64", -4, 4)],
     {"alpha": -0.3, "beta": 0.4})
# -- depth_to_space / space_to_depth
case("depth_to_space_b2", "depth_to_space", [u((2, 8, 2, 3))], {"block_size": 2})
case("depth_to_space_b3", "depth_to_space", [u((1, 18, 2, 1))], {"block_size": 3})
case("depth_to_space_b1", "depth_to_space", [u((1, 3, 2, 2))], {"block_size": 1})
case("depth_to_space_int32", "depth_to_space",
     [np.arange(2 * 12 * 2 * 2, dtype=np.int32).reshape(2, 12, 2, 2)], {"block_size": 2},
     grad=())
case("space_to_depth_b2", "space_to_depth", [u((2, 3, 4, 6))], {"block_size": 2})
case("space_to_depth_b3", "space_to_depth", [u((1, 2, 3, 6), "float64")], {"block_size": 3})
case("space_to_depth_int32", "space_to_depth",
     [np.arange(2 * 1 * 4 * 4, dtype=np.int32).reshape(2, 1, 4, 4)], {"block_size": 2},
     grad=())
# -- moments (MXNet rejects axes=None, so every case names its axes)
case("moments_ax1", "moments", [u((3, 4))], {"axes": (1,)})
case("moments_ax02_keep", "moments", [u((2, 3, 4))], {"axes": (0, 2), "keepdims": True})
case("moments_neg", "moments", [u((2, 3, 4))], {"axes": (-1,)})
case("moments_all_f64", "moments", [u((2, 3, 2), "float64")], {"axes": (0, 1, 2)})
case("moments_1d", "moments", [u((6,))], {"axes": (0,)})
case("moments_int32_ax1", "moments", [np.array([[-7, 3, 2], [5, -1, -4]], np.int32)],
     {"axes": (1,)}, grad=())
case("moments_int32_all", "moments", [u((3, 4), "int32", -20, 20)], {"axes": (0, 1)},
     grad=())
# -- argmax_channel (no gradient in MXNet)
case("argmax_channel_2d", "argmax_channel", [u((4, 5), lo=-9, hi=9)], grad=())
case("argmax_channel_3d", "argmax_channel", [u((2, 3, 4), lo=-9, hi=9)], grad=())
case("argmax_channel_4d", "argmax_channel", [u((2, 4, 2, 3), lo=-9, hi=9)], grad=())
case("argmax_channel_ties", "argmax_channel",
     [np.array([[1, 3, 3, 0], [2, 2, 0, 0], [0, 0, 0, 0]], np.float32)], grad=())
case("argmax_channel_int32", "argmax_channel", [u((3, 4, 2), "int32", -5, 5)], grad=())
case("argmax_channel_f64", "argmax_channel", [u((3, 6), "float64")], grad=())


def main():
    REC.write()


if __name__ == "__main__":
    main()
