"""Time the fused RNN op alone (forward + backward under autograd) on plait or MXNet.

    /work/venv/bin/python tools/bench_rnn.py                      # plait
    /tmp/plait-anchors/mxnet/bin/python tools/bench_rnn.py --mxnet
Defaults are the lstm_train benchmark's recurrent part: 2-layer LSTM, seq 35, batch 32,
input 200, hidden 256.  Prints the median and best ms per step over --reps steps.
"""
import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import numpy as np  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mxnet", action="store_true", help="run on real MXNet instead of plait")
    ap.add_argument("--mode", default="lstm")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--bidirectional", action="store_true")
    ap.add_argument("--T", type=int, default=35)
    ap.add_argument("--N", type=int, default=32)
    ap.add_argument("--I", type=int, default=200)
    ap.add_argument("--H", type=int, default=256)
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    if args.mxnet:
        import mxnet as mx
    else:
        import plait as mx
    G = {"lstm": 4, "gru": 3}.get(args.mode, 1)
    D = 2 if args.bidirectional else 1
    size = sum(D * (G * args.H * ((args.I if l == 0 else D * args.H) + args.H) + 2 * G * args.H)
               for l in range(args.layers))
    rs = np.random.RandomState(0)
    x = mx.nd.array(rs.uniform(-1, 1, (args.T, args.N, args.I)))
    w = mx.nd.array(rs.uniform(-0.1, 0.1, (size,)))
    states = [mx.nd.zeros((args.layers * D, args.N, args.H))
              for _ in range(2 if args.mode == "lstm" else 1)]
    for v in [x, w] + states:
        v.attach_grad()
    head = mx.nd.ones((args.T, args.N, D * args.H))

    def step():
        with mx.autograd.record():
            y = mx.nd.RNN(x, w, *states, mode=args.mode, state_size=args.H,
                          num_layers=args.layers, bidirectional=args.bidirectional)
        y.backward(head)
        w.grad.wait_to_read()
        x.grad.wait_to_read()

    for _ in range(2):
        step()
    times = []
    for _ in range(args.reps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    print("%s %s layers=%d bi=%s T=%d N=%d I=%d H=%d: median %.1f ms, best %.1f ms per "
          "forward+backward" % ("mxnet" if args.mxnet else "plait", args.mode, args.layers,
                                args.bidirectional, args.T, args.N, args.I, args.H,
                                1e3 * float(np.median(times)), 1e3 * min(times)))


if __name__ == "__main__":
    main()
