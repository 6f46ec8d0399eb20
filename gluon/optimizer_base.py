"""mx.optimizer's base: Optimizer (learning rate / weight decay bookkeeping, the
registry), Updater and get_updater, following MXNet 1.9's python/mxnet/optimizer.

The concrete optimizers live in optimizer_sgd.py and optimizer_adaptive.py; the public
namespace is optimizer.py.  Updater states are serialised without pickle (see
optimizer_states.py)."""
import warnings

import numpy as np

from ..core.base import MXNetError
from ..ndarray import NDArray, zeros

__all__ = ["Optimizer", "Updater", "create", "get_updater", "register"]


class Optimizer:
    """The base class of all optimizers (MXNet 1.9 `mx.optimizer.Optimizer`).

    rescale_grad multiplies gradients before the update (Trainer sets 1/batch_size);
    learning_rate defaults to 0.01 when neither it nor lr_scheduler is given;
    param_dict maps update index -> gluon.Parameter (its lr_mult/wd_mult win)."""

    opt_registry = {}

    def __init__(self, rescale_grad=1., param_idx2name=None, wd=0., clip_gradient=None,
                 learning_rate=None, lr_scheduler=None, sym=None, begin_num_update=0,
                 multi_precision=False, param_dict=None):
        self.rescale_grad = rescale_grad
        self.lr_scheduler = lr_scheduler
        if lr_scheduler is None and learning_rate is None:
            learning_rate = 0.01
        self.lr = learning_rate
        if lr_scheduler is not None and learning_rate is not None:
            if lr_scheduler.base_lr != learning_rate:
                print(UserWarning("learning rate from ``lr_scheduler`` has been overwritten by "
                                  "``learning_rate`` in optimizer."))
                lr_scheduler.base_lr = learning_rate
        self.wd = wd
        self.lr_mult = {}
        self.wd_mult = {}
        self.begin_num_update = begin_num_update
        self.num_update = begin_num_update
        self._all_index_update_counts = {0: {}}
        self._index_update_count = self._all_index_update_counts[0]
        self.clip_gradient = clip_gradient
        self.multi_precision = multi_precision
        self.aggregate_num = 0
        if param_idx2name is None:
            param_idx2name = {}
        if not isinstance(param_idx2name, dict):
            raise AssertionError("param_idx2name should be a dict of param indexes to names.")
        self.idx2name = param_idx2name.copy()
        self.sym_info = (sym.attr_dict(), sym.list_arguments()) if sym is not None else ()
        self.param_dict = param_dict if param_dict else {}
        self.set_lr_mult({})
        self.set_wd_mult({})

    # -- registry -------------------------------------------------------------------------
    @staticmethod
    def register(klass):
        """Register an Optimizer subclass under its lower-cased class name."""
        if not isinstance(klass, type):
            raise AssertionError("register expects a class, got %r" % (klass,))
        name = klass.__name__.lower()
        if name in Optimizer.opt_registry:
            old = Optimizer.opt_registry[name]
            warnings.warn("WARNING: New optimizer %s.%s is overriding existing optimizer %s.%s"
                          % (klass.__module__, klass.__name__, old.__module__, old.__name__))
        Optimizer.opt_registry[name] = klass
        return klass

    @staticmethod
    def create_optimizer(name, **kwargs):
        """Instantiate a registered optimizer by (case-insensitive) name."""
        if name.lower() in Optimizer.opt_registry:
            return Optimizer.opt_registry[name.lower()](**kwargs)
        raise ValueError("Cannot find optimizer %s" % name)

    # -- learning rate ----------------------------------------------------------------------
    @property
    def learning_rate(self):
        if self.lr_scheduler is not None:
            return self.lr_scheduler(self.num_update)
        return self.lr

    def set_learning_rate(self, lr):
        if self.lr_scheduler is not None:
            raise UserWarning("LRScheduler of the optimizer has already been defined. Note that "
                              "set_learning_rate can mutate the value of the learning rate of the "
                              "optimizer only when the LRScheduler of the optimizer is undefined.")
        self.lr = lr

    def set_lr_scale(self, args_lrscale):  # pylint: disable=unused-argument
        """[DEPRECATED] use set_lr_mult."""
        raise DeprecationWarning

    def _sym_mults(self, key):
        out = {}
        if self.sym_info:
            attr, arg_names = self.sym_info
            for name in arg_names:
                if name in attr and key in attr[name]:
                    out[name] = float(attr[name][key])
        return out

    def set_lr_mult(self, args_lr_mult):
        """Per-parameter learning-rate multipliers, keyed by name or index."""
        self.lr_mult = self._sym_mults("__lr_mult__")
        self.lr_mult.update(args_lr_mult)

    def _no_wd_name(self, name):
        return not (name.endswith("_weight") or name.endswith("_gamma"))

    def set_wd_mult(self, args_wd_mult):
        """Per-parameter weight-decay multipliers; names from param_idx2name that do not end
        in _weight or _gamma get 0."""
        self.wd_mult = {n: 0.0 for n in self.idx2name.values() if self._no_wd_name(n)}
        self.wd_mult.update(self._sym_mults("__wd_mult__"))
        self.wd_mult.update(args_wd_mult)

    # -- per-index bookkeeping ----------------------------------------------------------------
    def _set_current_context(self, device_id):
        if device_id not in self._all_index_update_counts:
            self._all_index_update_counts[device_id] = {}
        self._index_update_count = self._all_index_update_counts[device_id]

    def _begin_update(self, index):
        """Count this update and return (lr, wd, t): the per-step preamble of every update."""
        self._update_count(index)
        return self._get_lr(index), self._get_wd(index), self._index_update_count[index]

    def _update_count(self, index):
        if not isinstance(index, (list, tuple)):
            index = [index]
        for idx in index:
            if idx not in self._index_update_count:
                self._index_update_count[idx] = self.begin_num_update
            self._index_update_count[idx] += 1
            self.num_update = max(self._index_update_count[idx], self.num_update)

    def _base_lr(self):
        return self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr

    def _scaled(self, indices, base, attr, mults):
        out = [base] * len(indices)
        for i, index in enumerate(indices):
            if index in self.param_dict:
                out[i] *= getattr(self.param_dict[index], attr)
            elif index in mults:
                out[i] *= mults[index]
            elif index in self.idx2name:
                out[i] *= mults.get(self.idx2name[index], 1.0)
        return out

    def _get_lrs(self, indices):
        return self._scaled(indices, self._base_lr(), "lr_mult", self.lr_mult)

    def _get_lr(self, index):
        return self._get_lrs([index])[0]

    def _get_wds(self, indices):
        return self._scaled(indices, self.wd, "wd_mult", self.wd_mult)

    def _get_wd(self, index):
        return self._get_wds([index])[0]

    def _common_kwargs(self, clip_key="clip_gradient"):
        kw = {"rescale_grad": self.rescale_grad}
        if self.clip_gradient:
            kw[clip_key] = self.clip_gradient
        return kw

    # -- states and updates -------------------------------------------------------------------
    def create_state(self, index, weight):
        """Auxiliary state for one weight (None when the optimizer needs none)."""

    def create_state_multi_precision(self, index, weight):
        """create_state plus, for float16 weights with multi_precision, a float32 master copy:
        returns (master_copy, state)."""
        if self.multi_precision and weight.dtype == np.float16:
            master = weight.astype(np.float32)
            return (master, self.create_state(index, master))
        if weight.dtype == np.float16 and not self.multi_precision:
            warnings.warn("Accumulating with float16 in optimizer can lead to poor accuracy or "
                          "slow convergence. Consider using multi_precision=True option of the "
                          "optimizer")
        return self.create_state(index, weight)

    def update(self, index, weight, grad, state):
        raise NotImplementedError()

    def update_multi_precision(self, index, weight, grad, state):
        """update(), through the float32 master copy for float16 weights when
        multi_precision is on."""
        if self.multi_precision and weight.dtype == np.float16:
            master, inner = state
            self.update(index, master, grad.astype(np.float32), inner)
            weight[:] = master.astype(weight.dtype)
        else:
            self.update(index, weight, grad, state)

    def _zeros_like(self, weight, dtype=None):
        return zeros(weight.shape, weight.context, dtype=dtype or weight.dtype)


def map_state(state, fn):
    """fn applied to every NDArray of a (nested tuple/list) optimizer state, same nesting."""
    if isinstance(state, NDArray):
        return fn(state)
    if isinstance(state, (tuple, list)):
        out = [map_state(s, fn) for s in state]
        return tuple(out) if isinstance(state, tuple) else out
    return state


register = Optimizer.register  # pylint: disable=invalid-name
create = Optimizer.create_optimizer  # pylint: disable=invalid-name


class Updater:
    """Applies an optimizer to (index, grad, weight) triples, creating states lazily.

    Called as updater(index, grad, weight) with single items or lists.  Aggregating
    optimizers (aggregate_num > 0) receive lists of up to aggregate_num same-dtype weights."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.states = {}
        self.states_synced = {}
        self.aggregate_updates = optimizer.aggregate_num > 0

    def __call__(self, index, grad, weight):
        if not isinstance(index, (list, tuple)):
            indices, grads, weights = [index], [grad], [weight]
        else:
            indices, grads, weights = list(index), list(grad), list(weight)
        if weights:
            self.optimizer._set_current_context(weights[0].context.device_id)
        for i, idx in enumerate(indices):
            if isinstance(idx, bytes):
                indices[i] = idx = idx.decode()
            if idx not in self.states:
                self.states[idx] = self.optimizer.create_state_multi_precision(idx, weights[i])
                self.states_synced[idx] = True
            elif not self.states_synced[idx]:
                self.states[idx] = self.sync_state_context(self.states[idx], weights[i].context)
                self.states_synced[idx] = True
        # weights with MXNet's lazy row updates (Embedding(sparse_grad=True)) go one by one
        keep = [k for k, idx in enumerate(indices) if not lazy_rows(self.optimizer, idx)]
        if len(keep) < len(indices):
            for k in sorted(set(range(len(indices))) - set(keep)):
                update_rows(self.optimizer, indices[k], weights[k], grads[k],
                            self.states[indices[k]])
            indices, weights, grads = ([seq[k] for k in keep]
                                       for seq in (indices, weights, grads))
        # re-read: set_states may have swapped in an optimizer of another class
        self.aggregate_updates = self.optimizer.aggregate_num > 0
        if self.aggregate_updates:
            by_dtype = {}
            for item in zip(indices, weights, grads):
                by_dtype.setdefault(np.dtype(item[1].dtype), []).append(item)
            size = self.optimizer.aggregate_num
            for items in by_dtype.values():
                for s in range(0, len(items), size):
                    idx, w, g = (list(t) for t in zip(*items[s:s + size]))
                    self.optimizer.update_multi_precision(idx, w, g,
                                                          [self.states[k] for k in idx])
        else:
            for i, w, g in zip(indices, weights, grads):
                self.optimizer.update_multi_precision(i, w, g, self.states[i])

    def sync_state_context(self, state, context):
        """Move a (nested) state to `context`."""
        return map_state(state, lambda a: a.as_in_context(context))

    def set_states(self, states):
        """Restore states from get_states()'s bytes (plait's non-pickle format)."""
        from .optimizer_states import loads_states, restore_optimizer
        loaded, opt_attrs = loads_states(states)
        self.states = loaded
        if opt_attrs is not None:
            self.optimizer = restore_optimizer(self.optimizer, opt_attrs)
        self.states_synced = dict.fromkeys(self.states.keys(), False)

    def get_states(self, dump_optimizer=False):
        """The states (and with dump_optimizer the optimizer's settings and counters) as
        bytes in MXNet's NDArray-file format with a JSON header: no pickle."""
        from .optimizer_states import dumps_states
        return dumps_states(self.states, self.optimizer if dump_optimizer else None)


def get_updater(optimizer):
    """An Updater applying `optimizer` (what KVStore.set_optimizer installs)."""
    if not isinstance(optimizer, Optimizer):
        raise MXNetError("get_updater expects an mx.optimizer.Optimizer, got %s"
                         % type(optimizer).__name__)
    return Updater(optimizer)


# after map_state, which optimizer_rows imports
from .optimizer_rows import lazy_rows, update_rows  # noqa: E402
