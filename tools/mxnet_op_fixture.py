"""Shared by the tools/make_*_fixtures.py scripts that record single operators in real MXNet
1.9.1 (run them with the MXNet anchor python; they import this module from tools/).

write_cases(out, cases, call, rng) runs each case under mx.autograd, backpropagates random
head gradients and saves one .npz (no pickle; tests load it with allow_pickle=False):
  "<case>/in<j>", "<case>/out<k>", "<case>/hg<k>" (head gradient of output k) and
  "<case>/grad<j>" (gradient of input j, for the inputs listed in the case's grad), plus
  "meta": a JSON string {case: {"op", "attrs", "n_in", "n_out", "grad", **extra}}.
tests/mxnet_op_cases.py reads these files and checks plait against them.
"""
import json
import os

import numpy as np
import mxnet as mx


FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests",
                        "fixtures", "ops")


class Recorder:
    """The cases of one fixture file: rng (seeded), uniform() inputs, case() to add one,
    write() to record them all in MXNet."""

    def __init__(self, file_name, seed, lo=-2.0, hi=2.0):
        self.rng = np.random.default_rng(seed)
        self.out = os.path.join(FIXTURES, file_name)
        self.lo, self.hi = lo, hi
        self.cases = []

    def uniform(self, shape, dtype="float32", lo=None, hi=None):
        """Uniform values in [lo, hi] (integers for integer dtypes)."""
        lo = self.lo if lo is None else lo
        hi = self.hi if hi is None else hi
        if np.dtype(dtype).kind in "iu":
            return self.rng.integers(int(lo), int(hi) + 1, size=shape).astype(dtype)
        return self.rng.uniform(lo, hi, size=shape).astype(dtype)

    def case(self, name, op, inputs, attrs=None, grad=(0,), **extra):
        """One case: op over inputs with attrs; gradients of the inputs listed in grad."""
        self.cases.append((name, op, inputs, attrs or {}, tuple(grad), extra))

    def write(self, call=None):
        write_cases(self.out, self.cases, self.rng, call or default_call)


def resolve(namespace, op):
    """namespace.op, following dots (`linalg.gemm2`)."""
    for part in op.split("."):
        namespace = getattr(namespace, part)
    return namespace


def default_call(op, ins, attrs, extra):
    return resolve(mx.nd, op)(*ins, **attrs)


def write_cases(out, cases, rng, call=default_call):
    """cases: (name, op, inputs, attrs, grad, extra) with extra a dict kept in the meta."""
    arrays, meta = {}, {}
    for name, op, inputs, attrs, grad, extra in cases:
        ins = [mx.nd.array(x, dtype=x.dtype) for x in inputs]
        for j in grad:
            ins[j].attach_grad()
        with mx.autograd.record():
            outs = call(op, list(ins), dict(attrs), extra)
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        heads = [rng.uniform(0.5, 1.5, o.shape).astype(o.dtype) for o in outs]
        if grad:
            mx.autograd.backward(outs, [mx.nd.array(h, dtype=h.dtype) for h in heads])
        for j, x in enumerate(inputs):
            arrays["%s/in%d" % (name, j)] = x
        for k, (o, h) in enumerate(zip(outs, heads)):
            arrays["%s/out%d" % (name, k)] = o.asnumpy()
            arrays["%s/hg%d" % (name, k)] = h
        for j in grad:
            arrays["%s/grad%d" % (name, j)] = ins[j].grad.asnumpy()
        meta[name] = dict(extra, op=op, n_in=len(inputs), n_out=len(outs), grad=list(grad),
                          attrs={k: list(v) if isinstance(v, tuple) else v
                                 for k, v in attrs.items()})
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    np.savez_compressed(out, **arrays)
    print("wrote %s: %d cases (MXNet %s)" % (os.path.normpath(out), len(cases), mx.__version__))
