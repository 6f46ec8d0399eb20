"""mx.nd.linalg: every registered `_linalg_<name>` op as mx.nd.linalg.<name> (gemm, gemm2,
potrf, potri, trmm, trsm, syrk, sumlogdiag, extractdiag, makediag, extracttrian, maketrian,
inverse, det, slogdet; core/ops/linalg_mx*.py), as in MXNet 1.9.  Inside a HybridBlock,
F.linalg.<name> is this module or mx.sym.linalg."""
from ..core.ops import registry as _registry

__all__ = []


def _api():
    from .. import ndarray
    return ndarray


__getattr__, __dir__ = _registry.contrib_accessors("mx.nd.linalg", _api, __all__, "_linalg_")
