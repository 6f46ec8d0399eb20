"""Generate tests/fixtures/ops/nn_act_loss.npz with real MXNet 1.9.1: forward outputs and
input gradients (for a random head gradient) of the activation, softmax, output/loss,
embedding and sequence ops.  Run with the MXNet anchor:

    /tmp/plait-anchors/mxnet/bin/python tools/make_act_loss_fixtures.py

The .npz holds only numeric and unicode arrays (no pickle): for case NAME the keys
NAME/in<j> (inputs), NAME/hg (head gradient), NAME/out, NAME/grad<j> (gradient of each
differentiable input j), and one key `meta`: a JSON string
{NAME: {"op": ..., "attrs": {...}, "n_in": ..., "grad": [j, ...]}}.
"""
import json
import os

import numpy as np
import mxnet as mx

R = np.random.default_rng(20261123)
F64 = np.float64


def u(shape, lo=-2.0, hi=2.0):
    return R.uniform(lo, hi, size=shape).astype(F64)


def lab(shape, k):
    return R.integers(0, k, size=shape).astype(F64)


CASES = []


def case(name, op, inputs, attrs=None, grad=(0,), in_dtypes=None):
    CASES.append((name, op, inputs, attrs or {}, tuple(grad), in_dtypes))


x34 = np.array([[-1.5, 0.0, 0.7, 2.0], [0.3, -0.2, 0.0, 1.1], [3.0, -3.0, 0.5, -0.5]])
# -- activations
for t in ("relu", "sigmoid", "tanh", "softrelu", "softsign"):
    case("Activation_" + t, "Activation", [x34], {"act_type": t})
for t, kw in [("leaky", {"slope": 0.1}), ("elu", {"slope": 0.5}), ("selu", {}), ("gelu", {}),
              ("leaky_default", {})]:
    case("LeakyReLU_" + t, "LeakyReLU", [x34], dict(kw, act_type=t.split("_")[0]))
case("LeakyReLU_prelu", "LeakyReLU", [u((2, 3, 2)), np.array([0.1, 0.2, 0.3])],
     {"act_type": "prelu"}, grad=(0, 1))
case("LeakyReLU_prelu1", "LeakyReLU", [u((4, 3)), np.array([0.25])], {"act_type": "prelu"},
     grad=(0, 1))
# -- softmax family
case("softmax_last", "softmax", [u((3, 4))])
case("softmax_axis1_t2", "softmax", [u((2, 3, 4))], {"axis": 1, "temperature": 2.0})
case("softmax_axis0_t05", "softmax", [u((3, 2))], {"axis": 0, "temperature": 0.5})
case("softmax_length", "softmax", [u((3, 4)), np.array([1, 4, 2])], {"use_length": True},
     in_dtypes=[None, "int32"])
case("softmax_length_axis1", "softmax", [u((2, 4, 3)), np.array([[1, 4, 2], [3, 2, 4]])],
     {"use_length": True, "axis": 1}, in_dtypes=[None, "int32"])
case("log_softmax_last", "log_softmax", [u((3, 4))])
case("log_softmax_axis1_t3", "log_softmax", [u((2, 3, 4))], {"axis": 1, "temperature": 3.0})
case("softmin_t2", "softmin", [u((3, 4))], {"temperature": 2.0})
# (MXNet's SoftmaxActivation runs in float32 only; its instance-mode gradient on n-d
# input is not the derivative of its forward, so the instance case is 2-d)
case("SoftmaxActivation_instance", "SoftmaxActivation", [u((3, 4))], in_dtypes=["float32"])
case("SoftmaxActivation_channel", "SoftmaxActivation", [u((2, 3, 2))], {"mode": "channel"},
     in_dtypes=["float32"])
# -- SoftmaxOutput
xs = u((4, 3))
ls = np.array([2.0, 0.0, 1.0, 2.0])
case("SoftmaxOutput_null", "SoftmaxOutput", [xs, ls])
case("SoftmaxOutput_batch", "SoftmaxOutput", [xs, ls], {"normalization": "batch"})
case("SoftmaxOutput_valid_ignore", "SoftmaxOutput", [xs, ls],
     {"normalization": "valid", "use_ignore": True, "ignore_label": 2.0})
case("SoftmaxOutput_valid_noignore", "SoftmaxOutput", [xs, ls], {"normalization": "valid"})
case("SoftmaxOutput_scale_ignore", "SoftmaxOutput", [xs, ls],
     {"grad_scale": 2.5, "use_ignore": True, "ignore_label": 0.0})
case("SoftmaxOutput_smooth", "SoftmaxOutput", [xs, ls], {"smooth_alpha": 0.2})
case("SoftmaxOutput_oob_label", "SoftmaxOutput", [xs, np.array([5.0, -1.0, 1.7, 2.2])],
     {"use_ignore": True, "normalization": "valid"})
case("SoftmaxOutput_all_ignored", "SoftmaxOutput", [xs, np.full(4, -1.0)],
     {"use_ignore": True, "normalization": "valid"})
xm = u((2, 3, 2))
lm = np.array([[0.0, 1.0], [2.0, 1.0]])
for norm in ("null", "batch", "valid"):
    case("SoftmaxOutput_multi_" + norm, "SoftmaxOutput", [xm, lm],
         {"multi_output": True, "normalization": norm})
case("SoftmaxOutput_multi_valid_ignore", "SoftmaxOutput", [xm, lm.reshape(2, 1, 2)],
     {"multi_output": True, "normalization": "valid", "use_ignore": True, "ignore_label": 1.0})
case("SoftmaxOutput_multi_4d", "SoftmaxOutput", [u((2, 3, 2, 2)), lab((2, 4), 3)],
     {"multi_output": True, "normalization": "batch", "grad_scale": 3.0})
case("SoftmaxOutput_preserve", "SoftmaxOutput", [u((2, 2, 3)), lab((2, 2), 3)],
     {"preserve_shape": True, "normalization": "batch"})
case("SoftmaxOutput_3d_flat", "SoftmaxOutput", [u((2, 2, 3)), lab((2, 2), 3)])
# -- regression outputs
for op in ("LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"):
    case(op + "_same", op, [u((3, 2)), u((3, 2), 0, 1)], {"grad_scale": 2.0})
    case(op + "_flat_label", op, [u((4, 1)), u((4,), 0, 1)])
    case(op + "_reshaped", op, [u((2, 3, 1)), u((2, 3), 0, 1)], {"grad_scale": 0.5})
# -- MakeLoss, smooth_l1, softmax_cross_entropy
xl = np.array([[1.0, 0.2], [0.5, 3.0], [0.0, -1.0]])
for kw in ({}, {"normalization": "batch"}, {"normalization": "valid", "valid_thresh": 0.5},
           {"grad_scale": 3.0}, {"normalization": "valid", "valid_thresh": 10.0}):
    case("MakeLoss_" + "_".join("%s%s" % kv for kv in kw.items()), "MakeLoss", [xl], kw)
xsl = np.array([-2.0, -0.5, 0.0, 0.25, 0.3, 1.0, 1.5])
case("smooth_l1_1", "smooth_l1", [xsl])
case("smooth_l1_2", "smooth_l1", [xsl], {"scalar": 2.0})
case("softmax_cross_entropy", "softmax_cross_entropy", [u((3, 4)), lab((3,), 4)])
# -- embedding and sequence ops
case("Embedding", "Embedding", [np.array([[0, 2.7], [3, 0]]), u((4, 3))],
     {"input_dim": 4, "output_dim": 3}, grad=(1,))
xq = u((4, 2, 3))
lq = np.array([2.0, 3.0])
case("SequenceMask_len", "SequenceMask", [xq, lq], {"use_sequence_length": True, "value": -1.0})
case("SequenceMask_axis1", "SequenceMask", [u((2, 4, 3)), np.array([1.0, 4.0])],
     {"use_sequence_length": True, "axis": 1})
case("SequenceLast_len", "SequenceLast", [xq, lq], {"use_sequence_length": True})
# (no SequenceLast case without lengths: MXNet 1.9 crashes on it in float64 and, in
# float32, sends the gradient to position 0 instead of the last one it read)
case("SequenceLast_axis1", "SequenceLast", [u((2, 4, 3)), np.array([1.0, 4.0])],
     {"use_sequence_length": True, "axis": 1})
case("SequenceReverse_len", "SequenceReverse", [xq, np.array([2.0, 0.0])],
     {"use_sequence_length": True})
case("SequenceReverse_nolen", "SequenceReverse", [xq])
case("make_loss", "make_loss", [xl])  # (appended last: earlier cases keep their draws)


def run(op, inputs, attrs, grad, in_dtypes):
    nd = []
    for j, x in enumerate(inputs):
        dt = (in_dtypes or [None] * len(inputs))[j] or "float64"
        nd.append(mx.nd.array(x, dtype=dt))
    for j in grad:
        nd[j].attach_grad()
    with mx.autograd.record():
        y = getattr(mx.nd, op)(*nd, **attrs)
    hg = R.uniform(0.5, 1.5, size=y.shape)
    y.backward(mx.nd.array(hg, dtype=y.dtype))
    return y.asnumpy(), hg, [nd[j].grad.asnumpy() for j in grad], [a.asnumpy() for a in nd]


def main():
    arrays, meta = {}, {}
    for name, op, inputs, attrs, grad, in_dtypes in CASES:
        out, hg, grads, ins = run(op, inputs, attrs, grad, in_dtypes)
        for j, x in enumerate(ins):
            arrays["%s/in%d" % (name, j)] = x
        arrays[name + "/hg"] = hg
        arrays[name + "/out"] = out
        for j, g in zip(grad, grads):
            arrays["%s/grad%d" % (name, j)] = g
        meta[name] = {"op": op, "attrs": attrs, "n_in": len(inputs), "grad": list(grad)}
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "ops",
                        "nn_act_loss.npz")
    np.savez_compressed(path, **arrays)
    print("wrote %d cases to %s" % (len(meta), os.path.normpath(path)))


if __name__ == "__main__":
    main()
