"""Fixtures for tests/onnx/test_export_mxnet_files.py, made by real MXNet 1.9.1.

    /tmp/plait-anchors/mxnet/bin/python tools/make_onnx_export_fixtures.py

Small models built with MXNet's Gluon and symbol APIs (random weights, randomised BatchNorm
statistics), saved with MXNet's own HybridBlock.export / save_checkpoint, plus an input and
MXNet's output for it.  plait's exporter converts those files and onnxruntime must give
MXNet's numbers.  Output: tests/fixtures/onnx_export/<name>-symbol.json, -0000.params, .npz
"""
import os

import mxnet as mx
import numpy as np
from mxnet.gluon import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "onnx_export")


def randomise(net, rng):
    for name, p in net.collect_params().items():
        if name.endswith(("running_var", "gamma")):
            p.set_data(mx.nd.array(rng.uniform(0.5, 1.5, p.shape)))
        elif name.endswith(("running_mean", "beta")):
            p.set_data(mx.nd.array(rng.uniform(-0.5, 0.5, p.shape)))


class Branchy(nn.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.c1 = nn.Conv2D(6, 3, padding=1)
            self.bn = nn.BatchNorm()
            self.c2 = nn.Conv2D(6, 3, padding=2, dilation=2, groups=3)
            self.pool = nn.AvgPool2D(3, 2, padding=1, ceil_mode=True)
            self.mpool = nn.MaxPool2D(3, 2, padding=1, ceil_mode=True)
            self.deconv = nn.Conv2DTranspose(4, 4, strides=2, padding=1)
            self.prelu = nn.PReLU()
            self.fc = nn.Dense(7)
            self.ln = nn.LayerNorm()
            self.out = nn.Dense(5, flatten=False)

    def hybrid_forward(self, F, x):
        a = F.LeakyReLU(self.bn(self.c1(x)), act_type="leaky", slope=0.1)
        b = self.prelu(self.c2(a))
        y = F.concat(self.pool(a), self.mpool(b), dim=1)
        y = self.deconv(y)
        y = F.Pooling(y, kernel=(2, 2), stride=(2, 2), pool_type="max")
        f = self.fc(y)
        z = self.ln(F.reshape(f, shape=(0, -1, 1)) * F.sigmoid(f).expand_dims(2))
        z = F.transpose(z, axes=(0, 2, 1))
        return F.softmax(self.out(z), axis=-1)


def gluon_model(rng):
    net = Branchy(prefix="branchy_")
    net.initialize(mx.init.Xavier())
    x = mx.nd.array(rng.randn(2, 3, 9, 9))
    net.hybridize()
    net(x)
    randomise(net, rng)
    y = net(x)
    prefix = os.path.join(OUT, "branchy")
    net.export(prefix)
    np.savez(prefix + ".npz", x=x.asnumpy(), y=y.asnumpy())


def symbol_model(rng):
    """The symbol API with a SoftmaxOutput head (its label is not an ONNX input)."""
    data = mx.sym.var("data")
    h = mx.sym.Convolution(data, kernel=(3,), num_filter=4, name="conv")
    h = mx.sym.Activation(h, act_type="tanh", name="act")
    h = mx.sym.Pooling(h, kernel=(2,), stride=(2,), pool_type="avg", name="pool",
                       pooling_convention="full", count_include_pad=False)
    h = mx.sym.Flatten(h, name="flat")
    h = mx.sym.FullyConnected(h, num_hidden=3, name="fc")
    h = mx.sym.clip(h * 2.0 - 0.5, a_min=-2.0, a_max=2.0, name="clipped")
    out = mx.sym.SoftmaxOutput(h, name="softmax")
    x = rng.randn(4, 2, 11).astype(np.float32)
    args, _, _ = out.infer_shape(data=x.shape)
    arg_params = {n: mx.nd.array(rng.randn(*s) * 0.5)
                  for n, s in zip(out.list_arguments(), args) if n not in ("data", "softmax_label")}
    mod = mx.mod.Module(out, data_names=["data"], label_names=["softmax_label"])
    mod.bind(data_shapes=[("data", x.shape)], for_training=False)
    mod.set_params(arg_params, {})
    mod.forward(mx.io.DataBatch([mx.nd.array(x)]), is_train=False)
    y = mod.get_outputs()[0].asnumpy()
    prefix = os.path.join(OUT, "symmlp")
    mx.model.save_checkpoint(prefix, 0, out, arg_params, {})
    np.savez(prefix + ".npz", x=x, y=y)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(0)
    gluon_model(rng)
    symbol_model(rng)
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))


if __name__ == "__main__":
    main()
