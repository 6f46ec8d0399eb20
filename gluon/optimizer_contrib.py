"""mx.optimizer.contrib: GroupAdaGrad, AdaGrad with one learning rate per row.

    grad = clip(rescale_grad * grad, clip_gradient)
    history += mean(grad ** 2, axis=1, keepdims=True)      (history: one value per row)
    weight -= lr * grad / sqrt(history + eps)

As MXNet 1.9's: 2-D weights only, no weight decay."""
from .. import ndarray as nd
from ..core.base import PlaitError
from .optimizer_base import Optimizer, register

__all__ = ["GroupAdaGrad"]


@register
class GroupAdaGrad(Optimizer):
    """Row-wise AdaGrad (see the module docstring); eps starts the history."""

    def __init__(self, eps=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def create_state(self, index, weight):
        if len(weight.shape) != 2:
            raise PlaitError("GroupAdaGrad updates 2-D weights (one rate per row); weight %s "
                             "has shape %s" % (index, weight.shape), arg="weight",
                             op="GroupAdaGrad")
        return nd.zeros((weight.shape[0], 1), weight.context, dtype=weight.dtype)

    def update(self, index, weight, grad, state):
        if isinstance(index, (list, tuple)):
            for i, w, g, s in zip(index, weight, grad, state):
                self.update(i, w, g, s)
            return
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        if wd != 0:
            raise PlaitError("weight decay is not supported by GroupAdaGrad (wd=%s for weight "
                             "%s)" % (wd, index), arg="wd", op="GroupAdaGrad")
        grad = grad * self.rescale_grad
        if self.clip_gradient is not None:
            grad = nd.clip(grad, -self.clip_gradient, self.clip_gradient)
        state[:] += nd.mean(nd.square(grad), axis=1, keepdims=True)
        weight[:] -= lr * grad / nd.sqrt(state + self.float_stable_eps)
