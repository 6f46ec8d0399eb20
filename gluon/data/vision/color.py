"""Colour adjustments on HWC (or NHWC) RGB arrays (brightness, contrast, saturation, hue,
PCA lighting); the implementation lives in core/ops/image_color.py, shared with the
`_image_*` colour operators (mx.nd.image.random_brightness, ...)."""
from ....core.ops.image_color import (LUMA as _LUMA, EIGVAL as _EIGVAL,  # noqa: F401
                                      EIGVEC as _EIGVEC, back as _back, adjust_brightness,
                                      adjust_contrast, adjust_saturation, adjust_hue,
                                      adjust_lighting, _rgb_to_hls, _hls_to_rgb)
