"""Normalisation layers (MXNet 1.9's gluon.nn.basic_layers): BatchNorm, BatchNormReLU,
InstanceNorm, LayerNorm, GroupNorm."""
import numpy as np

from ...ndarray import NDArray
from ..block import HybridBlock
from ._helpers import named_errors, kwargs_repr

__all__ = ["BatchNorm", "BatchNormReLU", "InstanceNorm", "LayerNorm", "GroupNorm"]


class _BatchNorm(HybridBlock):
    """Shared body of BatchNorm and BatchNormReLU.

    gamma/beta are trained (grad_req 'null' when scale/center is off: gamma then stays at
    its initial ones); running_mean/running_var are grad_req='null' parameters that the
    BatchNorm operator updates in place when it runs in training mode
    (running = momentum * running + (1 - momentum) * batch statistic)."""

    def __init__(self, axis=1, momentum=0.9, epsilon=1e-5, center=True, scale=True,
                 use_global_stats=False, fuse_relu=False, beta_initializer="zeros",
                 gamma_initializer="ones", running_mean_initializer="zeros",
                 running_variance_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"axis": axis, "eps": epsilon, "momentum": momentum,
                        "fix_gamma": not scale, "use_global_stats": use_global_stats}
        self.fuse_relu = fuse_relu
        if in_channels != 0:
            self.in_channels = in_channels
        self.gamma = self.params.get("gamma", grad_req="write" if scale else "null",
                                     shape=(in_channels,), init=gamma_initializer,
                                     allow_deferred_init=True, differentiable=scale)
        self.beta = self.params.get("beta", grad_req="write" if center else "null",
                                    shape=(in_channels,), init=beta_initializer,
                                    allow_deferred_init=True, differentiable=center)
        self.running_mean = self.params.get("running_mean", grad_req="null",
                                            shape=(in_channels,),
                                            init=running_mean_initializer,
                                            allow_deferred_init=True, differentiable=False)
        self.running_var = self.params.get("running_var", grad_req="null",
                                           shape=(in_channels,),
                                           init=running_variance_initializer,
                                           allow_deferred_init=True, differentiable=False)

    def cast(self, dtype):
        # MXNet keeps BatchNorm's parameters in float32 under float16 networks.
        if np.dtype(dtype).name == "float16":
            dtype = "float32"
        super().cast(dtype)

    def forward(self, x, *args):
        if self._kwargs["fix_gamma"] and isinstance(x, NDArray):
            # As MXNet 1.9's BatchNorm kernels do, a fixed gamma is written back as ones
            # (visible in gamma.data() and in saved parameters).
            try:
                datas = self.gamma.list_data()
            except Exception:  # not initialized yet: forward reports it
                datas = []
            for d in datas:
                d[:] = 1
        return super().forward(x, *args)

    @named_errors
    def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
        op = F.contrib.BatchNormWithReLU if self.fuse_relu else F.BatchNorm
        return op(x, gamma, beta, running_mean, running_var, name="fwd", **self._kwargs)

    def __repr__(self):
        in_channels = self.gamma.shape[0]
        return "{name}({content}, in_channels={ch})".format(
            name=type(self).__name__, content=kwargs_repr(self._kwargs),
            ch=in_channels if in_channels else None)


class BatchNorm(_BatchNorm):
    """Batch normalisation over every axis but `axis` (the channel axis)."""

    _fuse_relu = False

    def __init__(self, axis=1, momentum=0.9, epsilon=1e-5, center=True, scale=True,
                 use_global_stats=False, beta_initializer="zeros", gamma_initializer="ones",
                 running_mean_initializer="zeros", running_variance_initializer="ones",
                 in_channels=0, **kwargs):
        super().__init__(axis=axis, momentum=momentum, epsilon=epsilon, center=center,
                         scale=scale, use_global_stats=use_global_stats,
                         fuse_relu=self._fuse_relu, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer,
                         running_mean_initializer=running_mean_initializer,
                         running_variance_initializer=running_variance_initializer,
                         in_channels=in_channels, **kwargs)


class BatchNormReLU(BatchNorm):
    """BatchNorm followed by ReLU, as one operator (contrib.BatchNormWithReLU, as MXNet)."""

    _fuse_relu = True


class _AffineNorm(HybridBlock):
    """gamma/beta of shape (size,) with MXNet's grad_req rule for center/scale."""

    def _affine(self, center, scale, size, beta_initializer, gamma_initializer):
        self.gamma = self.params.get("gamma", grad_req="write" if scale else "null",
                                     shape=(size,), init=gamma_initializer,
                                     allow_deferred_init=True)
        self.beta = self.params.get("beta", grad_req="write" if center else "null",
                                    shape=(size,), init=beta_initializer,
                                    allow_deferred_init=True)

    def __repr__(self):
        return "{name}({content}, in_channels={ch})".format(
            name=type(self).__name__, content=kwargs_repr(self._kwargs),
            ch=self.gamma.shape[0])


class InstanceNorm(_AffineNorm):
    """Normalises each (sample, channel) over the remaining axes; `axis` is the channel
    axis (moved to 1 around the operator when it is not 1)."""

    def __init__(self, axis=1, epsilon=1e-5, center=True, scale=False,
                 beta_initializer="zeros", gamma_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"eps": epsilon, "axis": axis, "center": center, "scale": scale}
        self._axis = axis
        self._epsilon = epsilon
        self._affine(center, scale, in_channels, beta_initializer, gamma_initializer)

    @named_errors
    def hybrid_forward(self, F, x, gamma, beta):
        if self._axis == 1:
            return F.InstanceNorm(x, gamma, beta, name="fwd", eps=self._epsilon)
        x = x.swapaxes(1, self._axis)
        return F.InstanceNorm(x, gamma, beta, name="fwd",
                              eps=self._epsilon).swapaxes(1, self._axis)


class LayerNorm(_AffineNorm):
    """Normalises over `axis` (default the last) for every other index."""

    def __init__(self, axis=-1, epsilon=1e-5, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", in_channels=0,
                 prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._kwargs = {"eps": epsilon, "axis": axis, "center": center, "scale": scale}
        self._axis = axis
        self._epsilon = epsilon
        self._center = center
        self._scale = scale
        self._affine(center, scale, in_channels, beta_initializer, gamma_initializer)

    @named_errors
    def hybrid_forward(self, F, data, gamma, beta):
        return F.LayerNorm(data, gamma=gamma, beta=beta, axis=self._axis, eps=self._epsilon)


class GroupNorm(_AffineNorm):
    """Splits the channels (axis 1) into num_groups groups and normalises each group of
    each sample.  As in MXNet 1.9, gamma and beta have shape (num_groups,)."""

    def __init__(self, num_groups=1, epsilon=1e-5, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._kwargs = {"eps": epsilon, "num_groups": num_groups, "center": center,
                        "scale": scale}
        self._num_groups = num_groups
        self._epsilon = epsilon
        self._center = center
        self._scale = scale
        self._affine(center, scale, num_groups, beta_initializer, gamma_initializer)

    @named_errors
    def hybrid_forward(self, F, data, gamma, beta):
        return F.GroupNorm(data, gamma=gamma, beta=beta, num_groups=self._num_groups,
                           eps=self._epsilon)

    def __repr__(self):
        return "{name}({content})".format(name=type(self).__name__,
                                          content=kwargs_repr(self._kwargs))
