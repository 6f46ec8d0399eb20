"""mx.init: weight initializers (MXNet 1.9's mxnet.initializer).

An initializer is called as `init(desc, arr)` with `desc` an InitDesc (the parameter's
name plus attributes) and fills `arr` in place.  When the attributes carry an explicit
`__init__` (a parameter created with init=...), that initializer's `_init_weight` runs;
otherwise the name's suffix picks the method (weight, bias, gamma, beta, min, max), as
in MXNet.  A plain str name takes MXNet's legacy path, which also knows moving_mean,
moving_var, upsampling... .  Random draws go through mx.nd.random, so mx.random.seed
makes them reproducible.
"""
import json
import logging
import re
import warnings
from math import sqrt

import numpy as np

from ..ndarray import NDArray
from ..ndarray import random as _random
from ..ndarray import load as _nd_load

__all__ = ["InitDesc", "Initializer", "register", "alias", "create", "Load", "Mixed", "Zero",
           "One", "Constant", "Uniform", "Normal", "Orthogonal", "Xavier", "MSRAPrelu",
           "Bilinear", "LSTMBias", "FusedRNN"]


class InitDesc(str):
    """A parameter name (a str) carrying `attrs` (e.g. {'__init__': ...}) and the global
    initializer in effect (`global_init`)."""

    def __new__(cls, name, attrs=None, global_init=None):
        ret = super().__new__(cls, name)
        ret.attrs = attrs or {}
        ret.global_init = global_init
        return ret


# -- registry (name -> class, lower case), as mxnet.registry does for initializers ---------------
_REGISTRY = {}


def _register(klass, name=None):
    if not (isinstance(klass, type) and issubclass(klass, Initializer)):
        raise TypeError("Can only register subclass of Initializer, got %r" % (klass,))
    name = (name or klass.__name__).lower()
    old = _REGISTRY.get(name)
    if old is not None and old is not klass:
        warnings.warn("New initializer %s.%s registered with name %s is overriding existing "
                      "initializer %s.%s" % (klass.__module__, klass.__name__, name,
                                             old.__module__, old.__name__), UserWarning,
                      stacklevel=3)
    _REGISTRY[name] = klass
    return klass


def register(klass):
    """Register an Initializer subclass under its lower-cased class name (a decorator)."""
    return _register(klass)


def alias(*aliases):
    """A decorator registering an Initializer subclass under extra names."""
    def reg(klass):
        for name in aliases:
            _register(klass, name)
        return klass
    return reg


def create(*args, **kwargs):
    """An Initializer from an instance (returned as is), a registered name ('xavier'), a
    dumps() string ('["xavier", {...}]'), a JSON object string or a dict of kwargs with
    key 'initializer'."""
    if args:
        name, args = args[0], args[1:]
    else:
        name = kwargs.pop("initializer")
    if isinstance(name, Initializer):
        if args or kwargs:
            raise ValueError("initializer is already an instance. Additional arguments are "
                             "invalid")
        return name
    if isinstance(name, dict):
        return create(**name)
    if not isinstance(name, str):
        raise TypeError("initializer must be of string type, got %s" % type(name).__name__)
    if name.startswith("["):
        if args or kwargs:
            raise ValueError("no extra arguments allowed with a JSON initializer spec")
        name, kw = json.loads(name)
        return create(name, **kw)
    if name.startswith("{"):
        if args or kwargs:
            raise ValueError("no extra arguments allowed with a JSON initializer spec")
        return create(**json.loads(name))
    key = name.lower()
    if key not in _REGISTRY:
        raise ValueError("%s is not registered. Please register with initializer.register "
                         "first" % key)
    return _REGISTRY[key](*args, **kwargs)


class Initializer:
    """Base class of initializers; subclasses implement `_init_weight(desc, arr)`."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._verbose = False
        self._print_func = None

    def set_verbosity(self, verbose=False, print_func=None):
        """Log a statistic of each initialized array (default: its root mean square)."""
        self._verbose = verbose
        if print_func is None:
            def print_func(x):
                return str((x.norm() / sqrt(x.size)).asscalar())
        self._print_func = print_func
        return self

    def _verbose_print(self, desc, init, arr):
        if self._verbose and self._print_func:
            logging.info("Initialized %s as %s: %s", desc, init, self._print_func(arr))

    def dumps(self):
        """The JSON spec `[class name lower-cased, kwargs]` that create() accepts."""
        return json.dumps([self.__class__.__name__.lower(), self._kwargs])

    def __call__(self, desc, arr):
        if not isinstance(desc, InitDesc):
            self._legacy_init(desc, arr)
            return
        if desc.global_init is None:
            desc.global_init = self
        init = desc.attrs.get("__init__", "")
        if init:
            create(init)._init_weight(desc, arr)
            self._verbose_print(desc, init, arr)
            return
        for suffix, method in (("weight", self._init_weight), ("bias", self._init_bias),
                               ("gamma", self._init_gamma), ("beta", self._init_beta),
                               ("min", self._init_zero), ("max", self._init_one),
                               ("weight_quantize", self._init_quantized_weight),
                               ("bias_quantize", self._init_quantized_bias)):
            if desc.endswith(suffix):
                method(desc, arr)
                self._verbose_print(desc, suffix, arr)
                return
        self._init_default(desc, arr)

    def _legacy_init(self, name, arr):
        """init(str, NDArray): MXNet's older name-pattern rules."""
        warnings.warn("Calling initializer with init(str, NDArray) has been deprecated. "
                      "please use init(mx.init.InitDesc(...), NDArray) instead.",
                      DeprecationWarning, stacklevel=3)
        if not isinstance(name, str):
            raise TypeError("name must be string")
        if not isinstance(arr, NDArray):
            raise TypeError("arr must be NDArray")
        if name.startswith("upsampling"):
            self._init_bilinear(name, arr)
        elif name.startswith("stn_loc") and name.endswith("weight"):
            self._init_zero(name, arr)
        elif name.startswith("stn_loc") and name.endswith("bias"):
            self._init_loc_bias(name, arr)
        else:
            for suffix, method in (("bias", self._init_bias), ("gamma", self._init_gamma),
                                   ("beta", self._init_beta), ("weight", self._init_weight),
                                   ("moving_mean", self._init_zero),
                                   ("moving_var", self._init_one),
                                   ("moving_inv_var", self._init_zero),
                                   ("moving_avg", self._init_zero), ("min", self._init_zero),
                                   ("max", self._init_one)):
                if name.endswith(suffix):
                    method(name, arr)
                    return
            self._init_default(name, arr)

    def _init_bilinear(self, _, arr):
        arr[:] = _bilinear_kernel(arr.shape)

    def _init_loc_bias(self, _, arr):
        if arr.shape[0] != 6:
            raise ValueError("stn_loc bias must have 6 elements, got shape %s" % (arr.shape,))
        arr[:] = np.array([1.0, 0, 0, 0, 1.0, 0])

    def _init_zero(self, _, arr):
        arr[:] = 0.0

    def _init_one(self, _, arr):
        arr[:] = 1.0

    def _init_bias(self, _, arr):
        arr[:] = 0.0

    def _init_quantized_bias(self, _, arr):
        arr[:] = 0

    def _init_gamma(self, _, arr):
        arr[:] = 1.0

    def _init_beta(self, _, arr):
        arr[:] = 0.0

    def _init_weight(self, name, arr):
        raise NotImplementedError("Must override it")

    def _init_quantized_weight(self, _, arr):
        arr[:] = np.int8(_random.randint(-127, 127, dtype="int32").asnumpy())

    def _init_default(self, name, _):
        raise ValueError(
            "Unknown initialization pattern for %s. Default initialization is now limited to "
            '"weight", "bias", "gamma" (1.0), and "beta" (0.0).Please use '
            "mx.sym.Variable(init=mx.init.*) to set initialization pattern" % name)

    def __eq__(self, other):
        if not isinstance(other, Initializer):
            return NotImplemented
        return type(self) is type(other) and self._kwargs == other._kwargs

    __hash__ = None


def _bilinear_kernel(shape):
    """The bilinear-upsampling kernel MXNet fills (both axes use the last dim's factor)."""
    f = np.ceil(shape[3] / 2.0)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    x = np.arange(shape[3], dtype=np.float64)
    y = np.arange(shape[2], dtype=np.float64)
    k = np.outer(1 - np.abs(y / f - c), 1 - np.abs(x / f - c)).astype(np.float32)
    return np.broadcast_to(k, shape)


class Load:
    """Initialize from a dict of arrays (or a .params file), falling back to
    `default_init` for names not found; 'arg:'/'aux:' prefixes are dropped."""

    def __init__(self, param, default_init=None, verbose=False):
        if isinstance(param, str):
            param = _nd_load(param)
        if not isinstance(param, dict):
            raise TypeError("Load expects a dict of NDArrays or a file holding one")
        self.param = {}
        for name, arr in param.items():
            key = name[4:] if name.startswith(("arg:", "aux:")) else name
            self.param[key] = arr
        self.default_init = default_init
        self.verbose = verbose

    def __call__(self, name, arr):
        if name in self.param:
            src = self.param[name]
            if arr.shape != src.shape:
                raise ValueError("Parameter %s cannot be initialized from loading. Shape "
                                 "mismatch, target %s vs loaded %s"
                                 % (name, str(arr.shape), src.shape))
            arr[:] = src
            if self.verbose:
                logging.info("Initialized %s by loading", name)
            return
        if self.default_init is None:
            raise ValueError("Cannot Initialize %s. Not found in loaded param and no default "
                             "Initializer is provided." % name)
        self.default_init(name, arr)
        if self.verbose:
            logging.info("Initialized %s by default", name)


class Mixed:
    """Pick the initializer of the first regex (re.match) matching the parameter name."""

    def __init__(self, patterns, initializers):
        if len(patterns) != len(initializers):
            raise ValueError("Mixed needs as many patterns as initializers (%d vs %d)"
                             % (len(patterns), len(initializers)))
        self.map = list(zip([re.compile(p) for p in patterns], initializers))

    def __call__(self, name, arr):
        for prog, init in self.map:
            if prog.match(name):
                init(name, arr)
                return
        raise ValueError("Parameter name %s did not match any pattern. Consider add a \".*\" "
                         "pattern at the and with default Initializer." % name)


@register
@alias("zeros")
class Zero(Initializer):
    """Fills with 0."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        arr[:] = 0


@register
@alias("ones")
class One(Initializer):
    """Fills with 1."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        arr[:] = 1


@register
class Constant(Initializer):
    """Fills with `value` (a scalar or an array broadcast to the parameter's shape)."""

    def __init__(self, value):
        super().__init__(value=value)
        self.value = value

    def _init_weight(self, _, arr):
        arr[:] = self.value

    def dumps(self):
        val = self._kwargs["value"]
        if not np.isscalar(val):
            self._kwargs["value"] = (val.tolist() if isinstance(val, np.ndarray)
                                     else val.asnumpy().tolist())
        return json.dumps([self.__class__.__name__.lower(), self._kwargs])


@register
class Uniform(Initializer):
    """Uniform draws in [-scale, scale)."""

    def __init__(self, scale=0.07):
        super().__init__(scale=scale)
        self.scale = scale

    def _init_weight(self, _, arr):
        _random.uniform(-self.scale, self.scale, arr.shape, out=arr)


@register
class Normal(Initializer):
    """Normal draws with mean 0 and standard deviation sigma."""

    def __init__(self, sigma=0.01):
        super().__init__(sigma=sigma)
        self.sigma = sigma

    def _init_weight(self, _, arr):
        _random.normal(0, self.sigma, arr.shape, out=arr)


@register
class Orthogonal(Initializer):
    """scale * an orthogonal matrix (from the SVD of a uniform or normal draw of shape
    (shape[0], prod(shape[1:])))."""

    def __init__(self, scale=1.414, rand_type="uniform"):
        super().__init__(scale=scale, rand_type=rand_type)
        self.scale = scale
        self.rand_type = rand_type

    def _init_weight(self, _, arr):
        nout = arr.shape[0]
        nin = int(np.prod(arr.shape[1:]))
        if self.rand_type == "uniform":
            tmp = _random.uniform(-1.0, 1.0, shape=(nout, nin)).asnumpy()
        elif self.rand_type == "normal":
            tmp = _random.normal(0.0, 1.0, shape=(nout, nin)).asnumpy()
        else:
            raise ValueError("Unknown random type %r (expected 'uniform' or 'normal')"
                             % (self.rand_type,))
        u, _, v = np.linalg.svd(tmp, full_matrices=False)
        res = u if u.shape == tmp.shape else v
        arr[:] = self.scale * res.reshape(arr.shape)


def _xavier_scale(shape, factor_type, magnitude, name=""):
    """sqrt(magnitude / factor) with MXNet's fan_in/fan_out (dims 2+ count as receptive
    field: fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:]))."""
    if len(shape) < 2:
        raise ValueError("Xavier initializer cannot be applied to vector {0}. It requires at "
                         "least 2D.".format(name))
    hw_scale = float(np.prod(shape[2:])) if len(shape) > 2 else 1.0
    fan_in, fan_out = shape[1] * hw_scale, shape[0] * hw_scale
    if factor_type == "avg":
        factor = (fan_in + fan_out) / 2.0
    elif factor_type == "in":
        factor = fan_in
    elif factor_type == "out":
        factor = fan_out
    else:
        raise ValueError("Incorrect factor type")
    return np.sqrt(magnitude / factor)


@register
class Xavier(Initializer):
    """Glorot/Xavier: uniform in [-s, s] or normal with std s, s = sqrt(magnitude / factor),
    factor = (fan_in + fan_out) / 2 ('avg'), fan_in ('in') or fan_out ('out')."""

    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        self.rnd_type = rnd_type
        self.factor_type = factor_type
        self.magnitude = float(magnitude)

    def _init_weight(self, name, arr):
        scale = float(_xavier_scale(arr.shape, self.factor_type, self.magnitude, name))
        if self.rnd_type == "uniform":
            _random.uniform(-scale, scale, arr.shape, out=arr)
        elif self.rnd_type == "gaussian":
            _random.normal(0, scale, arr.shape, out=arr)
        else:
            raise ValueError("Unknown random type")


@register
class MSRAPrelu(Xavier):
    """He/MSRA init for PReLU: gaussian Xavier with magnitude 2 / (1 + slope**2)."""

    def __init__(self, factor_type="avg", slope=0.25):
        super().__init__("gaussian", factor_type, 2.0 / (1 + slope ** 2))
        self._kwargs = {"factor_type": factor_type, "slope": slope}


@register
class Bilinear(Initializer):
    """The bilinear upsampling kernel (for Deconvolution weights of shape (N, C, H, W))."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        arr[:] = _bilinear_kernel(arr.shape)


@register
class LSTMBias(Initializer):
    """Zeros except the forget gate's quarter (the 2nd), set to forget_bias."""

    def __init__(self, forget_bias=1.0):
        super().__init__(forget_bias=forget_bias)
        self.forget_bias = forget_bias

    def _init_weight(self, name, arr):
        arr[:] = 0.0
        num_hidden = int(arr.shape[0] / 4)
        arr[num_hidden:2 * num_hidden] = self.forget_bias


@register
class FusedRNN(Initializer):
    """Initialises the packed parameter vector of a fused RNN (the RNN op's one
    `<prefix>parameters` array, e.g. mx.rnn.FusedRNNCell's) gate by gate: the vector is
    unpacked into per-layer, per-direction, per-gate weights and biases
    (`l0_i2h_i_weight`, `r1_h2h_f_bias`, ...), each is filled by `init` (an Initializer or
    its dumps() JSON; None: the global initializer of the call), by its own shape and
    name suffix, then repacked.  For mode='lstm' the forget-gate biases (`..._f_bias`, of
    both i2h and h2h) are set to forget_bias instead.  num_hidden, num_layers, mode and
    bidirectional must be those of the fused cell; the input size is deduced from the
    vector's length."""

    def __init__(self, init, num_hidden, num_layers, mode, bidirectional=False,
                 forget_bias=1.0):
        if isinstance(init, str):
            init = create(init)
        super().__init__(init=init.dumps() if init is not None else None,
                         num_hidden=num_hidden, num_layers=num_layers, mode=mode,
                         bidirectional=bidirectional, forget_bias=forget_bias)
        self._init, self._num_hidden, self._num_layers = init, num_hidden, num_layers
        self._mode, self._bidirectional, self._forget_bias = mode, bidirectional, forget_bias

    def _init_weight(self, desc, arr):
        from ..rnn import FusedRNNCell  # the legacy mx.rnn module, which imports gluon
        cell = FusedRNNCell(self._num_hidden, self._num_layers, self._mode,
                            self._bidirectional, forget_bias=self._forget_bias, prefix="")
        args = cell.unpack_weights({"parameters": arr})
        global_init = getattr(desc, "global_init", None)
        for name in args:
            part = InitDesc(name, global_init=global_init)
            if self._mode == "lstm" and name.endswith("_f_bias"):
                args[name][:] = self._forget_bias
            elif self._init is None:
                if global_init is None:
                    raise ValueError("FusedRNN(init=None) needs a global initializer: call "
                                     "it through one (e.g. net.initialize(mx.init.Xavier()))")
                global_init(part, args[name])
            else:
                self._init(part, args[name])
        arr[:] = cell.pack_weights(args)["parameters"]
