"""Import rules: ONNX LSTM / GRU / RNN onto plait's fused `RNN` op (MXNet's layout).

ONNX keeps per-direction weight tensors W (D, G*H, I), R (D, G*H, H) and B (D, 2*G*H) with its
own gate order (LSTM i,o,f,c; GRU z,r,h); the fused op takes one packed vector (every weight
then every bias, direction by direction) in MXNet's gate order (LSTM i,f,c,o; GRU r,z,n).  The
packing is written with F ops, so it folds to one constant when the weights are initializers
and stays a graph computation when they arrive as inputs.
"""
import numpy as np

from .import_rules import onnx_op

_MODES = {"LSTM": ("lstm", 4, (0, 2, 3, 1), ["Sigmoid", "Tanh", "Tanh"]),
          "GRU": ("gru", 3, (1, 0, 2), ["Sigmoid", "Tanh"]),
          "RNN": ("rnn_tanh", 1, (0,), ["Tanh"])}


def _gates(F, w, order, H):
    """Rows of `w` (G*H, ...) regrouped into the gate `order`, flattened."""
    parts = [F.slice_axis(w, axis=0, begin=g * H, end=(g + 1) * H) for g in order]
    w = parts[0] if len(parts) == 1 else F.Concat(*parts, dim=0, num_args=len(parts))
    return F.reshape(w, shape=(-1,))


@onnx_op("LSTM", "GRU", "RNN", since=7)
def rnn(c):
    F = c.F
    mode, G, order, default_acts = _MODES[c.op_type]
    H = int(c.need_attr("hidden_size"))
    direction = c.attr("direction", "forward")
    D = 2 if direction == "bidirectional" else 1
    acts = [a.capitalize() if a.islower() else a for a in c.attr("activations", default_acts * D)]
    if c.op_type == "RNN" and acts[:1] == ["Relu"]:
        mode = "rnn_relu"
    elif acts != default_acts * D:
        c.unsupported("activations %s (plait's RNN op computes %s)" % (acts, default_acts))
    if c.attr("clip") is not None:
        c.unsupported("clip is not supported")
    if c.attr("input_forget", 0):
        c.unsupported("input_forget=1 is not supported")
    if c.op_type == "LSTM" and c.has(7):
        c.unsupported("peephole weights (input P) are not supported")
    unrolled = c.op_type == "GRU" and not c.attr("linear_before_reset", 0)
    if unrolled and c.has(4):
        c.unsupported("linear_before_reset=0 with sequence_lens is not supported")
    if direction == "reverse" and c.has(4):
        c.unsupported("direction='reverse' with sequence_lens is not supported")
    batch_first = bool(c.attr("layout", 0))
    x = c.x(0)
    xs = c.shape(0)
    if batch_first:
        x = F.transpose(x, axes=(1, 0, 2))
        xs = (xs[1], xs[0], xs[2])
    T, N, _ = xs
    dt = c.dtype(0)
    if direction == "reverse":
        x = F.reverse(x, axis=0)
    W, R = c.x(1), c.x(2)
    B = c.x(3) if c.has(3) else c.imp.tensor(_zeros(c, (D, 2 * G * H), dt), F)
    if unrolled:
        h0 = c.x(5) if c.has(5) else c.imp.tensor(_zeros(c, (D, N, H), dt), F)
        if c.has(5) and batch_first:
            h0 = F.transpose(h0, axes=(1, 0, 2))
        y, hy = _gru_unrolled(F, x, W, R, B, h0, D, H, T, N, direction)
        if batch_first:
            return [F.transpose(y, axes=(2, 0, 1, 3)), F.transpose(hy, axes=(1, 0, 2))]
        return [y, hy]
    weights, biases = [], []
    for d in range(D):
        w = F.reshape(F.slice_axis(W, axis=0, begin=d, end=d + 1), shape=(G * H, -1))
        r = F.reshape(F.slice_axis(R, axis=0, begin=d, end=d + 1), shape=(G * H, H))
        b = F.reshape(F.slice_axis(B, axis=0, begin=d, end=d + 1), shape=(2 * G * H,))
        weights += [_gates(F, w, order, H), _gates(F, r, order, H)]
        biases += [_gates(F, F.slice_axis(b, axis=0, begin=0, end=G * H), order, H),
                   _gates(F, F.slice_axis(b, axis=0, begin=G * H, end=2 * G * H), order, H)]
    params = F.Concat(*(weights + biases), dim=0, num_args=len(weights + biases))

    def state(i):
        if not c.has(i):
            return c.imp.tensor(_zeros(c, (D, N, H), dt), F)
        s = c.x(i)
        return F.transpose(s, axes=(1, 0, 2)) if batch_first else s
    args = [x, params, state(5)]
    if mode == "lstm":
        args.append(state(6))
    kw = dict(state_size=H, num_layers=1, bidirectional=D == 2, mode=mode, state_outputs=True)
    if c.has(4):
        args.append(F.Cast(c.x(4), dtype=dt.name))
        kw["use_sequence_length"] = True
    outs = F.RNN(*args, **kw)
    y = F.transpose(F.reshape(outs[0], shape=(T, N, D, H)), axes=(0, 2, 1, 3))
    if direction == "reverse":
        y = F.reverse(y, axis=0)
    states = [outs[1]] + ([outs[2]] if mode == "lstm" else [])
    if batch_first:
        y = F.transpose(y, axes=(2, 0, 1, 3))
        states = [F.transpose(s, axes=(1, 0, 2)) for s in states]
    return [y] + states


def _gru_unrolled(F, x, W, R, B, h0, D, H, T, N, direction):
    """ONNX GRU with linear_before_reset=0 (the reset gate scales h before the recurrent
    product, which the fused op cannot do): the time loop unrolled into graph ops.  The input
    projection of every step is one FullyConnected; each step adds three small ones."""
    def rows(w, g):
        return F.slice_axis(w, axis=0, begin=g * H, end=(g + 1) * H)
    ys, hs = [], []
    for d in range(D):
        w = F.reshape(F.slice_axis(W, axis=0, begin=d, end=d + 1), shape=(3 * H, -1))
        r = F.reshape(F.slice_axis(R, axis=0, begin=d, end=d + 1), shape=(3 * H, H))
        b = F.reshape(F.slice_axis(B, axis=0, begin=d, end=d + 1), shape=(6 * H,))
        wb, rb = F.slice_axis(b, axis=0, begin=0, end=3 * H), F.slice_axis(b, axis=0, begin=3 * H, end=6 * H)
        gx = F.FullyConnected(x, w, wb, num_hidden=3 * H, flatten=False)       # (T, N, 3H)
        h = F.reshape(F.slice_axis(h0, axis=0, begin=d, end=d + 1), shape=(N, H))
        steps = range(T - 1, -1, -1) if d == 1 else range(T)  # 'reverse': x comes reversed
        out = [None] * T
        for t in steps:
            g = F.reshape(F.slice_axis(gx, axis=0, begin=t, end=t + 1), shape=(N, 3 * H))
            gz, gr, gh = (F.slice_axis(g, axis=1, begin=k * H, end=(k + 1) * H) for k in range(3))
            z = F.sigmoid(gz + F.FullyConnected(h, rows(r, 0), rows(rb, 0), num_hidden=H))
            rr = F.sigmoid(gr + F.FullyConnected(h, rows(r, 1), rows(rb, 1), num_hidden=H))
            hh = F.tanh(gh + F.FullyConnected(rr * h, rows(r, 2), rows(rb, 2), num_hidden=H))
            h = hh + z * (h - hh)
            out[t] = F.expand_dims(h, axis=0)
        ys.append(F.expand_dims(F.Concat(*out, dim=0, num_args=T) if T > 1 else out[0], axis=1))
        hs.append(F.expand_dims(h, axis=0))
    y = F.Concat(*ys, dim=1, num_args=D) if D > 1 else ys[0]
    if direction == "reverse":
        y = F.reverse(y, axis=0)
    return y, (F.Concat(*hs, dim=0, num_args=D) if D > 1 else hs[0])


def _zeros(c, shape, dtype):
    from .importer import _Val
    return _Val(c.name + "_zeros", const=np.zeros(shape, dtype))
