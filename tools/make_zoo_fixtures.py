"""Write the model-zoo fixtures of tests/fixtures/zoo/ with the MXNet 1.9.1 anchor.

Run:  /tmp/plait-anchors/mxnet/bin/python tools/make_zoo_fixtures.py

- param_specs.json: for every model of mxnet.gluon.model_zoo.vision (built in a fresh
  NameManager, default classes, shapes inferred at 224x224 or 299x299 for inceptionv3):
  its prefix, the ordered (name without that prefix, shape) list of collect_params(), and
  the ordered structural names that save_parameters writes.
- forward.json + forward.npz: for every model, built with classes=10 and given the seeded
  parameters of tests/gluon/model_zoo/seeded_params.py, MXNet's output for the seeded input
  of shape (1, 3, S, S) (S per model below: the smallest convenient size the net allows).
- mobilenet0.25_classes10.params: a mobilenet0.25 (classes=10) with MXNet's own random
  initialisation (Xavier, seed 7) and random BatchNorm statistics, written by MXNet's
  save_parameters (structural names); mobilenet0.25_classes10_legacy.params: the same
  parameters written by ParameterDict.save(strip_prefix=net.prefix), the layout of MXNet's
  model-store files; mobilenet0.25_io.npz: an input and MXNet's output for it.
- mobilenetv2_0.25_classes10-symbol.json: the graph MXNet's HybridBlock.export writes for
  a hybridized mobilenetv2_0.25 (classes=10); with the seeded parameters its output is the
  forward fixture's.

Pass section names (specs forward files symbol) to write only those; default: all.
"""
import json
import os
import sys

import mxnet as mx
import numpy as np
from mxnet.gluon.model_zoo import vision

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "zoo")
sys.path.insert(0, os.path.join(HERE, "..", "tests", "gluon", "model_zoo"))
from seeded_params import input_value, set_seeded_params  # noqa: E402

MODELS = ["resnet18_v1", "resnet34_v1", "resnet50_v1", "resnet101_v1", "resnet152_v1",
          "resnet18_v2", "resnet34_v2", "resnet50_v2", "resnet101_v2", "resnet152_v2",
          "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
          "alexnet", "densenet121", "densenet161", "densenet169", "densenet201",
          "squeezenet1.0", "squeezenet1.1", "inceptionv3", "mobilenet1.0", "mobilenet0.75",
          "mobilenet0.5", "mobilenet0.25", "mobilenetv2_1.0", "mobilenetv2_0.75",
          "mobilenetv2_0.5", "mobilenetv2_0.25"]


def forward_size(name):
    """Input side for the forward fixture: 32 where global pooling allows it; the fixed
    final pools of alexnet (63+), squeezenet (213+), densenet (221+) and inception (299)
    need more."""
    if name == "alexnet":
        return 64
    if name.startswith(("squeezenet", "densenet")):
        return 224
    if name == "inceptionv3":
        return 299
    return 32


def build(name, **kwargs):
    with mx.name.NameManager():
        return vision.get_model(name, **kwargs)


def param_specs():
    specs = {}
    for name in MODELS:
        net = build(name)
        net.initialize()
        size = 299 if name == "inceptionv3" else 224
        net(mx.nd.zeros((1, 3, size, size))).wait_to_read()
        specs[name] = {
            "prefix": net.prefix,
            "params": [[k[len(net.prefix):], list(p.shape)]
                       for k, p in net.collect_params().items()],
            "structural": list(net._collect_params_with_prefix().keys()),
        }
        print("specs", name, len(specs[name]["params"]))
    return specs


def forward_outputs():
    meta, arrays = {}, {}
    for name in MODELS:
        net = build(name, classes=10)
        net.initialize()
        shape = (1, 3, forward_size(name), forward_size(name))
        x = mx.nd.array(input_value(shape))
        net(x).wait_to_read()                      # infers the deferred shapes
        set_seeded_params(net, mx.nd.array)
        y = net(x).asnumpy()
        meta[name] = {"input_shape": list(shape), "classes": 10}
        arrays[name] = y
        print("forward", name, shape, float(np.abs(y).max()))
    return meta, arrays


def mobilenet_file():
    mx.random.seed(7)
    net = build("mobilenet0.25", classes=10)
    net.initialize(mx.init.Xavier())
    x = mx.nd.array(input_value((2, 3, 32, 32), seed=11))
    net(x).wait_to_read()
    rng = np.random.default_rng(7)
    for k, p in net.collect_params().items():      # non-trivial BatchNorm statistics
        if k.endswith("running_mean"):
            p.set_data(mx.nd.array(rng.normal(0, 0.1, p.shape)))
        elif k.endswith("running_var"):
            p.set_data(mx.nd.array(rng.uniform(0.5, 1.5, p.shape)))
    net.save_parameters(os.path.join(OUT, "mobilenet0.25_classes10.params"))
    net.collect_params().save(os.path.join(OUT, "mobilenet0.25_classes10_legacy.params"),
                              strip_prefix=net.prefix)
    np.savez(os.path.join(OUT, "mobilenet0.25_io.npz"), x=x.asnumpy(), y=net(x).asnumpy())


def exported_symbol():
    net = build("mobilenetv2_0.25", classes=10)
    net.initialize()
    net.hybridize()
    net(mx.nd.array(input_value((1, 3, 32, 32)))).wait_to_read()
    base = os.path.join(OUT, "mobilenetv2_0.25_classes10")
    net.export(base)
    os.remove(base + "-0000.params")               # the test uses the seeded parameters


def main(sections):
    os.makedirs(OUT, exist_ok=True)
    if "specs" in sections:
        with open(os.path.join(OUT, "param_specs.json"), "w") as f:
            json.dump(param_specs(), f, separators=(",", ":"))
    if "forward" in sections:
        meta, arrays = forward_outputs()
        with open(os.path.join(OUT, "forward.json"), "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        np.savez(os.path.join(OUT, "forward.npz"), **arrays)
    if "files" in sections:
        mobilenet_file()
    if "symbol" in sections:
        exported_symbol()


if __name__ == "__main__":
    main(sys.argv[1:] or ["specs", "forward", "files", "symbol"])
