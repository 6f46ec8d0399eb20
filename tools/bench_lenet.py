"""LeNet training-step time (the shared bench's lenet_train: 20c5-pool-50c5-pool-500-10,
batch 64, 1x28x28, SGD momentum), imperative and hybridized, with optional INTERLEAVED A/B
against another copy of the convolution kernels (the machine is shared: only interleaved
medians of the two are comparable).

    /work/venv/bin/python tools/bench_lenet.py [--steps 30]
    cp core/ops/nn_conv_impl.py /tmp/old_conv.py   # before editing the kernels, then:
    /work/venv/bin/python tools/bench_lenet.py --ab /tmp/old_conv.py
"""
import argparse
import importlib.util
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import plait as mx  # noqa: E402
from plait.core.ops import nn_conv_impl  # noqa: E402

KERNELS = ("conv_forward", "conv_data_grad", "conv_data_grad_into", "conv_weight_grad")


def build(hybrid, batch=64):
    nn = mx.gluon.nn
    net = nn.HybridSequential()
    net.add(nn.Conv2D(20, 5, activation="relu", in_channels=1), nn.MaxPool2D(2, 2),
            nn.Conv2D(50, 5, activation="relu", in_channels=20), nn.MaxPool2D(2, 2),
            nn.Dense(500, activation="relu", in_units=50 * 4 * 4), nn.Dense(10, in_units=500))
    net.initialize(mx.init.Xavier())
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    if hybrid:
        net.hybridize(static_alloc=True, static_shape=True)
        loss_fn.hybridize(static_alloc=True, static_shape=True)
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd",
                               {"learning_rate": 0.01, "momentum": 0.9})
    r = np.random.default_rng(0)
    x = mx.nd.array(r.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = mx.nd.array(r.integers(0, 10, batch).astype(np.float32))

    def step():
        with mx.autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(batch)
        return float(loss.mean().asscalar())
    return step


def _load_kernels(path):
    spec = importlib.util.spec_from_file_location("plait.core.ops._conv_impl_ab", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return {k: getattr(mod, k) for k in KERNELS}


def _use(kernels):
    for k, f in kernels.items():
        setattr(nn_conv_impl, k, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--ab", help="another nn_conv_impl.py to compare with, interleaved")
    a = ap.parse_args()
    current = {k: getattr(nn_conv_impl, k) for k in KERNELS}
    variants = [("current", current)]
    if a.ab:
        variants.insert(0, ("ab:" + os.path.basename(a.ab), _load_kernels(a.ab)))
    for hybrid in (False, True):
        steps = {}
        for name, kern in variants:  # one net per variant (same init seed path), warmed up
            _use(kern)
            steps[name] = build(hybrid)
            for _ in range(3):
                steps[name]()
        times = {name: [] for name, _ in variants}
        for _ in range(a.steps):
            for name, kern in variants:
                _use(kern)
                t0 = time.perf_counter()
                steps[name]()
                times[name].append(time.perf_counter() - t0)
        _use(current)
        meds = {n: statistics.median(t) for n, t in times.items()}
        line = "  ".join("%s %.2f ms/step" % (n, m * 1e3) for n, m in meds.items())
        if a.ab:
            line += "  speedup %.2fx" % (meds[variants[0][0]] / meds["current"])
        print("%-11s %s" % ("hybrid" if hybrid else "imperative", line), flush=True)


if __name__ == "__main__":
    main()
