"""Make the ONNX import fixtures of tests/onnx/test_import_foreign.py.

    /tmp/plait-anchors/torch/bin/python tools/make_onnx_fixtures.py torch
    /tmp/plait-anchors/mxnet/bin/python tools/make_onnx_fixtures.py mxnet

torch: a few small models written here (CNNs with BatchNorm statistics randomised, a residual
net with depthwise conv / upsampling / concat, an LSTM and a GRU) exported by torch.onnx.export;
mxnet: a Gluon CNN exported by real MXNet 1.9.1's mx.onnx.export_model.  Each model is saved
as tests/fixtures/onnx/<name>.onnx with <name>.npz holding its inputs (in0, in1, ...) and the
framework's own outputs (out0, out1, ...).
"""
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "onnx")


def _save(name, inputs, outputs):
    np.savez(os.path.join(OUT, name + ".npz"),
             **{"in%d" % i: a for i, a in enumerate(inputs)},
             **{"out%d" % i: a for i, a in enumerate(outputs)})


# -- torch --------------------------------------------------------------------------------------
def torch_models():
    import torch
    from torch import nn
    torch.manual_seed(0)

    def randomise_bn(model):
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.5, 0.5)

    class SmallCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.f = nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2, bias=False),
                nn.BatchNorm2d(16), nn.ReLU6(), nn.AvgPool2d(2, ceil_mode=True),
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10), nn.LogSoftmax(1))

        def forward(self, x):
            return self.f(x)

    class ResNetish(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 5, stride=2, padding=2)
            self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
            self.pw = nn.Conv2d(8, 8, 1)
            self.bn = nn.BatchNorm2d(8)
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.head = nn.Conv2d(11, 4, 1)
            self.tconv = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)

        def forward(self, x):
            h = torch.relu(self.stem(x))
            h = h + self.bn(self.pw(torch.nn.functional.hardswish(self.dw(h))))
            h = self.up(torch.sigmoid(h) * h)
            h = torch.cat([h, x], dim=1)
            h = torch.nn.functional.leaky_relu(self.head(h), 0.1)
            y = self.tconv(h)
            return y.mean(dim=(2, 3)), torch.nn.functional.gelu(y[:, :, 1:-1:2, ::3])

    class LSTMNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(5, 6, num_layers=2, bidirectional=True)
            self.fc = nn.Linear(12, 3)

        def forward(self, x):
            y, (h, c) = self.lstm(x)
            return self.fc(y), h, c

    class GRUNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(4, 5, batch_first=True)

        def forward(self, x, h0):
            y, h = self.gru(x, h0)
            return torch.tanh(y), h

    r = np.random.default_rng(0)
    models = [("torch_small_cnn", SmallCNN(), [r.standard_normal((2, 3, 16, 16))]),
              ("torch_resnetish", ResNetish(), [r.standard_normal((1, 3, 12, 12))]),
              ("torch_lstm", LSTMNet(), [r.standard_normal((7, 2, 5))]),
              ("torch_gru", GRUNet(), [r.standard_normal((2, 6, 4)), r.standard_normal((1, 2, 5))])]
    for name, model, inputs in models:
        randomise_bn(model)
        model.eval()
        inputs = [a.astype(np.float32) for a in inputs]
        tin = tuple(torch.from_numpy(a) for a in inputs)
        with torch.no_grad():
            outs = model(*tin)
        outs = outs if isinstance(outs, tuple) else (outs,)
        path = os.path.join(OUT, name + ".onnx")
        torch.onnx.export(model, tin, path, opset_version=17, dynamo=False,
                          input_names=["in%d" % i for i in range(len(inputs))],
                          output_names=["out%d" % i for i in range(len(outs))])
        _save(name, inputs, [o.numpy() for o in outs])
        print("wrote", name, os.path.getsize(path), "bytes")


# -- mxnet --------------------------------------------------------------------------------------
def _shim_onnx_mapping():
    """MXNet 1.9.1's exporter imports `onnx.mapping`, removed in onnx 1.15: give it the two
    tables it reads, built from onnx.helper (only in this fixture script)."""
    import types
    import onnx
    from onnx import helper
    try:
        import onnx.mapping  # noqa: F401
        return
    except ImportError:
        pass
    m = types.ModuleType("onnx.mapping")
    codes = [v for v in onnx.TensorProto.DataType.values() if v not in (0, 8)]
    m.TENSOR_TYPE_TO_NP_TYPE = {}
    for code in codes:
        try:
            m.TENSOR_TYPE_TO_NP_TYPE[code] = helper.tensor_dtype_to_np_dtype(code)
        except Exception:  # types NumPy has no dtype for
            pass
    m.NP_TYPE_TO_TENSOR_TYPE = {v: k for k, v in m.TENSOR_TYPE_TO_NP_TYPE.items()
                                if k in (1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15)}
    sys.modules["onnx.mapping"] = m
    onnx.mapping = m


def mxnet_models():
    import mxnet as mx
    from mxnet.gluon import nn
    mx.random.seed(0)
    net = nn.HybridSequential()
    net.add(nn.Conv2D(8, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
            nn.MaxPool2D(2), nn.Conv2D(16, 3, strides=2), nn.BatchNorm(), nn.LeakyReLU(0.1),
            nn.GlobalAvgPool2D(), nn.Flatten(), nn.Dense(10))
    net.initialize(mx.init.Xavier())
    r = np.random.default_rng(1)
    x = r.standard_normal((2, 3, 16, 16)).astype(np.float32)
    net(mx.nd.array(x))
    for name, p in net.collect_params().items():
        if "running" in name:
            p.set_data(mx.nd.array(r.uniform(0.5, 1.5, p.shape) if "var" in name
                                   else r.uniform(-0.3, 0.3, p.shape)))
    net.hybridize()
    out = net(mx.nd.array(x)).asnumpy()
    prefix = os.path.join("/tmp", "plait_mx_cnn")
    net.export(prefix)
    path = os.path.join(OUT, "mxnet_cnn.onnx")
    _shim_onnx_mapping()
    try:
        mx.onnx.export_model(prefix + "-symbol.json", prefix + "-0000.params", [x.shape],
                             np.float32, path)
    except Exception as e:  # MXNet 1.9.1's exporter imports onnx.mapping (removed in onnx 1.15+)
        print("MXNet 1.9.1's export_model failed: %s: %s" % (type(e).__name__, e))
        return
    _save("mxnet_cnn", [x], [out])
    print("wrote mxnet_cnn", os.path.getsize(path), "bytes")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    which = sys.argv[1:] or ["torch"]
    if "torch" in which:
        torch_models()
    if "mxnet" in which:
        mxnet_models()
