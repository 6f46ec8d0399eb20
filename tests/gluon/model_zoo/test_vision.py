"""Every model of gluon.model_zoo.vision against MXNet 1.9.1's zoo: parameter names (in
collect_params order), shapes, counts and the structural names save_parameters writes
(fixture tests/fixtures/zoo/param_specs.json), plus get_model's behaviour."""
import numpy as np
import pytest

import plait as mx
from plait.gluon.model_zoo import vision

from conftest import build

ALL_MODELS = sorted(vision._MODELS)


def test_fixture_covers_every_model(param_specs):
    assert sorted(param_specs) == ALL_MODELS
    assert len(ALL_MODELS) == 34


@pytest.mark.parametrize("name", ALL_MODELS)
def test_param_names_shapes_counts(name, param_specs):
    spec = param_specs[name]
    net = build(name)
    assert net.prefix == spec["prefix"]
    params = net.collect_params()
    expected = [(spec["prefix"] + n, s) for n, s in spec["params"]]  # MXNet's full names
    assert list(params.keys()) == [n for n, _ in expected]
    assert list(net._collect_params_with_prefix().keys()) == spec["structural"]
    # Shapes as MXNet infers them at its canonical input size, through the traced Symbol
    # (cheap: no compute), then checked to agree with the shapes the Parameters know.
    size = 299 if name == "inceptionv3" else 224
    out = net(mx.sym.var("data"))
    args, _, aux = out.infer_shape(data=(1, 3, size, size))
    inferred = dict(zip(out.list_arguments(), args))
    inferred.update(zip(out.list_auxiliary_states(), aux))
    for pname, shape in expected:
        assert tuple(inferred[pname]) == tuple(shape), pname
        known = params[pname].shape
        assert all(k in (0, s) for k, s in zip(known, shape)), (pname, known, shape)
    count = sum(int(np.prod(s)) for _, s in spec["params"])
    assert sum(int(np.prod(inferred[p])) for p in params.keys()) == count


def test_get_model_is_case_insensitive_and_passes_kwargs():
    net = build("ResNet18_V1", classes=7, thumbnail=True)
    assert isinstance(net, vision.ResNetV1)
    net.initialize()
    assert net(mx.nd.zeros((2, 3, 8, 8))).shape == (2, 7)


def test_get_model_unknown_name_lists_models():
    with pytest.raises(mx.PlaitError) as e:
        vision.get_model("resnet19_v1")
    msg = str(e.value)
    assert "resnet19_v1" in msg and "resnet18_v1" in msg and "mobilenetv2_0.25" in msg


@pytest.mark.parametrize("call, arg", [
    (lambda: vision.get_resnet(3, 18), "version=3"),
    (lambda: vision.get_resnet(1, 20), "num_layers=20"),
    (lambda: vision.get_vgg(12), "num_layers=12"),
    (lambda: vision.get_densenet(100), "num_layers=100"),
    (lambda: vision.get_squeezenet("1.2"), "1.2"),
    (lambda: vision.ResNetV1(vision.BasicBlockV1, [2, 2], [64, 64]), "channels"),
])
def test_bad_architecture_arguments(call, arg):
    with pytest.raises(mx.PlaitError, match=arg.replace(".", r"\.")):
        call()


def test_model_functions_are_exported():
    for fn in ("resnet50_v2", "vgg16_bn", "densenet201", "squeezenet1_0", "inception_v3",
               "mobilenet0_5", "mobilenet_v2_0_75", "alexnet"):
        assert callable(getattr(vision, fn)) and fn in vision.__all__
    assert mx.gluon.model_zoo.vision.get_model is vision.get_model
