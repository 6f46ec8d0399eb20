"""Control-flow operators with subgraph bodies: `_foreach` here, `_while_loop` and `_cond`
in control_flow_loops.py, each with a hidden backward op.

MXNet 1.9's layout is kept exactly, so -symbol.json files with these nodes load and the
files plait writes load in MXNet: the bodies are the node's subgraphs (IR `Node.subgraphs`,
JSON "subgraphs"; `Node.params()['subgraphs']` hands them to the rules here), `num_args`
counts the node's inputs plus its subgraphs, and the `*_locs` attributes say which body
input (in the body's list_inputs order) each node input feeds:

_foreach(data..., init_states..., free...)     one subgraph `body`
    in_data_locs[k]   body input fed with data[k][t] (slices along axis 0)
    in_state_locs[k]  body input fed with the loop state k
    remain_locs[k]    body input fed with free input k (parameters, outer values)
    body outputs: num_out_data per-step outputs, then the new states
    node outputs: the per-step outputs stacked along a new axis 0, then the final states

Forward kernels run the body with control_flow_exec.Program (one engine push for the
whole loop).  Gradients are one backward node, `_backward_<op>(out_grads..., inputs...)`,
that walks the steps newest first through the body's gradient graph
(control_flow_exec.grad_program).  A training forward saves each step's body inputs and
intermediate values for it (save_steps), so the backward runs only backward nodes;
without them (a backward op called on its own) it replays the loop first, rewinding the
random generator to each step's state (RngReplay) so Dropout draws the same masks.
"""
import numpy as np

from ..base import PlaitError, fail
from .control_flow_exec import (RngReplay, body_meta, inputs_of, program, save_steps,
                                saved_steps)
from .params import REQUIRED, Param
from . import registry
from .registry import OpDef, register


class ObjParam(Param):
    """A parameter holding a Python object (a body graph, a forward op's attributes);
    printed as the object itself, so it never reaches a -symbol.json."""

    def __init__(self, doc, default=None):
        super().__init__("any", default, doc)

    def format(self, value):
        return value


class LocsParam(Param):
    """A list of body-input positions, printed as MXNet prints it: '[0, 2]'."""

    def __init__(self, doc):
        super().__init__("shape", (), doc)

    def format(self, value):
        return "[" + ", ".join(str(int(v)) for v in value) + "]"


def subgraph_params(n_sub):
    return {"num_args": Param("int", doc="Number of inputs plus %d (the subgraph%s)."
                              % (n_sub, "s" if n_sub > 1 else "")),
            "num_outputs": Param("int", doc="Number of outputs."),
            "subgraphs": ObjParam("The body graphs (from the node's subgraphs).")}


def bodies(a, op, n):
    """The node's n subgraphs; a clear error when they are missing."""
    subs = a.get("subgraphs")
    if not subs or len(subs) != n:
        raise PlaitError("needs %d subgraph(s) (the loop body), got %d"
                         % (n, len(subs) if subs else 0), arg="subgraphs", op=op)
    if "__programs__" not in a:  # made before the executor/tape copy the attributes, so
        a["__programs__"] = {}   # the copies share it (compiled bodies, RngReplay)
    return subs


def check_count(a, n_inputs, n_sub, op):
    if a.num_args != n_inputs + n_sub:
        raise PlaitError("num_args=%d, but the node has %d input(s) and %d subgraph(s)"
                         % (a.num_args, n_inputs, n_sub), arg="num_args", op=op)


def check_locs(locs_list, n_body, body, op, what):
    """Every body input is fed exactly once by the *_locs attributes."""
    seen = sorted(v for locs in locs_list for v in locs)
    if seen != list(range(n_body)):
        raise PlaitError("%s give body input positions %s, but the body has %d input(s) (%s)"
                         % (what, seen, n_body, ", ".join(v.name for v in inputs_of(body))),
                         op=op)


def check_n_outputs(body, n, op, what="body"):
    if len(body.outputs) != n:
        raise PlaitError("the %s returns %d output(s), num_outputs=%d"
                         % (what, len(body.outputs), n), arg="num_outputs", op=op)


def zeros_if_none(xp, grads, shapes, dtypes):
    return [xp.zeros(s, t) if g is None else g for g, s, t in zip(grads, shapes, dtypes)]


# The inputs of a control-flow node are numbered ('input0', 'input1', ...): how many
# depends on the body.  `inputs` lists enough names for positional mx.nd/mx.sym calls
# of the hidden ops; graphs (JSON, mx.sym.contrib) have no such limit.
MAX_POSITIONAL = 64
INPUT_NAMES = tuple("input%d" % i for i in range(MAX_POSITIONAL))


def numbered_inputs(n_sub):
    """inputs_fn: 'input0' .. for num_args - n_sub inputs."""
    return lambda a: tuple("input%d" % i for i in range(a.num_args - n_sub))


# -- _foreach -----------------------------------------------------------------------------------
_FE = "_foreach"


def _fe_counts(a):
    return len(a.in_data_locs), len(a.in_state_locs), len(a.remain_locs)


def _fe_check(a, n_inputs):
    nd, ns, nr = _fe_counts(a)
    if n_inputs != nd + ns + nr:
        raise PlaitError("expected %d data, %d state and %d free input(s) (in_data_locs, "
                         "in_state_locs, remain_locs), got %d input(s)" % (nd, ns, nr, n_inputs),
                         arg="data", op=_FE)
    body = bodies(a, _FE, 1)[0]
    check_count(a, n_inputs, 1, _FE)
    check_locs([a.in_data_locs, a.in_state_locs, a.remain_locs], len(inputs_of(body)), body,
               _FE, "in_data_locs, in_state_locs and remain_locs")
    check_n_outputs(body, a.num_outputs, _FE)
    if a.num_out_data + ns != a.num_outputs:
        raise PlaitError("num_outputs=%d must be num_out_data (%d) + the number of states (%d)"
                         % (a.num_outputs, a.num_out_data, ns), arg="num_outputs", op=_FE)
    return body, nd, ns


def _fe_feed(a, data, states, free):
    """Body inputs (list_inputs order) from the node's data slices, states, free inputs."""
    sub = [None] * (len(data) + len(states) + len(free))
    for locs, vals in ((a.in_data_locs, data), (a.in_state_locs, states), (a.remain_locs, free)):
        for loc, v in zip(locs, vals):
            sub[loc] = v
    return sub


def _fe_split(a, vals):
    nd, ns, _ = _fe_counts(a)
    return vals[:nd], vals[nd:nd + ns], vals[nd + ns:]


def _fe_shape(a, shapes):
    body, nd, ns = _fe_check(a, len(shapes))
    data, states, free = _fe_split(a, [tuple(s) for s in shapes])
    if not data:
        fail("data", "_foreach needs at least one data input to iterate over")
    for k, s in enumerate(data):
        if len(s) < 1:
            fail("data%d" % k, "a scalar cannot be iterated over (shape %s)", s)
        if s[0] != data[0][0]:
            fail("data%d" % k, "has %d steps (shape %s), data0 has %d (shape %s)",
                 s[0], s, data[0][0], data[0])
    outs = body_meta(body, _fe_feed(a, [s[1:] for s in data], states, free), "shape", _FE)
    nod = a.num_out_data
    for k, s in enumerate(states):
        if outs[nod + k] != s:
            fail("state%d" % k, "the body returns state %d with shape %s, the initial state "
                 "has shape %s (a loop state keeps its shape)", k, outs[nod + k], s)
    return [(data[0][0],) + tuple(o) for o in outs[:nod]] + list(states)


def _fe_type(a, types):
    body, nd, ns = _fe_check(a, len(types))
    data, states, free = _fe_split(a, list(types))
    outs = body_meta(body, _fe_feed(a, data, states, free), "dtype", _FE)
    nod = a.num_out_data
    for k, t in enumerate(states):
        if outs[nod + k] != t:
            fail("state%d" % k, "the body returns state %d as %s, the initial state is %s",
                 k, np.dtype(outs[nod + k]).name, np.dtype(t).name)
    return list(outs[:nod]) + list(states)


def _fe_fill(a, ins, outs):
    """Unknown free-input shapes (parameters of layers in the body) from the body's own
    rules, once the data and state shapes are known: what deferred init needs."""
    from ..graph.infer import infer_shapes
    body, nd, ns = _fe_check(a, len(ins))
    data, states, free = _fe_split(a, list(ins))
    if any(s is None for s in data) or any(s is None for s in states):
        return ins
    feed = _fe_feed(a, [tuple(s)[1:] for s in data], states, free)
    names = inputs_of(body)
    known = {v.name: s for v, s in zip(names, feed) if s is not None}
    shp, ig = infer_shapes(body, known, partial=True)
    got = [shp[ig.row_ptr[ig.node_id[id(v)]]] for v in names]
    return list(data) + list(states) + [got[loc] for loc in a.remain_locs]


def fill_from_bodies(ins, pairs):
    """Input-filling rule of _while_loop/_cond: unknown node-input shapes (parameters of
    layers inside a body) from the bodies' own rules; pairs: [(body, locs)] with body
    input j fed by node input locs[j]."""
    from ..graph.infer import infer_shapes
    filled = list(ins)
    for body, locs in pairs:
        names = inputs_of(body)
        known = {v.name: filled[i] for v, i in zip(names, locs) if filled[i] is not None}
        shp, ig = infer_shapes(body, known, partial=True)
        for v, i in zip(names, locs):
            s = shp[ig.row_ptr[ig.node_id[id(v)]]]
            if filled[i] is None and s is not None:
                filled[i] = s
    return filled


def _fe_program(a, data, states, free, grad=False):
    feed = _fe_feed(a, data, states, free)
    return program(a, 0, [x.shape for x in feed], [x.dtype for x in feed], _FE, grad)


def _fe_forward(xp, a, ins, outs):
    data, states, free = _fe_split(a, list(ins))
    nod, steps = a.num_out_data, data[0].shape[0]
    is_train = a.get("__is_train__", False)
    rr = RngReplay(xp, a, a.subgraphs, is_train, record=True)
    cur = list(states)
    prog, saved = None, []
    for t in range(steps):
        sl = [x[t] for x in data]
        if prog is None:
            prog = _fe_program(a, sl, cur, free)
        rr.mark()
        feed, keep = _fe_feed(a, sl, cur, free), ({} if is_train else None)
        res = prog.run(xp, feed, is_train, keep)
        saved.append((feed, keep))
        for k in range(nod):
            outs[k][t] = res[k]
        cur = res[nod:]
    save_steps(a, ins, saved, is_train)
    for k, s in enumerate(cur):
        outs[nod + k][...] = s


def _fe_backward(xp, a, ins, outs):
    """ins: out-grads of _foreach's outputs, then its inputs; outs: a gradient per input."""
    f = a.fwd
    n_out = f.num_outputs
    ograds, inputs = list(ins[:n_out]), list(ins[n_out:])
    data, states, free = _fe_split(f, inputs)
    nod, steps = f.num_out_data, data[0].shape[0]
    is_train = f.get("__is_train__", True)
    rr = RngReplay(xp, f, f.subgraphs, is_train, record=False)
    history = saved_steps(f, inputs)
    if history is None:  # no saved forward: replay the loop for each step's inputs
        fprog, history, cur = None, [], list(states)
        for t in range(steps):
            sl = [x[t] for x in data]
            if fprog is None:
                fprog = _fe_program(f, sl, cur, free)
            history.append((_fe_feed(f, sl, cur, free), None))
            rr.rewind(t)
            cur = fprog.run(xp, history[-1][0], is_train)[nod:]
    nd, ns, nr = _fe_counts(f)
    g_data, g_free = outs[:nd], outs[nd + ns:]
    for o in g_data + g_free:
        o[...] = 0
    g_state = list(ograds[nod:])
    gprog = None
    for t in range(steps - 1, -1, -1):
        feed, keep = history[t]
        if gprog is None:
            gprog = program(f, 0, [x.shape for x in feed], [x.dtype for x in feed], _FE, True)
        heads = [g[t] for g in ograds[:nod]] + g_state
        rr.rewind(t)
        res = gprog.run(xp, feed + heads, is_train, pre=keep)
        for k, loc in enumerate(f.in_data_locs):
            g_data[k][t] = res[loc]
        g_state = [res[loc] for loc in f.in_state_locs]
        for k, loc in enumerate(f.remain_locs):
            g_free[k] += res[loc]
    rr.restore()
    for k, g in enumerate(g_state):
        outs[nd + k][...] = g


def cf_gradient(bwd_name):
    """The gradient rule of a control-flow op: one backward node over all inputs."""
    def gradient(F, a, inputs, outputs, out_grads):
        r = getattr(F, bwd_name)(*(list(out_grads) + list(inputs)), fwd=a)
        return list(r) if isinstance(r, (list, tuple)) else [r]
    return gradient


def backward_params():
    return {"num_args": Param("int", doc="Number of inputs: the out-grads, then the "
                              "forward op's inputs."),
            "fwd": ObjParam("The forward node's parsed attributes (bodies included).",
                            REQUIRED)}


def backward_shape(a, shapes):
    n_out = a.fwd.num_outputs
    if len(shapes) <= n_out:
        fail("num_args", "needs %d out-grad(s) and the forward inputs, got %d array(s)",
             n_out, len(shapes))
    return [tuple(s) for s in shapes[n_out:]]


def backward_type(a, types):
    return list(types[a.fwd.num_outputs:])


from . import control_flow_samples as _s  # noqa: E402

register(OpDef(
    _FE, inputs=INPUT_NAMES, inputs_fn=numbered_inputs(1),
    num_outputs=lambda a: a.num_outputs,
    params=dict(subgraph_params(1),
                num_out_data=Param("int", doc="Number of per-step outputs of the body."),
                in_state_locs=LocsParam("Body input position of each loop state."),
                in_data_locs=LocsParam("Body input position of each data input."),
                remain_locs=LocsParam("Body input position of each free input.")),
    infer_shape=_fe_shape, infer_type=_fe_type, forward=_fe_forward, train_aware=True,
    gradient=cf_gradient("_backward_foreach"), reference=_s.foreach_ref,
    samples=_s.foreach_samples, tol=_s.TOL,
    doc="Runs the body subgraph once per slice of the data inputs along axis 0, carrying "
        "loop states; outputs the stacked per-step outputs and the final states "
        "(mx.sym.contrib.foreach builds it)."))
registry.get(_FE).infer_inputs = _fe_fill
register(OpDef(
    "_backward_foreach", variadic="num_args", num_outputs=lambda a: a.num_args - a.fwd.num_outputs,
    params=backward_params(), infer_shape=backward_shape, infer_type=backward_type,
    forward=_fe_backward, nondiff=True, reference=_s.backward_ref("_foreach"),
    samples=_s.backward_samples("_foreach"), tol=_s.TOL_BWD,
    doc="_foreach's gradient: replays the loop, then runs the body's gradient graph once "
        "per step, last step first."))
