"""Core of `mx.metric`: EvalMetric, the metric registry (register/alias/create),
CompositeEvalMetric, CustomMetric/np() and the Loss-style dummy metrics.

Semantics follow MXNet 1.9's python/mxnet/metric.py, including its quirks (they are what
user code and logged numbers depend on): `check_label_shapes` compares *lengths* (first
dimensions) before wrapping single arrays into lists, metrics accumulate a local pair
(`sum_metric`, `num_inst`) and a global pair (`global_*`) that `reset_local` leaves alone,
and `get()` returns NaN before the first update.

Inputs may be NDArrays or NumPy arrays (MXNet itself only takes NDArrays); a single array
is treated like a one-element list.
"""
import json
import warnings
from collections import OrderedDict

import numpy

from ..ndarray.ndarray import NDArray

__all__ = ["check_label_shapes", "EvalMetric", "register", "alias", "create",
           "CompositeEvalMetric", "CustomMetric", "np", "Loss", "Torch", "Caffe"]

_ARRAY_TYPES = (NDArray, numpy.ndarray)


def _is_array(x):
    return isinstance(x, _ARRAY_TYPES)


def _asnumpy(x):
    """The NumPy value of an NDArray (or a NumPy array / array-like as is)."""
    if isinstance(x, NDArray):
        return x.asnumpy()
    return numpy.asarray(x)


def _length(x):
    """len() as MXNet sees it: an array's first dimension (0-d arrays have none)."""
    if _is_array(x):
        if len(x.shape) == 0:
            raise TypeError("len() of unsized object")
        return x.shape[0]
    return len(x)


def check_label_shapes(labels, preds, wrap=False, shape=False):
    """Check that labels and predictions agree, raising MXNet's ValueError otherwise.

    With ``shape=False`` only their lengths are compared (for a list, its number of
    arrays; for an array, its first dimension).  With ``shape=True`` the arrays' shapes
    are compared.  With ``wrap=True`` a single array is wrapped in a list afterwards.
    """
    if not shape:
        label_shape, pred_shape = _length(labels), _length(preds)
    else:
        label_shape, pred_shape = labels.shape, preds.shape
    if label_shape != pred_shape:
        raise ValueError("Shape of labels {} does not match shape of "
                         "predictions {}".format(label_shape, pred_shape))
    if wrap:
        if _is_array(labels):
            labels = [labels]
        if _is_array(preds):
            preds = [preds]
    return labels, preds


class EvalMetric(object):
    """Base class of the evaluation metrics.

    Parameters
    ----------
    name : str
        Name of this metric instance for display.
    output_names, label_names : list of str or None
        Names of the predictions/labels `update_dict` uses (default: all, in order).
    **kwargs
        Constructor arguments recorded for `get_config`; ``has_global_stats`` (bool) says
        whether the metric keeps global statistics separate from the local ones.
    """

    def __init__(self, name, output_names=None, label_names=None, **kwargs):
        self.name = str(name)
        self.output_names = output_names
        self.label_names = label_names
        self._has_global_stats = kwargs.pop("has_global_stats", False)
        self._kwargs = kwargs
        self.reset()

    def __str__(self):
        return "EvalMetric: {}".format(dict(self.get_name_value()))

    def get_config(self):
        """The configuration dict; ``mx.metric.create(**config)`` rebuilds the metric."""
        config = self._kwargs.copy()
        config.update({"metric": self.__class__.__name__, "name": self.name,
                       "output_names": self.output_names,
                       "label_names": self.label_names})
        return config

    def update_dict(self, label, pred):
        """Update with name -> array dicts, picking `label_names`/`output_names`."""
        if self.output_names is not None:
            pred = [pred[name] for name in self.output_names]
        else:
            pred = list(pred.values())
        if self.label_names is not None:
            label = [label[name] for name in self.label_names]
        else:
            label = list(label.values())
        self.update(label, pred)

    def update(self, labels, preds):
        """Update the statistics with a batch of labels and predictions."""
        raise NotImplementedError()

    def reset(self):
        """Reset local and global statistics."""
        self.num_inst = 0
        self.sum_metric = 0.0
        self.global_num_inst = 0
        self.global_sum_metric = 0.0

    def reset_local(self):
        """Reset the local statistics only."""
        self.num_inst = 0
        self.sum_metric = 0.0

    def get(self):
        """(name, value) of the local statistics; value is NaN before any update."""
        if self.num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, self.sum_metric / self.num_inst)

    def get_global(self):
        """(name, value) of the global statistics (the local ones without global stats)."""
        if self._has_global_stats:
            if self.global_num_inst == 0:
                return (self.name, float("nan"))
            return (self.name, self.global_sum_metric / self.global_num_inst)
        return self.get()

    def get_name_value(self):
        """List of (name, value) pairs of `get()`."""
        return _zip_name_value(*self.get())

    def get_global_name_value(self):
        """List of (name, value) pairs of `get_global()`."""
        if self._has_global_stats:
            return _zip_name_value(*self.get_global())
        return self.get_name_value()


def _zip_name_value(name, value):
    if not isinstance(name, list):
        name = [name]
    if not isinstance(value, list):
        value = [value]
    return list(zip(name, value))


# ---- registry -------------------------------------------------------------------------
_REGISTRY = {}


def register(klass, name=None):
    """Register an EvalMetric subclass under ``name`` (default: its lower-cased class name)."""
    assert isinstance(klass, type) and issubclass(klass, EvalMetric), \
        "Can only register subclass of EvalMetric"
    name = (klass.__name__ if name is None else name).lower()
    if name in _REGISTRY:
        old = _REGISTRY[name]
        warnings.warn("New metric %s.%s registered with name %s is overriding existing "
                      "metric %s.%s" % (klass.__module__, klass.__name__, name,
                                        old.__module__, old.__name__),
                      UserWarning, stacklevel=2)
    _REGISTRY[name] = klass
    return klass


def alias(*aliases):
    """Class decorator registering the class under extra names."""
    def reg(klass):
        for name in aliases:
            register(klass, name)
        return klass
    return reg


def _create(*args, **kwargs):
    """Create a registered metric from a name, a config dict, a JSON string or an instance."""
    if args:
        name, args = args[0], args[1:]
    else:
        name = kwargs.pop("metric")
    if isinstance(name, EvalMetric):
        assert not args and not kwargs, \
            "metric is already an instance. Additional arguments are invalid"
        return name
    if isinstance(name, dict):
        return _create(**name)
    assert isinstance(name, str), "metric must be of string type"
    if name.startswith("["):
        assert not args and not kwargs
        name, kwargs = json.loads(name)
        return _create(name, **kwargs)
    if name.startswith("{"):
        assert not args and not kwargs
        return _create(**json.loads(name))
    name = name.lower()
    assert name in _REGISTRY, \
        "%s is not registered. Please register with metric.register first" % name
    return _REGISTRY[name](*args, **kwargs)


def create(metric, *args, **kwargs):
    """Create a metric from a name, an EvalMetric, a list (-> CompositeEvalMetric) or a
    function ``feval(label, pred)`` (-> CustomMetric).  ``*args``/``**kwargs`` go to the
    constructor."""
    if callable(metric):
        return CustomMetric(metric, *args, **kwargs)
    if isinstance(metric, list):
        composite = CompositeEvalMetric()
        for child in metric:
            composite.add(create(child, *args, **kwargs))
        return composite
    return _create(metric, *args, **kwargs)


@register
@alias("composite")
class CompositeEvalMetric(EvalMetric):
    """Several metrics updated together; `get()` returns (names, values) lists."""

    def __init__(self, metrics=None, name="composite", output_names=None, label_names=None):
        self.metrics = []
        super(CompositeEvalMetric, self).__init__(
            name, output_names=output_names, label_names=label_names, has_global_stats=True)
        self.metrics = [create(m) for m in (metrics or [])]

    def add(self, metric):
        """Append a child metric (anything `create` accepts)."""
        self.metrics.append(create(metric))

    def get_metric(self, index):
        """The child metric at ``index`` (MXNet returns, not raises, a ValueError if out of
        range)."""
        try:
            return self.metrics[index]
        except IndexError:
            return ValueError("Metric index {} is out of range 0 and {}".format(
                index, len(self.metrics)))

    def update_dict(self, labels, preds):  # pylint: disable=arguments-differ
        if self.label_names is not None:
            labels = OrderedDict([i for i in labels.items() if i[0] in self.label_names])
        if self.output_names is not None:
            preds = OrderedDict([i for i in preds.items() if i[0] in self.output_names])
        for metric in self.metrics:
            metric.update_dict(labels, preds)

    def update(self, labels, preds):
        for metric in self.metrics:
            metric.update(labels, preds)

    def reset(self):
        for metric in getattr(self, "metrics", []):
            metric.reset()

    def reset_local(self):
        for metric in getattr(self, "metrics", []):
            metric.reset_local()

    def _collect(self, getter):
        names, values = [], []
        for metric in self.metrics:
            name, value = getter(metric)
            if isinstance(name, str):
                name = [name]
            if isinstance(value, (int, float, numpy.generic)):
                value = [value]
            names.extend(name)
            values.extend(value)
        return (names, values)

    def get(self):
        return self._collect(lambda m: m.get())

    def get_global(self):
        return self._collect(lambda m: m.get_global())

    def get_config(self):
        config = super(CompositeEvalMetric, self).get_config()
        config.update({"metrics": [m.get_config() for m in self.metrics]})
        return config


@register
class Loss(EvalMetric):
    """Mean of the predictions (e.g. loss values); labels are ignored."""

    def __init__(self, name="loss", output_names=None, label_names=None):
        super(Loss, self).__init__(
            name, output_names=output_names, label_names=label_names, has_global_stats=True)

    def update(self, _, preds):
        if _is_array(preds):
            preds = [preds]
        for pred in preds:
            value = _asnumpy(pred)
            # summed in the array's float type, accumulated as a Python float: MXNet's
            # 0.0 + np.float32 was float64 under its NumPy (< 2); NumPy 2 would keep float32
            loss = float(value.sum(dtype=value.dtype if value.dtype.kind == "f" else None))
            self.sum_metric += loss
            self.global_sum_metric += loss
            self.num_inst += value.size
            self.global_num_inst += value.size


@register
class Torch(Loss):
    """Dummy metric for torch criterions."""

    def __init__(self, name="torch", output_names=None, label_names=None):
        super(Torch, self).__init__(name, output_names=output_names, label_names=label_names)


@register
class Caffe(Loss):
    """Dummy metric for caffe criterions."""

    def __init__(self, name="caffe", output_names=None, label_names=None):
        super(Caffe, self).__init__(name, output_names=output_names, label_names=label_names)


@register
class CustomMetric(EvalMetric):
    """A metric from ``feval(label, pred)`` on NumPy arrays, returning either a value
    (counted as one instance) or a ``(sum_metric, num_inst)`` tuple.

    ``allow_extra_outputs=True`` skips the labels/preds length check (e.g. RNN outputs
    that include states)."""

    def __init__(self, feval, name=None, allow_extra_outputs=False,
                 output_names=None, label_names=None):
        if name is None:
            name = feval.__name__
            if name.find("<") != -1:
                name = "custom(%s)" % name
        super(CustomMetric, self).__init__(
            name, feval=feval, allow_extra_outputs=allow_extra_outputs,
            output_names=output_names, label_names=label_names, has_global_stats=True)
        self._feval = feval
        self._allow_extra_outputs = allow_extra_outputs

    def update(self, labels, preds):
        if not self._allow_extra_outputs:
            labels, preds = check_label_shapes(labels, preds, True)
        for pred, label in zip(preds, labels):
            reval = self._feval(_asnumpy(label), _asnumpy(pred))
            if isinstance(reval, tuple):
                sum_metric, num_inst = reval
            else:
                sum_metric, num_inst = reval, 1
            self.sum_metric += sum_metric
            self.global_sum_metric += sum_metric
            self.num_inst += num_inst
            self.global_num_inst += num_inst

    def get_config(self):
        raise NotImplementedError("CustomMetric cannot be serialized")


def np(numpy_feval, name=None, allow_extra_outputs=False):  # pylint: disable=invalid-name
    """Wrap ``numpy_feval(label, pred) -> float`` (NumPy arrays in) into a CustomMetric."""
    def feval(label, pred):
        return numpy_feval(label, pred)
    feval.__name__ = numpy_feval.__name__
    return CustomMetric(feval, name, allow_extra_outputs)
