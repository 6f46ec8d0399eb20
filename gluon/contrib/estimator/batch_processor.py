"""MXNet 1.9's module path mxnet.gluon.contrib.estimator.batch_processor: BatchProcessor
(the fit_batch/evaluate_batch hooks of an Estimator) lives in estimator.py."""
from .estimator import BatchProcessor

__all__ = ["BatchProcessor"]
