"""ResNet V1 ("Deep Residual Learning for Image Recognition", He et al. 2015) and V2
("Identity Mappings in Deep Residual Networks", He et al. 2016), as MXNet 1.9's zoo
builds them: same block tree, so the same parameter names ('resnetv10_stage1_conv0_weight')
and MXNet-saved .params load unchanged.

V1 blocks end with relu(body(x) + shortcut); V2 blocks are pre-activation
(bn -> relu -> conv) and the shortcut is taken after the first bn+relu.
"""
from ....core.base import PlaitError
from ....core.context import cpu
from ...block import HybridBlock
from ... import nn
from ..model_store import load_pretrained

__all__ = ["ResNetV1", "ResNetV2", "BasicBlockV1", "BasicBlockV2", "BottleneckV1",
           "BottleneckV2", "resnet18_v1", "resnet34_v1", "resnet50_v1", "resnet101_v1",
           "resnet152_v1", "resnet18_v2", "resnet34_v2", "resnet50_v2", "resnet101_v2",
           "resnet152_v2", "get_resnet"]


def _conv3x3(channels, stride, in_channels):
    return nn.Conv2D(channels, kernel_size=3, strides=stride, padding=1, use_bias=False,
                     in_channels=in_channels)


def _conv1x1(channels, stride, in_channels=0, use_bias=True):
    return nn.Conv2D(channels, kernel_size=1, strides=stride, use_bias=use_bias,
                     in_channels=in_channels)


class _ResidualV1(HybridBlock):
    """relu(body(x) + downsample(x) or x); subclasses fill `body` and `downsample`."""

    def _add_downsample(self, downsample, channels, stride, in_channels):
        if downsample:
            self.downsample = nn.HybridSequential(prefix="")
            self.downsample.add(_conv1x1(channels, stride, in_channels, use_bias=False),
                                nn.BatchNorm())
        else:
            self.downsample = None

    def hybrid_forward(self, F, x):
        residual = self.downsample(x) if self.downsample else x
        return F.Activation(self.body(x) + residual, act_type="relu")


class BasicBlockV1(_ResidualV1):
    """Two 3x3 convolutions (ResNet-18/34 V1). in_channels=0 infers it at first use."""

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.body = nn.HybridSequential(prefix="")
        self.body.add(_conv3x3(channels, stride, in_channels), nn.BatchNorm(),
                      nn.Activation("relu"), _conv3x3(channels, 1, channels), nn.BatchNorm())
        self._add_downsample(downsample, channels, stride, in_channels)


class BottleneckV1(_ResidualV1):
    """1x1 (stride) -> 3x3 -> 1x1 with channels//4 inside (ResNet-50/101/152 V1)."""

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.body = nn.HybridSequential(prefix="")
        self.body.add(_conv1x1(channels // 4, stride), nn.BatchNorm(), nn.Activation("relu"),
                      _conv3x3(channels // 4, 1, channels // 4), nn.BatchNorm(),
                      nn.Activation("relu"), _conv1x1(channels, 1), nn.BatchNorm())
        self._add_downsample(downsample, channels, stride, in_channels)


class _ResidualV2(HybridBlock):
    """Pre-activation: each conv_i follows bn_i + relu; the shortcut is downsample applied
    to relu(bn1(x)), else x itself."""
    _convs = 0

    def hybrid_forward(self, F, x):
        residual = x
        for i in range(1, self._convs + 1):
            x = F.Activation(getattr(self, "bn%d" % i)(x), act_type="relu")
            if i == 1 and self.downsample:
                residual = self.downsample(x)
            x = getattr(self, "conv%d" % i)(x)
        return x + residual

    def _add_downsample(self, downsample, channels, stride, in_channels):
        self.downsample = (nn.Conv2D(channels, 1, stride, use_bias=False,
                                     in_channels=in_channels) if downsample else None)


class BasicBlockV2(_ResidualV2):
    """Pre-activation basic block (ResNet-18/34 V2)."""
    _convs = 2

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.bn1 = nn.BatchNorm()
        self.conv1 = _conv3x3(channels, stride, in_channels)
        self.bn2 = nn.BatchNorm()
        self.conv2 = _conv3x3(channels, 1, channels)
        self._add_downsample(downsample, channels, stride, in_channels)


class BottleneckV2(_ResidualV2):
    """Pre-activation bottleneck (ResNet-50/101/152 V2); the stride is on the 3x3."""
    _convs = 3

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.bn1 = nn.BatchNorm()
        self.conv1 = _conv1x1(channels // 4, 1, use_bias=False)
        self.bn2 = nn.BatchNorm()
        self.conv2 = _conv3x3(channels // 4, stride, channels // 4)
        self.bn3 = nn.BatchNorm()
        self.conv3 = _conv1x1(channels, 1, use_bias=False)
        self._add_downsample(downsample, channels, stride, in_channels)


def _check_spec(layers, channels):
    if len(layers) != len(channels) - 1:
        raise PlaitError("ResNet: channels needs one entry more than layers (the stem's "
                         "width first); got layers=%s, channels=%s" % (layers, channels))


def _stem(features, channels, thumbnail):
    """The 7x7/2 conv + bn + relu + 3x3/2 max pool stem, or one 3x3 conv (thumbnail,
    for 32x32 inputs)."""
    if thumbnail:
        features.add(_conv3x3(channels, 1, 0))
    else:
        features.add(nn.Conv2D(channels, 7, 2, 3, use_bias=False), nn.BatchNorm(),
                     nn.Activation("relu"), nn.MaxPool2D(3, 2, 1))


def _make_stage(block, num_blocks, channels, stride, stage_index, in_channels):
    stage = nn.HybridSequential(prefix="stage%d_" % stage_index)
    with stage.name_scope():
        stage.add(block(channels, stride, channels != in_channels, in_channels=in_channels,
                        prefix=""))
        for _ in range(num_blocks - 1):
            stage.add(block(channels, 1, False, in_channels=channels, prefix=""))
    return stage


class ResNetV1(HybridBlock):
    """ResNet V1: stem, len(layers) stages (stride 2 from the second), global average
    pool, Dense(classes).  `channels` lists the stem width then each stage's width."""

    def __init__(self, block, layers, channels, classes=1000, thumbnail=False, **kwargs):
        super().__init__(**kwargs)
        _check_spec(layers, channels)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            _stem(self.features, channels[0], thumbnail)
            for i, num_blocks in enumerate(layers):
                self.features.add(_make_stage(block, num_blocks, channels[i + 1],
                                              1 if i == 0 else 2, i + 1, channels[i]))
            self.features.add(nn.GlobalAvgPool2D())
            self.output = nn.Dense(classes, in_units=channels[-1])

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


class ResNetV2(HybridBlock):
    """ResNet V2: a data BatchNorm (no scale/shift), stem, pre-activation stages, a final
    bn + relu, global average pool, Dense(classes)."""

    def __init__(self, block, layers, channels, classes=1000, thumbnail=False, **kwargs):
        super().__init__(**kwargs)
        _check_spec(layers, channels)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            self.features.add(nn.BatchNorm(scale=False, center=False))
            _stem(self.features, channels[0], thumbnail)
            for i, num_blocks in enumerate(layers):
                self.features.add(_make_stage(block, num_blocks, channels[i + 1],
                                              1 if i == 0 else 2, i + 1, channels[i]))
            self.features.add(nn.BatchNorm(), nn.Activation("relu"), nn.GlobalAvgPool2D(),
                              nn.Flatten())
            self.output = nn.Dense(classes, in_units=channels[-1])

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


# depth -> (block kind, blocks per stage, stem width + stage widths)
resnet_spec = {18: ("basic_block", [2, 2, 2, 2], [64, 64, 128, 256, 512]),
               34: ("basic_block", [3, 4, 6, 3], [64, 64, 128, 256, 512]),
               50: ("bottle_neck", [3, 4, 6, 3], [64, 256, 512, 1024, 2048]),
               101: ("bottle_neck", [3, 4, 23, 3], [64, 256, 512, 1024, 2048]),
               152: ("bottle_neck", [3, 8, 36, 3], [64, 256, 512, 1024, 2048])}
resnet_net_versions = [ResNetV1, ResNetV2]
resnet_block_versions = [{"basic_block": BasicBlockV1, "bottle_neck": BottleneckV1},
                         {"basic_block": BasicBlockV2, "bottle_neck": BottleneckV2}]


def get_resnet(version, num_layers, pretrained=False, ctx=cpu(), root=None, **kwargs):
    """ResNet `version` (1 or 2) with `num_layers` (18, 34, 50, 101, 152).  pretrained=True
    loads <root>/resnet<num_layers>_v<version>-<hash>.params (root defaults to
    $MXNET_HOME/models, else ~/.mxnet/models) onto ctx."""
    if num_layers not in resnet_spec:
        raise PlaitError("get_resnet: num_layers=%r is not one of %s"
                         % (num_layers, sorted(resnet_spec)))
    if version not in (1, 2):
        raise PlaitError("get_resnet: version=%r is not 1 or 2" % (version,))
    kind, layers, channels = resnet_spec[num_layers]
    block = resnet_block_versions[version - 1][kind]
    net = resnet_net_versions[version - 1](block, layers, channels, **kwargs)
    if pretrained:
        load_pretrained(net, "resnet%d_v%d" % (num_layers, version), ctx, root)
    return net


def resnet18_v1(**kwargs):
    """ResNet-18 V1 (see get_resnet for pretrained/ctx/root; other kwargs go to ResNetV1)."""
    return get_resnet(1, 18, **kwargs)


def resnet34_v1(**kwargs):
    """ResNet-34 V1."""
    return get_resnet(1, 34, **kwargs)


def resnet50_v1(**kwargs):
    """ResNet-50 V1."""
    return get_resnet(1, 50, **kwargs)


def resnet101_v1(**kwargs):
    """ResNet-101 V1."""
    return get_resnet(1, 101, **kwargs)


def resnet152_v1(**kwargs):
    """ResNet-152 V1."""
    return get_resnet(1, 152, **kwargs)


def resnet18_v2(**kwargs):
    """ResNet-18 V2 (see get_resnet for pretrained/ctx/root; other kwargs go to ResNetV2)."""
    return get_resnet(2, 18, **kwargs)


def resnet34_v2(**kwargs):
    """ResNet-34 V2."""
    return get_resnet(2, 34, **kwargs)


def resnet50_v2(**kwargs):
    """ResNet-50 V2."""
    return get_resnet(2, 50, **kwargs)


def resnet101_v2(**kwargs):
    """ResNet-101 V2."""
    return get_resnet(2, 101, **kwargs)


def resnet152_v2(**kwargs):
    """ResNet-152 V2."""
    return get_resnet(2, 152, **kwargs)
