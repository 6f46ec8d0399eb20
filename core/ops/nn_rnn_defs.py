"""The registry entries of the fused RNN family (kernels in nn_rnn.py / nn_rnn_kernels.py):
RNN, its hidden backward `_backward_RNN`, and `_rnn_param_concat` (Gluon's packing of the
per-layer weights into RNN's parameter vector) with its backward."""
import numpy as np

from ..base import fail
from .nn_rnn import (PARAMS, _fill_inputs, _forward, _backward, _in_names, _n_out, _placeholder,
                     _reference, _shape, _split, _type, param_size, reference_rnn)
from .params import Param, positive
from .registry import BadSample, OpDef, Sample, register
from .sampling import values

_DEFAULTS = {k: p.default for k, p in PARAMS.items()}


def _attr_kwargs(a, **over):
    kw = {k: a[k] for k in PARAMS if a[k] != _DEFAULTS.get(k, object())}
    for k in ("state_size", "num_layers", "mode"):
        kw[k] = a[k]
    kw.update(over)
    return {k: v for k, v in kw.items() if not (k == "p" and v == 0)}


def _gradient(F, a, ins, outs, og):
    names = _in_names(a)
    d = dict(zip(names, ins))
    lstm = a.mode == "lstm"
    if a.state_outputs:
        dhy = og[1]
        dcy = og[2] if lstm else None
    else:
        dhy = F.zeros_like(d["state"])
        dcy = F.zeros_like(d["state_cell"]) if lstm else None
    train = bool(a.get("__is_train__", False))
    extra = [outs[0], og[0], dhy] + ([dcy] if lstm else [])
    kw = _attr_kwargs(a, p=a.p if train else 0.0, state_outputs=False)
    res = F._backward_RNN(*(list(ins) + extra), **kw)
    grads = list(res)
    if a.use_sequence_length:
        grads.append(None)
    return grads


# -- samples ------------------------------------------------------------------------------------
_CASES = [  # (mode, T, N, I, H, layers, bidirectional, extra attrs, sequence lengths)
    ("lstm", 3, 2, 3, 2, 1, False, {}, None),
    ("gru", 3, 2, 2, 3, 2, True, {"state_outputs": True}, None),
    ("rnn_tanh", 2, 2, 3, 2, 2, False, {"state_outputs": True}, None),
    ("rnn_relu", 3, 1, 2, 2, 1, True, {}, None),
    ("lstm", 2, 2, 2, 2, 2, True, {"state_outputs": True}, None),
    ("lstm", 3, 2, 2, 3, 1, False, {"state_outputs": True, "projection_size": 2}, None),
    ("lstm", 3, 2, 2, 2, 1, False, {"state_outputs": True, "lstm_state_clip_min": -0.2,
                                    "lstm_state_clip_max": 0.25}, None),
    ("gru", 3, 2, 2, 2, 1, True, {"state_outputs": True}, [3, 1]),
    ("lstm", 4, 3, 2, 2, 2, False, {"state_outputs": True}, [2, 4, 1]),
    ("rnn_tanh", 2, 2, 2, 2, 2, False, {"p": 0.5}, None),
]


def _inputs(dtype, case, seed):
    mode, T, N, I, H, L, bi, extra, lens = case
    attrs = dict(mode=mode, state_size=H, num_layers=L, bidirectional=bi, **extra)
    if lens is not None:
        attrs["use_sequence_length"] = True
    a = OP.parse_attrs(dict(attrs))
    D = 2 if bi else 1
    R = a.projection_size or H
    ins = [values((T, N, I), dtype, -1, 1, seed), values((param_size(a, I),), dtype, -0.6, 0.6,
                                                          seed + 1),
           values((L * D, N, R), dtype, -0.5, 0.5, seed + 2)]
    if mode == "lstm":
        ins.append(values((L * D, N, H), dtype, -0.5, 0.5, seed + 3))
    if lens is not None:
        ins.append(np.array(lens, dtype))
    return ins, attrs


def _samples(dtype):
    return [Sample(*_inputs(dtype, c, 10 * i)) for i, c in enumerate(_CASES)]


def _bad():
    f32 = np.float32
    lstm = dict(mode="lstm", state_size=2, num_layers=1)
    x, w = np.ones((3, 2, 4), f32), np.ones((4 * 2 * (4 + 2) + 16,), f32)
    s = np.ones((1, 2, 2), f32)
    return [BadSample([x, np.ones((7,), f32), s, s], lstm, match=("parameters", "(7,)", "(64,)")),
            BadSample([x, w, np.ones((2, 2, 2), f32), s], lstm, match=("state", "(2, 2, 2)")),
            BadSample([x, w, s], lstm, match=("input", "state_cell")),
            BadSample([np.ones((3, 4), f32), w, s, s], lstm, match=("data", "3-D")),
            BadSample([x, w, s, s], dict(lstm, mode="gru"), match=("input", "3")),
            BadSample([x, w, s, s], dict(lstm, projection_size=1, mode="lstm"),
                      match=("parameters",)),
            BadSample([x, w, s, s], dict(lstm, lstm_state_clip_min=-1.0),
                      match=("lstm_state_clip_min",)),
            BadSample([x, w, s], dict(lstm, mode="gru", projection_size=1),
                      match=("projection_size", "gru"))]


OP = register(OpDef(
    "RNN", inputs=("data", "parameters", "state", "state_cell", "sequence_length"),
    inputs_fn=_in_names, num_outputs=_n_out, params=PARAMS, infer_shape=_shape,
    output_names=lambda a: ("output", "state_output", "statecell_output"),
    infer_type=_type, forward=_forward, dtypes="numeric", test_dtypes=("float32", "float64"),
    resources=("rng",), train_aware=True, gradient=_gradient, reference=_reference,
    samples=_samples, bad_samples=_bad, tol=(2e-5, 1e-6), grad_inputs=(0, 1, 2, 3),
    doc="Fused multi-layer recurrent network over a time-major sequence (T, N, C): "
        "mode 'lstm', 'gru', 'rnn_tanh' or 'rnn_relu', optionally bidirectional, with every "
        "layer's weights and biases packed into one `parameters` vector (MXNet's layout: all "
        "i2h/h2h weights layer by layer and direction by direction, then all biases).  "
        "Outputs out (T, N, D*state_size) and, with state_outputs, the final states."))
OP.infer_inputs = _fill_inputs


# -- _backward_RNN -------------------------------------------------------------------------------
def _bwd_names(a):
    return _in_names(a) + ["fwd_out", "dout", "dhy"] + (["dcy"] if a.mode == "lstm" else [])


def _bwd_shape(a, shapes):
    names = _bwd_names(a)
    if len(shapes) != len(names):
        fail("input", "expected %d inputs (%s), got %d", len(names), ", ".join(names),
             len(shapes))
    nf = len(_in_names(a))
    fwd = _shape(OP.parse_attrs(_attr_kwargs(a, state_outputs=True)), shapes[:nf])
    for n, s, want in zip(names[nf:], shapes[nf:], [fwd[0], fwd[0]] + list(fwd[1:])):
        if tuple(s) != tuple(want) and not _placeholder(s, want):
            fail(n, "%s has shape %s, expected %s", n, tuple(s), tuple(want))
    return [tuple(s) for s in shapes[:3 + (a.mode == "lstm")]]


def _bwd_type(a, types):
    return [types[0]] * (4 if a.mode == "lstm" else 3)


def _bwd_reference(a, *ins):
    """The vector-Jacobian product by central differences of reference_rnn (float64)."""
    nf = len(_in_names(a))
    x, w, h0, c0, seqlen = _split(a, ins[:nf])
    heads = [np.asarray(v, np.float64) for v in ins[nf + 1:]]
    args = [x.astype(np.float64), w.astype(np.float64), h0.astype(np.float64)]
    if c0 is not None:
        args.append(c0.astype(np.float64))

    def f(vals):
        res = reference_rnn(a, vals[0], vals[1], vals[2], vals[3] if c0 is not None else None,
                            seqlen)
        return sum(float((r * g).sum()) for r, g in zip(res, heads))
    grads, eps = [], 1e-6
    for k, v in enumerate(args):
        g = np.zeros(v.shape)
        for idx in np.ndindex(v.shape):
            old = v[idx]
            v[idx] = old + eps
            fp = f(args)
            v[idx] = old - eps
            fm = f(args)
            v[idx] = old
            g[idx] = (fp - fm) / (2 * eps)
        grads.append(g.astype(x.dtype))
    return tuple(grads)


def _bwd_samples(dtype):
    out = []
    for i in (0, 1, 3, 5, 6, 7):
        ins, attrs = _inputs(dtype, _CASES[i], 10 * i)
        a = OP.parse_attrs(dict(attrs, state_outputs=True))
        fwd = [np.asarray(r, dtype) for r in _reference(a, *ins)]
        heads = [values(r.shape, dtype, -1, 1, 100 + i + k) for k, r in enumerate(fwd)]
        attrs = dict(attrs, state_outputs=False)
        out.append(Sample(ins + [fwd[0]] + heads, attrs))
    return out


register(OpDef(
    "_backward_RNN", inputs=("data", "parameters", "state", "state_cell", "sequence_length",
                             "fwd_out", "dout", "dhy", "dcy"),
    inputs_fn=_bwd_names, num_outputs=lambda a: 4 if a.mode == "lstm" else 3, params=PARAMS,
    infer_shape=_bwd_shape, infer_type=_bwd_type, forward=_backward, dtypes="numeric",
    nondiff=True, reference=_bwd_reference, samples=_bwd_samples, tol=(1e-4, 2e-5),
    bad_samples=lambda: [BadSample([np.ones((2, 1, 2), np.float32)] * 3,
                                   dict(mode="gru", state_size=2, num_layers=1),
                                   match=("input", "dhy"))],
    doc="Backpropagation through time of RNN: gradients of data, parameters and the "
        "initial states, given the forward's inputs, its output and the output gradients."))


# -- _rnn_param_concat ----------------------------------------------------------------------------
def _pc_shape(a, shapes):
    if a.dim not in (0, -1):
        fail("dim", "dim=%d: the flattened inputs are joined along axis 0 (dim must be 0)",
             a.dim)
    return [(int(sum(int(np.prod(s, dtype=np.int64)) for s in shapes)),)]


def _pc_forward(xp, a, ins, outs):
    off = 0
    o = outs[0]
    for x in ins:
        o[off:off + x.size] = x.reshape(-1)
        off += x.size


def _pc_grad(F, a, ins, outs, og):
    res = F._backward_rnn_param_concat(og[0], *ins, num_args=len(ins) + 1)
    return list(res) if len(ins) > 1 else [res]


def _pc_samples(dtype):
    return [Sample([values((4, 3), dtype), values((4, 2), dtype, seed=1),
                    values((4,), dtype, seed=2)], {"dim": 0}),
            Sample([values((5,), dtype, seed=3)], {})]


register(OpDef(
    "_rnn_param_concat", variadic="num_args",
    params={"num_args": Param("int", check=positive, doc="Number of inputs."),
            "dim": Param("int", 0, doc="Accepted for MXNet compatibility; the inputs are "
                                       "flattened and joined into one vector.")},
    infer_shape=_pc_shape, forward=_pc_forward, dtypes="float", gradient=_pc_grad,
    reference=lambda a, *xs: np.concatenate([x.reshape(-1) for x in xs]),
    samples=_pc_samples,
    doc="Join the flattened inputs into one vector (Gluon's packing of RNN weights)."))


def _pcb_shape(a, shapes):
    n = int(sum(int(np.prod(s, dtype=np.int64)) for s in shapes[1:]))
    if tuple(shapes[0]) != (n,):
        fail("ograd", "ograd has shape %s, expected (%d,) (the total size of the inputs)",
             tuple(shapes[0]), n)
    return [tuple(s) for s in shapes[1:]]


def _pcb_forward(xp, a, ins, outs):
    g, off = ins[0], 0
    for o in outs:
        o[...] = g[off:off + o.size].reshape(o.shape)
        off += o.size


def _pcb_ref(a, g, *xs):
    res, off = [], 0
    for x in xs:
        res.append(g[off:off + x.size].reshape(x.shape))
        off += x.size
    return res[0] if len(res) == 1 else tuple(res)


register(OpDef(
    "_backward_rnn_param_concat", variadic="num_args", num_outputs=lambda a: a.num_args - 1,
    params={"num_args": Param("int", check=positive, doc="1 + the number of forward inputs.")},
    infer_shape=_pcb_shape, infer_type=lambda a, t: list(t[1:]), forward=_pcb_forward,
    dtypes="float", nondiff=True, reference=_pcb_ref,
    samples=lambda dt: [Sample([values((7,), dt), values((2, 2), dt), values((3,), dt)], {})],
    bad_samples=lambda: [BadSample([np.ones(5, np.float32), np.ones((2, 2), np.float32)],
                                   {}, match=("ograd", "(5,)"))],
    doc="Gradient of _rnn_param_concat: split the vector back into the inputs' shapes."))
