"""Embedding(sparse_grad=True) with Trainer: SGD and Adam with lazy_update update only the
looked-up rows, as MXNet's row_sparse gradients do; other optimizers and lazy_update=False
update every row.  Weights after three steps are compared with real MXNet 1.9.1's
(tests/fixtures/gluon/lazy_update.json, made by tools/make_lazy_update_fixtures.py)."""
import json
import os

import numpy as np
import pytest

import plait as mx

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "gluon",
                       "lazy_update.json")
with open(FIXTURE) as _f:
    FIX = json.load(_f)


def _train(name, params, sparse_grad, hybridize=False, dtype="float32", contrib=False):
    if contrib:  # gluon.contrib.nn.SparseEmbedding: always a row_sparse gradient
        emb = mx.gluon.contrib.nn.SparseEmbedding(6, 2, dtype=dtype)
    else:
        emb = mx.gluon.nn.Embedding(6, 2, sparse_grad=sparse_grad, dtype=dtype)
    emb.initialize()
    emb.weight.set_data(mx.nd.array(FIX["init"], dtype=dtype))
    if hybridize:
        emb.hybridize()
    trainer = mx.gluon.Trainer(emb.collect_params(), name, dict(params))
    for idx in FIX["lookups"]:
        with mx.autograd.record():
            out = emb(mx.nd.array(idx)).astype("float32")
            loss = (out * mx.nd.array(FIX["head"])).sum()
        loss.backward()
        trainer.step(1)
    return emb.weight.data().astype("float32").asnumpy()


def _case_id(c):
    return "%s-%s-%s" % (c["optimizer"], "sparse" if c["sparse_grad"] else "dense",
                         "-".join("%s=%s" % kv for kv in sorted(c["params"].items())))


@pytest.mark.parametrize("case", FIX["cases"], ids=_case_id)
def test_weights_match_mxnet(case):
    got = _train(case["optimizer"], case["params"], case["sparse_grad"])
    np.testing.assert_allclose(got, case["weight"], rtol=1e-5, atol=1e-6)


def test_lazy_rows_leave_other_rows_alone_and_dense_ones_do_not():
    init = np.array(FIX["init"], np.float32)
    looked_up = sorted({i for idx in FIX["lookups"] for i in idx})
    untouched = [i for i in range(6) if i not in looked_up]
    params = {"learning_rate": 0.1, "wd": 0.1, "momentum": 0.9}
    lazy = _train("sgd", params, True)
    dense = _train("sgd", params, False)
    np.testing.assert_array_equal(lazy[untouched], init[untouched])
    assert np.all(np.abs(dense[untouched] - init[untouched]) > 1e-3)  # decayed
    # hybridized lookups and contrib.nn.SparseEmbedding give the same updates
    np.testing.assert_array_equal(_train("sgd", params, True, hybridize=True), lazy)
    np.testing.assert_array_equal(_train("sgd", params, True, contrib=True), lazy)


def test_float16_weights_with_master_copies():
    params = {"learning_rate": 0.1, "wd": 0.1, "momentum": 0.9, "multi_precision": True}
    want = _train("sgd", {k: v for k, v in params.items() if k != "multi_precision"}, True)
    got = _train("sgd", params, True, dtype="float16")
    np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-3)
    init16 = np.array(FIX["init"], np.float16).astype(np.float32)
    np.testing.assert_array_equal(got[[2, 5]], init16[[2, 5]])


def test_grad_stype_and_unsupported_sparse_storage():
    emb = mx.gluon.nn.Embedding(4, 3, sparse_grad=True)
    assert emb.weight._grad_stype == "row_sparse"
    assert mx.gluon.nn.Embedding(4, 3).weight._grad_stype == "default"
    with pytest.raises(NotImplementedError, match=r"Parameter 'w'.*grad_stype='csr'"):
        mx.gluon.Parameter("w", shape=(2, 2), grad_stype="csr")
    with pytest.raises(NotImplementedError, match=r"stype='row_sparse'"):
        mx.gluon.Parameter("w", shape=(2, 2), stype="row_sparse")
