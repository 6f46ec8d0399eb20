"""The Caffe -> plait converter: walks the TEST-phase layers, builds one plait Symbol with the
layer handlers (layers_nn.py, layers_basic.py), checks every caffemodel blob against the shape
the prototxt implies, and returns the parameters with plait's naming (`<layer>_weight`,
`<layer>_bias`, BatchNorm `<layer>_gamma/_beta/_moving_mean/_moving_var`).

With no caffemodel it runs in shape-only mode: `Net.blob_specs` then lists every blob the
caffemodel must hold (what tools/caffe_weights.py fills with seeded random values).
"""
import numpy as np

from . import layers_basic  # noqa: F401  (fills HANDLERS)
from .layers_nn import HANDLERS
from .netfile import CaffeError, blob_array, layers_of, needed_layers, net_inputs

INPUT_TYPES = ("Input", "MemoryData", "Data", "ImageData", "HDF5Data", "DummyData",
               "WindowData", "AnnotatedData")
SKIPPED_TYPES = ("Accuracy", "Silence", "SoftmaxWithLoss", "EuclideanLoss", "HingeLoss",
                 "SigmoidCrossEntropyLoss", "InfogainLoss", "MultinomialLogisticLoss",
                 "ContrastiveLoss")


class BlobSpec:
    """One caffemodel blob the net needs: layer, index, Caffe shape, plait name, conversion."""

    def __init__(self, layer, idx, shape, name, to_plait=None, aux=False, plait_shape=None):
        self.layer, self.idx, self.shape, self.name = layer, idx, tuple(shape), name
        self.to_plait, self.aux = to_plait, aux
        self.plait_shape = tuple(plait_shape or shape)


class Builder:
    """What layer handlers see: mx.sym as `S`, and `param`/`blob`/`const`/`error`."""

    def __init__(self, path, layers, weights, wpath=None):
        from ... import symbol as S
        self.S, self.path, self.weights, self.wpath = S, path, weights, wpath
        self.specs, self.consts, self.extra = [], {}, []
        self.fold = _fold_pairs(layers)
        self.folded = {s.name for s in self.fold.values()}

    def error(self, layer, msg):
        _layer_error(self.path, layer, msg)

    def blob(self, layer, idx, shape):
        """A caffemodel blob read directly (e.g. BatchNorm's scale factor); None in shape-only
        mode."""
        self.extra.append(BlobSpec(layer, idx, shape, None))
        if self.weights is None:
            return None
        return read_blob(self.weights, self.wpath, layer, idx, shape)

    def param(self, layer, idx, suffix, shape, to_plait=None, aux=False, plait_shape=None,
              name=None):
        spec = BlobSpec(layer, idx, shape, name or "%s_%s" % (layer.name, suffix), to_plait,
                        aux, plait_shape)
        self.specs.append(spec)
        return self.S.var(spec.name, shape=spec.plait_shape)

    def const(self, name, value):
        """A parameter that Caffe does not store (BatchNorm's gamma = 1 when no Scale follows)."""
        self.consts[name] = np.asarray(value, np.float32)
        return self.S.var(name, shape=self.consts[name].shape)

    def folded_scale(self, layer):
        return self.fold.get(layer.name)

    def is_folded(self, layer):
        return layer.name in self.folded


def _layer_error(path, layer, msg):
    raise CaffeError("%s: layer '%s' (type %s): %s" % (path, layer.name, layer.type, msg))


def read_blob(weights, path, layer, idx, shape):
    """Blob `idx` of `layer` from a caffemodel ({layer name: [BlobProto]} read from `path`) as
    an array of the Caffe `shape` the prototxt implies; a missing blob, a wrong element count
    or a different shape names the file, the layer, the blob and both shapes."""
    blobs = weights.get(layer.name)
    if blobs is None:
        _layer_error(path, layer, "the caffemodel has no blobs for this layer (expected blob %d)"
                     % idx)
    if idx >= len(blobs):
        _layer_error(path, layer, "the caffemodel has %d blobs for this layer, expected at least "
                     "%d" % (len(blobs), idx + 1))
    arr = blob_array(blobs[idx], "%s: layer '%s' blob %d" % (path, layer.name, idx))
    if arr.shape != tuple(shape):
        squeeze = tuple(d for d in arr.shape if d != 1) == tuple(d for d in shape if d != 1)
        if not squeeze:  # legacy 4-d blobs (1, 1, N, K) hold the same values
            _layer_error(path, layer, "blob %d has shape %s in the caffemodel, the prototxt "
                         "implies %s" % (idx, arr.shape, tuple(shape)))
        arr = arr.reshape(shape)
    return arr


def _fold_pairs(layers):
    """{BatchNorm name: Scale layer} for each Scale that directly follows a BatchNorm on the
    BatchNorm's output (channel axis, one bottom) when nothing else reads that output."""
    pairs = {}
    for i, (bn, sc) in enumerate(zip(layers, layers[1:])):
        if bn.type != "BatchNorm" or sc.type != "Scale" or len(sc.bottom) != 1:
            continue
        p = sc.msg.scale_param
        if sc.bottom[0] != bn.top[0] or p.axis != 1 or p.num_axes != 1:
            continue
        others = 0
        for later in layers[i + 2:]:
            others += later.bottom.count(bn.top[0])
            if bn.top[0] in later.top:
                break
        if sc.top[0] == bn.top[0] or others == 0:
            pairs[bn.name] = sc
    return pairs


def _input_layer_shapes(b, layer, override):
    """[(top, shape)] of an Input-like layer."""
    shapes = []
    if layer.type == "Input":
        shapes = [tuple(int(d) for d in s.dim) for s in layer.msg.input_param.shape]
        if len(shapes) == 1:
            shapes = shapes * len(layer.top)
    elif layer.type == "MemoryData":
        p = layer.msg.memory_data_param
        shapes = [(p.batch_size, p.channels, p.height, p.width)]
    out = []
    for i, top in enumerate(layer.top):
        shape = override.get(top, shapes[i] if i < len(shapes) else None)
        if shape is None:
            if i > 0 and layer.type != "Input":
                continue  # the label top of a data layer
            b.error(layer, "gives no shape for input '%s': pass input_shape" % top)
        out.append((top, tuple(shape)))
    return out


class Net:
    """The converted network: symbol, blob specs, inputs and the per-layer report."""

    def __init__(self, symbol, specs, extra, consts, inputs, outputs, skipped):
        self.symbol, self.specs, self.extra, self.consts = symbol, specs, extra, consts
        self.inputs, self.outputs, self.skipped = inputs, outputs, skipped

    @property
    def blob_specs(self):
        """Every (layer, idx, caffe shape) the caffemodel must hold, in layer order."""
        seen, out = set(), []
        for s in self.specs + self.extra:
            if (s.layer.name, s.idx) not in seen:
                seen.add((s.layer.name, s.idx))
                out.append(s)
        return out


def build(net, path, weights=None, input_shape=None, preprocess=None, wpath=None,
          outputs=None):
    """Convert a parsed prototxt.  weights: {layer name: [BlobProto]} read from the caffemodel
    `wpath`, or None (shape-only);
    input_shape: {input name: shape}; preprocess(b, name, sym, shape) -> sym may transform an
    input (mean/scale); outputs: blob names to return (default: the blobs no layer reads), only
    the layers they need are converted.  Returns a Net."""
    layers = layers_of(net)
    if outputs:
        keep = needed_layers(layers, outputs)
        layers = [ly for ly in layers if ly.name in keep or ly.type in INPUT_TYPES]
    b = Builder(path, layers, weights, wpath)
    override = dict(input_shape or {})
    live, consumed, produced, inputs, skipped = {}, set(), set(), [], []

    def add_input(name, shape):
        shape = tuple(override.get(name, shape) or ())
        if not shape:
            raise CaffeError("%s: input '%s' has no shape: pass input_shape" % (path, name))
        inputs.append((name, shape))
        sym = b.S.var(name)
        if preprocess is not None:
            sym = preprocess(b, name, sym, shape)
        live[name] = (sym, shape)

    for name, shape in net_inputs(net, path):
        add_input(name, shape)
    for layer in layers:
        if layer.type in INPUT_TYPES:
            for top, shape in _input_layer_shapes(b, layer, override):
                add_input(top, shape)
            continue
        if layer.type in SKIPPED_TYPES:
            skipped.append(layer.name)
            continue
        fn = HANDLERS.get(layer.type)
        if fn is None:
            b.error(layer, "layer type '%s' is not supported; supported types: %s"
                    % (layer.type, ", ".join(sorted(HANDLERS))))
        ins = []
        for name in layer.bottom:
            if name not in live:
                b.error(layer, "bottom '%s' is not produced by any earlier layer or input"
                        % name)
            ins.append(live[name])
            consumed.add(name)
        outs = fn(b, layer, ins)
        if len(outs) != len(layer.top):
            b.error(layer, "has %d tops, expected %d" % (len(layer.top), len(outs)))
        for top, out in zip(layer.top, outs):
            live.pop(top, None)
            live[top] = out
            produced.add(top)
            consumed.discard(top)
    if outputs:
        missing = [n for n in outputs if n not in live]
        if missing:
            raise CaffeError("%s: requested output blob(s) %s are not produced by the net"
                             % (path, ", ".join(missing)))
        outputs = [(n, live[n]) for n in outputs]
    else:
        outputs = [(n, v) for n, v in live.items() if n not in consumed and n in produced]
    if not outputs:
        raise CaffeError("%s: the net has no output blob" % path)
    syms = [v[0] for _, v in outputs]
    sym = syms[0] if len(syms) == 1 else b.S.Group(syms)
    return Net(sym, b.specs, b.extra, b.consts, inputs, [(n, v[1]) for n, v in outputs],
               skipped)


def collect_params(net, path, weights):
    """(arg_params, aux_params, per-layer counts) as float32 NumPy arrays, every blob checked
    against the shape the prototxt implies before anything is returned."""
    args, aux, counts = {}, {}, {}
    for spec in net.specs:
        arr = read_blob(weights, path, spec.layer, spec.idx, spec.shape)
        if spec.to_plait is not None:
            arr = spec.to_plait(arr)
        arr = np.ascontiguousarray(arr, dtype=np.float32).reshape(spec.plait_shape)
        (aux if spec.aux else args)[spec.name] = arr
        counts[spec.layer.name] = counts.get(spec.layer.name, 0) + arr.size
    for name, arr in net.consts.items():
        args[name] = arr
    return args, aux, counts
