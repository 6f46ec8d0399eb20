"""Inception V3 ("Rethinking the Inception Architecture for Computer Vision", Szegedy et
al. 2015), as MXNet 1.9's zoo builds it (parameter names 'inception30_conv0_weight',
'inception30_A1_conv0_weight', ...).  Built for 299x299 inputs: the final 8x8 average
pool needs at least 8x8 features (inputs of about 299x299)."""
from ....core.context import cpu
from ...block import HybridBlock
from ... import nn
from ...contrib.nn import HybridConcurrent
from ..model_store import load_pretrained

__all__ = ["Inception3", "inception_v3"]

_CONV_SETTING_NAMES = ("channels", "kernel_size", "strides", "padding")


def _basic_conv(**kwargs):
    """conv (no bias) + BatchNorm(epsilon=1e-3) + relu."""
    out = nn.HybridSequential(prefix="")
    out.add(nn.Conv2D(use_bias=False, **kwargs), nn.BatchNorm(epsilon=0.001),
            nn.Activation("relu"))
    return out


def _branch(use_pool, *conv_settings):
    """An optional pool ('avg': 3x3/1 pad 1, 'max': 3x3/2) then one basic conv per setting
    (channels, kernel_size, strides, padding); None entries keep Conv2D's default."""
    out = nn.HybridSequential(prefix="")
    if use_pool == "avg":
        out.add(nn.AvgPool2D(pool_size=3, strides=1, padding=1))
    elif use_pool == "max":
        out.add(nn.MaxPool2D(pool_size=3, strides=2))
    for setting in conv_settings:
        out.add(_basic_conv(**{k: v for k, v in zip(_CONV_SETTING_NAMES, setting)
                               if v is not None}))
    return out


def _concurrent(prefix, *branches):
    """Branches built inside the HybridConcurrent's name scope (thunks, so their names take
    its prefix), concatenated on the channel axis."""
    out = HybridConcurrent(axis=1, prefix=prefix)
    with out.name_scope():
        for make in branches:
            out.add(make())
    return out


def _make_A(pool_features, prefix):
    return _concurrent(
        prefix,
        lambda: _branch(None, (64, 1, None, None)),
        lambda: _branch(None, (48, 1, None, None), (64, 5, None, 2)),
        lambda: _branch(None, (64, 1, None, None), (96, 3, None, 1), (96, 3, None, 1)),
        lambda: _branch("avg", (pool_features, 1, None, None)))


def _make_B(prefix):
    return _concurrent(
        prefix,
        lambda: _branch(None, (384, 3, 2, None)),
        lambda: _branch(None, (64, 1, None, None), (96, 3, None, 1), (96, 3, 2, None)),
        lambda: _branch("max"))


def _make_C(c7, prefix):
    return _concurrent(
        prefix,
        lambda: _branch(None, (192, 1, None, None)),
        lambda: _branch(None, (c7, 1, None, None), (c7, (1, 7), None, (0, 3)),
                        (192, (7, 1), None, (3, 0))),
        lambda: _branch(None, (c7, 1, None, None), (c7, (7, 1), None, (3, 0)),
                        (c7, (1, 7), None, (0, 3)), (c7, (7, 1), None, (3, 0)),
                        (192, (1, 7), None, (0, 3))),
        lambda: _branch("avg", (192, 1, None, None)))


def _make_D(prefix):
    return _concurrent(
        prefix,
        lambda: _branch(None, (192, 1, None, None), (320, 3, 2, None)),
        lambda: _branch(None, (192, 1, None, None), (192, (1, 7), None, (0, 3)),
                        (192, (7, 1), None, (3, 0)), (192, 3, 2, None)),
        lambda: _branch("max"))


def _split_3x3(stem):
    """`stem` then concat(1x3 conv, 3x1 conv) of 384 channels each."""
    out = nn.HybridSequential(prefix="")
    out.add(stem)
    split = HybridConcurrent(axis=1, prefix="")
    split.add(_branch(None, (384, (1, 3), None, (0, 1))))
    split.add(_branch(None, (384, (3, 1), None, (1, 0))))
    out.add(split)
    return out


def _make_E(prefix):
    return _concurrent(
        prefix,
        lambda: _branch(None, (320, 1, None, None)),
        lambda: _split_3x3(_branch(None, (384, 1, None, None))),
        lambda: _split_3x3(_branch(None, (448, 1, None, None), (384, 3, None, 1))),
        lambda: _branch("avg", (192, 1, None, None)))


class Inception3(HybridBlock):
    """Inception V3 without the auxiliary head: a conv stem, blocks A1-A3, B, C1-C4, D,
    E1-E2, an 8x8 average pool, Dropout(0.5), Dense(classes)."""

    def __init__(self, classes=1000, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = f = nn.HybridSequential(prefix="")
            f.add(_basic_conv(channels=32, kernel_size=3, strides=2))
            f.add(_basic_conv(channels=32, kernel_size=3))
            f.add(_basic_conv(channels=64, kernel_size=3, padding=1))
            f.add(nn.MaxPool2D(pool_size=3, strides=2))
            f.add(_basic_conv(channels=80, kernel_size=1))
            f.add(_basic_conv(channels=192, kernel_size=3))
            f.add(nn.MaxPool2D(pool_size=3, strides=2))
            f.add(_make_A(32, "A1_"), _make_A(64, "A2_"), _make_A(64, "A3_"))
            f.add(_make_B("B_"))
            f.add(_make_C(128, "C1_"), _make_C(160, "C2_"), _make_C(160, "C3_"),
                  _make_C(192, "C4_"))
            f.add(_make_D("D_"))
            f.add(_make_E("E1_"), _make_E("E2_"))
            f.add(nn.AvgPool2D(pool_size=8), nn.Dropout(0.5))
            self.output = nn.Dense(classes)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def inception_v3(pretrained=False, ctx=cpu(), root=None, **kwargs):
    """Inception V3; pretrained=True loads <root>/inceptionv3-<hash>.params (root defaults
    to $MXNET_HOME/models, else ~/.mxnet/models)."""
    net = Inception3(**kwargs)
    if pretrained:
        load_pretrained(net, "inceptionv3", ctx, root)
    return net
