"""Tests of the dependency engine (plait.core.engine)."""
import gc
import itertools
import os
import random
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from plait.core import engine

HAS_NOTES = sys.version_info >= (3, 11)


@pytest.fixture(autouse=True)
def threaded_engine():
    """Every test starts and ends on a quiet ThreadedEngine with no recorded errors."""
    before = engine.engine_type()
    engine.set_engine_type("ThreadedEngine")
    try:
        engine.wait_all()
    except Exception:
        pass
    yield
    try:
        engine.wait_all()
    except Exception:
        pass
    engine.set_engine_type(before)


def _random_ops(rng, nvars, nops):
    ops = []
    for _ in range(nops):
        reads = rng.sample(range(nvars), rng.randint(0, 3))
        writes = rng.sample(range(nvars), rng.randint(0 if reads else 1, 2))
        if rng.random() < 0.1 and reads:  # read+write of one var, and duplicates
            writes.append(reads[0])
            reads.append(reads[0])
        ops.append((reads, writes))
    return ops


# --------------------------------------------------------------------------- ordering
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_dag_ordering(seed):
    rng = random.Random(seed)
    nvars, nops = 6, 250
    vs = [engine.new_var() for _ in range(nvars)]
    ops = _random_ops(rng, nvars, nops)
    log = [None] * nops
    seq = itertools.count()

    def make(i, delay):
        def fn():
            s, s_seq = time.perf_counter_ns(), next(seq)
            if delay:
                time.sleep(delay)
            log[i] = (s, time.perf_counter_ns(), s_seq, next(seq))
        return fn

    for i, (r, w) in enumerate(ops):
        delay = rng.choice([0, 0, 0, 0.0002, 0.001])
        engine.push(make(i, delay), [vs[k] for k in r], tuple(vs[k] for k in w), "op%d" % i)
    engine.wait_all()
    assert all(entry is not None for entry in log)

    overlapping_reads = 0
    for i in range(nops):
        ri, wi = set(ops[i][0]) - set(ops[i][1]), set(ops[i][1])
        for j in range(i + 1, nops):
            rj, wj = set(ops[j][0]) - set(ops[j][1]), set(ops[j][1])
            conflict = (wi & (rj | wj)) or (ri & wj)
            if conflict:
                assert log[i][1] <= log[j][0], (i, j, ops[i], ops[j])
                assert log[i][3] < log[j][2], (i, j, ops[i], ops[j])
            elif ri & rj and log[j][0] < log[i][1] and log[i][0] < log[j][1]:
                overlapping_reads += 1
    if engine.num_workers() >= 2:
        assert overlapping_reads > 0, "no two reads of a var ever ran concurrently"


def test_concurrent_reads_overlap():
    if engine.num_workers() < 2:
        pytest.skip("needs two workers")
    v = engine.new_var()
    spans = []

    def reader():
        s = time.perf_counter()
        time.sleep(0.05)
        spans.append((s, time.perf_counter()))

    for _ in range(2):
        engine.push(reader, [v], [], "reader")
    engine.wait_all()
    (s1, e1), (s2, e2) = spans
    assert s2 < e1 and s1 < e2


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize("seed", [10, 11, 12])
def test_values_match_sequential(seed):
    rng = random.Random(seed)
    nvars, nops = 6, 400
    ops = _random_ops(rng, nvars, nops)
    delays = [rng.choice([0, 0, 0, 0, 0.0001]) for _ in ops]

    def make(bufs, i, r, w, delay):
        def fn():
            acc = sum(bufs[k][0] for k in r) * 31 + i
            if delay:
                time.sleep(delay)  # lets a racing writer in, if the engine allowed one
            for k in w:
                bufs[k][0] = (bufs[k][0] * 7 + acc) % 1000003
        return fn

    expected = [[k + 1] for k in range(nvars)]
    for i, (r, w) in enumerate(ops):
        make(expected, i, r, w, 0)()

    bufs = [[k + 1] for k in range(nvars)]
    vs = [engine.new_var() for _ in range(nvars)]
    for i, (r, w) in enumerate(ops):
        engine.push(make(bufs, i, r, w, delays[i]), [vs[k] for k in r], [vs[k] for k in w],
                    "op%d" % i)
    for v in vs:
        engine.wait_read(v)
    assert bufs == expected


def test_vars_outlive_python_refs():
    out = []
    a, b = engine.new_var(), engine.new_var()
    engine.push(lambda: time.sleep(0.02), [], [a], "slow")
    engine.push(lambda: out.append(1), [a], [b], "after")
    del a, b
    gc.collect()
    engine.wait_all()
    assert out == [1]


def test_push_argument_forms_and_errors():
    v, w = engine.new_var(), engine.new_var()
    out = []
    engine.push(lambda: out.append(1), reads=(v,), writes=[w], name="kw")
    engine.push(lambda: out.append(2), iter([v]), (w, w, v), "iterable")
    engine.push(lambda: out.append(3), None, w, "single var")
    engine.push(fn=lambda: out.append(4), reads=[], writes=[v])
    engine.wait_all()
    assert out == [1, 2, 3, 4]
    with pytest.raises(TypeError):
        engine.push(lambda: None, [object()], [], "bad")
    with pytest.raises(TypeError):
        engine.push(lambda: None, [], [v], "x", True, 5, 6)
    with pytest.raises(TypeError, match="unexpected keyword argument 'size'"):
        engine.push(lambda: None, [], [v], "x", size=5)
    with pytest.raises(TypeError):
        engine.wait_read(object())


# ------------------------------------------------------------------------- exceptions
def test_exceptions_poison_and_recover():
    a, b, c, d = (engine.new_var() for _ in range(4))
    ran = []

    def bad():
        raise ValueError("bad value in op")

    engine.push(lambda: time.sleep(0.01), [], [a], "slow")
    engine.push(bad, [a], [b], "failing_op")
    engine.push(lambda: ran.append("c"), [b], [c], "reads_b")      # skipped, poisoned
    engine.push(lambda: ran.append("d"), [c, a], [d], "reads_c")   # skipped, poisoned
    with pytest.raises(ValueError, match="bad value in op") as info:
        engine.wait_read(b)
    first = info.value
    if HAS_NOTES:
        assert any("failing_op" in n for n in first.__notes__)
        assert len(first.__notes__) == 1
    for v in (b, c, d):  # every time, while the var holds it
        with pytest.raises(ValueError) as again:
            engine.wait_write(v)
        assert again.value is first
    engine.wait_read(a)  # clean
    assert ran == []
    engine.wait_all()  # already surfaced through a wait: not raised again

    # Not waited on: wait_all raises it once, then not again.
    engine.push(lambda: 1 / 0, [], [a], "divide")
    engine.push(lambda: ran.append("x"), [a], [c], "poisoned")
    with pytest.raises(ZeroDivisionError) as info2:
        engine.wait_all()
    if HAS_NOTES:
        assert any("divide" in n for n in info2.value.__notes__)
    engine.wait_all()
    assert ran == []

    # A clean write (inputs clean) clears the var; reading a poisoned var does not.
    engine.push(lambda: None, [a], [a], "still_poisoned")
    with pytest.raises(ZeroDivisionError):
        engine.wait_read(a)
    for v in (a, b, c, d):
        engine.push(lambda: None, [], [v], "reset")
    for v in (a, b, c, d):
        engine.wait_read(v)

    # The engine keeps working: 10,000 more ops with exact values.
    bufs = [[0], [0], [0]]
    vs = [engine.new_var() for _ in range(3)]

    def inc(src, dst):
        def fn():
            bufs[dst][0] += bufs[src][0] + 1
        return fn

    for i in range(10000):
        src, dst = i % 3, (i + 1) % 3
        engine.push(inc(src, dst), [vs[src]], [vs[dst]], "inc")
    engine.wait_all()
    ref = [[0], [0], [0]]
    for i in range(10000):
        src, dst = i % 3, (i + 1) % 3
        ref[dst][0] += ref[src][0] + 1
    assert bufs == ref


def test_wait_all_inside_op_raises_and_own_var_wait_ok():
    v, w = engine.new_var(), engine.new_var()
    seen = []

    def fn():
        engine.wait_read(v)   # own input: must not deadlock
        engine.wait_write(w)  # own output
        try:
            engine.wait_all()
        except RuntimeError as e:
            seen.append(str(e))

    engine.push(fn, [v], [w], "inner")
    engine.push(lambda: None, [], [v], "later_write")  # queued behind fn's read of v
    engine.wait_all()
    assert seen and "inside" in seen[0]


# ------------------------------------------------------------------------------ naive
def test_naive_engine_runs_in_caller_and_raises_at_push():
    engine.set_engine_type("NaiveEngine")
    assert engine.engine_type() == "NaiveEngine"
    v = engine.new_var()
    threads = []
    engine.push(lambda: threads.append(threading.get_ident()), [], [v], "where")
    assert threads == [threading.get_ident()]
    err = KeyError("k")

    def bad():
        raise err

    with pytest.raises(KeyError) as info:
        engine.push(bad, [v], [v], "bad")
    assert info.value is err
    assert not getattr(err, "__notes__", None)
    engine.wait_read(v)
    engine.wait_all()
    for alias in ("ThreadedEnginePerDevice", "ThreadedEnginePooled", "ThreadedEngine"):
        engine.set_engine_type(alias)
        assert engine.engine_type() == "ThreadedEngine"
    with pytest.raises(ValueError):
        engine.set_engine_type("NoSuchEngine")


# -------------------------------------------------------------------------- waits
def test_wait_read_skips_pending_reads_wait_write_does_not():
    v, out = engine.new_var(), engine.new_var()
    done = []

    def slow_read():
        time.sleep(0.3)
        done.append("read")

    engine.push(slow_read, [v], [out], "slow_read")
    t0 = time.perf_counter()
    engine.wait_read(v)
    assert time.perf_counter() - t0 < 0.2 and done == []
    engine.wait_write(v)
    assert done == ["read"]

    def slow_write():
        time.sleep(0.1)
        done.append("write")

    engine.push(slow_write, [], [v], "slow_write")
    engine.wait_read(v)
    assert done == ["read", "write"]


# ------------------------------------------------------------- process-level behaviour
def _run(code, tmp_path, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=60, env=full_env)


def test_exit_without_wait(tmp_path):
    r = _run("""
        import time
        from plait.core import engine
        a, b = engine.new_var(), engine.new_var()
        def slow():
            time.sleep(0.01)
        def bad():
            raise ValueError("unwaited")
        for i in range(50):
            engine.push(slow, [a], [b], "slow")
            engine.push(slow, [b], [a], "slow")
        engine.push(bad, [a], [b], "bad_op")
        engine.push(lambda: print("LAST_RAN", flush=True), [], [a], "last")
    """, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "LAST_RAN" in r.stdout
    assert "bad_op" in r.stderr  # reported, not raised


def test_push_from_four_threads(tmp_path):
    r = _run("""
        import atexit, threading
        totals = [[0] for _ in range(4)]
        # registered before plait's handler, so it runs after the engine drained
        atexit.register(lambda: print("TOTALS", [x[0] for x in totals], flush=True))
        from plait.core import engine
        shared = engine.new_var()
        def work(t):
            v = engine.new_var()
            def inc():
                totals[t][0] += 1
            for _ in range(3000):
                engine.push(inc, [shared], [v], "inc")
            if t == 0:
                engine.wait_read(v)
                assert totals[0][0] == 3000
        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads[:2]:
            th.join()
    """, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "TOTALS [3000, 3000, 3000, 3000]" in r.stdout


def test_engine_type_from_env_and_fork(tmp_path):
    code = "from plait.core import engine; print(engine.engine_type())"
    assert _run(code, tmp_path, {"MXNET_ENGINE_TYPE": "NaiveEngine",
                                 "PLAIT_ENGINE_TYPE": ""}).stdout.strip() == "NaiveEngine"
    assert _run(code, tmp_path, {"MXNET_ENGINE_TYPE": "NaiveEngine",
                                 "PLAIT_ENGINE_TYPE": "ThreadedEnginePerDevice"}
                ).stdout.strip() == "ThreadedEngine"
    if not hasattr(os, "fork"):
        return
    r = _run("""
        import os
        from plait.core import engine
        box = [0]
        v = engine.new_var()
        def inc():
            box[0] += 1
        for _ in range(100):
            engine.push(inc, [], [v], "inc")
        pid = os.fork()
        for _ in range(100):
            engine.push(inc, [], [v], "inc")
        engine.wait_read(v)
        if pid == 0:
            os._exit(0 if box[0] == 200 else 3)
        _, status = os.waitpid(pid, 0)
        print("CHILD", os.waitstatus_to_exitcode(status), "PARENT", box[0])
    """, tmp_path, {"MXNET_ENGINE_TYPE": "ThreadedEngine", "PLAIT_ENGINE_TYPE": ""})
    assert r.returncode == 0, r.stderr
    assert "CHILD 0 PARENT 200" in r.stdout


def test_inline_ok_runs_ready_ops_in_the_caller_and_keeps_order():
    """inline_ok: an op whose vars are free runs at once in the pushing thread; an op
    that must wait is queued as usual, and its order against earlier ops still holds."""
    if engine.engine_type() != "ThreadedEngine":
        pytest.skip("threaded engine only")
    v = engine.new_var()
    me = threading.get_ident()
    where = []
    engine.push(lambda: where.append(threading.get_ident()), [], [v], "inline", True)
    assert where == [me]  # ran before push returned
    gate = threading.Event()
    engine.push(lambda: gate.wait(5), [], [v], "blocker")
    log = []
    engine.push(lambda: log.append("after-blocker"), [v], [], "queued", True)
    assert log == []  # v is being written: the op waits for the blocker
    gate.set()
    engine.wait_read(v)
    engine.wait_all()
    assert log == ["after-blocker"]


def test_two_workers_in_a_subprocess():
    """The default is one worker (MXNet's); run the ordering and read-overlap tests again
    with two, so a fully serial engine would still be caught."""
    if engine.num_workers() >= 2:
        pytest.skip("already running with several workers")
    env = dict(os.environ, MXNET_CPU_WORKER_NTHREADS="2")
    here = os.path.dirname(os.path.abspath(__file__))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        os.path.abspath(__file__), "-k", "random_dag or concurrent_reads_overlap"],
                       cwd=os.path.dirname(here), env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert " passed" in r.stdout and "skipped" not in r.stdout.splitlines()[-1], r.stdout[-500:]
