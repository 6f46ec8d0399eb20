"""Generate tests/fixtures/ops/contrib_deform.npz with the real MXNet 1.9.1 (the anchor):
forward outputs and gradients (for a fixed head gradient) of _contrib_DeformableConvolution
and _contrib_ModulatedDeformableConvolution, and of the gluon.contrib.cnn layers.
Run: /tmp/plait-anchors/mxnet/bin/python tools/make_deform_fixtures.py

Keys are '<case>/<name>'; each case's attributes are '<case>/attrs', a JSON string in a 0-d
unicode array (the file loads without pickle).

MXNet's CPU build has no backward for the modulated op ("only implemented in GPU"), so
its gradients here come from MXNet's autograd through `modulated_composite`, the op
spelled out in MXNet ndarray ops (floor, comparisons, gather_nd, batch_dot) after the GPU
kernels' rules; the script first checks that composite's forward against MXNet's op on
every case ('grad_source' in the attrs says which cases these are).
"""
import json
import os

import mxnet as mx
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "ops",
                   "contrib_deform.npz")
r = np.random.default_rng(7)
store = {}


def rnd(*shape, lo=-1.0, hi=1.0):
    return r.uniform(lo, hi, shape)


def out_hw(ds, at):
    k, s = at["kernel"], at.get("stride", (1, 1))
    p, d = at.get("pad", (0, 0)), at.get("dilate", (1, 1))
    return tuple((ds[2 + a] + 2 * p[a] - d[a] * (k[a] - 1) - 1) // s[a] + 1 for a in (0, 1))


def offsets(ds, at, spread, special):
    """Random offsets in [-spread, spread], a quarter of them whole numbers (points on the
    pixel grid); with `special`, taps land on the edges: -1, -0.5, 0, H-1, H-0.5, H, ..."""
    k, dg = at["kernel"], at.get("num_deformable_group", 1)
    oh, ow = out_hw(ds, at)
    K = k[0] * k[1]
    off = rnd(ds[0], dg, K, 2, oh, ow, lo=-spread, hi=spread)
    whole = r.random(off.shape) < 0.25
    off[whole] = np.round(off[whole])
    if special:
        s, d, p = at.get("stride", (1, 1)), at.get("dilate", (1, 1)), at.get("pad", (0, 0))
        ti, tj = np.divmod(np.arange(K), k[1])
        for a, (size, taps) in enumerate(((ds[2], ti), (ds[3], tj))):
            o = np.arange((oh, ow)[a])
            base = o[None, :] * s[a] - p[a] + taps[:, None] * d[a]          # (K, out)
            base = base[:, :, None] if a == 0 else base[:, None, :]
            targets = np.array([-1.0, -0.5, -0.25, 0.0, size - 1.0, size - 0.5, size - 0.25,
                                float(size), size + 0.5, 1.0, 1.5])
            pick = targets[r.integers(0, len(targets), off[:, :, :, a].shape)]
            special_mask = r.random(pick.shape) < 0.5
            off[:, :, :, a] = np.where(special_mask, pick - base, off[:, :, :, a])
    return off.reshape(ds[0], dg * 2 * K, oh, ow)


def modulated_composite(F, x, off, mask, w, b, at):
    """ModulatedDeformableConvolution from MXNet ndarray ops (differentiable by autograd)."""
    N, C, H, W = x.shape
    (kh, kw), s = at["kernel"], at.get("stride", (1, 1))
    p, d = at.get("pad", (0, 0)), at.get("dilate", (1, 1))
    G, dg = at.get("num_group", 1), at.get("num_deformable_group", 1)
    K = kh * kw
    oh, ow = off.shape[2:]
    M = K * oh * ow
    ti, tj = np.divmod(np.arange(K), kw)
    base_h = (np.arange(oh) * s[0] - p[0])[None, :, None] + (ti * d[0])[:, None, None]
    base_w = (np.arange(ow) * s[1] - p[1])[None, None, :] + (tj * d[1])[:, None, None]
    dt = x.dtype
    o = off.reshape((N, dg, K, 2, oh, ow))
    h = F.broadcast_add(F.slice_axis(o, axis=3, begin=0, end=1).reshape((N, dg, K, oh, ow)),
                        F.array(np.broadcast_to(base_h, (K, oh, ow))[None, None], dtype=dt))
    v = F.broadcast_add(F.slice_axis(o, axis=3, begin=1, end=2).reshape((N, dg, K, oh, ow)),
                        F.array(np.broadcast_to(base_w, (K, oh, ow))[None, None], dtype=dt))
    h, v = h.reshape((N, dg, M)), v.reshape((N, dg, M))
    h0, v0 = F.floor(h), F.floor(v)
    lh, lv = h - h0, v - v0
    valid = (h > -1) * (h < H) * (v > -1) * (v < W)
    cg = C // dg
    xr = x.reshape((N, dg, cg, H * W))
    grid = np.meshgrid(np.arange(N), np.arange(dg), np.arange(cg), np.arange(M), indexing="ij")
    cols = 0
    for a in (0, 1):
        for c in (0, 1):
            rr, cc = h0 + a, v0 + c
            inside = (rr >= 0) * (rr <= H - 1) * (cc >= 0) * (cc <= W - 1)
            flat = (F.clip(rr, 0, H - 1) * W + F.clip(cc, 0, W - 1)).detach()
            flat = F.broadcast_to(flat.reshape((N, dg, 1, M)), (N, dg, cg, M))
            idx = F.stack(F.array(grid[0]), F.array(grid[1]), F.array(grid[2]),
                          flat.astype("float32"), axis=0)
            vals = F.gather_nd(xr, idx)
            wgt = (lh if a else 1 - lh) * (lv if c else 1 - lv) * inside * valid
            cols = cols + F.broadcast_mul(vals, wgt.reshape((N, dg, 1, M)))
    cols = F.broadcast_mul(cols.reshape((N, dg, cg, K, oh * ow)),
                           mask.reshape((N, dg, 1, K, oh * ow)))
    cols = cols.reshape((N, G, C // G * K, oh * ow))
    F_out = w.shape[0]
    wg = w.reshape((G, F_out // G, -1))
    outs = []
    for g in range(G):
        cg_ = F.slice_axis(cols, axis=1, begin=g, end=g + 1).reshape((N, -1, oh * ow))
        wb = F.broadcast_to(F.slice_axis(wg, axis=0, begin=g, end=g + 1), (N,) + wg.shape[1:])
        outs.append(F.batch_dot(wb, cg_))
    out = F.concat(*outs, dim=1).reshape((N, F_out, oh, ow))
    if b is not None:
        out = F.broadcast_add(out, b.reshape((1, -1, 1, 1)))
    return out


def op_case(name, modulated, ds, F_out, at, spread=2.0, special=False,
            dtypes=("float64", "float32")):
    at = dict(at, num_filter=F_out)
    G, dg = at.get("num_group", 1), at.get("num_deformable_group", 1)
    K = at["kernel"][0] * at["kernel"][1]
    oh, ow = out_hw(ds, at)
    ins = [rnd(*ds), offsets(ds, at, spread, special)]
    if modulated:
        ins.append(rnd(ds[0], dg * K, oh, ow, lo=0.0, hi=2.0))
    ins.append(rnd(F_out, ds[1] // G, *at["kernel"]))
    if not at.get("no_bias"):
        ins.append(rnd(F_out))
    head = rnd(ds[0], F_out, oh, ow)
    op = "ModulatedDeformableConvolution" if modulated else "DeformableConvolution"
    store[name + "/attrs"] = np.array(json.dumps(dict(
        attrs=at, op="_contrib_" + op, dtypes=list(dtypes), n_in=len(ins),
        grad_source="composite" if modulated else "op")))
    for i, a in enumerate(ins):  # float64; the float32 runs take them cast
        store["%s/in%d" % (name, i)] = a
    store[name + "/head"] = head
    for dt in dtypes:
        nds = [mx.nd.array(a, dtype=dt) for a in ins]
        for a in nds:
            a.attach_grad()
        y = getattr(mx.nd.contrib, op)(*nds, **at)
        if modulated:
            bias = None if at.get("no_bias") else nds[4]
            with mx.autograd.record():
                yc = modulated_composite(mx.nd, nds[0], nds[1], nds[2], nds[3], bias, at)
            tol = 1e-12 if dt == "float64" else 1e-5
            np.testing.assert_allclose(yc.asnumpy(), y.asnumpy(), rtol=tol, atol=tol,
                                       err_msg=name + ": composite forward")
            yc.backward(mx.nd.array(head, dtype=dt))
        else:
            with mx.autograd.record():
                y = getattr(mx.nd.contrib, op)(*nds, **at)
            y.backward(mx.nd.array(head, dtype=dt))
        for i, a in enumerate(nds):
            store["%s/%s/grad%d" % (name, dt, i)] = a.grad.asnumpy()
        store["%s/%s/out" % (name, dt)] = y.asnumpy()


for mod, tag in ((False, "dcn"), (True, "mdcn")):
    op_case(tag + "_basic", mod, (2, 3, 5, 4), 4, {"kernel": (3, 3), "pad": (1, 1)})
    op_case(tag + "_groups", mod, (1, 4, 6, 5), 4,
            {"kernel": (3, 2), "stride": (2, 2), "dilate": (2, 1), "pad": (2, 1),
             "num_group": 2, "num_deformable_group": 2, "no_bias": True}, spread=3.0)
    op_case(tag + "_edges", mod, (2, 2, 4, 5), 3, {"kernel": (2, 2), "pad": (1, 0)},
            special=True)
    op_case(tag + "_dg3", mod, (2, 6, 4, 4), 3,
            {"kernel": (2, 2), "num_deformable_group": 3},
            spread=1.5, special=True)
op_case("mdcn_step", True, (4, 2, 3, 3), 2, {"kernel": (2, 2), "im2col_step": 2})


# -- gluon.contrib.cnn layers with fixed parameters --------------------------------------------
def layer_case(name, cls, ctor, x_shape):
    from mxnet.gluon.contrib import cnn
    with mx.name.NameManager():  # fresh counters: the first layer of its kind
        net = getattr(cnn, cls)(**ctor)
    net.initialize()
    x = mx.nd.array(rnd(*x_shape))
    net(x)  # finishes the deferred initialisation
    params = net.collect_params()
    names = list(params.keys())
    values = {}
    for n, p in params.items():
        scale = 0.3 if "offset" in n else 1.0  # offsets of a few pixels, some outside
        values[n] = rnd(*p.shape) * scale
        p.set_data(mx.nd.array(values[n]))
    head = rnd(*net(x).shape)
    x.attach_grad()
    modulated = cls.startswith("Modulated")
    with mx.autograd.record():
        if modulated:  # MXNet's CPU op has no backward: the layer spelled out (see above)
            kw_off, kw = net._kwargs_offset, net._kwargs_deformable_conv
            pv = {n[len(net.prefix):]: p.data() for n, p in params.items()}
            off = mx.nd.Convolution(x, pv["offset_weight"], pv["offset_bias"], **kw_off)
            split = net.offset_split_index
            off_t = mx.nd.slice_axis(off, axis=1, begin=0, end=split)
            mask = mx.nd.sigmoid(mx.nd.slice_axis(off, axis=1, begin=split, end=None)) * 2
            y = modulated_composite(mx.nd, x, off_t, mask, pv["deformable_conv_weight"],
                                    pv["deformable_conv_bias"], kw)
            if net.act:
                y = net.act(y)
        else:
            y = net(x)
    y.backward(mx.nd.array(head))
    np.testing.assert_allclose(y.asnumpy(), net(x).asnumpy(), rtol=1e-5, atol=1e-5)
    store[name + "/attrs"] = np.array(json.dumps(dict(
        cls=cls, ctor=ctor, names=names, prefix=net.prefix,
        shapes={n: list(p.shape) for n, p in params.items()},
        grad_source="composite" if modulated else "layer")))
    store[name + "/x"] = x.asnumpy()
    store[name + "/head"] = head
    store[name + "/out"] = y.asnumpy()
    store[name + "/grad_x"] = x.grad.asnumpy()
    for n, p in params.items():  # keyed by the name after the layer's prefix
        store["%s/param/%s" % (name, n[len(net.prefix):])] = values[n].astype(np.float32)
        store["%s/grad/%s" % (name, n[len(net.prefix):])] = p.grad().asnumpy()


layer_case("gluon_dcn", "DeformableConvolution",
           dict(channels=4, kernel_size=3, padding=1, num_deformable_group=1), (2, 3, 5, 4))
layer_case("gluon_mdcn", "ModulatedDeformableConvolution",
           dict(channels=6, kernel_size=(3, 2), strides=2, padding=(1, 0), groups=1,
                num_deformable_group=3, in_channels=3, activation="relu"), (2, 3, 5, 5))

np.savez_compressed(OUT, **store)
print("wrote", OUT, len(store), "arrays")
