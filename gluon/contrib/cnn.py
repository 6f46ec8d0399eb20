"""Deformable convolution layers (MXNet 1.9's gluon.contrib.cnn): DeformableConvolution (v1)
and ModulatedDeformableConvolution (v2).

Each layer holds two convolutions: a plain Convolution of the input that produces the
offsets (parameters offset_weight/offset_bias, initialised to zeros, so a fresh layer
starts as an ordinary convolution), and the deformable convolution itself
(deformable_conv_weight/deformable_conv_bias).  The modulated layer's offset convolution
has 3*kh*kw*num_deformable_group outputs: the first two thirds are the offsets, the rest
become the mask 2*sigmoid(.) (1 at initialisation).

As in MXNet, deformable_conv_weight is declared with 0 input channels even when
in_channels is given, so it is always initialised at the first forward.
"""
from ..block import HybridBlock
from ..nn._helpers import as_tuple, named_errors
from ..nn.activations import Activation
from ..nn.conv_layers import _weight_shapes

__all__ = ["DeformableConvolution", "ModulatedDeformableConvolution"]


class _Deformable(HybridBlock):
    """Shared body; `_taps_per_group` is the offset convolution's outputs per kernel tap and
    deformable group (2: offsets; 3: offsets and mask)."""
    _taps_per_group = 2

    _op = None  # the op's name, op_name's default

    def __init__(self, channels, kernel_size=(1, 1), strides=(1, 1), padding=(0, 0),
                 dilation=(1, 1), groups=1, num_deformable_group=1, layout="NCHW",
                 use_bias=True, in_channels=0, activation=None, weight_initializer=None,
                 bias_initializer="zeros", offset_weight_initializer="zeros",
                 offset_bias_initializer="zeros", offset_use_bias=True, op_name=None,
                 adj=None, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        op_name = op_name or self._op
        with self.name_scope():
            self._channels = channels
            self._in_channels = in_channels
            if layout not in ("NCHW", "NHWC"):
                raise AssertionError("Only supports 'NCHW' and 'NHWC' layout for now")
            kernel_size = as_tuple(kernel_size, 2, "kernel_size")
            strides = as_tuple(strides, 2, "strides")
            padding = as_tuple(padding, 2, "padding")
            dilation = as_tuple(dilation, 2, "dilation")
            self._op_name = op_name
            taps = kernel_size[0] * kernel_size[1] * num_deformable_group
            self.offset_split_index = 2 * taps
            offset_channels = self._taps_per_group * taps
            geom = {"kernel": kernel_size, "stride": strides, "dilate": dilation,
                    "pad": padding, "num_group": groups, "layout": layout}
            self._kwargs_offset = dict(geom, num_filter=offset_channels,
                                       no_bias=not offset_use_bias)
            self._kwargs_deformable_conv = dict(geom, num_filter=channels,
                                                num_deformable_group=num_deformable_group,
                                                no_bias=not use_bias)
            if adj:
                self._kwargs_offset["adj"] = adj
                self._kwargs_deformable_conv["adj"] = adj
            offset_shapes = _weight_shapes("Convolution", layout, offset_channels, in_channels,
                                           kernel_size, groups)
            # MXNet creates the parameters in this order (v1: offset conv first)
            makers = [lambda: self._offset_params(offset_shapes, offset_weight_initializer,
                                                  offset_bias_initializer, offset_use_bias),
                      lambda: self._conv_params(channels, kernel_size, weight_initializer,
                                                bias_initializer, use_bias)]
            for make in (makers if self._taps_per_group == 2 else makers[::-1]):
                make()
            self.act = (Activation(activation, prefix=activation + "_")
                        if activation else None)

    def _offset_params(self, shapes, w_init, b_init, use_bias):
        self.offset_weight = self.params.get("offset_weight", shape=shapes[0], init=w_init,
                                             allow_deferred_init=True)
        self.offset_bias = (self.params.get("offset_bias", shape=shapes[1], init=b_init,
                                            allow_deferred_init=True) if use_bias else None)

    def _conv_params(self, channels, kernel, w_init, b_init, use_bias):
        self.deformable_conv_weight = self.params.get(
            "deformable_conv_weight", shape=(channels, 0) + tuple(kernel), init=w_init,
            allow_deferred_init=True)
        self.deformable_conv_bias = (self.params.get(
            "deformable_conv_bias", shape=(channels,), init=b_init, allow_deferred_init=True)
            if use_bias else None)

    def _offsets(self, F, x, offset_weight, offset_bias):
        if offset_bias is None:
            return F.Convolution(x, offset_weight, cudnn_off=True, **self._kwargs_offset)
        return F.Convolution(x, offset_weight, offset_bias, cudnn_off=True,
                             **self._kwargs_offset)

    def _deform(self, F, x, offset, weight, bias):
        raise NotImplementedError

    @named_errors
    def hybrid_forward(self, F, x, offset_weight, deformable_conv_weight, offset_bias=None,
                       deformable_conv_bias=None):
        offset = self._offsets(F, x, offset_weight, offset_bias)
        out = self._deform(F, x, offset, deformable_conv_weight, deformable_conv_bias)
        return self.act(out) if self.act else out


class DeformableConvolution(_Deformable):
    """2-d deformable convolution v1 (Dai et al., 2017) of NCHW data: the offsets of its
    sampling points come from a Convolution of the input with the same geometry.

    Parameters as MXNet 1.9's: channels, kernel_size=(1, 1), strides=(1, 1),
    padding=(0, 0), dilation=(1, 1), groups=1, num_deformable_group=1, layout='NCHW',
    use_bias=True, in_channels=0, activation=None, weight_initializer=None,
    bias_initializer='zeros', offset_weight_initializer='zeros',
    offset_bias_initializer='zeros', offset_use_bias=True."""

    _op = "DeformableConvolution"

    def _deform(self, F, x, offset, weight, bias):
        kw = self._kwargs_deformable_conv
        if bias is None:
            return F.contrib.DeformableConvolution(data=x, offset=offset, weight=weight,
                                                   name="fwd", **kw)
        return F.contrib.DeformableConvolution(data=x, offset=offset, weight=weight, bias=bias,
                                               name="fwd", **kw)

    def _alias(self):
        return "deformable_conv"

    def __repr__(self):  # (MXNet gives the modulated layer no __repr__ of its own)
        kw = self._kwargs_deformable_conv
        s = "{name}({mapping}, kernel_size={kernel}, stride={stride}"
        if kw["pad"] != (0, 0):
            s += ", padding={pad}"
        if kw["dilate"] != (1, 1):
            s += ", dilation={dilate}"
        if kw["num_group"] != 1:
            s += ", groups={num_group}"
        if self.deformable_conv_bias is None:
            s += ", bias=False"
        if self.act:
            s += ", {}".format(self.act)
        s += ")"
        shape = self.deformable_conv_weight.shape
        return s.format(name=type(self).__name__,
                        mapping="{0} -> {1}".format(shape[1] if shape[1] else None, shape[0]),
                        **kw)


class ModulatedDeformableConvolution(_Deformable):
    """2-d modulated deformable convolution v2 (Zhu et al., 2018): like
    DeformableConvolution, and each sample is scaled by a mask 2*sigmoid(.) produced by the
    same offset convolution.  Same parameters as DeformableConvolution."""
    _taps_per_group = 3
    _op = "ModulatedDeformableConvolution"

    def _deform(self, F, x, offset, weight, bias):
        split = self.offset_split_index
        offset_t = F.slice_axis(offset, axis=1, begin=0, end=split)
        mask = F.sigmoid(F.slice_axis(offset, axis=1, begin=split, end=None)) * 2
        kw = self._kwargs_deformable_conv
        if bias is None:
            return F.contrib.ModulatedDeformableConvolution(
                data=x, offset=offset_t, mask=mask, weight=weight, name="fwd", **kw)
        return F.contrib.ModulatedDeformableConvolution(
            data=x, offset=offset_t, mask=mask, weight=weight, bias=bias, name="fwd", **kw)

    def _alias(self):
        return "modulated_deformable_conv"
