"""mx.executor.Executor: a bound graph (MXNet 1.9's Executor API).

Built by Symbol.bind / simple_bind as
    Executor(graph, ctx, args, args_grad, grad_req, aux_states)
with args/args_grad/aux_states dicts name -> NDArray (or lists in list_arguments /
list_auxiliary_states order) and grad_req 'write' | 'add' | 'null' (one string, a list, or
a dict by name).  Binding plans forward and backward together (symbol/executor_plan.py)
and allocates every buffer once; forward()/backward() then push the prebound kernels to
the engine in one C++ call each and return without waiting (read results as usual).
"""
import numpy as np

from ..core.base import PlaitError
from ..core.graph.ir import Graph
from .executor_plan import BoundGraph

_LOSS_HINT = ("Because the last operator is not Loss function, head_gradient is required when "
              "calling backward. If you are attempting to minimize the output as an objective, "
              "please modify your network and pass it through the make_loss symbol.")


def _ndarray():
    from ..ndarray.ndarray import NDArray
    return NDArray


def _by_name(names, given, what, allow_none=False):
    """dict or list -> list in `names` order."""
    if given is None:
        if names and not allow_none:
            raise PlaitError("%s not given (needed: %s)" % (what, ", ".join(names)),
                             arg=what, op="bind")
        return [None] * len(names)
    if isinstance(given, dict):
        out = [given.get(n) for n in names]
    else:
        given = list(given)
        if len(given) != len(names):
            raise PlaitError("%d %s given for %d names (%s)" % (len(given), what, len(names),
                                                               ", ".join(names)), op="bind")
        out = given
    NDArray = _ndarray()
    for n, a in zip(names, out):
        if a is None:
            if not allow_none:
                raise PlaitError("%s '%s' is not given" % (what, n), arg=what, op="bind")
        elif not isinstance(a, NDArray):
            raise PlaitError("%s '%s' must be an NDArray, got %s" % (what, n, type(a).__name__),
                             arg=what, op="bind")
    return out


class Executor:
    """Executes a bound graph.  See the module docstring."""

    def __init__(self, graph, ctx, args, args_grad=None, grad_req="write", aux_states=None,
                 use_planner=True):
        if not isinstance(graph, Graph):
            graph = graph._graph()  # a Symbol
        self._graph, self._ctx, self._use_planner = graph, ctx, use_planner
        arg_nodes, aux_nodes = graph.arguments()
        self._arg_nodes, self._aux_nodes = arg_nodes, aux_nodes
        self._arg_names = [n.name for n in arg_nodes]
        self._aux_names = [n.name for n in aux_nodes]
        self._out_names = [h.node.output_names()[h.index] for h in graph.outputs]
        self.arg_arrays = _by_name(self._arg_names, args, "args")
        self.aux_arrays = _by_name(self._aux_names, aux_states, "aux_states")
        self.grad_arrays = _by_name(self._arg_names, args_grad, "args_grad", allow_none=True)
        if isinstance(grad_req, str):
            reqs = [grad_req] * len(arg_nodes)
        elif isinstance(grad_req, dict):
            reqs = [grad_req.get(n, "null") for n in self._arg_names]
        else:
            reqs = list(grad_req)
        for r in reqs:
            if r not in ("write", "add", "null"):
                raise PlaitError("grad_req must be 'write', 'add' or 'null', got %r" % (r,),
                                 arg="grad_req", op="bind")
        self._grad_req = [r if g is not None else "null" for r, g in zip(reqs, self.grad_arrays)]
        for n, a, g in zip(self._arg_names, self.arg_arrays, self.grad_arrays):
            if g is not None and g.shape != a.shape:
                raise PlaitError("gradient array of '%s' has shape %s, the argument %s"
                                 % (n, g.shape, a.shape), arg="args_grad", op="bind")
        self._bound = BoundGraph(graph, ctx, arg_nodes, self.arg_arrays, aux_nodes,
                                 self.aux_arrays, self.grad_arrays, self._grad_req,
                                 use_planner)
        self.outputs = self._bound.outputs()
        self._monitor = None
        self._arg_dict = self._grad_dict = self._aux_dict = self._output_dict = None

    # -- running -------------------------------------------------------------------------------
    def forward(self, is_train=False, **kwargs):
        """Compute the outputs; keyword arguments are copied into the arguments first."""
        if kwargs:
            arg_dict = self.arg_dict
            NDArray = _ndarray()
            for name, array in kwargs.items():
                if not isinstance(array, (NDArray, np.ndarray)):
                    raise ValueError("only accept keyword argument of NDArrays and numpy.ndarray")
                if name not in arg_dict:
                    raise TypeError("Unknown argument %s" % name)
                if arg_dict[name].shape != array.shape:
                    raise ValueError("Shape not match! Argument %s, need: %s, received: %s"
                                     % (name, str(arg_dict[name].shape), str(array.shape)))
                arg_dict[name][:] = array
        self._bound.phase("forward", is_train).run()
        if self._monitor is not None:
            self._run_monitor()
        return self.outputs

    def backward(self, out_grads=None, is_train=True):
        """Back-propagate into the gradient arrays (head gradients default to none: only
        loss heads, whose gradient ignores it, may go without)."""
        NDArray = _ndarray()
        if out_grads is None:
            out_grads = []
        elif isinstance(out_grads, NDArray):
            out_grads = [out_grads]
        elif isinstance(out_grads, dict):
            out_grads = [out_grads[k] for k in self._out_names]
        for obj in out_grads:
            if not isinstance(obj, NDArray):
                raise TypeError("inputs must be NDArray")
        b = self._bound
        feed = []
        for i in b.needed_head_grads():
            if i >= len(out_grads) or out_grads[i] is None:
                raise PlaitError(_LOSS_HINT, op="backward")
            g, dst = out_grads[i], b.head_grad_arrays[i]
            if g.shape != dst.shape:
                raise PlaitError("head gradient %d has shape %s, the output %s"
                                 % (i, g.shape, dst.shape), arg="out_grads", op="backward")
            feed.append((b.head_grad_entries[i], g, dst))
        b.feed(feed)  # shared, not copied, when they can be
        b.phase("backward", is_train).run()

    def set_monitor_callback(self, callback, monitor_all=False):
        """callback(name, NDArray) for every op output after each forward (waits; the
        values of entries whose storage was reused later in the graph are not kept, so
        the monitored executor is re-bound without the planner)."""
        self._monitor = (callback, monitor_all)
        if self._bound.plan is not None:
            self._bound = BoundGraph(self._graph, self._ctx, self._arg_nodes, self.arg_arrays,
                                     self._aux_nodes, self.aux_arrays, self.grad_arrays,
                                     self._grad_req, False)
            self.outputs = self._bound.outputs()
            self._output_dict = None

    def _run_monitor(self):
        NDArray = _ndarray()
        cb, monitor_all = self._monitor
        b = self._bound
        ig = b.igraph
        for nid in b.fwd_nodes:
            node = ig.nodes[nid]
            if monitor_all:
                for name, e in zip(node.input_names(), ig.input_entries[nid]):
                    cb("%s_%s" % (node.name, name), NDArray(b.bufs[e], self._ctx, b.vars[e]))
            for name, e in zip(node.output_names(), ig.node_entries(nid)):
                cb(name, NDArray(b.bufs[e], self._ctx, b.vars[e]))

    # -- views ---------------------------------------------------------------------------------
    @staticmethod
    def _get_dict(names, arrays):
        if len(set(names)) != len(names):
            raise ValueError("Duplicate names detected, %s" % str(names))
        return dict(zip(names, arrays))

    @property
    def arg_dict(self):
        if self._arg_dict is None:
            self._arg_dict = self._get_dict(self._arg_names, self.arg_arrays)
        return self._arg_dict

    @property
    def grad_dict(self):
        if self._grad_dict is None:
            self._grad_dict = self._get_dict(self._arg_names, self.grad_arrays)
        return self._grad_dict

    @property
    def aux_dict(self):
        if self._aux_dict is None:
            self._aux_dict = self._get_dict(self._aux_names, self.aux_arrays)
        return self._aux_dict

    @property
    def output_dict(self):
        if self._output_dict is None:
            self._output_dict = self._get_dict(self._out_names, self.outputs)
        return self._output_dict

    @property
    def plan(self):
        """The memory plan (core.graph.plan.Plan) or None when unplanned."""
        return self._bound.plan

    def copy_params_from(self, arg_params, aux_params=None, allow_extra_params=False):
        """Copy parameters (cast to each array's dtype) into the bound arrays."""
        for name, array in arg_params.items():
            if name in self.arg_dict:
                dst = self.arg_dict[name]
                array.astype(dst.dtype).copyto(dst)
            elif not allow_extra_params:
                raise ValueError('Find name "%s" that is not in the arguments' % name)
        if aux_params is None:
            return
        for name, array in aux_params.items():
            if name in self.aux_dict:
                dst = self.aux_dict[name]
                array.astype(dst.dtype).copyto(dst)
            elif not allow_extra_params:
                raise ValueError("Find name %s that is not in the auxiliary states" % name)

    def reshape(self, partial_shaping=False, allow_up_sizing=False, **kwargs):
        """A new executor for new argument shapes, sharing the arrays whose shape is
        unchanged or smaller (MXNet's rules and messages)."""
        from .executor_reshape import new_arrays
        args, grads, aux = new_arrays(self, partial_shaping, allow_up_sizing, kwargs)
        ex = Executor(self._graph, self._ctx, args, grads, self._grad_req, aux,
                      self._use_planner)
        if self._monitor is not None:
            ex.set_monitor_callback(*self._monitor)
        return ex

    def debug_str(self):
        b = self._bound
        lines = ["Symbol Outputs:"] + ["\toutput[%d]=%s" % (i, n)
                                       for i, n in enumerate(self._out_names)]
        for n in b.igraph.nodes:
            lines.append("Variable:%s" % n.name if n.op is None else
                         "Op:%s, Name=%s" % (n.op.name, n.name))
        if b.plan is not None:
            lines.append("Total %d MB allocated" % (b.plan.total_bytes >> 20))
        return "\n".join(lines)
