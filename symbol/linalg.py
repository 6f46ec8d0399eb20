"""mx.sym.linalg: every registered `_linalg_<name>` op as mx.sym.linalg.<name> (the symbolic
twin of mx.nd.linalg; F.linalg inside hybrid_forward).  Node names come from the short name,
as in MXNet: mx.sym.linalg.gemm2 makes `gemm20`."""
from ..core.ops import registry as _registry

__all__ = []


def _api():
    from .. import symbol
    return symbol


def _make(op, name):
    from .api import make_symbol_function
    return make_symbol_function(op, name)


__getattr__, __dir__ = _registry.contrib_accessors("mx.sym.linalg", _api, __all__, "_linalg_",
                                                   _make)
