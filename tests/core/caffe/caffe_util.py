"""Helpers for the Caffe converter tests: write a prototxt, give it seeded random weights,
convert it with plait and run both plait and OpenCV's dnn (the independent reference)."""
import os

import numpy as np
import pytest

import plait as mx
from plait.core.caffe import convert, weights

# verbatim copies of the real networks (sources in tests/fixtures/caffe/SOURCES.md)
PROTOTXT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "fixtures", "caffe", "prototxt")


def cv2_or_skip():
    return pytest.importorskip("cv2")


def write(tmp_path, text, name="net.prototxt"):
    path = os.path.join(str(tmp_path), name)
    with open(path, "w") as f:
        f.write(text)
    return path


def make_model(tmp_path, proto, seed=0, input_shape=None):
    model = os.path.join(str(tmp_path), os.path.basename(proto) + ".caffemodel")
    weights.random_caffemodel(proto, model, seed=seed, input_shape=input_shape)
    return model


def run_plait(res, feeds, outputs=None):
    """Outputs of a convert() Result on `feeds` ({input name: array}); `outputs` picks
    internal blobs by plait op name (the Caffe layer name)."""
    sym = res.symbol
    if outputs:
        internals = sym.get_internals()
        sym = mx.sym.Group([internals[o + "_output"] for o in outputs])
    args = {k: mx.nd.array(v) for k, v in res.arg_params.items()}
    args.update({k: mx.nd.array(v) for k, v in feeds.items()})
    args = {k: v for k, v in args.items() if k in sym.list_arguments()}
    aux = {k: mx.nd.array(v) for k, v in res.aux_params.items()
           if k in sym.list_auxiliary_states()}
    ex = sym.bind(mx.cpu(), args=args, aux_states=aux)
    return [o.asnumpy() for o in ex.forward()]


def run_cv2(proto, model, feeds, outputs=None):
    cv2 = cv2_or_skip()
    net = cv2.dnn.readNetFromCaffe(proto, model)
    for name, x in feeds.items():
        net.setInput(np.ascontiguousarray(x), name)
    if outputs:
        return list(net.forward(outputs))
    return [net.forward()]


def assert_close(got, ref, what=""):
    ref = np.asarray(ref, np.float64)
    got = np.asarray(got, np.float64)
    assert got.shape == ref.shape, "%s: shape %s vs reference %s" % (what, got.shape, ref.shape)
    tol = 1e-4 + 1e-4 * np.abs(ref).max()
    err = np.abs(got - ref).max()
    assert err <= tol, "%s: max error %g > %g" % (what, err, tol)


def check_against_cv2(tmp_path, text, feeds_shapes, outputs=None, seed=0, input_shape=None):
    """Convert `text` with random weights and compare with OpenCV on seeded inputs."""
    cv2_or_skip()
    proto = write(tmp_path, text)
    model = make_model(tmp_path, proto, seed, input_shape)
    res = convert(proto, model, input_shape=input_shape)
    rng = np.random.default_rng(seed + 1)
    feeds = {k: rng.normal(0, 1, s).astype(np.float32) for k, s in feeds_shapes.items()}
    got = run_plait(res, feeds, outputs)
    ref = run_cv2(proto, model, feeds, outputs)
    for i, (g, r) in enumerate(zip(got, ref)):
        assert_close(g, r, "output %s" % (outputs[i] if outputs else i))
    return res, got
