"""Running one registered operator on NDArrays: the imperative hot path.

invoke(op, inputs, kwargs): parse params -> infer output shapes/dtypes (errors name the
op, the argument and the shapes) -> allocate outputs -> push the kernel to the engine,
reading the inputs' vars and writing the outputs' (and mutated inputs') vars.
Everything before the push runs synchronously, so bad input is reported at the call
site; only the kernel runs asynchronously.
"""
from functools import partial

import numpy as _np

from ..core import autograd as _autograd, engine, rng as _rng
from ..core.base import PlaitError
from ..core.context import current_context, xp_of
from ..core.ops.params import Attrs

_push = engine.push
_new_var = engine.new_var
_EMPTY = Attrs()
NDArray = None  # set by ndarray.py (avoids an import cycle)
_hooks = []     # callables(op, attrs, inputs, outputs) run after each push (autograd tape)


def _kernel(op, xp, attrs, ins, outs):
    """The callable the engine runs: one call of the op's kernel on raw buffers."""
    if op.forward is not None:
        return partial(op.forward, xp, attrs, ins, outs)
    comp = op.compute
    if len(outs) == 1:
        out0 = outs[0]

        def run():
            r = comp(xp, attrs, *ins)
            if r is not out0:
                out0[...] = r
    else:
        def run():
            for o, r in zip(outs, comp(xp, attrs, *ins)):
                o[...] = r
    return run


def _check_out(op, out, shapes, dtypes):
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    if len(outs) != len(shapes):
        raise PlaitError("%d output array(s) given, the op has %d output(s)"
                         % (len(outs), len(shapes)), arg="out", op=op.name)
    for o, s, t in zip(outs, shapes, dtypes):
        if not isinstance(o, NDArray):
            raise PlaitError("expected an NDArray, got %s" % type(o).__name__, arg="out", op=op.name)
        if o._data.shape != tuple(s) or o._data.dtype != t:
            raise PlaitError("out has shape %s and dtype %s, the result has shape %s and dtype %s"
                             % (o._data.shape, o._data.dtype.name, tuple(s), t.name),
                             arg="out", op=op.name)
    return outs


def infer(op, attrs, inputs):
    """Output shapes and dtypes of `op` on `inputs`; errors name op, argument and shapes."""
    in_types = [x._data.dtype for x in inputs]
    op.check_dtypes(in_types)
    try:
        shapes = op.infer_shape(attrs, [x._data.shape for x in inputs])
        dtypes = op.infer_type(attrs, in_types)
    except PlaitError as e:
        if e.op is None:
            e.op = op.name
        if e.arg and e.arg.startswith("input ") and not op.variadic:
            idx = int(e.arg[6:])
            if idx < len(op.inputs):
                e.arg = op.inputs[idx]
        raise
    if len(dtypes) != len(shapes):
        raise PlaitError("internal error: infer_type gave %d dtype(s) for %d output(s)"
                         % (len(dtypes), len(shapes)), op=op.name)
    return shapes, dtypes


def invoke(op, inputs, kwargs=None, out=None, ctx=None):
    """Run `op` on NDArray `inputs`; returns an NDArray, or a list for several outputs."""
    if op.variadic and kwargs is not None and op.variadic not in kwargs:
        kwargs = dict(kwargs)
        kwargs[op.variadic] = len(inputs)
    attrs = op.parse_attrs(kwargs) if (kwargs or op.params) else _EMPTY
    return invoke_parsed(op, attrs, inputs, out, ctx)


def _bad_inputs(op, attrs, inputs):
    names = op.input_names(attrs)
    if len(inputs) != len(names):
        raise PlaitError("expected %d input(s) (%s), got %d"
                         % (len(names), ", ".join(names), len(inputs)), op=op.name)
    ctx = None
    for i, x in enumerate(inputs):
        if not isinstance(x, NDArray):
            raise PlaitError("expected an NDArray, got %s" % type(x).__name__,
                             arg=names[i], op=op.name)
        if ctx is not None and x._ctx != ctx:
            raise PlaitError("input is on %s, input 0 is on %s" % (x._ctx, ctx),
                             arg=names[i], op=op.name)
        ctx = x._ctx


# Ops whose outputs total fewer bytes than this run inline in the pushing thread when
# their inputs are ready (see Engine::submit): their Python kernels are cheaper than a
# hand-off to a worker, which the GIL would serialise anyway.  Bigger ops go to workers,
# where NumPy/CuPy release the GIL and run alongside the Python thread.  In training loops
# nearly every op depends on the previous one, so there is little to overlap: measured on
# Gluon MLP/LeNet steps, a 16 MiB threshold ran 10-15% faster than 64 KiB (the hand-off's
# thread wake-ups cost more than the overlap won).
INLINE_BYTES = 1 << 24


def invoke_parsed(op, attrs, inputs, out=None, ctx=None):
    """invoke() with attrs already parsed (the NDArray operators' fast path)."""
    if op.fast_unary and out is None and len(inputs) == 1:
        x0 = inputs[0]
        d = x0._data
        dt = d.dtype
        if x0.__class__ is NDArray and dt in op.dtype_set:
            if not op.keeps_dtype:
                dt = op.infer_type(attrs, (dt,))[0]
            ctx = x0._ctx
            xp = _np if ctx.device_type != "gpu" else xp_of(ctx)
            od = xp.empty(d.shape, dt)
            o = NDArray(od, ctx)
            nb = od.nbytes
            _push(_kernel(op, xp, attrs, (d,), (od,)), (x0._var,), (o._var,), op.name,
                  nb < INLINE_BYTES, nb)
            if _hooks:
                for h in _hooks:
                    h(op, attrs, inputs, [o])
            return o
    if op.train_aware:
        attrs = Attrs(attrs)
        attrs["__is_train__"] = _autograd.is_training()
    n = op.fixed_inputs
    if n >= 0 and n != len(inputs) or n < 0 and len(inputs) != attrs[op.variadic]:
        _bad_inputs(op, attrs, inputs)
    if inputs:
        x0 = inputs[0]
        ctx = x0._ctx
        for x in inputs:
            if x.__class__ is not NDArray and not isinstance(x, NDArray) or (
                    x._ctx is not ctx and x._ctx != ctx):
                _bad_inputs(op, attrs, inputs)
    elif ctx is None:
        ctx = current_context()
    if op.same_as_input:
        d = x0._data
        if d.dtype not in op.dtype_set:
            op.check_dtypes([d.dtype])
        shapes = (d.shape,)
        dtypes = (d.dtype,) if op.keeps_dtype else op.infer_type(attrs, (d.dtype,))
    else:
        shapes, dtypes = infer(op, attrs, inputs)
    xp = _np if ctx.device_type != "gpu" else xp_of(ctx)
    if out is None:
        outs = [NDArray(xp.empty(s, t), ctx) for s, t in zip(shapes, dtypes)]
    else:
        outs = _check_out(op, out, shapes, dtypes)
        if _hooks:
            _autograd.check_not_in_graph(outs)
    reads = [x._var for x in inputs]
    writes = [o._var for o in outs]
    if op.mutates:
        writes += [inputs[i]._var for i in op.mutates]
    if op.resources:
        writes.append(_rng.VAR)
    bufs = [o._data for o in outs]
    nb = sum(b.nbytes for b in bufs)
    _push(_kernel(op, xp, attrs, [x._data for x in inputs], bufs), reads, writes, op.name,
          nb < INLINE_BYTES, 0 if out is not None else nb)
    if _hooks:
        for h in _hooks:
            h(op, attrs, inputs, outs)
    if out is not None:
        return out
    return outs[0] if len(outs) == 1 else outs
