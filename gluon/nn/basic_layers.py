"""Basic Gluon layers (MXNet 1.9's gluon.nn.basic_layers): Dense, Dropout, Embedding,
Flatten, Lambda, HybridLambda, Identity.  The normalisation layers live in
norm_layers.py; Sequential/HybridSequential in gluon/block_containers.py.

Every layer keeps MXNet 1.9's constructor signature, defaults, parameter names and shapes
(0 marks a dimension inferred at the first forward) and computes through F (mx.nd
eagerly, mx.sym when hybridized) with the registry's operators.
"""
from ... import ndarray, symbol
from ..block import Block, HybridBlock
from ._helpers import named_errors
from .activations import Activation

__all__ = ["Dense", "Dropout", "Embedding", "Flatten", "Lambda", "HybridLambda", "Identity"]


class Dense(HybridBlock):
    """Fully connected layer: out = activation(dot(x, weight.T) + bias).

    weight has shape (units, in_units); in_units=0 is inferred at the first forward.
    With flatten=True every input is flattened to 2-D first; with flatten=False the
    product applies to the last axis only."""

    def __init__(self, units, activation=None, use_bias=True, flatten=True, dtype="float32",
                 weight_initializer=None, bias_initializer="zeros", in_units=0, **kwargs):
        super().__init__(**kwargs)
        self._flatten = flatten
        with self.name_scope():
            self._units = units
            self._in_units = in_units
            self.weight = self.params.get("weight", shape=(units, in_units),
                                          init=weight_initializer, dtype=dtype,
                                          allow_deferred_init=True)
            if use_bias:
                self.bias = self.params.get("bias", shape=(units,), init=bias_initializer,
                                            dtype=dtype, allow_deferred_init=True)
            else:
                self.bias = None
            self.act = (Activation(activation, prefix=activation + "_")
                        if activation is not None else None)

    @named_errors
    def hybrid_forward(self, F, x, weight, bias=None):
        out = F.FullyConnected(x, weight, bias, no_bias=bias is None, num_hidden=self._units,
                               flatten=self._flatten, name="fwd")
        if self.act is not None:
            out = self.act(out)
        return out

    def __repr__(self):
        shape = self.weight.shape
        return "{name}({layout}, {act})".format(
            name=type(self).__name__, act=self.act if self.act else "linear",
            layout="{0} -> {1}".format(shape[1] if shape[1] else None, shape[0]))


class Dropout(HybridBlock):
    """Sets a fraction `rate` of the input to zero in training (scaling the rest by
    1/(1-rate)); identity in prediction.  `axes` share one mask along those axes."""

    def __init__(self, rate, axes=(), **kwargs):
        super().__init__(**kwargs)
        self._rate = rate
        self._axes = axes

    @named_errors
    def hybrid_forward(self, F, x):
        if self._rate > 0:
            return F.Dropout(x, p=self._rate, axes=self._axes, name="fwd", cudnn_off=False)
        return F.identity(x)

    def __repr__(self):
        return "{name}(p = {rate}, axes={axes})".format(name=type(self).__name__,
                                                         rate=self._rate, axes=self._axes)


class Embedding(HybridBlock):
    """Maps integer indices to rows of weight (input_dim, output_dim)."""

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None,
                 sparse_grad=False, **kwargs):
        super().__init__(**kwargs)
        # sparse_grad: the gradient stays dense, but SGD/Adam update only the looked-up rows
        # as MXNet's lazy updates of its row_sparse gradient do (gluon/optimizer_rows.py)
        grad_stype = "row_sparse" if sparse_grad else "default"
        self._kwargs = {"input_dim": input_dim, "output_dim": output_dim, "dtype": dtype,
                        "sparse_grad": sparse_grad}
        self.weight = self.params.get("weight", shape=(input_dim, output_dim),
                                      init=weight_initializer, dtype=dtype,
                                      allow_deferred_init=True, grad_stype=grad_stype)

    @named_errors
    def hybrid_forward(self, F, x, weight):
        return F.Embedding(x, weight, name="fwd", **self._kwargs)

    def __repr__(self):
        return "{block_name}({input_dim} -> {output_dim}, {dtype})".format(
            block_name=type(self).__name__, **self._kwargs)


class Flatten(HybridBlock):
    """Flattens the input to (batch, -1)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    @named_errors
    def hybrid_forward(self, F, x):
        return F.flatten(x)

    def __repr__(self):
        return type(self).__name__


def _func_name(function):
    return getattr(function, "__name__", type(function).__name__)


class Lambda(Block):
    """Wraps a function (or the name of an mx.nd function) as a Block."""

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            if not hasattr(ndarray, function):
                raise AssertionError("Function name %s is not found in ndarray." % function)
            self._func_impl = getattr(ndarray, function)
        elif callable(function):
            self._func_impl = function
        else:
            raise ValueError("Unrecognized function in lambda: {} of type {}"
                             .format(function, type(function)))

    def forward(self, *args):
        return self._func_impl(*args)

    def __repr__(self):
        return "{name}({function})".format(name=type(self).__name__,
                                           function=_func_name(self._func_impl))


class HybridLambda(HybridBlock):
    """Wraps `function(F, x, *args)` (or the name of a function present in both mx.nd
    and mx.sym) as a HybridBlock."""

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            if not (hasattr(ndarray, function) and hasattr(symbol, function)):
                raise AssertionError("Function name %s is not found in symbol/ndarray."
                                     % function)
            by_module = {symbol: getattr(symbol, function), ndarray: getattr(ndarray, function)}
            self._func = lambda F, *args: by_module[F](*args)
            self._func_name = function
        elif callable(function):
            self._func = function
            self._func_name = _func_name(function)
        else:
            raise ValueError("Unrecognized function in lambda: {} of type {}"
                             .format(function, type(function)))

    def hybrid_forward(self, F, x, *args):
        return self._func(F, x, *args)

    def __repr__(self):
        return "{name}({function})".format(name=type(self).__name__,
                                           function=self._func_name)


class Identity(HybridBlock):
    """Returns its input unchanged (MXNet 1.9 has it in gluon.contrib.nn; also exported
    from gluon.nn here, as in later MXNet)."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def hybrid_forward(self, F, x):
        return x
