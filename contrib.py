"""mx.contrib: MXNet 1.9's contrib namespace (mx.contrib.onnx, and the contrib op namespaces)."""
from .core import onnx  # noqa: F401
from .core import caffe  # noqa: F401  (mx.contrib.caffe; protobuf is imported at first use)
