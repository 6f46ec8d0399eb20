"""mx.optimizer.contrib.GroupAdaGrad against its NumPy formula over 10 steps (rescale and
clip included), its errors, and the small gluon.utils / gluon names MXNet code imports."""
import collections
import os

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError


@pytest.mark.parametrize("kw", [{}, {"rescale_grad": 0.5, "clip_gradient": 0.3,
                                     "learning_rate": 0.1, "eps": 1e-3}])
def test_group_adagrad_matches_formula(kw):
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((5, 4)).astype(np.float32)
    grads = rng.standard_normal((10, 5, 4)).astype(np.float32)
    opt = mx.optimizer.create("groupadagrad", **kw)
    upd = mx.optimizer.get_updater(opt)
    w = mx.nd.array(w0)
    lr, eps = kw.get("learning_rate", 0.01), kw.get("eps", 1e-5)
    ref, hist = w0.astype(np.float64), np.zeros((5, 1))
    for g in grads:
        upd(0, mx.nd.array(g), w)
        gg = g * kw.get("rescale_grad", 1.0)
        if "clip_gradient" in kw:
            gg = np.clip(gg, -kw["clip_gradient"], kw["clip_gradient"])
        hist += (gg.astype(np.float64) ** 2).mean(axis=1, keepdims=True)
        ref -= lr * gg / np.sqrt(hist + eps)
        np.testing.assert_allclose(w.asnumpy(), ref, rtol=1e-5, atol=1e-6)


def test_group_adagrad_errors_name_the_problem():
    opt = mx.optimizer.contrib.GroupAdaGrad()
    with pytest.raises(PlaitError, match="2-D weights.*shape \\(4,\\)"):
        opt.create_state(0, mx.nd.zeros((4,)))
    opt = mx.optimizer.contrib.GroupAdaGrad(wd=0.1)
    w = mx.nd.zeros((2, 3))
    with pytest.raises(PlaitError, match="weight decay"):
        opt.update(0, w, mx.nd.ones((2, 3)), opt.create_state(0, w))


def test_small_gluon_names():
    su = mx.gluon.utils
    assert su.shape_is_known((2, 3)) and not su.shape_is_known((2, 0))
    assert not su.shape_is_known(()) and not su.shape_is_known(None)
    with pytest.raises(ValueError, match="-1"):
        su.shape_is_known((2, -1))
    x = mx.nd.ones((1,))
    assert isinstance(x, mx.gluon.tensor_types) and isinstance(mx.sym.var("a"),
                                                               mx.gluon.tensor_types)
    hooks = collections.OrderedDict()  # (weak references need a dict subclass, as in MXNet)
    with su.HookHandle() as h:
        h.attach(hooks, print)
        assert list(hooks.values()) == [print]
    assert hooks == {}


def test_replace_file(tmp_path):
    src, dst = tmp_path / "a.tmp", tmp_path / "a"
    src.write_text("new")
    dst.write_text("old")
    mx.gluon.utils.replace_file(str(src), str(dst))
    assert dst.read_text() == "new" and not src.exists()
    src.write_text("x")
    with pytest.raises(OSError, match="a.tmp"):
        mx.gluon.utils.replace_file(str(src), str(tmp_path / "no" / "dir"))
    assert not os.path.exists(src)
