"""mx.nd.contrib: the imperative control-flow functions foreach, while_loop and cond
(MXNet 1.9's signatures and results), isinf/isfinite/isnan, and every registered
`_contrib_<name>` op as mx.nd.contrib.<name>.

The loops are plain Python loops over NDArray calls: under autograd.record() each step's
ops are taped like any others, so gradients flow through the body with no special
rule.  Hybridized blocks get the graph forms (mx.sym.contrib) instead.
"""
from ..core.base import PlaitError
from ..core.ops import registry as _registry

__all__ = ["foreach", "while_loop", "cond", "isinf", "isfinite", "isnan"]


# -- nested lists of arrays (shared with mx.sym.contrib) ---------------------------------------
def flatten(args, cls, what, op):
    """(flat list, format) of an array or a nested list of arrays of class `cls`; the
    format is 0 for a lone array, else a list of the items' formats (MXNet's)."""
    if isinstance(args, cls):
        if getattr(args, "_entries", None) is not None and len(args._entries) != 1:
            args = list(args)  # a grouped Symbol: one item per output
        else:
            return [args], 0
    if not isinstance(args, (list, tuple)):
        raise PlaitError("%s must be a %s or a (nested) list of them, got %s"
                         % (what, cls.__name__, type(args).__name__), arg=what, op=op)
    flat, fmts = [], []
    for a in args:
        f, fmt = flatten(a, cls, what, op)
        flat.extend(f)
        fmts.append(fmt)
    return flat, fmts


def _count(fmt):
    return 1 if fmt == 0 else sum(_count(f) for f in fmt)


def regroup(flat, fmt):
    """Inverse of flatten: the nested structure `fmt` rebuilt from `flat`."""
    if fmt == 0:
        return flat[0]
    out, i = [], 0
    for f in fmt:
        n = _count(f)
        out.append(regroup(flat[i:i + n], f))
        i += n
    return out


def body_result(res, what, op):
    """(outputs, states) from a body's return value, with MXNet's error when it is not a
    pair."""
    if not isinstance(res, (list, tuple)) or len(res) != 2:
        raise PlaitError("the %s must return a pair (outputs, states), got %s"
                         % (what, _describe(res)), arg=what, op=op)
    outs, states = res
    return ([] if outs is None else outs), ([] if states is None else states)


def _describe(v):
    if isinstance(v, (list, tuple)):
        return "a %s of %d item(s)" % (type(v).__name__, len(v))
    return type(v).__name__


def to_bool(x, what, op):
    from .ndarray import NDArray
    if isinstance(x, NDArray):
        if x.size != 1:
            raise PlaitError("must have exactly one element, got shape %s" % (x.shape,),
                             arg=what, op=op)
        return bool(x.asscalar())
    try:
        return bool(x)
    except Exception:
        raise PlaitError("cannot be converted to a Python bool (%s)" % type(x).__name__,
                         arg=what, op=op) from None


# -- foreach ---------------------------------------------------------------------------------------
def foreach(body, data, init_states):
    """Run `body` on each slice of `data` along axis 0, carrying states:

        states = init_states
        for t in range(data.shape[0]):
            out, states = body(data[t], states)     # data: NDArray or list of NDArrays
        return stack(outs of every step), states

    `body(data_t, states) -> (outputs, new_states)`; outputs and states are NDArrays or
    nested lists of them, the new states shaped like `init_states`.  Returns
    (outputs stacked along a new axis 0, the last states)."""
    from .ndarray import NDArray
    from . import stack
    flat_data, data_fmt = flatten(data, NDArray, "data", "foreach")
    flat_states, state_fmt = flatten(init_states, NDArray, "init_states", "foreach")
    if not flat_data:
        raise PlaitError("needs at least one data array", arg="data", op="foreach")
    steps = flat_data[0].shape[0] if flat_data[0].ndim else 0
    for k, d in enumerate(flat_data):
        if d.ndim == 0 or d.shape[0] != steps:
            raise PlaitError("data array %d has shape %s; every data array must have %d "
                             "steps along axis 0" % (k, d.shape, steps), arg="data", op="foreach")
    states, per_step, out_fmt = init_states, [], None
    for t in range(steps):
        sl = regroup([d[t] for d in flat_data], data_fmt)
        outs, states = body_result(body(sl, states), "body", "foreach")
        flat_outs, out_fmt = flatten(outs, NDArray, "outputs of the body", "foreach")
        flat_new, new_fmt = flatten(states, NDArray, "states returned by the body", "foreach")
        if new_fmt != state_fmt:
            raise PlaitError("the body returned states of structure %s, init_states has %s"
                             % (new_fmt, state_fmt), arg="init_states", op="foreach")
        for k, (a, b) in enumerate(zip(flat_new, flat_states)):
            if a.shape != b.shape:
                raise PlaitError("the body returned state %d with shape %s, the initial state "
                                 "has shape %s" % (k, a.shape, b.shape),
                                 arg="init_states", op="foreach")
        if per_step and len(flat_outs) != len(per_step[0]):
            raise PlaitError("the body returned %d output(s) at step %d, %d before"
                             % (len(flat_outs), t, len(per_step[0])), op="foreach")
        per_step.append(flat_outs)
    if out_fmt is None:
        raise PlaitError("data has no steps (shape %s)" % (flat_data[0].shape,), arg="data",
                         op="foreach")
    stacked = [stack(*items, axis=0) for items in zip(*per_step)]
    return (regroup(stacked, out_fmt) if stacked or out_fmt == 0 else []), states


# -- while_loop ------------------------------------------------------------------------------------
def while_loop(cond, func, loop_vars, max_iterations=None):
    """Run `func` while `cond` holds, at most `max_iterations` times:

        steps = 0
        while steps < max_iterations and cond(*loop_vars):
            step_output, loop_vars = func(*loop_vars)
            steps += 1

    `cond(*loop_vars)` gives a one-element NDArray (or a Python bool); `func(*loop_vars)`
    gives (step_output, new_loop_vars).  Returns (the step outputs stacked along axis 0
    and padded with zeros to max_iterations rows -- MXNet leaves the padding undefined --,
    the final loop variables).  When no step runs the outputs are an empty list."""
    from .ndarray import NDArray
    from . import concat, zeros
    op = "while_loop"
    if max_iterations is None:
        raise PlaitError("max_iterations should be specified", arg="max_iterations", op=op)
    try:
        max_iterations = int(max_iterations.asscalar() if isinstance(max_iterations, NDArray)
                             else max_iterations)
    except (TypeError, ValueError):
        raise PlaitError("cannot convert %r to a Python int" % (max_iterations,),
                         arg="max_iterations", op=op) from None
    single = isinstance(loop_vars, NDArray)
    loop_vars = [loop_vars] if single else list(loop_vars)
    if not loop_vars:
        raise PlaitError("loop_vars should contain at least one element", arg="loop_vars", op=op)
    flatten(loop_vars, NDArray, "loop_vars", op)
    steps, rows, out_fmt = 0, [], None
    while steps < max_iterations and to_bool(cond(*loop_vars), "cond", op):
        step_out, new_vars = body_result(func(*loop_vars), "func", op)
        new_vars = [new_vars] if isinstance(new_vars, NDArray) else list(new_vars)
        if len(new_vars) != len(loop_vars):
            raise PlaitError("func returned %d loop variable(s), loop_vars has %d"
                             % (len(new_vars), len(loop_vars)), arg="loop_vars", op=op)
        flat, out_fmt = flatten(list(step_out) if isinstance(step_out, tuple) else step_out,
                                NDArray, "step_output", op)
        if rows and len(flat) != len(rows[0]):
            raise PlaitError("func returned %d step output(s) at step %d, %d before"
                             % (len(flat), steps, len(rows[0])), arg="func", op=op)
        rows.append(flat)
        loop_vars = new_vars
        steps += 1
    stacked = []
    for k, items in enumerate(zip(*rows)):
        for t, x in enumerate(items):
            if x.shape != items[0].shape:
                raise PlaitError("step output %d has shape %s at step %d and %s at step 0"
                                 % (k, x.shape, t, items[0].shape), arg="func", op=op)
        parts = [x.expand_dims(0) for x in items]
        if steps < max_iterations:
            parts.append(zeros((max_iterations - steps,) + items[0].shape, ctx=items[0].context,
                               dtype=items[0].dtype))
        stacked.append(concat(*parts, dim=0) if len(parts) > 1 else parts[0])
    outputs = regroup(stacked, out_fmt) if out_fmt is not None else []
    return outputs, (loop_vars[0] if single else loop_vars)


# -- cond ------------------------------------------------------------------------------------------
def cond(pred, then_func, else_func):
    """`then_func()` if `pred` (a one-element NDArray) is non-zero, else `else_func()`."""
    return then_func() if to_bool(pred, "pred", "cond") else else_func()


# -- element checks (MXNet's: 1 where true, 0 elsewhere, in the input's dtype) --------------------
def isinf(data):
    """1 where `data` is +inf or -inf, else 0."""
    return data.abs() == float("inf")


def isfinite(data):
    """1 where `data` is neither inf nor NaN, else 0."""
    return (data == data) * (data.abs() != float("inf"))


def isnan(data):
    """1 where `data` is NaN, else 0."""
    return data != data


# -- registered contrib ops ------------------------------------------------------------------------
def _api():
    from .. import ndarray
    return ndarray


__getattr__, __dir__ = _registry.contrib_accessors('mx.nd.contrib', _api, __all__)
