"""Fixtures for the control-flow tests (tests/{symbol,gluon}/..., tests/fixtures/control_flow/),
made by real MXNet 1.9.1:

    /tmp/plait-anchors/mxnet/bin/python tools/make_control_flow_fixtures.py

For each case: <case>-symbol.json (written by MXNet's tojson), and <case>.npz with the
inputs ("arg:<name>"), the forward outputs ("out:<i>"), the head gradients ("head:<i>")
and the input gradients MXNet's executor computes ("grad:<name>").  while_loop outputs
are trimmed to the steps that ran ("steps:<i>" holds the count): MXNet leaves the
padding rows undefined.  Also a Gluon HybridBlock with foreach exported by MXNet
(rnn_block-symbol.json + rnn_block-0000.params) and its outputs (rnn_block.npz).
"""
import os

import numpy as np
import mxnet as mx

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "control_flow")


def _save(case, sym, args, steps=None):
    """Bind, forward (training), backward with random heads; write json + npz."""
    rng = np.random.RandomState(len(case))
    nd_args = {k: mx.nd.array(v, dtype=v.dtype) for k, v in args.items()}
    grads = {k: mx.nd.zeros(v.shape, dtype=v.dtype) for k, v in args.items()}
    ex = sym.bind(mx.cpu(), nd_args, args_grad=grads)
    outs = [o.asnumpy() for o in ex.forward(is_train=True)]
    heads = [rng.uniform(0.5, 1.5, o.shape).astype(o.dtype) for o in outs]
    if steps is not None:  # rows past the steps that ran are not outputs of the loop
        for i, n in steps.items():
            heads[i][n:] = 0
    ex.backward([mx.nd.array(h, dtype=h.dtype) for h in heads])
    arrays = {"arg:" + k: v for k, v in args.items()}
    for i, (o, h) in enumerate(zip(outs, heads)):
        if steps is not None and i in steps:
            o = o[:steps[i]]
            arrays["steps:%d" % i] = np.array(steps[i])
        arrays["out:%d" % i] = o
        arrays["head:%d" % i] = h
    for k, g in grads.items():
        arrays["grad:" + k] = g.asnumpy()
    with open(os.path.join(OUT, case + "-symbol.json"), "w") as f:
        f.write(sym.tojson())
    np.savez(os.path.join(OUT, case + ".npz"), **arrays)


def foreach_rnn():
    """An Elman RNN over 6 steps: FullyConnected i2h/h2h, tanh; outputs (h_t, final h)."""
    x, h0 = mx.sym.var("data"), mx.sym.var("h0")
    wi, bi = mx.sym.var("i2h_weight"), mx.sym.var("i2h_bias")
    wh, bh = mx.sym.var("h2h_weight"), mx.sym.var("h2h_bias")

    def body(xt, states):
        h = mx.sym.tanh(mx.sym.FullyConnected(xt, wi, bi, num_hidden=5) +
                        mx.sym.FullyConnected(states[0], wh, bh, num_hidden=5))
        return h * 1.5, [h]
    outs, states = mx.sym.contrib.foreach(body, x, [h0])
    r = np.random.RandomState(0)
    args = {"data": r.randn(6, 3, 4), "h0": r.randn(3, 5), "i2h_weight": r.randn(5, 4) * 0.5,
            "i2h_bias": r.randn(5), "h2h_weight": r.randn(5, 5) * 0.5, "h2h_bias": r.randn(5)}
    _save("foreach_rnn", mx.sym.Group([outs, states[0]]),
          {k: v.astype(np.float32) for k, v in args.items()})


def foreach_nested():
    """foreach over two data arrays, two states, with a nested foreach and an outer value
    (data * 2 computed outside the body) used inside."""
    a, b, s1, s2 = (mx.sym.var(n) for n in ("a", "b", "s1", "s2"))
    outer = mx.sym.sin(b) * 2

    def inner(xt, st):
        n = st[0] * xt + 0.1
        return [], [n]

    def body(xs, states):
        x1, x2 = xs
        _, inner_state = mx.sym.contrib.foreach(inner, x1, [states[1]])
        n1 = states[0] * mx.sym.cos(x2) + x1.sum(axis=0)
        return [n1 + 1, x2 * 3], [n1, inner_state[0]]
    outs, states = mx.sym.contrib.foreach(body, [a, outer], [s1, s2])
    r = np.random.RandomState(1)
    args = {"a": r.uniform(-1, 1, (4, 3, 2)), "b": r.uniform(-1, 1, (4, 2)),
            "s1": r.uniform(-1, 1, (2,)), "s2": r.uniform(-1, 1, (2,))}
    _save("foreach_nested", mx.sym.Group(outs + states),
          {k: v.astype(np.float32) for k, v in args.items()})


def while_loop_case():
    """Sum s += w * i while i < 4 (4 steps of max 6), step output s * w."""
    i, s, w = mx.sym.var("i"), mx.sym.var("s"), mx.sym.var("w")
    outs, final = mx.sym.contrib.while_loop(
        cond=lambda i, s: i < 4,
        func=lambda i, s: ([mx.sym.tanh(s * w)], [i + 1, s + w * mx.sym.broadcast_mul(i, s)]),
        loop_vars=[i, s], max_iterations=6)
    r = np.random.RandomState(2)
    args = {"i": np.array([0.5], np.float32), "s": r.uniform(-1, 1, (3,)).astype(np.float32),
            "w": r.uniform(-1, 1, (3,)).astype(np.float32)}
    _save("while_loop", mx.sym.Group(outs + final), args, steps={0: 4})


def cond_case():
    """cond on a computed predicate, branches using outer values and variables."""
    p, a, b = mx.sym.var("p"), mx.sym.var("a"), mx.sym.var("b")
    shared = mx.sym.exp(a) * 0.5
    res = mx.sym.contrib.cond(mx.sym.sum(p) > 0, lambda: [shared * b, a + 1],
                              lambda: [shared - b, a * a])
    r = np.random.RandomState(3)
    base = {"a": r.uniform(-1, 1, (2, 3)).astype(np.float32),
            "b": r.uniform(-1, 1, (2, 3)).astype(np.float32)}
    _save("cond_then", mx.sym.Group(res), dict(base, p=np.array([1.0, 0.5], np.float32)))
    _save("cond_else", mx.sym.Group(res), dict(base, p=np.array([-1.0, 0.5], np.float32)))


class _RNNBlock(mx.gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.i2h = mx.gluon.nn.Dense(6, flatten=False)
            self.h2h = mx.gluon.nn.Dense(6, flatten=False)

    def hybrid_forward(self, F, x, h0):
        def body(xt, st):
            h = F.tanh(self.i2h(xt) + self.h2h(st[0]))
            return h, [h]
        outs, st = F.contrib.foreach(body, x, [h0])
        return outs, st[0]


def gluon_block():
    mx.random.seed(4)
    net = _RNNBlock(prefix="rnn_")
    net.initialize(mx.init.Xavier())
    net.hybridize()
    r = np.random.RandomState(4)
    x = r.randn(5, 2, 3).astype(np.float32)
    h0 = r.randn(2, 6).astype(np.float32)
    outs = net(mx.nd.array(x), mx.nd.array(h0))
    net.export(os.path.join(OUT, "rnn_block"))
    np.savez(os.path.join(OUT, "rnn_block.npz"), x=x, h0=h0,
             **{"out:%d" % i: o.asnumpy() for i, o in enumerate(outs)})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    foreach_rnn()
    foreach_nested()
    while_loop_case()
    cond_case()
    gluon_block()
    print("wrote", sorted(os.listdir(OUT)))
