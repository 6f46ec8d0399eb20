"""Event handlers of the Gluon Estimator (MXNet 1.9's gluon.contrib.estimator.event_handler).

A handler subscribes to training events by inheriting the matching mix-in classes
(TrainBegin, EpochBegin, BatchBegin, BatchEnd, EpochEnd, TrainEnd); the Estimator calls
them in ascending `priority`. A `batch_end`/`epoch_end` returning True stops training.
"""
import math
import time
import warnings

from ...metric import CompositeEvalMetric, EvalMetric, Loss as LossMetric

__all__ = ["EventHandler", "TrainBegin", "TrainEnd", "EpochBegin", "EpochEnd", "BatchBegin",
           "BatchEnd", "StoppingHandler", "MetricHandler", "ValidationHandler",
           "LoggingHandler", "EarlyStoppingHandler", "GradientUpdateHandler", "check_metrics",
           "improvement_op"]


class EventHandler(object):
    """Base of all handlers."""


class TrainBegin(EventHandler):
    def train_begin(self, estimator, *args, **kwargs):
        pass


class TrainEnd(EventHandler):
    def train_end(self, estimator, *args, **kwargs):
        pass


class EpochBegin(EventHandler):
    def epoch_begin(self, estimator, *args, **kwargs):
        pass


class EpochEnd(EventHandler):
    def epoch_end(self, estimator, *args, **kwargs):
        pass


class BatchBegin(EventHandler):
    def batch_begin(self, estimator, *args, **kwargs):
        pass


class BatchEnd(EventHandler):
    def batch_end(self, estimator, *args, **kwargs):
        pass


def check_metrics(metrics):
    """A flat list of EvalMetrics from None, one metric, a list or a CompositeEvalMetric."""
    if isinstance(metrics, CompositeEvalMetric):
        return [m for sub in metrics.metrics for m in check_metrics(sub)]
    if isinstance(metrics, EvalMetric):
        return [metrics]
    metrics = list(metrics or [])
    bad = [m for m in metrics if not isinstance(m, EvalMetric)]
    if bad:
        raise ValueError("metrics must be an EvalMetric or a list of EvalMetrics (mx.metric), "
                         "got %r" % (bad[0],))
    return metrics


def check_event_handlers(handlers):
    if isinstance(handlers, EventHandler):
        return [handlers]
    handlers = list(handlers or [])
    bad = [h for h in handlers if not isinstance(h, EventHandler)]
    if bad:
        raise ValueError("event_handlers must be EventHandler instances (from "
                         "gluon.contrib.estimator), got %r" % (bad[0],))
    return handlers


def improvement_op(monitor, mode, who):
    """(compare, start) for 'min'/'max'/'auto'; auto maximises accuracy/F1-like metrics
    (names containing acc, f1, mcc, pearson) and minimises everything else."""
    if mode not in ("auto", "min", "max"):
        warnings.warn("%s mode %r is unknown, falling back to 'auto'" % (who, mode),
                      RuntimeWarning)
        mode = "auto"
    if mode == "auto":
        name = monitor.get()[0].lower()
        mode = "max" if any(k in name for k in ("acc", "f1", "mcc", "pearson")) else "min"
    if mode == "max":
        return (lambda a, b: a > b), -math.inf
    return (lambda a, b: a < b), math.inf


class StoppingHandler(TrainBegin, BatchEnd, EpochEnd):
    """Stops after max_epoch epochs or max_batch batches (taken from the estimator's fit)."""

    def __init__(self, max_epoch=None, max_batch=None):
        self.max_epoch = max_epoch
        self.max_batch = max_batch
        self.current_batch = 0
        self.current_epoch = 0
        self.stop_training = False

    def train_begin(self, estimator, *args, **kwargs):
        self.max_epoch = estimator.max_epoch
        self.max_batch = estimator.max_batch
        self.current_batch = 0
        self.current_epoch = 0
        self.stop_training = False

    def batch_end(self, estimator, *args, **kwargs):
        self.current_batch += 1
        if self.max_batch is not None and self.current_batch >= self.max_batch:
            self.stop_training = True
        return self.stop_training

    def epoch_end(self, estimator, *args, **kwargs):
        self.current_epoch += 1
        if self.max_epoch is not None and self.current_epoch >= self.max_epoch:
            self.stop_training = True
        return self.stop_training


class MetricHandler(EpochBegin, BatchEnd):
    """Resets the metrics at each epoch and updates them after each batch (loss metrics
    get the loss values, the others (label, prediction))."""

    def __init__(self, metrics, priority=-1000):
        self.metrics = check_metrics(metrics)
        self.priority = priority

    def epoch_begin(self, estimator, *args, **kwargs):
        for metric in self.metrics:
            metric.reset()

    def batch_end(self, estimator, *args, **kwargs):
        for metric in self.metrics:
            if isinstance(metric, LossMetric):
                metric.update(0, kwargs["loss"])
            else:
                metric.update(kwargs["label"], kwargs["pred"])


class ValidationHandler(TrainBegin, BatchEnd, EpochEnd):
    """Runs `eval_fn(val_data=..., batch_axis=..., event_handlers=...)` every epoch_period
    epochs and/or every batch_period batches."""

    def __init__(self, val_data, eval_fn, epoch_period=1, batch_period=None, priority=-1000,
                 event_handlers=None):
        self.val_data = val_data
        self.eval_fn = eval_fn
        self.epoch_period = epoch_period
        self.batch_period = batch_period
        self.priority = priority
        self.event_handlers = event_handlers
        self.current_batch = 0
        self.current_epoch = 0

    def _run(self, estimator):
        self.eval_fn(val_data=self.val_data, batch_axis=estimator.batch_axis,
                     event_handlers=self.event_handlers)

    def train_begin(self, estimator, *args, **kwargs):
        self.current_batch = 0
        self.current_epoch = 0

    def batch_end(self, estimator, *args, **kwargs):
        self.current_batch += 1
        if self.batch_period and self.current_batch % self.batch_period == 0:
            self._run(estimator)

    def epoch_end(self, estimator, *args, **kwargs):
        self.current_epoch += 1
        if self.epoch_period and self.current_epoch % self.epoch_period == 0:
            self._run(estimator)


def _format_metrics(metrics):
    return ", ".join("%s: %.4f" % m.get() for m in metrics)


class LoggingHandler(TrainBegin, TrainEnd, EpochBegin, EpochEnd, BatchBegin, BatchEnd):
    """Logs the optimizer and learning rate at the start, the metrics every epoch
    (log_interval='epoch') or every k batches (log_interval=k), and a summary at the end."""

    def __init__(self, log_interval="epoch", metrics=None, priority=math.inf):
        if log_interval != "epoch" and not (isinstance(log_interval, int)
                                            and not isinstance(log_interval, bool)):
            raise ValueError("LoggingHandler: log_interval must be an integer or 'epoch', got %r"
                             % (log_interval,))
        self.log_interval = log_interval
        self.metrics = check_metrics(metrics)
        self.priority = priority
        self.current_epoch = 0
        self.batch_index = 0
        self.processed_samples = 0
        self.interval_time = 0.0

    def train_begin(self, estimator, *args, **kwargs):
        self.train_start = time.time()
        trainer = estimator.trainer
        estimator.logger.info("Training begin: using optimizer %s with current learning rate "
                              "%.4f ", type(trainer.optimizer).__name__, trainer.learning_rate)
        if estimator.max_epoch:
            estimator.logger.info("Train for %d epochs.", estimator.max_epoch)
        else:
            estimator.logger.info("Train for %d batches.", estimator.max_batch)
        self.current_epoch = self.batch_index = self.processed_samples = 0
        self.interval_time = 0.0

    def train_end(self, estimator, *args, **kwargs):
        msg = "Train finished using total %ds with %d epochs. " % (
            time.time() - self.train_start, self.current_epoch)
        estimator.logger.info((msg + _format_metrics(self.metrics)).rstrip(", "))

    def batch_begin(self, estimator, *args, **kwargs):
        if isinstance(self.log_interval, int):
            self.batch_start = time.time()

    def batch_end(self, estimator, *args, **kwargs):
        if isinstance(self.log_interval, int):
            self.interval_time += time.time() - self.batch_start
            self.processed_samples += _batch_size(kwargs.get("batch"))
            if self.batch_index % self.log_interval == 0:
                msg = "[Epoch %d][Batch %d][Samples %d] time/interval: %.3fs " % (
                    self.current_epoch, self.batch_index, self.processed_samples,
                    self.interval_time)
                self.interval_time = 0.0
                estimator.logger.info((msg + _format_metrics(self.metrics)).rstrip(", "))
        self.batch_index += 1

    def _is_training(self):
        return any("training" in m.name for m in self.metrics)

    def epoch_begin(self, estimator, *args, **kwargs):
        self.epoch_start = time.time()
        if self._is_training():
            estimator.logger.info("[Epoch %d] Begin, current learning rate: %.4f",
                                  self.current_epoch, estimator.trainer.learning_rate)
        else:
            estimator.logger.info("Validation Begin")

    def epoch_end(self, estimator, *args, **kwargs):
        msg = "[Epoch %d] Finished in %.3fs, " % (self.current_epoch,
                                                 time.time() - self.epoch_start)
        estimator.logger.info((msg + _format_metrics(self.metrics)).rstrip(", "))
        self.current_epoch += 1
        self.batch_index = 0


def _batch_size(batch):
    if batch is None:
        return 0
    first = batch[0] if isinstance(batch, (list, tuple)) else batch
    shape = getattr(first, "shape", None)
    return int(shape[0]) if shape else 1


class EarlyStoppingHandler(TrainBegin, EpochEnd, TrainEnd):
    """Stops when `monitor` has not improved by more than min_delta for `patience` epochs."""

    def __init__(self, monitor, min_delta=0, patience=0, mode="auto", baseline=None):
        if isinstance(monitor, CompositeEvalMetric):
            raise ValueError("EarlyStoppingHandler: CompositeEvalMetric is not supported as "
                             "monitor; pass one of its metrics")
        if not isinstance(monitor, EvalMetric):
            raise ValueError("EarlyStoppingHandler: monitor must be one of the metric objects "
                             "of estimator.train_metrics or estimator.val_metrics, got %r"
                             % (monitor,))
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.baseline = baseline
        self.monitor_op, self._start = improvement_op(monitor, mode, "EarlyStoppingHandler")
        self.train_begin(None)

    def train_begin(self, estimator, *args, **kwargs):
        self.wait = 0
        self.stopped_epoch = 0
        self.current_epoch = 0
        self.stop_training = False
        self.best = self.baseline if self.baseline is not None else self._start

    def _improved(self, value):
        maximise = self._start < 0
        shifted = value - self.min_delta if maximise else value + self.min_delta
        return self.monitor_op(shifted, self.best)

    def epoch_end(self, estimator, *args, **kwargs):
        name, value = self.monitor.get()
        if isinstance(value, float) and math.isnan(value):
            warnings.warn("EarlyStoppingHandler: %s has no value yet; pass a metric from "
                          "estimator.train_metrics or estimator.val_metrics" % name,
                          RuntimeWarning)
        elif self._improved(value):
            self.best = value
            self.wait = 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = self.current_epoch
                self.stop_training = True
        self.current_epoch += 1
        return self.stop_training

    def train_end(self, estimator, *args, **kwargs):
        if self.stop_training:
            estimator.logger.info("[Epoch %d] EarlyStoppingHandler: early stopping because %s "
                                  "did not improve", self.stopped_epoch, self.monitor.get()[0])


class GradientUpdateHandler(BatchEnd):
    """Calls trainer.step(batch size) after each batch; the batch size is the number of
    samples in the batch's losses."""

    def __init__(self, priority=-2000):
        self.priority = priority

    def batch_end(self, estimator, *args, **kwargs):
        loss = kwargs["loss"]
        losses = loss if isinstance(loss, (list, tuple)) else [loss]
        estimator.trainer.step(sum(int(l.shape[0]) for l in losses))

