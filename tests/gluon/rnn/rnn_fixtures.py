"""Loading tests/fixtures/rnn/ (written by tools/make_rnn_fixtures.py with MXNet 1.9.1) and
re-running a case on plait: same weights, same inputs, same head gradients."""
import glob
import json
import os

import numpy as np

import plait as mx

DIR = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "rnn")


def case_names(prefix):
    return sorted(os.path.basename(f)[:-4] for f in glob.glob(os.path.join(DIR, prefix + "*.npz")))


def load(name):
    z = np.load(os.path.join(DIR, name + ".npz"), allow_pickle=False)
    return json.loads(str(z["meta"])), {k: z[k] for k in z.files if k != "meta"}


def flat(r):
    if isinstance(r, (list, tuple)):
        return [v for x in r for v in flat(x)]
    return [r]


def unique(arrays):
    """Each head once (a cell's last output is also its state), as the fixtures do."""
    seen, out = set(), []
    for a in arrays:
        if id(a) not in seen:
            seen.add(id(a))
            out.append(a)
    return out


def run(block, data, call, hybridize=False):
    """Set the fixture's weights on `block`, run call(block, **inputs) under record, backprop
    the fixture's heads; returns ({'out:k': array}, {'grad:name': array})."""
    params = block.collect_params()
    for key, v in data.items():
        if key.startswith("param:"):
            params[key[6:]].set_data(mx.nd.array(v))
    if hybridize:
        block.hybridize()
    ins = {k[3:]: mx.nd.array(v) for k, v in data.items() if k.startswith("in:")}
    for v in ins.values():
        v.attach_grad()
    with mx.autograd.record():
        outs = unique(flat(call(block, **ins)))
    heads = [mx.nd.array(data["head:%d" % k]) for k in range(len(outs))]
    mx.autograd.backward(outs, heads)
    got_out = {"out:%d" % k: o.asnumpy() for k, o in enumerate(outs)}
    got_grad = {"grad:" + k: v.grad.asnumpy() for k, v in ins.items() if k != "vl"}
    got_grad.update({"grad:" + n: p.grad().asnumpy() for n, p in params.items()
                     if p.grad_req != "null"})
    return got_out, got_grad


def assert_matches(name, data, got_out, got_grad, rtol=1e-4, atol=1e-5):
    n_out = len([k for k in data if k.startswith("out:")])
    assert len(got_out) == n_out, "%s: %d outputs, MXNet has %d" % (name, len(got_out), n_out)
    for k, v in got_out.items():
        np.testing.assert_allclose(v, data[k], rtol=rtol, atol=atol, err_msg="%s %s" % (name, k))
    want = {k for k in data if k.startswith("grad:")}
    assert want == set(got_grad), "%s: gradients %s, MXNet has %s" % (
        name, sorted(got_grad), sorted(want))
    for k in want:
        np.testing.assert_allclose(got_grad[k], data[k], rtol=rtol, atol=atol,
                                   err_msg="%s %s" % (name, k))
