"""Convert a Caffe model to plait and run it.

Run: python examples/caffe_convert.py [MODEL.prototxt MODEL.caffemodel]

Without arguments it uses the LeNet definition shipped with the tests and writes seeded random
weights for it (no trained .caffemodel is needed), converts the pair with
mx.contrib.caffe.convert_model -- the same as `python tools/caffe_converter.py` -- and loads
the checkpoint back with mx.gluon.SymbolBlock.imports.  If OpenCV is installed, the output is
checked against cv2.dnn.readNetFromCaffe, which runs Caffe models without Caffe.
"""
import os
import sys
import tempfile

import numpy as np

import plait as mx

HERE = os.path.dirname(os.path.abspath(__file__))
LENET = os.path.join(HERE, "..", "tests", "fixtures", "caffe", "prototxt", "lenet.prototxt")


def main(argv):
    tmp = tempfile.mkdtemp(prefix="plait_caffe_")
    if len(argv) == 2:
        prototxt, caffemodel = argv
    else:
        from plait.core.caffe.weights import random_caffemodel
        prototxt, caffemodel = LENET, os.path.join(tmp, "lenet.caffemodel")
        random_caffemodel(prototxt, caffemodel, seed=0, input_shape=(1, 1, 28, 28))
        print("wrote random LeNet weights to", caffemodel)

    prefix = os.path.join(tmp, "converted")
    sym, arg_params, aux_params, input_shape = mx.contrib.caffe.convert_model(
        prototxt, caffemodel, prefix=prefix)
    (name, shape), = input_shape.items()
    shape = (1,) + tuple(shape[1:])
    print("converted: %d arguments, %d aux states; input %s %s"
          % (len(arg_params), len(aux_params), name, shape))

    net = mx.gluon.SymbolBlock.imports(prefix + "-symbol.json", [name], prefix + "-0000.params")
    net.hybridize()
    x = np.random.default_rng(0).uniform(0, 1, shape).astype(np.float32)
    out = net(mx.nd.array(x)).asnumpy()
    print("plait output %s, top class %d (p = %.3f)" % (out.shape, out.argmax(), out.max()))

    try:
        import cv2
    except ImportError:
        return
    ref = cv2.dnn.readNetFromCaffe(prototxt, caffemodel)
    ref.setInput(x)
    ref = ref.forward()
    print("OpenCV dnn agrees to %.2g (max abs difference)"
          % np.abs(out - ref.reshape(out.shape)).max())


if __name__ == "__main__":
    main(sys.argv[1:])
