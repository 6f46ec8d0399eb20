"""gluon.HybridBlock: a Block whose computation is `hybrid_forward(F, x, *args, **params)`.

Imperatively F is mx.nd and the parameters are NDArrays; traced, F is mx.sym and they
are Symbols (Parameter.var()).  After hybridize(), the first call traces the graph once
(inputs named 'data', or 'data0', 'data1', ... when there are several, as in MXNet),
and every call runs it through a CachedGraph (block_cached.py): one bound, planned
executor per input signature, recorded under autograd as a single node.
"""
import warnings

from .. import ndarray, symbol
from ..core import autograd as _ag
from ..core.base import PlaitError
from .block import Block
from .block_cached import CachedGraph
from .block_scope import _flatten, _regroup, _gather_type_ctx_info
from .parameter import DeferredInitializationError

__all__ = ["HybridBlock"]


class HybridBlock(Block):
    """A Block that can be hybridized (traced into a Symbol and run as one graph)."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._cached_graph = ()
        self._cached_op = None
        self._out_format = None
        self._in_format = None
        self._active = False
        self._flags = []
        self._callback = None
        self._monitor_all = False

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if isinstance(value, HybridBlock):
            self._clear_cached_op()

    def _clear_cached_op(self):
        self._cached_graph = ()
        self._cached_op = None

    def register_child(self, block, name=None):
        if not isinstance(block, HybridBlock):
            raise ValueError(
                "Children of HybridBlock must also be HybridBlock, but %s has type %s. If you "
                "are using Sequential, please try HybridSequential instead."
                % (str(block), str(type(block))))
        super().register_child(block, name)
        self._clear_cached_op()

    def hybridize(self, active=True, backend=None, clear=True, static_alloc=False,
                  static_shape=False, inline_limit=2, forward_bulk_size=None,
                  backward_bulk_size=None, **kwargs):
        """Activate (or deactivate) running this block and its children as one cached
        graph.  static_alloc/static_shape are accepted: the executor always allocates its
        buffers once per input signature."""
        if backend is not None:
            raise ValueError("hybridize backend %r is not supported" % (backend,))
        self._active = active
        self._flags = [("static_alloc", static_alloc), ("static_shape", static_shape),
                       ("inline_limit", inline_limit)]
        if clear:
            self._clear_cached_op()
        if active and (self._forward_hooks or self._forward_pre_hooks):
            warnings.warn('"{block}" is being hybridized while still having forward hook/'
                          'pre-hook. If "{block}" is a child of HybridBlock, the hooks will '
                          "not take effect.".format(block=self))
        super().hybridize(active, static_alloc=static_alloc, static_shape=static_shape,
                          inline_limit=inline_limit)

    def cast(self, dtype):
        self._clear_cached_op()
        super().cast(dtype)

    #: MXNet 1.9's CPU subgraph backends.  plait has one CPU graph path (its compiled kernels
    #: and memory planner), which these names select; other backends (TensorRT, custom
    #: partitioners from extension libraries) do not exist here.
    CPU_BACKENDS = ("MKLDNN", "MKLDNN_QUANTIZE", "ONEDNN", "ONEDNN_QUANTIZE")

    def optimize_for(self, x, *args, backend=None, clear=False, static_alloc=False,
                     static_shape=False, inline_limit=2, forward_bulk_size=None,
                     backward_bulk_size=None, **kwargs):
        """Hybridize and build the cached graph for inputs like (x, *args) without running
        it (MXNet 1.9's optimize_for); afterwards call the block or export it.  `backend`
        must name one of CPU_BACKENDS (backend options in kwargs are accepted and unused)."""
        if not backend:
            raise ValueError('Must specify "backend" to optimize_for')
        if str(backend).upper() not in self.CPU_BACKENDS:
            raise ValueError("optimize_for: backend %r is not available in plait (it has the "
                             "CPU backends %s)" % (backend, ", ".join(self.CPU_BACKENDS)))
        self.hybridize(True, None, clear, static_alloc, static_shape, inline_limit,
                       forward_bulk_size, backward_bulk_size)
        self._backend_opts = dict(kwargs)
        self._build_cache(x, *args)

    # -- tracing -------------------------------------------------------------------------------
    def _get_graph(self, *args):
        """(input Symbols, output Symbol) traced from hybrid_forward (cached)."""
        if not self._cached_graph:
            flat, self._in_format = _flatten(args, "input")
            n_real = sum(a is not None for a in flat)
            if n_real == 0:
                raise ValueError("All args are None and we do not support such a case. "
                                 "Received args={}".format(args))
            inputs, syms, cnt = [], [], 0
            for a in flat:
                if a is None:
                    inputs.append(None)
                    continue
                s = symbol.var("data%d" % cnt if n_real > 1 else "data")
                cnt += 1
                inputs.append(s)
                syms.append(s)
            grouped = _regroup(inputs, self._in_format)
            params = {k: p.var() for k, p in self._reg_params.items()}
            with self.name_scope():
                out = self.hybrid_forward(symbol, *grouped, **params)
            out, self._out_format = _flatten(out, "output")
            self._cached_graph = syms, symbol.Group(out)
        return self._cached_graph

    def _infer_attrs(self, infer_fn, attr, *args):
        inputs, out = self._get_graph(*args)
        flat, _ = _flatten(args, "input")
        flat = [a for a in flat if a is not None]
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            arg_attrs, _, aux_attrs = getattr(out, infer_fn)(
                **{i.name: getattr(j, attr) for i, j in zip(inputs, flat)})
            if arg_attrs is None:
                raise ValueError(str(w[0].message) if w else
                                 "cannot infer the %s of every parameter" % attr)
        sdict = dict(zip(out.list_arguments(), arg_attrs))
        sdict.update(zip(out.list_auxiliary_states(), aux_attrs))
        for p in self.collect_params().values():
            if p.name in sdict:
                setattr(p, attr, sdict[p.name])

    def infer_shape(self, *args):
        """Infer the shapes of the parameters from the inputs (sets Parameter.shape)."""
        self._infer_attrs("infer_shape", "shape", *args)

    def infer_type(self, *args):
        """Infer the dtypes of the parameters from the inputs (sets Parameter.dtype)."""
        self._infer_attrs("infer_type", "dtype", *args)

    def _deferred_infer_shape(self, *args):
        try:
            self.infer_shape(*args)
        except Exception as e:
            shapes = "".join("\n  %s: %s" % (s.name, a.shape) for s, a in zip(
                self._cached_graph[0] if self._cached_graph else [],
                [a for a in _flatten(args, "input")[0] if a is not None]))
            raise ValueError("Deferred initialization failed because shape cannot be "
                             "inferred. {}\ninfer_shape error. Arguments:{}"
                             .format(e, shapes)) from e

    # -- the cached graph ----------------------------------------------------------------------
    def _build_cache(self, *args):
        data, out = self._get_graph(*args)
        data_names = {d.name: i for i, d in enumerate(data)}
        params = self.collect_params()
        input_names = out.list_inputs()
        for name in input_names:
            if name not in params and name not in data_names:
                raise AssertionError("Unknown input to HybridBlock: %s" % name)
        unused = [i for n, i in data_names.items() if n not in input_names]
        if unused:
            warnings.warn("The %s input to HybridBlock is not used by any computation. Is "
                          "this intended?" % ", ".join("%d-th" % i for i in unused),
                          stacklevel=4)
        unused = [n for n in params.keys() if n not in input_names]
        if unused:
            warnings.warn("Parameter %s is not used by any computation. Is this intended?"
                          % ", ".join(unused), stacklevel=4)
        try:
            for name in input_names:
                if name in params:
                    params[name].data()
        except DeferredInitializationError:
            self._deferred_infer_shape(*args)
            for name in input_names:
                if name in params:
                    params[name]._finish_deferred_init()
        used = {n: params[n] for n in input_names if n in params}
        self._cached_op = CachedGraph(self.name, out, [d.name for d in data], used,
                                      dict(self._flags))

    def _call_cached_op(self, *args):
        if self._cached_op is None:
            self._build_cache(*args)
        flat, fmt = _flatten(args, "input")
        if fmt != self._in_format:
            n_old, n_new = len(self._in_format), len(fmt)
            if n_old > n_new:
                valid = (all(self._in_format[i] == -1 for i in range(n_new, n_old))
                         and fmt == self._in_format[:n_new])
            elif n_old < n_new:
                valid = (all(fmt[i] == -1 for i in range(n_old, n_new))
                         and fmt[:n_old] == self._in_format)
            else:
                valid = False
            if not valid:
                raise ValueError("The argument structure of HybridBlock does not match the "
                                 "cached version. Stored format = {}, input format = {}"
                                 .format(fmt, self._in_format))
        data = [a for a in flat if a is not None]
        out = self._cached_op(data, data[0].ctx)
        return _regroup(out, self._out_format)

    def export(self, path, epoch=0, remove_amp_cast=True):
        """Write `path`-symbol.json and `path`-%04d.params (keys 'arg:<name>' and
        'aux:<name>'), loadable with SymbolBlock.imports here and in MXNet."""
        if not self._cached_graph:
            raise RuntimeError("Please first call block.hybridize() and then run forward "
                               "with this block at least once before calling export.")
        sym = self._cached_graph[1]
        sym.save("%s-symbol.json" % path, remove_amp_cast=remove_amp_cast)
        arg_names = set(sym.list_arguments())
        aux_names = set(sym.list_auxiliary_states())
        arg_dict = {}
        for name, param in self.collect_params().items():
            if name in arg_names:
                arg_dict["arg:%s" % name] = param._reduce()
            elif name in aux_names:
                arg_dict["aux:%s" % name] = param._reduce()
        ndarray.save("%s-%04d.params" % (path, epoch), arg_dict)

    def register_op_hook(self, callback, monitor_all=False):
        self._callback = callback
        self._monitor_all = monitor_all
        for cld in self._children.values():
            cld._callback = callback
            cld._monitor_all = monitor_all

    def forward(self, x, *args):
        """Imperative (F=mx.nd), cached-graph (when hybridized) or symbolic (Symbol
        inputs: returns the traced Symbol) call of hybrid_forward."""
        has_sym, has_nd, ctxs, first_ctx = _gather_type_ctx_info([x] + list(args))
        if has_sym and has_nd:
            raise ValueError("In HybridBlock, we do not support mixed NDArrays and Symbols "
                             "types for the input. Please check the type of the args.\n")
        if not has_sym and not has_nd:
            raise ValueError("In HybridBlock, there must be one NDArray or one Symbol in the "
                             "input. Please check the type of the args.\n")
        if has_nd:
            try:
                return self._forward_nd(ctxs, first_ctx, x, *args)
            except PlaitError as e:
                if not getattr(e, "_gluon_block", None):  # name the innermost block
                    e._gluon_block = self.name
                    where = "block '%s' (%s)" % (self.name, type(self).__name__)
                    e.op = "%s in %s" % (e.op, where) if e.op else where
                raise
        params = {k: v.var() for k, v in self._reg_params.items()}
        with self.name_scope():
            return self.hybrid_forward(symbol, x, *args, **params)

    def _forward_nd(self, ctxs, first_ctx, x, *args):
        # Recording in predict mode runs imperatively: the executor's backward graph is
        # built for training mode (core/graph/gradient.py), which is wrong for the
        # predict-mode gradients of Dropout / BatchNorm.
        if self._active and not (_ag.is_recording() and not _ag.is_training()):
            if len(ctxs) > 1:
                raise ValueError("Find multiple contexts in the input, After hybridized, "
                                 "the HybridBlock only supports one input context. You "
                                 "can print the ele.ctx in the input arguments to inspect "
                                 "their contexts. Find all contexts = {}".format(ctxs))
            with first_ctx:
                return self._call_cached_op(x, *args)
        with first_ctx:
            try:
                params = {k: v.data(first_ctx) for k, v in self._reg_params.items()}
            except DeferredInitializationError:
                self._deferred_infer_shape(x, *args)
                for _, v in self.params.items():
                    v._finish_deferred_init()
                params = {k: v.data(first_ctx) for k, v in self._reg_params.items()}
            return self.hybrid_forward(ndarray, x, *args, **params)

    def hybrid_forward(self, F, x, *args, **kwargs):
        """Override to define the computation with F (mx.nd or mx.sym)."""
        raise NotImplementedError

