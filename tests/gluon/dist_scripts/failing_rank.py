"""Run under mpiexec (2 ranks) by tests/gluon/test_kvstore_dist.py: rank 1 fails, rank 0
goes on into collectives that rank 1 never joins.  The job must end (MPI Abort) quickly
with a message naming the failure.  argv[1]: 'raise' (an uncaught exception in the
script) or 'poisoned' (an engine op fails asynchronously, then its output is pushed)."""
import sys
import time

import plait as mx
from plait.core import engine

MODE = sys.argv[1]
engine.set_engine_type("ThreadedEngine")  # 'poisoned' needs an op that fails asynchronously
kv = mx.kv.create("dist_sync")
kv.init(0, mx.nd.zeros((4,)))
grad = mx.nd.ones((4,))
if kv.rank == 1:
    time.sleep(0.3)
    if MODE == "raise":
        raise RuntimeError("deliberate failure on rank 1")

    def bad_kernel():
        raise ValueError("deliberate kernel failure on rank 1")
    engine.push(bad_kernel, [], [grad._var], "bad_kernel")
kv.pushpull(0, grad)
kv._barrier()
time.sleep(60)  # never reached on a healthy abort: the test's timeout would catch a hang
