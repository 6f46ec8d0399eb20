"""Run under mpiexec (2 ranks, 2 GPUs) by tests/gluon/test_kvstore_dist.py when CuPy and two
GPUs are present: 'dist_sync_device' sums GPU arrays through NCCL.  Exits non-zero on a
mismatch.  (plait's CI has no GPU: this has not run there.)"""
import numpy as np

import plait as mx

kv = mx.kv.create("dist_sync_device")
R, N = kv.rank, kv.num_workers
ctx = mx.gpu(R)
shapes = [(5,), (3, 4), (1 << 20,)]
for dtype in ("float16", "float32", "float64", "int32", "int64"):
    keys = ["%s%d" % (dtype, i) for i in range(len(shapes))]
    kv.init(keys, [mx.nd.zeros(s, ctx=ctx, dtype=dtype) for s in shapes])
    vals = [mx.nd.array(np.full(s, R + 1), ctx=ctx, dtype=dtype) for s in shapes]
    kv.pushpull(keys, vals)
    for v in vals:
        got = v.asnumpy()
        assert (got == sum(range(1, N + 1))).all(), (dtype, got.ravel()[:4])
kv._barrier()
print("rank %d: NCCL checks passed" % R)
