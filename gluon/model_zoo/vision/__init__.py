"""gluon.model_zoo.vision: MXNet 1.9's image-classification models and get_model(name).

Every model has MXNet's block tree, so parameter names (and MXNet-saved .params files)
match MXNet's.  Example::

    net = mx.gluon.model_zoo.vision.get_model('resnet18_v1', classes=10)
    net.initialize()
    net(mx.nd.zeros((1, 3, 32, 32))).shape   # (1, 10)
"""
from ....core.base import PlaitError
from .alexnet import *  # noqa: F401,F403
from .densenet import *  # noqa: F401,F403
from .inception import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .squeezenet import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
from .mobilenet import *  # noqa: F401,F403
from .alexnet import __all__ as _alexnet_all
from .densenet import __all__ as _densenet_all
from .inception import __all__ as _inception_all
from .resnet import __all__ as _resnet_all
from .squeezenet import __all__ as _squeezenet_all
from .vgg import __all__ as _vgg_all
from .mobilenet import __all__ as _mobilenet_all

_MODELS = {
    "resnet18_v1": resnet18_v1, "resnet34_v1": resnet34_v1,  # noqa: F405
    "resnet50_v1": resnet50_v1, "resnet101_v1": resnet101_v1,  # noqa: F405
    "resnet152_v1": resnet152_v1,  # noqa: F405
    "resnet18_v2": resnet18_v2, "resnet34_v2": resnet34_v2,  # noqa: F405
    "resnet50_v2": resnet50_v2, "resnet101_v2": resnet101_v2,  # noqa: F405
    "resnet152_v2": resnet152_v2,  # noqa: F405
    "vgg11": vgg11, "vgg13": vgg13, "vgg16": vgg16, "vgg19": vgg19,  # noqa: F405
    "vgg11_bn": vgg11_bn, "vgg13_bn": vgg13_bn,  # noqa: F405
    "vgg16_bn": vgg16_bn, "vgg19_bn": vgg19_bn,  # noqa: F405
    "alexnet": alexnet,  # noqa: F405
    "densenet121": densenet121, "densenet161": densenet161,  # noqa: F405
    "densenet169": densenet169, "densenet201": densenet201,  # noqa: F405
    "squeezenet1.0": squeezenet1_0, "squeezenet1.1": squeezenet1_1,  # noqa: F405
    "inceptionv3": inception_v3,  # noqa: F405
    "mobilenet1.0": mobilenet1_0, "mobilenet0.75": mobilenet0_75,  # noqa: F405
    "mobilenet0.5": mobilenet0_5, "mobilenet0.25": mobilenet0_25,  # noqa: F405
    "mobilenetv2_1.0": mobilenet_v2_1_0,  # noqa: F405
    "mobilenetv2_0.75": mobilenet_v2_0_75,  # noqa: F405
    "mobilenetv2_0.5": mobilenet_v2_0_5,  # noqa: F405
    "mobilenetv2_0.25": mobilenet_v2_0_25,  # noqa: F405
}

__all__ = (["get_model"] + _alexnet_all + _densenet_all + _inception_all + _resnet_all
           + _squeezenet_all + _vgg_all + _mobilenet_all)


def get_model(name, **kwargs):
    """The model called `name` (case-insensitive; MXNet's names, e.g. 'resnet50_v2',
    'squeezenet1.1', 'mobilenetv2_0.25'); kwargs go to its constructor function
    (pretrained, ctx, root, classes, ...)."""
    key = str(name).lower()
    if key not in _MODELS:
        raise PlaitError("model_zoo.vision.get_model: model %r is not supported; available "
                         "models:\n\t%s" % (name, "\n\t".join(sorted(_MODELS))))
    return _MODELS[key](**kwargs)
