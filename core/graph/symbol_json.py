"""MXNet's `-symbol.json`: reading it into a `Graph` and writing a `Graph` back.

The format (nnvm's saveload_json.cc):

    {"nodes": [{"op": "null" | opname, "name": str, "attrs": {str: str},
                "inputs": [[node_id, output_index, version], ...]}, ...],
     "arg_nodes": [ids of the variable nodes],
     "node_row_ptr": [prefix sums of each node's output count],
     "heads": [[node_id, output_index, version], ...],
     "attrs": {"mxnet_version": ["int", 10901]}}

Older files (before MXNet 0.9) keep op params under "param" and symbol attributes under
"attr", use two-element inputs, and lack BatchNorm's moving statistics; loading upgrades
them the way MXNet's legacy_json_util.cc does (hidden keys such as 'lr_mult' become
'__lr_mult__', 'weight_lr_mult' on an op moves to its weight variable, missing auxiliary
inputs are added as variables, their '__init__' is set).

Loading uses the json module only (no code runs) and checks the structure: unknown ops,
bad input indices, heads out of range and cycles raise PlaitError naming the node, its
position in "nodes" and, where it can be found, the line of the file.

`dump_json` writes byte for byte what MXNet 1.9.1's `Symbol.tojson()` writes: dmlc's JSON
layout (objects and arrays of more than 10 numbers on several lines, ', ' separators),
nodes in depth-first order, attrs sorted by key, arg_nodes = all variables,
node_row_ptr counting MXNet's hidden outputs too (BatchNorm has 3, Dropout 2, ...).
Each input's "version" (how many times a mutating op had written the variable when the
graph was composed) is kept from the file it was loaded from, or recomputed the way
nnvm's UpdateNodeVersion does.
"""
import json
import re

from ..base import PlaitError
from ..ops import registry
from .ir import Entry, Graph, Node

MXNET_VERSION = 10901
HIDDEN_KEYS = ("ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage")

# '__init__' MXNet gives a variable fed to these inputs when a symbol is composed
# (the ops' FSetInputVarAttrOnCompose); used when upgrading files older than 0.9.4.
VAR_INIT_ON_COMPOSE = {
    "BatchNorm": {3: '["zero", {}]', 4: '["one", {}]'},
    "_contrib_BatchNormWithReLU": {3: '["zero", {}]', 4: '["one", {}]'},
    "LeakyReLU": {1: '["Constant", {"value": 0.25}]'},
    "UpSampling": {1: '["bilinear", {}]'},
}

# Ops whose MXNet registration has more outputs than it shows (node_row_ptr counts them).
_HIDDEN_OUTPUTS = {"BatchNorm": 3, "Dropout": 2, "LRN": 2, "LayerNorm": 3, "GroupNorm": 3,
                   "InstanceNorm": 3, "CTCLoss": 2, "SpatialTransformer": 3,
                   "BilinearSampler": 2, "_contrib_SyncBatchNorm": 3,
                   "_contrib_BatchNormWithReLU": 4}


class VEntry(Entry):
    """An Entry that remembers the version it was loaded with (written back by dump_json)."""

    def __new__(cls, node, index, version=0):
        e = Entry.__new__(cls, node, index)
        e.version = version
        return e


# -- loading --------------------------------------------------------------------------------------
class _Source:
    """Where things are in the text, for error messages."""

    def __init__(self, text, source):
        self.text, self.source = text, source
        self._node_lines = None

    def node_line(self, i):
        if self._node_lines is None:
            # each node object has exactly one "op" key; unescaped, so strings do not match
            self._node_lines = [self.text.count("\n", 0, m.start()) + 1
                                for m in re.finditer(r'(?<!\\)"op"\s*:', self.text)]
        lines = self._node_lines
        return lines[i] if i < len(lines) else None

    def where(self, i=None):
        parts = []
        if i is not None:
            parts.append("nodes[%d]" % i)
            line = self.node_line(i)
            if line is not None:
                parts.append("line %d" % line)
        if self.source:
            parts.append("of %s" % self.source)
        return " ".join(parts)

    def error(self, msg, i=None, node_name=None):
        loc = self.where(i)
        if node_name is not None:
            head = "node '%s' (%s): " % (node_name, loc) if loc else "node '%s': " % node_name
        else:
            head = loc + ": " if loc else ""
        return PlaitError("symbol JSON: " + head + msg)


def _str_dict(d, what, src, i, name):
    if d is None:
        return {}
    if not isinstance(d, dict):
        raise src.error("%s must be an object, got %s" % (what, type(d).__name__), i, name)
    for k, v in d.items():
        if not isinstance(v, str):
            raise src.error("%s[%r] must be a string, got %r" % (what, k, v), i, name)
    return d


def _entry(e, n_nodes, what, src, i=None, name=None):
    if (not isinstance(e, list) or len(e) not in (2, 3)
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in e)):
        raise src.error("%s must be [node_id, index] or [node_id, index, version], got %s"
                        % (what, json.dumps(e)), i, name)
    if not 0 <= e[0] < n_nodes:
        raise src.error("%s refers to node %d, but the file has %d node(s) (ids 0..%d)"
                        % (what, e[0], n_nodes, n_nodes - 1), i, name)
    if e[1] < 0 or (len(e) == 3 and e[2] < 0):
        raise src.error("%s has a negative index or version: %s" % (what, json.dumps(e)), i, name)
    return e[0], e[1], (e[2] if len(e) == 3 else 0)


def _fix_hidden_keys(node):
    """Files older than 1.9.1: 'lr_mult' -> '__lr_mult__'; 'weight_lr_mult' on an op moves
    to its 'weight' input variable (UpgradeJSON_FixParsing)."""
    for key in list(node.attrs):
        for hk in HIDDEN_KEYS:
            pos = key.rfind(hk)
            ends = pos > 0 and pos == len(key) - len(hk)
            if pos != 0 and not ends:
                continue
            if key == hk:
                node.attrs["__%s__" % hk] = node.attrs.pop(key)
            elif ends and pos > 1 and node.op is not None:
                names = _raw_input_names(node)
                arg = key[:pos - 1]
                if arg in names:
                    idx = names.index(arg)
                    if idx < len(node.inputs) and node.inputs[idx].node.op is None:
                        node.inputs[idx].node.attrs["__%s__" % hk] = node.attrs.pop(key)
            break


def _raw_input_names(node):
    raw = {k: v for k, v in node.attrs.items()
           if k in node.op.params}  # unknown keys would fail parsing here
    try:
        return list(node.op.input_names(node.op.parse_attrs(raw)))
    except PlaitError:
        return list(node.op.inputs)


def _upgrade_attrs(nodes, version):
    """MXNet's legacy upgrades that change attributes (before the params are parsed)."""
    if version < MXNET_VERSION:
        for n in nodes:
            _fix_hidden_keys(n)
    if version < 905:  # ReduceAxisParam: axis=-1 meant "no axis" for argmax/argmin
        for n in nodes:
            if n.op is not None and n.op.name in ("argmax", "argmin") \
                    and n.attrs.get("axis") == "-1":
                del n.attrs["axis"]


def _upgrade_inputs(nodes, version):
    """MXNet's legacy upgrades that add auxiliary inputs and their '__init__'."""
    if version < 900:  # auxiliary states were not stored before 0.9
        for n in nodes:
            if n.op is None:
                continue
            names = n.input_names()
            for name in names[len(n.inputs):]:
                var = Node(None, "%s_%s" % (n.name, name) if n.name else name, dict(n.attrs))
                n.inputs.append(VEntry(var, 0, 0))
    if version < 904:
        for n in nodes:
            inits = VAR_INIT_ON_COMPOSE.get(n.op.name) if n.op is not None else None
            for idx, init in (inits or {}).items():
                if idx < len(n.inputs) and n.inputs[idx].node.op is None:
                    n.inputs[idx].node.attrs.setdefault("__init__", init)


def load_json(text, source=None):
    """Parse MXNet symbol JSON (str or bytes) into a Graph.  `source` (a file name) is
    used in error messages."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    src = _Source(text, source)
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise src.error("not valid JSON: %s" % e) from None
    return _graph_from_doc(doc, src)


def _graph_from_doc(doc, src, version=None):
    """The Graph of one parsed JSON document (or of a control-flow node's subgraph, which
    has the same layout and takes the file's version)."""
    if not isinstance(doc, dict):
        raise src.error("expected a JSON object with 'nodes' and 'heads', got %s"
                        % type(doc).__name__)
    for key in ("nodes", "heads"):
        if not isinstance(doc.get(key), list):
            raise src.error("missing or malformed %r (expected a list)" % key)
    jnodes = doc["nodes"]
    n_nodes = len(jnodes)
    version = 800 if version is None else version
    gattrs = doc.get("attrs") or {}
    if isinstance(gattrs, dict) and "mxnet_version" in gattrs:
        v = gattrs["mxnet_version"]
        if isinstance(v, list) and len(v) == 2 and isinstance(v[1], int):
            version = v[1]
        else:
            raise src.error("malformed attrs.mxnet_version %s (expected [\"int\", N])"
                            % json.dumps(v))

    # pass 1: nodes with their attributes
    nodes, links = [], []
    for i, jn in enumerate(jnodes):
        if not isinstance(jn, dict):
            raise src.error("expected a node object, got %s" % json.dumps(jn)[:80], i)
        name = jn.get("name")
        if not isinstance(name, str):
            raise src.error("node has no string 'name'", i)
        opname = jn.get("op")
        if not isinstance(opname, str):
            raise src.error("node has no string 'op'", i, name)
        attrs = dict(_str_dict(jn.get("attrs"), "attrs", src, i, name))
        attrs.update(_str_dict(jn.get("attr"), "attr", src, i, name))
        for k, v in _str_dict(jn.get("param"), "param", src, i, name).items():
            attrs.setdefault(k, v)
        subs = jn.get("subgraphs") or []
        if not isinstance(subs, list):
            raise src.error("'subgraphs' must be a list", i, name)
        subs = [_graph_from_doc(sg, src, version) for sg in subs]
        inputs = jn.get("inputs", [])
        if not isinstance(inputs, list):
            raise src.error("'inputs' must be a list", i, name)
        if opname == "null":
            op = None
            if inputs:
                raise src.error("a variable ('op': 'null') cannot have inputs", i, name)
        else:
            try:
                op = registry.get(opname)
            except PlaitError:
                raise src.error("unknown operator %r" % opname, i, name) from None
        nodes.append(Node(op, name, attrs, subgraphs=subs))
        links.append([_entry(e, n_nodes, "input %d" % k, src, i, name)
                      for k, e in enumerate(inputs)])
    for node, lk in zip(nodes, links):
        node.inputs = [VEntry(nodes[nid], idx, ver) for nid, idx, ver in lk]
    heads = [_entry(h, n_nodes, "heads[%d]" % k, src) for k, h in enumerate(doc["heads"])]
    for k, nid in enumerate(doc.get("arg_nodes") or []):
        if not isinstance(nid, int) or not 0 <= nid < n_nodes:
            raise src.error("arg_nodes[%d] = %r is not a node id (0..%d)" % (k, nid, n_nodes - 1))
        if nodes[nid].op is not None:
            raise src.error("arg_nodes[%d] = %d is not a variable" % (k, nid), nid, nodes[nid].name)
    _check_acyclic(nodes, links, src)

    _upgrade_attrs(nodes, version)
    # parse params now, so bad attribute values are reported at load
    for i, n in enumerate(nodes):
        if n.op is not None:
            try:
                n.params()
            except PlaitError as e:
                raise src.error(str(e), i, n.name) from None
    _upgrade_inputs(nodes, version)
    index = {id(n): i for i, n in enumerate(nodes)}
    for i, n in enumerate(nodes):
        if n.op is None:
            continue
        n_in = len(n.input_names())
        if len(n.inputs) != n_in:
            raise src.error("%s takes %d input(s) (%s), the node has %d"
                            % (n.op.name, n_in, ", ".join(n.input_names()), len(n.inputs)),
                            i, n.name)
    for i, n in enumerate(nodes):
        for k, e in enumerate(n.inputs):
            _check_index(e, "input %d" % k, src, index, i, n.name)
    outputs = [VEntry(nodes[nid], idx, ver) for nid, idx, ver in heads]
    for k, e in enumerate(outputs):
        _check_index(e, "heads[%d]" % k, src, index)
    return Graph(outputs)


def _check_index(e, what, src, index, i=None, name=None):
    n_out = e.node.num_outputs()
    if e.index >= n_out:
        raise src.error("%s uses output %d of node '%s' (nodes[%d]), which has %d output(s)"
                        % (what, e.index, e.node.name, index.get(id(e.node), -1), n_out),
                        i, name)


def _check_acyclic(nodes, links, src):
    """Iterative three-colour DFS over the input links; a back edge is a cycle."""
    state = [0] * len(nodes)  # 0 new, 1 on the stack, 2 done
    for start in range(len(nodes)):
        if state[start]:
            continue
        stack = [(start, 0)]
        state[start] = 1
        while stack:
            nid, k = stack.pop()
            if k < len(links[nid]):
                stack.append((nid, k + 1))
                child = links[nid][k][0]
                if state[child] == 1:
                    raise src.error("the graph has a cycle: node '%s' (nodes[%d]) depends on "
                                    "itself through input %d" % (nodes[child].name, child, k),
                                    nid, nodes[nid].name)
                if state[child] == 0:
                    state[child] = 1
                    stack.append((child, 0))
            else:
                state[nid] = 2


# -- writing --------------------------------------------------------------------------------------
def _mxnet_num_outputs(node):
    """Output count as MXNet 1.9.1 (oneDNN build, as pip ships it) registers the op."""
    if node.op is None:
        return 1
    n = node.num_outputs()
    name = node.op.name
    if name in _HIDDEN_OUTPUTS:
        return max(n, _HIDDEN_OUTPUTS[name])
    p = node.params()
    if name == "Pooling":  # oneDNN keeps a workspace output for max pooling in NC* layouts
        layout = p.get("layout")
        if p.get("pool_type") == "max" and layout in (None, "NCW", "NCHW", "NCDHW"):
            return 2
    if name == "LeakyReLU" and p.get("act_type") == "rrelu":
        return 2
    return n


def _versions(nodes):
    """Entry versions as nnvm's UpdateNodeVersion gives them during composition: a
    variable's version counts the mutating ops that wrote it so far."""
    current, out = {}, {}
    for n in nodes:
        if n.op is None:
            continue
        vs = []
        for e in n.inputs:
            vs.append(current.get(id(e.node), 0) if e.node.op is None else 0)
        for i in n.op.mutates:
            if i < len(n.inputs) and n.inputs[i].node.op is None:
                key = id(n.inputs[i].node)
                current[key] = current.get(key, 0) + 1
                vs[i] = current[key]
        out[id(n)] = vs
    return out


def _s(v):
    """A JSON string as dmlc's JSONWriter::WriteString writes it."""
    v = v if isinstance(v, str) else str(v)
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
        .replace("\r", "\\r").replace("\t", "\\t") + '"'


def _nums(values, depth):
    """A list of numbers or entries: one line, or one item a line when more than 10."""
    items = [v if isinstance(v, str) else str(v) for v in values]
    if len(items) <= 10:
        return "[" + ", ".join(items) + "]"
    pad = "\n" + "  " * (depth + 1)
    return "[" + ", ".join(pad + s for s in items) + "\n" + "  " * depth + "]"


def _attrs(d, depth):
    keys = sorted(d)
    if len(keys) <= 1:
        return "{" + ", ".join("%s: %s" % (_s(k), _s(d[k])) for k in keys) + "}"
    pad = "\n" + "  " * (depth + 1)
    return "{" + ", ".join("%s%s: %s" % (pad, _s(k), _s(d[k])) for k in keys) \
        + "\n" + "  " * depth + "}"


def _entry_text(nid, index, version):
    return "[%d, %d, %d]" % (nid, index, version)


def dump_json(graph):
    """The Graph as MXNet 1.9.1's Symbol.tojson() writes it."""
    return _dump(graph, 0)


def _dump(graph, d):
    """One graph document indented at depth d (0: the file; control-flow subgraphs are
    nested documents, without the version attribute)."""
    nodes = graph.topo_nodes()
    nid = {id(n): i for i, n in enumerate(nodes)}
    versions = _versions(nodes)
    parts, row_ptr = [], [0]
    fpad = "\n" + "  " * (d + 3)
    for n in nodes:
        row_ptr.append(row_ptr[-1] + _mxnet_num_outputs(n))
        vs = versions.get(id(n), ())
        ins = [_entry_text(nid[id(e.node)], e.index, getattr(e, "version", vs[k]))
               for k, e in enumerate(n.inputs)]
        fields = ['"op": %s' % _s(n.op.name if n.op is not None else "null"),
                  '"name": %s' % _s(n.name)]
        if n.attrs:
            fields.append('"attrs": %s' % _attrs(n.attrs, d + 3))
        fields.append('"inputs": %s' % _nums(ins, d + 3))
        if n.subgraphs:
            fields.append('"subgraphs": [' + ", ".join(
                "\n" + "  " * (d + 4) + _dump(g, d + 4) for g in n.subgraphs)
                + "\n" + "  " * (d + 3) + "]")
        parts.append("{" + fpad + (", " + fpad).join(fields) + "\n" + "  " * (d + 2) + "}")
    heads = [_entry_text(nid[id(e.node)], e.index, getattr(e, "version", 0))
             for e in graph.outputs]
    pad = "\n" + "  " * (d + 1)
    top = ['"nodes": [' + ", ".join("\n" + "  " * (d + 2) + p for p in parts)
           + (pad + "]" if parts else "]"),
           '"arg_nodes": %s' % _nums([i for i, n in enumerate(nodes) if n.op is None], d + 1),
           '"node_row_ptr": %s' % _nums(row_ptr, d + 1),
           '"heads": %s' % _nums(heads, d + 1)]
    if d == 0:
        top.append('"attrs": {"mxnet_version": ["int", %d]}' % MXNET_VERSION)
    return "{" + pad + (", " + pad).join(top) + "\n" + "  " * d + "}"
