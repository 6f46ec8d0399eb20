"""mx.metric against real MXNet 1.9.1 (tests/fixtures/gluon/metric.json, made by
tools/make_gluon_metric_fixtures.py): every metric's get/get_global/name-value pairs and
instance counts after each step of a fixed update/reset sequence, the errors MXNet raises,
get_config, str and the registry names."""
import json
import math
import os

import numpy as np
import pytest

import plait as mx
from plait.gluon import metric as gmetric

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "gluon", "metric.json")
with open(FIXTURE) as _f:
    FIX = json.load(_f)
CASES = {c["id"]: c for c in FIX["cases"]}


def custom_mad(label, pred):
    return float(np.abs(label.ravel() - pred.ravel()).mean())


def custom_tuple(label, pred):
    return (float((label.ravel() == pred.argmax(axis=1)).sum()), label.size)


CUSTOM_FUNCS = {"custom_mad": custom_mad, "custom_tuple": custom_tuple}


def metric_module():
    """mx.metric once the root exposes it (G2 wires it), else the gluon module itself."""
    return getattr(mx, "metric", gmetric)


def make_metric(spec):
    M = metric_module()
    name, kwargs = spec
    if name == "composite_named":
        return M.CompositeEvalMetric(
            [M.Accuracy(output_names=["out_a"], label_names=["lab_a"]),
             M.Accuracy(name="acc_b", output_names=["out_b"], label_names=["lab_b"])])
    if isinstance(name, list):
        comp = M.CompositeEvalMetric()
        for child in name:
            comp.add(M.create(child, **(kwargs if child.startswith("top_k") else {})))
        return comp
    if name.startswith("np:"):
        return M.np(CUSTOM_FUNCS[name[3:]])
    if name in CUSTOM_FUNCS:
        return M.create(CUSTOM_FUNCS[name], **kwargs)
    return M.create(name, **kwargs)


def to_arrays(a, numpy_inputs=False):
    if a is None:
        return None
    if isinstance(a, list):
        return [to_arrays(x, numpy_inputs) for x in a]
    if "dtype" not in a:
        return {k: to_arrays(v, numpy_inputs) for k, v in a.items()}
    value = np.array(a["data"], dtype=a["dtype"]).reshape(a["shape"])
    return value if numpy_inputs else mx.nd.array(value, dtype=a["dtype"])


def apply(metric, step, numpy_inputs=False):
    kind = step[0]
    if kind in ("update", "update_single"):
        metric.update(to_arrays(step[1], numpy_inputs), to_arrays(step[2], numpy_inputs))
    elif kind == "update_dict":
        metric.update_dict(to_arrays(step[1], numpy_inputs), to_arrays(step[2], numpy_inputs))
    elif kind == "reset":
        metric.reset()
    elif kind == "reset_local":
        metric.reset_local()


def assert_close(got, want, where):
    if isinstance(want, list):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), (where, got, want)
        for g, w in zip(got, want):
            assert_close(g, w, where)
    elif isinstance(want, str):
        assert got == want, (where, got, want)
    elif math.isnan(want):
        assert math.isnan(float(got)), (where, got, want)
    else:
        assert float(got) == pytest.approx(want, rel=2e-6, abs=1e-9), (where, got, want)


def check_state(metric, want, where):
    assert_close(list(metric.get()), want["get"], where + " get")
    assert_close(list(metric.get_global()), want["get_global"], where + " get_global")
    assert_close([list(p) for p in metric.get_name_value()], want["get_name_value"],
                 where + " get_name_value")
    assert_close([list(p) for p in metric.get_global_name_value()],
                 want["get_global_name_value"], where + " get_global_name_value")
    if "num_inst" in want:
        assert float(metric.num_inst) == want["num_inst"], where
        assert float(metric.global_num_inst) == want["global_num_inst"], where


def run_case(case, numpy_inputs=False):
    metric = make_metric(case["metric"])
    check_state(metric, case["results"][0], "%s initial" % case["id"])
    for i, (step, want) in enumerate(zip(case["steps"], case["results"][1:])):
        where = "%s step %d %s" % (case["id"], i, step[0])
        if "error" in want:
            etype, msg = want["error"]
            with pytest.raises(Exception) as info:
                apply(metric, step, numpy_inputs)
            assert type(info.value).__name__ == etype, (where, info.value)
            if etype == "ValueError" and msg.startswith(("Shape of labels", "_Binary")):
                assert str(info.value) == msg, where
            elif etype == "AssertionError" and msg:  # (a bare MXNet assert: any message)
                assert str(info.value) == msg, where
            return
        apply(metric, step, numpy_inputs)
        check_state(metric, want, where)


@pytest.mark.parametrize("cid", sorted(CASES))
def test_matches_mxnet(cid):
    run_case(CASES[cid])


@pytest.mark.parametrize("cid", ["acc", "topk3", "f1_macro", "mcc_micro", "pcc", "mse",
                                 "ce", "perplexity_ignore0", "pearson_micro", "loss",
                                 "custom_tuple", "composite", "err_acc_len"])
def test_numpy_inputs_match_mxnet(cid):
    """NumPy arrays are accepted wherever NDArrays are (MXNet only takes NDArrays)."""
    run_case(CASES[cid], numpy_inputs=True)


def test_f1_binary_no_positives_is_zero():
    M = metric_module()
    f1 = M.F1()
    f1.update([mx.nd.array([0, 0, 0])], [mx.nd.array([[0.9, 0.1]] * 3)])
    assert f1.get() == ("f1", 0.0)
    mcc = M.MCC()
    mcc.update([mx.nd.array([0, 0, 0])], [mx.nd.array([[0.9, 0.1]] * 3)])
    assert mcc.get() == ("mcc", 0.0)


def test_get_config_and_recreate():
    M = metric_module()
    ctor = {"perplexity": {"ignore_label": None}, "top_k_accuracy": {"top_k": 3}}
    for name, want in FIX["configs"].items():
        if name == "composite_acc_f1":
            metric = M.create(["acc", "f1"])
        else:
            metric = M.create(name, **ctor.get(name, {}))
        assert metric.get_config() == want, name
    again = M.create(**M.create("acc", axis=0, name="a0").get_config())
    assert isinstance(again, M.Accuracy) and again.axis == 0 and again.name == "a0"
    comp = M.create(M.create(["acc", "mse"]).get_config())
    assert [type(m).__name__ for m in comp.metrics] == ["Accuracy", "MSE"]
    assert type(M.create('["acc", {"axis": 0}]')).__name__ == "Accuracy"
    assert M.create('{"metric": "mse", "name": "m"}').name == "m"
    with pytest.raises(NotImplementedError, match="CustomMetric cannot be serialized"):
        M.create(custom_mad).get_config()


def test_str():
    M = metric_module()
    for name, want in FIX["strs"].items():
        m = M.create(name)
        m.update([mx.nd.array([0, 1, 1])], [mx.nd.array([[0.3, 0.7], [0.6, 0.4], [0.2, 0.8]])])
        got = str(m)
        prefix, val = want.rsplit(": ", 1)
        assert got.startswith(prefix + ": "), (got, want)
        assert float(got.rsplit(": ", 1)[1].rstrip("}")) == pytest.approx(
            float(val.rstrip("}")), rel=1e-6)


def test_registry_names():
    M = metric_module()
    ctor = {"perplexity": {"ignore_label": None}, "top_k_accuracy": {"top_k": 3},
            "top_k_acc": {"top_k": 3}, "topkaccuracy": {"top_k": 3}}
    for name, cls in FIX["registry"].items():
        assert type(M.create(name, **ctor.get(name, {}))).__name__ == cls, name
    with pytest.raises(AssertionError, match="not registered"):
        M.create("no_such_metric")
    inst = M.Accuracy()
    assert M.create(inst) is inst


def test_register_alias_and_custom_metric():
    M = metric_module()

    @M.register
    @M.alias("halfacc_test")
    class HalfAcc(M.Accuracy):
        def get(self):
            name, value = super(HalfAcc, self).get()
            return name, value / 2

    m = M.create("halfacc_test")
    m.update([mx.nd.array([1, 0])], [mx.nd.array([[0, 1], [0, 1]])])
    assert m.get() == ("accuracy", 0.25)
    assert type(M.create("HALFACC")) is HalfAcc
    with pytest.warns(UserWarning, match="overriding"):
        M.register(HalfAcc, "halfacc_test")
    lam = M.create(lambda l, p: 1.0)
    assert lam.name == "custom(<lambda>)"
    named = M.CustomMetric(custom_mad, name="mad")
    assert named.name == "mad"
    extra = M.CustomMetric(lambda l, p: float(p.sum()), allow_extra_outputs=True)
    extra.update([mx.nd.array([1.0])], [mx.nd.array([2.0]), mx.nd.array([5.0])])
    assert extra.get()[1] == 2.0  # zip stops at the shorter list, as in MXNet


def test_composite_helpers():
    M = metric_module()
    comp = M.CompositeEvalMetric(["acc", M.MSE()])
    assert isinstance(comp.get_metric(1), M.MSE)
    err = comp.get_metric(5)
    assert isinstance(err, ValueError) and "out of range" in str(err)
    comp.update([mx.nd.array([1, 0])], [mx.nd.array([[0.2, 0.8], [0.3, 0.7]])])
    names, values = comp.get()
    assert names == ["accuracy", "mse"] and values[0] == 0.5


def test_check_label_shapes():
    M = metric_module()
    a, b = mx.nd.zeros((3, 2)), mx.nd.zeros((3, 4))
    assert M.check_label_shapes(a, b, wrap=True) == ([a], [b])
    with pytest.raises(ValueError, match=r"Shape of labels \(3, 2\) does not match shape "
                                         r"of predictions \(3, 4\)"):
        M.check_label_shapes(a, b, shape=True)
    with pytest.raises(ValueError, match="Shape of labels 1 does not match"):
        M.check_label_shapes([a], [a, b])


def test_loss_accumulates_float32_sums_in_float64():
    # MXNet sums each batch in float32 and adds it to a Python float (float64 under its
    # NumPy < 2); NumPy 2 would keep a float32 running sum
    m = mx.metric.Loss()
    batches = [np.array([0.1, 0.2], np.float32), np.array([0.3], np.float32)] * 50
    for b in batches:
        m.update(None, [mx.nd.array(b)])
    want = 0.0
    for b in batches:
        want += float(b.sum(dtype=np.float32))
    name, value = m.get()
    assert name == "loss" and type(value) is float
    assert value == want / 150
