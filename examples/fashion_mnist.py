"""Train a LeNet-style CNN on Fashion-MNIST with plait, MXNet 1.9's Gluon API unchanged.

    python examples/fashion_mnist.py            # 5 epochs on the full data set
    python examples/fashion_mnist.py --quick    # a slice of the data, 1 epoch, under a minute

Reads the four IDX files (gzipped or not) from --data-dir, else ~/.mxnet/datasets/fashion-mnist,
else /usr/share/datasets/fashion-mnist (Debian: apt-get install dataset-fashion-mnist). Shows a
progress bar, writes a TensorBoard log, checkpoints every epoch, reports the test accuracy,
saves the parameters, exports the hybridized graph (-symbol.json + .params) and, when the onnx
package is installed, an ONNX model checked with onnxruntime.
"""
import argparse
import os
import sys
import time

import numpy as np

import plait as mx
from plait import gluon
from plait.gluon.contrib.estimator import CheckpointHandler, Estimator, ProgressBarHandler
from plait.gluon.data.vision import transforms

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "fixtures", "data", "fashion_small")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=None, help="folder with the four Fashion-MNIST IDX files")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3, help="Adam's learning rate")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--out", default="fashion_mnist_out", help="folder for logs and models")
    p.add_argument("--quick", action="store_true",
                   help="1 epoch on 3,000 training images (or the test fixture slice)")
    p.add_argument("--seed", type=int, default=42)
    return p.parse_args(argv)


def lenet():
    """LeNet with batch normalisation: two 5x5 conv blocks, a 500-unit hidden layer."""
    net = gluon.nn.HybridSequential(prefix="lenet_")
    with net.name_scope():
        net.add(gluon.nn.Conv2D(20, kernel_size=5, in_channels=1, use_bias=False),
                gluon.nn.BatchNorm(in_channels=20), gluon.nn.Activation("relu"),
                gluon.nn.MaxPool2D(pool_size=2, strides=2),
                gluon.nn.Conv2D(50, kernel_size=5, in_channels=20, use_bias=False),
                gluon.nn.BatchNorm(in_channels=50), gluon.nn.Activation("relu"),
                gluon.nn.MaxPool2D(pool_size=2, strides=2),
                gluon.nn.Flatten(),
                gluon.nn.Dense(500, activation="relu", in_units=800),
                gluon.nn.Dropout(0.3),
                gluon.nn.Dense(10, in_units=500))
    return net


def load_data(args):
    """(train, test) FashionMNIST datasets; --quick uses a slice."""
    roots = [args.data_dir] if args.data_dir else [None]
    if args.quick and not args.data_dir:
        roots.append(FIXTURE)  # CI and machines without the Debian package
    err = None
    for root in roots:
        try:
            kw = {} if root is None else {"root": root}
            train = gluon.data.vision.FashionMNIST(train=True, **kw)
            test = gluon.data.vision.FashionMNIST(train=False, **kw)
            break
        except (IOError, OSError, ValueError) as e:  # files absent: try the next root
            err = e
    else:
        sys.exit("fashion_mnist.py: %s" % err)
    if args.quick:
        train, test = train.take(3000), test.take(1000)
    return train, test


def main(argv=None):
    args = parse_args(argv)
    if args.quick:
        args.epochs = 1
    mx.random.seed(args.seed)
    np.random.seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    train, test = load_data(args)
    print("Fashion-MNIST: %d training and %d test images" % (len(train), len(test)))

    to_input = transforms.Compose([transforms.ToTensor(), transforms.Normalize(0.286, 0.353)])
    train_data = gluon.data.DataLoader(train.transform_first(to_input), args.batch_size,
                                       shuffle=True, num_workers=args.workers)
    test_data = gluon.data.DataLoader(test.transform_first(to_input), 256,
                                      num_workers=args.workers)

    net = lenet()
    net.initialize(mx.init.Xavier(magnitude=2.24))
    net.hybridize(static_alloc=True, static_shape=True)
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": args.lr})
    est = Estimator(net, loss=gluon.loss.SoftmaxCrossEntropyLoss(),
                    train_metrics=[mx.metric.Accuracy(), mx.metric.Loss("loss")],
                    trainer=trainer)
    handlers = [ProgressBarHandler(),
                CheckpointHandler(os.path.join(args.out, "checkpoints"), model_prefix="lenet")]
    try:
        from plait.gluon.contrib.estimator import TensorBoardHandler
        handlers.append(TensorBoardHandler(os.path.join(args.out, "tensorboard")))
    except ImportError:
        print("(tensorboardX is not installed: no TensorBoard log; pip install tensorboardX)")

    start = time.time()
    est.fit(train_data, val_data=test_data, epochs=args.epochs, event_handlers=handlers)
    wall = time.time() - start
    for h in handlers:
        getattr(h, "close", lambda: None)()
    acc = est.val_metrics[0].get()[1]
    n_train = args.epochs * len(train)
    print("Test accuracy %.2f%% after %d epoch(s); %.1f s of training, %.0f images/s"
          % (100 * acc, args.epochs, wall, n_train / wall))

    params = os.path.join(args.out, "lenet.params")
    net.save_parameters(params)
    prefix = os.path.join(args.out, "lenet")
    net.export(prefix, epoch=args.epochs)
    print("Saved %s, exported %s-symbol.json and %s-%04d.params"
          % (params, prefix, prefix, args.epochs))
    export_onnx(net, prefix, args, test)
    return acc


def export_onnx(net, prefix, args, test):
    """Export to ONNX and check onnxruntime agrees with plait on a few test images."""
    try:
        import onnxruntime as ort
        onnx_path = mx.onnx.export_model(prefix + "-symbol.json",
                                         "%s-%04d.params" % (prefix, args.epochs),
                                         in_shapes=[(1, 1, 28, 28)], in_types=[np.float32],
                                         onnx_file_path=prefix + ".onnx", dynamic=True)
    except ImportError as e:
        print("(ONNX export skipped: %s)" % e)
        return
    to_input = transforms.Compose([transforms.ToTensor(), transforms.Normalize(0.286, 0.353)])
    x = mx.nd.stack(*[to_input(test[i][0]) for i in range(8)])
    ours = net(x).asnumpy()
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    theirs = sess.run(None, {sess.get_inputs()[0].name: x.asnumpy()})[0]
    print("Exported %s; onnxruntime agrees with plait to %.1e (max abs difference); first "
          "test image: %s" % (onnx_path, float(np.abs(ours - theirs).max()),
                              CLASSES[int(theirs[0].argmax())]))


if __name__ == "__main__":
    main()
