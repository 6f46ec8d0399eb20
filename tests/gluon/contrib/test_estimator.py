"""gluon.contrib.estimator: the Estimator loop equals a hand-written training loop; handlers
(stopping, early stopping, checkpoints with bit-identical resume, progress bar, TensorBoard)."""
import io
import logging
import os

import numpy as np
import pytest

import plait as mx
from plait import autograd, gluon
from plait.gluon.contrib.estimator import (CheckpointHandler, EarlyStoppingHandler, Estimator,
                                           LoggingHandler, ProgressBarHandler)


class Batches(object):
    """A re-iterable of (data, label) batches, shuffled with NumPy's global generator."""

    def __init__(self, x, y, batch_size, shuffle=True):
        self.x, self.y, self.bs, self.shuffle = x, y, batch_size, shuffle

    def __len__(self):
        return (len(self.x) + self.bs - 1) // self.bs

    def __iter__(self):
        order = np.random.permutation(len(self.x)) if self.shuffle else np.arange(len(self.x))
        for i in range(0, len(order), self.bs):
            idx = order[i:i + self.bs]
            yield mx.nd.array(self.x[idx]), mx.nd.array(self.y[idx])


def _data(n=96, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 10).astype("float32")
    w = rng.randn(10, 3).astype("float32")
    y = (x @ w).argmax(axis=1).astype("float32")
    return x, y


def _net(dropout=0.0):
    net = gluon.nn.HybridSequential(prefix="net_")
    with net.name_scope():
        net.add(gluon.nn.Dense(16, activation="relu", in_units=10))
        if dropout:
            net.add(gluon.nn.Dropout(dropout))
        net.add(gluon.nn.Dense(3, in_units=16))
    net.initialize(mx.init.Xavier())
    return net


def _weights(net):
    return {k: v.data().asnumpy().copy() for k, v in net.collect_params().items()}


def _estimator(net, lr=0.1, opt="sgd"):
    trainer = gluon.Trainer(net.collect_params(), opt, {"learning_rate": lr})
    est = Estimator(net, gluon.loss.SoftmaxCrossEntropyLoss(), trainer=trainer,
                    train_metrics=[mx.metric.Accuracy(), mx.metric.Loss("ce")])
    est.logger.handlers = []
    return est


def test_fit_equals_hand_written_loop():
    x, y = _data()
    mx.random.seed(1)
    net_a = _net()
    init = _weights(net_a)
    np.random.seed(3)
    _estimator(net_a).fit(Batches(x, y, 32), epochs=3)

    mx.random.seed(1)
    net_b = _net()
    for k, v in net_b.collect_params().items():
        v.set_data(mx.nd.array(init[k]))
    trainer = gluon.Trainer(net_b.collect_params(), "sgd", {"learning_rate": 0.1})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    np.random.seed(3)
    for _ in range(3):
        for data, label in Batches(x, y, 32):
            with autograd.record():
                loss = loss_fn(net_b(data), label)
            loss.backward()
            trainer.step(data.shape[0])
    wa, wb = _weights(net_a), _weights(net_b)
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k])
    assert not np.array_equal(wa["net_dense0_weight"], init["net_dense0_weight"])


def test_fit_by_batches_counts_steps_and_metrics():
    x, y = _data()
    net = _net()
    est = _estimator(net)
    calls = []
    orig = est.trainer.step
    est.trainer.step = lambda bs, **kw: (calls.append(bs), orig(bs, **kw))
    est.fit(Batches(x, y, 32), batches=5)            # 3 batches per epoch -> crosses an epoch
    assert calls == [32] * 5
    acc = est.train_metrics[0]
    assert acc.name == "training accuracy" and est.val_metrics[0].name == "validation accuracy"
    # the accuracy metric equals a NumPy recount of the last epoch's two batches is hard to
    # recover; check it is a valid fraction updated this epoch
    assert 0.0 <= acc.get()[1] <= 1.0 and acc.num_inst == 64


def test_validation_metrics_equal_numpy():
    x, y = _data()
    net = _net()
    est = _estimator(net)
    val = Batches(x[:40], y[:40], 16, shuffle=False)
    est.fit(Batches(x, y, 32), val_data=val, epochs=2)
    pred = net(mx.nd.array(x[:40])).asnumpy().argmax(axis=1)
    expected = float((pred == y[:40]).mean())
    assert est.val_metrics[0].get()[1] == pytest.approx(expected)
    logits = net(mx.nd.array(x[:40])).asnumpy().astype(np.float64)
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    nll = -logp[np.arange(40), y[:40].astype(int)].mean()
    assert est.val_metrics[1].get()[1] == pytest.approx(nll, rel=1e-5)


def test_resume_from_checkpoint_is_bit_identical(tmp_path):
    x, y = _data(seed=5)

    def run(epochs, model_dir, resume):
        mx.random.seed(7)
        np.random.seed(11)
        net = _net(dropout=0.3)
        est = _estimator(net, lr=0.01, opt="adam")
        ckpt = CheckpointHandler(str(model_dir), resume_from_checkpoint=resume)
        est.fit(Batches(x, y, 24), epochs=epochs, event_handlers=[ckpt])
        return _weights(net)

    full = run(4, tmp_path / "a", False)
    run(2, tmp_path / "b", False)                    # interrupted after 2 epochs
    resumed = run(4, tmp_path / "b", True)           # picks up epoch 1's checkpoint
    for k in full:
        np.testing.assert_array_equal(full[k], resumed[k])
    names = sorted(os.listdir(tmp_path / "b"))
    assert "model-epoch3batch16.params" in names and "model-symbol.json" not in names


def test_checkpoint_retention_best_and_symbol(tmp_path):
    x, y = _data()
    net = _net()
    net.hybridize()
    est = _estimator(net)
    ckpt = CheckpointHandler(str(tmp_path), max_checkpoints=2, save_best=True,
                             monitor=est.train_metrics[0], mode="max")
    est.fit(Batches(x, y, 32), epochs=4, event_handlers=[ckpt])
    names = sorted(f for f in os.listdir(tmp_path) if f.endswith(".params"))
    assert names == ["model-best.params", "model-epoch2batch9.params",
                     "model-epoch3batch12.params"]
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    sym = mx.sym.load(str(tmp_path / "model-symbol.json"))
    assert "net_dense0_weight" in sym.list_arguments()
    net2 = _net()
    net2.load_parameters(str(tmp_path / "model-epoch3batch12.params"))
    np.testing.assert_array_equal(net2(mx.nd.array(x)).asnumpy(), net(mx.nd.array(x)).asnumpy())


def test_early_stopping_stops_after_patience():
    x, y = _data()
    est = _estimator(_net(), lr=0.0)                 # lr 0: the loss never improves
    loss_metric = est.train_metrics[1]
    stopper = EarlyStoppingHandler(monitor=loss_metric, patience=2, mode="min")
    epochs = []
    est.fit(Batches(x, y, 32, shuffle=False), epochs=10,
            event_handlers=[stopper, LoggingHandler(metrics=est.train_metrics)])
    epochs.append(stopper.current_epoch)
    assert stopper.stop_training and epochs == [3]


def test_progress_bar_one_line_per_epoch_off_terminal():
    x, y = _data()
    est = _estimator(_net())
    log = io.StringIO()
    est.logger.addHandler(logging.StreamHandler(log))
    stream = io.StringIO()
    est.fit(Batches(x, y, 32), val_data=Batches(x, y, 48, shuffle=False), epochs=3,
            event_handlers=[ProgressBarHandler(stream=stream)])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and log.getvalue() == "", (lines, log.getvalue())
    assert "val accuracy" in lines[0]
    assert lines[0].startswith("Epoch 0: 3 batches in") and "samples/s" in lines[0]
    assert "accuracy" in lines[2] and "ce " in lines[2]


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_redraws_on_a_terminal():
    x, y = _data()
    est = _estimator(_net())
    stream = _Tty()
    est.fit(Batches(x, y, 8), epochs=1,
            event_handlers=[ProgressBarHandler(stream=stream, use_tqdm=False, refresh=0)])
    text = stream.getvalue()
    assert "\rEpoch 0: 1/12 ETA" in text and "\rEpoch 0: 12/12 ETA 00:00" in text
    assert text.count("\n") == 1 and "\r\033[KEpoch 0: 12 batches in 00:00, " in text


def test_tensorboard_events_readable_by_tensorboard(tmp_path):
    pytest.importorskip("tensorboardX")
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    from plait.gluon.contrib.estimator import TensorBoardHandler
    x, y = _data()
    net = _net()
    net.hybridize()
    est = _estimator(net)
    tb = TensorBoardHandler(str(tmp_path))
    est.fit(Batches(x, y, 32), val_data=Batches(x, y, 32, shuffle=False), epochs=2,
            event_handlers=[tb])
    tb.close()
    acc = ea_mod.EventAccumulator(str(tmp_path), size_guidance={"histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    assert "training/accuracy" in tags["scalars"] and "validation/accuracy" in tags["scalars"]
    events = acc.Scalars("validation/accuracy")
    assert [e.step for e in events] == [1, 2]
    assert events[-1].value == pytest.approx(est.val_metrics[0].get()[1], abs=1e-6)
    lr = acc.Scalars("learning_rate")
    assert lr[0].value == pytest.approx(0.1)
    assert "net_dense0_weight" in tags["histograms"]
    hist = acc.Histograms("net_dense0_weight")[-1].histogram_value
    assert hist.num == net.collect_params()["net_dense0_weight"].data().size
    graph = acc.Graph()
    names = {n.name: n for n in graph.node}
    assert names["net_dense0_fwd"].op == "FullyConnected"
    assert "net_dense0_weight" in names["net_dense0_fwd"].input


def test_errors():
    x, y = _data()
    est = _estimator(_net())
    with pytest.raises(ValueError, match="exactly one of epochs or batches"):
        est.fit(Batches(x, y, 32), epochs=1, batches=2)
    with pytest.raises(ValueError, match="re-iterable"):
        est.fit(iter(Batches(x, y, 32)), epochs=1)
    with pytest.raises(ValueError, match="gluon.loss.Loss"):
        Estimator(_net(), loss=lambda a, b: a)
    with pytest.raises(ValueError, match="log_interval"):
        LoggingHandler(log_interval="often")
    with pytest.raises(ValueError, match="save_best"):
        CheckpointHandler("/tmp", save_best=True)
    other = mx.metric.Accuracy()
    with pytest.raises(ValueError, match="not one of estimator.train_metrics"):
        est.fit(Batches(x, y, 32), epochs=1,
                event_handlers=[EarlyStoppingHandler(monitor=other)])
