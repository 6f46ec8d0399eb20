"""Kernels of the fused RNN op (nn_rnn.py): forward and backpropagation through time.

Written once against `xp`.  Per layer and direction the input projection of every time
step is ONE matrix product (T*N rows); the loop over time does one recurrent product per
step plus a handful of whole-block elementwise calls (no per-element Python).  After the
loop, the weight gradients and the input gradient are again one product each.

Packed parameter vector (MXNet's layout, as Gluon's _rnn_param_concat builds it): first
every weight, layer by layer and within a layer direction by direction (left, then
right), each as i2h (G*H, I), h2h (G*H, R) [, h2r (P, H) with a projection]; then every
bias in the same order, i2h (G*H,) and h2h (G*H,).  Gate order: LSTM i, f, g, o;
GRU r, z, n; G = 4, 3, 1.  R = projection_size or state_size.

Sigmoids are computed as 0.5 * tanh(x / 2) + 0.5: the 1/2 is folded into the gate rows
of the weights once per call, so one tanh call covers all of a step's gates.

LSTM on NumPy float arrays: each step's gate math (forward: activations, c, tanh(c), h;
backward: the gate gradients and dc) is one compiled call (csrc/kernels_rnn.cc) between
the step's NumPy matrix products, instead of about ten whole-block NumPy calls.
"""
import numpy as np

from . import native
from .nn_rnn_blas import serial_blas

GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}


class Slot:
    """Where one layer/direction's weights and biases sit in the packed vector."""
    __slots__ = ("wx", "wh", "wr", "bx", "bh", "in_size")

    def __init__(self, in_size):
        self.in_size = in_size
        self.wr = None


def param_layout(a, input_size):
    """[[Slot per direction] per layer] and the total size of the packed vector."""
    G, H, L = GATES[a.mode], a.state_size, a.num_layers
    D = 2 if a.bidirectional else 1
    P = a.projection_size or None
    R = P or H
    layers, off = [], 0
    for l in range(L):
        row, n_in = [], input_size if l == 0 else D * R
        for _ in range(D):
            s = Slot(n_in)
            s.wx = (off, (G * H, n_in))
            off += G * H * n_in
            s.wh = (off, (G * H, R))
            off += G * H * R
            if P:
                s.wr = (off, (P, H))
                off += P * H
            row.append(s)
        layers.append(row)
    for row in layers:
        for s in row:
            s.bx = (off, (G * H,))
            s.bh = (off + G * H, (G * H,))
            off += 2 * G * H
    return layers, off


def view(flat, slot_part):
    off, shape = slot_part
    return flat[off:off + int(np.prod(shape))].reshape(shape)


def _gate_scale(xp, mode, H, dtype):
    """Per gate-row factor: 1/2 on sigmoid gates (tanh trick), 1 elsewhere; and the affine
    map (mul, add) that turns tanh of the scaled pre-activation into the activations."""
    if mode == "lstm":
        s = [0.5, 0.5, 1.0, 0.5]
    elif mode == "gru":
        s = [0.5, 0.5, 1.0]
    else:
        return None, None, None
    s = xp.asarray(np.repeat(np.array(s, dtype), H))
    add = xp.asarray(np.repeat(np.array([0.5 if v == 0.5 else 0.0 for v in s[::H].tolist()],
                                        dtype), H))
    return s, s, add  # scale, mul (0.5 on sigmoid rows, 1 on tanh rows), add


def _clip(xp, a, c):
    """LSTM cell-state clipping in place; returns the mask of unclipped entries (or None)."""
    lo, hi = a.lstm_state_clip_min, a.lstm_state_clip_max
    if lo is None or hi is None:
        return None
    keep = (c >= lo) & (c <= hi)
    if a.lstm_state_clip_nan:
        c[xp.isnan(c)] = lo  # NaN states become a bound instead of spreading
    xp.clip(c, lo, hi, out=c)
    return keep


class DirRun:
    """What one direction of one layer keeps for its backward.  hs/cs (T+1, N, .) hold the
    states in processing order (index 0: the initial state); acts (T, N, G*H) the gate
    activations in time order; tc = tanh(c_t); hu the unprojected LSTM outputs; ghn the
    GRU's W_hn h + b_hn; keep the LSTM clip mask."""
    __slots__ = ("hs", "cs", "acts", "tc", "hu", "ghn", "keep", "wh", "wx", "wr")

    def prev(self, seq, reverse):
        """The state before each time step, in time order (a view)."""
        return seq[:-1][::-1] if reverse else seq[:-1]


def run_direction(xp, a, x, w, slot, h0, c0, out, reverse, mask, keep_reserve):
    """One layer/direction over all time steps.  x (T, N, I); out (T, N, R) view written
    with the outputs; returns (h_T, c_T, DirRun or None)."""
    T, N = x.shape[0], x.shape[1]
    mode, H = a.mode, a.state_size
    G = GATES[mode]
    dt = x.dtype
    scale, mul, add = _gate_scale(xp, mode, H, dt)
    wx0, wh0 = wx, wh = view(w, slot.wx), view(w, slot.wh)
    bx, bh = view(w, slot.bx), view(w, slot.bh)
    if scale is not None:
        wx, wh, bx, bh = wx * scale[:, None], wh * scale[:, None], bx * scale, bh * scale
    wr = view(w, slot.wr) if slot.wr is not None else None
    # the input projection of every step at once, written where the activations will be
    acts = xp.matmul(x.reshape(T * N, -1), wx.T).reshape(T, N, G * H)
    if mode == "gru":
        bias = bx.copy()
        bias[:2 * H] += bh[:2 * H]   # r, z: both biases; n: b_hn sits inside r * (...)
        acts += bias
        bh_n = bh[2 * H:]
    else:
        acts += bx + bh
    R = h0.shape[1]
    hs = xp.empty((T + 1, N, R), dt)
    hs[0] = h0
    cs = tc = hu = ghn = keep = None
    clip = a.lstm_state_clip_min is not None and a.lstm_state_clip_max is not None
    if mode == "lstm":
        cs = xp.empty((T + 1, N, H), dt)
        cs[0] = c0
        tc = xp.empty((T, N, H), dt)
        hu = xp.empty((T, N, H), dt) if wr is not None else None
        keep = xp.empty((T, N, H), bool) if (clip and keep_reserve) else None
        ig = xp.empty((N, H), dt)
    if mode == "gru":
        ghn = xp.empty((T, N, H), dt)
        tmp = xp.empty((N, H), dt)
    gh = xp.empty((N, G * H), dt)
    step = None
    if mode == "lstm" and native.usable(xp, acts, gh, hs, cs, tc, wh):
        step = native.kernels().lstm_step_forward
        lo, hi = (a.lstm_state_clip_min, a.lstm_state_clip_max) if clip else (None, None)
        # small batches: W_h @ h^T is the faster product (the kernel adds it transposed)
        tr = N <= 64
        if tr:
            gh = xp.empty((G * H, N), dt)
    if step is None or not tr:
        whT = xp.ascontiguousarray(wh.T)
    with serial_blas(xp):  # small per-step products: one thread (see nn_rnn_blas)
        for k in range(T):
            t = T - 1 - k if reverse else k
            g, hn = acts[t], hs[k + 1]
            if step is not None and tr:
                xp.matmul(wh, hs[k].T, out=gh)
            else:
                xp.matmul(hs[k], whT, out=gh)
            if step is not None:
                step(g, gh, cs[k], cs[k + 1], tc[t], hn if wr is None else hu[t], lo, hi,
                     a.lstm_state_clip_nan, keep[t] if keep is not None else None, tr)
                if wr is not None:
                    xp.matmul(hu[t], wr.T, out=hn)
            elif mode == "lstm":
                g += gh
                xp.tanh(g, out=g)
                g *= mul
                g += add
                cn = cs[k + 1]
                xp.multiply(g[:, H:2 * H], cs[k], out=cn)
                xp.multiply(g[:, :H], g[:, 2 * H:3 * H], out=ig)
                cn += ig
                if clip:
                    kp = _clip(xp, a, cn)
                    if keep is not None:
                        keep[t] = kp
                xp.tanh(cn, out=tc[t])
                if wr is None:
                    xp.multiply(g[:, 3 * H:], tc[t], out=hn)
                else:
                    xp.multiply(g[:, 3 * H:], tc[t], out=hu[t])
                    xp.matmul(hu[t], wr.T, out=hn)
            elif mode == "gru":
                xp.add(gh[:, 2 * H:], bh_n, out=ghn[t])
                rz = g[:, :2 * H]
                rz += gh[:, :2 * H]
                xp.tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5
                nn = g[:, 2 * H:]
                xp.multiply(g[:, :H], ghn[t], out=tmp)
                nn += tmp
                xp.tanh(nn, out=nn)
                xp.subtract(hs[k], nn, out=tmp)
                tmp *= g[:, H:2 * H]
                xp.add(nn, tmp, out=hn)
            else:
                g += gh
                if mode == "rnn_tanh":
                    xp.tanh(g, out=g)
                else:
                    xp.maximum(g, 0, out=g)
                hn[...] = g
            if mask is not None:   # finished sequences keep their state
                done = ~mask[t][:, None]
                xp.copyto(hn, hs[k], where=done)
                if mode == "lstm":
                    xp.copyto(cs[k + 1], cs[k], where=done)
    out[...] = hs[1:][::-1] if reverse else hs[1:]
    if mask is not None:
        out *= mask[:, :, None]
    rv = None
    if keep_reserve:
        rv = DirRun()
        rv.hs, rv.cs, rv.acts, rv.tc, rv.hu, rv.ghn, rv.keep = hs, cs, acts, tc, hu, ghn, keep
        rv.wh, rv.wx, rv.wr = wh0, wx0, wr  # the unscaled weights: backward's products
    return hs[T], (cs[T] if cs is not None else None), rv


def _lstm_factors(xp, acts, tc, cprev, H):
    """Per-step factors of the LSTM backward, for all steps at once (time order):
    fac_c = o * (1 - tanh(c)^2)                       (dc_t = dc + dh * fac_c)
    fac_ifg[:, :, k] = the i, f, g pre-activation gradients per unit of dc_t
                     = (g * i(1-i), c_prev * f(1-f), i * (1-g^2))
    fac_o = tanh(c) * o(1-o)                          (do_pre = dh * fac_o)"""
    T, N = acts.shape[0], acts.shape[1]
    i, f, g, o = (acts[:, :, k * H:(k + 1) * H] for k in range(4))
    fac_c = tc * tc
    xp.subtract(1, fac_c, out=fac_c)
    fac_c *= o
    fac_ifg = xp.empty((T, N, 3, H), acts.dtype)
    xp.multiply(i, 1 - i, out=fac_ifg[:, :, 0])
    fac_ifg[:, :, 0] *= g
    xp.multiply(f, 1 - f, out=fac_ifg[:, :, 1])
    fac_ifg[:, :, 1] *= cprev
    xp.multiply(g, g, out=fac_ifg[:, :, 2])
    xp.subtract(1, fac_ifg[:, :, 2], out=fac_ifg[:, :, 2])
    fac_ifg[:, :, 2] *= i
    fac_o = 1 - o
    fac_o *= o
    fac_o *= tc
    return fac_c, fac_ifg, fac_o


def backward_direction(xp, a, x, w, slot, rv, dout, dh, dc, reverse, mask, dw, dx):
    """BPTT of one layer/direction.  dout (T, N, R) gradient of its outputs; dh/dc the
    gradients of its final states.  Adds the input gradient into dx (T, N, I), writes the
    weight/bias gradients into the packed gradient vector dw; returns (dh0, dc0)."""
    T, N = x.shape[0], x.shape[1]
    mode, H = a.mode, a.state_size
    G = GATES[mode]
    dt = x.dtype
    wh, wx, wr = rv.wh, rv.wx, rv.wr
    acts = rv.acts
    hprev = rv.prev(rv.hs, reverse)
    cprev = rv.prev(rv.cs, reverse) if mode == "lstm" else None
    dgx = xp.empty((T, N, G * H), dt)          # d pre-activation (input side)
    dghn = xp.empty((T, N, H), dt) if mode == "gru" else None
    dR = xp.empty((T, N, wr.shape[0]), dt) if wr is not None else None
    dh = xp.array(dh, dtype=dt)
    dc = xp.array(dc, dtype=dt) if mode == "lstm" else None
    t1 = xp.empty((N, H), dt)
    dht = xp.empty(dh.shape, dt)
    step = None
    if mode == "lstm" and mask is None and native.usable(xp, acts, rv.tc, rv.cs, dgx, dh, dc):
        step = native.kernels().lstm_step_backward
        dout_rows = wr is None and dout.dtype == dt and native.usable(xp, dout)
        dh_next = xp.empty(dh.shape, dt)
    elif mode == "lstm":
        fac_c, fac_ifg, fac_o = _lstm_factors(xp, acts, rv.tc, cprev, H)
        dgx4 = dgx.reshape(T, N, 4, H)
    with serial_blas(xp):  # small per-step products: one thread (see nn_rnn_blas)
        for k in range(T - 1, -1, -1):
            t = T - 1 - k if reverse else k
            g, d = acts[t], dgx[t]
            if step is not None:
                kp = rv.keep[t] if rv.keep is not None else None
                if dout_rows:
                    step(g, rv.tc[t], cprev[t], dh, dout[t], dc, kp, d)
                else:
                    xp.add(dh, dout[t], out=dht)
                    if wr is not None:
                        dR[t] = dht
                        step(g, rv.tc[t], cprev[t], xp.matmul(dht, wr), None, dc, kp, d)
                    else:
                        step(g, rv.tc[t], cprev[t], dht, None, dc, kp, d)
                xp.matmul(d, wh, out=dh_next)
                dh, dh_next = dh_next, dh
                continue
            xp.add(dh, dout[t], out=dht)
            if mask is not None:
                m = mask[t][:, None]
                dht *= m
            if mode == "lstm":
                dhu = dht
                if wr is not None:
                    dR[t] = dht
                    dhu = xp.matmul(dht, wr)
                # dc_t = dc + dh * o * (1 - tanh(c)^2); pre-activation grads from the
                # per-step factors computed before the loop (_lstm_factors)
                dcn = xp.multiply(fac_c[t], dhu, out=t1)
                dcn += dc * m if mask is not None else dc
                if rv.keep is not None:
                    dcn *= rv.keep[t]
                d4 = dgx4[t]
                xp.multiply(dcn[:, None, :], fac_ifg[t], out=d4[:, :3])
                xp.multiply(dhu, fac_o[t], out=d4[:, 3])
                if mask is not None:
                    dc = dcn * g[:, H:2 * H] + dc * (1 - m)
                else:
                    xp.multiply(dcn, g[:, H:2 * H], out=dc)
                dhp = xp.matmul(d, wh)
            elif mode == "gru":
                r, z, nn = g[:, :H], g[:, H:2 * H], g[:, 2 * H:]
                dn = dht * (1 - z)
                dan = xp.multiply(dn, 1 - nn * nn, out=d[:, 2 * H:])
                xp.multiply(dan * rv.ghn[t], r * (1 - r), out=d[:, :H])
                xp.multiply(dht * (hprev[t] - nn), z * (1 - z), out=d[:, H:2 * H])
                xp.multiply(dan, r, out=dghn[t])
                dhp = dht * z
                dhp += xp.matmul(d[:, :2 * H], wh[:2 * H])
                dhp += xp.matmul(dghn[t], wh[2 * H:])
            else:
                if mode == "rnn_tanh":
                    xp.multiply(dht, 1 - g * g, out=d)
                else:
                    xp.multiply(dht, g > 0, out=d)
                dhp = xp.matmul(d, wh)
            if mask is not None:
                dhp += dh * (1 - m)
            dh = dhp
    TN = T * N
    d2 = dgx.reshape(TN, G * H)
    x2 = x.reshape(TN, -1)
    hp2 = hprev.reshape(TN, -1)
    dx += xp.matmul(d2, wx).reshape(dx.shape)
    gwx = xp.matmul(d2.T, x2)
    bsum = d2.sum(axis=0)
    if mode == "gru":
        dh2 = xp.concatenate([dgx[:, :, :2 * H], dghn], axis=2).reshape(TN, G * H)
        gwh = xp.matmul(dh2.T, hp2)
        bsum_h = dh2.sum(axis=0)
    else:
        gwh = xp.matmul(d2.T, hp2)
        bsum_h = bsum
    view(dw, slot.wx)[...] = gwx
    view(dw, slot.wh)[...] = gwh
    view(dw, slot.bx)[...] = bsum
    view(dw, slot.bh)[...] = bsum_h
    if wr is not None:
        view(dw, slot.wr)[...] = xp.matmul(dR.reshape(TN, -1).T, rv.hu.reshape(TN, H))
    return dh, dc
