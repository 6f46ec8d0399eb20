"""The ONNX backend node tests (built by onnx.backend.test.case.node.collect_testcases, the
wheel ships the generators, not the data) run through plait's importer: import_model + Symbol
bind/forward, or run_model (eager, node by node) when a shape depends on runtime values.

A case passes when every output equals the expected one in dtype, shape and value (the case's
rtol/atol).  Skips carry their reason (an op or feature plait does not import, a dtype its
NDArray cannot hold).  tools/onnx_node_report.py prints the per-op table.
"""
import os
import sys

import pytest

pytest.importorskip("onnx")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backend_node_runner as runner  # noqa: E402

CASES = runner.all_cases()
_RESULTS = {}


def _result(case):
    if case.name not in _RESULTS:
        _RESULTS[case.name] = runner.run_case(case)
    return _RESULTS[case.name]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_node(case):
    status, path, why = _result(case)
    if status == "skip":
        pytest.skip(why)
    assert status == "pass", "%s (%s path): %s" % (case.name, path, why)


def test_totals():
    """The issue's target: at least 1,000 of the node tests pass strictly."""
    passed = sum(_result(c)[0] == "pass" for c in CASES)
    assert len(CASES) >= 1800
    assert passed >= 1000, "%d of %d node tests pass" % (passed, len(CASES))
    assert passed >= 1590, "regression: %d of %d node tests pass (1602 at the last count)" % (
        passed, len(CASES))


def test_simple_cases_that_onnxruntime_passes():
    """Single-op, tensor-only cases at opset <= 13 that onnxruntime passes: the issue asks
    plait to pass 95% of them (the rest: string tensors, TreeEnsemble, opset-8 Scan)."""
    pytest.importorskip("onnxruntime")
    simple = [c for c in CASES if runner.is_simple(c) and runner.ort_passes(c)]
    passed = sum(_result(c)[0] == "pass" for c in simple)
    assert len(simple) >= 250
    assert passed / len(simple) >= 0.95, "%d of %d" % (passed, len(simple))
