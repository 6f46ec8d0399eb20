"""ONNX export rules of core/ops/contrib_roi.py: _contrib_ROIAlign -> RoiAlign and
ROIPooling -> MaxRoiPool.

RoiAlign (opset 10+) takes the boxes (R, 4) and an int64 batch_indices (R,) apart: the
index column is split off MXNet's rois and cast (truncating toward zero, as MXNet's int
cast).  MXNet's legacy geometry (no half-pixel shift, rois at least 1 x 1) is ONNX's
coordinate_transformation_mode 'output_half_pixel'; aligned=True is 'half_pixel', which
only exists from opset 16.  sample_ratio <= 0 (adaptive) is ONNX's sampling_ratio 0.
position_sensitive has no ONNX form.  Not expressible either: MXNet's handling of a roi
with a negative batch index (a data value, so the export cannot reject it).

MaxRoiPool takes MXNet's (R, 5) rois as they are and rounds and bins as ROIPooling does.
"""
import numpy as np

from .export_context import onnx_rule


@onnx_rule("_contrib_ROIAlign")
def _roi_align(ctx, node):
    a = node.attrs
    if a.position_sensitive:
        ctx.fail(node, "position_sensitive=True is not supported (ONNX RoiAlign has no "
                 "position-sensitive form)")
    if a.aligned and ctx.opset < 16:
        ctx.fail(node, "aligned=True is not supported before opset 16 (RoiAlign's "
                 "coordinate_transformation_mode 'half_pixel')")
    x, rois = node.inputs[:2]
    index = ctx.add("Gather", [rois, ctx.scalar(0, np.int64)], axis=1)
    index = ctx.add("Cast", [index], to=ctx.onnx.TensorProto.INT64)
    boxes = ctx.add("Slice", [rois, ctx.ints([1]), ctx.ints([5]), ctx.ints([1])])
    mode = {}
    if ctx.opset >= 16:
        mode["coordinate_transformation_mode"] = "half_pixel" if a.aligned else \
            "output_half_pixel"
    ph, pw = a.pooled_size
    ctx.add("RoiAlign", [x, boxes, index], node.outputs[:1], mode="avg",
            output_height=int(ph), output_width=int(pw),
            sampling_ratio=max(int(a.sample_ratio), 0),
            spatial_scale=float(np.float32(a.spatial_scale)), **mode)


@onnx_rule("ROIPooling")
def _roi_pooling(ctx, node):
    a = node.attrs
    ctx.add("MaxRoiPool", node.inputs[:2], node.outputs[:1],
            pooled_shape=[int(v) for v in a.pooled_size],
            spatial_scale=float(np.float32(a.spatial_scale)))
