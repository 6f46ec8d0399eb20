"""Generate tests/fixtures/ops/nn_norm.npz with the real MXNet 1.9.1 (the anchor):
forward outputs, gradients (for a fixed head gradient) and updated moving statistics of the
normalization ops.  Run: /tmp/plait-anchors/mxnet/bin/python tools/make_norm_fixtures.py
Keys are '<case>/<name>'; attributes of each case are stored as '<case>/attrs' (a JSON string
in a 0-d unicode array, so the file loads without pickle)."""
import functools
import json
import os

import mxnet as mx
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "ops", "nn_norm.npz")
r = np.random.default_rng(42)
store = {}


def rnd(*shape, lo=-2.0, hi=2.0):
    return r.uniform(lo, hi, shape).astype(np.float64)


def run(case, op, inputs, attrs, diff, train=False, keep=(), dtype="float64"):
    """Record op(inputs) in train/predict mode, backward a random head gradient."""
    inputs = [x.astype(dtype) for x in inputs]
    nds = [mx.nd.array(x, dtype=dtype) for x in inputs]
    for i in diff:
        nds[i].attach_grad()
    with mx.autograd.record(train_mode=train):
        y = functools.reduce(getattr, op.split("."), mx.nd)(*nds, **attrs)
    ys = y if isinstance(y, list) else [y]
    og = rnd(*ys[0].shape).astype(dtype)
    if diff:
        ys[0].backward(mx.nd.array(og, dtype=dtype), train_mode=train)
    store[case + "/attrs"] = np.array(json.dumps(dict(attrs, __op__=op, __train__=train,
                                                       __diff__=list(diff))))
    for i, x in enumerate(inputs):
        store["%s/in%d" % (case, i)] = x
    store[case + "/ograd"] = og
    for i, o in enumerate(ys):
        store["%s/out%d" % (case, i)] = o.asnumpy()
    for i in diff:
        store["%s/grad%d" % (case, i)] = nds[i].grad.asnumpy()
    for i in keep:  # mutated aux states after forward + backward
        store["%s/aux%d" % (case, i)] = nds[i].asnumpy()


for train in (True, False):
    for fg in (True, False):
        for ax in (1, -1):
            shape = (2, 3, 4) if ax == 1 else (2, 4, 3)
            ins = [rnd(*shape), rnd(3, lo=0.5, hi=1.5), rnd(3), rnd(3, lo=-1, hi=1),
                   rnd(3, lo=0.5, hi=1.5)]
            run("bn_%s_fg%d_ax%d" % ("train" if train else "infer", fg, ax), "BatchNorm", ins,
                dict(fix_gamma=fg, axis=ax, output_mean_var=True, momentum=0.8),
                (0, 1, 2), train, keep=(3, 4))
run("bn_train_global", "BatchNorm", [rnd(3, 2, 2), rnd(2, lo=0.5, hi=1.5), rnd(2),
                                      rnd(2), rnd(2, lo=0.5, hi=1.5)],
    dict(fix_gamma=False, use_global_stats=True), (0, 1, 2), True, keep=(3, 4))
run("ln_last", "LayerNorm", [rnd(2, 3, 4), rnd(4, lo=0.5, hi=1.5), rnd(4)],
    dict(output_mean_var=True), (0, 1, 2))
run("ln_ax1", "LayerNorm", [rnd(2, 3, 4), rnd(3, lo=0.5, hi=1.5), rnd(3)],
    dict(axis=1, eps=1e-3), (0, 1, 2))
# MXNet's InstanceNorm takes float32 only
run("in", "InstanceNorm", [rnd(2, 3, 2, 2), rnd(3, lo=0.5, hi=1.5), rnd(3)], {}, (0, 1, 2),
    dtype="float32")
run("gn", "GroupNorm", [rnd(2, 6, 2, 2), rnd(3, lo=0.5, hi=1.5), rnd(3)],
    dict(num_groups=3, output_mean_var=True), (0, 1, 2))
for mode in ("instance", "channel", "spatial"):
    run("l2_" + mode, "L2Normalization", [rnd(2, 3, 4)], dict(mode=mode), (0,))
run("lrn", "LRN", [rnd(2, 5, 2, 2)], dict(nsize=3, alpha=0.1, beta=0.75, knorm=2.0), (0,),
    dtype="float32")  # LRN: float32 only in MXNet
run("lrn5", "LRN", [rnd(1, 6, 3, 2)], dict(nsize=5, alpha=0.5, beta=0.6, knorm=1.5), (0,),
    dtype="float32")
# BatchNorm + relu in one op (what gluon.nn.BatchNormReLU calls; MXNet runs it on oneDNN
# only: float32).  Predict mode: forward only -- MXNet's backward there reads a relu mask
# its predict-mode forward never wrote (the zeros of dx change from run to run).
for train in (True, False):
    run("bnrelu_%s" % ("train" if train else "infer"), "contrib.BatchNormWithReLU",
        [rnd(2, 3, 4, 2), rnd(3, lo=0.5, hi=1.5), rnd(3), rnd(3, lo=-1, hi=1),
         rnd(3, lo=0.5, hi=1.5)], dict(fix_gamma=False, momentum=0.8),
        (0, 1, 2) if train else (), train, keep=(3, 4), dtype="float32")

np.savez(OUT, **store)
print("wrote", OUT, len(store), "arrays")
