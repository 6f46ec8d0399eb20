"""mx.autograd: record imperative ops on a tape and differentiate them.

While recording, every op whose inputs need a gradient appends a `Node` (op, parsed
attrs, input arrays, their tape entries, output arrays).  `backward` walks the nodes
reachable from the heads in reverse order and calls each op's `gradient` rule -- the
same rule the symbolic backward graph uses -- with `F`, the namespace of registered ops
(mx.nd here).  Gradients are therefore ordinary recorded ops: with create_graph=True
they are taped too, which gives higher-order gradients for free.

A rule is `gradient(F, attrs, inputs, outputs, out_grads) -> [grad per input]`, each
entry an array shaped like its input, or None where the input gets no gradient.
"""
import sys
import threading

from .base import PlaitError

_F = None        # the eager op namespace (plait.ndarray), set when ndarray is imported
_NDArray = None  # the NDArray class, set likewise
_hooks = None    # plait.ndarray.invoke._hooks: the list the invoke path calls after a push


class _State(threading.local):
    recording = False
    training = False


_st = _State()

_IN_GRAPH_MSG = ("Assigning to NDArrays that are already in a computational graph will cause "
                 "undefined behavior when evaluating gradients. Please call backward first to "
                 "clear the graph or do this out side of a record section. Also note that you "
                 "cannot use inplace operations like +=, *=, relu(x, out=x), y[idx]=x, etc "
                 "inside a record section.")
_NOT_IN_GRAPH_MSG = ("Cannot differentiate node because it is not in a computational graph. "
                     "You need to set is_recording to true or use autograd.record() to save "
                     "computational graphs for backward. If you want to differentiate the same "
                     "graph twice, you need to pass retain_graph=True to backward.")


# The tape's per-op objects are C types (csrc/tape.cc) that the cyclic GC never tracks:
# recording allocates one Node and an AGInfo per output per op, and as GC-tracked Python
# objects the growing tape made every collection traverse it again (recording cost 2-3x
# plain dispatch).  The tape is acyclic, so reference counting frees it.
#
#   AGInfo(node=None, index=0, grad=None, grad_req="null"): autograd state of one NDArray,
#     a leaf variable (node None, grad buffer, grad_req) or output `index` of a recorded
#     `node`.  Attributes node, index, grad, grad_req, live (gradients flow into it;
#     initially `node is not None or grad_req != "null"`), and needs_grad().
#   Node(op, attrs, inputs, entries, outputs): one recorded op call.  Outputs are kept as
#     (buffer, context, var) rather than as the NDArrays themselves, which hold this node
#     in their AGInfo: no reference cycle.  Attributes op, attrs, inputs, entries, _outs,
#     seq (recording order), freed, and `outputs` (NDArrays with _ag = AGInfo(node, i)).
#     inputs / entries / _outs are stored as C arrays and materialised on access.
#     Node(...) called from Python (custom Functions, which may close a cycle by saving
#     their outputs) makes a GC-tracked subtype; the tape hook's `_record` makes untracked
#     ones (except when an output is also an input).
from .._engine import AGInfo, Node, _tape_setup, record as _record

_tape_setup(globals())  # Node.outputs reads _NDArray from here


# -- recording state --------------------------------------------------------------------------
def is_recording():
    return _st.recording


def is_training():
    return _st.training


_n_recording = [0]  # threads recording now; the tape hook is installed only while > 0
_lock = threading.Lock()


def set_recording(is_recording):
    """Set recording on or off for this thread; returns the previous state."""
    prev, now = _st.recording, bool(is_recording)
    if prev != now:
        with _lock:
            _n_recording[0] += 1 if now else -1
            if _n_recording[0] > 0 and _tape_hook not in _hooks:
                _hooks.append(_tape_hook)
            elif _n_recording[0] == 0 and _tape_hook in _hooks:
                _hooks.remove(_tape_hook)
        _st.recording = now
    return prev


def set_training(train_mode):
    prev, _st.training = _st.training, bool(train_mode)
    return prev


class _Scope:
    def __init__(self, recording, training):
        self._rec, self._train = recording, training

    def __enter__(self):
        self._prev_rec = set_recording(self._rec) if self._rec is not None else None
        self._prev_train = set_training(self._train) if self._train is not None else None
        return self

    def __exit__(self, *exc):
        if self._rec is not None:
            set_recording(self._prev_rec)
        if self._train is not None:
            set_training(self._prev_train)


def record(train_mode=True):
    """Scope in which ops are recorded for backward (and run in training mode)."""
    return _Scope(True, train_mode)


def pause(train_mode=False):
    """Scope in which recording is off (e.g. for metric updates inside record())."""
    return _Scope(False, train_mode)


def train_mode():
    return _Scope(None, True)


def predict_mode():
    return _Scope(None, False)


# -- the tape -----------------------------------------------------------------------------------
def check_not_in_graph(arrays):
    """Raise MXNet's error when recording would write into an array already on the tape."""
    if _st.recording:
        for a in arrays:
            if a._ag is not None and a._ag.needs_grad():
                raise PlaitError(_IN_GRAPH_MSG, op="autograd")


def _tape_hook(op, attrs, inputs, outputs):
    # if an input's _ag is live: outputs[i]._ag = AGInfo(Node(op, attrs, inputs,
    # [x._ag for x in inputs], outputs), i)
    if _st.recording:
        _record(op, attrs, inputs, outputs)


def mark_variables(variables, gradients, grad_reqs="write"):
    """Mark arrays as leaves whose gradients go into the given buffers."""
    if not isinstance(variables, (list, tuple)):
        variables, gradients = [variables], [gradients]
    reqs = [grad_reqs] * len(variables) if isinstance(grad_reqs, str) else list(grad_reqs)
    for v, g, r in zip(variables, gradients, reqs):
        if r not in ("write", "add", "null"):
            raise PlaitError("grad_req must be 'write', 'add' or 'null', got %r" % (r,),
                             arg="grad_req", op="mark_variables")
        v._ag = AGInfo(None, 0, g, r)


# -- backward -----------------------------------------------------------------------------------
def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _collect(heads):
    """Every node reachable from the heads, newest first (a reverse topological order)."""
    seen, stack = {}, []
    for h in heads:
        ag = h._ag
        if ag is None or (ag.node is None and ag.grad_req == "null"):
            raise PlaitError(_NOT_IN_GRAPH_MSG, op="backward")
        if ag.node is not None:
            stack.append(ag.node)
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        if n.freed:
            raise PlaitError("the graph of operator '%s' was already freed by an earlier "
                             "backward; pass retain_graph=True to backward the same graph "
                             "twice" % n.op.name, op="backward")
        seen[id(n)] = n
        stack.extend(e.node for e in n.entries if e is not None and e.node is not None)
    return sorted(seen.values(), key=lambda n: -n.seq)


def _accumulate(store, key, g):
    prev = store.get(key)
    store[key] = g if prev is None else prev + g


def _run(heads, head_grads, retain_graph, create_graph, train_mode):
    """Back-propagate; returns {AGInfo of each reached leaf: its gradient}."""
    heads = _as_list(heads)
    if head_grads is None:
        head_grads = [None] * len(heads)
    head_grads = _as_list(head_grads)
    if len(head_grads) != len(heads):
        raise PlaitError("%d head gradients for %d heads" % (len(head_grads), len(heads)),
                         arg="head_grads", op="backward")
    nodes = _collect(heads)
    F = _F
    prev_rec = set_recording(create_graph)
    prev_train = set_training(train_mode)
    try:
        grads, leaves = {}, {}
        for h, hg in zip(heads, head_grads):
            if hg is not None and hg.shape != h.shape:
                raise PlaitError("head gradient of shape %s for a head of shape %s"
                                 % (hg.shape, h.shape), arg="head_grads", op="backward")
            g = F.ones_like(h) if hg is None else hg
            ag = h._ag
            if ag.node is None:
                _accumulate(leaves, ag, g)
            else:
                _accumulate(grads, (id(ag.node), ag.index), g)
        for node in nodes:
            outs = [grads.pop((id(node), i), None) for i in range(len(node._outs))]
            if all(g is None for g in outs):
                continue
            op = node.op
            if op.gradient is None:
                if op.nondiff:
                    continue
                raise PlaitError("operator '%s' has no gradient rule" % op.name, op="backward")
            outputs = node.outputs
            outs = [F.zeros_like(o) if g is None else g for g, o in zip(outs, outputs)]
            entries = node.entries
            if getattr(op, "grad_mask", False):
                needed = [e is not None and e.needs_grad() for e in entries]
                in_grads = op.gradient(F, node.attrs, node.inputs, outputs, outs, needed=needed)
            else:
                in_grads = op.gradient(F, node.attrs, node.inputs, outputs, outs)
            for e, g in zip(entries, in_grads):
                if g is None or e is None or not e.needs_grad():
                    continue
                if e.node is None:
                    _accumulate(leaves, e, g)
                else:
                    _accumulate(grads, (id(e.node), e.index), g)
    finally:
        set_recording(prev_rec)
        set_training(prev_train)
    # leaves reached only through ops without gradients get zeros, as in MXNet
    for node in nodes:
        for e, x in zip(node.entries, node.inputs):
            if e is not None and e.node is None and e.needs_grad() and e not in leaves:
                leaves[e] = F.zeros_like(x)
    if not retain_graph:
        for node in nodes:
            node.freed = True
            node.inputs = node._outs = ()
    return leaves


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):
    """Compute the gradients of heads w.r.t. the marked variables into their .grad."""
    leaves = _run(heads, head_grads, retain_graph, False, train_mode)
    while leaves:
        ag, g = leaves.popitem()
        if ag.grad_req == "null" or ag.grad is None:
            continue
        if ag.grad_req == "add":
            ag.grad += g
        elif not _adopt(ag.grad, g, sys.getrefcount(g) - 1):
            ag.grad[:] = g
        ag.grad._fresh_grad = True  # gluon.Trainer's stale-gradient check reads this


# _adopt's reference counts when only backward can see an array: a gradient NDArray popped
# from the leaves is held by backward's local alone (getrefcount's argument is subtracted);
# the .grad buffer by its NDArray and _adopt's local.  A user's view of .grad, another
# leaf or a head gradient sharing g, or a pending engine op still reading .grad adds one,
# and the gradient is copied as before.
_PRIVATE_REFS = 2


def _adopt(grad, g, refs):
    """Write a 'write' gradient by swapping storage instead of copying: grad takes the
    buffer (and engine Var) of the freshly computed g, g takes grad's old one.  Only when
    nobody else can see either buffer: g is referenced by backward alone (not a head
    gradient, not shared with another leaf, not an executor's array), both own their
    C-contiguous memory, nothing else refers to grad's buffer (no view of it would go
    stale), and they agree in class, shape, dtype and context."""
    if refs > _PRIVATE_REFS or type(g) is not type(grad) or g is grad:
        return False
    a, b = grad._data, g._data
    if (type(a) is not type(b) or sys.getrefcount(a) - 1 > _PRIVATE_REFS
            or a.base is not None or b.base is not None
            or a.shape != b.shape or a.dtype != b.dtype or grad._ctx != g._ctx
            or not (a.flags.c_contiguous and b.flags.c_contiguous)):
        return False
    grad._data, g._data = b, a
    grad._var, g._var = g._var, grad._var
    return True


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False,
         train_mode=True):
    """Gradients of heads w.r.t. `variables`, returned (not written into .grad)."""
    variables = _as_list(variables)
    for v in variables:
        if v._ag is None or v._ag.node is not None:
            raise PlaitError("every variable must be marked with attach_grad() (or "
                             "mark_variables) before recording", arg="variables", op="grad")
    if retain_graph is None:
        retain_graph = create_graph
    leaves = _run(heads, head_grads, retain_graph, create_graph, train_mode)
    out = []
    for v in variables:
        g = leaves.get(v._ag)
        out.append(_F.zeros_like(v) if g is None else g)
    return out


def get_symbol(x):
    raise PlaitError("get_symbol needs the Symbol API, which is not built yet", op="get_symbol")


class _FunctionOp:
    """Stands in for an OpDef on the tape for a custom `Function`."""
    nondiff = False

    def __init__(self, fn):
        self.fn = fn
        self.name = type(fn).__name__

    def gradient(self, F, attrs, inputs, outputs, out_grads):
        with pause():
            r = self.fn.backward(*out_grads)
        r = _as_list(r)
        if len(r) != len(inputs):
            raise PlaitError("backward returned %d gradient(s) for %d input(s)"
                             % (len(r), len(inputs)), op=self.name)
        return r


class Function:
    """A custom differentiable function (MXNet's mx.autograd.Function).

    Subclass it, define forward(*inputs) and backward(*output_grads) on NDArrays, and call
    an instance like a function; save what backward needs with save_for_backward."""

    def __init__(self):
        self._saved = ()

    def save_for_backward(self, *args):
        self._saved = args

    @property
    def saved_tensors(self):
        return self._saved

    def __call__(self, *inputs):
        with pause(train_mode=_st.training):
            outputs = self.forward(*inputs)
        single = not isinstance(outputs, (list, tuple))
        outs = [outputs] if single else list(outputs)
        if _st.recording:
            entries = [getattr(x, "_ag", None) for x in inputs]
            if any(e is not None and e.needs_grad() for e in entries):
                node = Node(_FunctionOp(self), None, inputs, entries, outs)
                for i, o in enumerate(outs):
                    o._ag = AGInfo(node, i)
        return outputs

    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, *output_grads):
        raise NotImplementedError
