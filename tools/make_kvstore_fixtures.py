"""Fixtures for the distributed kvstore's gradient compression, made with real MXNet 1.9.1.

    /tmp/plait-anchors/mxnet/bin/python tools/make_kvstore_fixtures.py

MXNet applies '2bit' compression between the devices of a 'device' kvstore (each device
quantizes its own gradient with its own residual; the merged value is the sum of the
dequantized ones), the same rule plait's dist kvstore applies between ranks.  Writes
tests/fixtures/kvstore/twobit_device.npz: grads (threshold case, step, device, n), the
values MXNet pulled after each push (threshold case, step, n) and the thresholds."""
import os

import mxnet as mx
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "kvstore", "twobit_device.npz")
THRESHOLDS = (0.5, 0.25)
STEPS, DEVICES, N = 5, 2, 37


def main():
    rng = np.random.RandomState(0)
    grads = rng.uniform(-0.8, 0.8, (len(THRESHOLDS), STEPS, DEVICES, N)).astype(np.float32)
    pulled = np.zeros((len(THRESHOLDS), STEPS, N), np.float32)
    for t, threshold in enumerate(THRESHOLDS):
        kv = mx.kv.create("device")
        kv.set_gradient_compression({"type": "2bit", "threshold": threshold})
        kv.init(0, mx.nd.zeros((N,)))
        for s in range(STEPS):
            kv.push(0, [mx.nd.array(grads[t, s, d], ctx=mx.cpu(d)) for d in range(DEVICES)])
            out = mx.nd.zeros((N,))
            kv.pull(0, out=out)
            pulled[t, s] = out.asnumpy()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    np.savez(OUT, grads=grads, pulled=pulled, thresholds=np.array(THRESHOLDS, np.float32))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
