"""Reading Caffe files: .prototxt (protobuf text), .caffemodel and .binaryproto (binary).

Both network formats are accepted -- the current `layer { type: "Convolution" }` and the V1
`layers { type: CONVOLUTION }` -- and turned into one list of `Layer` records, keeping only
the layers of the TEST phase (deploy).  Inputs come from `input` + `input_shape`/`input_dim`
or from Input / MemoryData layers.  Nothing read here is executed: protobuf parsing only.
"""
import os
import re

import numpy as np

from ..base import PlaitError
from . import schema


class CaffeError(PlaitError):
    """A Caffe file that cannot be read or converted; the message names file and layer."""


class Layer:
    """One layer: name, type (current spelling, 'Convolution'), bottoms, tops, and the
    protobuf message holding its *_param fields (a LayerParameter or V1LayerParameter)."""

    def __init__(self, name, type_, bottom, top, msg):
        self.name, self.type, self.bottom, self.top, self.msg = name, type_, bottom, top, msg

    def __repr__(self):
        return "Layer(%r, %r, %s -> %s)" % (self.name, self.type, self.bottom, self.top)


# V1 enum names whose current spelling is not just the CamelCase of the words
_V1_NAMES = {"ABSVAL": "AbsVal", "ARGMAX": "ArgMax", "BNLL": "BNLL", "HDF5_DATA": "HDF5Data",
             "HDF5_OUTPUT": "HDF5Output", "INNER_PRODUCT": "InnerProduct", "LRN": "LRN",
             "MVN": "MVN", "RELU": "ReLU", "TANH": "TanH", "IM2COL": "Im2col",
             "SOFTMAX_LOSS": "SoftmaxWithLoss", "DUMMY_DATA": "DummyData",
             "MEMORY_DATA": "MemoryData", "IMAGE_DATA": "ImageData",
             "WINDOW_DATA": "WindowData", "EUCLIDEAN_LOSS": "EuclideanLoss"}


def _v1_type(msg):
    enum = msg.DESCRIPTOR.fields_by_name["type"].enum_type
    name = enum.values_by_number[msg.type].name
    return _V1_NAMES.get(name) or "".join(w.capitalize() for w in name.split("_"))


def _layer_at_line(text, line):
    """(name, type) of the layer block that contains 1-based `line` of a prototxt, or None."""
    head = "\n".join(text.splitlines()[:line])
    starts = [m.start() for m in re.finditer(r"(?m)^\s*layers?\s*\{", head)]
    if not starts:
        return None
    block = text[starts[-1]:]
    name = re.search(r"\bname\s*:\s*[\"']([^\"']*)", block)
    typ = re.search(r"\btype\s*:\s*[\"']?(\w+)", block)
    return (name.group(1) if name else "?"), (typ.group(1) if typ else "?")


def _layer_blocks(text):
    """(start, end) of each top-level `layer {...}` / `layers {...}` block, in order (braces
    counted outside quoted strings and comments)."""
    blocks, depth, i, start, n = [], 0, 0, None, len(text)
    head = re.compile(r"layers?\s*\{")
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if depth == 0 and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = head.match(text, i)
            if m:
                start, depth, i = i, 1, m.end()
                continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0 and start is not None:
                blocks.append((start, i + 1))
                start = None
        i += 1
    return blocks


def needed_layers(layers, outputs):
    """Names of the layers that the blobs `outputs` depend on (layers in net order)."""
    want, keep = set(outputs), set()
    for layer in reversed(layers):
        if want & set(layer.top):
            keep.add(layer.name)
            want -= set(layer.top)
            want |= set(layer.bottom)
    return keep


def _prune_text(text, outputs, phase=1):
    """The prototxt text with the layers that `outputs` do not need blanked out (newlines
    kept, so error line numbers still point into the original file)."""
    from google.protobuf import text_format
    net = schema.message("NetParameter")
    text_format.Parse(text, net, allow_unknown_field=True)
    msgs = list(net.layer) + list(net.layers)
    blocks = _layer_blocks(text)
    if len(blocks) != len(msgs):
        return text
    active = [Layer(m.name, "", list(m.bottom), list(m.top), m) for m in msgs
              if _included(m, phase)]
    keep = needed_layers(active, outputs)
    out, pos = [], 0
    for (a, b), m in zip(blocks, msgs):
        if m.name not in keep:
            out += [text[pos:a], "\n" * text.count("\n", a, b)]
            pos = b
    return "".join(out) + text[pos:]


def read_prototxt(path, outputs=None):
    """Parse a .prototxt into a NetParameter; a syntax error or an unknown field names the
    file, the line and the layer it is in.  With `outputs` (blob names), only the layers they
    need are parsed strictly: other layers may use fields outside plait's schema (SSD)."""
    from google.protobuf import text_format
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        raise CaffeError("cannot read prototxt %s: %s" % (path, e.strerror)) from None
    if outputs:
        try:
            text = _prune_text(text, outputs)
        except text_format.ParseError:
            pass  # the strict parse below reports it
    net = schema.message("NetParameter")
    try:
        text_format.Parse(text, net)
    except text_format.ParseError as e:
        line = e.GetLine() if hasattr(e, "GetLine") else None
        where = _layer_at_line(text, line) if line else None
        msg = str(e).split(" : ", 1)[-1].rstrip(".")
        at = " in layer '%s' (type %s)" % where if where else ""
        hint = ""
        if "has no field named" in msg:
            hint = ("; plait's Caffe schema covers BVLC caffe.proto plus Permute/Normalize, "
                    "so this layer type or option is not supported" + _unsupported(text)
                    + " (to convert the supported part, name the blobs you need with "
                    "outputs=[...] / --outputs)")
        raise CaffeError("%s:%s%s: %s%s" % (path, line or "?", at, msg, hint)) from None
    return net


def _unsupported(text):
    """'; unsupported layer types in this net: ...' from a lenient re-parse (unknown fields
    skipped), so one error lists everything a net like SSD needs beyond the converter."""
    from google.protobuf import text_format
    from .layers_nn import HANDLERS
    net = schema.message("NetParameter")
    try:
        text_format.Parse(text, net, allow_unknown_field=True)
    except (text_format.ParseError, TypeError):
        return ""
    from .converter import INPUT_TYPES, SKIPPED_TYPES
    known = set(HANDLERS) | set(INPUT_TYPES) | set(SKIPPED_TYPES)
    bad = {}
    for ly in net.layer:
        if ly.type not in known:
            bad.setdefault(ly.type, []).append(ly.name)
    if not bad:
        return ""
    return "; unsupported layer types in this net: " + "; ".join(
        "%s (%d: %s)" % (t, len(n), ", ".join(n[:3]) + (", ..." if len(n) > 3 else ""))
        for t, n in bad.items())


def read_caffemodel(path):
    """Parse a binary .caffemodel into a NetParameter (blobs included)."""
    from google.protobuf.message import DecodeError
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise CaffeError("cannot read caffemodel %s: %s" % (path, e.strerror)) from None
    if not data:
        raise CaffeError("%s: the caffemodel is empty: expected a binary Caffe NetParameter"
                         % path)
    net = schema.message("NetParameter")
    try:
        net.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise CaffeError("%s: not a valid binary .caffemodel (%d bytes; truncated or not a "
                         "Caffe NetParameter: %s)" % (path, len(data), e)) from None
    return net


def blob_array(blob, where):
    """A BlobProto as a float32 array with its declared shape (legacy num/channels/height/
    width blobs are 4-d); the element count must match the shape."""
    if blob.HasField("shape"):
        shape = tuple(int(d) for d in blob.shape.dim)
    else:
        shape = (blob.num, blob.channels, blob.height, blob.width)
    data = blob.data if len(blob.data) else blob.double_data
    arr = np.asarray(data, dtype=np.float32)
    if arr.size != int(np.prod(shape, dtype=np.int64)):
        raise CaffeError("%s: blob declares shape %s (%d values) but holds %d values"
                         % (where, shape, int(np.prod(shape, dtype=np.int64)), arr.size))
    return arr.reshape(shape)


def read_binaryproto(path):
    """A mean file (.binaryproto, one BlobProto) as an array of shape (C, H, W)."""
    from google.protobuf.message import DecodeError
    blob = schema.message("BlobProto")
    try:
        with open(path, "rb") as f:
            blob.ParseFromString(f.read())
    except OSError as e:
        raise CaffeError("cannot read mean file %s: %s" % (path, e.strerror)) from None
    except DecodeError as e:
        raise CaffeError("%s: not a valid .binaryproto BlobProto (%s)" % (path, e)) from None
    arr = blob_array(blob, "mean file %s" % path)
    if arr.ndim == 4:
        arr = arr[0]
    return arr


def _rule_matches(rule, phase):
    if rule.HasField("phase") and rule.phase != phase:
        return False
    if rule.HasField("min_level") and rule.min_level > 0:
        return False
    if rule.HasField("max_level") and rule.max_level < 0:
        return False
    return not rule.stage  # the deploy state has no stages


def _included(msg, phase):
    if msg.include:
        return any(_rule_matches(r, phase) for r in msg.include)
    return not any(_rule_matches(r, phase) for r in msg.exclude)


def layers_of(net, phase=1):
    """The net's layers (current or V1 format) active in `phase` (1 = TEST), as Layer records."""
    if net.layer and net.layers:
        raise CaffeError("the net uses both 'layer' and the old V1 'layers' fields; "
                         "upgrade it to one format")
    out = []
    for msg in net.layer:
        if _included(msg, phase):
            out.append(Layer(msg.name, msg.type, list(msg.bottom), list(msg.top), msg))
    for msg in net.layers:
        if _included(msg, phase):
            out.append(Layer(msg.name, _v1_type(msg), list(msg.bottom), list(msg.top), msg))
    return out


def net_inputs(net, path):
    """[(name, shape or None)] of the net-level inputs (`input` + `input_shape`/`input_dim`)."""
    names = list(net.input)
    if net.input_shape:
        shapes = [tuple(int(d) for d in s.dim) for s in net.input_shape]
    elif net.input_dim:
        dims = [int(d) for d in net.input_dim]
        if len(dims) != 4 * len(names):
            raise CaffeError("%s: %d input_dim values for %d inputs; expected 4 per input"
                             % (path, len(dims), len(names)))
        shapes = [tuple(dims[4 * i:4 * i + 4]) for i in range(len(names))]
    else:
        shapes = [None] * len(names)
    if len(shapes) != len(names):
        raise CaffeError("%s: %d input_shape entries for %d inputs" % (path, len(shapes),
                                                                        len(names)))
    return list(zip(names, shapes))


def model_blobs(net, path):
    """{layer name: [BlobProto]} of a parsed caffemodel (current or V1 format)."""
    out = {}
    for msg in list(net.layer) + list(net.layers):
        if len(msg.blobs):
            out[msg.name] = list(msg.blobs)
    return out


def atomic_write(path, data):
    """Write text, bytes or a list of byte chunks to `path` through a temp file + os.replace."""
    tmp = "%s.tmp%d" % (path, os.getpid())
    chunks = data if isinstance(data, list) else [data]
    mode = "w" if isinstance(data, str) else "wb"
    try:
        with open(tmp, mode) as f:
            for c in chunks:
                f.write(c)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
