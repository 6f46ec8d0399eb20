"""Estimator: a training loop driven by event handlers (MXNet 1.9's gluon.contrib.estimator).

    est = Estimator(net, loss=gluon.loss.SoftmaxCrossEntropyLoss(), trainer=trainer,
                    train_metrics=mx.metric.Accuracy(), context=mx.cpu())
    est.fit(train_loader, val_data=test_loader, epochs=5,
            event_handlers=[ProgressBarHandler(), CheckpointHandler('ckpt')])

The batches may come from a gluon.data.DataLoader or any re-iterable of (data, label).
"""
import copy
import logging
import sys

from .... import autograd
from ....core.context import Context, cpu
from ... import loss as gluon_loss
from ...metric import Accuracy, EvalMetric, Loss as LossMetric
from ...trainer import Trainer
from ...utils import split_and_load
from .event_handler import (BatchBegin, BatchEnd, EpochBegin, EpochEnd, GradientUpdateHandler,
                            LoggingHandler, MetricHandler, StoppingHandler, TrainBegin,
                            TrainEnd, ValidationHandler, check_event_handlers, check_metrics)

__all__ = ["Estimator", "BatchProcessor"]


class BatchProcessor(object):
    """fit_batch/evaluate_batch for one batch; subclass it to customise a step."""

    def _get_data_and_label(self, batch, ctx, batch_axis=0):
        if not isinstance(batch, (list, tuple)) or len(batch) < 2:
            raise ValueError("Estimator: each batch must be (data, label), got %s"
                             % type(batch).__name__)
        data = split_and_load(batch[0], ctx_list=ctx, batch_axis=batch_axis)
        label = split_and_load(batch[1], ctx_list=ctx, batch_axis=batch_axis)
        return data, label

    def evaluate_batch(self, estimator, val_batch, batch_axis=0):
        data, label = self._get_data_and_label(val_batch, estimator.context, batch_axis)
        pred = [estimator.val_net(x) for x in data]
        loss = [estimator.val_loss(p, y) for p, y in zip(pred, label)]
        return data, label, pred, loss

    def fit_batch(self, estimator, train_batch, batch_axis=0):
        data, label = self._get_data_and_label(train_batch, estimator.context, batch_axis)
        with autograd.record():
            pred = [estimator.net(x) for x in data]
            loss = [estimator.loss(p, y) for p, y in zip(pred, label)]
        autograd.backward(loss)
        return data, label, pred, loss


def _check_reiterable(data, what):
    if data is None or iter(data) is data:
        raise ValueError("Estimator.%s: the data must be a gluon.data.DataLoader (or another "
                         "re-iterable of (data, label) batches), got %s"
                         % (what, type(data).__name__))


class Estimator(object):
    """Trains `net` with `loss` and `trainer`, updating metrics and calling handlers."""

    logger = None

    def __init__(self, net, loss, train_metrics=None, val_metrics=None, initializer=None,
                 trainer=None, context=None, val_net=None, val_loss=None, batch_processor=None):
        self.net = net
        self.loss = self._check_loss(loss)
        self.val_loss = self._check_loss(val_loss) if val_loss is not None else self.loss
        self.val_net = val_net if val_net is not None else net
        self._train_metrics = check_metrics(train_metrics)
        self._val_metrics = check_metrics(val_metrics)
        self._add_default_training_metrics()
        self._add_validation_metrics()
        self.logger = logging.Logger(name="Estimator", level=logging.INFO)
        self.logger.addHandler(logging.StreamHandler(sys.stdout))
        self.context = self._check_context(context)
        self._initialize(initializer)
        self.trainer = self._check_trainer(trainer)
        self.batch_processor = batch_processor if batch_processor is not None else BatchProcessor()
        if not isinstance(self.batch_processor, BatchProcessor):
            raise ValueError("Estimator: batch_processor must be a BatchProcessor, got %r"
                             % (batch_processor,))
        self.max_epoch = self.max_batch = None
        self.batch_axis = 0

    # -- checks -------------------------------------------------------------------------------
    @staticmethod
    def _check_loss(loss):
        if not isinstance(loss, gluon_loss.Loss):
            raise ValueError("Estimator: loss must be a gluon.loss.Loss, got %r" % (loss,))
        return loss

    @staticmethod
    def _check_context(context):
        if context is None:
            return [cpu()]
        ctxs = context if isinstance(context, (list, tuple)) else [context]
        bad = [c for c in ctxs if not isinstance(c, Context)]
        if bad or not ctxs:
            raise ValueError("Estimator: context must be a Context or a list of Contexts, got %r"
                             % (context,))
        return list(ctxs)

    def _initialize(self, initializer):
        params = self.net.collect_params()
        initialized = all(p._data is not None or p._deferred_init for p in params.values())
        if initializer is not None or not initialized:
            if initialized:
                self.logger.warning("Estimator: the network is already initialized; "
                                    "re-initializing it with %s", initializer)
            self.net.initialize(init=initializer, ctx=self.context,
                                force_reinit=initialized)

    def _check_trainer(self, trainer):
        if trainer is None:
            self.logger.warning("Estimator: no trainer given, using SGD with learning rate "
                                "0.001")
            return Trainer(self.net.collect_params(), "sgd", {"learning_rate": 0.001})
        if not isinstance(trainer, Trainer):
            raise ValueError("Estimator: trainer must be a gluon.Trainer, got %r" % (trainer,))
        return trainer

    # -- metrics ------------------------------------------------------------------------------
    def _add_default_training_metrics(self):
        if not self._train_metrics:
            if isinstance(self.loss, gluon_loss.SoftmaxCrossEntropyLoss):
                self._train_metrics.append(Accuracy())
            self._train_metrics.append(LossMetric(self.loss.name.rstrip("0123456789")))
        for metric in self._train_metrics:
            metric.name = "training " + metric.name

    def _add_validation_metrics(self):
        if not self._val_metrics:
            self._val_metrics = [copy.deepcopy(m) for m in self._train_metrics]
        for metric in self._val_metrics:
            if "training" in metric.name:
                metric.name = metric.name.replace("training", "validation")
            else:
                metric.name = "validation " + metric.name

    @property
    def train_metrics(self):
        return self._train_metrics

    @property
    def val_metrics(self):
        return self._val_metrics

    # -- loops --------------------------------------------------------------------------------
    def evaluate(self, val_data, batch_axis=0, event_handlers=None):
        """Run val_net over val_data and update the validation metrics."""
        _check_reiterable(val_data, "evaluate")
        for metric in self.val_metrics:
            metric.reset()
        handlers = self._with_defaults(event_handlers, self.val_metrics, validation=True)
        _, epoch_begin, batch_begin, batch_end, epoch_end, _ = _categorize(handlers)
        for h in epoch_begin:
            h.epoch_begin(self)
        with autograd.predict_mode():
            for batch in val_data:
                for h in batch_begin:
                    h.batch_begin(self, batch=batch)
                _, label, pred, loss = self.batch_processor.evaluate_batch(self, batch,
                                                                           batch_axis)
                for h in batch_end:
                    h.batch_end(self, batch=batch, pred=pred, label=label, loss=loss)
        for h in epoch_end:
            h.epoch_end(self)

    def fit(self, train_data, val_data=None, epochs=None, event_handlers=None, batches=None,
            batch_axis=0):
        """Train for `epochs` epochs or `batches` batches (exactly one of them)."""
        _check_reiterable(train_data, "fit")
        if (not epochs) == (not batches):
            raise ValueError("Estimator.fit: give exactly one of epochs or batches, got "
                             "epochs=%r, batches=%r" % (epochs, batches))
        self.max_epoch, self.max_batch, self.batch_axis = epochs, batches, batch_axis
        self._train_data = train_data
        handlers = self._with_defaults(event_handlers, self.train_metrics, val_data=val_data)
        train_begin, epoch_begin, batch_begin, batch_end, epoch_end, train_end = \
            _categorize(handlers)
        for h in train_begin:
            h.train_begin(self)
        stop = False
        while not stop:
            for h in epoch_begin:
                h.epoch_begin(self)
            for batch in train_data:
                for h in batch_begin:
                    h.batch_begin(self, batch=batch)
                _, label, pred, loss = self.batch_processor.fit_batch(self, batch, batch_axis)
                results = [h.batch_end(self, batch=batch, pred=pred, label=label, loss=loss)
                           for h in batch_end]
                if any(results):
                    break
            stop = any([h.epoch_end(self) for h in epoch_end])
        for h in train_end:
            h.train_end(self)

    def _with_defaults(self, event_handlers, metrics, val_data=None, validation=False):
        handlers = check_event_handlers(event_handlers)
        added = []

        def missing(cls):
            return not any(isinstance(h, cls) for h in handlers)
        if not validation:
            added.append(StoppingHandler(self.max_epoch, self.max_batch))
            if missing(GradientUpdateHandler):
                added.append(GradientUpdateHandler())
        if missing(MetricHandler):
            added.append(MetricHandler(metrics=metrics))
        if not validation and val_data is not None and missing(ValidationHandler):
            added.append(ValidationHandler(val_data=val_data, eval_fn=self.evaluate))
        replaced = any(getattr(h, "replaces_logging", False) for h in handlers)
        if not validation:
            self._logging_replaced = replaced  # a progress bar also reports validation
        elif getattr(self, "_logging_replaced", False):
            replaced = True
        if missing(LoggingHandler) and not replaced:
            added.append(LoggingHandler(metrics=metrics))
        if handlers and added:
            known = set(self.val_metrics if validation else
                        self.train_metrics + self.val_metrics)
            for h in handlers:
                _check_metric_refs(h, known)
        handlers = handlers + added
        handlers.sort(key=lambda h: getattr(h, "priority", 0))
        return handlers


def _check_metric_refs(handler, known):
    """Handlers mixed with the defaults must use the estimator's own metric objects."""
    for attr in ("metrics", "monitor", "train_metrics", "val_metrics"):
        refs = getattr(handler, attr, None)
        refs = refs if isinstance(refs, (list, tuple)) else [refs]
        for ref in refs:
            if isinstance(ref, EvalMetric) and ref not in known:
                raise ValueError("Event handler %s refers to metric %r, which is not one of "
                                 "estimator.train_metrics or estimator.val_metrics; use those "
                                 "objects" % (type(handler).__name__, ref.name))


def _categorize(handlers):
    kinds = (TrainBegin, EpochBegin, BatchBegin, BatchEnd, EpochEnd, TrainEnd)
    return tuple([h for h in handlers if isinstance(h, k)] for k in kinds)
