"""The hybrid transforms (Cast, ToTensor, Normalize, Resize, CropResize: F.image.* in
hybrid_forward, as MXNet 1.9): the same values imperatively, hybridized, on NumPy
arrays, inside HybridCompose / Compose, and the graph JSON MXNet 1.9.1 writes
(tests/fixtures/image/symbols.json, from tools/make_image_fixtures.py)."""
import json
import os

import numpy as np
import pytest

import plait as mx
from plait.gluon.data.vision import transforms as T

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "image", "symbols.json")
R = np.random.RandomState(0)
IMG = R.randint(0, 256, (7, 9, 3)).astype(np.uint8)


def _build(mx):
    """The graphs tools/make_image_fixtures.py wrote with MXNet, built here with plait."""
    import importlib.util
    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tools",
                        "make_image_fixtures.py")
    spec = importlib.util.spec_from_file_location("make_image_fixtures", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool.build_symbols(mx)


def test_graph_json_is_mxnets():
    with open(FIX) as f:
        want = json.load(f)
    with mx.name.NameManager():  # node-name counters from 0, as in the fixture's fresh process
        got = _build(mx)
    assert got == want


def test_mxnets_graph_loads_and_runs():
    with open(FIX) as f:
        sym = mx.sym.load_json(json.load(f)["net"])
    x = np.stack([IMG, IMG[::-1]]).astype(np.float32)  # an NHWC batch
    ex = sym.simple_bind(mx.cpu(), data=x.shape)
    for k in ex.arg_dict:
        if k.endswith("gamma"):
            ex.arg_dict[k][:] = 1
    for k in ex.aux_dict:
        ex.aux_dict[k][:] = 0 if k.endswith("mean") else 1
    out = ex.forward(is_train=False, data=mx.nd.array(x))[0].asnumpy()
    t = (np.moveaxis(x, -1, 1) / 255 - np.array([0.1, 0.2, 0.3])[:, None, None]) \
        / np.array([0.5, 0.25, 2.0])[:, None, None]
    np.testing.assert_allclose(out, t / np.sqrt(1 + 1e-5), rtol=1e-5, atol=1e-6)


TRANSFORMS = [
    ("to_tensor", lambda: T.ToTensor(), IMG),
    ("normalize", lambda: T.Normalize((0.1, 0.2, 0.3), (0.5, 0.25, 2.0)),
     np.moveaxis(IMG, -1, 0).astype(np.float32) / 255),
    ("cast", lambda: T.Cast("float64"), IMG),
    ("resize", lambda: T.Resize((5, 4)), IMG),
    ("resize_keep", lambda: T.Resize(4, keep_ratio=True), IMG),
    ("crop_resize", lambda: T.CropResize(1, 2, 4, 3, size=(8, 6)), IMG),
    ("crop", lambda: T.CropResize(1, 2, 4, 3), np.stack([IMG, IMG[::-1]]))]


@pytest.mark.parametrize("name,make,x", TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
def test_every_path_gives_the_same_values(name, make, x):
    t = make()
    assert isinstance(t, mx.gluon.HybridBlock)
    want = t(x)                      # NumPy in, NumPy out (the op's kernel on the host)
    assert isinstance(want, np.ndarray)
    got = t(mx.nd.array(x, dtype=x.dtype))
    np.testing.assert_array_equal(got.asnumpy(), want)
    assert got.dtype == want.dtype
    t.hybridize()
    np.testing.assert_array_equal(t(mx.nd.array(x, dtype=x.dtype)).asnumpy(), want)
    assert isinstance(t(mx.sym.var("x")), mx.sym.Symbol)


def test_compose_and_hybrid_compose_chain_the_same_kernels():
    steps = [T.Resize((6, 5)), T.ToTensor(), T.Normalize(0.5, 0.25)]
    ref = IMG
    for s in steps:
        ref = s(ref)
    for chain in (T.Compose(steps), T.HybridCompose(steps)):
        np.testing.assert_array_equal(chain(mx.nd.array(IMG, dtype="uint8")).asnumpy(), ref)
        chain.hybridize()
        np.testing.assert_array_equal(chain(mx.nd.array(IMG, dtype="uint8")).asnumpy(), ref)
        np.testing.assert_array_equal(chain(IMG), ref)  # NumPy in, NumPy out
        for s in steps:
            s.hybridize(False)
    with pytest.raises(mx.PlaitError, match="HybridBlock"):
        T.HybridCompose([T.CenterCrop(3)])


def test_hybrid_transforms_inside_a_hybridized_network_with_gradients():
    net = mx.gluon.nn.HybridSequential()
    net.add(T.ToTensor(), T.Normalize(0.5, 0.2), mx.gluon.nn.Dense(2))
    net.initialize(mx.init.One())
    net.hybridize()
    x = mx.nd.array(IMG.astype(np.float32)[None])
    x.attach_grad()
    with mx.autograd.record():
        y = net(x)
    y.backward()
    # d/dx sum(Dense_ones(normalize(to_tensor(x)))) = 2 / 0.2 / 255 everywhere
    np.testing.assert_allclose(x.grad.asnumpy(), np.full(x.shape, 2 / 0.2 / 255), rtol=1e-5)


def test_normalize_casts_integer_tensors_and_checks_channels():
    out = T.Normalize(1.0, 2.0)(mx.nd.array(np.ones((3, 2, 2)), dtype="int32"))
    assert out.dtype == np.float32 and np.all(out.asnumpy() == 0)
    with pytest.raises(mx.PlaitError, match="std.*2 values for 3 channels"):
        T.Normalize(0.0, (1.0, 2.0))(np.zeros((3, 4, 4), np.float32))
    with pytest.raises(mx.PlaitError, match="exceeds"):
        T.CropResize(5, 0, 6, 2)(mx.nd.array(IMG, dtype="uint8"))


def test_hybridized_transforms_pickle_and_run_in_workers():
    import pickle
    x = mx.nd.array(IMG, dtype="uint8")
    for chain in (T.Compose([T.Resize(8), T.ToTensor(), T.Normalize(0.5, 0.2)]),
                  T.HybridCompose([T.Resize(8), T.ToTensor(), T.Normalize(0.5, 0.2)])):
        chain.hybridize()
        want = chain(x).asnumpy()
        np.testing.assert_array_equal(pickle.loads(pickle.dumps(chain))(x).asnumpy(), want)
    data = R.randint(0, 256, (10, 7, 9, 3)).astype(np.uint8)
    tf = T.Compose([T.ToTensor(), T.Normalize(0.5, 0.2)])
    ds = mx.gluon.data.ArrayDataset(data, np.arange(10)).transform_first(tf)
    got = np.concatenate([b[0].asnumpy() for b in mx.gluon.data.DataLoader(
        ds, batch_size=4, num_workers=2)])
    np.testing.assert_array_equal(got, np.stack([tf(d) for d in data]))


def test_random_transforms_hybridize_and_draw_from_plaits_generator():
    aug = mx.gluon.nn.HybridSequential()
    aug.add(T.RandomFlipLeftRight(), T.RandomBrightness(0.5), T.RandomColorJitter(0.2, 0.2),
            T.RandomLighting(0.1))
    x = mx.nd.array(IMG, dtype="float32")
    np.random.seed(3)  # imperative: NumPy's global generator
    a = aug(x).asnumpy()
    np.random.seed(3)
    np.testing.assert_array_equal(aug(x).asnumpy(), a)
    aug.hybridize()    # hybridized: the _image_random_* ops and mx.random.seed
    mx.random.seed(11)
    h = [aug(x).asnumpy() for _ in range(3)]
    mx.random.seed(11)
    for u in h:
        np.testing.assert_array_equal(aug(x).asnumpy(), u)
        assert u.shape == IMG.shape and np.isfinite(u).all()
    assert not np.array_equal(h[0], h[1])
    flip = T.RandomFlipLeftRight()
    flip.hybridize()
    mx.random.seed(0)
    outs = [flip(x).asnumpy() for _ in range(200)]
    n = sum(np.array_equal(o, IMG[:, ::-1]) for o in outs)
    assert 60 < n < 140 and all(np.array_equal(o, IMG) or np.array_equal(o, IMG[:, ::-1])
                                for o in outs)
