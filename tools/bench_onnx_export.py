"""Benchmark ONNX export: ResNet-50 v1 export time, plait against MXNet 1.9.1, and the
onnxruntime throughput of both files.

    python tools/bench_onnx_export.py [--mxnet /tmp/plait-anchors/mxnet/bin/python] [--reps 3]

plait writes ResNet-50 (random weights) as -symbol.json + .params; both exporters convert
those same files.  MXNet 1.9.1's exporter imports `onnx.mapping`, which current onnx removed,
and stamps onnx's newest opset although its tables stop at 13: the MXNet side runs with a
small shim (a stand-in onnx.mapping built from onnx.helper, opset pinned to 13), written
here.  Both files then run in the same onnxruntime (2 threads, batch 8) and their outputs
are compared with plait's.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

MX_SCRIPT = r'''
import json, sys, time, types
import numpy as np
import onnx, onnx.defs
from onnx import helper
m = types.ModuleType("onnx.mapping")
m.NP_TYPE_TO_TENSOR_TYPE = {np.dtype(t): helper.np_dtype_to_tensor_dtype(np.dtype(t))
    for t in ("float16", "float32", "float64", "int8", "uint8", "int32", "int64", "bool")}
m.TENSOR_TYPE_TO_NP_TYPE = {v: k for k, v in m.NP_TYPE_TO_TENSOR_TYPE.items()}
sys.modules["onnx.mapping"] = m
onnx.mapping = m
onnx.defs.onnx_opset_version = lambda: 13
import mxnet as mx
prefix, out, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
shape = tuple(json.loads(sys.argv[4]))
times = []
for _ in range(reps):
    t = time.perf_counter()
    mx.onnx.export_model(prefix + "-symbol.json", prefix + "-0000.params", [shape],
                         [np.float32], out)
    times.append(time.perf_counter() - t)
print(json.dumps({"export_s": times, "mxnet": mx.__version__}))
'''


def ort_throughput(path, x, steps=10):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    y = sess.run(None, {name: x})[0]
    ts = []
    for _ in range(steps):
        t = time.perf_counter()
        sess.run(None, {name: x})
        ts.append(time.perf_counter() - t)
    return x.shape[0] / statistics.median(ts), y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mxnet", default="/tmp/plait-anchors/mxnet/bin/python")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    import plait as mx
    from plait.gluon.model_zoo import vision
    tmp = tempfile.mkdtemp(prefix="bench_onnx_")
    prefix = os.path.join(tmp, "resnet50")
    np.random.seed(0)
    net = vision.resnet50_v1()
    net.initialize(mx.init.Xavier(magnitude=2))
    net.hybridize()
    x = np.random.randn(args.batch, 3, 224, 224).astype(np.float32)
    ref = net(mx.nd.array(x)).asnumpy()
    net.export(prefix)
    res = {"plait_export_s": []}
    plait_file = prefix + "-plait.onnx"
    for _ in range(args.reps):
        t = time.perf_counter()
        mx.onnx.export_model(prefix + "-symbol.json", prefix + "-0000.params", [x.shape],
                             [np.float32], plait_file)
        res["plait_export_s"].append(time.perf_counter() - t)
    ips, y = ort_throughput(plait_file, x)
    res["plait_ort_img_s"] = ips
    res["plait_max_rel_err"] = float(np.abs(y - ref).max() / np.abs(ref).max())
    mx_file = prefix + "-mxnet.onnx"
    if os.path.exists(args.mxnet):
        p = subprocess.run([args.mxnet, "-c", MX_SCRIPT, prefix, mx_file, str(args.reps),
                            json.dumps(list(x.shape))],
                           capture_output=True, text=True)
        if p.returncode == 0:
            mx_res = json.loads(p.stdout.strip().splitlines()[-1])
            res.update({"mxnet_" + k: v for k, v in mx_res.items()})
            ips, y = ort_throughput(mx_file, x)
            res["mxnet_ort_img_s"] = ips
            res["mxnet_max_rel_err"] = float(np.abs(y - ref).max() / np.abs(ref).max())
        else:
            res["mxnet_error"] = p.stderr.strip().splitlines()[-1:]
    import onnx
    for tag, f in (("plait", plait_file), ("mxnet", mx_file)):
        if os.path.exists(f):
            m = onnx.load(f, load_external_data=False)
            res[tag + "_nodes"] = len(m.graph.node)
            res[tag + "_opset"] = m.opset_import[0].version
            res[tag + "_graph_inputs"] = len(m.graph.input)
    for k in ("plait_export_s", "mxnet_export_s"):
        if k in res:
            res[k + "_median"] = statistics.median(res[k])
    shutil.rmtree(tmp, ignore_errors=True)  # ~300 MB of model files
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    sys.exit(main())
