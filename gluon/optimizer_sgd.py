"""SGD-family optimizers of mx.optimizer: SGD, NAG, Signum, LARS, DCASGD, SGLD, ccSGD, Test.

They call the registry's fused update ops (sgd_update, sgd_mom_update, nag_mom_update,
signum_update, mp_* ...) where MXNet 1.9 does, and NDArray math where MXNet's Python does.
MXNet's multi_* aggregated ops compute the same per-weight formula, so aggregated calls
(lists of indices from Updater) are applied one weight at a time here."""
import math
import os

import numpy as np

from .. import ndarray as nd
from .optimizer_base import Optimizer, register

__all__ = ["SGD", "NAG", "Signum", "LARS", "DCASGD", "SGLD", "ccSGD", "Test"]


def _as_lists(indices, weights, grads, states):
    if not isinstance(indices, (tuple, list)):
        return [indices], [weights], [grads], [states]
    return list(indices), list(weights), list(grads), list(states)


class _MasterWeights(Optimizer):
    """float16 weights with multi_precision keep (state, float32 master copy)."""

    def create_state_multi_precision(self, index, weight):
        if self.multi_precision and weight.dtype == np.float16:
            master = weight.astype(np.float32)
            return (self.create_state(index, master), master)
        return super().create_state_multi_precision(index, weight)


class _MomentumSGDBase(_MasterWeights):
    """Shared create_state/update plumbing of SGD and LARS: momentum state (or None), and
    for float16 weights with multi_precision the state (momentum, float32 master)."""

    def create_state(self, index, weight):
        if self.momentum != 0.0:
            return self._zeros_like(weight)
        return None

    def _momentum_value(self):
        return self.momentum

    def _apply(self, weight, grad, state, lr, wd, multi_precision):
        kw = self._common_kwargs()
        if self.momentum > 0:
            kw["momentum"] = self._momentum_value()
        if not multi_precision:
            if state is not None:
                nd.sgd_mom_update(weight, grad, state, out=weight, lr=lr, wd=wd, **kw)
            else:
                nd.sgd_update(weight, grad, out=weight, lr=lr, wd=wd, **kw)
        elif state[0] is not None:
            nd.mp_sgd_mom_update(weight, grad, state[0], state[1], out=weight, lr=lr, wd=wd,
                                 **kw)
        else:
            nd.mp_sgd_update(weight, grad, state[1], out=weight, lr=lr, wd=wd, **kw)

    def _lrs_for(self, indices, weights, grads, lrs, wds):
        return lrs

    def _update_impl(self, indices, weights, grads, states, multi_precision=False):
        indices, weights, grads, states = _as_lists(indices, weights, grads, states)
        self._update_count(indices)
        lrs = self._get_lrs(indices)
        wds = self._get_wds(indices)
        lrs = self._lrs_for(indices, weights, grads, lrs, wds)
        for weight, grad, state, lr, wd in zip(weights, grads, states, lrs, wds):
            self._apply(weight, grad, state, lr, wd, multi_precision)

    def update(self, index, weight, grad, state):
        self._update_impl(index, weight, grad, state, multi_precision=False)

    def update_multi_precision(self, index, weight, grad, state):
        first = weight[0] if isinstance(index, (tuple, list)) else weight
        self._update_impl(index, weight, grad, state,
                          multi_precision=self.multi_precision and first.dtype == np.float16)


@register
class SGD(_MomentumSGDBase):
    """SGD with momentum and weight decay:
    state = momentum * state + lr * (rescale_grad * clip(grad) + wd * weight);
    weight -= state.  With lazy_update, a weight with grad_stype 'row_sparse' updates only
    its gradient's rows (optimizer_rows)."""

    SPARSE_LAZY = True

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.lazy_update = lazy_update
        self.aggregate_num = int(os.getenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", "4"))


@register
class ccSGD(SGD):  # pylint: disable=invalid-name
    """[DEPRECATED] same as SGD."""


@register
class LARS(_MomentumSGDBase):
    """SGD with layer-wise adaptive rate scaling: each weight whose name does not end in
    gamma/beta/bias gets lr * eta * |w| / (|rescale*g| + wd*|w| + eps)."""

    def __init__(self, momentum=0.0, lazy_update=True, eta=0.001, eps=0,
                 momentum_correction=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.momentum_correction = momentum_correction
        self.lazy_update = lazy_update
        self.aggregate_num = int(os.getenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", "4"))
        self.eta = eta
        self.eps = eps
        self.skip = 0
        self.last_lr = None
        self.cur_lr = None

    def _get_lrs(self, indices):
        if self.cur_lr is not None:
            self.last_lr = self.cur_lr
        lr = self._base_lr()
        if self.cur_lr is None:
            self.last_lr = lr
        self.cur_lr = lr
        return self._scaled(indices, lr, "lr_mult", self.lr_mult)

    def _no_wd_name(self, name):
        return not name.endswith("_weight")

    def _momentum_value(self):
        if self.momentum_correction and self.last_lr != 0:
            return self.momentum * (self.cur_lr / self.last_lr)
        return self.momentum

    def _l2norm(self, v, rescale=False):
        v = v.astype("float32")
        if rescale:
            v = v * self.rescale_grad
        return float(nd.norm(v).asnumpy()[0])

    def _get_lars(self, i, weight, g, lr, wd):
        name = self.idx2name[i] if i in self.idx2name else str(i)
        if name.endswith("gamma") or name.endswith("beta") or name.endswith("bias"):
            return lr
        w_norm = self._l2norm(weight)
        g_norm = self._l2norm(g, rescale=True)
        if w_norm > 0.0 and g_norm > 0.0:
            return lr * self.eta * w_norm / (g_norm + wd * w_norm + self.eps)
        return lr

    def _lrs_for(self, indices, weights, grads, lrs, wds):
        return [self._get_lars(i, w, g, lr, wd)
                for i, w, g, lr, wd in zip(indices, weights, grads, lrs, wds)]


@register
class NAG(_MasterWeights):
    """Nesterov accelerated gradient (nag_mom_update; sgd_update without momentum)."""

    def __init__(self, momentum=0.0, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum

    def create_state(self, index, weight):
        return self._zeros_like(weight) if self.momentum != 0.0 else None

    def _update_impl(self, index, weight, grad, state, multi_precision=False):
        self._update_count(index)
        lr = self._get_lr(index)
        wd = self._get_wd(index)
        kw = self._common_kwargs()
        if self.momentum > 0:
            kw["momentum"] = self.momentum
        if not multi_precision:
            if state is not None:
                nd.nag_mom_update(weight, grad, state, out=weight, lr=lr, wd=wd, **kw)
            else:
                nd.sgd_update(weight, grad, out=weight, lr=lr, wd=wd, **kw)
        elif state[0] is not None:
            nd.mp_nag_mom_update(weight, grad, state[0], state[1], out=weight, lr=lr, wd=wd, **kw)
        else:
            nd.mp_sgd_update(weight, grad, state[1], out=weight, lr=lr, wd=wd, **kw)

    def update(self, index, weight, grad, state):
        self._update_impl(index, weight, grad, state)

    def update_multi_precision(self, index, weight, grad, state):
        mp = (self.multi_precision and weight.dtype == np.float16
              and isinstance(state, (tuple, list)))
        self._update_impl(index, weight, grad, state, multi_precision=mp)


@register
class Signum(Optimizer):
    """signSGD (momentum 0: signsgd_update) and Signum (signum_update)."""

    def __init__(self, learning_rate=0.01, momentum=0.9, wd_lh=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = momentum
        self.wd_lh = wd_lh

    def create_state(self, index, weight):
        return self._zeros_like(weight) if self.momentum != 0.0 else None

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr = self._get_lr(index)
        wd = self._get_wd(index)
        kw = self._common_kwargs()
        if self.momentum > 0:
            kw["momentum"] = self.momentum
        if state is not None:
            if self.wd_lh:
                kw["wd_lh"] = self.wd_lh
            nd.signum_update(weight, grad, state, out=weight, lr=lr, wd=wd, **kw)
        else:
            nd.signsgd_update(weight, grad, out=weight, lr=lr, wd=wd, **kw)


@register
class DCASGD(Optimizer):
    """Delay-compensated asynchronous SGD."""

    def __init__(self, momentum=0.0, lamda=0.04, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.weight_previous = {}
        self.lamda = lamda

    def create_state(self, index, weight):
        mom = None if self.momentum == 0.0 else self._zeros_like(weight)
        return (mom, weight.copy())

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr = self._get_lr(index)
        wd = self._get_wd(index)
        grad = grad * self.rescale_grad
        if self.clip_gradient is not None:
            grad = nd.clip(grad, -self.clip_gradient, self.clip_gradient)
        mom, previous = state
        step = -lr * (grad + wd * weight + self.lamda * grad * grad * (weight - previous))
        if mom is not None:
            mom[:] = mom * self.momentum + step
        else:
            mom = step
        previous[:] = weight
        weight[:] = weight + mom


@register
class SGLD(Optimizer):
    """Stochastic gradient Riemannian Langevin dynamics (adds N(0, lr) noise)."""

    def create_state(self, index, weight):
        return None

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr = self._get_lr(index)
        wd = self._get_wd(index)
        grad = grad * self.rescale_grad
        if self.clip_gradient is not None:
            grad = nd.clip(grad, -self.clip_gradient, self.clip_gradient)
        weight[:] = weight + (-lr / 2) * (grad + wd * weight)
        weight[:] = weight + nd.random.normal(0, math.sqrt(lr), shape=weight.shape,
                                              dtype=weight.dtype, ctx=weight.context)


@register
class Test(Optimizer):
    """The test optimizer: weight += rescale_grad * grad; state = weight."""

    def create_state(self, index, weight):
        return nd.zeros(weight.shape, weight.context)

    def update(self, index, weight, grad, state):
        weight[:] = weight + grad * self.rescale_grad
        state[:] = weight
