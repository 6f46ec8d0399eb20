"""The memory planner (core/graph/plan.py over csrc/plan_memory.cc).

Every plan is checked two ways: the invariants directly (a simulated lifetime of every
value: no two live values share a block unless one took the other's block in place as
allowed; graph outputs share with nothing; in-place only where the op allows it and sizes
match), and by running the graph with every value placed in its planned block (a small
NumPy interpreter calling the ops' kernels), which must give bit-identical results to a
run with a fresh buffer per value.
"""
import numpy as np
import pytest

from plait.core.graph import ir
from plait.core.graph.plan import entry_nbytes, plan_memory
from plait.core.ops import registry
from plait.core.ops.registry import OpDef
from plait.core.ops.shape_rules import same_as_input

R = registry.get


def _copy(xp, a, ins, outs):
    outs[0][...] = ins[0]


def _split2(xp, a, ins, outs):
    outs[1][...] = ins[0] * 2   # out 1 first: out 0 may be the input's block (in-place)
    outs[0][...] = ins[0] + 1


def _shape_plus(xp, a, ins, outs):
    outs[0][...] = ins[0] + ins[1].shape[0]   # reads only input 1's shape


IDENT = OpDef("_t_ident", forward=_copy, infer_shape=same_as_input, inplace=[(0, 0)])
IDENT.inplace_identity = (True,)
SPLIT2 = OpDef("_t_split2", num_outputs=2, forward=_split2, inplace=[(0, 0)],
               infer_shape=lambda a, s: [s[0], s[0]],
               infer_type=lambda a, t: [t[0], t[0]])
SHAPE_PLUS = OpDef("_t_shape_plus", inputs=("data", "like"), forward=_shape_plus,
                   infer_shape=lambda a, s: [s[0]], inplace=[(0, 0), (1, 0)])
SHAPE_PLUS.ignore_inputs = (1,)


def var(name):
    return ir.Node(None, name)


def node(op, *inputs, name=None, **attrs):
    op = R(op) if isinstance(op, str) else op
    ins = [i if isinstance(i, ir.Entry) else ir.Entry(i, 0) for i in inputs]
    return ir.Node(op, name or op.name, {k: str(v) for k, v in attrs.items()}, ins)


def E(n, i=0):
    return ir.Entry(n, i)


# -- the interpreter ---------------------------------------------------------------------------
def run(ig, feeds, plan=None, seed=0):
    """Values of ig's outputs; with `plan`, every planned value lives in its block."""
    vals = [None] * ig.num_entries
    blocks = None
    if plan is not None:
        rng = np.random.RandomState(seed)   # garbage in every block to start with
        blocks = [rng.randint(0, 256, max(b, 1)).astype(np.uint8) for b in plan.storage_bytes]
    for nid, n in enumerate(ig.nodes):
        base = ig.row_ptr[nid]
        if n.op is None:
            vals[base] = feeds[n.name]
            continue
        attrs = n.params()
        ins = [vals[e] for e in ig.input_entries[nid]]
        shapes = n.op.infer_shape(attrs, [a.shape for a in ins])
        dtypes = n.op.infer_type(attrs, [a.dtype for a in ins])
        outs = []
        for k, (s, t) in enumerate(zip(shapes, dtypes)):
            if plan is None:
                outs.append(np.empty(s, t))
            else:
                sid = plan.storage_id[base + k]
                nb = int(np.prod(s)) * np.dtype(t).itemsize
                assert sid >= 0 and plan.storage_bytes[sid] >= nb
                outs.append(blocks[sid][:nb].view(t).reshape(s))
        if n.op.forward is not None:
            n.op.forward(np, attrs, ins, outs)
        else:
            res = n.op.compute(np, attrs, *ins)
            for o, r in zip(outs, res if len(outs) > 1 else [res]):
                o[...] = r
        vals[base:base + len(outs)] = outs
    return [vals[e].copy() for e in ig.output_entries], vals


def sizes(ig, feeds):
    _, vals = run(ig, feeds)
    return [v.nbytes for v in vals]


# -- the invariants ----------------------------------------------------------------------------
def producer_steps(ig):
    step = {}
    for nid in range(len(ig.nodes)):
        for e in ig.node_entries(nid):
            step[e] = nid
    return step


def check_invariants(ig, plan, nbytes):
    n = ig.num_entries
    step = producer_steps(ig)
    outs = set(ig.output_entries)
    last = {e: step[e] for e in range(n)}
    ident = {}
    for nid, nd in enumerate(ig.nodes):
        if nd.op is None:
            for e in ig.node_entries(nid):
                assert plan.storage_id[e] == -2, "variable entry %d was planned" % e
            continue
        ignored = set(getattr(nd.op, "ignore_inputs", ()))
        for k, e in enumerate(ig.input_entries[nid]):
            if k not in ignored:
                last[e] = max(last[e], nid)
    for e in outs:
        last[e] = len(ig.nodes)
    assert plan.total_bytes == sum(plan.storage_bytes)
    # in-place only as allowed
    for e in range(n):
        src = plan.inplace[e]
        if src < 0:
            continue
        nid = step[e]
        nd = ig.nodes[nid]
        ins = ig.input_entries[nid]
        pairs = [(i, o) for i, o in nd.op.inplace if i < len(ins) and ins[i] == src
                 and ig.row_ptr[nid] + o == e]
        assert pairs, "entry %d reuses %d without an in-place pair" % (e, src)
        assert plan.storage_id[e] == plan.storage_id[src] >= 0
        assert nbytes[e] == nbytes[src]
        assert e not in outs and src not in outs
        flags = getattr(nd.op, "inplace_identity", None) or [False] * len(nd.op.inplace)
        ident[e] = any(flags[nd.op.inplace.index(p)] for p in pairs)
    # graph outputs: a block of their own
    by_block = {}
    for e in range(n):
        if plan.storage_id[e] >= 0:
            assert plan.storage_bytes[plan.storage_id[e]] >= nbytes[e]
            by_block.setdefault(plan.storage_id[e], []).append(e)
    for e in outs:
        if plan.storage_id[e] >= 0:
            assert by_block[plan.storage_id[e]] == [e], "output %d shares its block" % e
    # no two live values in one block, unless linked in place
    for ents in by_block.values():
        for i, a in enumerate(ents):
            for b in ents[i + 1:]:
                if step[b] < step[a]:
                    a, b = b, a
                if last[a] < step[b]:
                    continue   # disjoint lifetimes
                chain, c = [], b
                while plan.inplace[c] >= 0 and c != a:
                    chain.append(c)
                    c = plan.inplace[c]
                assert c == a, "entries %d and %d share a block while both live" % (a, b)
                assert all(ident[x] for x in chain) or last[a] == step[b], (a, b)


def check(graph, feeds, **kw):
    ig = ir.IndexedGraph(graph)
    nb = sizes(ig, feeds)
    plan = plan_memory(ig, nb, (), **kw)
    check_invariants(ig, plan, nb)
    want, _ = run(ig, feeds)
    got, _ = run(ig, feeds, plan)
    for w, g in zip(want, got):
        assert w.dtype == g.dtype and w.shape == g.shape and w.tobytes() == g.tobytes()
    again = plan_memory(ig, nb, (), **kw)
    assert (again.storage_id, again.storage_bytes, again.inplace) == (
        plan.storage_id, plan.storage_bytes, plan.inplace), "plan is not deterministic"
    return ig, plan


def feed(*names, shape=(4, 6), seed=0):
    rng = np.random.RandomState(seed)
    return {n: rng.standard_normal(shape).astype(np.float32) for n in names}


# -- hand-made graphs --------------------------------------------------------------------------
def test_inplace_chain_uses_one_block():
    x = var("x")
    a = node("relu", x)
    b = node("tanh", a)
    c = node("sigmoid", b)
    d = node("negative", c)
    ig, p = check(ir.Graph([E(d)]), feed("x"))
    sid = p.storage_id
    assert sid[0] == -2
    assert sid[1] == sid[2] == sid[3] != sid[4]   # the output gets its own block
    assert p.inplace[2:4] == [1, 2] and p.inplace[4] == -1
    assert p.total_bytes == 2 * 96 and p.naive_bytes == 4 * 96


def test_chain_without_inplace_ping_pongs():
    x = var("x")
    h = x
    for i in range(6):
        h = node("elemwise_add", h, h, name="add%d" % i)
    ig, p = check(ir.Graph([E(h)]), feed("x"))
    inner = sorted(set(p.storage_id[1:6]))
    assert len(inner) == 2 and all(i == -1 for i in p.inplace)
    assert p.total_bytes == 3 * 96


def test_diamond():
    x = var("x")
    a = node("relu", x)
    b = node("tanh", a)       # a still read by c: no in-place
    c = node("sin", a)        # last reader of a: in-place
    d = node("elemwise_add", b, c)
    ig, p = check(ir.Graph([E(d)]), feed("x"))
    ea, eb, ec = (ig.entry_id(E(n)) for n in (a, b, c))
    assert p.inplace[eb] == -1 and p.inplace[ec] == ea
    assert p.storage_id[eb] != p.storage_id[ea]


def test_multi_output_nodes():
    x = var("x")
    s = node(SPLIT2, x)
    a = node("relu", E(s, 0))
    t = node(SPLIT2, E(s, 1))               # in place on s's output 1
    sl = node("SliceChannel", E(t, 0), num_outputs=2, axis=0)
    m = node("elemwise_mul", E(sl, 0), E(sl, 1))
    out = node("elemwise_sub", a, E(t, 1))
    ig, p = check(ir.Graph([E(out), E(m)]), feed("x"))
    assert p.inplace[ig.entry_id(E(t, 0))] == ig.entry_id(E(s, 1))


def test_dead_outputs_are_released_at_once():
    x = var("x")
    s = node("SliceChannel", node("relu", x), num_outputs=2, axis=0)
    y = node("exp", E(s, 0))            # output 1 of the split is never read...
    z = node("elemwise_add", y, y)      # ...so its block is free for z
    ig, p = check(ir.Graph([E(node("relu", z))]), feed("x"))
    assert p.storage_id[ig.entry_id(E(z))] == p.storage_id[ig.entry_id(E(s, 1))]


def test_outputs_alias_inputs_and_each_other():
    x, w = var("x"), var("w")
    a = node("relu", x)                 # input is external: never in place
    b = node("BlockGrad", a)            # a is a graph output: no in-place out of it
    c = node(IDENT, b)                  # identity in-place into an output: refused
    g = ir.Graph([E(x), E(a), E(c), E(c), E(w)])
    ig, p = check(g, feed("x", "w"))
    assert all(i == -1 for i in p.inplace)
    ids = [p.storage_id[ig.entry_id(E(n))] for n in (a, c)]
    assert len(set(ids)) == 2 and p.storage_id[ig.entry_id(E(b))] not in ids
    assert p.storage_id[ig.entry_id(E(x))] == p.storage_id[ig.entry_id(E(w))] == -2


def test_output_that_is_read_later():
    x = var("x")
    a = node("relu", x)
    b = node("exp", a)        # a is an output: b may not take its block
    c = node("tanh", b)
    d = node("sin", c)
    ig, p = check(ir.Graph([E(a), E(d)]), feed("x"))
    ea, eb = ig.entry_id(E(a)), ig.entry_id(E(b))
    assert p.inplace[eb] == -1 and p.storage_id[eb] != p.storage_id[ea]


def test_identity_inplace_while_input_still_read():
    x = var("x")
    a = node("relu", x)
    b = node(IDENT, a)        # shares a's block although a is read again below
    c = node("tanh", b)       # not in place: a (same block) is still read by d
    d = node("elemwise_add", a, c)
    ig, p = check(ir.Graph([E(d)]), feed("x"))
    ea, eb, ec = (ig.entry_id(E(n)) for n in (a, b, c))
    assert p.inplace[eb] == ea and p.inplace[ec] == -1


def test_ignored_input_neither_extends_life_nor_goes_in_place():
    x, y = var("x"), var("y")
    a = node("relu", x)
    big = node("Concat", a, a, num_args=2, dim=0)
    k = node("sum", big, axis=0, keepdims=True)
    b = node("exp", y)
    c = node(SHAPE_PLUS, b, a)        # reads a's shape only; (1, 0) must not be taken
    ig, p = check(ir.Graph([E(node("relu", c)), E(k)]), feed("x", "y"))
    assert p.inplace[ig.entry_id(E(c))] == ig.entry_id(E(b))


def test_zero_size_entries():
    x = var("x")
    a = node("relu", x)
    b = node("elemwise_add", a, a)
    c = node("exp", b)
    ig, p = check(ir.Graph([E(c)]), feed("x", shape=(0, 3)))
    assert p.total_bytes == 0 and p.naive_bytes == 0


def test_unknown_sizes_are_left_unplanned():
    x = var("x")
    a = node("relu", x)
    b = node("exp", a)
    ig = ir.IndexedGraph(ir.Graph([E(b)]))
    p = plan_memory(ig, [96, None, 96], ())
    assert p.storage_id == [-2, -1, 0] and p.total_bytes == 96 and p.naive_bytes == 96


def test_explicit_external_and_no_reuse():
    x = var("x")
    a = node("relu", x)
    b = node("exp", a)
    c = node("tanh", b)
    ig = ir.IndexedGraph(ir.Graph([E(c)]))
    p = plan_memory(ig, [8] * 4, {1})
    assert p.storage_id[:2] == [-2, -2] and p.inplace[2] == -1
    p0 = plan_memory(ig, [8, 8, 4, 8], (), match_range=0)
    assert p0.storage_bytes == [8, 4, 8]


def test_best_fit_reuses_the_smallest_big_enough_block():
    x = var("x")
    big = node("Concat", x, x, x, x, num_args=4, dim=0)       # 4x
    mid = node("Concat", x, x, num_args=2, dim=0)             # 2x
    s = node("elemwise_add", node("sum", big, axis=0), node("sum", mid, axis=0))
    late = node("Concat", s, s, num_args=2, dim=0, name="late")
    ig, p = check(ir.Graph([E(node("exp", late))]), feed("x"))
    assert p.storage_id[ig.entry_id(E(late))] == p.storage_id[ig.entry_id(E(big))] or \
        p.storage_bytes[p.storage_id[ig.entry_id(E(late))]] <= 4 * 96


def test_malformed_input_is_rejected():
    from plait import _engine
    with pytest.raises(ValueError, match="out of range"):
        _engine.plan_memory([0], [0, 1], [5], [0, 1], [0], [4], [], [], [], [], [], [], [], -1)
    with pytest.raises(ValueError, match="produced twice"):
        _engine.plan_memory([0, 1], [0, 0, 0], [], [0, 1, 2], [0, 0], [4], [], [], [], [], [],
                            [], [], -1)
    with pytest.raises(ValueError, match="not topological"):
        _engine.plan_memory([1, 0], [0, 1, 2], [1, 0], [0, 1, 2], [0, 1], [4, 4], [], [], [],
                            [], [], [], [], -1)
    ig = ir.IndexedGraph(ir.Graph([E(node("relu", var("x")))]))
    with pytest.raises(ValueError, match="byte sizes"):
        plan_memory(ig, [4], ())


def test_entry_nbytes():
    assert entry_nbytes([(2, 3), None, (0,)], [np.float32, np.float32, np.float64]) == [24, -1, 0]


# -- random graphs -----------------------------------------------------------------------------
UNARY = ["relu", "tanh", "sin", "negative", "abs", "sigmoid", IDENT]
BINARY = ["elemwise_add", "elemwise_mul", "elemwise_sub"]


def random_graph(rng, n_nodes):
    xs = [var("x%d" % i) for i in range(rng.randint(1, 4))]
    pool = [(E(x), (4, 6)) for x in xs]

    def pick(shape=None):
        cands = [p for p in pool if shape is None or p[1] == shape]
        w = np.arange(1, len(cands) + 1, dtype=float) ** 2   # favour recent values
        return cands[rng.choice(len(cands), p=w / w.sum())]

    for i in range(n_nodes):
        kind = rng.randint(10)
        e, s = pick()
        if kind < 4:
            op = UNARY[rng.randint(len(UNARY))]
            n = node(op, e, name="u%d" % i)
            if rng.rand() < 0.3:
                n = node("_mul_scalar" if rng.rand() < .5 else "_plus_scalar", e,
                         name="s%d" % i, scalar=0.5)
            pool.append((E(n), s))
        elif kind < 7:
            e2, _ = pick(s)
            pool.append((E(node(BINARY[rng.randint(3)], e, e2, name="b%d" % i)), s))
        elif kind == 7:
            t = (s[0] * 2,) + s[1:] if rng.rand() < .5 else (max(1, s[0] // 2),) + s[1:]
            if t[0] > s[0] and s[0] < 32:
                pool.append((E(node("Concat", e, e, num_args=2, dim=0, name="c%d" % i)), t))
            else:
                pool.append((E(node("sum", e, axis=0, keepdims=True, name="r%d" % i)),
                             (1,) + s[1:]))
        elif kind == 8:
            n = node(SPLIT2, e, name="p%d" % i)
            pool += [(E(n, 0), s), (E(n, 1), s)]
        else:
            t = (int(np.prod(s)),) if len(s) > 1 else (s[0], 1)
            pool.append((E(node("Reshape", e, shape=t, name="v%d" % i)), t))
    outs = [pool[-1][0]]
    for _ in range(rng.randint(0, 4)):
        outs.append(pool[rng.randint(len(pool))][0])
    return ir.Graph(outs), [x.name for x in xs]


@pytest.mark.parametrize("seed", range(60))
def test_random_graphs_match_unplanned_execution(seed):
    rng = np.random.RandomState(seed)
    graph, names = random_graph(rng, int(rng.randint(3, 40)))
    ig, p = check(graph, feed(*names, seed=seed))
    assert p.total_bytes <= p.naive_bytes


@pytest.mark.parametrize("view", [("Reshape", {"shape": (-1,)}), ("Flatten", {}),
                                  ("expand_dims", {"axis": 0})])
def test_registry_view_ops_share_their_input_block_while_it_is_still_read(view):
    """Reshape/Flatten/expand_dims declare an identity in-place pair: their output shares the
    input's block even though the input has another reader after them, and the run (whose
    kernel then skips the self-copy) still gives the fresh-buffer results."""
    x = var("x")
    a = node("relu", x)
    v = node(view[0], a, **view[1])
    late = node("tanh", a)          # reads a after the view
    ig, p = check(ir.Graph([E(node("sum", v)), E(late)]), feed("x"))
    sid = p.storage_id
    assert sid[ig.entry_id(E(v))] == sid[ig.entry_id(E(a))]
