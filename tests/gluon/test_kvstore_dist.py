"""kvstore='dist_sync' on 2 local MPI ranks (mpi4py + mpiexec; skipped without them).

Few launches, many checks each: dist_scripts/kvstore_checks.py runs every collective,
compression and Trainer-parity check in one job (started through python -m plait.launch)
and writes one result per check and rank; dist_scripts/failing_rank.py checks that a
failing rank ends the job (plain mpiexec).  The engine's async ops, which the transport
is built on, are tested in-process below."""
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from plait import launch
from plait.core import engine

pytestmark = pytest.mark.mpi
HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "dist_scripts")
CHECKS = [
    "test_properties", "test_push_pull_dtypes_uneven",
    "test_pushpull_in_place_and_multi_device", "test_push_waits_for_a_pending_producer",
    "test_init_broadcasts_rank0",
    "test_set_optimizer_same_update_everywhere", "test_gradient_compression_2bit",
    "test_gradient_compression_fp16", "test_mismatched_shapes_raise_on_every_rank",
    "test_async_kind_refused", "test_parity_sgd_update_on_kvstore",
    "test_parity_adam_update_locally", "test_parity_two_contexts_per_rank",
]


def _mpi_missing():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install 'plait[dist]')"
    if launch.find_mpiexec() is None:
        return "no mpiexec next to %s or on PATH" % sys.executable
    return None


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=str(_mpi_missing()))


def _run(cmd, timeout, extra_env=None):
    env = launch.mpi_env()  # Open MPI refuses root without OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra_env or {})
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=HERE, check=False)
    except subprocess.TimeoutExpired as e:
        pytest.fail("%s hung for more than %d s:\n%s\n%s"
                    % (" ".join(cmd), timeout, e.stdout, e.stderr))
    return proc, time.monotonic() - start


# 'inline': the defaults (small ready collectives run in the calling thread);
# 'threaded': every collective goes through the comm thread as an async engine op, in
# many small buckets (the path that overlaps communication with compute).
CONFIGS = {"inline": {},
           "threaded": {"PLAIT_KVSTORE_INLINE_BYTES": "0", "PLAIT_KVSTORE_BUCKET_BYTES": "600"}}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def dist_results(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("kvdist")
    cmd = [sys.executable, "-m", "plait.launch", "-n", "2",
           os.path.join(SCRIPTS, "kvstore_checks.py"), str(out)]
    proc, _ = _run(cmd, timeout=240, extra_env=CONFIGS[request.param])
    ranks = []
    for r in range(2):
        path = out / ("rank%d.json" % r)
        if not path.exists():
            pytest.fail("rank %d wrote no results (exit %s):\n%s\n%s"
                        % (r, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
        ranks.append(json.loads(path.read_text()))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return ranks


@needs_mpi
def test_every_check_ran(dist_results):
    for r, res in enumerate(dist_results):
        assert sorted(k for k in res if k != "weights") == sorted(CHECKS), (r, sorted(res))


@needs_mpi
@pytest.mark.parametrize("check", CHECKS)
def test_dist_check(dist_results, check):
    for r, res in enumerate(dist_results):
        assert res.get(check) == "ok", "rank %d: %s" % (r, res.get(check))


@needs_mpi
def test_ranks_end_with_identical_weights(dist_results):
    w0, w1 = (res.get("weights") for res in dist_results)
    assert w0 and len(w0) == 3 and w0 == w1


@needs_mpi
@pytest.mark.parametrize("mode,message", [
    ("raise", "uncaught RuntimeError: deliberate failure on rank 1; aborting all 2 ranks"),
    ("poisoned", "the value pushed for key 0 holds an exception from an earlier operator "
                 "(ValueError: deliberate kernel failure on rank 1)"),
])
def test_failing_rank_aborts_the_job(mode, message):
    cmd = launch.mpi_command(2, [os.path.join(SCRIPTS, "failing_rank.py"), mode])
    proc, took = _run(cmd, timeout=30)
    report = "exit %s after %.1f s\nstdout:\n%s\nstderr:\n%s" % (
        proc.returncode, took, proc.stdout[-2000:], proc.stderr[-3000:])
    assert proc.returncode != 0, report
    assert message in proc.stderr, report
    assert "[rank 1/2]" in proc.stderr, report
    assert took < 30, report


@needs_mpi
@pytest.mark.slow
def test_example_trains_on_two_ranks():
    example = os.path.join(HERE, "..", "..", "examples", "distributed_mnist.py")
    cmd = [sys.executable, "-m", "plait.launch", "-n", "2", example, "--epochs", "1",
           "--limit", "4000"]
    proc, _ = _run(cmd, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    acc = float(proc.stdout.split("test accuracy")[1].split(":")[1].strip())
    assert acc > 0.5, proc.stdout


def _two_gpus():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() >= 2
    except Exception:  # noqa: BLE001  (no CuPy, no driver, no device)
        return False


@needs_mpi
@pytest.mark.skipif(not _two_gpus(), reason="needs CuPy and 2 GPUs (NCCL path)")
def test_dist_sync_device_reduces_through_nccl():
    cmd = launch.mpi_command(2, [os.path.join(SCRIPTS, "nccl_checks.py")])
    proc, _ = _run(cmd, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("NCCL checks passed") == 2


def test_launch_command_line(tmp_path):
    cmd = launch.mpi_command(3, ["train.py", "--epochs", "2"], mpiexec="/x/mpiexec",
                             python="/x/python")
    assert cmd == ["/x/mpiexec", "-n", "3", "/x/python", "train.py", "--epochs", "2"]
    with pytest.raises(ValueError, match="positive integer"):
        launch.mpi_command(0, ["train.py"], mpiexec="/x/mpiexec")
    with pytest.raises(FileNotFoundError, match="host file"):
        launch.mpi_command(2, ["t.py"], hostfile=str(tmp_path / "nope"), mpiexec="/x/mpiexec")
    env = launch.mpi_env({})
    if os.geteuid() == 0:
        assert env["OMPI_ALLOW_RUN_AS_ROOT"] == "1"
        assert env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] == "1"


# -- the engine's async ops (what the transport stands on) ---------------------------------------
def _worker(jobs):
    while True:
        job = jobs.get()
        if job is None:
            return
        time.sleep(0.02)
        job()


@pytest.fixture
def comm_thread():
    """A stand-in communication thread, on a quiet ThreadedEngine."""
    import queue
    before = engine.engine_type()
    engine.set_engine_type("ThreadedEngine")
    jobs = queue.SimpleQueue()
    t = threading.Thread(target=_worker, args=(jobs,), daemon=True)
    t.start()
    yield jobs
    jobs.put(None)
    t.join()
    engine.set_engine_type(before)


def test_push_async_orders_with_readers_and_frees_the_worker(comm_thread):
    v, w = engine.new_var(), engine.new_var()
    log = []
    engine.push_async(lambda done: comm_thread.put(lambda: (log.append("comm"), done())),
                      [], [v], "fake_allreduce")
    engine.push(lambda: log.append("reader"), [v], [], "reader")
    engine.push(lambda: log.append("independent"), [], [w], "independent")
    engine.wait_read(w)
    assert "independent" in log and "reader" not in log  # did not wait for the comm
    engine.wait_all()
    assert log.index("comm") < log.index("reader")


def test_push_async_error_and_dropped_callback(comm_thread):
    v = engine.new_var()
    engine.push_async(lambda done: comm_thread.put(lambda: done(ValueError("mpi broke"))),
                      [], [v], "fake_allreduce")
    with pytest.raises(ValueError, match="mpi broke"):
        engine.wait_read(v)
    engine.push_async(lambda done: None, [], [v], "forgetful")
    with pytest.raises(RuntimeError, match="without calling its done"):
        engine.wait_read(v)
    engine.push_async(lambda done: done(), [], [v], "sync_done")  # done inside fn: fine
    engine.wait_read(v)
    assert v.exception is None
    with pytest.raises(TypeError, match="engine Vars"):
        engine.push_async(lambda done: done(), [], [object()], "bad_var")
    try:
        engine.wait_all()
    except Exception:  # noqa: BLE001  (the errors above were already surfaced)
        pass


def test_push_async_under_naive_engine(comm_thread):
    before = engine.engine_type()
    engine.set_engine_type("NaiveEngine")
    try:
        log = []
        engine.push_async(lambda done: comm_thread.put(lambda: (log.append(1), done())),
                          [], [engine.new_var()], "naive_async")
        assert log == [1]  # returned only once done() ran
        with pytest.raises(KeyError, match="naive boom"):
            engine.push_async(lambda done: comm_thread.put(lambda: done(KeyError("naive boom"))),
                              [], [engine.new_var()], "naive_err")
    finally:
        engine.set_engine_type(before)


# -- gradient compression, in process (the MPI launch checks it across ranks too) ----------------
FIXTURE = os.path.join(HERE, "..", "fixtures", "kvstore", "twobit_device.npz")


def test_twobit_matches_real_mxnet():
    """MXNet 1.9.1's 'device' kvstore quantizes each device's gradient with its own residual
    and sums the dequantized values: plait's ranks follow the same rule."""
    import numpy as np
    from plait.gluon.kvstore_compress import TwoBit
    fx = np.load(FIXTURE, allow_pickle=False)
    grads, pulled = fx["grads"], fx["pulled"]
    for t, threshold in enumerate(fx["thresholds"]):
        comp = TwoBit(float(threshold))
        n = grads.shape[-1]
        for s in range(grads.shape[1]):
            payloads = [comp.encode([("device", d)], [grads[t, s, d]])
                        for d in range(grads.shape[2])]
            got = comp.decode_sum(np.stack(payloads), n, np.float32)
            np.testing.assert_allclose(got, pulled[t, s], rtol=0, atol=1e-7,
                                       err_msg="threshold %s step %d" % (threshold, s))


def test_twobit_packing_round_trip_and_size():
    import numpy as np
    from plait.gluon.kvstore_compress import pack_2bit, unpack_2bit
    rng = np.random.RandomState(3)
    for n in (1, 3, 4, 5, 16, 1001):
        codes = rng.randint(0, 3, n).astype(np.uint8)
        packed = pack_2bit(codes)
        assert packed.dtype == np.uint8 and packed.size == (n + 3) // 4  # 16 values / 4 bytes
        np.testing.assert_array_equal(unpack_2bit(packed[None], n)[0], codes)


def test_fp16_compression_sums_rounded_values():
    import numpy as np
    from plait.gluon.kvstore_compress import make_compression
    comp = make_compression({"type": "fp16"})
    rng = np.random.RandomState(4)
    parts = [rng.randn(9).astype(np.float32) for _ in range(3)]
    got = comp.decode_sum(np.stack([comp.encode([0], [p]) for p in parts]), 9, np.float32)
    want = sum(p.astype(np.float16).astype(np.float32) for p in parts)
    np.testing.assert_array_equal(got, want)


def test_compression_params_errors():
    import numpy as np
    from plait.core.base import PlaitError
    from plait.gluon.kvstore_compress import make_compression
    assert make_compression({"type": "2bit"}).threshold == np.float32(0.5)  # MXNet's default
    assert make_compression({"type": "none"}) is None
    for bad, match in [("2bit", "must be a dict"), ({"threshold": 1}, "needs a 'type'"),
                       ({"type": "1bit"}, "unknown gradient compression type '1bit'"),
                       ({"type": "2bit", "threshold": -1}, "positive finite"),
                       ({"type": "2bit", "threshold": "x"}, "positive finite"),
                       ({"type": "2bit", "thresh": 1}, "unknown compression parameter"),
                       ({"type": "fp16", "threshold": 1}, "takes no threshold")]:
        with pytest.raises(PlaitError, match=match):
            make_compression(bad)
    with pytest.raises(PlaitError, match="needs float32 gradients; key 3 is float64"):
        make_compression({"type": "2bit"}).check_dtype(3, np.float64)


@needs_mpi
def test_pushed_buffers_are_taken_at_submission():
    """A push queued behind other communication reduces the buffer its gradient held when
    pushed: autograd hands a .grad NDArray the next step's buffer (storage swap) while the
    push may still wait (this race gave NaN losses in examples/distributed_mnist.py)."""
    import numpy as np
    import plait as mx
    kv = mx.kv.create("dist_sync")
    kv.init("w", mx.nd.zeros((4,)))
    g = mx.nd.ones((4,)) * 3
    g.wait_to_read()
    started, gate = threading.Event(), threading.Event()
    holder = threading.Thread(target=kv._comm.run_blocking,
                              args=(lambda: (started.set(), gate.wait()), "hold"))
    holder.start()
    assert started.wait(30)
    kv.pushpull("w", g)  # queued behind "hold"
    g._data, g._var = np.full(4, 100.0, np.float32), engine.new_var()  # as autograd's swap
    gate.set()
    holder.join()
    out = mx.nd.zeros((4,))
    kv.pull("w", out)
    np.testing.assert_array_equal(out.asnumpy(), np.full(4, 3.0 * kv.num_workers))
