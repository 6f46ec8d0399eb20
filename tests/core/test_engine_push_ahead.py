"""The engine's push-ahead bound: a thread that pushes ops faster than they run waits
while the unfinished ops hold more than the bound of freshly allocated outputs."""
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import plait as mx
from plait.core import engine
from plait import _engine as _E


@pytest.fixture
def bound():
    """Set the bound for one test; restore it and drain the engine afterwards."""
    engine.set_engine_type("ThreadedEngine")
    engine.wait_all()
    prev = engine.set_push_ahead(0)
    yield engine.set_push_ahead
    engine.set_push_ahead(prev)
    engine.wait_all()


def _gate(var, seconds):
    """Push an op writing var that runs only once a timer thread opens the gate, after
    `seconds`; returns a list that gets the time the gate opened."""
    opened = []
    ev = threading.Event()

    def open_gate():
        time.sleep(seconds)
        opened.append(time.perf_counter())
        ev.set()

    engine.push(lambda: ev.wait(), [], [var], "gate")
    threading.Thread(target=open_gate, daemon=True).start()
    return opened


def _push_readers(var, count, nbytes):
    """Push `count` ops reading var, each declaring nbytes of outputs; returns when each
    push returned and the pending bytes right after it."""
    returned, pending = [], []
    for i in range(count):
        engine.push(lambda: None, [var], [engine.new_var()], "reader%d" % i, False, nbytes)
        returned.append(time.perf_counter())
        pending.append(engine.pending_bytes())
    return returned, pending


def test_pushes_past_the_bound_wait_for_the_ops_to_run(bound):
    bound(1_000_000)
    v = engine.new_var()
    opened = _gate(v, 0.3)
    returned, pending = _push_readers(v, 8, 300_000)
    engine.wait_all()
    assert max(pending) <= 1_000_000, pending
    # three fit under the bound; the fourth push waited until the gate let them run
    assert all(t < opened[0] for t in returned[:3]), (returned, opened)
    assert all(t >= opened[0] for t in returned[3:]), (returned, opened)
    assert engine.pending_bytes() == 0


def test_without_a_bound_every_push_returns_at_once(bound):
    bound(0)
    v = engine.new_var()
    opened = _gate(v, 0.3)
    returned, pending = _push_readers(v, 8, 300_000)
    assert pending[-1] == 8 * 300_000
    engine.wait_all()
    assert all(t < opened[0] for t in returned), (returned, opened)
    assert engine.pending_bytes() == 0


def test_ndarray_ops_count_their_outputs(bound):
    x = mx.nd.ones((512, 512))  # 1 MiB of float32
    x.wait_to_read()
    bound(int(1.5 * (1 << 20)))
    opened = _gate(x._var, 0.3)
    t0 = time.perf_counter()
    y1 = x + 1
    t1 = time.perf_counter()
    y2 = x * 2  # 2 MiB pending: waits for the gate
    t2 = time.perf_counter()
    assert t1 < opened[0] <= t2, (t0, t1, t2, opened)
    np.testing.assert_array_equal(y1.asnumpy(), 2)
    np.testing.assert_array_equal(y2.asnumpy(), 2)
    # writing into an existing array allocates nothing: never held back
    bound(1)
    opened = _gate(x._var, 0.2)
    mx.nd.elemwise_add(x, x, out=y1)
    assert not opened
    np.testing.assert_array_equal(y1.asnumpy(), 2)


def test_bad_nbytes_is_refused():
    with pytest.raises(ValueError, match="nbytes must be >= 0, got -1"):
        engine.push(lambda: None, [], [engine.new_var()], "bad", False, -1)
    with pytest.raises(TypeError):
        engine.push(lambda: None, [], [engine.new_var()], "bad", False, "many")


def _run(code, env_value=None):
    """Run code in a fresh interpreter with PLAIT_PUSH_AHEAD_MB = env_value (unset: None)."""
    env = dict(os.environ)
    env.pop("PLAIT_PUSH_AHEAD_MB", None)
    if env_value is not None:
        env["PLAIT_PUSH_AHEAD_MB"] = env_value
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=120)


def test_pushes_from_inside_an_op_and_naive_engine_never_wait():
    # An op that pushes more than the bound must not wait for itself (one worker would
    # deadlock); neither may NaiveEngine, where every op has finished when push returns.
    r = _run("""
        from plait.core import engine
        engine.set_push_ahead(10)
        out = []
        def inner():
            out.append("inner")
        def outer():
            engine.push(inner, [], [engine.new_var()], "inner", False, 10 ** 12)
            out.append("outer")
        engine.push(outer, [], [engine.new_var()], "outer", False, 10 ** 12)
        engine.wait_all()
        engine.set_engine_type("NaiveEngine")
        engine.push(inner, [], [engine.new_var()], "naive", False, 10 ** 12)
        print(out, engine.pending_bytes())
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["['outer',", "'inner',", "'inner']", "0"]


@pytest.mark.parametrize("value, expect, warns", [
    (None, 64 << 20, False), ("0", 0, False), ("1.5", 3 << 19, False), ("lots", 64 << 20, True)])
def test_env_sets_the_bound(value, expect, warns):
    r = _run("""
        from plait import _engine
        import plait
        print(_engine.max_pending_bytes())
    """, value)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[-1]) == expect
    assert ("PLAIT_PUSH_AHEAD_MB='lots' is not a number" in r.stderr) == warns
