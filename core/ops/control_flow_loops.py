"""`_while_loop` and `_cond` (MXNet 1.9's layout; see control_flow.py for the common parts).

_while_loop(inputs...)    subgraphs (cond, func); the inputs are the union of both bodies'
    cond_input_locs[j]    node input feeding cond's body input j
    func_input_locs[j]    node input feeding func's body input j
    func_var_locs[k]      func body input holding loop variable k (so loop variable k
                          starts as node input func_input_locs[func_var_locs[k]])
    func outputs: num_out_data per-step outputs, then the new loop variables
    node outputs: per-step outputs stacked to (max_iterations, ...) -- rows past the last
                  step are zeros (MXNet leaves them unset) -- then the final loop variables
    The loop runs while cond's single output (one element) is non-zero, at most
    max_iterations times; cond sees the current loop variables.

_cond(inputs...)          subgraphs (pred, then, else); *_input_locs as for cond above.
"""
import numpy as np

from ..base import PlaitError, fail
from .control_flow import (INPUT_NAMES, LocsParam, numbered_inputs, backward_params,
                           backward_shape, backward_type, bodies, fill_from_bodies,
                           cf_gradient, check_count, check_n_outputs, subgraph_params)
from .control_flow_exec import (RngReplay, body_meta, inputs_of, program, save_steps,
                                saved_steps)
from . import control_flow_samples as _s
from .params import Param, positive
from . import registry
from .registry import OpDef, register

_WL, _CD = "_while_loop", "_cond"


def _feed(vals, locs):
    return [vals[i] for i in locs]


def _check_body_locs(body, locs, n_inputs, op, what):
    n = len(inputs_of(body))
    if len(locs) != n:
        raise PlaitError("%s has %d entries, the %s body has %d input(s)"
                         % (what, len(locs), what.split("_")[0], n), arg=what, op=op)
    for i in locs:
        if not 0 <= i < n_inputs:
            raise PlaitError("%s refers to input %d, the node has %d input(s)"
                             % (what, i, n_inputs), arg=what, op=op)


def _pred_value(x, op):
    if x.size != 1:
        raise PlaitError("the condition must give one element, got shape %s"
                         % (tuple(x.shape),), op=op)
    return bool(x.reshape(-1)[0])


# -- _while_loop ----------------------------------------------------------------------------------
def _wl_check(a, n_inputs):
    cond, func = bodies(a, _WL, 2)
    check_count(a, n_inputs, 2, _WL)
    _check_body_locs(cond, a.cond_input_locs, n_inputs, _WL, "cond_input_locs")
    _check_body_locs(func, a.func_input_locs, n_inputs, _WL, "func_input_locs")
    check_n_outputs(cond, 1, _WL, "cond")
    check_n_outputs(func, a.num_outputs, _WL, "func")
    nv = len(a.func_var_locs)
    if a.num_out_data + nv != a.num_outputs:
        raise PlaitError("num_outputs=%d must be num_out_data (%d) + the number of loop "
                         "variables (%d)" % (a.num_outputs, a.num_out_data, nv),
                         arg="num_outputs", op=_WL)
    for j in a.func_var_locs:
        if not 0 <= j < len(a.func_input_locs):
            raise PlaitError("func_var_locs refers to func input %d, func has %d input(s)"
                             % (j, len(a.func_input_locs)), arg="func_var_locs", op=_WL)
    return cond, func, [a.func_input_locs[j] for j in a.func_var_locs]


def _wl_meta(a, vals, what):
    cond, func, var_pos = _wl_check(a, len(vals))
    c = body_meta(cond, _feed(vals, a.cond_input_locs), what, _WL)[0]
    if what == "shape" and int(np.prod(c)) != 1:
        fail("cond", "the condition must give one element, it gives shape %s", c)
    outs = body_meta(func, _feed(vals, a.func_input_locs), what, _WL)
    nod = a.num_out_data
    for k, p in enumerate(var_pos):
        if outs[nod + k] != vals[p]:
            fail("loop_vars", "func returns loop variable %d with %s %s, it starts with %s",
                 k, what, _show(outs[nod + k]), _show(vals[p]))
    if what == "shape":
        return [(a.max_iterations,) + tuple(o) for o in outs[:nod]] + \
            [tuple(vals[p]) for p in var_pos]
    return list(outs[:nod]) + [vals[p] for p in var_pos]


def _show(v):
    return str(tuple(v)) if isinstance(v, tuple) else np.dtype(v).name


def _wl_run(xp, a, ins, on_step=None, rr=None):
    """Run the loop; on_step(func inputs, kept values) sees each step (a forward keeps
    the func body's values when training, for the backward).  Returns (rows, vals,
    var_pos)."""
    cond, func, var_pos = _wl_check(a, len(ins))
    vals, nod, rows = list(ins), a.num_out_data, []
    is_train = a.get("__is_train__", False)
    if rr is None:
        rr = RngReplay(xp, a, a.subgraphs, is_train, record=True)
    cprog = fprog = None
    while len(rows) < a.max_iterations:
        cin = _feed(vals, a.cond_input_locs)
        if cprog is None:
            cprog = program(a, 0, [x.shape for x in cin], [x.dtype for x in cin], _WL)
        if not _pred_value(cprog.run(xp, cin, is_train)[0], _WL):
            break
        fin = _feed(vals, a.func_input_locs)
        if fprog is None:
            fprog = program(a, 1, [x.shape for x in fin], [x.dtype for x in fin], _WL)
        keep = None
        if on_step is not None and rr.replaying:
            rr.rewind(len(rows))
        else:
            rr.mark()
            keep = {} if is_train else None
        res = fprog.run(xp, fin, is_train, keep)
        if on_step is not None:
            on_step((fin, keep))
        rows.append(res[:nod])
        for k, p in enumerate(var_pos):
            vals[p] = res[nod + k]
    return rows, vals, var_pos


def _wl_forward(xp, a, ins, outs):
    saved = []
    rows, vals, var_pos = _wl_run(xp, a, ins, saved.append)
    save_steps(a, ins, saved, a.get("__is_train__", False))
    nod = a.num_out_data
    for k in range(nod):
        outs[k][len(rows):] = 0
        for t, r in enumerate(rows):
            outs[k][t] = r[k]
    for k, p in enumerate(var_pos):
        outs[nod + k][...] = vals[p]


def _wl_backward(xp, a, ins, outs):
    f = a.fwd
    n_out = f.num_outputs
    ograds, inputs = list(ins[:n_out]), list(ins[n_out:])
    rr = RngReplay(xp, f, f.subgraphs, f.get("__is_train__", True), record=False)
    history = saved_steps(f, inputs)
    if history is None:  # no saved forward: replay the loop for each step's inputs
        history = []
        _wl_run(xp, f, inputs, history.append, rr)
    for o in outs:
        o[...] = 0
    var_pos = [f.func_input_locs[j] for j in f.func_var_locs]
    nod = f.num_out_data
    g_var = list(ograds[nod:])
    is_train = f.get("__is_train__", True)
    gprog = None
    is_var = set(f.func_var_locs)
    for t in range(len(history) - 1, -1, -1):
        fin, keep = history[t]
        if gprog is None:
            gprog = program(f, 1, [x.shape for x in fin], [x.dtype for x in fin], _WL, grad=True)
        rr.rewind(t)
        res = gprog.run(xp, fin + [g[t] for g in ograds[:nod]] + g_var, is_train, pre=keep)
        g_var = [res[j] for j in f.func_var_locs]
        for j, i in enumerate(f.func_input_locs):
            if j not in is_var:
                outs[i] += res[j]
    rr.restore()
    for k, p in enumerate(var_pos):
        outs[p] += g_var[k]


register(OpDef(
    _WL, inputs=INPUT_NAMES, inputs_fn=numbered_inputs(2),
    num_outputs=lambda a: a.num_outputs,
    params=dict(subgraph_params(2),
                num_out_data=Param("int", doc="Number of per-step outputs of func."),
                max_iterations=Param("int", check=positive, doc="Most steps the loop runs."),
                cond_input_locs=LocsParam("Node input feeding each input of cond."),
                func_input_locs=LocsParam("Node input feeding each input of func."),
                func_var_locs=LocsParam("func input holding each loop variable.")),
    infer_shape=lambda a, s: _wl_meta(a, [tuple(x) for x in s], "shape"),
    infer_type=lambda a, t: _wl_meta(a, list(t), "dtype"),
    forward=_wl_forward, train_aware=True, gradient=cf_gradient("_backward_while_loop"),
    reference=_s.while_ref, samples=_s.while_samples, tol=_s.TOL,
    doc="Runs func while cond holds (at most max_iterations times), carrying loop variables; "
        "outputs the per-step outputs stacked and padded to max_iterations rows, then the "
        "final loop variables (mx.sym.contrib.while_loop builds it)."))
registry.get(_WL).infer_inputs = lambda a, ins, outs: fill_from_bodies(
    ins, zip(bodies(a, _WL, 2), (a.cond_input_locs, a.func_input_locs)))
register(OpDef(
    "_backward_while_loop", variadic="num_args",
    num_outputs=lambda a: a.num_args - a.fwd.num_outputs,
    params=backward_params(), infer_shape=backward_shape, infer_type=backward_type,
    forward=_wl_backward, nondiff=True, reference=_s.backward_ref(_WL),
    samples=_s.backward_samples(_WL), tol=_s.TOL_BWD,
    doc="_while_loop's gradient: replays the loop, then runs func's gradient graph once per "
        "step that ran, last step first."))


# -- _cond ----------------------------------------------------------------------------------------
def _cd_check(a, n_inputs):
    subs = bodies(a, _CD, 3)
    check_count(a, n_inputs, 3, _CD)
    for g, locs, what in zip(subs, (a.cond_input_locs, a.then_input_locs, a.else_input_locs),
                             ("cond_input_locs", "then_input_locs", "else_input_locs")):
        _check_body_locs(g, locs, n_inputs, _CD, what)
    check_n_outputs(subs[0], 1, _CD, "condition")
    check_n_outputs(subs[1], a.num_outputs, _CD, "then branch")
    check_n_outputs(subs[2], a.num_outputs, _CD, "else branch")
    return subs


def _cd_meta(a, vals, what):
    pred, then, other = _cd_check(a, len(vals))
    c = body_meta(pred, _feed(vals, a.cond_input_locs), what, _CD)[0]
    if what == "shape" and int(np.prod(c)) != 1:
        fail("cond", "the condition must give one element, it gives shape %s", c)
    t = body_meta(then, _feed(vals, a.then_input_locs), what, _CD)
    e = body_meta(other, _feed(vals, a.else_input_locs), what, _CD)
    for k, (x, y) in enumerate(zip(t, e)):
        if x != y:
            fail("else_func", "output %d is %s %s in the then branch and %s in the else "
                 "branch (both branches must agree)", k, what, _show(x), _show(y))
    return [tuple(x) for x in t] if what == "shape" else list(t)


def _cd_branch(xp, a, ins):
    _cd_check(a, len(ins))
    is_train = a.get("__is_train__", False)
    cin = _feed(ins, a.cond_input_locs)
    cprog = program(a, 0, [x.shape for x in cin], [x.dtype for x in cin], _CD)
    which = 1 if _pred_value(cprog.run(xp, cin, is_train)[0], _CD) else 2
    locs = a.then_input_locs if which == 1 else a.else_input_locs
    return which, locs, _feed(ins, locs)


def _cd_forward(xp, a, ins, outs):
    which, locs, bin_ = _cd_branch(xp, a, ins)
    prog = program(a, which, [x.shape for x in bin_], [x.dtype for x in bin_], _CD)
    is_train = a.get("__is_train__", False)
    RngReplay(xp, a, a.subgraphs, is_train, record=True).mark()
    keep = {} if is_train else None
    res = prog.run(xp, bin_, is_train, keep)
    save_steps(a, ins, [(which, keep)], is_train)
    for o, r in zip(outs, res):
        o[...] = r


def _cd_backward(xp, a, ins, outs):
    f = a.fwd
    n_out = f.num_outputs
    ograds, inputs = list(ins[:n_out]), list(ins[n_out:])
    saved = saved_steps(f, inputs)
    if saved is not None:
        which, keep = saved[0]
        locs = f.then_input_locs if which == 1 else f.else_input_locs
        bin_ = _feed(inputs, locs)
    else:
        (which, locs, bin_), keep = _cd_branch(xp, f, inputs), None
    gprog = program(f, which, [x.shape for x in bin_], [x.dtype for x in bin_], _CD, grad=True)
    rr = RngReplay(xp, f, f.subgraphs, f.get("__is_train__", True), record=False)
    rr.rewind(0)
    res = gprog.run(xp, bin_ + ograds, f.get("__is_train__", True), pre=keep)
    rr.restore()
    for o in outs:
        o[...] = 0
    for j, i in enumerate(locs):
        outs[i] += res[j]


register(OpDef(
    _CD, inputs=INPUT_NAMES, inputs_fn=numbered_inputs(3),
    num_outputs=lambda a: a.num_outputs,
    params=dict(subgraph_params(3),
                cond_input_locs=LocsParam("Node input feeding each input of the condition."),
                then_input_locs=LocsParam("Node input feeding each input of then_func."),
                else_input_locs=LocsParam("Node input feeding each input of else_func.")),
    infer_shape=lambda a, s: _cd_meta(a, [tuple(x) for x in s], "shape"),
    infer_type=lambda a, t: _cd_meta(a, list(t), "dtype"),
    forward=_cd_forward, train_aware=True, gradient=cf_gradient("_backward_cond"),
    reference=_s.cond_ref, samples=_s.cond_samples, tol=_s.TOL,
    doc="Runs the then branch if the condition (one element) is non-zero, else the else "
        "branch (mx.sym.contrib.cond builds it)."))
registry.get(_CD).infer_inputs = lambda a, ins, outs: fill_from_bodies(
    ins, zip(bodies(a, _CD, 3), (a.cond_input_locs, a.then_input_locs, a.else_input_locs)))
register(OpDef(
    "_backward_cond", variadic="num_args", num_outputs=lambda a: a.num_args - a.fwd.num_outputs,
    params=backward_params(), infer_shape=backward_shape, infer_type=backward_type,
    forward=_cd_backward, nondiff=True, reference=_s.backward_ref(_CD),
    samples=_s.backward_samples(_CD), tol=_s.TOL_BWD,
    doc="_cond's gradient: the taken branch's gradient graph."))
