"""`_contrib_SyncBatchNorm` (MXNet 1.9's contrib/sync_batch_norm) with MXNet's parameters
(eps, momentum, fix_gamma, use_global_stats, output_mean_var, ndev, key).

MXNet synchronises the batch statistics of `ndev` GPUs of one process through a barrier
named by `key`.  plait runs every device of a process in one engine and has no such
barrier: each call normalises with the statistics of its own batch, i.e. it is BatchNorm
on channel axis 1 (the BatchNorm op's kernels, gradient and moving-statistics update are
reused through the registry).  For statistics over several processes, all-reduce them
with mx.kv.  Differences from BatchNorm's outputs, as MXNet: output_mean_var gives the
mean and the (biased) variance, not the inverse std; in inference those are the moving
statistics (MXNet 1.9.1 leaves them unset there).  As BatchNorm (and MXNet), the moving
statistics are updated in the backward of a training-mode call.
"""
import numpy as np

from .params import Attrs, Param, non_negative, positive
from .registry import BadSample, OpDef, Sample, get, register
from .sampling import values

_BN = get("BatchNorm")


def _bn_attrs(a, **over):
    """SyncBatchNorm's attrs as BatchNorm's (channel axis 1)."""
    b = Attrs(eps=a.eps, momentum=a.momentum, fix_gamma=a.fix_gamma,
              use_global_stats=a.use_global_stats, output_mean_var=a.output_mean_var, axis=1,
              cudnn_off=False, min_calib_range=None, max_calib_range=None)
    if "__is_train__" in a:
        b["__is_train__"] = a["__is_train__"]
    b.update(over)
    return b


def _nout(a):
    return 3 if a.get("output_mean_var") else 1


def _shape(a, shapes):
    return _BN.infer_shape(_bn_attrs(a), shapes)


def _types(a, types):
    return _BN.infer_type(_bn_attrs(a), types)


def _forward(xp, a, ins, outs):
    train = a.get("__is_train__", False) and not a.use_global_stats
    x = ins[0]
    if len(outs) == 3 and train:
        red = (0,) + tuple(range(2, x.ndim))
        var = x.var(axis=red)  # the variance itself: BatchNorm's output is 1/std
        _BN.forward(xp, _bn_attrs(a), ins, outs)
        outs[2][...] = var
    elif len(outs) == 3:
        mean, var = ins[3].copy(), ins[4].copy()
        _BN.forward(xp, _bn_attrs(a, output_mean_var=False), ins, outs[:1])
        outs[1][...], outs[2][...] = mean, var
    else:
        _BN.forward(xp, _bn_attrs(a), ins, outs)


def _gradient(F, a, ins, outs, og):
    return _BN.gradient(F, _bn_attrs(a), ins, outs, og)


def _reference(a, x, gamma, beta, mm, mv):
    xt = np.moveaxis(x, 1, -1).astype(np.float64).reshape(-1, x.shape[1])
    train = a.get("__is_train__", False) and not a.use_global_stats
    mean = xt.mean(axis=0) if train else mm.astype(np.float64)
    var = ((xt - mean) ** 2).mean(axis=0) if train else mv.astype(np.float64)
    g = np.ones_like(mean) if a.fix_gamma else gamma.astype(np.float64)
    bs = (1, -1) + (1,) * (x.ndim - 2)
    out = ((x - mean.reshape(bs)) / np.sqrt(var.reshape(bs) + a.eps) * g.reshape(bs)
           + beta.reshape(bs)).astype(x.dtype)
    return (out, mean.astype(x.dtype), var.astype(x.dtype)) if a.output_mean_var else out


def _samples(dtype):
    def ins(shape, seed=0):
        c = shape[1]
        return [values(shape, dtype, seed=seed), values((c,), dtype, 0.5, 1.5, seed + 1),
                values((c,), dtype, seed=seed + 2), values((c,), dtype, -1, 1, seed + 3),
                values((c,), dtype, 0.5, 1.5, seed + 4)]
    # the first four use the moving stats in training too: the gradient suite checks them
    # (the mean/var outputs have no gradient, as in MXNet)
    glob = dict(use_global_stats=True)
    return [Sample(ins((2, 3, 4)), dict(glob, fix_gamma=False, key="a")),
            Sample(ins((1, 2, 2, 2), 3), dict(glob, eps=1e-2, key="b")),
            Sample(ins((2, 3, 2), 1), dict(glob, output_mean_var=True, fix_gamma=False, key="e")),
            Sample(ins((2, 2, 3), 2), dict(glob, momentum=0.5, fix_gamma=False, key="f")),
            Sample(ins((2, 3, 2), 5), dict(output_mean_var=True, fix_gamma=False, key="c")),
            Sample(ins((3, 2, 2, 3), 4), dict(output_mean_var=True, key="d", ndev=2))]


register(OpDef(
    "_contrib_SyncBatchNorm", inputs=("data", "gamma", "beta", "moving_mean", "moving_var"),
    num_outputs=_nout, infer_type=_types,
    params={"eps": Param("float", 1e-3, "epsilon added to the variance", check=non_negative),
            "momentum": Param("float", 0.9, "momentum of the moving averages"),
            "fix_gamma": Param("bool", True, "use gamma = 1 (and give gamma a zero gradient)"),
            "use_global_stats": Param("bool", False, "normalize with the moving stats also "
                                      "in training"),
            "output_mean_var": Param("bool", False, "also output the mean and the variance"),
            "ndev": Param("int", 1, "number of devices synchronised (MXNet); one batch here",
                          check=positive),
            "key": Param("str", doc="synchronisation key (MXNet; gluon passes the prefix)")},
    infer_shape=_shape, forward=_forward, dtypes=("float32", "float64"),
    mutates=(3, 4), train_aware=True, gradient=_gradient, grad_inputs=(0, 1, 2),
    reference=_reference, samples=_samples, tol=(2e-5, 2e-5),
    bad_samples=lambda: [BadSample([np.ones((2, 3, 4), np.float32)]
                                   + [np.ones(4, np.float32)] + [np.ones(3, np.float32)] * 3,
                                   {"key": "k"}, match=("gamma", "(4,)"))],
    doc="Batch normalization on channel axis 1 with MXNet's SyncBatchNorm parameters; in "
        "plait each call uses the statistics of its own batch (see contrib_syncbn.py)."))


def _fill_inputs(attrs, ins, outs):
    """Deferred shapes (gluon): gamma, beta and the moving stats are (channels,)."""
    d = ins[0] if ins[0] is not None else outs[0]
    if d is None or len(d) < 2:
        return ins
    return [d] + [(d[1],)] * (len(ins) - 1)


get("_contrib_SyncBatchNorm").infer_inputs = _fill_inputs
