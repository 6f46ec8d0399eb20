"""Gluon parameters: Parameter, Constant, ParameterDict (MXNet 1.9's gluon.parameter;
ParameterDict lives in parameter_dict.py).

A Parameter holds one copy of its value per context once initialized, plus a gradient
buffer per copy (marked for autograd) unless grad_req is 'null'.  A shape with 0 dims is
unknown: with allow_deferred_init, initialize() only records (init, ctx, default_init,
data) and the block layer finishes the job (`_finish_deferred_init`) once it has set
`param.shape` from the inferred shapes.
"""
import warnings

import numpy as np

from ..core import autograd
from ..core.base import MXNetError
from ..core.context import Context, cpu, current_context
from .. import ndarray
from ..ndarray import NDArray
from .. import symbol
from . import initializer
from .utils import _brief_print_list, _indent, shape_is_known  # noqa: F401  (re-exported)

__all__ = ["DeferredInitializationError", "Parameter", "Constant", "ParameterDict",
           "tensor_types"]

tensor_types = (symbol.Symbol, NDArray)

_NAMING_URL = "https://mxnet.io/api/python/docs/tutorials/packages/gluon/blocks/naming.html"


class DeferredInitializationError(MXNetError):
    """Error for unfinished deferred initialization."""


def _as_ctx_list(ctx):
    if ctx is None:
        return [current_context()]
    if isinstance(ctx, Context):
        return [ctx]
    return list(ctx)


def _same_dtype(a, b):
    return np.dtype(a) == np.dtype(b)


class Parameter:
    """A weight of a Block: its value on each context after initialize(), and a gradient
    buffer per context unless grad_req='null'.  shape dims of 0 are unknown (deferred
    initialization fills them in at the first forward)."""

    def __init__(self, name, grad_req="write", shape=None, dtype=np.float32, lr_mult=1.0,
                 wd_mult=1.0, init=None, allow_deferred_init=False, differentiable=True,
                 stype="default", grad_stype="default"):
        self._var = None
        self._data = None
        self._grad = None
        self._ctx_list = None
        self._ctx_map = None
        self._trainer = None
        self._deferred_init = ()
        self._differentiable = differentiable
        self._allow_deferred_init = allow_deferred_init
        self._grad_req = None
        if isinstance(shape, int):
            shape = (shape,)
        self._shape = tuple(shape) if shape is not None else None
        self.name = name
        self._dtype = dtype
        self.lr_mult = lr_mult
        self.wd_mult = wd_mult
        self.grad_req = grad_req
        self.init = init
        valid = ("default", "row_sparse", "csr")
        if grad_stype not in valid:
            raise AssertionError("grad_stype for Parameter '%s' must be one of 'default', "
                                 "'row_sparse', or 'csr', but got '%s'" % (name, grad_stype))
        if stype not in valid:
            raise AssertionError("stype for Parameter '%s' must be one of 'default', "
                                 "'row_sparse', or 'csr', but got '%s'" % (name, stype))
        if stype != "default" or grad_stype == "csr":
            raise NotImplementedError("Parameter '%s': sparse storage types are not supported "
                                      "by plait yet (stype=%r, grad_stype=%r); only "
                                      "grad_stype='row_sparse' is, as a dense gradient with "
                                      "lazy row updates" % (name, stype, grad_stype))
        self._grad_stype = grad_stype
        self._stype = stype

    def __repr__(self):
        return "Parameter %s (shape=%s, dtype=%s)" % (self.name, self.shape, self.dtype)

    # -- attributes ------------------------------------------------------------------------------
    @property
    def grad_req(self):
        return self._grad_req

    @grad_req.setter
    def grad_req(self, req):
        if req not in ("write", "add", "null"):
            raise AssertionError("grad_req must be one of 'write', 'add', or 'null', but got "
                                 "'%s'" % req)
        if not self._differentiable:
            req = "null"
        if self._grad_req == req:
            return
        self._grad_req = req
        if req == "null" and self._grad is not None:
            self._grad = None
            self._data = [d.detach() for d in self._data]
        elif self._data is not None:
            self._init_grad()

    @property
    def dtype(self):
        return self._dtype

    @dtype.setter
    def dtype(self, dtype):
        self.cast(dtype)

    @property
    def shape(self):
        return self._shape

    @shape.setter
    def shape(self, new_shape):
        new_shape = tuple(new_shape)
        if self._shape is None:
            self._shape = new_shape
            return
        if len(self._shape) != len(new_shape) or not all(
                j in (0, i) for i, j in zip(new_shape, self._shape)):
            raise AssertionError("Expected shape %s is incompatible with given shape %s."
                                 % (str(new_shape), str(self._shape)))
        self._shape = new_shape

    @property
    def stype(self):
        return self._stype

    def _set_trainer(self, trainer):
        self._trainer = trainer

    # -- access --------------------------------------------------------------------------------------
    def _check_and_get(self, arr_list, ctx):
        if arr_list is not None:
            if ctx is list:
                return arr_list
            if ctx is None:
                if len(arr_list) == 1:
                    return arr_list[0]
                ctx = current_context()
            ctx_list = self._ctx_map[ctx.device_typeid & 1]
            if ctx.device_id < len(ctx_list):
                idx = ctx_list[ctx.device_id]
                if idx is not None:
                    return arr_list[idx]
            raise RuntimeError("Parameter '%s' was not initialized on context %s. It was only "
                               "initialized on %s." % (self.name, str(ctx),
                                                       str(self._ctx_list)))
        if self._deferred_init:
            raise DeferredInitializationError(
                "Parameter '%s' has not been initialized yet because initialization was "
                "deferred. Actual initialization happens during the first forward pass. "
                "Please pass one batch of data through the network before accessing "
                "Parameters. You can also avoid deferred initialization by specifying in_units, "
                "num_features, etc., for network layers." % self.name)
        raise RuntimeError(
            "Parameter '%s' has not been initialized. Note that you should initialize "
            "parameters and create Trainer with Block.collect_params() instead of Block.params "
            "because the later does not include Parameters of nested child Blocks" % self.name)

    def data(self, ctx=None):
        """This parameter's array on `ctx` (the only one when ctx is None and there is one)."""
        return self._check_and_get(self._data, ctx)

    def list_data(self):
        """The arrays on every context, in initialization order."""
        return self._check_and_get(self._data, list)

    def grad(self, ctx=None):
        """The gradient buffer on `ctx`."""
        if self._data is not None and self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because "
                               "grad_req='null'" % self.name)
        return self._check_and_get(self._grad, ctx)

    def list_grad(self):
        """The gradient buffers on every context."""
        if self._data is not None and self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because "
                               "grad_req='null'" % self.name)
        return self._check_and_get(self._grad, list)

    def list_ctx(self):
        """The contexts this parameter is (or, when deferred, will be) initialized on."""
        if self._data is None:
            if self._deferred_init:
                return self._deferred_init[1]
            raise RuntimeError("Parameter '%s' has not been initialized" % self.name)
        return self._ctx_list

    # -- initialization ------------------------------------------------------------------------------
    def initialize(self, init=None, ctx=None, default_init=initializer.Uniform(),
                   force_reinit=False):
        """Allocate and fill the parameter on `ctx` (a Context or a list of them; default
        the current context) with `init`, else self.init, else `default_init`.  With an
        unknown shape and allow_deferred_init, initialization waits for the shape."""
        if self._data is not None and not force_reinit:
            warnings.warn("Parameter '%s' is already initialized, ignoring. Set "
                          "force_reinit=True to re-initialize." % self.name, stacklevel=2)
            return
        self._data = self._grad = None
        ctx = _as_ctx_list(ctx)
        if init is None:
            init = default_init if self.init is None else self.init
        if not shape_is_known(self.shape):
            if self._allow_deferred_init:
                self._deferred_init = (init, ctx, default_init, None)
                return
            raise ValueError("Cannot initialize Parameter '%s' because it has invalid shape: "
                             "%s." % (self.name, str(self.shape)))
        self._deferred_init = (init, ctx, default_init, None)
        self._finish_deferred_init()

    def _finish_deferred_init(self):
        """Run the recorded initialization now that the shape is known."""
        if not self._deferred_init:
            return
        init, ctx, default_init, data = self._deferred_init
        self._deferred_init = ()
        if not shape_is_known(self.shape):
            raise AssertionError("Cannot initialize Parameter '%s' because it has invalid "
                                 "shape: %s. Please specify in_units, in_channels, etc for "
                                 "`Block`s." % (self.name, str(self.shape)))
        with autograd.pause():
            if data is None:
                data = ndarray.zeros(self.shape, dtype=self.dtype, ctx=cpu())
                initializer.create(default_init)(
                    initializer.InitDesc(self.name, {"__init__": init}), data)
            self._init_impl(data, ctx)

    def _init_impl(self, data, ctx_list):
        self._ctx_list = list(ctx_list)
        self._ctx_map = [[], []]
        for i, ctx in enumerate(self._ctx_list):
            dev_list = self._ctx_map[ctx.device_typeid & 1]
            while len(dev_list) <= ctx.device_id:
                dev_list.append(None)
            dev_list[ctx.device_id] = i
        self._data = [data.copyto(ctx) for ctx in self._ctx_list]
        self._init_grad()

    def _init_grad(self):
        if self.grad_req == "null":
            self._grad = None
            return
        self._grad = [ndarray.zeros(d.shape, dtype=d.dtype, ctx=d.context) for d in self._data]
        autograd.mark_variables(self._check_and_get(self._data, list), self._grad,
                                self.grad_req)

    def _reduce(self):
        """The mean of the copies, on cpu."""
        block = self.list_data()
        if len(block) == 1:
            return block[0].copyto(cpu())
        total = block[0].copyto(cpu())
        for w in block[1:]:
            total = total + w.copyto(cpu())
        return total / len(block)

    def _load_init(self, data, ctx, cast_dtype=False, dtype_source="current"):
        """(Re)initialize from loaded `data`, checking shape and dtype as MXNet does."""
        if cast_dtype and dtype_source not in ("current", "saved"):
            raise AssertionError("dtype_source must be 'current' or 'saved', got %r"
                                 % (dtype_source,))
        if self.shape:
            for self_dim, data_dim in zip(self.shape, data.shape):
                if self_dim not in (0, data_dim):
                    raise AssertionError(
                        "Failed loading Parameter '%s' from saved params: shape incompatible "
                        "expected %s vs saved %s" % (self.name, str(self.shape),
                                                     str(data.shape)))
            self.shape = tuple(i if i != 0 else j for i, j in zip(self.shape, data.shape))
        if self.dtype:
            if cast_dtype and not _same_dtype(self.dtype, data.dtype):
                if dtype_source == "current":
                    data = data.astype(self.dtype, copy=False)
                else:
                    self.dtype = data.dtype
            elif not _same_dtype(self.dtype, data.dtype):
                raise AssertionError(
                    "Failed loading Parameter '%s' from saved params: dtype incompatible "
                    "expected %s vs saved %s. Set cast_dtype=True to cast the dtype of saved "
                    "params." % (self.name, str(self.dtype), str(data.dtype)))
        if isinstance(ctx, Context):
            ctx = [ctx]
        if self._data is None:
            if self._deferred_init:
                if ctx is not None and set(ctx) != set(self._deferred_init[1]):
                    raise AssertionError("Failed to load Parameter '%s' on %s because it was "
                                         "previous initialized on %s."
                                         % (self.name, str(ctx), str(self.list_ctx())))
                ctx = self._deferred_init[1]
            elif ctx is None:
                ctx = [cpu()]
            self._init_impl(data, ctx)
        else:
            if ctx is not None and set(ctx) != set(self.list_ctx()):
                raise AssertionError("Failed to load Parameter '%s' on %s because it was "
                                     "previous initialized on %s."
                                     % (self.name, str(ctx), str(self.list_ctx())))
            self.set_data(data)
        self._deferred_init = ()

    # -- mutation --------------------------------------------------------------------------------------
    def reset_ctx(self, ctx):
        """Move the parameter (its mean over current copies) onto other context(s)."""
        ctx = _as_ctx_list(ctx)
        if self._data:
            data = self._reduce()
            with autograd.pause():
                self._init_impl(data, ctx)
        elif self._deferred_init:
            init, _, default_init, data = self._deferred_init
            self._deferred_init = (init, ctx, default_init, data)
        else:
            raise ValueError("Cannot reset context for Parameter '%s' because it has not been "
                             "initialized." % self.name)

    def set_data(self, data):
        """Set the value on every context (or the data a deferred init will use)."""
        self.shape = data.shape
        if self._data is None:
            if not self._deferred_init:
                raise AssertionError("Parameter '%s' has not been initialized" % self.name)
            self._deferred_init = self._deferred_init[:3] + (data,)
            return
        trainer = self._trainer
        if trainer is not None and getattr(trainer, "_kv_initialized", False) and \
                getattr(trainer, "_update_on_kvstore", False):
            if self not in getattr(trainer, "_params_to_init", ()):
                trainer._reset_kvstore()
        for arr in self._check_and_get(self._data, list):
            if isinstance(data, NDArray) and data.context != arr.context:
                arr[:] = data.as_in_context(arr.context)
            else:
                arr[:] = data

    def zero_grad(self):
        """Set the gradient buffers to 0 (no-op without gradients)."""
        if self._grad is None:
            return
        for g in self._grad:
            g[:] = 0

    def var(self):
        """A Symbol variable for this parameter (shape/dtype/lr_mult/wd_mult/init attrs)."""
        if self._var is None:
            self._var = symbol.var(self.name, shape=self.shape, dtype=self.dtype,
                                   lr_mult=self.lr_mult, wd_mult=self.wd_mult, init=self.init,
                                   stype=self._stype)
        return self._var

    def cast(self, dtype):
        """Cast the value and gradient buffers to `dtype`."""
        self._dtype = dtype
        if self._data is None:
            return
        with autograd.pause():
            self._data = [d.astype(dtype) for d in self._data]
            if self._grad is None:
                return
            self._grad = [g.astype(dtype) for g in self._grad]
            autograd.mark_variables(self._data, self._grad, self.grad_req)


class Constant(Parameter):
    """A parameter holding a fixed value (grad_req is always 'null'); set_data still works."""

    def __init__(self, name, value):
        if not isinstance(value, NDArray):
            value = ndarray.array(value)
        self.value = value

        class _ConstInit(initializer.Initializer):
            def _init_weight(self, _, arr):
                value.copyto(arr)

        init_name = "Constant_{}_{}".format(name, id(self))
        initializer.alias(init_name)(_ConstInit)
        super().__init__(name, grad_req="null", shape=value.shape, dtype=value.dtype,
                         init=init_name)

    def __repr__(self):
        return "Constant %s (shape=%s, dtype=%s)" % (self.name, self.shape, self.dtype)

    @property
    def grad_req(self):
        return "null"

    @grad_req.setter
    def grad_req(self, req):
        if req != "null":
            warnings.warn('Constant parameter "{}" does not support grad_req other than "null", '
                          'and new value "{}" is ignored.'.format(self.name, req))


from .parameter_dict import ParameterDict  # noqa: E402  (split out for size; same API)
