"""Convolutional recurrent cells (MXNet 1.9's mxnet.gluon.contrib.rnn.conv_rnn_cell):
Conv{1,2,3}D{RNN,LSTM,GRU}Cell.  The i2h and h2h projections of the gated cells are
convolutions: i2h over the step's input (kernel i2h_kernel, pad i2h_pad, dilate i2h_dilate),
h2h over the hidden state with "same" padding (h2h_kernel must be odd).  Parameter names,
shapes, gate order and state layouts are MXNet's, so MXNet-trained weights load as they are.

plait's Convolution op only implements the channel-first layouts; for a channel-last
conv_layout ('NWC', 'NHWC', 'NDHWC') the cell transposes data and weights around each
convolution (the parameters keep MXNet's channel-last shapes).
"""
from math import floor
from numbers import Integral

from ....core.base import PlaitError
from ...rnn.rnn_cell import HybridRecurrentCell

__all__ = ["Conv1DRNNCell", "Conv2DRNNCell", "Conv3DRNNCell",
           "Conv1DLSTMCell", "Conv2DLSTMCell", "Conv3DLSTMCell",
           "Conv1DGRUCell", "Conv2DGRUCell", "Conv3DGRUCell"]

_LAYOUTS = {1: ("NCW", "NWC"), 2: ("NCHW", "NHWC"), 3: ("NCDHW", "NDHWC")}


def _conv_out_size(dimensions, kernels, paddings, dilations):
    """Spatial output size of a stride-1 convolution (0 stays 0: unknown)."""
    return tuple(int(floor(x + 2 * p - d * (k - 1) - 1)) + 1 if x else 0
                 for x, k, p, d in zip(dimensions, kernels, paddings, dilations))


def _spec(cell, name, value, dims):
    """An int or a dims-long tuple -> a dims-long tuple of ints."""
    if isinstance(value, Integral):
        return (int(value),) * dims
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        out = ()
    if len(out) != dims:
        raise PlaitError("for %dD convolution it must be an int or a tuple of %d ints, got %r"
                         % (dims, dims, value), arg=name, op=type(cell).__name__)
    return out


class _BaseConvRNNCell(HybridRecurrentCell):
    """What the convolutional cells share: shapes, parameters and the two convolutions."""
    _gate_names = ("",)

    def __init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad,
                 i2h_dilate, h2h_dilate, i2h_weight_initializer, h2h_weight_initializer,
                 i2h_bias_initializer, h2h_bias_initializer, dims, conv_layout, activation,
                 prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        op = type(self).__name__
        if conv_layout not in _LAYOUTS[dims]:
            raise PlaitError("must be one of %s for a %dD cell, got %r"
                             % (_LAYOUTS[dims], dims, conv_layout), arg="conv_layout", op=op)
        input_shape = tuple(int(s) for s in input_shape)
        if len(input_shape) != dims + 1:
            raise PlaitError("must have %d entries (channels and %d spatial sizes, in %s order "
                             "without N), got %s" % (dims + 1, dims, conv_layout[1:],
                                                     input_shape), arg="input_shape", op=op)
        self._hidden_channels, self._input_shape = int(hidden_channels), input_shape
        self._conv_layout, self._activation, self._dims = conv_layout, activation, dims
        self._i2h_kernel = _spec(self, "i2h_kernel", i2h_kernel, dims)
        self._i2h_pad = _spec(self, "i2h_pad", i2h_pad, dims)
        self._i2h_dilate = _spec(self, "i2h_dilate", i2h_dilate, dims)
        self._h2h_kernel = _spec(self, "h2h_kernel", h2h_kernel, dims)
        self._h2h_dilate = _spec(self, "h2h_dilate", h2h_dilate, dims)
        self._stride = (1,) * dims
        if any(k % 2 != 1 for k in self._h2h_kernel):
            raise PlaitError("only odd sizes are supported (the state keeps its size), got %s"
                             % (self._h2h_kernel,), arg="h2h_kernel", op=op)
        self._h2h_pad = tuple(d * (k - 1) // 2 for d, k in zip(self._h2h_dilate,
                                                               self._h2h_kernel))
        self._channel_axis = conv_layout.find("C")
        first = self._channel_axis == 1
        self._in_channels = input_shape[0] if first else input_shape[-1]
        spatial = input_shape[1:] if first else input_shape[:-1]
        out_size = _conv_out_size(spatial, self._i2h_kernel, self._i2h_pad, self._i2h_dilate)
        hid, total = self._hidden_channels, self._hidden_channels * self._num_gates
        if first:
            i2h_shape = (total, self._in_channels) + self._i2h_kernel
            h2h_shape = (total, hid) + self._h2h_kernel
            self._state_shape = (hid,) + out_size
        else:
            i2h_shape = (total,) + self._i2h_kernel + (self._in_channels,)
            h2h_shape = (total,) + self._h2h_kernel + (hid,)
            self._state_shape = out_size + (hid,)
        self.i2h_weight = self.params.get("i2h_weight", shape=i2h_shape,
                                          init=i2h_weight_initializer, allow_deferred_init=True)
        self.h2h_weight = self.params.get("h2h_weight", shape=h2h_shape,
                                          init=h2h_weight_initializer, allow_deferred_init=True)
        self.i2h_bias = self.params.get("i2h_bias", shape=(total,), init=i2h_bias_initializer,
                                        allow_deferred_init=True)
        self.h2h_bias = self.params.get("h2h_bias", shape=(total,), init=h2h_bias_initializer,
                                        allow_deferred_init=True)

    @property
    def _num_gates(self):
        return len(self._gate_names)

    def state_info(self, batch_size=0):
        return [{"shape": (batch_size,) + self._state_shape, "__layout__": self._conv_layout}
                for _ in range(self._n_states)]

    def __repr__(self):
        shape = self.i2h_weight.shape
        in_channels = shape[1 if self._channel_axis == 1 else -1]
        return "{}({} -> {}, {}, {})".format(type(self).__name__, in_channels or None,
                                             shape[0], self._activation, self._conv_layout)

    def _convolve(self, F, data, weight, bias, kernel, pad, dilate, name):
        """One stride-1 convolution in the cell's layout."""
        n = self._hidden_channels * self._num_gates
        if self._channel_axis == 1:
            return F.Convolution(data=data, weight=weight, bias=bias, num_filter=n,
                                 kernel=kernel, stride=self._stride, pad=pad, dilate=dilate,
                                 layout=self._conv_layout, name=name)
        d = self._dims
        to_first = (0, d + 1) + tuple(range(1, d + 1))
        out = F.Convolution(data=F.transpose(data, axes=to_first),
                            weight=F.transpose(weight, axes=to_first), bias=bias,
                            num_filter=n, kernel=kernel, stride=self._stride, pad=pad,
                            dilate=dilate, layout=_LAYOUTS[d][0], name=name)
        return F.transpose(out, axes=(0,) + tuple(range(2, d + 2)) + (1,))

    def _conv_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias,
                      prefix):
        i2h = self._convolve(F, inputs, i2h_weight, i2h_bias, self._i2h_kernel,
                             self._i2h_pad, self._i2h_dilate, prefix + "i2h")
        h2h = self._convolve(F, states[0], h2h_weight, h2h_bias, self._h2h_kernel,
                             self._h2h_pad, self._h2h_dilate, prefix + "h2h")
        return i2h, h2h


class _ConvRNNCell(_BaseConvRNNCell):
    """h' = activation(W * x + b_i + R * h + b_h)."""
    _n_states = 1

    def _alias(self):
        return "conv_rnn"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = "t%d_" % self._counter
        i2h, h2h = self._conv_forward(F, inputs, states, i2h_weight, h2h_weight, i2h_bias,
                                      h2h_bias, prefix)
        out = self._get_activation(F, i2h + h2h, self._activation, name=prefix + "out")
        return out, [out]


class _ConvLSTMCell(_BaseConvRNNCell):
    """Gates i, f, c, o along the channel axis; c' = f*c + i*act(g), h' = o*act(c')."""
    _gate_names, _n_states = ("_i", "_f", "_c", "_o"), 2

    def _alias(self):
        return "conv_lstm"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = "t%d_" % self._counter
        i2h, h2h = self._conv_forward(F, inputs, states, i2h_weight, h2h_weight, i2h_bias,
                                      h2h_bias, prefix)
        gates = F.SliceChannel(i2h + h2h, num_outputs=4, axis=self._channel_axis,
                               name=prefix + "slice")
        in_gate = F.Activation(gates[0], act_type="sigmoid", name=prefix + "i")
        forget_gate = F.Activation(gates[1], act_type="sigmoid", name=prefix + "f")
        in_transform = self._get_activation(F, gates[2], self._activation, name=prefix + "c")
        out_gate = F.Activation(gates[3], act_type="sigmoid", name=prefix + "o")
        next_c = F.elemwise_add(forget_gate * states[1], in_gate * in_transform,
                                name=prefix + "state")
        next_h = F.elemwise_mul(out_gate, self._get_activation(F, next_c, self._activation),
                                name=prefix + "out")
        return next_h, [next_h, next_c]


class _ConvGRUCell(_BaseConvRNNCell):
    """Gates r, z, o: n = act(W_o*x + b + r*(R_o*h + b)), h' = (1-z)*n + z*h."""
    _gate_names, _n_states = ("_r", "_z", "_o"), 1

    def _alias(self):
        return "conv_gru"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = "t%d_" % self._counter
        i2h, h2h = self._conv_forward(F, inputs, states, i2h_weight, h2h_weight, i2h_bias,
                                      h2h_bias, prefix)
        i2h_r, i2h_z, i2h = F.SliceChannel(i2h, num_outputs=3, axis=self._channel_axis,
                                           name=prefix + "i2h_slice")
        h2h_r, h2h_z, h2h = F.SliceChannel(h2h, num_outputs=3, axis=self._channel_axis,
                                           name=prefix + "h2h_slice")
        reset_gate = F.Activation(i2h_r + h2h_r, act_type="sigmoid", name=prefix + "r_act")
        update_gate = F.Activation(i2h_z + h2h_z, act_type="sigmoid", name=prefix + "z_act")
        candidate = self._get_activation(F, i2h + reset_gate * h2h, self._activation,
                                         name=prefix + "h_act")
        next_h = F.elemwise_add((1. - update_gate) * candidate, update_gate * states[0],
                                name=prefix + "out")
        return next_h, [next_h]


_DOC = """%(d)dD convolutional %(kind)s cell (MXNet's contrib name and parameters).

    input_shape: one step's sample shape without N, in conv_layout order (e.g. (C, ...)
    for %(layout)s); hidden_channels: output channels; i2h_kernel/h2h_kernel (h2h odd),
    i2h_pad, i2h_dilate, h2h_dilate: ints or %(d)d-tuples; conv_layout: %(layouts)s;
    activation: a name or a block.  States: %(states)s, each (N,) + state shape.
    """


def _make_cell(base, kind, states, dims):
    """The public class Conv<dims>D<kind>Cell: `base` with MXNet's per-dimension defaults."""
    ones, zeros, first = (1,) * dims, (0,) * dims, _LAYOUTS[dims][0]

    def __init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad=zeros,
                 i2h_dilate=ones, h2h_dilate=ones, i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", conv_layout=first, activation="tanh",
                 prefix=None, params=None):
        base.__init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad,
                      i2h_dilate, h2h_dilate, i2h_weight_initializer, h2h_weight_initializer,
                      i2h_bias_initializer, h2h_bias_initializer, dims, conv_layout,
                      activation, prefix, params)

    name = "Conv%dD%sCell" % (dims, kind)
    __init__.__qualname__ = name + ".__init__"
    doc = _DOC % {"d": dims, "kind": kind, "layout": first, "states": states,
                  "layouts": " or ".join(_LAYOUTS[dims])}
    return type(name, (base,), {"__init__": __init__, "__module__": __name__, "__doc__": doc})


Conv1DRNNCell = _make_cell(_ConvRNNCell, "RNN", "[h]", 1)
Conv2DRNNCell = _make_cell(_ConvRNNCell, "RNN", "[h]", 2)
Conv3DRNNCell = _make_cell(_ConvRNNCell, "RNN", "[h]", 3)
Conv1DLSTMCell = _make_cell(_ConvLSTMCell, "LSTM", "[h, c]", 1)
Conv2DLSTMCell = _make_cell(_ConvLSTMCell, "LSTM", "[h, c]", 2)
Conv3DLSTMCell = _make_cell(_ConvLSTMCell, "LSTM", "[h, c]", 3)
Conv1DGRUCell = _make_cell(_ConvGRUCell, "GRU", "[h]", 1)
Conv2DGRUCell = _make_cell(_ConvGRUCell, "GRU", "[h]", 2)
Conv3DGRUCell = _make_cell(_ConvGRUCell, "GRU", "[h]", 3)
