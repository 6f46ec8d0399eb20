"""Run one ONNX backend node test case (onnx.backend.test.case.node) through plait.

Shared by tests/onnx/test_backend_nodes.py and tools/onnx_node_report.py.  A case runs
through `import_model` + Symbol bind/forward (the static path); when import reports that a
shape depends on a runtime value (DynamicValueError) it runs through `run_model`, the eager
node-by-node evaluator.  Outputs must equal the case's expected outputs in values (the case's
rtol/atol) and in dtype.  `run_case` returns (status, path, reason): status is "pass", "fail" or
"skip"; skips always carry the reason (unsupported op/feature, a dtype plait cannot hold).
"""
import warnings

import numpy as np

import plait as mx
from plait.core.base import SUPPORTED_DTYPES, PlaitError
from plait.core.onnx import importer, tensors
from plait.core.onnx.import_rules import DynamicValueError, Unsupported

_CASES = None


def all_cases():
    global _CASES
    if _CASES is None:
        from onnx.backend.test.case.node import collect_testcases
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _CASES = sorted(collect_testcases(), key=lambda t: t.name)
    return _CASES


def case_ops(case):
    return [n.op_type for n in case.model.graph.node]


def case_op(case):
    """The op a case is about: its last node's (the expanded cases end with the op's body)."""
    name = case.name[5:] if case.name.startswith("test_") else case.name
    ops = case_ops(case)
    return ops[0] if len(ops) == 1 else ops[-1] if not name.endswith("_expanded") else ops[-1]


def case_opset(case):
    for o in case.model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return o.version
    return 0


def _as_array(a):
    """Case data -> NumPy: numpy scalars to 0-d arrays, TensorProtos through plait's own
    reader (core/onnx/tensors.py); other values (sequences, optionals) are left as they are."""
    if isinstance(a, np.generic):
        return np.asarray(a)
    if type(a).__name__ == "TensorProto":
        try:
            return tensors.to_array(a)
        except PlaitError:
            return a
    if isinstance(a, list):
        return [_as_array(x) for x in a]
    return a


def _bad_dtype(arrays):
    for a in arrays:
        if isinstance(a, list) or a is None:   # sequences and empty optionals: run_model
            bad = _bad_dtype(a or [])
            if bad:
                return bad
            continue
        if type(a).__name__ == "TensorProto":
            return "element type %s" % tensors.onnx_type_name(a.data_type)
        if not isinstance(a, np.ndarray):
            return "a %s value (sequence/optional/map)" % type(a).__name__
        if a.dtype not in SUPPORTED_DTYPES:
            return "dtype %s" % a.dtype
    return None


def _run_static(model, names, inputs):
    sym, args, aux = importer.import_model(model)
    feed = {n: mx.nd.array(v, dtype=v.dtype) for n, v in zip(names, inputs)}
    feed.update(args)
    needed = sym.list_arguments()
    missing = [n for n in needed if n not in feed]
    if missing:
        raise PlaitError("imported graph needs arguments %s that are not fed" % missing)
    aux = dict(aux)
    aux.update({n: feed[n] for n in sym.list_auxiliary_states() if n in feed})
    exe = sym.bind(mx.cpu(), {n: feed[n] for n in needed}, grad_req="null", aux_states=aux)
    return [o.asnumpy() for o in exe.forward()]


def run_case(case):
    model = case.model
    names = [vi.name for vi in model.graph.input
             if vi.name not in {t.name for t in model.graph.initializer}]
    data = [([_as_array(a) for a in i], [_as_array(a) for a in o]) for i, o in case.data_sets]
    for inputs, expected in data:
        bad = _bad_dtype(list(inputs) + list(expected))
        if bad:
            return "skip", None, "needs %s, which plait's NDArray cannot hold" % bad
    path = "static"
    try:
        for inputs, expected in data:
            try:
                if path == "static":
                    got = _run_static(model, names, list(inputs))
                else:
                    raise DynamicValueError("")
            except DynamicValueError:
                path = "eager"
                got = importer.run_model(model, dict(zip(names, inputs)))
            _compare(case, got, expected)
    except Unsupported as e:
        return "skip", path, "unsupported: %s" % e
    except (AssertionError, PlaitError, Exception) as e:  # noqa: B014 -- every failure is a fail
        return "fail", path, "%s: %s" % (type(e).__name__, str(e)[:400])
    return "pass", path, ""


def _compare(case, got, expected, where="output"):
    assert len(got) == len(expected), "%d %ss, expected %d" % (len(got), where, len(expected))
    for i, (g, e) in enumerate(zip(got, expected)):
        if isinstance(e, list) or e is None:
            assert (g is None) == (e is None) and isinstance(g, (list, type(None))), \
                "%s %d: %r, expected a %s" % (where, i, type(g).__name__,
                                              "sequence" if e is not None else "empty optional")
            if e is not None:
                _compare(case, g, e, "element of %s %d" % (where, i))
            continue
        g = np.asarray(g)
        assert g.dtype == e.dtype, "output %d: dtype %s, expected %s" % (i, g.dtype, e.dtype)
        assert g.shape == e.shape, "output %d: shape %s, expected %s" % (i, g.shape, e.shape)
        if e.dtype.kind in "fc":
            np.testing.assert_allclose(g, e, rtol=case.rtol, atol=case.atol,
                                       err_msg="output %d" % i)
        else:
            np.testing.assert_array_equal(g, e, err_msg="output %d" % i)


def is_simple(case):
    """Single-op, tensor-only, opset <= 13: the issue's 95% target population."""
    if len(case.model.graph.node) != 1 or case_opset(case) > 13:
        return False
    return all(isinstance(a, (np.ndarray, np.generic)) for i, o in case.data_sets
               for a in list(i) + list(o))


def ort_passes(case):
    """Whether onnxruntime gives the expected outputs (same criterion as plait's)."""
    import onnxruntime as ort
    try:
        sess = ort.InferenceSession(case.model.SerializeToString(),
                                    providers=["CPUExecutionProvider"])
        names = [i.name for i in sess.get_inputs()]
        for inputs, expected in case.data_sets:
            got = sess.run(None, dict(zip(names, [np.asarray(a) for a in inputs])))
            _compare(case, got, [np.asarray(e) for e in expected])
    except Exception:  # noqa: BLE001 -- any ORT failure means "ORT does not pass"
        return False
    return True
