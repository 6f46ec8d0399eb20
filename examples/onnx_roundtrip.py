"""Train a small CNN, export it to ONNX, run it in onnxruntime, import it back.

Run: python examples/onnx_roundtrip.py      (needs the onnx extra: pip install 'plait[onnx]')
"""
import os
import tempfile

import numpy as np

import plait as mx
from plait import autograd, gluon
from plait.gluon import nn


def make_data(n, rng):
    """Two classes of 1x8x8 images: a bright horizontal or vertical bar, plus noise."""
    x = rng.normal(0, 0.3, (n, 1, 8, 8)).astype(np.float32)
    y = rng.randint(0, 2, n)
    pos = rng.randint(1, 7, n)
    for i in range(n):
        if y[i]:
            x[i, 0, :, pos[i]] += 1.5
        else:
            x[i, 0, pos[i], :] += 1.5
    return x, y.astype(np.float32)


def build():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(8, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
            nn.MaxPool2D(2), nn.Conv2D(16, 3, padding=1), nn.Activation("relu"),
            nn.GlobalAvgPool2D(), nn.Flatten(), nn.Dropout(0.2), nn.Dense(2))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    return net


def train(net, x, y, epochs=5, batch=32):
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for epoch in range(epochs):
        total = 0.0
        for i in range(0, len(x), batch):
            xb, yb = mx.nd.array(x[i:i + batch]), mx.nd.array(y[i:i + batch])
            with autograd.record():
                loss = loss_fn(net(xb), yb)
            loss.backward()
            trainer.step(xb.shape[0])
            total += float(loss.sum().asscalar())
        print("epoch %d: loss %.4f" % (epoch, total / len(x)))


def main():
    rng = np.random.RandomState(0)
    x, y = make_data(512, rng)
    xt, yt = make_data(128, rng)
    net = build()
    train(net, x, y)
    ref = net(mx.nd.array(xt)).asnumpy()
    print("plait test accuracy: %.3f" % (ref.argmax(1) == yt).mean())

    with tempfile.TemporaryDirectory(prefix="plait_onnx_") as folder:
        export_and_check(net, xt, ref, folder)


def export_and_check(net, xt, ref, folder):
    import onnx
    import onnxruntime as ort

    path = os.path.join(folder, "cnn.onnx")
    # a HybridBlock exports directly; a Symbol + params dict (or -symbol.json + .params
    # files, as in MXNet 1.9) work the same way.  dynamic=True: any batch size.
    mx.onnx.export_model(net, None, in_shapes=[(1, 1, 8, 8)], onnx_file_path=path,
                         dynamic=True, dynamic_input_shapes=[(None, 1, 8, 8)])
    model = onnx.load(path)
    print("exported %s: opset %d, ops %s" % (path, model.opset_import[0].version,
                                           [n.op_type for n in model.graph.node]))

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    out = sess.run(None, {"data": xt})[0]
    print("onnxruntime vs plait: max abs difference %.2e" % np.abs(out - ref).max())
    assert np.allclose(out, ref, rtol=1e-4, atol=1e-5)

    # import back (a fixed-shape export: the importer infers weight shapes from it)
    fixed = os.path.join(folder, "cnn_fixed.onnx")
    mx.onnx.export_model(net, None, in_shapes=[xt.shape], onnx_file_path=fixed)
    sym, arg_params, aux_params = mx.onnx.import_model(fixed)  # MXNet 1.9's triple
    print("imported: %d weights, data inputs %s" % (
        len(arg_params) + len(aux_params),
        [n for n in sym.list_arguments() if n not in arg_params]))
    block = mx.onnx.import_to_gluon(fixed, mx.cpu())             # or a ready SymbolBlock
    back = block(mx.nd.array(xt)).asnumpy()
    print("re-imported plait model vs original: max abs difference %.2e"
          % np.abs(back - ref).max())
    assert np.allclose(back, ref, rtol=1e-4, atol=1e-5)


if __name__ == "__main__":
    main()
