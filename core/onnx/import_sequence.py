"""Import rules: ONNX sequences and optionals.

A sequence is a Python list of values held by the importer (a _Val of kind 'sequence'), an
optional a list of zero or one value (kind 'optional'); the tensors inside are constants or
Symbols like any other.  A Symbol cannot take or return them, so graphs with sequence or
optional inputs/outputs run through run_model; inside a graph they import anywhere.
"""
import numpy as np

from .import_rules import onnx_op


def _seq(name, items):
    from .importer import _Val
    return _Val(name, kind="sequence", seq=list(items))


def _tensor(name, const=None, sym=None):
    from .importer import _Val
    return _Val(name, const=const, sym=sym)


def _position(c, i, n, default):
    pos = int(np.asarray(c.value(i, what="position")).reshape(-1)[0]) if c.has(i) else default
    if not -n <= pos <= n:
        c.fail("position %d is outside the sequence of length %d" % (pos, n))
    return pos + n if pos < 0 else pos


def _as_val(c, r, name):
    from ... import ndarray
    if isinstance(r, np.ndarray):
        return _tensor(name, const=r)
    if isinstance(r, ndarray.NDArray):
        return _tensor(name, const=r.asnumpy())
    return _tensor(name, sym=r)


@onnx_op("SequenceConstruct")
def sequence_construct(c):
    return _seq(c.name, [v for v in c.ins])


@onnx_op("SequenceEmpty")
def sequence_empty(c):
    return _seq(c.name, [])


@onnx_op("SequenceAt")
def sequence_at(c):
    s = c.ins[0].seq
    pos = _position(c, 1, len(s), 0)
    if pos >= len(s):
        c.fail("position %d is outside the sequence of length %d" % (pos, len(s)))
    return s[pos]


@onnx_op("SequenceInsert")
def sequence_insert(c):
    s = list(c.ins[0].seq)
    s.insert(_position(c, 2, len(s), len(s)), c.ins[1])
    return _seq(c.name, s)


@onnx_op("SequenceErase")
def sequence_erase(c):
    s = list(c.ins[0].seq)
    del s[_position(c, 1, len(s), len(s) - 1)]
    return _seq(c.name, s)


@onnx_op("SequenceLength")
def sequence_length(c):
    return np.array(len(c.ins[0].seq), dtype=np.int64)


@onnx_op("ConcatFromSequence")
def concat_from_sequence(c):
    from ... import ndarray, symbol
    items = c.ins[0].seq
    F = ndarray if all(v.const is not None for v in items) else symbol
    xs = [c.imp.tensor(v, F) for v in items]
    axis = int(c.need_attr("axis"))
    r = len(c.imp.static_shape(items[0]))
    if c.attr("new_axis", 0):
        axis = axis % (r + 1)
        return F.stack(*xs, axis=axis, num_args=len(xs))
    axis = axis % r
    return xs[0] if len(xs) == 1 else F.Concat(*xs, dim=axis, num_args=len(xs))


@onnx_op("SplitToSequence")
def split_to_sequence(c):
    F = c.F
    s = c.shape(0)
    axis = int(c.attr("axis", 0)) % len(s)
    split = c.value(1, None, "split")
    from .import_shape import reshape_to
    if split is None:
        pieces = [F.slice_axis(c.x(0), axis=axis, begin=i, end=i + 1) for i in range(s[axis])]
        if not c.attr("keepdims", 1):
            shape = tuple(d for i, d in enumerate(s) if i != axis)
            pieces = [reshape_to(F, p, shape) for p in pieces]
    else:
        split = np.asarray(split).reshape(-1)
        if np.asarray(c.value(1)).ndim == 0:
            k = int(split[0])
            sizes = [k] * (s[axis] // k) + ([s[axis] % k] if s[axis] % k else [])
        else:
            sizes = [int(v) for v in split]
        pieces, start = [], 0
        for k in sizes:
            pieces.append(F.slice_axis(c.x(0), axis=axis, begin=start, end=start + k))
            start += k
    return _seq(c.name, [_as_val(c, p, c.name) for p in pieces])


@onnx_op("SequenceMap")
def sequence_map(c):
    from .import_control import _run_subgraph
    body = c.attrs["body"]
    n = len(c.ins[0].seq)
    outs = [[] for _ in body.output]
    for i in range(n):
        args = [v.seq[i] if v.kind == "sequence" else v for v in c.ins]
        for k, r in enumerate(_run_subgraph(c, body, args)):
            outs[k].append(r)
    return [_seq(c.name, o) for o in outs]


@onnx_op("Optional")
def optional(c):
    from .importer import _Val
    return _Val(c.name, kind="optional", seq=[c.ins[0]] if c.has(0) else [])


@onnx_op("OptionalHasElement")
def optional_has_element(c):
    v = c.ins[0] if c.has(0) else None
    has = v is not None and (v.kind != "optional" or bool(v.seq))
    return np.array(has)


@onnx_op("OptionalGetElement")
def optional_get_element(c):
    v = c.ins[0]
    if v.kind != "optional":
        return v
    if not v.seq:
        c.fail("the optional input is empty")
    return v.seq[0]

