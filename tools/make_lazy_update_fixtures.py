"""Make tests/fixtures/gluon/lazy_update.json: weights of an Embedding(sparse_grad=True)
after three Trainer steps in real MXNet 1.9.1, for optimizers with and without lazy row
updates of the row_sparse gradient.

Run with the MXNet anchor:  /tmp/plait-anchors/mxnet/bin/python tools/make_lazy_update_fixtures.py

Layout (JSON): {"init": rows of the initial weight, "lookups": [index list per step],
"head": the (2, 2) multiplier of the looked-up rows before the sum,
"cases": [{"optimizer", "params", "sparse_grad", "weight": rows after the steps}]}.
The test (tests/gluon/test_optimizer_rows.py) repeats the same steps with plait.
"""
import json
import os

import numpy as np
import mxnet as mx

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "gluon",
                   "lazy_update.json")
INIT = (np.arange(12).reshape(6, 2) / 10.).tolist()
LOOKUPS = [[0, 1], [1, 3], [4, 4]]
HEAD = [[1., 2.], [3., 4.]]
CASES = [
    ("sgd", {"learning_rate": 0.1, "wd": 0.1}),
    ("sgd", {"learning_rate": 0.1, "wd": 0.1, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.1, "wd": 0.1, "momentum": 0.9, "lazy_update": False}),
    ("sgd", {"learning_rate": 0.1, "wd": 0.1, "momentum": 0.9, "clip_gradient": 2.5,
             "rescale_grad": 0.5}),
    ("adam", {"learning_rate": 0.1, "wd": 0.1}),
    ("adam", {"learning_rate": 0.1, "lazy_update": False}),
    ("rmsprop", {"learning_rate": 0.1, "wd": 0.1}),
    ("nag", {"learning_rate": 0.1, "wd": 0.1, "momentum": 0.9}),
]


def run(name, params, sparse_grad):
    emb = mx.gluon.nn.Embedding(6, 2, sparse_grad=sparse_grad)
    emb.initialize()
    emb.weight.set_data(mx.nd.array(INIT))
    trainer = mx.gluon.Trainer(emb.collect_params(), name, dict(params))
    for idx in LOOKUPS:
        with mx.autograd.record():
            loss = (emb(mx.nd.array(idx)) * mx.nd.array(HEAD)).sum()
        loss.backward()
        trainer.step(1)
    return emb.weight.data().asnumpy().astype(float).tolist()


def main():
    cases = []
    for name, params in CASES:
        for sparse_grad in (True, False):
            cases.append({"optimizer": name, "params": params, "sparse_grad": sparse_grad,
                          "weight": run(name, params, sparse_grad)})
    with open(OUT, "w") as f:
        json.dump({"init": INIT, "lookups": LOOKUPS, "head": HEAD, "cases": cases}, f,
                  indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
