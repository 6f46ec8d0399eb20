"""mx.sym.contrib: foreach, while_loop and cond as graph nodes with subgraph bodies
(`_foreach`, `_while_loop`, `_cond`; core/ops/control_flow*.py), laid out as MXNet 1.9
lays them out, and every registered `_contrib_<name>` op as mx.sym.contrib.<name>.

Building a body: the user's function is called on placeholder variables inside
AttrScope(__subgraph_name__=<unique name>), so every node it creates is marked.  The
body graph is what its outputs reach, cut where it leaves the marked nodes: a variable
(a parameter, an outer input) or an unmarked node (a value computed outside the body)
becomes a body input fed by the control-flow node from the outer graph.  Outputs that
are not computed by the body itself go through `identity`, as in MXNet.
"""
import collections

from ..core.base import PlaitError
from ..core.graph.ir import Entry, Graph, Node
from ..core.ops import registry as _registry
from ..ndarray.contrib import body_result, flatten, regroup
from . import compose as _c
from .name import AttrScope, current_attr_scope
from .symbol import Symbol

__all__ = ["foreach", "while_loop", "cond"]

_SUBGRAPH_NAMES = collections.defaultdict(int)


def _unique_subgraph_name(name):
    outer = current_attr_scope()._attr.get("__subgraph_name__", "")
    if outer:
        name = outer + "$" + name
    n = _SUBGRAPH_NAMES[name]
    _SUBGRAPH_NAMES[name] += 1
    return "%s%d" % (name, n)


def _uniq_name(sym):
    e = sym._entries[0]
    return "%s-%d" % (e.node.name, e.index)


def _placeholders(syms, name_fn=_uniq_name):
    from .api import var
    return [var(name_fn(s)) for s in syms]


def _body_outputs(entries, sub_name):
    """The body's output entries: an output the body does not compute itself (an input,
    an outer value, an entry already listed) goes through identity (MXNet's rule)."""
    from . import identity
    out, seen = [], set()
    for e in entries:
        n = e.node
        if n.op is None or n.attrs.get("__subgraph_name__") != sub_name or \
                (id(n), e.index) in seen:
            e = identity(Symbol([e]))._entries[0]
        seen.add((id(e.node), e.index))
        out.append(e)
    return out


def _cut(outputs, sub_name, placeholders):
    """(body Graph, feeds): the body reachable from `outputs` (marked nodes, copied) with
    each body input in list_inputs order described by its feed: ('ph', k) for
    placeholder k, or ('outer', Entry) for a value of the outer graph."""
    ph = {id(p._entries[0].node): k for k, p in enumerate(placeholders)}
    memo, cut_vars, outer_of = {}, {}, {}

    def in_body(n):
        return n.op is not None and n.attrs.get("__subgraph_name__") == sub_name

    def leaf(e):
        n = e.node
        if id(n) in ph:
            return e
        key = (id(n), e.index)
        v = cut_vars.get(key)
        if v is None:
            v = cut_vars[key] = (Node(None, n.name, n.attrs) if n.op is None
                                 else Node(None, n.output_names()[e.index]))
            outer_of[id(v)] = Entry(n, e.index)
        return Entry(v, 0)

    # iterative post-order over the marked nodes only
    for out in outputs:
        stack = [(out.node, False)]
        while stack:
            n, ready = stack.pop()
            if not in_body(n) or id(n) in memo:
                continue
            if ready:
                ins = [Entry(memo[id(e.node)], e.index) if in_body(e.node) else leaf(e)
                       for e in n.inputs]
                memo[id(n)] = Node(n.op, n.name, n.attrs, ins, n.subgraphs)
                continue
            stack.append((n, True))
            stack.extend((e.node, False) for e in n.inputs if in_body(e.node))
    body = Graph([Entry(memo[id(e.node)], e.index) for e in outputs])
    feeds = [("ph", ph[id(v)]) if id(v) in ph else ("outer", outer_of[id(v)])
             for v in body.variables()]
    return body, feeds


def _node(opname, hint, inputs, params, subgraphs):
    op = _registry.get(opname)
    kw = {"input%d" % i: Symbol([e]) for i, e in enumerate(inputs)}
    return _c.make_op_node(op, hint, None, kw, dict(params, subgraphs=tuple(subgraphs)))


def _syms_of(node, lo, hi):
    return [Symbol([Entry(node, i)]) for i in range(lo, hi)]


# -- foreach ---------------------------------------------------------------------------------------
def foreach(body, data, init_states, name="foreach"):
    """The graph form of mx.nd.contrib.foreach: `body(data_t, states) -> (outputs,
    new_states)` is traced once into a subgraph; returns (outputs stacked along axis 0,
    final states) as Symbols with the nesting of the body's results."""
    op = "foreach"
    flat_data, data_fmt = flatten(data, Symbol, "data", op)
    flat_init, state_fmt = flatten(init_states, Symbol, "init_states", op)
    sub_name = _unique_subgraph_name(name)
    with AttrScope(__subgraph_name__=sub_name):
        d_ph = _placeholders(flat_data)
        s_ph = _placeholders(flat_init)
        outs, states = body_result(body(regroup(d_ph, data_fmt), regroup(s_ph, state_fmt)),
                                   "body", op)
        flat_out, out_fmt = flatten(outs, Symbol, "outputs of the body", op)
        flat_new, new_fmt = flatten(states, Symbol, "states returned by the body", op)
        if new_fmt != state_fmt:
            raise PlaitError("the body returned states of structure %s, init_states has %s"
                             % (new_fmt, state_fmt), arg="init_states", op=op)
        entries = _body_outputs([s._entries[0] for s in flat_out + flat_new], sub_name)
    g, feeds = _cut(entries, sub_name, d_ph + s_ph)
    nd = len(flat_data)
    in_data_locs, in_state_locs, remain_locs, free = [-1] * nd, [-1] * len(flat_init), [], []
    for j, (kind, v) in enumerate(feeds):
        if kind == "ph":
            if v < nd:
                in_data_locs[v] = j
            else:
                in_state_locs[v - nd] = j
        else:
            remain_locs.append(j)
            free.append(v)
    for what, locs in (("data", in_data_locs), ("init_states", in_state_locs)):
        if -1 in locs:
            raise PlaitError("%s %d is not used by the body (every data array and state "
                             "must be)" % (what, locs.index(-1)), arg=what, op=op)
    inputs = [s._entries[0] for s in flat_data + flat_init] + free
    n_out = len(flat_out) + len(flat_new)
    node = _node("_foreach", "_foreach", inputs,
                 dict(num_args=len(inputs) + 1, num_outputs=n_out,
                      num_out_data=len(flat_out), in_data_locs=in_data_locs,
                      in_state_locs=in_state_locs, remain_locs=remain_locs), [g])
    res_out = _syms_of(node, 0, len(flat_out))
    res_states = _syms_of(node, len(flat_out), n_out)
    return (regroup(res_out, out_fmt) if out_fmt != [] else []), regroup(res_states, state_fmt)


# -- while_loop and cond: bodies over a union of inputs --------------------------------------------
def _union(cuts, loop_entries=()):
    """Node inputs shared by several bodies: (inputs, [locs per body]); placeholder k is
    its own input (fed loop_entries[k], updated each step), even when the same outer
    value is also used unchanged by a body."""
    inputs, index, all_locs = [], {}, []
    for feeds in cuts:
        locs = []
        for kind, v in feeds:
            e = loop_entries[v] if kind == "ph" else v
            key = ("ph", v) if kind == "ph" else (id(e.node), e.index)
            if key not in index:
                index[key] = len(inputs)
                inputs.append(e)
            locs.append(index[key])
        all_locs.append(locs)
    return inputs, all_locs


def while_loop(cond, func, loop_vars, max_iterations=None, name="while_loop"):
    """The graph form of mx.nd.contrib.while_loop: `cond(*loop_vars)` and
    `func(*loop_vars) -> (step_output, new_loop_vars)` are traced into subgraphs.
    Returns (step outputs stacked and padded to max_iterations rows, final loop vars)."""
    op = "while_loop"
    if max_iterations is None:
        raise PlaitError("max_iterations should be specified", arg="max_iterations", op=op)
    try:
        max_iterations = int(max_iterations)
    except (TypeError, ValueError):
        raise PlaitError("cannot convert %r to a Python int" % (max_iterations,),
                         arg="max_iterations", op=op) from None
    flat_vars, var_fmt = flatten(loop_vars, Symbol, "loop_vars", op)
    if not flat_vars:
        raise PlaitError("loop_vars should contain at least one element", arg="loop_vars", op=op)
    entries = [s._entries[0] for s in flat_vars]

    def trace(suffix, fn):
        sub_name = _unique_subgraph_name(name + suffix)
        with AttrScope(__subgraph_name__=sub_name):
            ph = _placeholders(flat_vars)
            res = fn(regroup(ph, var_fmt))
            outs = _body_outputs(res, sub_name)
        return _cut(outs, sub_name, ph)

    def cond_fn(vs):
        r = cond(*(vs if isinstance(vs, list) else [vs]))
        if not isinstance(r, Symbol) or len(r._entries) != 1:
            raise PlaitError("cond must return one Symbol, got %s" % type(r).__name__,
                             arg="cond", op=op)
        return r._entries

    fmt = {}

    def func_fn(vs):
        step, new = body_result(func(*(vs if isinstance(vs, list) else [vs])), "func", op)
        flat_step, fmt["out"] = flatten(list(step) if isinstance(step, tuple) else step,
                                        Symbol, "step_output", op)
        flat_new, _ = flatten(list(new) if isinstance(new, tuple) else new, Symbol,
                              "new loop_vars", op)
        if len(flat_new) != len(flat_vars):
            raise PlaitError("func returned %d loop variable(s), loop_vars has %d"
                             % (len(flat_new), len(flat_vars)), arg="loop_vars", op=op)
        fmt["n_out"] = len(flat_step)
        return [s._entries[0] for s in flat_step + flat_new]

    cond_g, cond_feeds = trace("_cond", cond_fn)
    func_g, func_feeds = trace("_func", func_fn)
    inputs, (cond_locs, func_locs) = _union([cond_feeds, func_feeds], entries)
    var_locs = [-1] * len(flat_vars)
    for j, (kind, v) in enumerate(func_feeds):
        if kind == "ph":
            var_locs[v] = j
    if -1 in var_locs:
        raise PlaitError("loop variable %d is not used by func (every loop variable must be)"
                         % var_locs.index(-1), arg="loop_vars", op=op)
    nod = fmt["n_out"]
    node = _node("_while_loop", "_while_loop", inputs,
                 dict(num_args=len(inputs) + 2, num_outputs=nod + len(flat_vars),
                      num_out_data=nod, max_iterations=max_iterations,
                      cond_input_locs=cond_locs, func_input_locs=func_locs,
                      func_var_locs=var_locs), [cond_g, func_g])
    outs = _syms_of(node, 0, nod)
    final = _syms_of(node, nod, nod + len(flat_vars))
    return (regroup(outs, fmt["out"]) if fmt["out"] != [] else []), regroup(final, var_fmt)


def cond(pred, then_func, else_func, name="cond"):
    """The graph form of mx.nd.contrib.cond: `then_func()` or `else_func()`, chosen at run
    time by `pred` (one element); both are traced into subgraphs and must give the same
    number of outputs (with equal shapes and dtypes)."""
    op = "cond"

    def trace(suffix, fn, what):
        sub_name = _unique_subgraph_name(name + suffix)
        with AttrScope(__subgraph_name__=sub_name):
            flat, fmt = flatten(fn(), Symbol, what, op)
            outs = _body_outputs([s._entries[0] for s in flat], sub_name)
        g, feeds = _cut(outs, sub_name, [])
        return g, feeds, fmt, len(flat)

    if not isinstance(pred, Symbol) or len(pred._entries) != 1:
        raise PlaitError("pred must be one Symbol, got %s" % type(pred).__name__,
                         arg="pred", op=op)
    pred_g, pred_feeds, _, _ = trace("_pred", lambda: pred, "pred")
    then_g, then_feeds, fmt, n_then = trace("_then", then_func, "outputs of then_func")
    else_g, else_feeds, _, n_else = trace("_else", else_func, "outputs of else_func")
    if n_then != n_else:
        raise PlaitError("then_func gives %d output(s), else_func %d (they must agree)"
                         % (n_then, n_else), arg="else_func", op=op)
    inputs, (c_locs, t_locs, e_locs) = _union([pred_feeds, then_feeds, else_feeds])
    node = _node("_cond", "_cond", inputs,
                 dict(num_args=len(inputs) + 3, num_outputs=n_then, cond_input_locs=c_locs,
                      then_input_locs=t_locs, else_input_locs=e_locs),
                 [pred_g, then_g, else_g])
    return regroup(_syms_of(node, 0, n_then), fmt)


# -- registered contrib ops ------------------------------------------------------------------------
def _api():
    from .. import symbol
    return symbol


def _make(op, name):  # node names from the short name (bilinearresize2d0), as MXNet
    from .api import make_symbol_function
    return make_symbol_function(op, name)


__getattr__, __dir__ = _registry.contrib_accessors('mx.sym.contrib', _api, __all__,
                                                   make=_make)
