"""MXNet's module path gluon.contrib.estimator.batch_processor (the class lives in
estimator.py): importable both ways, and an Estimator runs with a BatchProcessor subclass."""
import numpy as np

import plait as mx
from plait import gluon
from plait.gluon.contrib.estimator import Estimator
from plait.gluon.contrib.estimator.batch_processor import BatchProcessor


def test_module_path_and_subclass_hook():
    assert mx.gluon.contrib.estimator.batch_processor.BatchProcessor is BatchProcessor
    assert mx.gluon.contrib.estimator.BatchProcessor is BatchProcessor
    assert mx.gluon.contrib.estimator.batch_processor.__all__ == ["BatchProcessor"]

    calls = []

    class Counting(BatchProcessor):
        def fit_batch(self, estimator, train_batch, batch_axis=0):
            calls.append(len(train_batch[0]))
            return super().fit_batch(estimator, train_batch, batch_axis)

    net = gluon.nn.Dense(1)
    net.initialize()
    est = Estimator(net, gluon.loss.L2Loss(), trainer=gluon.Trainer(net.collect_params(), "sgd"),
                    batch_processor=Counting())
    x = np.random.RandomState(0).rand(6, 2).astype(np.float32)
    data = gluon.data.DataLoader(gluon.data.ArrayDataset(x, x.sum(1)), batch_size=4)
    est.fit(data, epochs=1)
    assert calls == [4, 2]
