"""Caffe model conversion: .prototxt + .caffemodel -> plait Symbol + parameters.

    sym, arg_params, aux_params, input_shape = convert_model(
        "deploy.prototxt", "weights.caffemodel", prefix="model")   # writes model-symbol.json
                                                                     # and model-0000.params
Caffe is not needed: the files are parsed with the `protobuf` package and plait's own schema
(schema_text.py).  Nothing in the files is executed.  Options:
- input_shape: {input name: shape} (or one shape for the first input) overriding the prototxt;
- mean (per-channel values or a (C, H, W) array), mean_file (.binaryproto) and scale: folded in
  front of the net as `(data - mean) * scale`, Caffe's transform order (the mean becomes the
  parameter `<input>_mean`);
- swap_rgb: reverse the input channels of the convolutions that read the input (and the mean),
  so the converted model takes RGB where the Caffe model took BGR.  Off by default;
- outputs: blob names to convert up to (e.g. the heads of an SSD net, whose PriorBox and
  DetectionOutput layers are not supported); other layers are neither parsed nor converted.
"""
import numpy as np

from .netfile import CaffeError, read_binaryproto, read_caffemodel, read_prototxt

__all__ = ["convert_model", "convert", "CaffeError"]


class Result:
    """What `convert` returns: symbol, arg/aux params (NumPy), inputs, outputs, and the
    per-layer parameter counts (`report()` formats them)."""

    def __init__(self, net, args, aux, counts):
        self.symbol, self.arg_params, self.aux_params = net.symbol, args, aux
        self.inputs, self.outputs, self.counts, self.skipped = (net.inputs, net.outputs, counts,
                                                                net.skipped)

    def report(self):
        lines = ["%-40s %12d" % (name, n) for name, n in self.counts.items()]
        lines.append("%-40s %12d" % ("total parameters", sum(self.counts.values())))
        if self.skipped:
            lines.append("skipped training-only layers: %s" % ", ".join(self.skipped))
        lines.append("inputs: %s; outputs: %s" % (
            ", ".join("%s%s" % i for i in self.inputs), ", ".join("%s%s" % o
                                                                   for o in self.outputs)))
        return "\n".join(lines)


def _mean_array(mean, mean_file, shape, swap):
    if mean_file is not None:
        m = read_binaryproto(mean_file)
        if m.shape[0] != shape[1]:
            raise CaffeError("mean file %s has %d channels, the input %s has %d"
                             % (mean_file, m.shape[0], shape, shape[1]))
        h, w = shape[2:4]
        if m.shape[1] < h or m.shape[2] < w:
            raise CaffeError("mean file %s of shape %s is smaller than the input %s"
                             % (mean_file, m.shape, shape))
        top, left = (m.shape[1] - h) // 2, (m.shape[2] - w) // 2  # centre crop, as Caffe's
        m = m[:, top:top + h, left:left + w]
    else:
        m = np.asarray(mean, np.float32).reshape(-1)
        if m.size == 1:
            m = np.repeat(m, shape[1])
        if m.size != shape[1]:
            raise CaffeError("mean has %d values, the input %s has %d channels"
                             % (m.size, shape, shape[1]))
        m = m.reshape(-1, 1, 1)
    if swap:
        m = m[::-1]
    return np.ascontiguousarray(m[None], dtype=np.float32)


def convert(prototxt, caffemodel, input_shape=None, mean=None, mean_file=None, scale=None,
            swap_rgb=False, outputs=None):
    """Parse and convert; returns a Result (NumPy parameters, nothing written).  Without a
    caffemodel, returns the shape-only converter.Net (what the random-weight writer reads)."""
    from .converter import build, collect_params
    net = read_prototxt(prototxt, outputs)
    weights = None
    if caffemodel is not None:
        from .netfile import model_blobs
        weights = model_blobs(read_caffemodel(caffemodel), caffemodel)
    if input_shape is not None and not isinstance(input_shape, dict):
        first = list(net.input) or [t for ly in list(net.layer) if ly.type == "Input"
                                    for t in ly.top]
        input_shape = {first[0] if first else "data": tuple(input_shape)}
    state = {"first": None}

    def preprocess(b, name, sym, shape):
        if state["first"] is not None:
            return sym
        state["first"] = name
        if mean is not None or mean_file is not None:
            m = _mean_array(mean, mean_file, shape, swap_rgb)
            sym = b.S.broadcast_sub(sym, b.const(name + "_mean", m), name=name + "_sub_mean")
        if scale is not None and scale != 1:
            sym = b.S.identity(sym * float(scale), name=name + "_scaled")
        return sym

    net_ = build(net, prototxt, weights, input_shape, preprocess, caffemodel, outputs)
    if swap_rgb:
        _swap_first_convs(net_, state["first"], prototxt)
    if caffemodel is None:
        return net_
    args, aux, counts = collect_params(net_, caffemodel, weights)
    return Result(net_, args, aux, counts)


def _swap_first_convs(net, data, path):
    convs = [s for s in net.specs if s.idx == 0 and s.layer.type == "Convolution"
             and data in s.layer.bottom]
    if not convs:
        raise CaffeError("%s: swap_rgb needs a Convolution reading the input '%s' directly"
                         % (path, data))
    for s in convs:
        if s.shape[1] != 3:
            raise CaffeError("%s: layer '%s': swap_rgb needs 3 input channels, the weight has "
                             "shape %s" % (path, s.layer.name, s.shape))
        s.to_plait = lambda a: a[:, ::-1]


def convert_model(prototxt, caffemodel, prefix=None, input_shape=None, mean=None,
                  mean_file=None, scale=None, swap_rgb=False, epoch=0, outputs=None):
    """Convert a Caffe model; returns (sym, arg_params, aux_params, input_shape) with the params
    as NDArrays and input_shape as {input name: shape}.  With `prefix`, also writes
    `prefix-symbol.json` and `prefix-%04d.params` (atomically).  `outputs` (blob names) limits
    the conversion to the layers those blobs need."""
    from ... import ndarray as nd
    if caffemodel is None:
        raise CaffeError("convert_model needs a .caffemodel (got None); "
                         "core.caffe.weights.random_caffemodel writes a random one")
    res = convert(prototxt, caffemodel, input_shape, mean, mean_file, scale, swap_rgb, outputs)
    if prefix is not None:
        save_checkpoint(prefix, res, epoch)
    args = {k: nd.array(v) for k, v in res.arg_params.items()}
    aux = {k: nd.array(v) for k, v in res.aux_params.items()}
    return res.symbol, args, aux, dict(res.inputs)


def save_checkpoint(prefix, res, epoch=0):
    """Write `prefix-symbol.json` and `prefix-%04d.params` of a Result, each atomically."""
    from .. import serialize
    from .netfile import atomic_write
    data = {"arg:" + k: v for k, v in res.arg_params.items()}
    data.update({"aux:" + k: v for k, v in res.aux_params.items()})
    serialize.save("%s-%04d.params" % (prefix, epoch), data)
    atomic_write("%s-symbol.json" % prefix, res.symbol.tojson())
