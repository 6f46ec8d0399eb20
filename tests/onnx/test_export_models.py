"""Whole models: Gluon model-zoo architectures (and a small Inception-style block) export,
pass onnx.checker (full_check), and give plait's outputs in onnxruntime (rtol 1e-3, atol
1e-4 x max|ref|).  BatchNorm statistics and affine terms are randomised so a wrong BatchNorm
shows; the export has a dynamic batch dimension and runs at another batch size than the one
it was traced with.  Big inputs (224/299) and heavy models are marked slow."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import plait as mx  # noqa: E402
from plait.core.onnx import export as ex  # noqa: E402
from plait.gluon import nn  # noqa: E402

vision = pytest.importorskip("plait.gluon.model_zoo.vision")

SIZES = {"inceptionv3": 299, "densenet121": 224, "densenet161": 224, "densenet169": 224,
         "densenet201": 224, "squeezenet1.0": 224, "squeezenet1.1": 224, "alexnet": 64}
FAST = ["resnet18_v1", "resnet50_v1", "resnet18_v2", "mobilenet0.25", "mobilenetv2_0.25",
        "squeezenet1.1"]
SLOW = ["vgg11", "vgg11_bn", "densenet121", "inceptionv3", "alexnet", "mobilenet1.0",
        "squeezenet1.0", "resnet50_v2"]


def randomise_norm_stats(net, seed=0):
    rng = np.random.RandomState(seed)
    for p in net.collect_params().values():
        n = p.name
        if n.endswith(("running_var", "gamma")):
            p.set_data(mx.nd.array(rng.uniform(0.5, 1.5, p.shape).astype(np.float32)))
        elif n.endswith(("running_mean", "beta")):
            p.set_data(mx.nd.array(rng.uniform(-0.5, 0.5, p.shape).astype(np.float32)))


def check_block(net, in_shape, ort_run, tmp_path, batch=2, opset=None):
    net.hybridize()
    x0 = np.random.RandomState(1).randn(*in_shape).astype(np.float32)
    net(mx.nd.array(x0))
    randomise_norm_stats(net)
    x = np.random.RandomState(2).randn(batch, *in_shape[1:]).astype(np.float32)
    ref = net(mx.nd.array(x)).asnumpy()
    path = mx.onnx.export_model(net, None, in_shapes=[in_shape], dynamic=True,
                                dynamic_input_shapes=[(None,) + tuple(in_shape[1:])],
                                onnx_file_path=str(tmp_path / "model.onnx"),
                                opset_version=opset)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inits = {t.name for t in model.graph.initializer}
    assert not inits & {i.name for i in model.graph.input}
    got = ort_run(model, {"data": x})[0]
    np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-4 * np.abs(ref).max())
    return model


def _zoo(name, tmp_path, ort_run, opset=None):
    size = SIZES.get(name, 32)
    net = vision.get_model(name, classes=10)
    net.initialize(mx.init.Xavier())
    return check_block(net, (1, 3, size, size), ort_run, tmp_path, opset=opset)


@pytest.mark.parametrize("name", FAST)
def test_zoo_model(name, tmp_path, ort_run):
    model = _zoo(name, tmp_path, ort_run)
    ops = [n.op_type for n in model.graph.node]
    # inference layers export as single ONNX ops: no decomposed BatchNorm or Dense
    assert "Identity" not in ops and "Sub" not in ops and "Sqrt" not in ops


def test_resnet_at_opset13(tmp_path, ort_run):
    _zoo("resnet18_v1", tmp_path, ort_run, opset=13)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_zoo_model_slow(name, tmp_path, ort_run):
    _zoo(name, tmp_path, ort_run)


@pytest.mark.slow
def test_every_zoo_architecture(tmp_path, ort_run):
    for name in sorted(vision._MODELS):
        if name in FAST or name in SLOW:
            continue
        _zoo(name, tmp_path, ort_run)


class _InceptionStyle(nn.HybridBlock):
    """Branches (1x1, 3x3, 5x5, avg-pool 3x3/1/1), a concat, a ceil-mode max pool, LeakyReLU /
    PReLU / ELU activations, InstanceNorm, LayerNorm and a grouped, dilated conv."""

    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.b1 = nn.Conv2D(4, 1)
            self.b3 = nn.HybridSequential()
            self.b3.add(nn.Conv2D(4, 1), nn.BatchNorm(), nn.LeakyReLU(0.2),
                        nn.Conv2D(4, 3, padding=1))
            self.b5 = nn.HybridSequential()
            self.b5.add(nn.Conv2D(4, 5, padding=2), nn.PReLU(), nn.InstanceNorm())
            self.bp = nn.HybridSequential()
            self.bp.add(nn.AvgPool2D(3, 1, 1), nn.Conv2D(4, 1), nn.ELU())
            self.pool = nn.MaxPool2D(3, 2, ceil_mode=True)
            self.gconv = nn.Conv2D(8, 3, groups=4, dilation=2, padding=2)
            self.norm = nn.LayerNorm()
            self.out = nn.Dense(5)

    def hybrid_forward(self, F, x):
        y = F.concat(self.b1(x), self.b3(x), self.b5(x), self.bp(x), dim=1)
        y = self.gconv(self.pool(y))
        y = self.norm(F.relu(y))
        return F.softmax(self.out(y))


def test_inception_style_block(tmp_path, ort_run):
    net = _InceptionStyle()
    net.initialize(mx.init.Xavier())
    check_block(net, (1, 3, 11, 11), ort_run, tmp_path, batch=3)


def test_initializers_are_exactly_the_used_params():
    """Every weight and moving statistic is one initializer (none duplicated, none dropped)."""
    net = vision.get_model("resnet18_v1", classes=10)
    net.initialize()
    net.hybridize()
    net(mx.nd.zeros((1, 3, 32, 32)))
    sym = net._cached_graph[1]
    params = {k: v.data() for k, v in net.collect_params().items()}
    model = ex.build_onnx_model(sym, params, [(1, 3, 32, 32)])
    assert len(model.graph.initializer) == len(sym.list_arguments()) - 1 + len(
        sym.list_auxiliary_states())
