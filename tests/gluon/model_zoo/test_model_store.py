"""gluon.model_zoo.model_store and the file route: MXNet-saved .params files of a zoo
model load unchanged (both layouts MXNet writes) and give MXNet's output; pretrained=True
finds MXNet's file name in `root`, checks its sha1, and otherwise says exactly what to put
where."""
import hashlib
import os
import shutil

import numpy as np
import pytest

import plait as mx
from plait.gluon.model_zoo import model_store, vision

from conftest import ZOO_FIXTURES, build

STRUCTURAL = os.path.join(ZOO_FIXTURES, "mobilenet0.25_classes10.params")
LEGACY = os.path.join(ZOO_FIXTURES, "mobilenet0.25_classes10_legacy.params")


@pytest.fixture(scope="module")
def mobilenet_io():
    with np.load(os.path.join(ZOO_FIXTURES, "mobilenet0.25_io.npz"), allow_pickle=False) as z:
        return z["x"], z["y"]


def sha1_of(path):
    with open(path, "rb") as f:
        return hashlib.sha1(f.read()).hexdigest()


def assert_mxnet_output(net, mobilenet_io):
    x, y = mobilenet_io
    np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), y, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("path", [STRUCTURAL, LEGACY], ids=["save_parameters", "legacy"])
def test_mxnet_saved_params_load_unchanged(path, mobilenet_io):
    net = build("mobilenet0.25", classes=10)
    net.load_parameters(path)
    assert_mxnet_output(net, mobilenet_io)


def test_legacy_file_loads_under_another_prefix(mobilenet_io):
    """Legacy files hold names without the model prefix, so a second model instance
    ('mobilenet1_') loads them too, as in MXNet."""
    with mx.name.NameManager():
        vision.mobilenet0_25(classes=10)
        net = vision.mobilenet0_25(classes=10)
    assert net.prefix == "mobilenet1_"
    net.load_parameters(LEGACY)
    assert_mxnet_output(net, mobilenet_io)


def test_file_of_another_model_is_refused():
    net = build("mobilenet0.5", classes=10)
    with pytest.raises(Exception, match="conv0_weight.*shape|shape.*conv0_weight"):
        net.load_parameters(STRUCTURAL)


def test_pretrained_missing_file_names_file_and_folder(tmp_path):
    root = tmp_path / "models"
    with pytest.raises(mx.PlaitError) as e:
        vision.resnet18_v1(pretrained=True, root=str(root))
    msg = str(e.value)
    assert "resnet18_v1-a0666292.params" in msg and str(root) in msg
    assert "resnet18_v1-a0666292.zip" in msg             # where MXNet publishes it
    assert not root.exists()                             # nothing created, nothing fetched


def test_default_root_follows_mxnet_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path))
    assert model_store.default_root() == os.path.join(str(tmp_path), "models")
    with pytest.raises(mx.PlaitError, match=r"alexnet-44335d1f\.params"):
        model_store.get_model_file("alexnet")
    monkeypatch.delenv("MXNET_HOME")
    assert model_store.data_dir() == os.path.join(os.path.expanduser("~"), ".mxnet")


def test_pretrained_sha1_mismatch_is_refused(tmp_path):
    target = tmp_path / "mobilenet0.25-9f83e440.params"
    shutil.copy(STRUCTURAL, target)
    with pytest.raises(mx.PlaitError) as e:
        vision.get_model("mobilenet0.25", pretrained=True, root=str(tmp_path), classes=10)
    msg = str(e.value)
    assert str(target) in msg and sha1_of(STRUCTURAL) in msg
    assert "9f83e440996887baf91a6aff1cccc1c903a64274" in msg


@pytest.mark.parametrize("path", [STRUCTURAL, LEGACY], ids=["save_parameters", "legacy"])
def test_pretrained_loads_a_file_with_the_known_sha1(path, tmp_path, monkeypatch,
                                                      mobilenet_io):
    """With the sha1 table pointing at the fixture file (the real published files are not
    available offline), pretrained=True finds <name>-<short sha1>.params and loads it."""
    digest = sha1_of(path)
    monkeypatch.setitem(model_store._MODEL_SHA1, "mobilenet0.25", digest)
    shutil.copy(path, tmp_path / ("mobilenet0.25-%s.params" % digest[:8]))
    with mx.name.NameManager():
        net = vision.mobilenet0_25(pretrained=True, root=str(tmp_path), ctx=mx.cpu(),
                                   classes=10)
    assert_mxnet_output(net, mobilenet_io)


@pytest.mark.parametrize("name, expected", [
    ("mobilenet0.25", "9f83e440"), ("mobilenetv2_1.0", "36da4ff1"),
    ("squeezenet1.1", "33ba0f93"), ("vgg19_bn", "f360b758"), ("inceptionv3", "ed47ec45")])
def test_short_hash(name, expected):
    assert model_store.short_hash(name) == expected


@pytest.mark.parametrize("build_pretrained, file_name", [
    (lambda root: vision.mobilenet_v2_0_5(pretrained=True, root=root), "mobilenetv2_0.5-"),
    (lambda root: vision.mobilenet1_0(pretrained=True, root=root), "mobilenet1.0-"),
    (lambda root: vision.vgg13_bn(pretrained=True, root=root), "vgg13_bn-"),
    (lambda root: vision.squeezenet1_0(pretrained=True, root=root), "squeezenet1.0-"),
    (lambda root: vision.densenet169(pretrained=True, root=root), "densenet169-"),
    (lambda root: vision.inception_v3(pretrained=True, root=root), "inceptionv3-"),
    (lambda root: vision.alexnet(pretrained=True, root=root), "alexnet-"),
    (lambda root: vision.resnet50_v2(pretrained=True, root=root), "resnet50_v2-")])
def test_pretrained_file_names_follow_mxnet(build_pretrained, file_name, tmp_path):
    with pytest.raises(mx.PlaitError, match=file_name.replace(".", r"\.")):
        build_pretrained(str(tmp_path))


def test_unknown_pretrained_name():
    with pytest.raises(mx.PlaitError, match="resnet19_v1"):
        model_store.get_model_file("resnet19_v1")


def test_purge_removes_only_params_files(tmp_path):
    (tmp_path / "a-12345678.params").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("keep")
    model_store.purge(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]
