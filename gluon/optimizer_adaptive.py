"""Adaptive optimizers of mx.optimizer: Adam, AdaGrad, RMSProp, AdaDelta, Ftrl, Adamax,
Nadam, FTML, LAMB (MXNet 1.9 semantics and defaults).

Adam, RMSProp, Ftrl and LAMB call the registry's fused ops as MXNet does; AdaGrad, AdaDelta,
Adamax and Nadam are NDArray math as in MXNet's Python.  FTML's fused op (ftml_update) is
not in the registry, so its kernel formula is written here with NDArray math."""
import math
import os

from .. import ndarray as nd
from .optimizer_base import Optimizer, register

__all__ = ["Adam", "AdaGrad", "RMSProp", "AdaDelta", "Ftrl", "Adamax", "Nadam", "FTML", "LAMB"]


def _clip(grad, bound):
    return grad if bound is None else nd.clip(grad, -bound, bound)


@register
class Adam(Optimizer):
    """Adam; the bias correction is folded into lr: lr * sqrt(1-beta2^t) / (1-beta1^t).
    With lazy_update, a weight with grad_stype 'row_sparse' updates only its gradient's rows
    (optimizer_rows)."""

    SPARSE_LAZY = True

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 lazy_update=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lazy_update = lazy_update

    def create_state(self, index, weight):
        return (self._zeros_like(weight), self._zeros_like(weight))

    def update(self, index, weight, grad, state):
        lr, wd, t = self._begin_update(index)
        lr *= math.sqrt(1. - self.beta2 ** t) / (1. - self.beta1 ** t)
        kw = self._common_kwargs()
        mean, var = state
        nd.adam_update(weight, grad, mean, var, out=weight, lr=lr, wd=wd, beta1=self.beta1,
                       beta2=self.beta2, epsilon=self.epsilon, **kw)


@register
class AdaGrad(Optimizer):
    """AdaGrad: history += g^2; weight -= lr * (g / sqrt(history + eps) + wd * weight)."""

    def __init__(self, eps=1e-7, **kwargs):
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def create_state(self, index, weight):
        return nd.zeros(weight.shape, weight.context)

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr = self._get_lr(index)
        wd = self._get_wd(index)
        grad = _clip(grad * self.rescale_grad, self.clip_gradient)
        state[:] = state + nd.square(grad)
        div = grad / nd.sqrt(state + self.float_stable_eps)
        weight[:] = weight + (div + weight * wd) * -lr


@register
class RMSProp(Optimizer):
    """RMSProp (rmsprop_update) and, with centered=True, Graves' variant (rmspropalex_update)."""

    def __init__(self, learning_rate=0.001, gamma1=0.9, gamma2=0.9, epsilon=1e-8,
                 centered=False, clip_weights=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.centered = centered
        self.epsilon = epsilon
        self.clip_weights = clip_weights

    def create_state(self, index, weight):
        n = 3 if self.centered else 1
        return tuple(nd.zeros(weight.shape, weight.context) for _ in range(n))

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr = self._get_lr(index)
        wd = self._get_wd(index)
        kw = self._common_kwargs()
        kw.update(gamma1=self.gamma1, epsilon=self.epsilon)
        if self.clip_weights:
            kw["clip_weights"] = self.clip_weights
        if not self.centered:
            nd.rmsprop_update(weight, grad, state[0], out=weight, lr=lr, wd=wd, **kw)
        else:
            n, g, delta = state
            nd.rmspropalex_update(weight, grad, n, g, delta, out=weight, lr=lr, wd=wd,
                                  gamma2=self.gamma2, **kw)


@register
class AdaDelta(Optimizer):
    """AdaDelta (no learning rate: the step is the accumulated-delta ratio times g).

    MXNet scales the caller's gradient array in place (grad *= rescale_grad); plait leaves
    the gradient untouched (same weights)."""

    def __init__(self, rho=0.90, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def create_state(self, index, weight):
        return (nd.zeros(weight.shape, weight.context), nd.zeros(weight.shape, weight.context))

    def update(self, index, weight, grad, state):
        wd = self._get_wd(index)
        self._update_count(index)
        grad = _clip(grad * self.rescale_grad, self.clip_gradient)
        acc_g, acc_delta = state
        acc_g[:] = acc_g * self.rho + (1. - self.rho) * grad * grad
        delta = nd.sqrt(acc_delta + self.epsilon) / nd.sqrt(acc_g + self.epsilon) * grad
        acc_delta[:] = acc_delta * self.rho + (1. - self.rho) * delta * delta
        weight[:] = weight - (delta + wd * weight)


@register
class Ftrl(Optimizer):
    """FTRL-proximal (ftrl_update).  learning_rate defaults to 0.1."""

    def __init__(self, lamda1=0.01, learning_rate=0.1, beta=1, **kwargs):
        super().__init__(**kwargs)
        self.lamda1 = lamda1
        self.beta = beta
        self.lr = learning_rate

    def create_state(self, index, weight):
        return (nd.zeros(weight.shape, weight.context), nd.zeros(weight.shape, weight.context))

    def update(self, index, weight, grad, state):
        self._update_count(index)
        wd = self._get_wd(index)
        lr = self._get_lr(index)
        z, n = state
        nd.ftrl_update(weight, grad, z, n, out=weight, lr=lr, wd=wd, lamda1=self.lamda1,
                       beta=self.beta, **self._common_kwargs())


@register
class Adamax(Optimizer):
    """AdaMax (Adam with the infinity norm); wd is added to the gradient before clipping."""

    def __init__(self, learning_rate=0.002, beta1=0.9, beta2=0.999, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2

    def create_state(self, index, weight):
        return (self._zeros_like(weight), self._zeros_like(weight))

    def update(self, index, weight, grad, state):
        lr, wd, t = self._begin_update(index)
        lr /= (1. - self.beta1 ** t)
        grad = _clip(grad * self.rescale_grad + wd * weight, self.clip_gradient)
        m_t, u_t = state
        m_t[:] = m_t * self.beta1 + (1. - self.beta1) * grad
        u_t[:] = nd.broadcast_maximum(self.beta2 * u_t, nd.abs(grad))
        weight[:] = weight - lr * m_t / u_t


@register
class Nadam(Optimizer):
    """Nesterov Adam.  As in MXNet, the momentum schedule product (m_schedule) is one value
    shared by all weights of the optimizer."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 schedule_decay=0.004, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.schedule_decay = schedule_decay
        self.m_schedule = 1.

    def create_state(self, index, weight):
        return (self._zeros_like(weight), self._zeros_like(weight))

    def update(self, index, weight, grad, state):
        lr, wd, t = self._begin_update(index)
        grad = _clip(grad * self.rescale_grad + wd * weight, self.clip_gradient)
        mom_t = self.beta1 * (1. - 0.5 * (pow(0.96, t * self.schedule_decay)))
        mom_t1 = self.beta1 * (1. - 0.5 * (pow(0.96, (t + 1) * self.schedule_decay)))
        self.m_schedule = self.m_schedule * mom_t
        m_schedule_next = self.m_schedule * mom_t1
        m_t, v_t = state
        m_t[:] = m_t * self.beta1 + (1. - self.beta1) * grad
        v_t[:] = v_t * self.beta2 + (1. - self.beta2) * grad * grad
        grad_prime = grad / (1. - self.m_schedule)
        m_t_prime = m_t / (1. - m_schedule_next)
        v_t_prime = v_t / (1. - pow(self.beta2, t))
        m_t_bar = (1. - mom_t) * grad_prime + mom_t1 * m_t_prime
        weight[:] = weight - lr * m_t_bar / (nd.sqrt(v_t_prime) + self.epsilon)


@register
class FTML(Optimizer):
    """Follow the Moving Leader (MXNet's ftml_update formula):
    g = clip(rescale*grad + wd*w); v = b2*v + (1-b2)*g^2;
    d_t = (1-b1^t)/lr * (sqrt(v/(1-b2^t)) + eps); z = b1*z + (1-b1)*g - (d_t - b1*d)*w;
    d = d_t; w = -z/d_t."""

    def __init__(self, beta1=0.6, beta2=0.999, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon

    def create_state(self, index, weight):
        return tuple(self._zeros_like(weight) for _ in range(3))

    def update(self, index, weight, grad, state):
        lr, wd, t = self._begin_update(index)
        b1, b2 = self.beta1, self.beta2
        grad = grad * self.rescale_grad + wd * weight
        if self.clip_gradient:
            grad = nd.clip(grad, -self.clip_gradient, self.clip_gradient)
        prev_d, prev_v, prev_z = state
        prev_v[:] = b2 * prev_v + (1. - b2) * nd.square(grad)
        d_t = (1. - b1 ** t) / lr * (nd.sqrt(prev_v / (1. - b2 ** t)) + self.epsilon)
        prev_z[:] = b1 * prev_z + (1. - b1) * grad - (d_t - b1 * prev_d) * weight
        prev_d[:] = d_t
        weight[:] = -prev_z / d_t


@register
class LAMB(Optimizer):
    """LAMB (lamb_update_phase1 then phase2 with the weight and update norms)."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-6,
                 lower_bound=None, upper_bound=None, bias_correction=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self.bias_correction = bias_correction
        self.aggregate_num = max(1, min(45, int(os.getenv("MXNET_OPTIMIZER_AGGREGATION_SIZE",
                                                          "45"))))

    def create_state(self, index, weight):
        return (self._zeros_like(weight), self._zeros_like(weight))

    def _one(self, index, weight, grad, state):
        lr, wd, t = self._begin_update(index)
        mean, var = state
        g = nd.lamb_update_phase1(weight, grad, mean, var, beta1=self.beta1, beta2=self.beta2,
                                  epsilon=self.epsilon, t=t, bias_correction=self.bias_correction,
                                  wd=wd, **self._common_kwargs())
        kw = {}
        if self.lower_bound:
            kw["lower_bound"] = self.lower_bound
        if self.upper_bound:
            kw["upper_bound"] = self.upper_bound
        nd.lamb_update_phase2(weight, g, weight.norm(), g.norm(), lr=lr, out=weight, **kw)

    def update(self, index, weight, grad, state):
        if isinstance(index, (tuple, list)):
            for i, w, g, s in zip(index, weight, grad, state):
                self._one(i, w, g, s)
        else:
            self._one(index, weight, grad, state)

    def update_multi_precision(self, index, weight, grad, state):
        if isinstance(index, (tuple, list)):
            for i, w, g, s in zip(index, weight, grad, state):
                Optimizer.update_multi_precision(self, i, w, g, s)
        else:
            Optimizer.update_multi_precision(self, index, weight, grad, state)
