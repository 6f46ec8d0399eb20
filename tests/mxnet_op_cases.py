"""Checks of single operators against MXNet 1.9.1 recordings made with
tools/mxnet_op_fixture.py (tests/fixtures/ops/{misc_ops,linalg_mxnet,index_ops_mxnet}.npz):
each case's outputs and input gradients, imperatively (mx.nd + autograd), through mx.sym
(bind, forward, backward) and through a hybridized HybridBlock.  `call(F, case, ins)` makes
the call with F = mx.nd, mx.sym or the block's F; the default resolves dotted op names
(`linalg.gemm2`) and passes the case's attrs."""
import json
import os

import numpy as np

import plait as mx

F32_TOL = dict(rtol=1e-5, atol=1e-6)
F64_TOL = dict(rtol=1e-12, atol=1e-12)


FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ops")


def load_cases(file_name):
    """The cases of tests/fixtures/ops/<file_name>."""
    z = np.load(os.path.join(FIXTURES, file_name), allow_pickle=False)
    meta = json.loads(str(z["meta"]))
    cases = {}
    for name, m in meta.items():
        arrays = {k[len(name) + 1:]: z[k] for k in z.files if k.startswith(name + "/")}
        attrs = {k: tuple(v) if isinstance(v, list) else v for k, v in m["attrs"].items()}
        cases[name] = dict(m, attrs=attrs, arrays=arrays)
    return cases


def resolve(namespace, op):
    for part in op.split("."):
        namespace = getattr(namespace, part)
    return namespace


def default_call(F, case, ins):
    return resolve(F, case["op"])(*ins, **case["attrs"])


def check(got, want, what, f32=F32_TOL, f64=F64_TOL):
    assert got.shape == want.shape, "%s: shape %s, MXNet %s" % (what, got.shape, want.shape)
    assert got.dtype == want.dtype, "%s: dtype %s, MXNet %s" % (what, got.dtype, want.dtype)
    if want.dtype.kind == "f":
        tol = f32 if want.dtype == np.float32 else f64
        np.testing.assert_allclose(got, want, err_msg=what, **tol)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def inputs(c):
    return [c["arrays"]["in%d" % j] for j in range(c["n_in"])]


def _heads(c):
    return [nd(c["arrays"]["hg%d" % k]) for k in range(c["n_out"])]


def _want(c):
    a = c["arrays"]
    return ([a["out%d" % k] for k in range(c["n_out"])], [a["grad%d" % j] for j in c["grad"]])


def as_list(r):
    return list(r) if isinstance(r, (list, tuple)) else [r]


def nd(x):
    return mx.nd.array(x, dtype=x.dtype)


def _recorded(c, name, what, run, tol):
    """Attach gradients to fresh inputs, run(ins) under autograd, backpropagate the heads and
    compare outputs and gradients."""
    ins = [nd(x) for x in inputs(c)]
    for j in c["grad"]:
        ins[j].attach_grad()
    with mx.autograd.record():
        outs = as_list(run(ins))
    if c["grad"]:
        mx.autograd.backward(outs, _heads(c))
    want_out, want_grad = _want(c)
    assert len(outs) == len(want_out), "%s: %d outputs, MXNet %d" % (name, len(outs),
                                                                     len(want_out))
    for k, (o, w) in enumerate(zip(outs, want_out)):
        check(o.asnumpy(), w, "%s %soutput %d" % (name, what, k), **tol)
    for j, w in zip(c["grad"], want_grad):
        check(ins[j].grad.asnumpy(), w, "%s %sd/d input %d" % (name, what, j), **tol)


def check_imperative(c, name, call=default_call, **tol):
    _recorded(c, name, "", lambda ins: call(mx.nd, c, list(ins)), tol)


def check_symbol(c, name, call=default_call, **tol):
    xs = inputs(c)
    names = ["x%d" % j for j in range(len(xs))]
    sym = call(mx.sym, c, [mx.sym.var(n) for n in names])
    if isinstance(sym, (list, tuple)):
        sym = mx.sym.Group(list(sym))
    assert len(sym.list_outputs()) == c["n_out"]
    args = {n: nd(x) for n, x in zip(names, xs)}
    grads = {names[j]: mx.nd.zeros(xs[j].shape, dtype=xs[j].dtype) for j in c["grad"]}
    req = {n: ("write" if n in grads else "null") for n in names}
    ex = sym.bind(mx.cpu(), args, args_grad=grads, grad_req=req)
    outs = ex.forward(is_train=bool(c["grad"]))
    want_out, want_grad = _want(c)
    for k, (o, w) in enumerate(zip(outs, want_out)):
        check(o.asnumpy(), w, "%s symbol output %d" % (name, k), **tol)
    if c["grad"]:
        ex.backward(_heads(c))
        for j, w in zip(c["grad"], want_grad):
            check(ex.grad_dict[names[j]].asnumpy(), w, "%s symbol d/d input %d" % (name, j),
                  **tol)


class _OpBlock(mx.gluon.HybridBlock):
    def __init__(self, case, call):
        super().__init__()
        self._case, self._call = case, call

    def hybrid_forward(self, F, *xs):
        return self._call(F, self._case, list(xs))


def check_hybridized(c, name, call=default_call, **tol):
    net = _OpBlock(c, call)
    net.hybridize()
    for _ in range(2):  # the first call builds the cached graph, the second reuses it
        _recorded(c, name, "hybridized ", lambda ins: net(*ins), tol)


def error_of(fn, *args, **kwargs):
    """The message of the PlaitError that fn(*args, **kwargs) raises (outputs waited for)."""
    import pytest
    from plait.core.base import PlaitError
    with pytest.raises(PlaitError) as info:
        for o in as_list(fn(*args, **kwargs)):
            o.wait_to_read()
    return str(info.value)


def mxnet_json(op, name, n_in, attrs, n_out=1):
    """A -symbol.json document holding one `op` node over inputs x0.., laid out as MXNet
    1.9.1 writes it."""
    nodes = [{"op": "null", "name": "x%d" % i, "inputs": []} for i in range(n_in)]
    nodes.append({"op": op, "name": name, "attrs": attrs,
                  "inputs": [[i, 0, 0] for i in range(n_in)]})
    return json.dumps({"nodes": nodes, "arg_nodes": list(range(n_in)),
                       "node_row_ptr": list(range(n_in + 1)) + [n_in + 1 + n_out - 1],
                       "heads": [[n_in, k, 0] for k in range(n_out)],
                       "attrs": {"mxnet_version": ["int", 10901]}}, indent=2)


def fixture_tests(cases, symbolic=None, call=default_call, **tol):
    """The three test functions of a fixture file, to bind at a test module's top level:
    imperative, symbol-executor and hybridized checks of every case (`symbolic`: the cases
    that have a symbolic form, default all)."""
    import pytest
    names = sorted(cases)
    symbolic = names if symbolic is None else symbolic

    @pytest.mark.parametrize("name", names)
    def test_imperative_matches_mxnet(name):
        check_imperative(cases[name], name, call, **tol)

    @pytest.mark.parametrize("name", symbolic)
    def test_symbol_executor_matches_mxnet(name):
        check_symbol(cases[name], name, call, **tol)

    @pytest.mark.parametrize("name", symbolic)
    def test_hybridized_block_matches_mxnet(name):
        check_hybridized(cases[name], name, call, **tol)

    return (test_imperative_matches_mxnet, test_symbol_executor_matches_mxnet,
            test_hybridized_block_matches_mxnet)


def bad_input_test(bad, namespace="nd"):
    """A test function over `bad`: rows (op, input shapes, attrs, substrings) where op is
    resolved in mx.<namespace> (dotted names allowed); the float32 ones-inputs must raise an
    error naming the op (its last dotted part) and containing every substring."""
    import pytest

    @pytest.mark.parametrize("op,shapes,attrs,match", bad,
                             ids=[b[0] + "-" + str(i) for i, b in enumerate(bad)])
    def test_bad_inputs_name_op_argument_and_shape(op, shapes, attrs, match):
        fn = resolve(resolve(mx, namespace), op)
        msg = error_of(fn, *[mx.nd.ones(s, dtype="float32") for s in shapes], **attrs)
        assert op.split(".")[-1] in msg, msg
        for m in match:
            assert m in msg, (m, msg)
    return test_bad_inputs_name_op_argument_and_shape
