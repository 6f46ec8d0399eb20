"""gluon.contrib.nn.SparseEmbedding against MXNet 1.9.1 (misc.npz): forward, the gradient
(dense here; MXNet's row_sparse made dense), parameter name, repr; a NumPy reference."""
import json
import os
import re

import numpy as np

import plait as mx
from plait import autograd
from plait.gluon.contrib.nn import SparseEmbedding

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "contrib_rnn",
                   "misc.npz")


def test_matches_mxnet_and_numpy():
    z = np.load(FIX, allow_pickle=False)
    meta = json.loads(str(z["meta"]))["emb"]
    emb = SparseEmbedding(7, 3, prefix=meta["params"][0][:-len("weight")])
    assert sorted(emb.collect_params().keys()) == meta["params"]
    assert repr(emb) == meta["repr"]
    emb.initialize()
    emb.weight.set_data(mx.nd.array(z["emb/weight"]))
    idx = z["emb/idx"]
    with autograd.record():
        y = emb(mx.nd.array(idx))
        loss = (y * mx.nd.array(z["emb/head"])).sum()
    loss.backward()
    np.testing.assert_allclose(y.asnumpy(), z["emb/out"], rtol=1e-6)
    np.testing.assert_allclose(emb.weight.grad().asnumpy(), z["emb/grad"], rtol=1e-6, atol=1e-7)
    ref_grad = np.zeros((7, 3), np.float32)
    np.add.at(ref_grad, idx.astype(int).ravel(), z["emb/head"].reshape(-1, 3))
    np.testing.assert_allclose(emb.weight.grad().asnumpy(), ref_grad, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(y.asnumpy(), z["emb/weight"][idx.astype(int)])


def test_default_name_dtype_and_trainer_step():
    emb = SparseEmbedding(5, 2, dtype="float64")
    assert re.fullmatch(r"sparseembedding\d+_weight", list(emb.collect_params())[0])
    emb.initialize(mx.init.One())
    trainer = mx.gluon.Trainer(emb.collect_params(), "sgd", {"learning_rate": 0.5})
    with autograd.record():
        loss = emb(mx.nd.array([0, 0, 3])).sum()
    loss.backward()
    trainer.step(1)
    w = emb.weight.data().asnumpy()
    assert w.dtype == np.float64
    np.testing.assert_allclose(w[:, 0], [0.0, 1.0, 1.0, 0.5, 1.0])
