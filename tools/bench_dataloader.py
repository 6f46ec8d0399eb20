"""DataLoader throughput on Fashion-MNIST with ToTensor + Normalize, batch 128.

    /work/venv/bin/python tools/bench_dataloader.py [--root DIR] [--batches N] [--repeats R]

Prints samples/s (median of R slices of N batches, after one warm-up slice) for in-process
loading and for 2 worker processes (and 2 threads), both with the whole-batch path that
transform_first(ToTensor+Normalize) allows and, for comparison, sample by sample (the
transform wrapped in a Python function, as any custom transform would be).  Reads the Debian files
(/usr/share/datasets/fashion-mnist) unless --root says otherwise; falls back to the small
test fixture (tests/fixtures/data/fashion_small) when neither is present.
"""
import argparse
import os
import statistics
import time

import plait as mx
from plait.gluon.data import DataLoader
from plait.gluon.data.vision import FashionMNIST, transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))


def slice_rate(it, n, batch_size):
    t = time.perf_counter()
    seen = 0
    for _ in range(n):
        x, y = next(it)
        seen += x.shape[0]
    return seen / (time.perf_counter() - t)


def measure(dataset, batches, repeats, **kw):
    dl = DataLoader(dataset, batch_size=128, shuffle=True, last_batch="rollover", **kw)

    def forever():
        while True:
            yield from dl
    it = forever()
    slice_rate(it, batches, 128)  # warm-up: worker start, caches
    rates = [slice_rate(it, batches, 128) for _ in range(repeats)]
    dl.close()
    return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=None)
    ap.add_argument("--batches", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    try:
        ds = FashionMNIST(root=a.root, train=True)
    except mx.base.PlaitError:
        ds = FashionMNIST(root=os.path.join(HERE, "..", "tests", "fixtures", "data",
                                            "fashion_small"), train=True)
    tf = T.Compose([T.ToTensor(), T.Normalize(0.2860, 0.3530)])
    print("Fashion-MNIST train (%d images) from %s; ToTensor+Normalize, batch 128"
          % (len(ds), os.path.dirname(ds.files[0])))
    for path, data in (("whole-batch", ds.transform_first(tf)),
                       ("per-sample", ds.transform_first(lambda x: tf(x)))):
        for name, kw in (("num_workers=0", {}), ("num_workers=2", dict(num_workers=2)),
                         ("num_workers=2 thread_pool", dict(num_workers=2, thread_pool=True))):
            rate = measure(data, a.batches, a.repeats, **kw)
            print("%-12s %-26s %9.0f samples/s" % (path, name, rate))


if __name__ == "__main__":
    main()
