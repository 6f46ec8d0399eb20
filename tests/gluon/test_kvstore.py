"""mx.kv: the single-process KVStore (init/push/pull/pushpull/broadcast, updaters, key
checks) and the clear error for distributed kinds."""
import numpy as np
import pytest

import plait as mx
from plait.core.base import MXNetError


def test_create_and_properties():
    for kind in ("local", "device"):
        kv = mx.kv.create(kind)
        assert kv.type == kind and kv.rank == 0 and kv.num_workers == 1
        assert kv.is_capable("optimizer")
        kv._barrier()
    assert mx.kvstore.create().type == "local"
    with pytest.raises(MXNetError, match="'dist_async' is not supported.*parameter servers"):
        mx.kv.create("dist_async")  # dist_sync itself: tests/gluon/test_kvstore_dist.py
    with pytest.raises(MXNetError, match="unknown kvstore type 'bogus'"):
        mx.kv.create("bogus")


def test_push_sums_and_pull_copies():
    kv = mx.kv.create("local")
    kv.init(3, mx.nd.ones((2, 3)))
    kv.push(3, [mx.nd.ones((2, 3)) * 2, mx.nd.ones((2, 3)) * 5])
    outs = [mx.nd.zeros((2, 3)), mx.nd.zeros((2, 3), ctx=mx.cpu(1))]
    kv.pull(3, out=outs)
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), np.full((2, 3), 7.0))
    # list of keys
    kv.init([4, 5], [mx.nd.zeros((2,)), mx.nd.zeros((1,))])
    kv.push([4, 5], [mx.nd.ones((2,)), mx.nd.ones((1,)) * 3])
    a, b = mx.nd.zeros((2,)), mx.nd.zeros((1,))
    kv.pull([4, 5], out=[a, b])
    assert a.asnumpy().tolist() == [1, 1] and b.asscalar() == 3


def test_pushpull_and_broadcast_and_str_keys():
    kv = mx.kv.create("device")
    outs = [mx.nd.zeros((2,)), mx.nd.zeros((2,))]
    kv.broadcast("w", mx.nd.array([1, 2]), out=outs)
    assert [o.asnumpy().tolist() for o in outs] == [[1, 2], [1, 2]]
    vals = [mx.nd.array([1, 1]), mx.nd.array([2, 3])]
    kv.pushpull("w", vals)
    assert [v.asnumpy().tolist() for v in vals] == [[3, 4], [3, 4]]
    with pytest.raises(MXNetError, match="inconsistent types of keys"):
        kv.init(1, mx.nd.ones((1,)))


def test_updater_and_optimizer():
    kv = mx.kv.create("local")
    kv.init(0, mx.nd.ones((2,)))
    seen = []

    def updater(key, grad, weight):
        seen.append(key)
        weight[:] = weight - grad
    kv._set_updater(updater)
    kv.push(0, [mx.nd.ones((2,)), mx.nd.ones((2,))])
    out = mx.nd.zeros((2,))
    kv.pull(0, out=out)
    assert seen == [0] and out.asnumpy().tolist() == [-1, -1]
    kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.5))
    kv.push(0, mx.nd.ones((2,)))
    kv.pull(0, out=out)
    assert out.asnumpy().tolist() == [-1.5, -1.5]


def test_errors():
    kv = mx.kv.create("local")
    with pytest.raises(MXNetError, match="key 9 has not been initialized"):
        kv.push(9, mx.nd.ones((1,)))
    kv.init(9, mx.nd.ones((2,)))
    with pytest.raises(MXNetError, match="duplicate init of key 9"):
        kv.init(9, mx.nd.ones((2,)))
    with pytest.raises(MXNetError, match=r"value shape \(3,\) does not match"):
        kv.push(9, mx.nd.ones((3,)))
    with pytest.raises(MXNetError, match="gradient compression is not supported"):
        kv.set_gradient_compression({"type": "2bit"})


def test_optimizer_states_file(tmp_path):
    kv = mx.kv.create("local")
    kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
    kv.init(0, mx.nd.ones((2,)))
    kv.push(0, mx.nd.ones((2,)))
    fname = str(tmp_path / "kv.states")
    kv.save_optimizer_states(fname, dump_optimizer=True)
    kv2 = mx.kv.create("local")
    kv2.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
    kv2.load_optimizer_states(fname)
    np.testing.assert_allclose(kv2._updater.states[0].asnumpy(), [-0.1, -0.1], rtol=1e-6)
    assert kv2._updater.optimizer.num_update == 1
