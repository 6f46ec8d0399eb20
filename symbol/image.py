"""mx.sym.image: every registered `_image_<name>` op as mx.sym.image.<name> (the symbolic
twin of mx.nd.image; F.image inside hybrid_forward)."""
from ..core.ops import registry as _registry

__all__ = []


def _api():
    from .. import symbol
    return symbol


def _make(op, name):
    from .api import make_symbol_function
    return make_symbol_function(op, name)  # node names from the short name: to_tensor0


__getattr__, __dir__ = _registry.contrib_accessors("mx.sym.image", _api, __all__, "_image_",
                                                   _make)
