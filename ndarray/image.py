"""mx.nd.image: every registered `_image_<name>` op as mx.nd.image.<name> (to_tensor,
normalize, crop, resize, flips, colour and lighting adjustments; core/ops/image_ops*.py),
as in MXNet 1.9.  Inside a HybridBlock, F.image.<name> is this module or mx.sym.image."""
from ..core.ops import registry as _registry

__all__ = []


def _api():
    from .. import ndarray
    return ndarray


__getattr__, __dir__ = _registry.contrib_accessors("mx.nd.image", _api, __all__, "_image_")
