"""gluon.Trainer: applies an mx.optimizer to a set of Parameters (MXNet 1.9 semantics).

step(batch_size) sets the optimizer's rescale_grad to scale/batch_size, sums gradients over
devices through the kvstore (none with one device, as in MXNet) and updates every parameter
whose grad_req is not 'null'.  save_states/load_states use plait's non-pickle state format
(see optimizer_states.py)."""
from ..ndarray import NDArray
from . import optimizer as opt
from .kvstore import KVStoreBase, create as _create_kv
from .parameter import Parameter, ParameterDict

__all__ = ["Trainer"]

_LOCAL_UPDATE_MAX = 1024 * 1024 * 16  # MXNet: 'local' kvstore stops updating past this size


def _grad_is_fresh(grad):
    """Whether backward wrote this gradient array since the last step (autograd.backward
    sets `_fresh_grad` on the gradient buffers it writes; MXNet keeps the same flag)."""
    return getattr(grad, "_fresh_grad", False)


def _is_dist(kvstore):
    kind = kvstore if isinstance(kvstore, str) else getattr(kvstore, "type", "")
    return isinstance(kind, str) and "dist" in kind


def _mark_stale(arr):
    try:
        arr._fresh_grad = False
    except AttributeError:
        pass


class Trainer:
    """Applies an Optimizer on a set of Parameters.

    params: ParameterDict (taken in sorted-name order, as MXNet) or list of Parameters;
    optimizer: name or Optimizer; optimizer_params: kwargs when optimizer is a name;
    kvstore: 'device', 'local', a KVStore or None; update_on_kvstore: None lets the kvstore
    decide (MXNet: True when a kvstore is used)."""

    def __init__(self, params, optimizer, optimizer_params=None, kvstore="device",
                 compression_params=None, update_on_kvstore=None):
        if isinstance(params, (dict, ParameterDict)):
            params = [params[key] for key in sorted(list(params.keys()))]
        if not isinstance(params, (list, tuple)):
            raise ValueError("First argument must be a list or dict of Parameters, got %s."
                             % type(params))
        self._params = []
        self._param2idx = {}
        for i, param in enumerate(params):
            if not isinstance(param, Parameter):
                raise ValueError("First argument must be a list or dict of Parameters, got "
                                 "list of %s." % type(param))
            self._param2idx[param.name] = i
            self._params.append(param)
            param._set_trainer(self)
        self._compression_params = compression_params
        self._contexts = self._check_contexts()
        self._init_optimizer(optimizer, optimizer_params if optimizer_params else {})
        self._scale = self._optimizer.rescale_grad
        self._kvstore_params = {"kvstore": kvstore, "update_on_kvstore": update_on_kvstore}
        self._kv_initialized = False
        self._kvstore = None
        self._update_on_kvstore = None
        self._distributed = None
        self._params_to_init = []
        self._reset_kvstore()
        if _is_dist(kvstore):
            # Broadcast rank 0's values now, before the first forward pass, so every rank
            # computes its first gradients on the same weights (parameters still waiting
            # for deferred shape inference follow at the first step).
            self._prepare()

    def _check_contexts(self):
        contexts = None
        for param in self._params:
            ctx = param.list_ctx()
            if contexts is not None and contexts != ctx:
                raise AssertionError(
                    "All Parameters must be initialized on the same set of contexts, but "
                    "Parameter %s is initialized on %s while previous Parameters are "
                    "initialized on %s." % (param.name, str(ctx), str(contexts)))
            contexts = ctx
        return contexts

    def _init_optimizer(self, optimizer, optimizer_params):
        param_dict = {i: param for i, param in enumerate(self._params)}
        if isinstance(optimizer, opt.Optimizer):
            if optimizer_params:
                raise AssertionError("optimizer_params must be None if optimizer is an "
                                     "instance of Optimizer instead of str")
            self._optimizer = optimizer
            self._optimizer.param_dict = param_dict
        else:
            self._optimizer = opt.create(optimizer, param_dict=param_dict, **optimizer_params)
        self._updaters = [opt.get_updater(self._optimizer) for _ in self._contexts or [None]]

    # -- kvstore ------------------------------------------------------------------------------
    def _reset_kvstore(self):
        self._kv_initialized = False
        self._kvstore = None
        self._distributed = None
        self._update_on_kvstore = None
        self._params_to_init = list(self._params)

    def _init_kvstore(self):
        config = self._kvstore_params
        kv_arg, update_on_kvstore = config["kvstore"], True
        if kv_arg is None:
            kvstore = None
        elif isinstance(kv_arg, KVStoreBase):
            kvstore = kv_arg
        elif isinstance(kv_arg, str):
            if len(self._contexts) == 1 and "dist" not in kv_arg:
                kvstore = None
            else:
                kvstore = _create_kv(kv_arg)
                if kv_arg == "local":
                    sizes = [p.data(self._contexts[0]).size for p in self._params]
                    if sizes and max(sizes) > _LOCAL_UPDATE_MAX:
                        update_on_kvstore = False
        else:
            raise TypeError("kvstore must be KVStore, str or None")
        self._distributed = kvstore is not None and "dist" in kvstore.type
        if kvstore is None:
            update_on_kvstore = False
        if config["update_on_kvstore"] is not None:
            update_on_kvstore = config["update_on_kvstore"]
        if kvstore is not None:
            if self._compression_params:
                kvstore.set_gradient_compression(self._compression_params)
            if update_on_kvstore:
                kvstore.set_optimizer(self._optimizer)
            self._kvstore = kvstore
            self._update_on_kvstore = bool(update_on_kvstore)
        else:
            self._kvstore = None
            self._update_on_kvstore = None
        self._kv_initialized = True

    def _init_params(self):
        pending, ready = [], []
        if self._kvstore:
            for param in self._params_to_init:
                if param._deferred_init:
                    pending.append(param)
                    continue
                ready.append(param)
            if self._distributed and ready:  # one call: the kvstore fuses the broadcasts
                self._kvstore.broadcast([self._param2idx[p.name] for p in ready],
                                        [p.list_data()[0] for p in ready],
                                        [p.list_data() for p in ready])
            else:
                for param in ready:
                    arrays = param.list_data()
                    self._kvstore.broadcast(self._param2idx[param.name], arrays[0], arrays)
        self._params_to_init = pending

    def _prepare(self):
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()

    # -- learning rate ------------------------------------------------------------------------
    @property
    def learning_rate(self):
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has to be defined before its learning rate can be "
                              "accessed.")
        return self._optimizer.learning_rate

    @property
    def optimizer(self):
        if isinstance(self._optimizer, opt.Optimizer):
            return self._optimizer
        raise UserWarning("Optimizer has not been initialized yet")

    def set_learning_rate(self, lr):
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has to be defined before its learning rate is "
                              "mutated.")
        self._optimizer.set_learning_rate(lr)

    # -- stepping -----------------------------------------------------------------------------
    def _check_and_rescale_grad(self, scale):
        self._optimizer.rescale_grad = scale

    def _global_batch(self, batch_size):
        """batch_size is per worker: with a dist kvstore the summed gradient covers
        batch_size * num_workers samples (as MXNet's Module and Horovod normalise)."""
        return batch_size * (self._kvstore.num_workers if self._distributed else 1)

    def step(self, batch_size, ignore_stale_grad=False):
        """One optimization step: gradients are scaled by 1/batch_size (times the optimizer's
        original rescale_grad; batch_size * num_workers with a dist kvstore), reduced over
        devices (and workers) and applied."""
        self._prepare()
        self._check_and_rescale_grad(self._scale / self._global_batch(batch_size))
        self._allreduce_grads()
        self._update(ignore_stale_grad)

    def allreduce_grads(self):
        """Sum gradients over devices (for update(); not with update_on_kvstore)."""
        self._prepare()
        if self._kvstore and self._update_on_kvstore:
            raise AssertionError("allreduce_grads() when parameters are updated on kvstore is "
                                 "not supported. Try setting `update_on_kvstore` to False when "
                                 "creating trainer.")
        self._allreduce_grads()

    def _allreduce_grads(self):
        if not self._kvstore:
            return
        if self._distributed:  # one call, so that the kvstore fuses small gradients
            idx = [i for i, p in enumerate(self._params) if p.grad_req != "null"]
            grads = [self._params[i].list_grad() for i in idx]
            if self._update_on_kvstore:
                self._kvstore.pushpull(idx, grads, out=[self._params[i].list_data()
                                                        for i in idx])
            elif idx:
                self._kvstore.pushpull(idx, grads)
            return
        for i, param in enumerate(self._params):
            if param.grad_req == "null":
                continue
            if self._update_on_kvstore:
                self._kvstore.pushpull(i, param.list_grad(), out=param.list_data(), priority=-i)
            else:
                self._kvstore.pushpull(i, param.list_grad(), priority=-i)

    def update(self, batch_size, ignore_stale_grad=False):
        """Apply the optimizer (after allreduce_grads) with gradients scaled by 1/batch_size."""
        self._prepare()
        if self._kvstore and self._update_on_kvstore:
            raise AssertionError("update() when parameters are updated on kvstore is not "
                                 "supported. Try setting `update_on_kvstore` to False when "
                                 "creating trainer.")
        self._check_and_rescale_grad(self._scale / self._global_batch(batch_size))
        self._update(ignore_stale_grad)

    def _check_fresh(self):
        """Raise (before anything is updated) if a gradient was not written by backward
        since the last step."""
        for param in self._params:
            if param.grad_req == "null":
                continue
            for data, grad in zip(param.list_data(), param.list_grad()):
                if not _grad_is_fresh(grad):
                    raise UserWarning(
                        "Gradient of Parameter `%s` on context %s has not been updated by "
                        "backward since last `step`. This could mean a bug in your model "
                        "that made it only use a subset of the Parameters (Blocks) for "
                        "this iteration. If you are intentionally only using a subset, "
                        "call step with ignore_stale_grad=True to suppress this warning "
                        "and skip updating of Parameters with stale gradient"
                        % (param.name, str(data.context)))

    def _update(self, ignore_stale_grad=False):
        updates = [[] for _ in self._updaters]
        on_kv = self._kvstore and self._update_on_kvstore
        if not ignore_stale_grad:
            self._check_fresh()
        for i, param in enumerate(self._params):
            if param.grad_req == "null":
                continue
            if on_kv:
                for grad in param.list_grad():
                    _mark_stale(grad)
                continue
            for upd, arr, grad in zip(updates, param.list_data(), param.list_grad()):
                if not ignore_stale_grad or _grad_is_fresh(grad):
                    upd.append((i, grad, arr))
                    _mark_stale(grad)
        if on_kv:
            return
        for updater, upd in zip(self._updaters, updates):
            if upd:
                idx, grads, arrs = zip(*upd)
                updater(list(idx), list(grads), list(arrs))

    # -- states -------------------------------------------------------------------------------
    def save_states(self, fname):
        """Save the optimizer states (and the optimizer's settings/counters) to `fname` in
        plait's format: an NDArray file (mx.nd.load can read it) with a JSON header."""
        if self._optimizer is None:
            raise AssertionError("no optimizer")
        self._prepare()
        if self._update_on_kvstore:
            if self._params_to_init:
                raise AssertionError("Cannot save trainer states when some parameters are not "
                                     "yet initialized in kvstore.")
            self._kvstore.save_optimizer_states(fname, dump_optimizer=True)
        else:
            with open(fname, "wb") as fout:
                fout.write(self._updaters[0].get_states(dump_optimizer=True))

    def load_states(self, fname):
        """Load states written by save_states.  MXNet's pickled .states files are refused
        with instructions to convert them (tools/convert_mxnet_states.py)."""
        self._prepare()
        if self._update_on_kvstore:
            self._kvstore.load_optimizer_states(fname)
            self._optimizer = self._kvstore._updater.optimizer
        else:
            from .optimizer_states import loads_states, restore_optimizer
            with open(fname, "rb") as f:
                data = f.read()
            states, saved = loads_states(data, name=repr(fname))
            if saved is not None:
                self._optimizer = restore_optimizer(self._optimizer, saved)
            for updater in self._updaters:
                # each device gets its own copy, moved to its context on first use
                updater.states = {k: _copy_state(v) for k, v in states.items()}
                updater.states_synced = dict.fromkeys(states, False)
                updater.optimizer = self._optimizer
        self._optimizer.param_dict = {i: param for i, param in enumerate(self._params)}


def _copy_state(state):
    if isinstance(state, (tuple, list)):
        out = [_copy_state(s) for s in state]
        return tuple(out) if isinstance(state, tuple) else out
    return state.copy() if isinstance(state, NDArray) else state
