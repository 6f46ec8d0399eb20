"""AlexNet ("One weird trick for parallelizing convolutional neural networks",
Krizhevsky 2014), as MXNet 1.9's zoo builds it (parameter names 'alexnet0_conv0_weight',
..., 'alexnet0_dense2_weight')."""
from ....core.context import cpu
from ...block import HybridBlock
from ... import nn
from ..model_store import load_pretrained

__all__ = ["AlexNet", "alexnet"]


class AlexNet(HybridBlock):
    """Five convs (11x11/4, 5x5, three 3x3) with three 3x3/2 max pools, two
    Dense(4096)+Dropout(0.5), then Dense(classes).  Needs inputs of at least 63x63."""

    def __init__(self, classes=1000, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            with self.features.name_scope():
                f = self.features
                f.add(nn.Conv2D(64, kernel_size=11, strides=4, padding=2, activation="relu"))
                f.add(nn.MaxPool2D(pool_size=3, strides=2))
                f.add(nn.Conv2D(192, kernel_size=5, padding=2, activation="relu"))
                f.add(nn.MaxPool2D(pool_size=3, strides=2))
                f.add(nn.Conv2D(384, kernel_size=3, padding=1, activation="relu"))
                f.add(nn.Conv2D(256, kernel_size=3, padding=1, activation="relu"))
                f.add(nn.Conv2D(256, kernel_size=3, padding=1, activation="relu"))
                f.add(nn.MaxPool2D(pool_size=3, strides=2))
                f.add(nn.Flatten())
                f.add(nn.Dense(4096, activation="relu"), nn.Dropout(0.5))
                f.add(nn.Dense(4096, activation="relu"), nn.Dropout(0.5))
            self.output = nn.Dense(classes)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def alexnet(pretrained=False, ctx=cpu(), root=None, **kwargs):
    """AlexNet; pretrained=True loads <root>/alexnet-<hash>.params (root defaults to
    $MXNET_HOME/models, else ~/.mxnet/models)."""
    net = AlexNet(**kwargs)
    if pretrained:
        load_pretrained(net, "alexnet", ctx, root)
    return net
