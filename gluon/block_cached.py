"""The cached graph behind a hybridized HybridBlock (MXNet's CachedOp).

A `CachedGraph` holds the traced Symbol and, per input signature (shapes, dtypes,
context) and mode, one bound Executor whose arguments are the Parameters' own data
arrays (so in-place optimizer updates are seen without copying).  Nothing is copied in
or out: a call rebinds the graph's data inputs to the caller's arrays (BoundGraph.feed;
a copy only for non-contiguous or foreign-context inputs), gives every output a fresh
buffer before the planned graph runs, and returns those (the buffers of earlier calls
stay the caller's); backward likewise reads the head gradients where they are and
writes each argument gradient into a fresh buffer that autograd then owns.

Under autograd.record() the call is recorded as ONE tape node whose gradient rule runs
the executor's backward and hands the argument gradients to autograd, which writes
them into the Parameters' .grad (respecting grad_req 'write'/'add'/'null').  Inference
calls use a second executor bound without gradients, so no backward graph is planned.  Both
run `out` with some op pairs fused (core/graph/fuse.py).
"""
from ..core import autograd as _ag
from ..core.graph.fuse import fuse


def _copy_of(bound, eid):
    from ..ndarray.ndarray import NDArray
    return NDArray(bound.bufs[eid], bound.ctx, bound.vars[eid]).copy()


class _CachedOpNode:
    """Stands in for an OpDef on the tape for one hybridized call."""
    nondiff = False

    def __init__(self, cached, entry, token, train):
        self.cached, self.entry, self.token, self.train = cached, entry, token, train
        self.name = cached.name

    def gradient(self, F, attrs, inputs, outputs, out_grads):
        entry = self.entry
        if entry.token != self.token:
            # another forward ran on this executor since: redo ours to restore its state
            with _ag.pause(train_mode=self.train):  # (the forward leaves running
                entry.load_inputs(inputs[:entry.n_data])  # statistics alone: BatchNorm
                entry.run_forward(self.train)  # updates them in its backward, once)
            entry.token = self.token
        return entry.run_backward(list(out_grads), self.train)


class _Entry:
    """One bound executor plus the bookkeeping to feed it."""

    def __init__(self, ex, data_pos, n_data, param_arrays):
        self.ex = ex
        self.data_pos = data_pos  # executor argument index of each data input
        self.n_data = n_data
        self.param_arrays = param_arrays  # [(arg index, NDArray, its buffer)]
        self.token = None
        self.reqs = None  # which parameters had grad_req 'null' when bound (training)
        self.bound = b = ex._bound
        self.data_entries = [b.arg_entries[i] for i in data_pos]
        # gradients in node-input order: data inputs first, then parameters
        self.grad_pos = list(data_pos) + [i for i, _, _ in param_arrays if i is not None]
        self.arg_grads = [ex.grad_arrays[i] for i in self.grad_pos]

    def load_inputs(self, inputs):
        args = self.ex.arg_arrays
        self.bound.feed([(e, x, args[pos])
                         for pos, e, x in zip(self.data_pos, self.data_entries, inputs)])

    def run_forward(self, train):
        """Run forward into fresh output buffers and return them; an output that is a
        graph input, or repeats an earlier output, is returned as a copy."""
        b = self.bound
        own = list(dict.fromkeys(e for e in b.head_entries if e not in b.external))
        fresh = dict(zip(own, b.fresh(own)))
        self.ex.forward(is_train=train)
        outs = []
        for e in b.head_entries:
            outs.append(fresh.pop(e) if e in fresh else _copy_of(b, e))
        return outs

    def run_backward(self, out_grads, train):
        """Backward; the argument gradients (node-input order) each in a buffer of its
        own: fresh where the graph writes it directly, else a copy."""
        b = self.bound
        pos = [p for p, g in zip(self.grad_pos, self.arg_grads)
               if g is not None and p in b.grad_entries]
        fresh = dict(zip(pos, b.fresh([b.grad_entries[p] for p in pos])))
        self.ex.backward(out_grads, is_train=train)
        return [None if g is None else fresh[pos] if pos in fresh else g.copy()
                for pos, g in zip(self.grad_pos, self.arg_grads)]

    def stale(self, arrays):
        return any(a is not b or a._data is not buf
                   for (_, b, buf), a in zip(self.param_arrays, arrays))


class CachedGraph:
    """Run `out` (a Symbol) with data inputs `data_names` and Parameters `params`
    (name -> Parameter for every other input)."""
    _tokens = [0]

    def __init__(self, name, out, data_names, params, flags=None):
        self.name = name
        self.out = out
        self.data_names = list(data_names)
        self.flags = dict(flags or {})
        self.arg_names = out.list_arguments()
        self.aux_names = out.list_auxiliary_states()
        self.params = params
        data_set = set(self.data_names)
        self.param_args = [n for n in self.arg_names if n not in data_set]
        self.param_aux = [n for n in self.aux_names if n not in data_set]
        self._cache = {}
        self._fused = None  # `out` with op pairs fused (core/graph/fuse.py): what binds

    def _param_arrays(self, ctx):
        return ([self.params[n].data(ctx) for n in self.param_args],
                [self.params[n].data(ctx) for n in self.param_aux])

    def _symbol(self):
        if self._fused is None:
            from ..symbol.symbol import Symbol
            self._fused = Symbol(fuse(self.out._graph()).outputs)
        return self._fused

    def _bind(self, data, ctx, train, p_args, p_aux, data_need=None):
        from ..ndarray import zeros
        args = {}
        for n, x in zip(self.data_names, data):
            args[n] = zeros(x.shape, ctx=ctx, dtype=x.dtype)
        for n, a in zip(self.param_args, p_args):
            args[n] = a
        aux = dict(zip(self.param_aux, p_aux))
        for n, x in zip(self.data_names, data):  # a data input used as an aux state
            if n in self.aux_names:
                aux[n] = zeros(x.shape, ctx=ctx, dtype=x.dtype)
        grads, reqs = {}, {}
        if train:
            # data inputs that need no gradient (the usual batch) get none: no wasted dx
            dneed = dict(zip(self.data_names, data_need or [True] * len(data)))
            for n in self.arg_names:
                if n in args and (dneed.get(n, False) if n in dneed
                                  else self.params[n].grad_req != "null"):
                    grads[n] = zeros(args[n].shape, ctx=ctx, dtype=args[n].dtype)
                    reqs[n] = "write"
                else:
                    reqs[n] = "null"
        missing = [n for n in self.arg_names if n not in args]
        if missing:
            raise ValueError("Unknown input to HybridBlock: %s" % ", ".join(missing))
        sym = self._symbol()
        ex = sym.bind(ctx, args, args_grad=grads if train else None,
                      grad_req=reqs if train else "null", aux_states=aux)
        pos = {n: i for i, n in enumerate(sym.list_arguments())}
        data_pos = [pos[n] for n in self.data_names if n in pos]
        params = [(pos[n], a, a._data) for n, a in zip(self.param_args, p_args)]
        params += [(None, a, a._data) for a in p_aux]
        return _Entry(ex, data_pos, len(data_pos), params)

    def __call__(self, data, ctx):
        """Run on the data inputs (NDArrays in data_names order); returns a list of new
        output NDArrays."""
        recording = _ag.is_recording()
        train = _ag.is_training()
        data_need = tuple(x._ag is not None and x._ag.needs_grad() for x in data) \
            if recording else None
        key = (tuple((x.shape, x.dtype) for x in data), ctx, recording, data_need)
        p_args, p_aux = self._param_arrays(ctx)
        entry = self._cache.get(key)
        reqs = tuple(self.params[n].grad_req == "null" for n in self.param_args) \
            if recording else None
        if entry is None or entry.reqs != reqs or entry.stale(p_args + p_aux):
            entry = self._cache[key] = self._bind(data, ctx, recording, p_args, p_aux,
                                                  data_need)
            entry.reqs = reqs
        # only the data inputs that are graph arguments are fed
        used = [x for n, x in zip(self.data_names, data) if n in self.arg_names]
        with _ag.pause(train_mode=train):  # the copies are not taped: the node is
            entry.load_inputs(used)
            for n, x in zip(self.data_names, data):
                if n in self.aux_names:
                    x.copyto(entry.ex.aux_dict[n])
            entry.token = None
            outs = entry.run_forward(train)
        if recording:
            inputs = used + p_args
            entries = [x._ag for x in inputs]
            if any(e is not None and e.needs_grad() for e in entries):
                CachedGraph._tokens[0] += 1
                token = entry.token = CachedGraph._tokens[0]
                node = _ag.Node(_CachedOpNode(self, entry, token, train), None, inputs, entries, outs)
                for i, o in enumerate(outs):
                    o._ag = _ag.AGInfo(node, i)
        return outs
