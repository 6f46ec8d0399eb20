"""mx.contrib: MXNet 1.9's contrib namespace (mx.contrib.onnx, and the contrib op namespaces)."""
from .core import onnx  # noqa: F401
from .core import caffe  # noqa: F401  (mx.contrib.caffe; protobuf is imported at first use)
from .ndarray import contrib as nd, contrib as ndarray  # noqa: F401,E402  (mx.contrib.nd)
from .symbol import contrib as sym, contrib as symbol  # noqa: F401,E402  (mx.contrib.sym)
