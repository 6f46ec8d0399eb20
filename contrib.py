"""mx.contrib: MXNet 1.9's contrib namespace (mx.contrib.onnx, mx.contrib.text, and the contrib
op namespaces)."""
import sys as _sys

from .core import onnx  # noqa: F401
from .core import caffe  # noqa: F401  (mx.contrib.caffe; protobuf is imported at first use)
from .core import text  # noqa: F401  (mx.contrib.text: utils, vocab, embedding)
from .ndarray import contrib as nd, contrib as ndarray  # noqa: F401,E402  (mx.contrib.nd)
from .symbol import contrib as sym, contrib as symbol  # noqa: F401,E402  (mx.contrib.sym)

# this is a module, not a package: register mx.contrib.text and its submodules under their
# MXNet names so that `import plait.contrib.text.vocab` and `from plait.contrib.text import
# embedding` work
_sys.modules[__name__ + ".text"] = text
for _name in ("utils", "vocab", "embedding"):
    _sys.modules[__name__ + ".text." + _name] = getattr(text, _name)
del _name
