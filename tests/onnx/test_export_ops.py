"""Generic ONNX export suite: every registered op with an export rule, exported alone from
each of its registry samples, checked with onnx.checker (full_check) and run in onnxruntime,
must equal plait's own output (dtype and values).  Each sample is exported twice: with all
inputs as graph inputs, and with the inputs after the first as initializers (the folding
paths: transposed FC weights, reshaped PReLU slopes, ...)."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from plait.core.base import PlaitError  # noqa: E402
from plait.core.ops import registry  # noqa: E402
from plait.core.onnx import export as ex  # noqa: E402
from plait.symbol.api import var  # noqa: E402
from plait.symbol.compose import make_op_node  # noqa: E402
from plait.symbol.symbol import Symbol, _op_call  # noqa: E402

import opcheck  # noqa: E402

ex._load_rules()
RULE_OPS = [op for op in registry.all_ops() if op.onnx_export is not None]
# ONNX Runtime lacks kernels for some (op, dtype) pairs: not a property of the export
ORT_MISSING = ("NOT_IMPLEMENTED", "Could not find an implementation", "does not support")
# what rules say (ctx.fail) for a configuration ONNX cannot express: the sample is skipped
UNSUPPORTED = ("not supported", "no exact ONNX form", "must be constant", "no ONNX equivalent")


def _dtypes(op):
    """float32 (or the op's first test dtype) and the first integer/bool one it is tested in."""
    dts = [d for d in op.test_dtypes if d in op.dtypes]
    f32 = np.dtype(np.float32)
    first = [f32] if f32 in dts else dts[:1]
    return first + [d for d in dts if d.kind in "iub" and d not in first][:1]


def _symbol(op, sample, names):
    attrs = dict(sample.attrs)
    if op.variadic:
        attrs[op.variadic] = len(names)
        return _op_call(op.name, [var(n) for n in names], **attrs)
    # inputs named for this call (RNN without state_cell, FC without bias, ...)
    in_names = op.input_names(op.parse_attrs(dict(attrs)))
    node = make_op_node(op, op.name.lower(), None, dict(zip(in_names, map(var, names))), attrs)
    return Symbol.from_node(node)


def export_sample(op, sample, as_params, opset=None):
    names = ["in%d" % i for i in range(len(sample.inputs))]
    sym = _symbol(op, sample, names)
    k = 1 if as_params else len(names)
    params = {n: x for n, x in zip(names[k:], sample.inputs[k:])}
    data = sample.inputs[:k]
    model = ex.build_onnx_model(sym, params, [x.shape for x in data], [x.dtype for x in data],
                                opset_version=opset)
    onnx.checker.check_model(model, full_check=True)
    return model, {n: x for n, x in zip(names, data)}


def assert_same(got, want, ctx):
    assert len(got) == len(want), "%s: %d outputs, plait %d" % (ctx, len(got), len(want))
    for g, w in zip(got, want):
        assert g.shape == w.shape, "%s: shape %s, plait %s" % (ctx, g.shape, w.shape)
        assert g.dtype == w.dtype, "%s: dtype %s, plait %s" % (ctx, g.dtype, w.dtype)
        if w.dtype.kind == "f":
            scale = float(np.max(np.abs(w[np.isfinite(w)]), initial=1.0))
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5 * scale, equal_nan=True,
                                       err_msg=ctx)
        else:
            np.testing.assert_array_equal(g, w, err_msg=ctx)


def _usable(sample):
    return all(x.size > 0 and x.ndim > 0 for x in sample.inputs[:1]) and all(
        x.size > 0 for x in sample.inputs)


def check_op(op, ort_run, opset=None):
    checked, skipped = 0, []
    for dt in _dtypes(op):
        for sample in op.samples(dt):
            if not _usable(sample):
                continue
            try:
                want = opcheck.run_nd(op, sample)
            except PlaitError:
                continue
            for as_params in ((False, True) if len(sample.inputs) > 1 else (False,)):
                try:
                    model, feeds = export_sample(op, sample, as_params, opset)
                except PlaitError as e:
                    if any(m in str(e) for m in UNSUPPORTED):
                        skipped.append("%r: %s" % (sample, e))
                        continue
                    raise
                try:
                    got = ort_run(model, feeds)
                except Exception as e:  # onnxruntime's own gaps
                    if any(m in str(e) for m in ORT_MISSING):
                        skipped.append("%r: onnxruntime: %s" % (sample, str(e)[:120]))
                        continue
                    raise AssertionError("%s %r (params=%s): onnxruntime failed: %s"
                                         % (op.name, sample, as_params, e)) from e
                ctx = "%s %r params=%s" % (op.name, sample, as_params)
                try:
                    assert_same(got, want, ctx)
                except AssertionError:
                    # onnxruntime is not the ONNX spec: if the reference evaluator of the onnx
                    # package agrees with plait, the export is right and onnxruntime deviates
                    from onnx.reference import ReferenceEvaluator
                    assert_same(ReferenceEvaluator(model).run(None, feeds), want, ctx)
                    skipped.append("%s: onnxruntime deviates from the ONNX reference" % ctx)
                    continue
                checked += 1
    return checked, skipped


@pytest.mark.parametrize("op", RULE_OPS, ids=[op.name for op in RULE_OPS])
def test_export_matches_plait(op, ort_run):
    checked, skipped = check_op(op, ort_run)
    if not checked:
        pytest.skip("no sample exportable: %s" % "; ".join(skipped[:3]))


OPSET_SENSITIVE = ["sum", "mean", "max", "norm", "LayerNorm", "LeakyReLU", "L2Normalization",
                   "GroupNorm", "squeeze", "expand_dims", "SliceChannel", "Pooling", "softmax"]


@pytest.mark.parametrize("name", OPSET_SENSITIVE)
def test_export_opset13(name, ort_run):
    """Rules that branch on the opset also hold at the lowest one plait writes."""
    checked, _ = check_op(registry.get(name), ort_run, opset=13)
    assert checked


@pytest.mark.slow
@pytest.mark.parametrize("opset", [13, 17, 21])
def test_every_rule_at_older_opsets(opset, ort_run):
    for op in RULE_OPS:
        check_op(op, ort_run, opset=opset)


def test_rule_coverage():
    """The ops real models use all have rules (a regression guard for the rule modules)."""
    need = ["Convolution", "Deconvolution", "FullyConnected", "BatchNorm", "Activation",
            "LeakyReLU", "Pooling", "softmax", "log_softmax", "SoftmaxOutput", "Flatten",
            "Reshape", "transpose", "Concat", "slice", "slice_axis", "broadcast_add",
            "elemwise_add", "_plus_scalar", "Dropout", "clip", "Embedding", "LayerNorm",
            "InstanceNorm", "Pad", "UpSampling", "mean", "sum", "max", "expand_dims", "squeeze",
            "dot", "batch_dot", "where", "Cast", "zeros_like"]
    missing = [n for n in need if registry.get(n).onnx_export is None]
    assert not missing
    assert len(RULE_OPS) >= 150, len(RULE_OPS)


def _import_and_run(model, feeds):
    import plait as mx
    sym, arg, aux = mx.onnx.import_model(model)
    aux_names = set(sym.list_auxiliary_states())
    args = dict(arg)
    aux = dict(aux)
    for k, v in feeds.items():
        (aux if k in aux_names else args)[k] = mx.nd.array(v, dtype=v.dtype)
    return [o.asnumpy() for o in sym.bind(mx.cpu(), args, aux_states=aux).forward()]


@pytest.mark.parametrize("op", RULE_OPS, ids=[op.name for op in RULE_OPS])
def test_export_import_roundtrip(op):
    """Exported, then re-imported with mx.onnx.import_model: plait's output again.  An import
    that raises is a gap of the importer (skipped, with its message); a wrong value fails."""
    checked, gaps = 0, []
    for dt in _dtypes(op)[:1]:
        for sample in op.samples(dt):
            if not _usable(sample):
                continue
            try:
                want = opcheck.run_nd(op, sample)
                model, feeds = export_sample(op, sample, False)
            except PlaitError:
                continue
            try:
                got = _import_and_run(model, feeds)
            except Exception as e:  # noqa: BLE001  (reported as the skip reason)
                gaps.append("%s: %s" % (type(e).__name__, str(e)[:200]))
                continue
            for g, w in zip(got, want):
                ctx = "%s %r re-imported" % (op.name, sample)
                assert g.shape == w.shape and g.dtype == w.dtype, (ctx, g.shape, g.dtype)
                if w.dtype.kind == "f":
                    scale = float(np.max(np.abs(w[np.isfinite(w)]), initial=1.0))
                    np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5 * scale,
                                               equal_nan=True, err_msg=ctx)
                else:
                    np.testing.assert_array_equal(g, w, err_msg=ctx)
            checked += 1
    if gaps:
        pytest.skip("importer gap on %d sample(s): %s" % (len(gaps), gaps[0]))
    if not checked:
        pytest.skip("no exportable sample")
