"""The compiled optimizer updates equal the xp kernels bit for bit and the NumPy formulas."""
import numpy as np
import pytest

import plait as mx
from plait.core.ops import native

SIZES = [1, 7, 100_003]  # the last spans several parallel chunks, not a multiple of them


def _arrays(n, dtype, k, seed):
    rs = np.random.RandomState(seed)
    return [rs.uniform(-2, 2, n).astype(dtype) for _ in range(k)]


def _run(op, arrays, inplace, **kw):
    nds = [mx.nd.array(a, dtype=a.dtype) for a in arrays]
    out = nds[0] if inplace else mx.nd.zeros(arrays[0].shape, dtype=arrays[0].dtype)
    getattr(mx.nd, op)(*nds, out=out, **kw)
    return [out.asnumpy()] + [x.asnumpy() for x in nds[2:]]


def _both(op, arrays, inplace, **kw):
    fast = _run(op, arrays, inplace, **kw)
    with native.disabled():
        slow = _run(op, arrays, inplace, **kw)
    for f, s in zip(fast, slow):
        np.testing.assert_array_equal(f, s)
    return fast


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("inplace", [True, False])
@pytest.mark.parametrize("wd,clip", [(0.0, -1.0), (0.01, 0.5)])
def test_sgd_mom_update(dtype, n, inplace, wd, clip):
    w, g, m = _arrays(n, dtype, 3, n)
    kw = dict(lr=0.1, momentum=0.9, wd=wd, rescale_grad=0.5, clip_gradient=clip)
    out, mom = _both("sgd_mom_update", [w, g, m], inplace, **kw)
    f = lambda v: dtype(np.float32(v))
    r = g * f(0.5)
    if clip >= 0:
        r = np.clip(r, -f(clip), f(clip))
    m_ref = f(0.9) * m - f(0.1) * f(wd) * w - f(0.1) * r
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(mom, m_ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(out, w + m_ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("inplace", [True, False])
def test_sgd_update(dtype, n, inplace):
    w, g = _arrays(n, dtype, 2, n + 1)
    out, = _both("sgd_update", [w, g], inplace, lr=0.05, wd=0.1, clip_gradient=1.0)
    ref = (1 - 0.05 * 0.1) * w - 0.05 * np.clip(g, -1, 1)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("inplace", [True, False])
def test_adam_update(dtype, n, inplace):
    w, g, mean = _arrays(n, dtype, 3, n + 2)
    var = np.abs(_arrays(n, dtype, 1, n + 3)[0])
    kw = dict(lr=0.01, beta1=0.9, beta2=0.99, epsilon=1e-8, wd=0.01, rescale_grad=2.0,
              clip_gradient=3.0)
    out, m2, v2 = _both("adam_update", [w, g, mean, var], inplace, **kw)
    r = np.clip(2.0 * g + 0.01 * w, -3, 3)
    m_ref = 0.9 * mean + 0.1 * r
    v_ref = 0.99 * var + 0.01 * r * r
    np.testing.assert_allclose(m2, m_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v2, v_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, w - 0.01 * m_ref / (np.sqrt(v_ref) + 1e-8),
                               rtol=1e-5, atol=1e-6)



def test_parallel_kernels_from_several_threads_at_once():
    """The kernel pool serves one region at a time; concurrent callers run serially or in
    the pool, never mixing their ranges (csrc/parallel.cc)."""
    import threading
    n = 300_001
    rs = np.random.RandomState(5)
    ws = [rs.rand(n).astype(np.float32) for _ in range(4)]
    g = rs.rand(n).astype(np.float32)
    expect = [w - np.float32(0.5) * g for w in ws]
    k = native.kernels()
    errors = []

    def run(i):
        for _ in range(30):
            out = np.empty_like(ws[i])
            k.sgd_update(ws[i], g, out, 0.5, 0.0, 1.0, -1.0)
            if not np.array_equal(out, expect[i]):
                errors.append(i)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
