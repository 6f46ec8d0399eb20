"""Test samples and NumPy references of the control-flow ops (see control_flow.py).

The references are plain Python loops that evaluate the body graphs node by node with
each body op's own NumPy `reference` (not its kernel), so they are independent of
control_flow_exec.Program.  The backward ops' references are central differences of the
forward references in float64 (the sample bodies are smooth and of low degree).
"""
import numpy as np

from ..graph.ir import Entry, Graph, Node

TOL = None
TOL_BWD = (2e-4, 2e-5)


# -- the NumPy interpreter ---------------------------------------------------------------------
def np_body(graph, inputs):
    """Evaluate `graph` with each op's NumPy reference; inputs in list_inputs order."""
    vals = {}
    for v, x in zip(graph.variables(), inputs):
        vals[id(v)] = [np.asarray(x)]
    for n in graph.topo_nodes():
        if n.op is None:
            continue
        r = n.op.reference(n.params(), *[vals[id(e.node)][e.index] for e in n.inputs])
        vals[id(n)] = [np.asarray(x) for x in (r if isinstance(r, (list, tuple)) else [r])]
    return [vals[id(e.node)][e.index] for e in graph.outputs]


def _feed(n_body, pairs):
    sub = [None] * n_body
    for locs, vals in pairs:
        for loc, v in zip(locs, vals):
            sub[loc] = v
    return sub


def foreach_ref(a, *ins):
    body = a.subgraphs[0]
    nd, ns = len(a.in_data_locs), len(a.in_state_locs)
    data, states, free = ins[:nd], list(ins[nd:nd + ns]), ins[nd + ns:]
    n_body, nod = len(body.variables()), a.num_out_data
    outs = []
    for t in range(data[0].shape[0]):
        res = np_body(body, _feed(n_body, [(a.in_data_locs, [x[t] for x in data]),
                                           (a.in_state_locs, states), (a.remain_locs, free)]))
        outs.append(res[:nod])
        states = res[nod:]
    stacked = [np.stack([o[k] for o in outs]).astype(data[0].dtype) for k in range(nod)]
    return tuple(stacked + [np.asarray(s) for s in states])


def while_ref(a, *ins):
    cond_g, func_g = a.subgraphs
    vals = list(ins)
    var_pos = [a.func_input_locs[j] for j in a.func_var_locs]
    nod, rows = a.num_out_data, []
    while len(rows) < a.max_iterations:
        if not np_body(cond_g, [vals[i] for i in a.cond_input_locs])[0].reshape(-1)[0]:
            break
        res = np_body(func_g, [vals[i] for i in a.func_input_locs])
        rows.append(res[:nod])
        for k, p in enumerate(var_pos):
            vals[p] = res[nod + k]
    outs = []
    for k in range(nod):
        shape = np.shape(rows[0][k]) if rows else None
        if shape is None:  # no step ran: the body's output shape from one dry run
            shape = np.shape(np_body(func_g, [vals[i] for i in a.func_input_locs])[k])
        o = np.zeros((a.max_iterations,) + shape, ins[0].dtype)
        for t, r in enumerate(rows):
            o[t] = r[k]
        outs.append(o)
    return tuple(outs + [np.asarray(vals[p]) for p in var_pos])


def cond_ref(a, *ins):
    pred_g, then_g, else_g = a.subgraphs
    p = np_body(pred_g, [ins[i] for i in a.cond_input_locs])[0].reshape(-1)[0]
    g, locs = (then_g, a.then_input_locs) if p else (else_g, a.else_input_locs)
    return tuple(np_body(g, [ins[i] for i in locs]))


# -- sample bodies --------------------------------------------------------------------------------
def _node(opname, ins, **attrs):
    from . import registry
    op = registry.get(opname)
    return Node(op, "%s%d" % (opname.lower(), len(_CACHE)), op.format_attrs(op.parse_attrs(attrs)),
                [e if isinstance(e, Entry) else Entry(e, 0) for e in ins])


def _var(name):
    return Node(None, name)


def _locs(graph, nodes):
    vs = graph.variables()
    return tuple(vs.index(n) for n in nodes)


_CACHE = {}


def _cached(key, make):
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


def _foreach_rnn():
    """o = x*w + s, new state tanh(o); outputs (o, new state)."""
    x, s, w = _var("x"), _var("s"), _var("w")
    o = _node("elemwise_add", [_node("elemwise_mul", [x, w]), s])
    g = Graph([Entry(o, 0), Entry(_node("tanh", [o]), 0)])
    return g, dict(num_args=4, num_outputs=2, num_out_data=1, in_data_locs=_locs(g, [x]),
                   in_state_locs=_locs(g, [s]), remain_locs=_locs(g, [w]))


def _foreach_two():
    """Two data inputs, two states, no per-step output: s1' = s1*x1 + x2, s2' = s2 + s1."""
    x1, x2, s1, s2 = _var("x1"), _var("x2"), _var("s1"), _var("s2")
    n1 = _node("elemwise_add", [_node("elemwise_mul", [s1, x1]), x2])
    n2 = _node("elemwise_add", [s2, s1])
    g = Graph([Entry(n1, 0), Entry(n2, 0)])
    return g, dict(num_args=5, num_outputs=2, num_out_data=0, in_data_locs=_locs(g, [x1, x2]),
                   in_state_locs=_locs(g, [s1, s2]), remain_locs=())


def _while_body():
    """cond: i < limit; func: out s*w, i' = i + 1, s' = s + w (MXNet's layout)."""
    def make(limit):
        i_c = _var("i")
        cond = Graph([Entry(_node("_lesser_scalar", [i_c], scalar=limit), 0)])
        s, w, i = _var("s"), _var("w"), _var("i")
        func = Graph([Entry(_node("elemwise_mul", [s, w]), 0),
                      Entry(_node("_plus_scalar", [i], scalar=1.0), 0),
                      Entry(_node("elemwise_add", [s, w]), 0)])
        # node inputs [i, s, w]; func inputs (s, w, i); loop vars (i, s)
        return (cond, func), dict(num_args=5, num_outputs=3, num_out_data=1,
                                  cond_input_locs=(0,), func_input_locs=(1, 2, 0),
                                  func_var_locs=(2, 0))
    return make


def _cond_body():
    p, a, b = _var("p"), _var("a"), _var("b")
    pred = Graph([Entry(_node("_greater_scalar", [p], scalar=0.0), 0)])
    a1, b1 = _var("a"), _var("b")
    then = Graph([Entry(_node("elemwise_mul", [a1, b1]), 0), Entry(_node("tanh", [a1]), 0)])
    a2, b2 = _var("a"), _var("b")
    other = Graph([Entry(_node("elemwise_sub", [a2, b2]), 0),
                   Entry(_node("elemwise_mul", [b2, b2]), 0)])
    del a, b
    return (pred, then, other), dict(num_args=6, num_outputs=2, cond_input_locs=(0,),
                                     then_input_locs=(1, 2), else_input_locs=(1, 2))


def _u(shape, dtype, seed, lo=-1.0, hi=1.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(dtype)


def foreach_samples(dtype):
    from .registry import Sample
    g1, a1 = _cached("fe_rnn", _foreach_rnn)
    g2, a2 = _cached("fe_two", _foreach_two)
    return [Sample([_u((4, 3), dtype, 1), _u((3,), dtype, 2), _u((3,), dtype, 3)],
                   dict(a1, subgraphs=(g1,))),
            Sample([_u((3, 2, 2), dtype, 4), _u((3, 2, 2), dtype, 5), _u((2, 2), dtype, 6),
                    _u((2, 2), dtype, 7)], dict(a2, subgraphs=(g2,)), note="states only")]


def while_samples(dtype):
    from .registry import Sample
    out = []
    for limit, i0, cap, note in ((3.0, 0.5, 5, "3 steps, padded to 5"),
                                 (10.0, 0.5, 4, "stopped by max_iterations"),
                                 (3.0, 5.0, 3, "no step")):
        subs, a = _cached(("while", limit), lambda: _while_body()(limit))
        out.append(Sample([np.array([i0], dtype), _u((2,), dtype, 8), _u((2,), dtype, 9)],
                          dict(a, subgraphs=subs, max_iterations=cap), note=note))
    return out


def cond_samples(dtype):
    from .registry import Sample
    subs, a = _cached("cond", _cond_body)
    return [Sample([np.array([p], dtype), _u((2, 3), dtype, 10), _u((2, 3), dtype, 11)],
                   dict(a, subgraphs=subs), note=note)
            for p, note in ((1.0, "then"), (-1.0, "else"))]


# -- backward ops ---------------------------------------------------------------------------------
_REFS = {"_foreach": (foreach_ref, foreach_samples), "_while_loop": (while_ref, while_samples),
         "_cond": (cond_ref, cond_samples)}


def backward_ref(fwd_name):
    """d(sum_k <ograd_k, out_k>)/d input, by central differences of the forward reference."""
    ref = _REFS[fwd_name][0]

    def grads(a, *ins):
        f = a.fwd
        n_out = f.num_outputs
        og = [np.asarray(g, np.float64) for g in ins[:n_out]]
        xs = [np.array(x, np.float64) for x in ins[n_out:]]

        def objective():
            return sum(float((np.asarray(o, np.float64) * g).sum())
                       for o, g in zip(ref(f, *xs), og))
        out = []
        for x, orig in zip(xs, ins[n_out:]):
            g = np.zeros_like(x)
            for j in np.ndindex(x.shape):
                v = x[j]
                eps = 1e-4 * max(1.0, abs(v))
                x[j] = v + eps
                fp = objective()
                x[j] = v - eps
                fm = objective()
                x[j] = v
                g[j] = (fp - fm) / (2 * eps)
            out.append(g.astype(np.asarray(orig).dtype))
        return tuple(out)
    return grads


def backward_samples(fwd_name):
    ref, samples = _REFS[fwd_name]

    def make(dtype):
        from . import registry
        from .registry import Sample
        op = registry.get(fwd_name)
        out = []
        for k, s in enumerate(samples(dtype)):
            f = op.parse_attrs(dict(s.attrs))
            outs = ref(f, *s.inputs)
            og = [_u(np.shape(o), dtype, 20 + k + i, 0.5, 1.5) for i, o in enumerate(outs)]
            out.append(Sample(og + list(s.inputs), {"fwd": f}, note=s.note))
        return out
    return make
