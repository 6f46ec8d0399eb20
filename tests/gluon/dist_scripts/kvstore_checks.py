"""Run under mpiexec (2 ranks) by tests/gluon/test_kvstore_dist.py: many kvstore checks in
one launch.  Each rank writes {check: "ok" | error text} to OUTDIR/rank<r>.json; the
pytest side turns every check into its own test.  References are NumPy formulas: each
rank can rebuild every other rank's inputs from the seeds below."""
import hashlib
import json
import os
import sys
import traceback

import numpy as np

import plait as mx
from plait import gluon
from plait.core.base import MXNetError, PlaitError

OUT = sys.argv[1]
kv = mx.kv.create("dist_sync")
R, N = kv.rank, kv.num_workers
results = {}


def check(fn):
    try:
        fn()
        results[fn.__name__] = "ok"
    except Exception:  # recorded, reported by pytest
        results[fn.__name__] = traceback.format_exc()
    return fn


def rank_data(r, shape, dtype, salt):
    rng = np.random.RandomState(1000 * salt + r)
    if np.dtype(dtype).kind == "f":
        return rng.uniform(-2, 2, shape).astype(dtype)
    return rng.randint(-1000, 1000, shape).astype(dtype)


KEY = [100]  # fresh int keys per check


def fresh():
    KEY[0] += 1
    return KEY[0]


@check
def test_properties():
    assert kv.type == "dist_sync" and N == 2 and R in (0, 1), (kv.type, N, R)
    assert kv.is_capable("optimizer")


# uneven sizes: tiny ones fused into buckets, one above the bucket size travelling alone
SIZES = [(1,), (7,), (3, 5), (1001,), (1 << 21) + 3]


@check
def test_push_pull_dtypes_uneven():
    for salt, dtype in enumerate(["float16", "float32", "float64", "int32", "int64"]):
        keys = [fresh() for _ in SIZES]
        kv.init(keys, [mx.nd.zeros(s, dtype=dtype) for s in SIZES])
        vals = [mx.nd.array(rank_data(R, s, dtype, salt), dtype=dtype) for s in SIZES]
        kv.push(keys, vals)
        outs = [mx.nd.zeros(s, dtype=dtype) for s in SIZES]
        kv.pull(keys, out=outs)
        for s, o in zip(SIZES, outs):
            parts = [rank_data(r, s, dtype, salt) for r in range(N)]
            want = (parts[0].astype(np.float64) + parts[1]).astype(dtype)
            got = o.asnumpy()
            assert got.dtype == np.dtype(dtype), (got.dtype, dtype)
            if dtype == "float16":
                np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)
            else:
                np.testing.assert_array_equal(got, want)
        # the pushed values themselves are untouched
        np.testing.assert_array_equal(vals[1].asnumpy(), rank_data(R, SIZES[1], dtype, salt))


@check
def test_pushpull_in_place_and_multi_device():
    k = fresh()
    shape = (4, 3)
    kv.init(k, mx.nd.zeros(shape))
    devs = [mx.nd.array(rank_data(R, shape, "float32", 50 + d), ctx=mx.cpu(d))
            for d in range(2)]
    kv.pushpull(k, devs)  # out=None: the sum comes back into the values
    want = sum(rank_data(r, shape, "float32", 50 + d).astype(np.float64)
               for r in range(N) for d in range(2)).astype(np.float32)
    for d in devs:
        np.testing.assert_allclose(d.asnumpy(), want, rtol=1e-6)
    other = mx.nd.array(rank_data(R, shape, "float32", 52), ctx=mx.cpu(1))  # store: cpu(0)
    kv.pushpull(k, other)
    want = sum(rank_data(r, shape, "float32", 52).astype(np.float64) for r in range(N))
    np.testing.assert_allclose(other.asnumpy(), want.astype(np.float32), rtol=1e-6)


@check
def test_push_waits_for_a_pending_producer():
    # the product (24 MB) runs on an engine worker, so the small sums are not ready when
    # pushed: the collective must wait for them (comm thread), not read stale memory
    k = fresh()
    kv.init(k, mx.nd.zeros((3,)))
    big = mx.nd.ones((6 << 20,)) * (R + 1)
    small = mx.nd.stack(mx.nd.sum(big), mx.nd.max(big), mx.nd.min(big)).reshape((3,))
    kv.pushpull(k, small)
    n = float(6 << 20)
    np.testing.assert_allclose(small.asnumpy(), [3 * n, 3, 3], rtol=1e-6)
    stored = mx.nd.zeros((3,))
    kv.pull(k, out=stored)  # the in-place pushpull also updated the store
    np.testing.assert_allclose(stored.asnumpy(), [3 * n, 3, 3], rtol=1e-6)


@check
def test_init_broadcasts_rank0():
    k = fresh()
    kv.init(k, mx.nd.array(rank_data(R, (5, 2), "float32", 7)))
    out = mx.nd.zeros((5, 2))
    kv.pull(k, out=out)
    np.testing.assert_array_equal(out.asnumpy(), rank_data(0, (5, 2), "float32", 7))
    k2 = fresh()
    outs = [mx.nd.zeros((3,)), mx.nd.zeros((3,), ctx=mx.cpu(1))]
    kv.broadcast(k2, mx.nd.array(rank_data(R, (3,), "float32", 8)), out=outs)
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), rank_data(0, (3,), "float32", 8))


@check
def test_set_optimizer_same_update_everywhere():
    store = mx.kv.create("dist_sync")
    store.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
    w0 = rank_data(0, (6,), "float32", 9)
    store.init(0, mx.nd.array(rank_data(R, (6,), "float32", 9)))
    w, mom = w0.astype(np.float64), np.zeros(6)
    out = mx.nd.zeros((6,))
    for step in range(3):
        store.push(0, mx.nd.array(rank_data(R, (6,), "float32", 20 + step)))
        store.pull(0, out=out)
        g = sum(rank_data(r, (6,), "float32", 20 + step).astype(np.float64) for r in range(N))
        mom = 0.9 * mom - 0.1 * g
        w = w + mom
        np.testing.assert_allclose(out.asnumpy(), w, rtol=1e-5, atol=1e-6)
    fname = os.path.join(OUT, "states.rank%d" % R)
    store.save_optimizer_states(fname, dump_optimizer=True)
    store.load_optimizer_states(fname)
    store.push(0, mx.nd.ones((6,)))
    store.pull(0, out=out)
    mom = 0.9 * mom - 0.1 * N
    np.testing.assert_allclose(out.asnumpy(), w + mom, rtol=1e-5, atol=1e-6)


def twobit_reference(threshold, grads_per_rank):
    """MXNet's 2bit definition, step by step, with one residual per rank."""
    res = [np.zeros_like(g[0]) for g in grads_per_rank]
    sums = []
    for step in range(len(grads_per_rank[0])):
        total = np.zeros_like(res[0])
        for r in range(N):
            res[r] += grads_per_rank[r][step]
            q = np.where(res[r] >= threshold, threshold,
                         np.where(res[r] <= -threshold, -threshold, 0)).astype(np.float32)
            res[r] -= q
            total += q
        sums.append(total)
    return sums


@check
def test_gradient_compression_2bit():
    store = mx.kv.create("dist_sync")
    store.set_gradient_compression({"type": "2bit", "threshold": 0.5})
    shapes = [(37,), (4, 5)]
    keys = [0, 1]
    store.init(keys, [mx.nd.zeros(s) for s in shapes])
    grads = {k: [[rank_data(r, s, "float32", 60 + 10 * k + t) * 0.4 for t in range(4)]
                 for r in range(N)] for k, s in zip(keys, shapes)}
    refs = {k: twobit_reference(np.float32(0.5), grads[k]) for k in keys}
    for t in range(4):
        store.push(keys, [mx.nd.array(grads[k][R][t]) for k in keys])
        outs = [mx.nd.zeros(s) for s in shapes]
        store.pull(keys, out=outs)
        for k, o in zip(keys, outs):
            np.testing.assert_allclose(o.asnumpy(), refs[k][t], rtol=0, atol=1e-6)
    try:
        store.set_gradient_compression({"type": "3bit"})
        raise AssertionError("bad compression type accepted")
    except PlaitError as e:
        assert "3bit" in str(e), e


@check
def test_gradient_compression_fp16():
    store = mx.kv.create("dist_sync")
    store.set_gradient_compression({"type": "fp16"})
    store.init(0, mx.nd.zeros((50,)))
    store.push(0, mx.nd.array(rank_data(R, (50,), "float32", 77)))
    out = mx.nd.zeros((50,))
    store.pull(0, out=out)
    want = sum(rank_data(r, (50,), "float32", 77).astype(np.float16).astype(np.float32)
               for r in range(N))
    np.testing.assert_array_equal(out.asnumpy(), want)


@check
def test_mismatched_shapes_raise_on_every_rank():
    try:
        kv.init(fresh(), mx.nd.zeros((3 + R,)))
        raise AssertionError("mismatched init accepted")
    except PlaitError as e:
        assert "ranks disagree" in str(e) and "(3,)" in str(e) and "(4,)" in str(e), e
    kv._barrier()


@check
def test_async_kind_refused():
    try:
        mx.kv.create("dist_async")
        raise AssertionError("dist_async accepted")
    except MXNetError as e:
        assert "not supported" in str(e) and "dist_sync" in str(e), e


# -- Trainer parity: 2 ranks x batch b == 1 process x batch 2b --------------------------------
def make_net(seed, ctx):
    mx.random.seed(seed)
    net = gluon.nn.Sequential()
    net.add(gluon.nn.Dense(16, activation="relu", in_units=8), gluon.nn.Dense(4, in_units=16))
    net.initialize(mx.init.Xavier(), ctx=ctx)
    return net


def train(net, trainer, xs, ys, ctx, steps, batch):
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for t in range(steps):
        xd = gluon.utils.split_and_load(mx.nd.array(xs[t]), ctx)
        yd = gluon.utils.split_and_load(mx.nd.array(ys[t]), ctx)
        with mx.autograd.record():
            losses = [loss_fn(net(x), y) for x, y in zip(xd, yd)]
        mx.autograd.backward(losses)
        trainer.step(batch)


def parity(optimizer, opt_params, ctx, **trainer_kw):
    b, steps = 6, 20
    rng = np.random.RandomState(5)
    X = rng.randn(steps, N * b, 8).astype(np.float32)
    Y = rng.randint(0, 4, (steps, N * b)).astype(np.float32)
    ref = make_net(0, [mx.cpu(0)])
    tr_ref = gluon.Trainer(ref.collect_params(), optimizer, dict(opt_params), kvstore=None)
    train(ref, tr_ref, X, Y, [mx.cpu(0)], steps, N * b)
    net = make_net(R, ctx)  # a different seed on each rank: init must broadcast rank 0's
    tr = gluon.Trainer(net.collect_params(), optimizer, dict(opt_params), kvstore="dist_sync",
                       **trainer_kw)
    train(net, tr, X[:, R * b:(R + 1) * b], Y[:, R * b:(R + 1) * b], ctx, steps, b)
    for (name, p), q in zip(net.collect_params().items(), ref.collect_params().values()):
        for c in ctx:
            np.testing.assert_allclose(p.data(c).asnumpy(), q.data().asnumpy(), rtol=2e-5,
                                       atol=2e-6, err_msg=name)
    # every rank holds bitwise the same weights
    flat = np.concatenate([p.data(ctx[0]).asnumpy().ravel()
                           for p in net.collect_params().values()])
    digest = hashlib.sha256(flat.tobytes()).hexdigest()
    results.setdefault("weights", {})["%s/%d" % (optimizer, len(ctx))] = digest


@check
def test_parity_sgd_update_on_kvstore():
    parity("sgd", {"learning_rate": 0.1, "momentum": 0.9}, [mx.cpu(0)])


@check
def test_parity_adam_update_locally():
    parity("adam", {"learning_rate": 0.01}, [mx.cpu(0)], update_on_kvstore=False)


@check
def test_parity_two_contexts_per_rank():
    parity("sgd", {"learning_rate": 0.1}, [mx.cpu(0), mx.cpu(1)])


kv._barrier()
tmp = os.path.join(OUT, ".rank%d.json.tmp" % R)
with open(tmp, "w") as f:
    json.dump(results, f)
os.replace(tmp, os.path.join(OUT, "rank%d.json" % R))
