"""The fused RNN operator (MXNet's rnn.cc): multi-layer, optionally bidirectional
Elman (rnn_relu / rnn_tanh), LSTM (optionally projected, optionally cell-clipped) and GRU.

Inputs (time-major): data (T, N, I), parameters (the packed vector, see
nn_rnn_kernels), state (L*D, N, R), state_cell (L*D, N, H; lstm only), sequence_length
(N,; only with use_sequence_length).  Outputs: out (T, N, D*R) and, with state_outputs,
hy (L*D, N, R) and cy (L*D, N, H; lstm).  R = projection_size or state_size.
Dropout with probability p is applied, in training, to every layer's output except the
last one's.  With use_sequence_length, steps at or past an element's length leave its
state unchanged and output zeros (the reverse direction starts at its last valid step).

Backward: the forward in training keeps what BPTT needs (activations, states, dropout
masks) in a small cache keyed by its output buffer, the hidden `_backward_RNN` op finds it
there (checking the output still holds what the forward wrote) or recomputes the forward.
"""
import threading
from collections import OrderedDict

import numpy as np

from ..base import PlaitError, fail
from . import nn_rnn_kernels as K
from .params import Param, positive

_MODES = ("gru", "lstm", "rnn_relu", "rnn_tanh")


def _p_check(v):
    return None if 0.0 <= v < 1.0 else "must be in [0, 1)"


PARAMS = {
    "state_size": Param("int", doc="Size of the state of each layer.", check=positive),
    "num_layers": Param("int", doc="Number of stacked layers.", check=positive),
    "bidirectional": Param("bool", False, doc="Whether the layers are bidirectional."),
    "mode": Param("str", doc="The type of RNN.", choices=_MODES),
    "p": Param("float", 0.0, doc="Dropout rate on every layer's output but the last's "
                                 "(in training).", check=_p_check),
    "state_outputs": Param("bool", False, doc="Also output the final states."),
    "projection_size": Param("int", None, doc="LSTM projection size.", optional=True,
                             check=lambda v: None if v is None or v > 0 else "must be >= 1"),
    "lstm_state_clip_min": Param("float", None, doc="Minimum of the LSTM cell state.",
                                 optional=True),
    "lstm_state_clip_max": Param("float", None, doc="Maximum of the LSTM cell state.",
                                 optional=True),
    "lstm_state_clip_nan": Param("bool", False, doc="Clip NaN cell states to the minimum."),
    "use_sequence_length": Param("bool", False, doc="Take a sequence_length input (N,)."),
}


def _in_names(a):
    names = ["data", "parameters", "state"]
    if a.mode == "lstm":
        names.append("state_cell")
    if a.use_sequence_length:
        names.append("sequence_length")
    return names


def _n_out(a):
    return 1 if not a.state_outputs else (3 if a.mode == "lstm" else 2)


def _dims(a):
    D = 2 if a.bidirectional else 1
    R = a.projection_size or a.state_size
    return D, R


def param_size(a, input_size):
    """Length of the packed parameter vector for `input_size` input features."""
    return K.param_layout(a, input_size)[1]


def _check_attrs(a):
    if a.projection_size and a.mode != "lstm":
        fail("projection_size", "projection_size=%d is only supported with mode='lstm', "
             "not %r", a.projection_size, a.mode)
    if (a.lstm_state_clip_min is None) != (a.lstm_state_clip_max is None):
        fail("lstm_state_clip_min", "lstm_state_clip_min and lstm_state_clip_max must be "
             "given together (got %s, %s)", a.lstm_state_clip_min, a.lstm_state_clip_max)


def _state_shapes(a, ds):
    D, R = _dims(a)
    return (a.num_layers * D, ds[1], R), (a.num_layers * D, ds[1], a.state_size)


def _placeholder(shape, want):
    """MXNet's begin state in an exported graph: zeros of shape (L*D, 0, R), the 0 batch
    dimension left for its shape inference to fill.  Read as zeros of the right batch."""
    s = tuple(shape)
    return len(s) == 3 and s[1] == 0 and s[0] == want[0] and s[2] == want[2]


def _zero_fill(xp, state, n, dtype):
    """An empty placeholder state -> zeros with batch n (see _placeholder)."""
    if state is None or state.shape[1] == n:
        return state
    return xp.zeros((state.shape[0], n, state.shape[2]), dtype)


def _shape(a, shapes):
    _check_attrs(a)
    names = _in_names(a)
    if len(shapes) != len(names):
        fail("input", "expected %d inputs (%s) for mode=%r, use_sequence_length=%s, got %d",
             len(names), ", ".join(names), a.mode, a.use_sequence_length, len(shapes))
    ds = tuple(shapes[0])
    if len(ds) != 3:
        fail("data", "data must be 3-D (seq_len, batch, input_size), got shape %s", ds)
    want = {"parameters": (param_size(a, ds[2]),)}
    want["state"], want["state_cell"] = _state_shapes(a, ds)
    want["sequence_length"] = (ds[1],)
    for n, s in zip(names[1:], shapes[1:]):
        if n in ("state", "state_cell") and _placeholder(s, want[n]):
            continue
        if tuple(s) != want[n]:
            fail(n, "%s has shape %s, expected %s for data of shape %s (mode=%s, state_size=%d,"
                 " num_layers=%d, bidirectional=%s)", n, tuple(s), want[n], ds, a.mode,
                 a.state_size, a.num_layers, a.bidirectional)
    D, R = _dims(a)
    outs = [(ds[0], ds[1], D * R)]
    if a.state_outputs:
        outs.append(want["state"])
        if a.mode == "lstm":
            outs.append(want["state_cell"])
    return outs


def _type(a, types):
    names = _in_names(a)
    t0 = types[0]
    if t0.kind != "f":
        fail("data", "dtype %s is not supported (floating point only)", t0.name)
    for n, t in zip(names[1:], types[1:]):
        if n != "sequence_length" and t != t0:
            fail(n, "dtype %s does not match the data's dtype %s", t.name, t0.name)
    return [t0] * _n_out(a)


def _fill_inputs(a, ins, outs):
    """Graph inference: the parameter vector and state shapes follow from the data's."""
    d = ins[0]
    if d is None or len(d) != 3:
        return ins
    res = [d, (param_size(a, d[2]),)]
    st, sc = _state_shapes(a, d)
    res.append(st)
    if a.mode == "lstm":
        res.append(sc)
    if a.use_sequence_length:
        res.append((d[1],))
    return res


# -- the reserve cache ----------------------------------------------------------------------------
_CACHE = OrderedDict()  # key -> (out, fingerprint, reserve, nbytes)
_LOCK = threading.Lock()
_CACHE_BYTES = 256 << 20  # reserves kept for backward; LRU beyond this
_CACHE_ENTRIES = 64


def _ptr(xp, arr):
    return arr.ctypes.data if xp is np else arr.data.ptr


def _key(xp, out, x, w):
    return (_ptr(xp, out), out.shape, x.shape, w.shape, out.dtype.str)


def _fingerprint(out):
    return out[0].copy(), out[-1].copy()


def _stash(xp, out, x, w, reserve, nbytes):
    with _LOCK:
        key = _key(xp, out, x, w)
        _CACHE.pop(key, None)
        _CACHE[key] = (out, _fingerprint(out), reserve, nbytes)
        total = sum(e[3] for e in _CACHE.values())
        while (total > _CACHE_BYTES or len(_CACHE) > _CACHE_ENTRIES) and len(_CACHE) > 1:
            total -= _CACHE.popitem(last=False)[1][3]


def _lookup(xp, out, x, w):
    with _LOCK:
        e = _CACHE.get(_key(xp, out, x, w))
    if e is None:
        return None
    f0, f1 = e[1]
    if not (xp.array_equal(out[0], f0) and xp.array_equal(out[-1], f1)):
        return None
    return e[2]


def _demote(xp, out, x, w):
    """After the backward, keep only what a second backward (retain_graph) cannot
    recompute: the dropout masks.  Without dropout the entry goes."""
    with _LOCK:
        key = _key(xp, out, x, w)
        e = _CACHE.pop(key, None)
        if e is None or all(r[2] is None for r in e[2]):
            return
        masks = [(None, None, r[2]) for r in e[2]]
        _CACHE[key] = (e[0], e[1], masks, sum(r[2].nbytes for r in e[2] if r[2] is not None))


def clear_cache():
    with _LOCK:
        _CACHE.clear()


# -- kernels --------------------------------------------------------------------------------------
def _split(a, ins):
    names = _in_names(a)
    d = dict(zip(names, ins))
    return d["data"], d["parameters"], d["state"], d.get("state_cell"), d.get("sequence_length")


def _seq_mask(xp, a, seqlen, T):
    if not a.use_sequence_length:
        return None
    return xp.arange(T)[:, None] < xp.asarray(seqlen).astype(np.int64)[None, :]


def run_forward(xp, a, x, w, h0, c0, seqlen, out, hy, cy, train, keep, masks=None):
    """The whole stack; returns the reserve (list per layer of (input, [DirRun], drop mask))
    when keep, else None.  `masks`: the dropout masks of an earlier run, reused."""
    T = x.shape[0]
    D, R = _dims(a)
    layers, _ = K.param_layout(a, x.shape[2])
    mask = _seq_mask(xp, a, seqlen, T)
    reserve, layer_in = [], x
    for l, row in enumerate(layers):
        last = l == len(layers) - 1
        y = out if last else xp.empty((T, x.shape[1], D * R), x.dtype)
        runs = []
        for d, slot in enumerate(row):
            k = l * D + d
            h, c, rv = K.run_direction(xp, a, layer_in, w, slot, h0[k],
                                       c0[k] if c0 is not None else None,
                                       y[:, :, d * R:(d + 1) * R], d == 1, mask, keep)
            hy[k] = h
            if cy is not None:
                cy[k] = c
            runs.append(rv)
        drop = masks[l] if masks is not None else None
        if drop is None and not last and train and a.p > 0:
            from .. import rng
            drop = (rng.generator(xp).random(y.shape) >= a.p).astype(x.dtype)
            drop *= x.dtype.type(1.0 / (1.0 - a.p))
        reserve.append((layer_in, runs, drop))
        if not last:
            layer_in = y * drop if drop is not None else y
    return reserve if keep else None


def _forward(xp, a, ins, outs):
    x, w, h0, c0, seqlen = _split(a, ins)
    h0, c0 = _zero_fill(xp, h0, x.shape[1], x.dtype), _zero_fill(xp, c0, x.shape[1], x.dtype)
    D, R = _dims(a)
    L = a.num_layers
    n_s = (L * D, x.shape[1])
    hy = outs[1] if a.state_outputs else xp.empty(n_s + (R,), x.dtype)
    cy = None
    if a.mode == "lstm":
        cy = outs[2] if a.state_outputs else xp.empty(n_s + (a.state_size,), x.dtype)
    train = bool(a.get("__is_train__", False))
    reserve = run_forward(xp, a, x, w, h0, c0, seqlen, outs[0], hy, cy, train, train)
    if train and x.shape[0] > 0:
        nbytes = sum(getattr(v, "nbytes", 0) for _, runs, _ in reserve for rv in runs
                     for v in (rv.hs, rv.cs, rv.acts, rv.tc, rv.hu, rv.ghn))
        _stash(xp, outs[0], x, w, reserve, nbytes)


def _backward(xp, a, ins, outs):
    names = _in_names(a)
    nf = len(names)
    x, w, h0, c0, seqlen = _split(a, ins[:nf])
    out, dout, dhy = ins[nf], ins[nf + 1], ins[nf + 2]
    dcy = ins[nf + 3] if a.mode == "lstm" else None
    N = x.shape[1]
    h0, c0 = _zero_fill(xp, h0, N, x.dtype), _zero_fill(xp, c0, N, x.dtype)
    dhy, dcy = _zero_fill(xp, dhy, N, x.dtype), _zero_fill(xp, dcy, N, x.dtype)
    reserve = _lookup(xp, out, x, w) if x.shape[0] > 0 else None
    masks = None
    if reserve is not None and reserve[0][1] is None:   # a used entry: dropout masks only
        masks, reserve = [r[2] for r in reserve], None
    if reserve is None:
        if a.p > 0 and a.num_layers > 1 and masks is None:
            raise PlaitError("the forward's dropout masks are no longer cached (too many RNN "
                             "calls between forward and backward, or the output was "
                             "overwritten); cannot differentiate with p=%g" % a.p,
                             op="_backward_RNN")
        D, R = _dims(a)
        n_s = (a.num_layers * D, x.shape[1])
        tmp_out = xp.empty(out.shape, x.dtype)
        hy = xp.empty(n_s + (R,), x.dtype)
        cy = xp.empty(n_s + (a.state_size,), x.dtype) if a.mode == "lstm" else None
        reserve = run_forward(xp, a, x, w, h0, c0, seqlen, tmp_out, hy, cy, False, True,
                              masks)
    elif x.shape[0] > 0:
        _demote(xp, out, x, w)
    D, R = _dims(a)
    layers, _ = K.param_layout(a, x.shape[2])
    mask = _seq_mask(xp, a, seqlen, x.shape[0])
    dx_out, dw_out, dh_out = outs[0], outs[1], outs[2]
    dc_out = outs[3] if a.mode == "lstm" else None
    dY = dout
    for l in range(len(layers) - 1, -1, -1):
        layer_in, runs, drop = reserve[l]
        dx = xp.zeros(layer_in.shape, x.dtype)
        for d, slot in enumerate(layers[l]):
            k = l * D + d
            dh0, dc0 = K.backward_direction(xp, a, layer_in, w, slot, runs[d],
                                            dY[:, :, d * R:(d + 1) * R], dhy[k],
                                            dcy[k] if dcy is not None else None,
                                            d == 1, mask, dw_out, dx)
            if dh_out.shape[1] == N:   # (a placeholder state has an empty gradient)
                dh_out[k] = dh0
            if dc_out is not None and dc_out.shape[1] == N:
                dc_out[k] = dc0
        dY = dx * drop if (l > 0 and drop is not None) else dx
    dx_out[...] = dY


# -- reference (plain per-step formulas, float64) -----------------------------------------------
def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def reference_rnn(a, x, w, h0, c0=None, seqlen=None):
    """An independent, unoptimised implementation: (out, hy[, cy]) as float64 arrays."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    T, N = x.shape[:2]
    layers, _ = K.param_layout(a, x.shape[2])
    D, R = _dims(a)
    H = a.state_size
    hy, cy = np.zeros((h0.shape[0], N, R)), np.zeros((h0.shape[0], N, H))
    inp = x
    for l, row in enumerate(layers):
        outs = []
        for d, s in enumerate(row):
            Wx, Wh = K.view(w, s.wx), K.view(w, s.wh)
            bx, bh = K.view(w, s.bx), K.view(w, s.bh)
            Wr = K.view(w, s.wr) if s.wr is not None else None
            h = _zero_fill(np, h0, N, np.float64)[l * D + d].astype(np.float64)
            c = (_zero_fill(np, c0, N, np.float64)[l * D + d].astype(np.float64)
                 if c0 is not None else None)
            o = np.zeros((T, N, R))
            for t in (range(T - 1, -1, -1) if d == 1 else range(T)):
                gx, gh = inp[t] @ Wx.T + bx, h @ Wh.T + bh
                if a.mode == "lstm":
                    i, f, g, og = np.split(gx + gh, 4, axis=1)
                    cn = _sig(f) * c + _sig(i) * np.tanh(g)
                    if a.lstm_state_clip_min is not None:
                        cn = np.clip(cn, a.lstm_state_clip_min, a.lstm_state_clip_max)
                    hn = _sig(og) * np.tanh(cn)
                    if Wr is not None:
                        hn = hn @ Wr.T
                elif a.mode == "gru":
                    xr, xz, xn = np.split(gx, 3, axis=1)
                    hr, hz, hn_ = np.split(gh, 3, axis=1)
                    r, z = _sig(xr + hr), _sig(xz + hz)
                    n = np.tanh(xn + r * hn_)
                    hn = (1 - z) * n + z * h
                else:
                    v = gx + gh
                    hn = np.tanh(v) if a.mode == "rnn_tanh" else np.maximum(v, 0)
                valid = np.ones((N, 1), bool) if seqlen is None else (t < seqlen)[:, None]
                o[t] = np.where(valid, hn, 0)
                h = np.where(valid, hn, h)
                if c is not None:
                    c = np.where(valid, cn, c)
            outs.append(o)
            hy[l * D + d] = h
            if c is not None:
                cy[l * D + d] = c
        inp = np.concatenate(outs, axis=2)
    return (inp, hy, cy) if a.mode == "lstm" else (inp, hy)


def _reference(a, *ins):
    x, w, h0, c0, seqlen = _split(a, ins)
    res = reference_rnn(a, x, w, h0, c0, seqlen)
    res = [r.astype(x.dtype) for r in res][:_n_out(a)]
    return res[0] if len(res) == 1 else tuple(res)


from . import nn_rnn_defs  # noqa: E402,F401  (the OpDefs: RNN, _backward_RNN, _rnn_param_concat)
