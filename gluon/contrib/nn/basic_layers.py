"""Contributed layers: Concurrent/HybridConcurrent (also under their later MXNet names
Concatenate/HybridConcatenate), Identity, PixelShuffle1D/2D/3D, SyncBatchNorm."""
from .... import ndarray
from ...block_containers import Sequential, HybridSequential
from ...block import HybridBlock
from ...nn.basic_layers import Identity
from ...nn.norm_layers import BatchNorm

__all__ = ["Concurrent", "HybridConcurrent", "Concatenate", "HybridConcatenate", "Identity",
           "PixelShuffle1D", "PixelShuffle2D", "PixelShuffle3D", "SyncBatchNorm",
           "SparseEmbedding"]


class Concurrent(Sequential):
    """Runs every child on the same input and concatenates their outputs along `axis`."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def forward(self, x):
        return ndarray.concat(*[block(x) for block in self._children.values()], dim=self.axis)


class HybridConcurrent(HybridSequential):
    """Hybridizable Concurrent."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def hybrid_forward(self, F, x):
        return F.concat(*[block(x) for block in self._children.values()], dim=self.axis)


Concatenate = Concurrent
HybridConcatenate = HybridConcurrent


def _factors(factor, n):
    try:
        factors = (int(factor),) * n
    except TypeError:
        factors = tuple(int(f) for f in factor)
        if len(factors) != n:
            raise AssertionError("wrong length {}".format(len(factors)))
    return factors


class PixelShuffle1D(HybridBlock):
    """(N, f*C, W) -> (N, C, W*f)."""

    def __init__(self, factor):
        super().__init__()
        self._factor = int(factor)

    def hybrid_forward(self, F, x):
        f = self._factor
        x = F.reshape(x, (0, -4, -1, f, 0))       # (N, C, f, W)
        x = F.transpose(x, (0, 1, 3, 2))          # (N, C, W, f)
        return F.reshape(x, (0, 0, -3))           # (N, C, W*f)

    def __repr__(self):
        return "{}({})".format(type(self).__name__, self._factor)


class PixelShuffle2D(HybridBlock):
    """(N, f1*f2*C, H, W) -> (N, C, H*f1, W*f2)."""

    def __init__(self, factor):
        super().__init__()
        self._factors = _factors(factor, 2)

    def hybrid_forward(self, F, x):
        f1, f2 = self._factors
        x = F.reshape(x, (0, -4, -1, f1 * f2, 0, 0))      # (N, C, f1*f2, H, W)
        x = F.reshape(x, (0, 0, -4, f1, f2, 0, 0))        # (N, C, f1, f2, H, W)
        x = F.transpose(x, (0, 1, 4, 2, 5, 3))            # (N, C, H, f1, W, f2)
        return F.reshape(x, (0, 0, -3, -3))               # (N, C, H*f1, W*f2)

    def __repr__(self):
        return "{}({})".format(type(self).__name__, self._factors)


class PixelShuffle3D(HybridBlock):
    """(N, f1*f2*f3*C, D, H, W) -> (N, C, D*f1, H*f2, W*f3)."""

    def __init__(self, factor):
        super().__init__()
        self._factors = _factors(factor, 3)

    def hybrid_forward(self, F, x):
        f1, f2, f3 = self._factors
        x = F.reshape(x, (0, -4, -1, f1 * f2 * f3, 0, 0, 0))   # (N, C, f1*f2*f3, D, H, W)
        x = F.swapaxes(x, 2, 3)                                # (N, C, D, f1*f2*f3, H, W)
        x = F.reshape(x, (0, 0, 0, -4, f1, f2 * f3, 0, 0))     # (N, C, D, f1, f2*f3, H, W)
        x = F.reshape(x, (0, 0, -3, 0, 0, 0))                  # (N, C, D*f1, f2*f3, H, W)
        x = F.swapaxes(x, 3, 4)                                # (N, C, D*f1, H, f2*f3, W)
        x = F.reshape(x, (0, 0, 0, 0, -4, f2, f3, 0))          # (N, C, D*f1, H, f2, f3, W)
        x = F.reshape(x, (0, 0, 0, -3, 0, 0))                  # (N, C, D*f1, H*f2, f3, W)
        x = F.swapaxes(x, 4, 5)                                # (N, C, D*f1, H*f2, W, f3)
        return F.reshape(x, (0, 0, 0, 0, -3))                  # (N, C, D*f1, H*f2, W*f3)

    def __repr__(self):
        return "{}({})".format(type(self).__name__, self._factors)


class SyncBatchNorm(BatchNorm):
    """Cross-device synchronised batch normalization (MXNet 1.9's contrib SyncBatchNorm),
    with MXNet's arguments and parameter names (gamma, beta, running_mean, running_var).

    It runs the `_contrib_SyncBatchNorm` operator (channel axis 1) with ndev=num_devices
    and key=the block's prefix, as MXNet.  In plait each call normalizes with the
    statistics of its own batch: on one device (or one process) this is exactly BatchNorm;
    batches split over several devices are not pooled (see core/ops/contrib_syncbn.py).

    num_devices defaults to the number of GPUs (1 without GPUs)."""

    def __init__(self, in_channels=0, num_devices=None, momentum=0.9, epsilon=1e-5,
                 center=True, scale=True, use_global_stats=False, beta_initializer="zeros",
                 gamma_initializer="ones", running_mean_initializer="zeros",
                 running_variance_initializer="ones", **kwargs):
        super().__init__(axis=1, momentum=momentum, epsilon=epsilon, center=center,
                         scale=scale, use_global_stats=use_global_stats,
                         beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                         running_mean_initializer=running_mean_initializer,
                         running_variance_initializer=running_variance_initializer,
                         in_channels=in_channels, **kwargs)
        if num_devices is None:
            from ....core.context import num_gpus
            num_devices = num_gpus() or 1
        self._kwargs = {"eps": epsilon, "momentum": momentum, "fix_gamma": not scale,
                        "use_global_stats": use_global_stats, "ndev": int(num_devices),
                        "key": self.prefix}

    def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
        return F.contrib.SyncBatchNorm(x, gamma, beta, running_mean, running_var, name="fwd",
                                       **self._kwargs)


from ...block import Block  # noqa: E402


class SparseEmbedding(Block):
    """Maps integer indices to rows of a (input_dim, output_dim) weight, MXNet's contrib
    name and parameter (`sparseembedding0_weight`).

    MXNet stores this weight and its gradient as RowSparseNDArrays; plait has no sparse
    storage, so here both are dense: the gradient is a dense (input_dim, output_dim) array,
    zero except the rows of the looked-up indices (the same values as MXNet's row_sparse
    gradient once made dense).  Its grad_stype is 'row_sparse', so SGD and Adam with
    lazy_update touch only the looked-up rows, as MXNet's do (gluon/optimizer_rows.py).
    A plain Block, as in MXNet (not hybridizable)."""

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"input_dim": input_dim, "output_dim": output_dim, "dtype": dtype,
                        "sparse_grad": True}
        self.weight = self.params.get("weight", shape=(input_dim, output_dim),
                                      init=weight_initializer, dtype=dtype,
                                      grad_stype="row_sparse")

    def forward(self, x):
        weight = self.weight.data(x.context)
        return ndarray.Embedding(x, weight, name="fwd", **self._kwargs)

    def __repr__(self):
        return "{block_name}({input_dim} -> {output_dim}, {dtype})".format(
            block_name=type(self).__name__, **self._kwargs)
