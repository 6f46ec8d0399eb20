"""'dist_sync' kvstores: data-parallel training over MPI (MXNet 1.9's interface).

There is no parameter server: every rank keeps the same store and the reduction is an
MPI collective (gluon/kvstore_comm.py).  Semantics follow MXNet's dist_sync:
- init(key, value): every rank stores rank 0's value (a broadcast);
- push(key, values): the values of this rank's devices are summed, then summed over all
  ranks (optionally compressed: set_gradient_compression); with an optimizer set
  (set_optimizer, Trainer's update_on_kvstore) every rank applies the same update to the
  same reduced gradient, otherwise the sum replaces the stored value;
- pull(key, out): copies the stored value; pushpull = push + pull; broadcast = init + pull.
gluon.Trainer with a dist kvstore broadcasts rank 0's parameters when it is created and
normalises by batch_size * num_workers (step takes the per-rank batch; see trainer.py).
Run it under `mpiexec -n N python train.py` (or `python -m plait.launch -n N ...`)."""
import os
import tempfile

from ..core.base import MXNetError, PlaitError
from .kvstore import KVStore
from . import kvstore_comm
from .kvstore_compress import make_compression

__all__ = ["KVStoreDist", "SYNC_TYPES", "create_dist"]

SYNC_TYPES = ("dist", "dist_sync", "dist_sync_device", "dist_device_sync")


def create_dist(name):
    """The KVStore for a 'dist*' name; 'dist_async' and parameter-server kinds raise."""
    if name in SYNC_TYPES:
        return KVStoreDist(name)
    if "async" in name:
        raise MXNetError(
            "kvstore %r is not supported by plait: asynchronous updates need MXNet's "
            "parameter servers, which apply each worker's gradient as it arrives; plait "
            "has no servers (every rank reduces gradients with MPI collectives and applies "
            "the same update), so only synchronous training exists. Use 'dist_sync' "
            "(or 'dist_sync_device')" % name)
    raise MXNetError("unknown distributed kvstore type %r; expected one of %s"
                     % (name, ", ".join(SYNC_TYPES)))


class KVStoreDist(KVStore):
    """A KVStore whose push sums over every MPI rank (see the module docstring)."""

    def __init__(self, kind="dist_sync"):
        super().__init__(kind)
        self._comm = kvstore_comm.get_comm()
        self._reduced = {}  # key -> NDArray receiving the cross-rank sum (with an updater)
        self._use_nccl = "device" in kind

    @property
    def rank(self):
        return self._comm.rank

    @property
    def num_workers(self):
        return self._comm.size

    def _barrier(self):
        """Wait for every rank (after every collective pushed before it)."""
        self._comm.barrier()

    barrier = _barrier

    # -- helpers -------------------------------------------------------------------------------
    def _check_same_everywhere(self, pairs, what):
        """Every rank must use the same keys, shapes and dtypes (else MPI would mix up data)."""
        mine = [[str(k), list(v[0].shape), v[0].dtype.__name__] for k, v in pairs]
        ranks = self._comm.allgather_json(mine, "kvstore.%s" % what)
        for r, theirs in enumerate(ranks):
            if theirs != mine:
                raise PlaitError(
                    "ranks disagree on the keys/shapes/dtypes given to %s: rank %d has %s, "
                    "rank %d has %s" % (what, self.rank, _short(mine), r, _short(theirs)),
                    arg="value", op="kvstore.%s" % what)

    # -- operations -------------------------------------------------------------------------------
    def init(self, key, value):
        """Initialise key(s) on every rank with rank 0's value(s)."""
        pairs = self._pairs(key, value, "init")
        for k, _ in pairs:
            if k in self._store:
                raise MXNetError("duplicate init of key %r" % (k,))
        self._check_same_everywhere(pairs, "init")
        stored = []
        for k, vals in pairs:
            self._store[k] = vals[0].copy()
            stored.append(self._store[k])
        for idx in kvstore_comm.buckets(stored):
            arrays = [stored[i] for i in idx]
            self._comm.submit(lambda b=_bufs(arrays): self._comm.run_broadcast(b), [], arrays,
                              "kvstore.init(broadcast)", nbytes=_nbytes(arrays))

    def push(self, key, value, priority=0):  # pylint: disable=unused-argument
        """Sum each key's values over this rank's devices and over all ranks; store the
        sum, or apply the optimizer to it when one is set."""
        self._push(self._pairs(key, value, "push"), in_place=False)

    def pushpull(self, key, value, out=None, priority=0):
        """push then pull.  Without an optimizer, with one array per key pulled back into
        itself (out None or value: Trainer's update_on_kvstore=False), the arrays are
        summed in place and copied to the store, saving the copy an out-of-place
        reduction costs."""
        if self._updater is None and (out is None or out is value):
            pairs = self._pairs(key, value, "pushpull")
            if all(len(vals) == 1 and vals[0].context == self._stored(k).context
                   for k, vals in pairs):  # else merging makes copies: the general path
                self._push(pairs, in_place=True)
                return
        super().pushpull(key, value, out, priority)

    def _push(self, pairs, in_place):
        keys, merged = [], []
        for k, vals in pairs:
            keys.append(k)
            merged.append(self._merge_devices(k, vals))
        comp = self._compression
        if comp is not None:
            for k, m in zip(keys, merged):
                comp.check_dtype(k, m.dtype)
        for idx in kvstore_comm.buckets(merged):
            bkeys = [keys[i] for i in idx]
            srcs = [merged[i] for i in idx]
            stored = [self._store[k] for k in bkeys]
            if in_place:
                dsts, writes = srcs, srcs + stored
            elif self._updater is None:
                dsts = writes = stored
            else:
                dsts = writes = [self._reduced_buffer(k, m) for k, m in zip(bkeys, srcs)]
            # the buffers are taken now, not when the comm thread runs: by then autograd
            # may have handed a gradient NDArray the next step's buffer (_adopt)
            bufs = (_bufs(srcs), _bufs(dsts), _bufs(stored) if in_place else None)
            self._comm.submit(
                lambda ks=bkeys, b=bufs: self._run_reduce(ks, b[0], b[1], b[2], comp),
                srcs, writes, "kvstore.push(allreduce)",
                ["the value pushed for key %r" % (k,) for k in bkeys], _nbytes(srcs))
            if self._updater is not None:  # runs as soon as this bucket is reduced
                self._updater(bkeys, dsts, stored)

    def _run_reduce(self, keys, xs, ds, copy_to, comp):
        self._comm.run_allreduce(keys, xs, ds, comp, self._use_nccl)
        for d, st in zip(ds, copy_to or ()):
            st[...] = d

    def _merge_devices(self, k, vals):
        stored = self._stored(k)
        for v in vals:
            if v.shape != stored.shape or v.dtype != stored.dtype:
                raise PlaitError("value of shape %s and dtype %s does not match key %r's "
                                 "shape %s and dtype %s" % (v.shape, v.dtype.__name__, k,
                                                            stored.shape,
                                                            stored.dtype.__name__),
                                 arg="value", op="kvstore.push")
        merged = vals[0].as_in_context(stored.context)
        if len(vals) > 1:
            merged = merged.copy()
            for v in vals[1:]:
                merged += v.as_in_context(stored.context)
        return merged

    def _reduced_buffer(self, k, like):
        buf = self._reduced.get(k)
        if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
            buf = self._reduced[k] = like.copy()
        return buf

    # -- compression and optimizer states -------------------------------------------------------
    def set_gradient_compression(self, compression_params):
        """{'type': '2bit', 'threshold': t} (MXNet's, with error feedback) or
        {'type': 'fp16'}; applies to what this rank sends to the others."""
        self._compression = make_compression(compression_params)

    def save_optimizer_states(self, fname, dump_optimizer=False):
        """Write the optimizer states (the same on every rank) atomically to fname."""
        if self._updater is None:
            raise AssertionError("Cannot save states: no optimizer is set on the kvstore")
        data = self._updater.get_states(dump_optimizer)
        folder = os.path.dirname(os.path.abspath(fname))
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(fname), dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, fname)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def _bufs(arrays):
    return [a._data for a in arrays]


def _nbytes(arrays):
    return sum(a._data.nbytes for a in arrays)


def _short(meta, n=4):
    text = ", ".join("%s%s:%s" % (k, tuple(s), t) for k, s, t in meta[:n])
    return "[%s%s]" % (text, ", ..." if len(meta) > n else "")
