"""mx.optimizer.LBSGD: MXNet 1.9's large-batch SGD.

Gradients are accumulated per weight over `batch_scale` calls (emulating a batch that
many times larger); on every batch_scale-th call the mean of the accumulated gradients
takes one SGD (momentum) step with the learning rate scaled either by a warm-up schedule
('linear', 'power2' or 'sqrt' from 1 to batch_scale over warmup_epochs *
updates_per_epoch accumulated calls; any other name: 1) or, with 'lars', by the layer's
sqrt(|w|^2 / (|g|^2 + wd |w|^2)) clipped to [0.01, 100].  The calls in between leave the
weight as it is.  As in MXNet, the count of accumulated calls starts at
begin_epoch * updates_per_epoch and is never reset."""
import math

from .. import ndarray as nd
from .optimizer_base import Optimizer, register

__all__ = ["LBSGD"]


@register
class LBSGD(Optimizer):
    """Large-batch SGD with warm-up or LARS learning-rate scaling (see the module)."""

    def __init__(self, momentum=0.0, multi_precision=False, warmup_strategy="linear",
                 warmup_epochs=5, batch_scale=1, updates_per_epoch=32, begin_epoch=0,
                 num_epochs=60, **kwargs):
        super().__init__(multi_precision=multi_precision, **kwargs)
        self.momentum = momentum
        self.warmup_strategy = warmup_strategy
        self.warmup_epochs = warmup_epochs
        self.batch_scale = batch_scale
        self.updates_per_epoch = updates_per_epoch
        self.init_updates = begin_epoch * updates_per_epoch
        self.num_epochs = num_epochs
        self.cumgrads = {}  # index -> {'cum_grad': NDArray or 0, 'num_cums': int}

    def create_state(self, index, weight):
        return self._zeros_like(weight) if self.momentum != 0.0 else None

    def _get_lbmult(self, nup):
        """The warm-up factor after nup accumulated calls."""
        nwup = self.warmup_epochs * self.updates_per_epoch
        top = float(self.batch_scale)
        if nup >= nwup:
            return top
        if nwup <= 1:
            return 1.0
        frac = nup / nwup
        return {"linear": 1.0 + (top - 1) * frac,
                "power2": 1.0 + (top - 1) * frac * frac,
                "sqrt": 1.0 + (top - 1) * math.sqrt(frac)}.get(self.warmup_strategy, 1.0)

    @staticmethod
    def _sq_norm(v):
        return float((v * v).asnumpy().sum())

    def _get_lars(self, weight, grad, wd):
        w2, g2 = self._sq_norm(weight), self._sq_norm(grad)
        return min(max(math.sqrt(w2 / (g2 + wd * w2 + 1e-18)), 0.01), 100.0)

    def _cumulate(self, index, grad):
        c = self.cumgrads.get(index)
        if c and c["num_cums"] > 0:
            c = {"cum_grad": c["cum_grad"] + grad, "num_cums": c["num_cums"] + 1}
        else:
            c = {"cum_grad": grad, "num_cums": self.init_updates + 1}
        self.cumgrads[index] = c
        return c

    def update(self, index, weight, grad, state):
        if isinstance(index, (list, tuple)):
            for i, w, g, s in zip(index, weight, grad, state):
                self.update(i, w, g, s)
            return
        lr, wd = self._get_lr(index), self._get_wd(index)
        self._update_count(index)
        c = self._cumulate(index, grad)
        if c["num_cums"] % self.batch_scale:
            return  # MXNet's sgd_update with lr=0 here leaves the weight unchanged
        grad = c["cum_grad"] / self.batch_scale
        if self.warmup_strategy == "lars":
            lr *= self._get_lars(weight, grad, wd)
        else:
            lr *= self._get_lbmult(c["num_cums"])
        kw = self._common_kwargs()
        if self.momentum > 0:
            kw["momentum"] = self.momentum
        if state is not None:
            nd.sgd_mom_update(weight, grad, state, out=weight, lr=lr, wd=wd, **kw)
        else:
            nd.sgd_update(weight, grad, out=weight, lr=lr, wd=wd, **kw)
        c["cum_grad"] = 0
