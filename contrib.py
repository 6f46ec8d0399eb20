"""mx.contrib: MXNet 1.9's contrib namespace (mx.contrib.onnx, and the contrib op namespaces)."""
from .core import onnx  # noqa: F401
