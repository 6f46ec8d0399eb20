"""DataLoader: batch order and batching against real MXNet 1.9.1 (tests/fixtures/data/
dataloader.npz), workers == threads == in-process, errors, timeouts and no leaked processes."""
import gc
import mmap
import os
import time

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError
from plait.gluon.data import (ArrayDataset, BatchSampler, DataLoader, Dataset, RandomSampler,
                              SequentialSampler, SimpleDataset)

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "data")


def children():
    """Live child processes of this process (read from /proc, independent of plait)."""
    me, out = os.getpid(), []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            out.append(int(d))
    return sorted(out)


def _as_lists(loader):
    out = []
    for b in loader:
        b = b if isinstance(b, list) else [b]
        out.append([x.asnumpy() for x in b])
    return out


@pytest.mark.parametrize("last", ["keep", "discard", "rollover"])
def test_shuffled_batches_equal_mxnet(last):
    z = np.load(os.path.join(FIX, "dataloader.npz"), allow_pickle=False)
    ds = ArrayDataset(np.arange(23, dtype=np.float32), np.arange(23) * 10)
    np.random.seed(9)
    dl = DataLoader(ds, batch_size=5, shuffle=True, last_batch=last)
    for epoch in range(3):
        got = _as_lists(dl)
        assert len(got) == int(z["%s_e%d_n" % (last, epoch)])
        for j, (x, y) in enumerate(got):
            ex, ey = z["%s_e%d_b%d_x" % (last, epoch, j)], z["%s_e%d_b%d_y" % (last, epoch, j)]
            np.testing.assert_array_equal(x, ex)
            np.testing.assert_array_equal(y, ey)
            assert x.dtype == ex.dtype and y.dtype == ey.dtype


def test_default_batchify_dtypes_equal_mxnet():
    z = np.load(os.path.join(FIX, "dataloader.npz"), allow_pickle=False)
    samples = [(mx.nd.array([1, 2], dtype="uint8"), 3, 2.5, np.int32(4), np.ones(2, np.float16))]
    b = mx.gluon.data.default_batchify_fn(samples * 3)
    assert [np.dtype(x.dtype).name for x in b] == list(z["batchify_dtypes"])
    np.testing.assert_array_equal(b[0].asnumpy(), [[1, 2]] * 3)
    np.testing.assert_array_equal(b[1].asnumpy(), [3, 3, 3])


def test_batch_sampler_modes():
    s = SequentialSampler(10)
    assert list(BatchSampler(s, 3, "keep")) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(BatchSampler(s, 3, "discard")) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    r = BatchSampler(s, 4, "rollover")
    assert list(r) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(r) == 3  # the two rolled-over indices count for the next pass
    assert list(r)[0] == [8, 9, 0, 1]
    assert len(BatchSampler(s, 3, "keep")) == 4 and len(BatchSampler(s, 3, "discard")) == 3
    with pytest.raises(PlaitError, match="last_batch"):
        BatchSampler(s, 3, "drop")
    from plait.gluon.data import FilterSampler, IntervalSampler
    assert list(IntervalSampler(7, 3)) == [0, 3, 6, 1, 4, 2, 5]
    assert list(IntervalSampler(7, 3, rollover=False)) == [0, 3, 6]
    assert len(IntervalSampler(7, 3, rollover=False)) == 3
    assert list(FilterSampler(lambda x: x > 2, [5, 1, 3, 0])) == [0, 2]
    np.random.seed(0)
    perm = list(RandomSampler(10))
    np.random.seed(0)
    expected = np.arange(10)
    np.random.shuffle(expected)
    assert perm == expected.tolist()


class Squares(Dataset):
    def __len__(self):
        return 37

    def __getitem__(self, i):
        return mx.nd.array(np.full((2, 3), i, np.float32)), np.int32(i * i)


@pytest.mark.parametrize("kw", [dict(num_workers=2), dict(num_workers=2, thread_pool=True),
                                dict(num_workers=3, prefetch=1)])
def test_workers_give_the_same_batches_as_in_process(kw):
    ref = _as_lists(DataLoader(Squares(), batch_size=5, last_batch="keep"))
    dl = DataLoader(Squares(), batch_size=5, last_batch="keep", **kw)
    for _ in range(2):
        got = _as_lists(dl)
        assert len(got) == len(ref) == 8
        for g, r in zip(got, ref):
            for a, b in zip(g, r):
                np.testing.assert_array_equal(a, b)
                assert a.dtype == b.dtype
    dl.close()


def test_workers_with_transforms_and_custom_batchify():
    ds = ArrayDataset(np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10))
    ds = ds.transform_first(lambda x: mx.nd.array(x) * 2)

    def batchify(samples):
        xs = mx.nd.stack(*[s[0] for s in samples])
        return {"n": len(samples)} and (xs, [s[1] for s in samples])

    dl = DataLoader(ds, batch_size=4, batchify_fn=batchify, num_workers=2)
    out = list(dl)
    assert [len(b[1]) for b in out] == [4, 4, 2]
    np.testing.assert_array_equal(out[1][0].asnumpy(), np.arange(8, 16).reshape(4, 2) * 2)
    assert isinstance(out[0][0], mx.nd.NDArray)
    dl.close()


class Failing(Dataset):
    def __len__(self):
        return 20

    def __getitem__(self, i):
        if i == 13:
            raise KeyError("bad sample %d" % i)
        return np.float32(i)


@pytest.mark.parametrize("kw", [dict(num_workers=0), dict(num_workers=2),
                                dict(num_workers=2, thread_pool=True)])
def test_error_in_a_sample_names_the_index_and_traceback(kw):
    dl = DataLoader(Failing(), batch_size=4, **kw)
    with pytest.raises(PlaitError) as e:
        list(dl)
    msg = str(e.value)
    assert "sample index 13" in msg and "KeyError" in msg and "bad sample 13" in msg
    assert "__getitem__" in msg  # the worker's traceback
    dl.close()


class Dying(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            os._exit(3)
        return np.float32(i)


def test_a_dead_worker_raises_instead_of_hanging():
    dl = DataLoader(Dying(), batch_size=2, num_workers=2, timeout=30)
    t = time.time()
    with pytest.raises(PlaitError, match="exited unexpectedly.*exit code 3"):
        list(dl)
    assert time.time() - t < 10
    with pytest.raises(PlaitError, match="shut down"):
        list(dl)
    dl.close()


class Slow(Dataset):
    def __init__(self, delay):
        self.delay = delay

    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(self.delay if i == 2 else 0)
        return np.float32(i)


@pytest.mark.parametrize("thread_pool", [False, True])
def test_timeout_raises_clearly(thread_pool):
    before = children()
    # a thread cannot be stopped: keep its sleep short; a worker process is killed
    dl = DataLoader(Slow(2 if thread_pool else 60), batch_size=1, num_workers=2, timeout=0.5,
                    thread_pool=thread_pool)
    t = time.time()
    with pytest.raises(PlaitError, match="timeout"):
        list(dl)
    assert time.time() - t < 5
    if not thread_pool:
        assert children() == before  # the stuck worker was stopped
        dl.close()


def test_early_breaks_leave_no_child_processes():
    before = children()
    ds = ArrayDataset(np.arange(4000, dtype=np.float32).reshape(1000, 4), np.arange(1000))
    dl = DataLoader(ds, batch_size=8, shuffle=True, num_workers=2)
    assert len(children()) == len(before) + 2
    t = time.time()
    for _ in range(1000):
        for x, y in dl:
            break
    elapsed = time.time() - t
    first = next(iter(dl))  # still consistent after all the abandoned iterations
    assert first[0].shape == (8, 4)
    np.testing.assert_array_equal(first[0].asnumpy()[:, 0] / 4, first[1].asnumpy())
    del dl, x, y, first
    gc.collect()
    assert children() == before
    assert elapsed < 20, elapsed  # typically 1-3 s; the machine may be shared


def test_argument_errors():
    ds = SimpleDataset(list(range(10)))
    with pytest.raises(PlaitError, match="batch_size"):
        DataLoader(ds)
    with pytest.raises(PlaitError, match="batch_sampler"):
        DataLoader(ds, batch_size=2, batch_sampler=BatchSampler(SequentialSampler(10), 2))
    with pytest.raises(PlaitError, match="shuffle"):
        DataLoader(ds, batch_size=2, shuffle=True, sampler=SequentialSampler(10))
    with pytest.raises(PlaitError, match="ragged"):
        list(DataLoader(SimpleDataset([np.zeros(2), np.zeros(3)]), batch_size=2))
    dl = DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(10), 4, "discard"))
    assert len(dl) == 2 and [b.asnumpy().tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_pin_memory_puts_batches_on_cpu_pinned():
    dl = DataLoader(SimpleDataset(list(range(4))), batch_size=2, pin_memory=True)
    assert all(b.context == mx.cpu_pinned(0) for b in dl)


class Noise(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return np.float32(np.random.uniform()), mx.nd.random.uniform(shape=(1,))


def test_workers_draw_different_random_numbers():
    dl = DataLoader(Noise(), batch_size=4, num_workers=2)
    a, b = list(dl)
    assert not np.array_equal(a[0].asnumpy(), b[0].asnumpy())  # NumPy's generator
    assert not np.array_equal(a[1].asnumpy(), b[1].asnumpy())  # mx.random's generator
    dl.close()


def _shm_files():
    return sorted(f for f in os.listdir("/dev/shm") if f.startswith("plait-dataloader-%d-"
                                                                    % os.getpid()))


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm")
def test_large_batches_through_shared_memory_leave_no_files():
    ds = ArrayDataset(np.random.RandomState(0).rand(64, 3, 32, 32).astype(np.float32),
                      np.arange(64))
    ref = _as_lists(DataLoader(ds, batch_size=16))
    dl = DataLoader(ds, batch_size=16, num_workers=2)
    got = list(dl)
    for (x, y), (rx, ry) in zip(got, ref):
        np.testing.assert_array_equal(x.asnumpy(), rx)
        np.testing.assert_array_equal(y.asnumpy(), ry)
    x = got[0][0]
    base = x._data
    while isinstance(base, (np.ndarray, memoryview)):
        base = base.obj if isinstance(base, memoryview) else base.base
    assert isinstance(base, mmap.mmap)  # the data came through /dev/shm, not the pipe
    x[:] = 0  # batches are ordinary writable arrays
    assert float(x.sum().asscalar()) == 0 and float(got[1][0].sum().asscalar()) > 0
    for _ in range(20):  # abandoned prefetched batches
        for _ in dl:
            break
    dl.close()
    assert _shm_files() == []


def test_two_live_iterations_over_one_loader():
    ds = ArrayDataset(np.arange(30, dtype=np.float32))
    dl = DataLoader(ds, batch_size=4, num_workers=2, prefetch=3)
    pairs = list(zip(dl, dl))
    assert len(pairs) == 8
    for a, b in pairs:
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    outer = [[x.asnumpy()[0] for x in [o] + [i for i in dl][:1]] for o in dl][:3]
    assert outer == [[0, 0], [4, 0], [8, 0]]
    dl.close()


def _fast_cases():
    from plait.gluon.data.vision import FashionMNIST, transforms as T
    small = os.path.join(FIX, "fashion_small")
    fm = FashionMNIST(root=small, train=False)
    tf = T.Compose([T.ToTensor(), T.Normalize((0.3,), (0.25,)), T.Cast("float16")])
    arr = ArrayDataset(mx.nd.arange(60).reshape((20, 3)), np.arange(20) * 1.5,
                       mx.nd.arange(20, dtype="int32"))
    return {"fashion": (fm, True), "fashion_tf": (fm.transform_first(tf), True),
            "fashion_sharded": (fm.transform_first(T.ToTensor()).shard(3, 1), True),
            "array": (arr, True), "array_take": (arr.take(9), True),
            "single": (ArrayDataset(np.arange(20)), True),
            "random_tf": (fm.transform_first(T.RandomFlipLeftRight()), False),
            "fn_tf": (fm.transform_first(lambda x: x), False),
            "list": (SimpleDataset(list(range(20))), False)}


@pytest.mark.parametrize("name", sorted(_fast_cases()))
def test_whole_batch_indexing_equals_the_per_sample_path(name):
    ds, fast = _fast_cases()[name]
    idx = [5, 0, 7, 7, 2]
    got = ds._fast_batch(idx)
    assert (got is not None) == fast
    np.random.seed(0)
    ref = mx.gluon.data.default_batchify_fn([ds[i] for i in idx])
    np.random.seed(0)
    out = list(DataLoader(ds, batch_sampler=[idx]))[0]  # whichever path the loader takes
    for res in ([got] if fast else []) + [out]:
        res, exp = (res, ref) if isinstance(ref, list) else ([res], [ref])
        assert len(res) == len(exp)
        for a, b in zip(res, exp):
            assert a.shape == b.shape and a.dtype == b.dtype
            np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())


_ORPHAN_SCRIPT = """
import sys, time
import numpy as np
import plait as mx
ds = mx.gluon.data.ArrayDataset(np.zeros((100, 3, 64, 64), np.float32))
dl = mx.gluon.data.DataLoader(ds, batch_size=10, num_workers=2)
it = iter(dl)
next(it)
print(" ".join(str(p.pid) for p in dl._pool._procs), flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm")
def test_workers_exit_and_clean_up_when_the_parent_is_killed():
    import signal
    import subprocess
    import sys
    p = subprocess.Popen([sys.executable, "-c", _ORPHAN_SCRIPT], stdout=subprocess.PIPE,
                         text=True)
    try:
        pids = [int(x) for x in p.stdout.readline().split()]
        assert len(pids) == 2
        prefix = "plait-dataloader-%d-" % p.pid
        for _ in range(50):  # wait for prefetched batches to be in /dev/shm
            if any(f.startswith(prefix) for f in os.listdir("/dev/shm")):
                break
            time.sleep(0.1)
        assert any(f.startswith(prefix) for f in os.listdir("/dev/shm"))
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    deadline = time.time() + 10
    while time.time() < deadline:
        alive = [q for q in pids if os.path.exists("/proc/%d" % q)
                 and open("/proc/%d/stat" % q).read().rsplit(")", 1)[1].split()[0] != "Z"]
        if not alive:
            break
        time.sleep(0.1)
    assert not alive, "orphaned workers %s" % alive
    assert not [f for f in os.listdir("/dev/shm") if f.startswith(prefix)]
