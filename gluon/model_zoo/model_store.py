"""Where pretrained model-zoo parameters live, and how they are checked.

plait never downloads.  A pretrained model is the file `<root>/<name>-<first 8 hex digits
of its sha1>.params`, named exactly as MXNet 1.9's model store names it (so a
~/.mxnet/models folder filled by MXNet works unchanged).  Its sha1 is checked against
the table below (facts from MXNet's model store) before it is used.
"""
import hashlib
import os

from ...core.base import PlaitError

__all__ = ["get_model_file", "purge", "data_dir", "default_root", "short_hash"]

# sha1 of the .params files MXNet 1.9 publishes, by model name.
_MODEL_SHA1 = {
    "alexnet": "44335d1f0046b328243b32a26a4fbd62d9057b45",
    "densenet121": "f27dbf2dbd5ce9a80b102d89c7483342cd33cb31",
    "densenet161": "b6c8a95717e3e761bd88d145f4d0a214aaa515dc",
    "densenet169": "2603f878403c6aa5a71a124c4a3307143d6820e9",
    "densenet201": "1cdbc116bc3a1b65832b18cf53e1cb8e7da017eb",
    "inceptionv3": "ed47ec45a937b656fcc94dabde85495bbef5ba1f",
    "mobilenet0.25": "9f83e440996887baf91a6aff1cccc1c903a64274",
    "mobilenet0.5": "8e9d539cc66aa5efa71c4b6af983b936ab8701c3",
    "mobilenet0.75": "529b2c7f4934e6cb851155b22c96c9ab0a7c4dc2",
    "mobilenet1.0": "6b8c5106c730e8750bcd82ceb75220a3351157cd",
    "mobilenetv2_1.0": "36da4ff1867abccd32b29592d79fc753bca5a215",
    "mobilenetv2_0.75": "e2be7b72a79fe4a750d1dd415afedf01c3ea818d",
    "mobilenetv2_0.5": "aabd26cd335379fcb72ae6c8fac45a70eab11785",
    "mobilenetv2_0.25": "ae8f9392789b04822cbb1d98c27283fc5f8aa0a7",
    "resnet18_v1": "a0666292f0a30ff61f857b0b66efc0228eb6a54b",
    "resnet34_v1": "48216ba99a8b1005d75c0f3a0c422301a0473233",
    "resnet50_v1": "0aee57f96768c0a2d5b23a6ec91eb08dfb0a45ce",
    "resnet101_v1": "d988c13d6159779e907140a638c56f229634cb02",
    "resnet152_v1": "671c637a14387ab9e2654eafd0d493d86b1c8579",
    "resnet18_v2": "a81db45fd7b7a2d12ab97cd88ef0a5ac48b8f657",
    "resnet34_v2": "9d6b80bbc35169de6b6edecffdd6047c56fdd322",
    "resnet50_v2": "ecdde35339c1aadbec4f547857078e734a76fb49",
    "resnet101_v2": "18e93e4f48947e002547f50eabbcc9c83e516aa6",
    "resnet152_v2": "f2695542de38cf7e71ed58f02893d82bb409415e",
    "squeezenet1.0": "264ba4970a0cc87a4f15c96e25246a1307caf523",
    "squeezenet1.1": "33ba0f93753c83d86e1eb397f38a667eaf2e9376",
    "vgg11": "dd221b160977f36a53f464cb54648d227c707a05",
    "vgg11_bn": "ee79a8098a91fbe05b7a973fed2017a6117723a8",
    "vgg13": "6bc5de58a05a5e2e7f493e2d75a580d83efde38c",
    "vgg13_bn": "7d97a06c3c7a1aecc88b6e7385c2b373a249e95e",
    "vgg16": "e660d4569ccb679ec68f1fd3cce07a387252a90a",
    "vgg16_bn": "7f01cf050d357127a73826045c245041b0df7363",
    "vgg19": "ad2f660d101905472b83590b59708b71ea22b2e5",
    "vgg19_bn": "f360b758e856f1074a85abd5fd873ed1d98297c3",
}

# Where MXNet publishes the zipped files (only quoted in error messages: plait is offline).
_REPO_URL = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/"


def data_dir():
    """MXNet's data folder: $MXNET_HOME, else ~/.mxnet."""
    return os.getenv("MXNET_HOME", os.path.join(os.path.expanduser("~"), ".mxnet"))


def default_root():
    """The default `root` of every zoo constructor: <data_dir()>/models."""
    return os.path.join(data_dir(), "models")


def short_hash(name):
    """The 8 hex digits MXNet puts in the file name of model `name`."""
    if name not in _MODEL_SHA1:
        raise PlaitError("no pretrained parameters are known for model '%s'; models with "
                         "pretrained files: %s" % (name, ", ".join(sorted(_MODEL_SHA1))),
                         op="model_zoo")
    return _MODEL_SHA1[name][:8]


def _file_sha1(path):
    sha1 = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            sha1.update(chunk)
    return sha1.hexdigest()


def get_model_file(name, root=None):
    """Path of the pretrained parameters of model `name` in `root` (default
    $MXNET_HOME/models or ~/.mxnet/models), after checking its sha1.

    Raises PlaitError naming the expected file and folder when it is absent (plait does
    not download), and naming both digests when its content does not match."""
    file_name = "%s-%s.params" % (name, short_hash(name))
    root = os.path.abspath(os.path.expanduser(default_root() if root is None else root))
    path = os.path.join(root, file_name)
    if not os.path.isfile(path):
        repo = os.environ.get("MXNET_GLUON_REPO", _REPO_URL)
        repo = repo if repo.endswith("/") else repo + "/"
        raise PlaitError(
            "pretrained parameters of '%s' not found: expected the file '%s' in the folder "
            "'%s'. plait does not download; get %sgluon/models/%s.zip (MXNet's model store), "
            "unzip it and place %s in that folder, or pass root=<folder holding it>."
            % (name, file_name, root, repo, file_name[:-len(".params")], file_name),
            op="model_zoo")
    expected, actual = _MODEL_SHA1[name], _file_sha1(path)
    if actual != expected:
        raise PlaitError(
            "pretrained parameters of '%s': the file '%s' has sha1 %s but MXNet's model "
            "store publishes %s for it; the file is corrupt or is not this model's. Replace it."
            % (name, path, actual, expected), op="model_zoo")
    return path


def purge(root=None):
    """Delete every .params file in `root` (default <data_dir()>/models), as MXNet's."""
    root = os.path.expanduser(default_root() if root is None else root)
    for f in os.listdir(root):
        if f.endswith(".params"):
            os.remove(os.path.join(root, f))


def load_pretrained(net, name, ctx=None, root=None):
    """Load the checked pretrained file of model `name` into `net` (used by every family)."""
    net.load_parameters(get_model_file(name, root=root), ctx=ctx)
    return net
