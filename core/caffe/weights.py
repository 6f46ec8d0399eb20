"""A seeded-random .caffemodel writer for any supported prototxt (tests, examples, benchmarks).

The converter's shape-only mode lists every blob the net needs (layer, index, Caffe shape);
this fills them with values that keep activations in a sane range (weights ~ N(0, 1/fan_in),
BatchNorm variances and scale factors positive) and writes a binary NetParameter holding, per
layer, its name, type and blobs -- what Caffe and OpenCV read from a caffemodel (the layer
parameters come from the prototxt).
"""
import numpy as np

from . import schema
from .netfile import atomic_write


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def blob_chunks(arr):
    """A BlobProto (shape + packed float data) encoded directly, as byte chunks (the float
    data is the array's own buffer): protobuf's repeated-field extend costs ~0.5 us per
    value, too slow for 100 MB models."""
    arr = np.ascontiguousarray(arr, dtype="<f4")
    dims = b"".join(_varint(int(d)) for d in arr.shape)
    shape = b"\x0a" + _varint(len(dims)) + dims                    # BlobShape.dim = 1, packed
    head = (b"\x3a" + _varint(len(shape)) + shape                   # BlobProto.shape = 7
            + b"\x2a" + _varint(arr.nbytes))                        # BlobProto.data = 5
    return [head, memoryview(arr).cast("B")]


def _message(field_tag, chunks):
    """Length-delimited field `field_tag` (its encoded key) wrapping `chunks`."""
    return [field_tag + _varint(sum(len(c) for c in chunks))] + chunks


def _values(rng, layer_type, idx, shape):
    """Random values for blob `idx` of a layer of `layer_type` with Caffe shape `shape`."""
    if layer_type == "BatchNorm":
        if idx == 2:
            return rng.uniform(0.5, 2.0, shape)
        return rng.normal(0, 0.3, shape) if idx == 0 else rng.uniform(0.5, 1.5, shape)
    if layer_type == "Scale" and idx == 0:
        return rng.uniform(0.5, 1.5, shape)
    if layer_type in ("PReLU",):
        return rng.uniform(0.05, 0.3, shape)
    if layer_type == "Normalize":
        return rng.uniform(1.0, 3.0, shape)
    if len(shape) >= 2:
        fan_in = int(np.prod(shape[1:])) if layer_type != "Embed" else 1
        return rng.standard_normal(shape, np.float32) * np.float32(1.0 / np.sqrt(max(fan_in, 1)))
    return rng.normal(0, 0.1, shape)


def random_caffemodel(prototxt, path, seed=0, input_shape=None, outputs=None):
    """Write a caffemodel with seeded random blobs for `prototxt` to `path`; returns
    {layer name: [arrays]} (the Caffe-layout values written)."""
    from . import convert
    net = convert(prototxt, None, input_shape=input_shape, outputs=outputs)
    rng = np.random.default_rng(seed)
    per_layer = {}
    for spec in net.blob_specs:
        per_layer.setdefault(spec.layer.name, (spec.layer, {}))[1][spec.idx] = spec.shape
    out, arrays, body = schema.message("NetParameter"), {}, []
    for name, (layer, blobs) in per_layer.items():
        if sorted(blobs) != list(range(len(blobs))):
            raise ValueError("layer %s: blob indices %s are not contiguous" % (name, sorted(blobs)))
        vals = [np.asarray(_values(rng, layer.type, i, blobs[i]), np.float32)
                for i in range(len(blobs))]
        arrays[name] = vals
        lp = schema.message("LayerParameter")
        lp.name, lp.type = name, layer.type
        payload = [lp.SerializeToString()]
        for v in vals:
            payload += _message(b"\x3a", blob_chunks(v))                # LayerParameter.blobs = 7
        body += _message(b"\xa2\x06", payload)                         # NetParameter.layer = 100
    out.name = "random"
    atomic_write(path, [out.SerializeToString()] + body)
    return arrays
