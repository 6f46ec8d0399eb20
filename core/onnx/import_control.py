"""Import rules: control flow (If, Loop, Scan) by inlining, and the ops whose output shape
depends on input values (NonZero, Unique, Compress, NonMaxSuppression).

If, Loop and Scan are imported by inlining their subgraphs: If when its condition is a constant
(always so in run_model), Loop and Scan by unrolling, which needs the trip count / condition /
sequence length known at import (constants or static shapes).  Subgraphs see the enclosing
scope's values, as ONNX specifies.

NonZero, Unique, Compress (with a computed condition) and NonMaxSuppression give outputs whose
*shape* depends on the values, which a planned Symbol graph cannot express; they are evaluated
when their inputs are constants -- at import for constant subgraphs, and for every node in
run_model -- with NumPy here.  Otherwise import_model raises DynamicValueError.
"""
import numpy as np

from . import tensors
from .import_rules import onnx_op

_MAX_ITERATIONS = 100000


def _run_subgraph(c, graph, bindings):
    """Import `graph`'s nodes in a child scope of the node's scope; returns output values."""
    from .importer import _Val
    scope = dict(c.scope)
    for t in graph.initializer:
        scope[t.name] = _Val(t.name, const=tensors.to_array(t, c.imp.base_dir))
    for vi, v in zip(graph.input, bindings):
        scope[vi.name] = v
    c.imp.import_nodes(graph.node, c.opset, scope)
    return [scope[o.name] for o in graph.output]


def _const_val(name, arr):
    from .importer import _Val
    return _Val(name, const=np.asarray(arr))


def _stack(c, vals):
    from ... import symbol
    if all(v.const is not None for v in vals):
        return np.stack([v.const for v in vals], axis=0)
    xs = [c.imp.tensor(v, symbol) for v in vals]
    return symbol.stack(*xs, axis=0, num_args=len(xs)) if len(xs) > 1 else \
        symbol.expand_dims(xs[0], axis=0)


@onnx_op("If")
def if_(c):
    cond = bool(np.asarray(c.value(0, what="cond")).reshape(-1)[0])
    return _run_subgraph(c, c.attrs["then_branch" if cond else "else_branch"], [])


@onnx_op("Loop")
def loop(c):
    body = c.attrs["body"]
    trip = c.value(0, None, "trip count M")
    trip = None if trip is None else int(np.asarray(trip).reshape(-1)[0])
    cond = c.value(1, None, "cond")
    cond = True if cond is None else bool(np.asarray(cond).reshape(-1)[0])
    carried = [c.ins[i] for i in range(2, len(c.ins))]
    n_scan = len(body.output) - 1 - len(carried)
    scans = [[] for _ in range(n_scan)]
    i = 0
    while cond and (trip is None or i < trip):
        if i >= _MAX_ITERATIONS:
            c.fail("more than %d iterations: refusing to unroll" % _MAX_ITERATIONS)
        outs = _run_subgraph(c, body, [_const_val("iter", np.array(i, np.int64)),
                                       _const_val("cond", np.array(cond))] + carried)
        cv = outs[0]
        if cv.const is None:
            c.value(len(c.ins) + 99, what="loop condition computed by the body")  # dynamic
        cond = bool(np.asarray(cv.const).reshape(-1)[0])
        carried = outs[1:1 + len(carried)]
        for k, v in enumerate(outs[1 + len(carried):]):
            scans[k].append(v)
        i += 1
    results = list(carried)
    for k, vals in enumerate(scans):
        if not vals:
            c.unsupported("a Loop that runs zero times with scan outputs (their shape is unknown)")
        results.append(_stack(c, vals))
    return results


@onnx_op("Scan", since=9)
def scan(c):
    F = c.F
    body = c.attrs["body"]
    m = int(c.need_attr("num_scan_inputs"))
    n = len(c.ins) - m
    in_axes = list(c.attr("scan_input_axes", [0] * m))
    in_dirs = list(c.attr("scan_input_directions", [0] * m))
    n_out = len(body.output) - n
    out_axes = list(c.attr("scan_output_axes", [0] * n_out))
    out_dirs = list(c.attr("scan_output_directions", [0] * n_out))
    states = [c.ins[i] for i in range(n)]
    seqs = []
    length = None
    for k in range(m):
        i = n + k
        s = c.shape(i)
        ax = in_axes[k] % len(s)
        length = s[ax]
        seqs.append((i, ax, s))
    from .import_shape import reshape_to
    collected = [[] for _ in range(n_out)]
    for t in range(length):
        slices = []
        for k, (i, ax, s) in enumerate(seqs):
            pos = length - 1 - t if in_dirs[k] else t
            v = c.ins[i]
            if v.const is not None:
                slices.append(_const_val("scan_in", np.take(v.const, pos, axis=ax)))
            else:
                x = F.slice_axis(c.x(i), axis=ax, begin=pos, end=pos + 1)
                x = reshape_to(F, x, tuple(d for j, d in enumerate(s) if j != ax))
                from .importer import _Val
                slices.append(_Val("scan_in", sym=x))
        outs = _run_subgraph(c, body, states + slices)
        states = outs[:n]
        for k, v in enumerate(outs[n:]):
            collected[k].append(v)
    results = list(states)
    for k, vals in enumerate(collected):
        if out_dirs[k]:
            vals = vals[::-1]
        st = _stack(c, vals)
        ax = out_axes[k]
        if ax != 0:
            arr = st if isinstance(st, np.ndarray) else None
            if arr is not None:
                st = np.moveaxis(arr, 0, ax % arr.ndim)
            else:
                c.unsupported("scan_output_axes != 0 on a symbolic scan")
        results.append(st)
    return results


# -- value-dependent shapes (evaluated on constants) -------------------------------------------
@onnx_op("NonZero")
def nonzero(c):
    v = c.value(0, what="data (NonZero's output shape depends on it)")
    return np.array(np.nonzero(v), dtype=np.int64).reshape(v.ndim, -1)


@onnx_op("Compress")
def compress(c):
    cond = np.asarray(c.value(1, what="condition")).astype(bool).reshape(-1)
    axis = c.attr("axis")
    idx = np.nonzero(cond)[0].astype(np.int64)
    x = c.x(0)
    if axis is None:
        x = c.F.reshape(x, shape=(-1,))
        axis = 0
        n = int(np.prod(c.shape(0)))
    else:
        axis = int(axis) % c.rank(0)
        n = c.shape(0)[axis]
    idx = idx[idx < n]
    if idx.size == 0:
        s = list(c.shape(0)) if c.attr("axis") is not None else [n]
        s[axis] = 0
        return np.zeros(s, c.dtype(0))
    from .importer import _Val
    return c.F.take(x, c.imp.tensor(_Val(c.name + "_idx", const=idx), c.F), axis=axis)


@onnx_op("Unique")
def unique(c):
    x = c.value(0, what="X (Unique's output shape depends on it)")
    axis = c.attr("axis")
    if axis is not None:
        axis = int(axis) % x.ndim
    vals, first, inverse, counts = np.unique(x, return_index=True, return_inverse=True,
                                             return_counts=True, axis=axis)
    inverse = inverse.reshape(-1)
    if not c.attr("sorted", 1):  # order of first occurrence
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        vals = np.take(vals, order, axis=0 if axis is None else axis)
        first, counts, inverse = first[order], counts[order], rank[inverse]
    i64 = np.int64
    return [vals, first.astype(i64), inverse.astype(i64), counts.astype(i64)]


def _iou(box, boxes):
    lo = np.maximum(box[:2], boxes[:, :2])
    hi = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
    area = lambda b: np.prod(b[..., 2:] - b[..., :2], axis=-1)  # noqa: E731
    union = area(box) + area(boxes) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


@onnx_op("NonMaxSuppression")
def non_max_suppression(c):
    boxes = np.asarray(c.value(0, what="boxes"), np.float64)
    scores = np.asarray(c.value(1, what="scores"), np.float64)
    max_out = int(np.asarray(c.value(2, 0, "max_output_boxes_per_class")).reshape(-1)[0]) \
        if c.has(2) else 0
    iou_t = float(np.asarray(c.value(3, 0.0, "iou_threshold")).reshape(-1)[0]) if c.has(3) else 0.0
    score_t = float(np.asarray(c.value(4)).reshape(-1)[0]) if c.has(4) else None
    if c.attr("center_point_box", 0):
        ctr, half = boxes[..., :2], boxes[..., 2:] / 2
        boxes = np.concatenate([ctr - half, ctr + half], axis=-1)
    else:  # corners may be given in either order
        boxes = np.concatenate([np.minimum(boxes[..., :2], boxes[..., 2:]),
                                np.maximum(boxes[..., :2], boxes[..., 2:])], axis=-1)
    out = []
    for b in range(scores.shape[0]):
        for k in range(scores.shape[1]):
            s = scores[b, k]
            order = np.argsort(-s, kind="stable")
            if score_t is not None:
                order = order[s[order] > score_t]
            keep = []
            while order.size and len(keep) < max_out:
                i = order[0]
                keep.append(i)
                rest = order[1:]
                order = rest[_iou(boxes[b, i], boxes[b, rest]) <= iou_t]
            out += [(b, k, i) for i in keep]
    return np.array(out, dtype=np.int64).reshape(-1, 3)


@onnx_op("TfIdfVectorizer")
def tfidf(c):
    """Counts of the pool's n-grams (with skips) in each row, evaluated on constant input."""
    x = np.asarray(c.value(0, what="X"))
    if "pool_strings" in c.attrs:
        c.unsupported("string pools are not supported")
    lo, hi = int(c.need_attr("min_gram_length")), int(c.need_attr("max_gram_length"))
    max_skip = int(c.need_attr("max_skip_count"))
    counts_at = list(c.need_attr("ngram_counts")) + [None]
    pool = np.asarray(c.need_attr("pool_int64s"), np.int64)
    idx = np.asarray(c.need_attr("ngram_indexes"), np.int64)
    weights = np.asarray(c.attr("weights", np.ones(len(idx))), np.float32)
    rows = x.reshape(-1, x.shape[-1]) if x.ndim == 2 else x.reshape(1, -1)
    out = np.zeros((rows.shape[0], int(idx.max()) + 1 if idx.size else 0), np.float32)
    entry = 0
    for n in range(1, len(counts_at)):
        start = counts_at[n - 1]
        end = counts_at[n] if counts_at[n] is not None else len(pool)
        grams = pool[start:end].reshape(-1, n)
        ids = idx[entry:entry + len(grams)]
        entry += len(grams)
        if not lo <= n <= hi or not len(grams):
            continue
        seen = np.zeros((rows.shape[0], len(grams)), np.float32)
        for skip in (range(max_skip + 1) if n > 1 else [0]):
            span = (n - 1) * (skip + 1) + 1
            if span > rows.shape[1]:
                break
            pos = np.arange(rows.shape[1] - span + 1)[:, None] + np.arange(n) * (skip + 1)
            windows = rows[:, pos]                                   # (rows, positions, n)
            hit = (windows[:, :, None, :] == grams[None, None]).all(-1)  # (rows, pos, grams)
            seen += hit.sum(1)
        out[:, ids] += seen
    mode = c.need_attr("mode")
    if mode == "IDF":
        out = (out > 0).astype(np.float32)
    if mode in ("IDF", "TFIDF"):
        w = np.zeros(out.shape[1], np.float32)
        w[idx] = weights
        out = out * w
    return out.reshape(out.shape[1]) if x.ndim == 1 else out
