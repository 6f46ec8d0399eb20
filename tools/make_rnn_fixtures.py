"""Write tests/fixtures/rnn/ with real MXNet 1.9.1: outputs and gradients of the fused RNN
op, of gluon.rnn layers and of every recurrent cell, on fixed weights.

Run with the MXNet interpreter:
    /tmp/plait-anchors/mxnet/bin/python tools/make_rnn_fixtures.py
Each case is stored in one .npz (no pickles) with keys
    param:<name>   the weights the block used (set before the run)
    in:<name>      inputs (x, states, head gradients)
    out:<k>        forward outputs, flattened in order
    grad:<name>    gradients of sum(out_k * head_k) w.r.t. inputs and parameters
and an MXNet-saved lstm_layer.params for the loading test.
"""
import json
import os
import sys

import numpy as np
import mxnet as mx
from mxnet import autograd, gluon

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "rnn")


def vals(shape, seed, scale=0.5):
    return np.random.RandomState(seed).uniform(-scale, scale, size=shape).astype(np.float32)


def flat(r):
    if isinstance(r, (list, tuple)):
        out = []
        for v in r:
            out += flat(v)
        return out
    return [r]


def unique(arrays):
    """Drop repeated heads (a cell's last output is also its state): MXNet's backward
    does not sum the gradients of a head given twice."""
    seen, out = set(), []
    for a in arrays:
        if id(a) not in seen:
            seen.add(id(a))
            out.append(a)
    return out


def run_block(block, inputs, call, seed):
    """Set fixed weights, run `call(block, *inputs)` under record, backprop fixed heads."""
    params = block.collect_params()
    data = {}
    for i, (name, p) in enumerate(sorted(params.items())):
        v = vals(p.shape, seed + 31 * i, 0.4)
        p.set_data(mx.nd.array(v))
        data["param:" + name] = v
    nd_in = {k: mx.nd.array(v) for k, v in inputs.items()}
    for v in nd_in.values():
        v.attach_grad()
    with autograd.record():
        outs = unique(flat(call(block, **nd_in)))
    heads = [mx.nd.array(vals(o.shape, seed + 1000 + k, 1.0)) for k, o in enumerate(outs)]
    autograd.backward(outs, heads)
    for k, v in inputs.items():
        data["in:" + k] = v
        if k != "vl":  # MXNet leaves the gradient of a length input uninitialised
            data["grad:" + k] = nd_in[k].grad.asnumpy()
    for k, (o, h) in enumerate(zip(outs, heads)):
        data["out:%d" % k] = o.asnumpy()
        data["head:%d" % k] = h.asnumpy()
    for name, p in params.items():
        if p.grad_req != "null":
            data["grad:" + name] = p.grad().asnumpy()
    return data


def save(name, data, meta):
    data = dict(data)
    data["meta"] = np.array(json.dumps(meta))
    np.savez(os.path.join(OUT, name + ".npz"), **data)


# -- the fused op --------------------------------------------------------------------------------
def op_cases():
    for mode in ("lstm", "gru", "rnn_tanh", "rnn_relu"):
        for layers, bi in ((1, False), (2, True)):
            yield mode, layers, bi


def make_op():
    T, N, I, H = 4, 3, 5, 6
    for k, (mode, L, bi) in enumerate(op_cases()):
        D = 2 if bi else 1
        G = {"lstm": 4, "gru": 3}.get(mode, 1)
        size = sum(D * (G * H * ((I if l == 0 else D * H) + H) + 2 * G * H) for l in range(L))
        ins = {"data": vals((T, N, I), k, 1.0), "parameters": vals((size,), k + 1, 0.4),
               "state": vals((L * D, N, H), k + 2)}
        if mode == "lstm":
            ins["state_cell"] = vals((L * D, N, H), k + 3)

        class Op:
            def __call__(self, **kw):
                args = [kw[n] for n in ("data", "parameters", "state", "state_cell") if n in kw]
                return mx.nd.RNN(*args, mode=mode, state_size=H, num_layers=L,
                                 bidirectional=bi, state_outputs=True)

            def collect_params(self):
                return {}
        data = run_block(Op(), ins, lambda b, **kw: b(**kw), 100 * k)
        save("op_%s_l%d_%s" % (mode, L, "bi" if bi else "uni"), data,
             dict(mode=mode, state_size=H, num_layers=L, bidirectional=bi))


# -- gluon layers -------------------------------------------------------------------------------
def make_layers():
    T, N, I, H = 4, 3, 5, 6
    k = 0
    for cls in ("LSTM", "GRU", "RNN"):
        for L, bi in ((1, False), (2, True)):
            for layout in ("TNC", "NTC"):
                for with_states in (False, True):
                    k += 1
                    kw = dict(num_layers=L, bidirectional=bi, layout=layout, input_size=I,
                              prefix="%s0_" % cls.lower())
                    if cls == "RNN":
                        kw["activation"] = "tanh" if k % 2 else "relu"
                    layer = getattr(gluon.rnn, cls)(H, **kw)
                    layer.initialize()
                    shape = (T, N, I) if layout == "TNC" else (N, T, I)
                    ins = {"x": vals(shape, 500 + k, 1.0)}
                    D = 2 if bi else 1
                    if with_states:
                        ins["h0"] = vals((L * D, N, H), 600 + k)
                        if cls == "LSTM":
                            ins["c0"] = vals((L * D, N, H), 700 + k)

                    def call(b, x, h0=None, c0=None):
                        if h0 is None:
                            return b(x)
                        return b(x, [h0, c0] if c0 is not None else [h0])
                    data = run_block(layer, ins, call, 1000 + 10 * k)
                    name = "layer_%s_l%d_%s_%s_%s" % (cls.lower(), L, "bi" if bi else "uni",
                                                      layout, "states" if with_states else "nostate")
                    save(name, data, dict(cls=cls, hidden=H, input_size=I, **{
                        a: b for a, b in kw.items() if a != "input_size"}))
                    if name == "layer_lstm_l2_bi_TNC_states":
                        layer.save_parameters(os.path.join(OUT, "lstm_layer.params"))


# -- cells ---------------------------------------------------------------------------------------
def make_cells():
    T, N, I, H = 3, 2, 4, 5
    R = gluon.rnn

    def seq():
        s = R.SequentialRNNCell(prefix="seq_")
        with s.name_scope():
            s.add(R.LSTMCell(H, input_size=I, prefix="l0_"))
            s.add(R.GRUCell(H, input_size=H, prefix="l1_"))
        return s

    def hseq():
        s = R.HybridSequentialRNNCell(prefix="hseq_")
        with s.name_scope():
            s.add(R.RNNCell(H, input_size=I, prefix="l0_"))
            s.add(R.DropoutCell(0.0))
            s.add(R.LSTMCell(H, input_size=H, prefix="l1_"))
        return s

    cells = {
        "rnn_tanh": lambda: R.RNNCell(H, input_size=I, prefix="rnn0_"),
        "rnn_relu": lambda: R.RNNCell(H, activation="relu", input_size=I, prefix="rnn0_"),
        "lstm": lambda: R.LSTMCell(H, input_size=I, prefix="lstm0_"),
        "gru": lambda: R.GRUCell(H, input_size=I, prefix="gru0_"),
        "seq": seq,
        "hseq": hseq,
        "bidir": lambda: R.BidirectionalCell(R.LSTMCell(H, input_size=I, prefix="l_"),
                                             R.GRUCell(H, input_size=I, prefix="r_")),
        "residual": lambda: R.ResidualCell(R.GRUCell(I, input_size=I, prefix="res_")),
        "zoneout": lambda: R.ZoneoutCell(R.LSTMCell(H, input_size=I, prefix="zo_"), 0.0, 0.0),
        "dropout_last": lambda: _dropout_stack(R, H, I),
    }
    for k, (name, make) in enumerate(cells.items()):
        for layout in ("NTC", "TNC"):
            for merge in (True, False):
                cell = make()
                cell.initialize()
                shape = (N, T, I) if layout == "NTC" else (T, N, I)
                ins = {"x": vals(shape, 2000 + k, 1.0)}
                begin = cell.begin_state(batch_size=N, func=mx.nd.zeros)
                for j, b in enumerate(begin):
                    ins["s%d" % j] = vals(b.shape, 2100 + 10 * k + j)

                def call(b, x, **states):
                    st = [states["s%d" % j] for j in range(len(states))]
                    outs, new = b.unroll(T, x, begin_state=st, layout=layout,
                                         merge_outputs=merge)
                    return [outs, new]
                data = run_block(cell, ins, call, 3000 + 10 * k)
                save("cell_%s_%s_%s" % (name, layout, "merge" if merge else "list"), data,
                     dict(layout=layout, merge=merge, T=T, N=N, I=I, H=H))
    # valid_length (MXNet masks outputs past the length and returns the last valid states)
    cell = R.LSTMCell(H, input_size=I, prefix="lstm0_")
    cell.initialize()
    ins = {"x": vals((N, T, I), 2900, 1.0), "vl": np.array([2, 3], np.float32)}

    def call_vl(b, x, vl):
        outs, new = b.unroll(T, x, layout="NTC", merge_outputs=True, valid_length=vl)
        return [outs, new]
    data = run_block(cell, ins, call_vl, 3900)
    save("cell_lstm_valid_length", data, dict(layout="NTC", merge=True, T=T, N=N, I=I, H=H))


# -- hybridized models exported by MXNet (-symbol.json with zeros begin states) -------------------
def make_exported():
    nn = gluon.nn
    for k, cls in enumerate(("LSTM", "GRU")):
        net = nn.HybridSequential(prefix="m_")
        with net.name_scope():
            net.add(getattr(gluon.rnn, cls)(5, num_layers=2, bidirectional=True, input_size=3))
            net.add(nn.Dense(2, flatten=False))
        net.initialize(mx.init.Uniform(0.5))
        net.hybridize()
        x = mx.nd.array(vals((4, 2, 3), 5000 + k, 1.0))
        x.attach_grad()
        head = mx.nd.array(vals((4, 2, 2), 5100 + k, 1.0))
        with autograd.record():
            y = net(x)
        y.backward(head)
        base = os.path.join(OUT, "exported_%s" % cls.lower())
        net.export(base)
        np.savez(base + ".npz", x=x.asnumpy(), y=y.asnumpy(), head=head.asnumpy(),
                 dx=x.grad.asnumpy())


def _dropout_stack(R, H, I):
    s = R.SequentialRNNCell(prefix="dseq_")
    with s.name_scope():
        s.add(R.GRUCell(H, input_size=I, prefix="g0_"))
        s.add(R.DropoutCell(0.0))
        s.add(R.RNNCell(H, input_size=H, prefix="v0_"))
    return s


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_op()
    make_layers()
    make_cells()
    make_exported()
    print("wrote", len(os.listdir(OUT)), "files to", os.path.normpath(OUT), file=sys.stderr)
