"""Data-parallel training on several processes with kvstore='dist_sync' (MPI).

    python -m plait.launch -n 2 examples/distributed_mnist.py          # 2 local ranks
    mpiexec -n 2 python examples/distributed_mnist.py                  # the same, plainly
    mpiexec -f hosts -n 8 python examples/distributed_mnist.py         # MPICH, 8 ranks on hosts
    srun -n 8 python examples/distributed_mnist.py                     # Slurm

Every rank runs this same script on its own shard of Fashion-MNIST (read from
/usr/share/datasets/fashion-mnist or --data-dir; synthetic data when absent).  The only
distributed lines are the kvstore given to the Trainer and the sharding; the Trainer
broadcasts rank 0's initial weights and sums the gradients of all ranks at each step,
so every rank holds the same model.  `step(batch_size)` takes the per-rank batch.
"""
import argparse
import gzip
import os
import time

import numpy as np

import plait as mx
from plait import gluon

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """An MNIST IDX file (optionally gzipped) as a uint8 array."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ndim = raw[3]
    dims = np.frombuffer(raw, ">u4", ndim, 4).astype(int)
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_data(data_dir, train, limit):
    kind = "train" if train else "t10k"
    img = os.path.join(data_dir, "%s-images-idx3-ubyte.gz" % kind)
    lab = os.path.join(data_dir, "%s-labels-idx1-ubyte.gz" % kind)
    if os.path.exists(img) and os.path.exists(lab):
        x = read_idx(img)[:limit].reshape(-1, 784).astype(np.float32) / 255.0
        y = read_idx(lab)[:limit].astype(np.float32)
        return x, y, "Fashion-MNIST"
    rng = np.random.RandomState(0 if train else 1)  # synthetic: 10 separable blobs
    y = rng.randint(0, 10, limit).astype(np.float32)
    centers = np.random.RandomState(2).randn(10, 784).astype(np.float32)
    x = centers[y.astype(int)] + rng.randn(limit, 784).astype(np.float32)
    return x, y, "synthetic data"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=DEFAULT_DIR)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64, help="per rank")
    p.add_argument("--limit", type=int, default=20000, help="training images used in total")
    p.add_argument("--lr", type=float, default=0.1)
    args = p.parse_args()

    kv = mx.kv.create("dist_sync")
    rank, size = kv.rank, kv.num_workers
    x, y, source = load_data(args.data_dir, True, args.limit)
    xs, ys = x[rank::size], y[rank::size]  # this rank's shard
    n_batches = len(xs) // args.batch_size  # the same on every rank (equal shards)
    n_batches = min(n_batches, len(x) // size // args.batch_size)

    mx.random.seed(rank)  # different on purpose: the Trainer broadcasts rank 0's weights
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(256, activation="relu", in_units=784),
            gluon.nn.Dense(10, in_units=256))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": args.lr, "momentum": 0.9}, kvstore=kv)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    if rank == 0:
        print("%d ranks, %s, %d batches of %d per rank per epoch"
              % (size, source, n_batches, args.batch_size))
    for epoch in range(args.epochs):
        start, total = time.time(), 0.0
        for b in range(n_batches):
            sl = slice(b * args.batch_size, (b + 1) * args.batch_size)
            data, label = mx.nd.array(xs[sl]), mx.nd.array(ys[sl])
            with mx.autograd.record():
                loss = loss_fn(net(data), label)
            loss.backward()
            trainer.step(args.batch_size)
            total += float(loss.mean().asscalar())
        speed = n_batches * args.batch_size * size / (time.time() - start)
        if rank == 0:
            print("epoch %d: loss %.4f, %.0f samples/s over all ranks"
                  % (epoch, total / max(n_batches, 1), speed))
    xt, yt, _ = load_data(args.data_dir, False, 2000)
    acc = (net(mx.nd.array(xt)).argmax(axis=1).asnumpy() == yt).mean()
    if rank == 0:
        print("test accuracy (rank 0's model, the same on every rank): %.3f" % acc)


if __name__ == "__main__":
    main()
