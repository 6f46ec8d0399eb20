"""Forward+backward time of Convolution 64->64 3x3 pad 1 on (32, 64, 56, 56), FullyConnected
784->512 on a batch of 128 and 2x2 max-Pooling on (32, 64, 56, 56), float32: plait against
the MXNet 1.9.1 and PyTorch anchors (median of 5 after one warm-up run).

    /work/venv/bin/python tools/bench_nn_ops.py            # all three, a table
    <python> tools/bench_nn_ops.py --impl plait|mxnet|torch  # one, JSON on stdout

--conv-shapes times plait's convolution kernels (forward, data and weight gradient) on
LeNet, CIFAR ResNet-18 (batch 32) and ResNet-50 (224, batch 8) layer shapes; with
--ab OLD.py (a saved copy of core/ops/nn_conv_impl.py) it interleaves the two versions
(A, B, A, B, ...: the only fair comparison on a shared machine) and prints their ratio:

    /work/venv/bin/python tools/bench_nn_ops.py --conv-shapes lenet,r18 [--reps 20] [--ab OLD.py]
"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ANCHORS = {"mxnet": "/tmp/plait-anchors/mxnet/bin/python",
           "torch": "/tmp/plait-anchors/torch/bin/python"}
REPEAT = 5


def _data():
    r = np.random.default_rng(0)
    f = np.float32
    return {
        "conv": [r.standard_normal((32, 64, 56, 56)).astype(f),
                 (r.standard_normal((64, 64, 3, 3)) * 0.05).astype(f),
                 r.standard_normal(64).astype(f)],
        "fc": [r.standard_normal((128, 784)).astype(f),
               (r.standard_normal((512, 784)) * 0.05).astype(f), r.standard_normal(512).astype(f)],
        "pool": [r.standard_normal((32, 64, 56, 56)).astype(f)],
    }


def _time(step):
    step()
    ts = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def _mx_like(mx):
    """plait and MXNet share the API."""
    out = {}
    for name, arrays in _data().items():
        nd = [mx.nd.array(a, dtype="float32") for a in arrays]
        for a in nd:
            a.attach_grad()

        def call(nd=nd, name=name):
            if name == "conv":
                return mx.nd.Convolution(*nd, kernel=(3, 3), pad=(1, 1), num_filter=64)
            if name == "fc":
                return mx.nd.FullyConnected(*nd, num_hidden=512)
            return mx.nd.Pooling(nd[0], kernel=(2, 2), stride=(2, 2), pool_type="max")

        def step(call=call):
            with mx.autograd.record():
                y = call()
            y.backward()
            mx.nd.waitall()

        def fwd(call=call):
            call()
            mx.nd.waitall()
        out[name] = {"fwd+bwd": _time(step), "fwd": _time(fwd)}
    return out


def _torch():
    import torch
    torch.set_grad_enabled(True)
    out = {}
    F = torch.nn.functional
    for name, arrays in _data().items():
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]

        def call(ts=ts, name=name):
            if name == "conv":
                return F.conv2d(ts[0], ts[1], ts[2], padding=1)
            if name == "fc":
                return F.linear(*ts)
            return F.max_pool2d(ts[0], 2, 2)

        def step(call=call):
            call().sum().backward()

        def fwd(call=call):
            with torch.no_grad():
                call()
        out[name] = {"fwd+bwd": _time(step), "fwd": _time(fwd)}
    out["threads"] = torch.get_num_threads()
    return out


def run(impl):
    if impl == "plait":
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))))
        import plait
        return _mx_like(plait)
    if impl == "mxnet":
        import mxnet
        return _mx_like(mxnet)
    return _torch()


CONV_SHAPES = {  # name: [(label, data shape, filters, kernel, stride, pad)]
    "lenet": [("lenet c1", (64, 1, 28, 28), 20, 5, 1, 0),
              ("lenet c2", (64, 20, 12, 12), 50, 5, 1, 0)],
    "r18": [("r18 stem", (32, 3, 32, 32), 64, 3, 1, 1),
            ("r18 64@32", (32, 64, 32, 32), 64, 3, 1, 1),
            ("r18 128s2", (32, 64, 32, 32), 128, 3, 2, 1),
            ("r18 128@16", (32, 128, 16, 16), 128, 3, 1, 1),
            ("r18 256@8", (32, 256, 8, 8), 256, 3, 1, 1),
            ("r18 512@4", (32, 512, 4, 4), 512, 3, 1, 1),
            ("r18 1x1s2", (32, 256, 8, 8), 512, 1, 2, 0)],
    "r50": [("r50 7x7s2", (8, 3, 224, 224), 64, 7, 2, 3),
            ("r50 3x3@56", (8, 64, 56, 56), 64, 3, 1, 1),
            ("r50 1x1@56", (8, 256, 56, 56), 64, 1, 1, 0),
            ("r50 1x1@14", (8, 1024, 14, 14), 256, 1, 1, 0),
            ("r50 3x3@14", (8, 256, 14, 14), 256, 3, 1, 1),
            ("r50 3x3@7", (8, 512, 7, 7), 512, 3, 1, 1),
            ("r50 1x1@7", (8, 512, 7, 7), 2048, 1, 1, 0)],
}


def _conv_call(mod, what, x, w, dy, k, s, p, out):
    K, S, D, P = (k, k), (s, s), (1, 1), (p, p)
    if what == "fwd":
        mod.conv_forward(np, x, w, None, K, S, D, P, 1, out)
    elif what == "dgrad":
        mod.conv_data_grad(np, dy, w, x.shape[2:], K, S, D, P, 1, x.dtype)
    else:
        mod.conv_weight_grad(np, dy, x, w.shape, K, S, D, P, 1)


def conv_shapes(groups, reps, ab=None):
    """Median ms of each kernel per shape (interleaved with `ab`'s when given)."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    import importlib.util
    from plait.core.ops import nn_conv_impl as cur
    mods = [("current", cur)]
    if ab:
        spec = importlib.util.spec_from_file_location("plait.core.ops._conv_impl_ab", ab)
        old = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(old)
        mods.insert(0, ("ab", old))
    r = np.random.default_rng(0)
    for label, ds, F, k, s, p in [c for g in groups for c in CONV_SHAPES[g]]:
        x = r.standard_normal(ds).astype(np.float32)
        w = (r.standard_normal((F, ds[1], k, k)) * 0.05).astype(np.float32)
        out = np.empty((ds[0], F) + cur.out_size(ds[2:], (k, k), (s, s), (1, 1), (p, p)),
                       np.float32)
        dy = r.standard_normal(out.shape).astype(np.float32)
        for what in ("fwd", "dgrad", "wgrad"):
            ts = {n: [] for n, _ in mods}
            for _, m in mods:
                _conv_call(m, what, x, w, dy, k, s, p, out)
            for _ in range(reps):
                for n, m in mods:
                    t0 = time.perf_counter()
                    _conv_call(m, what, x, w, dy, k, s, p, out)
                    ts[n].append(time.perf_counter() - t0)
            med = {n: statistics.median(t) * 1e3 for n, t in ts.items()}
            line = "  ".join("%s %9.2f ms" % kv for kv in med.items())
            if ab:
                line += "  speedup %.2fx" % (med["ab"] / med["current"])
            print("%-11s %-6s %s" % (label, what, line), flush=True)


def main():
    if "--conv-shapes" in sys.argv:
        arg = sys.argv[sys.argv.index("--conv-shapes") + 1]
        reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 20
        ab = sys.argv[sys.argv.index("--ab") + 1] if "--ab" in sys.argv else None
        conv_shapes(arg.split(","), reps, ab)
        return
    if "--impl" in sys.argv:
        print(json.dumps(run(sys.argv[sys.argv.index("--impl") + 1])))
        return
    res = {"plait": run("plait")}
    for impl, py in ANCHORS.items():
        p = subprocess.run([py, os.path.abspath(__file__), "--impl", impl], capture_output=True,
                           text=True)
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
        res[impl] = json.loads(lines[-1]) if lines else {"error": p.stderr[-500:]}
    print("%-6s %-8s %12s %12s %12s" % ("op", "", "plait ms", "mxnet ms", "torch ms"))
    for op in ("conv", "fc", "pool"):
        for what in ("fwd", "fwd+bwd"):
            row = [res[i].get(op, {}).get(what, float("nan")) * 1e3 for i in
                   ("plait", "mxnet", "torch")]
            print("%-6s %-8s %12.2f %12.2f %12.2f" % ((op, what) + tuple(row)))


if __name__ == "__main__":
    main()
