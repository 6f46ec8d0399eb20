"""mx.kv / mx.kvstore: the single-process key-value store ('local', 'device') of MXNet 1.9.

push sums the values given for a key (one per device) and either stores the sum or, once
set_optimizer/_set_updater installed an updater, calls updater(key, summed, stored); pull
copies the stored value into every output.  'dist_sync' kinds (several processes, MPI)
live in kvstore_dist.py."""
from ..core.base import MXNetError
from ..ndarray import NDArray

__all__ = ["KVStore", "KVStoreBase", "create"]


class KVStoreBase:
    """Capability names of MXNet's KVStoreBase."""
    OPTIMIZER = "optimizer"


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class KVStore(KVStoreBase):
    """A single-process key-value store for NDArrays (keys: all int or all str)."""

    def __init__(self, kind="local"):
        self._type = kind
        self._store = {}
        self._updater = None
        self._key_kind = None
        self._compression = None

    # -- properties -----------------------------------------------------------------------
    @property
    def type(self):
        return self._type

    @property
    def rank(self):
        return 0

    @property
    def num_workers(self):
        return 1

    def is_capable(self, capability):
        if capability.lower() == KVStoreBase.OPTIMIZER:
            return True
        raise ValueError("Unknown capability: {}".format(capability))

    def _barrier(self):
        """No-op: one process."""

    def _send_command_to_servers(self, head, body):
        raise MXNetError("kvstore %r has no servers (single process)" % self._type)

    # -- keys -----------------------------------------------------------------------------------
    def _check_key(self, key):
        if not isinstance(key, (int, str)):
            raise MXNetError("kvstore keys must be int or str, got %s" % type(key).__name__)
        kind = str if isinstance(key, str) else int
        if self._key_kind is None:
            self._key_kind = kind
        elif self._key_kind is not kind:
            raise MXNetError("inconsistent types of keys: %s and %s keys cannot be used in the "
                             "same kvstore" % (self._key_kind.__name__, kind.__name__))
        return key

    def _pairs(self, key, value, what):
        """[(key, [NDArray, ...])] for a key or a list of keys."""
        if isinstance(key, (list, tuple)):
            values = _as_list(value)
            if len(values) != len(key):
                raise MXNetError("%s: %d keys but %d values" % (what, len(key), len(values)))
            return [(self._check_key(k), _as_list(v)) for k, v in zip(key, values)]
        return [(self._check_key(key), _as_list(value))]

    def _stored(self, key):
        if key not in self._store:
            raise MXNetError("key %r has not been initialized in the kvstore (call init first)"
                             % (key,))
        return self._store[key]

    # -- operations ----------------------------------------------------------------------------
    def init(self, key, value):
        """Initialise key(s) with value(s) (the first value of each when a list is given)."""
        for k, vals in self._pairs(key, value, "init"):
            if k in self._store:
                raise MXNetError("duplicate init of key %r" % (k,))
            self._store[k] = vals[0].copy()

    def push(self, key, value, priority=0):  # pylint: disable=unused-argument
        """Sum the values of each key (one per device) and store or apply the updater."""
        for k, vals in self._pairs(key, value, "push"):
            stored = self._stored(k)
            for v in vals:
                if not isinstance(v, NDArray):
                    raise MXNetError("push expects NDArray values, got %s" % type(v).__name__)
                if v.shape != stored.shape:
                    raise MXNetError("push: value shape %s does not match key %r's shape %s"
                                     % (v.shape, k, stored.shape))
            merged = vals[0].as_in_context(stored.context)
            if len(vals) > 1:
                merged = merged.copy()
                for v in vals[1:]:
                    merged += v.as_in_context(stored.context)
            if self._updater is not None:
                self._updater(k, merged, stored)
            else:
                stored[:] = merged

    # pylint: disable-next=unused-argument
    def pull(self, key, out=None, priority=0, ignore_sparse=True):
        """Copy the stored value of each key into its output(s)."""
        if out is None:
            raise MXNetError("pull requires out")
        for k, outs in self._pairs(key, out, "pull"):
            stored = self._stored(k)
            for o in outs:
                o[:] = stored.as_in_context(o.context)

    def pushpull(self, key, value, out=None, priority=0):
        """push then pull (into `out`, or back into `value` when out is None)."""
        self.push(key, value, priority)
        self.pull(key, value if out is None else out, priority)

    def broadcast(self, key, value, out, priority=0):
        """init(key, value) then pull(key, out)."""
        self.init(key, value)
        self.pull(key, out, priority)

    def row_sparse_pull(self, key, out=None, priority=0, row_ids=None):
        raise MXNetError("row_sparse_pull: sparse storage is not supported by plait")

    # -- optimizer -------------------------------------------------------------------------------
    def set_optimizer(self, optimizer):
        """Apply `optimizer` to every push from now on (update_on_kvstore)."""
        from .optimizer_base import get_updater
        self._updater = get_updater(optimizer)

    def _set_updater(self, updater):
        self._updater = updater

    def set_gradient_compression(self, compression_params):
        raise MXNetError("gradient compression is not supported by plait's single-process "
                         "kvstore %r (compression_params=%r)" % (self._type, compression_params))

    def save_optimizer_states(self, fname, dump_optimizer=False):
        if self._updater is None:
            raise AssertionError("Cannot save states for distributed training")
        with open(fname, "wb") as f:
            f.write(self._updater.get_states(dump_optimizer))

    def load_optimizer_states(self, fname):
        if self._updater is None:
            raise AssertionError("Cannot load states for distributed training")
        with open(fname, "rb") as f:
            data = f.read()
        from .optimizer_states import loads_states, restore_optimizer
        states, saved = loads_states(data, name=repr(fname))
        self._updater.states = states
        self._updater.states_synced = dict.fromkeys(states, False)
        if saved is not None:
            self._updater.optimizer = restore_optimizer(self._updater.optimizer, saved)


_LOCAL = ("local", "device", "local_update_cpu", "local_allreduce_cpu", "local_allreduce_device",
          "nccl")


def create(name="local"):
    """A KVStore of kind `name`: 'local' or 'device' (and MXNet's local_* aliases), or
    'dist_sync' / 'dist_sync_device' (MPI, see kvstore_dist.py)."""
    if not isinstance(name, str):
        raise TypeError("name must be a string")
    if name in _LOCAL:
        return KVStore(name)
    if name.startswith("dist"):
        from .kvstore_dist import create_dist  # lazily: needs mpi4py
        return create_dist(name)
    if name in ("horovod", "byteps", "p3"):
        raise MXNetError("kvstore %r is not available in plait: use 'dist_sync', which "
                         "reduces gradients with MPI collectives (run the script under "
                         "mpiexec or python -m plait.launch)" % name)
    raise MXNetError("unknown kvstore type %r; expected one of %s" % (name, ", ".join(_LOCAL)))
