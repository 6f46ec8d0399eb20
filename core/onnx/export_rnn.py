"""ONNX export rule: the fused RNN op as one ONNX LSTM / GRU / RNN node per layer.

The packed parameter vector must be a constant (it is once Gluon's _rnn_param_concat of
the weights is folded): it is cut per layer and direction in MXNet's layout
(core/ops/nn_rnn_kernels.param_layout) and written as ONNX W (D, G*H, I), R (D, G*H, H),
B (D, 2*G*H) with ONNX's gate order (LSTM i,o,f,c from MXNet's i,f,c,o; GRU z,r,h from
r,z,n, with linear_before_reset=1, which is MXNet's GRU).  Between layers the ONNX output
(T, D, N, H) becomes (T, N, D*H).  Dropout is an inference no-op.  Not exported (clear errors): LSTM
projection and cell-state clipping (ONNX's `clip` bounds the gate inputs instead).
"""
import numpy as np

from ..ops import nn_rnn_kernels as K
from .export_context import onnx_rule
from .export_math import cast

_ONNX = {"lstm": ("LSTM", (0, 3, 1, 2), None), "gru": ("GRU", (1, 0, 2), None),
         "rnn_tanh": ("RNN", (0,), ["Tanh"]), "rnn_relu": ("RNN", (0,), ["Relu"])}


def _regate(w, order, H):
    return np.concatenate([w[g * H:(g + 1) * H] for g in order], axis=0)


def _layer_weights(a, flat, slots, order):
    H = a.state_size
    W = np.stack([_regate(K.view(flat, s.wx), order, H) for s in slots])
    R = np.stack([_regate(K.view(flat, s.wh), order, H) for s in slots])
    B = np.stack([np.concatenate([_regate(K.view(flat, s.bx), order, H),
                                  _regate(K.view(flat, s.bh), order, H)]) for s in slots])
    return W, R, B


@onnx_rule("RNN", opsets=(13, None))
def _rnn(ctx, node):
    a = node.attrs
    if a.projection_size:
        ctx.fail(node, "LSTM projection_size has no ONNX equivalent")
    if a.lstm_state_clip_min is not None:
        ctx.fail(node, "LSTM cell-state clipping has no ONNX equivalent (ONNX's `clip` "
                 "bounds the gate pre-activations, not the cell state)")
    flat = ctx.value(node.inputs[1])
    if flat is None:
        ctx.fail(node, "the RNN parameters must be constant (initializers) to be exported")
    op_type, order, acts = _ONNX[a.mode]
    D, H, L = (2 if a.bidirectional else 1), a.state_size, a.num_layers
    dt = node.in_dtypes[0]
    names = ["data", "parameters", "state"] + (["state_cell"] if a.mode == "lstm" else [])
    inputs = dict(zip(names, node.inputs))
    lens = ""
    if a.use_sequence_length:
        lens = cast(ctx, node.inputs[len(names)], node.in_dtypes[len(names)], np.int32)
    layers, _ = K.param_layout(a, node.in_shapes[0][2])
    x, hs, cs = inputs["data"], [], []
    for l, slots in enumerate(layers):
        W, R, B = _layer_weights(a, flat.astype(dt), slots, order)
        span = [ctx.ints([l * D]), ctx.ints([(l + 1) * D]), ctx.ints([0])]
        h0 = ctx.add("Slice", [inputs["state"]] + span)
        ins = [x, ctx.const(W, "W"), ctx.const(R, "R"), ctx.const(B, "B"), lens, h0]
        if a.mode == "lstm":
            ins.append(ctx.add("Slice", [inputs["state_cell"]] + span))
        extra = {"linear_before_reset": 1} if a.mode == "gru" else {}
        outs = ctx.add(op_type, ins, 3 if a.mode == "lstm" else 2, hidden_size=H,
                       direction="bidirectional" if D == 2 else "forward",
                       activations=acts * D if acts else None,
                       **extra)
        y = ctx.add("Transpose", [outs[0]], perm=[0, 2, 1, 3])          # (T, N, D, H)
        if l == L - 1:
            ctx.add("Reshape", [y, ctx.ints([0, 0, -1])], node.outputs[:1])
        else:
            x = ctx.add("Reshape", [y, ctx.ints([0, 0, -1])])
        hs.append(outs[1])
        if a.mode == "lstm":
            cs.append(outs[2])
    if len(node.outputs) > 1:
        for out, parts in zip(node.outputs[1:], [hs, cs]):
            if len(parts) == 1:
                ctx.add("Identity", parts, [out])
            else:
                ctx.add("Concat", parts, [out], axis=0)


@onnx_rule("_rnn_param_concat", opsets=(13, None))
def _param_concat(ctx, node):
    flat = [ctx.add("Reshape", [x, ctx.ints([-1])]) for x in node.inputs]
    ctx.add("Concat", flat, node.outputs[:1], axis=0)
