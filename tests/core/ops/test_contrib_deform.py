"""_contrib_DeformableConvolution / _contrib_ModulatedDeformableConvolution against MXNet
1.9.1 fixtures (tools/make_deform_fixtures.py): forward and every input's gradient,
imperatively and through a bound Symbol; plus what the generic suite cannot see.

The modulated op's gradient fixtures come from MXNet's autograd through the op spelled out
in MXNet ops (MXNet's CPU build has no backward for it), whose forward the fixture script
checks against MXNet's op."""
import json
import os

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "ops",
                       "contrib_deform.npz")
with np.load(FIXTURE, allow_pickle=False) as _z:
    DATA = {k: _z[k] for k in _z.files}
CASES = sorted(k[:-len("/attrs")] for k in DATA if k.endswith("/attrs")
               and not k.startswith("gluon"))
RUNS = [(c, dt) for c in CASES for dt in json.loads(str(DATA[c + "/attrs"]))["dtypes"]]
TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-5, atol=2e-5)}
DCN_NAMES = ("data", "offset", "weight", "bias")
MDCN_NAMES = ("data", "offset", "mask", "weight", "bias")


def _case(name, dt):
    m = json.loads(str(DATA[name + "/attrs"]))
    ins = [DATA["%s/in%d" % (name, i)].astype(dt) for i in range(m["n_in"])]
    want = [DATA["%s/%s/grad%d" % (name, dt, i)] for i in range(m["n_in"])]
    return m, ins, DATA[name + "/head"].astype(dt), DATA["%s/%s/out" % (name, dt)], want


def _fn(api, op):
    return getattr(api.contrib, op[len("_contrib_"):])


@pytest.mark.parametrize("name,dt", RUNS, ids=["%s-%s" % r for r in RUNS])
def test_imperative_matches_mxnet(name, dt):
    m, ins, head, out, grads = _case(name, dt)
    nds = [mx.nd.array(a, dtype=dt) for a in ins]
    for a in nds:
        a.attach_grad()
    with mx.autograd.record():
        y = _fn(mx.nd, m["op"])(*nds, **m["attrs"])
    y.backward(mx.nd.array(head, dtype=dt))
    assert y.dtype == np.dtype(dt)
    np.testing.assert_allclose(y.asnumpy(), out, err_msg="output", **TOL[dt])
    for i, (a, g) in enumerate(zip(nds, grads)):
        np.testing.assert_allclose(a.grad.asnumpy(), g, err_msg="gradient of input %d" % i,
                                   **TOL[dt])


@pytest.mark.parametrize("name", CASES)
def test_symbol_bind_matches_mxnet(name):
    m, ins, head, out, grads = _case(name, "float64")
    names = (MDCN_NAMES if "Modulated" in m["op"] else DCN_NAMES)[:m["n_in"]]
    sym = _fn(mx.sym, m["op"])(*[mx.sym.var(n) for n in names], name="dc", **m["attrs"])
    assert sym.list_arguments() == list(names)
    args = {n: mx.nd.array(a, dtype="float64") for n, a in zip(names, ins)}
    agrad = {n: mx.nd.zeros(a.shape, dtype="float64") for n, a in zip(names, ins)}
    ex = sym.bind(mx.cpu(), args, args_grad=agrad)
    y = ex.forward(is_train=True)[0]
    ex.backward([mx.nd.array(head, dtype="float64")])
    np.testing.assert_allclose(y.asnumpy(), out, **TOL["float64"])
    for n, g in zip(names, grads):
        np.testing.assert_allclose(agrad[n].asnumpy(), g, err_msg=n, **TOL["float64"])


def _rand(r, *shape, lo=-1.0, hi=1.0):
    return r.uniform(lo, hi, shape)


@pytest.mark.parametrize("modulated", [False, True])
def test_zero_offsets_unit_mask_is_a_convolution(modulated):
    """With offsets 0 (and mask 1) every tap reads its pixel: plait's Convolution, forward
    and gradients of data, weight and bias."""
    r = np.random.default_rng(3)
    at = dict(kernel=(3, 2), stride=(2, 1), pad=(1, 1), dilate=(1, 2), num_filter=4,
              num_group=2)
    x, w, b = _rand(r, 2, 4, 6, 5), _rand(r, 4, 2, 3, 2), _rand(r, 4)
    conv = [mx.nd.array(a, dtype="float64") for a in (x, w, b)]
    for a in conv:
        a.attach_grad()
    with mx.autograd.record():
        want = mx.nd.Convolution(*conv, **at)
    head = mx.nd.array(_rand(r, *want.shape), dtype="float64")
    want.backward(head)
    oh, ow = want.shape[2:]
    extra = [np.ones((2, 12, oh, ow))] if modulated else []
    ins = [mx.nd.array(a, dtype="float64")
           for a in [x, np.zeros((2, 24, oh, ow))] + extra + [w, b]]
    for a in ins:
        a.attach_grad()
    op = mx.nd.contrib.ModulatedDeformableConvolution if modulated else \
        mx.nd.contrib.DeformableConvolution
    with mx.autograd.record():
        got = op(*ins, num_deformable_group=2, **at)
    got.backward(head)
    np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-12, atol=1e-12)
    for g, c in zip([ins[0], ins[-2], ins[-1]], conv):
        np.testing.assert_allclose(g.grad.asnumpy(), c.grad.asnumpy(), rtol=1e-12, atol=1e-12)


def test_whole_pixel_offsets_shift_the_taps():
    """An offset of (1, -1) everywhere reads the pixel one row down and one column left:
    DeformableConvolution of x equals Convolution of x shifted (zeros shifted in, as both
    ops read 0 outside the image)."""
    r = np.random.default_rng(4)
    x, w = _rand(r, 1, 2, 5, 6), _rand(r, 3, 2, 2, 2)
    off = np.zeros((1, 8, 4, 5))
    off[:, 0::2], off[:, 1::2] = 1.0, -1.0
    shifted = np.zeros_like(x)
    shifted[:, :, :-1, 1:] = x[:, :, 1:, :-1]
    want = mx.nd.Convolution(mx.nd.array(shifted), mx.nd.array(w), kernel=(2, 2), num_filter=3,
                             no_bias=True).asnumpy()
    for modulated in (False, True):
        extra = [mx.nd.ones((1, 4, 4, 5))] if modulated else []
        op = mx.nd.contrib.ModulatedDeformableConvolution if modulated else \
            mx.nd.contrib.DeformableConvolution
        got = op(mx.nd.array(x), mx.nd.array(off), *extra, mx.nd.array(w), kernel=(2, 2),
                 num_filter=3, no_bias=True).asnumpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_boundary_rules_differ_between_the_ops():
    """MXNet's two kernels treat a point in (-1, 0) or in the last row differently: the
    unmodulated op reads 0 at y = -0.5 and clamps y = H - 0.5 onto row H-1; the modulated
    op interpolates with zeros outside the image."""
    x = np.arange(1, 10, dtype=np.float64).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 1, 1))
    for dy, dcn, mdcn in [(-0.5, 0.0, 0.5), (2.5, 7.0, 3.5), (0.5, 2.5, 2.5), (3.0, 0.0, 0.0)]:
        off = np.zeros((1, 2, 3, 3))
        off[:, 0] = dy - np.arange(3)[:, None]          # every output row reads y = dy
        a = mx.nd.contrib.DeformableConvolution(
            mx.nd.array(x), mx.nd.array(off), mx.nd.array(w), kernel=(1, 1), num_filter=1,
            no_bias=True).asnumpy()
        b = mx.nd.contrib.ModulatedDeformableConvolution(
            mx.nd.array(x), mx.nd.array(off), mx.nd.ones((1, 1, 3, 3)), mx.nd.array(w),
            kernel=(1, 1), num_filter=1, no_bias=True).asnumpy()
        np.testing.assert_allclose(a[0, 0, :, 0], dcn, err_msg="DCN y=%s" % dy)
        np.testing.assert_allclose(b[0, 0, :, 0], mdcn, err_msg="MDCN y=%s" % dy)


def test_symbol_fills_weight_bias_offset_and_mask_and_names_like_mxnet():
    s = mx.sym.contrib.DeformableConvolution(data=mx.sym.var("data"), kernel=(3, 3),
                                             num_filter=4)
    assert s.list_arguments() == ["data", "deformableconvolution0_offset",
                                  "deformableconvolution0_weight",
                                  "deformableconvolution0_bias"]
    assert s.list_outputs() == ["deformableconvolution0_output"]
    args, outs, _ = s.infer_shape(data=(2, 3, 5, 5))
    assert args == [(2, 3, 5, 5), (2, 18, 3, 3), (4, 3, 3, 3), (4,)] and outs == [(2, 4, 3, 3)]
    s = mx.sym.contrib.ModulatedDeformableConvolution(
        mx.sym.var("data"), mx.sym.var("offset"), mx.sym.var("mask"), kernel=(3, 3),
        stride=(2, 2), num_filter=4, num_deformable_group=2, no_bias=True, name="m")
    assert s.list_arguments() == ["data", "offset", "mask", "m_weight"]
    args, outs, _ = s.infer_shape(data=(2, 4, 7, 7))
    assert args == [(2, 4, 7, 7), (2, 36, 3, 3), (2, 18, 3, 3), (4, 4, 3, 3)]
    assert outs == [(2, 4, 3, 3)]
    with pytest.raises(PlaitError, match="offset"):
        s.infer_shape(data=(2, 4, 7, 7), offset=(2, 18, 3, 3))


def test_errors_name_op_argument_and_shapes():
    x, w = mx.nd.ones((1, 2, 4, 4)), mx.nd.ones((2, 2, 2, 2))
    with pytest.raises(PlaitError) as e:
        mx.nd.contrib.DeformableConvolution(x, mx.nd.ones((1, 6, 3, 3)), w, kernel=(2, 2),
                                            num_filter=2, no_bias=True)
    msg = str(e.value)
    for part in ("_contrib_DeformableConvolution", "offset", "(1, 6, 3, 3)", "(1, 8, 3, 3)"):
        assert part in msg
    with pytest.raises(PlaitError) as e:
        mx.nd.contrib.ModulatedDeformableConvolution(
            x, mx.nd.ones((1, 8, 3, 3)), mx.nd.ones((1, 4, 2, 3)), w, kernel=(2, 2),
            num_filter=2, no_bias=True)
    for part in ("_contrib_ModulatedDeformableConvolution", "mask", "(1, 4, 2, 3)",
                 "(1, 4, 3, 3)"):
        assert part in str(e.value)


def test_chunked_batches_equal_whole_ones(monkeypatch):
    """Images processed in several chunks give what one chunk gives."""
    from plait.core.ops import contrib_deform_impl as impl
    r = np.random.default_rng(5)
    ins = [_rand(r, 3, 2, 4, 4), _rand(r, 3, 8, 3, 3, lo=-2, hi=2), _rand(r, 3, 4, 3, 3),
           _rand(r, 2, 2, 2, 2), _rand(r, 2)]

    def run():
        nds = [mx.nd.array(a, dtype="float64") for a in ins]
        for a in nds:
            a.attach_grad()
        with mx.autograd.record():
            y = mx.nd.contrib.ModulatedDeformableConvolution(*nds, kernel=(2, 2), num_filter=2)
        y.backward(mx.nd.ones(y.shape, dtype="float64"))
        return [y.asnumpy()] + [a.grad.asnumpy() for a in nds]
    whole = run()
    monkeypatch.setattr(impl, "_CHUNK_ELEMS", 1)
    for a, b in zip(run(), whole):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
