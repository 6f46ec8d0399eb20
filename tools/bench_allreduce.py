"""Benchmark of kvstore='dist_sync' on local MPI ranks.

    python tools/bench_allreduce.py [--ranks 2] [--steps 60]

1. Allreduce of 1, 16 and 64 MB float32 arrays on 2 ranks: raw mpi4py Allreduce
   (in place) against kvstore.push (the sum lands in the store) and kvstore.pushpull (push,
   then the sum is copied back into the array, what Trainer does without an optimizer),
   timed alternately in the same run (best of 3 rounds of medians); GB/s of the array size.
2. mlp_train (the shared bench's workload: 784-512-512-10 MLP, batch 128 per rank, SGD with
   momentum, hybridized) on 1 and on 2 ranks: samples/s over all ranks.
Run once, on an idle machine if possible: every rank wants a core."""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

SIZES_MB = (1, 16, 64)


def _median_time(fn, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def worker_allreduce():
    import plait as mx
    from mpi4py import MPI
    kv = mx.kv.create("dist_sync")
    comm = MPI.COMM_WORLD
    out = {}
    for key, mb in enumerate(SIZES_MB):
        n = mb * (1 << 20) // 4
        raw = np.random.RandomState(kv.rank).rand(n).astype(np.float32)
        raw_out = np.empty_like(raw)
        arr = mx.nd.array(raw)
        kv.init(key, mx.nd.zeros((n,)))
        reps = max(5, 64 // mb)

        def run_raw():
            comm.Allreduce(MPI.IN_PLACE, raw, op=MPI.SUM)

        def run_raw_oop():  # what push does: the sum goes to another buffer (the store)
            comm.Allreduce(raw, raw_out, op=MPI.SUM)

        def run_push():
            kv.push(key, arr)
            kv._store[key].wait_to_read()

        def run_pushpull():
            kv.pushpull(key, arr)
            arr.wait_to_read()
        variants = (("raw", run_raw), ("raw_oop", run_raw_oop), ("push", run_push),
                    ("pushpull", run_pushpull))
        for _, f in variants:  # warm-up
            f()
        res = {name: [] for name, _ in variants}
        for _ in range(3):  # interleaved rounds: load changes hit every variant alike
            for name, f in variants:
                comm.Barrier()
                res[name].append(_median_time(f, reps))
        out[mb] = {k: float(np.min(v)) for k, v in res.items()}  # best round: least noise
    if kv.rank == 0:
        print("RESULT " + json.dumps({"allreduce": out}))


def worker_mlp(steps):
    import plait as mx
    from plait import gluon
    kv = mx.kv.create("dist_sync")
    batch = 128
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(512, activation="relu", in_units=784),
            gluon.nn.Dense(512, activation="relu", in_units=512),
            gluon.nn.Dense(10, in_units=512))
    net.initialize(mx.init.Xavier())
    net.hybridize(static_alloc=True, static_shape=True)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01,
                                                          "momentum": 0.9}, kvstore=kv)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    rng = np.random.RandomState(kv.rank)
    x = mx.nd.array(rng.randn(batch, 784).astype(np.float32))
    y = mx.nd.array(rng.randint(0, 10, batch).astype(np.float32))

    def step():
        with mx.autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(batch)
        return loss
    for _ in range(10):
        step()
    mx.nd.waitall()
    kv._barrier()
    t = time.perf_counter()
    for _ in range(steps):
        loss = step()
    loss.mean().asscalar()
    mx.nd.waitall()
    kv._barrier()
    took = time.perf_counter() - t
    if kv.rank == 0:
        print("RESULT " + json.dumps({"mlp": {"ranks": kv.num_workers,
                                              "samples_per_s": steps * batch * kv.num_workers
                                              / took}}))


def _launch(nranks, args, extra_env=None):
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.dirname(here))
    from plait import launch
    cmd = launch.mpi_command(nranks, [os.path.abspath(__file__)] + args)
    env = launch.mpi_env()
    env.update(extra_env or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600,
                          check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError("%s failed (exit %d):\n%s" % (" ".join(cmd), proc.returncode,
                                                    proc.stderr[-3000:]))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--worker", choices=("allreduce", "mlp"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker == "allreduce":
        return worker_allreduce()
    if a.worker == "mlp":
        return worker_mlp(a.steps)
    res = _launch(a.ranks, ["--worker", "allreduce"])["allreduce"]
    print("allreduce on %d ranks (s, best of 3 rounds of medians; GB/s of the array size)"
          % a.ranks)
    print("raw: mpi4py Allreduce in place; raw_oop: out of place (what push compares to); "
          "pushpull: in place + the copy into the store")
    cols = ("raw", "raw_oop", "push", "pushpull")
    print("%4s %20s %20s %20s %20s %9s %9s" % (("MB",) + cols + ("push/oop", "pp/raw")))
    for mb, r in res.items():
        gb = int(mb) / 1024.0
        print("%4s %20s %20s %20s %20s %8.2fx %8.2fx" % (
            (mb,) + tuple("%.4f (%.2f GB/s)" % (r[k], gb / r[k]) for k in cols)
            + (r["push"] / r["raw_oop"], r["pushpull"] / r["raw"])))
    one = _launch(1, ["--worker", "mlp", "--steps", str(a.steps)])["mlp"]["samples_per_s"]
    many = _launch(a.ranks, ["--worker", "mlp", "--steps", str(a.steps)])["mlp"]
    print("mlp_train (batch 128 per rank): 1 rank %.0f samples/s, %d ranks %.0f samples/s "
          "(%.2fx)" % (one, a.ranks, many["samples_per_s"], many["samples_per_s"] / one))
    # every collective through the comm thread, 1 MB buckets: the overlapping path
    threaded = _launch(a.ranks, ["--worker", "mlp", "--steps", str(a.steps)],
                       {"PLAIT_KVSTORE_INLINE_BYTES": "0",
                        "PLAIT_KVSTORE_BUCKET_BYTES": str(1 << 20)})["mlp"]["samples_per_s"]
    print("mlp_train, %d ranks, all communication on the comm thread (1 MB buckets): "
          "%.0f samples/s" % (a.ranks, threaded))
    return None


if __name__ == "__main__":
    main()
