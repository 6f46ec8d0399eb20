"""gluon.rnn.RNN / LSTM / GRU: multi-layer recurrent layers on the fused `RNN` operator.

Each layer keeps MXNet 1.9's separate per-layer Parameters, named
`<prefix>{l|r}<layer>_{i2h|h2h}_{weight|bias}` (plus `h2r_weight` with an LSTM
projection), and packs them into the operator's parameter vector at every forward with
`_rnn_param_concat`, in the operator's order (all weights, then all biases).  So
.params files written by MXNet load unchanged (also those saved with
save_parameters, whose structural names MXNet writes as '_unfused.<layer>...').
"""
import re

from ... import ndarray, symbol
from ..block import HybridBlock

__all__ = ["RNN", "LSTM", "GRU"]

_GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}
_PARAM_KEY = re.compile(r"(l|r)(\d+)_(i2h|h2h|h2r)_(weight|bias)\Z")


class _RNNLayer(HybridBlock):
    """The shared implementation of RNN, LSTM and GRU."""

    def __init__(self, hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                 i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                 h2h_bias_initializer, mode, projection_size=None, h2r_weight_initializer=None,
                 lstm_state_clip_min=None, lstm_state_clip_max=None, lstm_state_clip_nan=False,
                 dtype="float32", use_sequence_length=False, **kwargs):
        super().__init__(**kwargs)
        if layout not in ("TNC", "NTC"):
            raise ValueError("Invalid layout %s; must be one of ['TNC' or 'NTC']" % layout)
        self._hidden_size, self._projection_size = hidden_size, projection_size or None
        self._num_layers, self._mode, self._layout = num_layers, mode, layout
        self._dropout, self._dir = dropout, 2 if bidirectional else 1
        self._input_size, self._dtype = input_size, dtype
        self._i2h_weight_initializer = i2h_weight_initializer
        self._h2h_weight_initializer = h2h_weight_initializer
        self._i2h_bias_initializer = i2h_bias_initializer
        self._h2h_bias_initializer = h2h_bias_initializer
        self._h2r_weight_initializer = h2r_weight_initializer
        self._lstm_state_clip_min, self._lstm_state_clip_max = (lstm_state_clip_min,
                                                                lstm_state_clip_max)
        self._lstm_state_clip_nan = lstm_state_clip_nan
        self._use_sequence_length = use_sequence_length
        self._gates = _GATES[mode]
        self.skip_states = None
        ng, nh, ni = self._gates, hidden_size, input_size
        nr = self._projection_size or nh
        for i in range(num_layers):
            for j in "lr"[:self._dir]:
                self._register_param("%s%d_i2h_weight" % (j, i), (ng * nh, ni),
                                     i2h_weight_initializer)
                self._register_param("%s%d_h2h_weight" % (j, i), (ng * nh, nr),
                                     h2h_weight_initializer)
                self._register_param("%s%d_i2h_bias" % (j, i), (ng * nh,), i2h_bias_initializer)
                self._register_param("%s%d_h2h_bias" % (j, i), (ng * nh,), h2h_bias_initializer)
                if self._projection_size:
                    self._register_param("%s%d_h2r_weight" % (j, i),
                                         (self._projection_size, nh), h2r_weight_initializer)
            ni = nr * self._dir

    def _register_param(self, name, shape, init):
        p = self.params.get(name, shape=shape, init=init, allow_deferred_init=True,
                            dtype=self._dtype)
        setattr(self, name, p)
        return p

    def __repr__(self):
        s = "{name}({mapping}, {layout}"
        if self._num_layers != 1:
            s += ", num_layers={layers}"
        if self._dropout != 0:
            s += ", dropout={dropout}"
        if self._dir == 2:
            s += ", bidirectional"
        s += ")"
        shape = self.l0_i2h_weight.shape
        mapping = "{0} -> {1}".format(shape[1] if shape[1] else None, shape[0] // self._gates)
        return s.format(name=type(self).__name__, mapping=mapping, layout=self._layout,
                        layers=self._num_layers, dropout=self._dropout)

    def _collect_params_with_prefix(self, prefix=""):
        """MXNet's structural names for save/load_parameters: '_unfused.<layer>.<name>'
        ('_unfused.<layer>.{l|r}_cell.<name>' when bidirectional)."""
        if prefix:
            prefix += "."
        bidir = self._dir == 2
        ret = {}
        for key, val in self._reg_params.items():
            d, l, g, t = _PARAM_KEY.match(key).groups()
            cell = "%s_cell." % d if bidir else ""
            ret["%s_unfused.%s.%s%s_%s" % (prefix, l, cell, g, t)] = val
        for name, child in self._children.items():
            ret.update(child._collect_params_with_prefix(prefix + name))
        return ret

    def state_info(self, batch_size=0):
        raise NotImplementedError

    def cast(self, dtype):
        super().cast(dtype)
        self._dtype = dtype

    def infer_shape(self, inputs, *args):
        """Deferred initialisation: the first layer's input size is the input's last axis."""
        ni = inputs.shape[-1]
        for j in "lr"[:self._dir]:
            p = getattr(self, "%s0_i2h_weight" % j)
            p.shape = (p.shape[0], ni)

    def begin_state(self, batch_size=0, func=ndarray.zeros, **kwargs):
        """The initial states: one array per entry of state_info(batch_size), made by
        `func` (mx.nd.zeros by default; mx.sym.zeros / mx.sym.var for symbols)."""
        states = []
        for i, info in enumerate(self.state_info(batch_size)):
            info = dict(info) if info is not None else {}
            info.update(kwargs)
            states.append(func(name="%sh0_%d" % (self.prefix, i), **info))
        return states

    def __call__(self, inputs, states=None, sequence_length=None, **kwargs):
        self.skip_states = states is None
        if states is None:
            if isinstance(inputs, ndarray.NDArray):
                batch_size = inputs.shape[self._layout.find("N")]
                states = self.begin_state(batch_size, ctx=inputs.context, dtype=inputs.dtype)
            else:
                # zeros whose batch size follows the input (no 0-dim shape to infer)
                from .rnn_cell import symbol_zero_states
                states = symbol_zero_states(self.state_info(0), inputs, self._layout)
        if isinstance(states, (ndarray.NDArray, symbol.Symbol)):
            states = [states]
        if self._use_sequence_length:
            return super().__call__(inputs, states, sequence_length, **kwargs)
        return super().__call__(inputs, states, **kwargs)

    def hybrid_forward(self, F, inputs, states, sequence_length=None, **kwargs):
        if F is ndarray:
            batch_size = inputs.shape[self._layout.find("N")]
            for state, info in zip(states, self.state_info(batch_size)):
                if state.shape != info["shape"]:
                    raise ValueError("Invalid recurrent state shape. Expecting %s, got %s."
                                     % (str(info["shape"]), str(state.shape)))
        out = self._forward_kernel(F, inputs, states, sequence_length, **kwargs)
        return out[0] if self.skip_states else out

    def _packed_names(self):
        gs = ["i2h", "h2h"] + (["h2r"] if self._projection_size else [])
        names = ["%s%d_%s_weight" % (d, l, g) for l in range(self._num_layers)
                 for d in "lr"[:self._dir] for g in gs]
        names += ["%s%d_%s_bias" % (d, l, g) for l in range(self._num_layers)
                  for d in "lr"[:self._dir] for g in ("i2h", "h2h")]
        return names

    def _forward_kernel(self, F, inputs, states, sequence_length, **kwargs):
        if self._layout == "NTC":
            inputs = F.swapaxes(inputs, dim1=0, dim2=1)
        names = self._packed_names()
        # flattened first, as MXNet's graph has it (so exported -symbol.json load in MXNet)
        flat = [F.reshape(kwargs[n], shape=(-1,)) for n in names]
        params = F._rnn_param_concat(*flat, dim=0, num_args=len(names))
        args = list(states) + ([sequence_length] if self._use_sequence_length else [])
        rnn = F.RNN(inputs, params, *args, use_sequence_length=self._use_sequence_length,
                    state_size=self._hidden_size, projection_size=self._projection_size,
                    num_layers=self._num_layers, bidirectional=self._dir == 2,
                    p=self._dropout, state_outputs=True, mode=self._mode,
                    lstm_state_clip_min=self._lstm_state_clip_min,
                    lstm_state_clip_max=self._lstm_state_clip_max,
                    lstm_state_clip_nan=self._lstm_state_clip_nan)
        outputs = rnn[0]
        new_states = [rnn[1], rnn[2]] if self._mode == "lstm" else [rnn[1]]
        if self._layout == "NTC":
            outputs = F.swapaxes(outputs, dim1=0, dim2=1)
        return outputs, new_states

    def _unfuse(self):
        """The same network as a HybridSequentialRNNCell of cells sharing these
        Parameters (no projection or clipping)."""
        from . import rnn_cell as C
        if self._projection_size or self._lstm_state_clip_min is not None:
            raise ValueError("_unfuse does not support projection or state clipping")
        make = {"rnn_relu": lambda **k: C.RNNCell(self._hidden_size, activation="relu", **k),
                "rnn_tanh": lambda **k: C.RNNCell(self._hidden_size, activation="tanh", **k),
                "lstm": lambda **k: C.LSTMCell(self._hidden_size, **k),
                "gru": lambda **k: C.GRUCell(self._hidden_size, **k)}[self._mode]
        stack = C.HybridSequentialRNNCell(prefix=self.prefix, params=self.params)
        with stack.name_scope():
            ni = self._input_size
            for i in range(self._num_layers):
                kw = dict(input_size=ni, i2h_weight_initializer=self._i2h_weight_initializer,
                          h2h_weight_initializer=self._h2h_weight_initializer,
                          i2h_bias_initializer=self._i2h_bias_initializer,
                          h2h_bias_initializer=self._h2h_bias_initializer)
                if self._dir == 2:
                    stack.add(C.BidirectionalCell(make(prefix="l%d_" % i, **kw),
                                                  make(prefix="r%d_" % i, **kw)))
                else:
                    stack.add(make(prefix="l%d_" % i, **kw))
                if self._dropout > 0 and i != self._num_layers - 1:
                    stack.add(C.DropoutCell(self._dropout))
                ni = self._hidden_size * self._dir
        return stack


def _states_info(layer, batch_size, with_cell):
    n = layer._num_layers * layer._dir
    r = layer._projection_size or layer._hidden_size
    info = [{"shape": (n, batch_size, r), "__layout__": "LNC", "dtype": layer._dtype}]
    if with_cell:
        info.append({"shape": (n, batch_size, layer._hidden_size), "__layout__": "LNC",
                     "dtype": layer._dtype})
    return info


class RNN(_RNNLayer):
    """Multi-layer Elman RNN, h_t = act(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) with
    act = tanh or relu.  Call with `inputs` (layout TNC or NTC) and optionally a list of
    one state (num_layers * num_directions, batch, hidden_size); returns the output, or
    (output, new states) when states were given.

    >>> layer = mx.gluon.rnn.RNN(8, num_layers=2); layer.initialize()
    >>> layer(mx.nd.ones((5, 3, 4))).shape
    (5, 3, 8)
    """

    def __init__(self, hidden_size, num_layers=1, activation="relu", layout="TNC", dropout=0,
                 bidirectional=False, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0,
                 dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "rnn_" + activation, None, None, None, None,
                         False, dtype, **kwargs)

    def state_info(self, batch_size=0):
        return _states_info(self, batch_size, False)


class LSTM(_RNNLayer):
    """Multi-layer LSTM (gates i, f, g, o; optional projection of the hidden state with
    `projection_size`, optional cell-state clipping).  States are [h, c] of shapes
    (num_layers * num_directions, batch, projection_size or hidden_size) and
    (num_layers * num_directions, batch, hidden_size)."""

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False,
                 input_size=0, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros",
                 projection_size=None, h2r_weight_initializer=None, state_clip_min=None,
                 state_clip_max=None, state_clip_nan=False, dtype="float32",
                 use_sequence_length=False, **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "lstm", projection_size, h2r_weight_initializer,
                         state_clip_min, state_clip_max, state_clip_nan, dtype,
                         use_sequence_length, **kwargs)

    def state_info(self, batch_size=0):
        return _states_info(self, batch_size, True)


class GRU(_RNNLayer):
    """Multi-layer GRU (gates r, z, n as in MXNet/cuDNN: n = tanh(W_in x + b_in +
    r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h).  One state of shape
    (num_layers * num_directions, batch, hidden_size)."""

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False,
                 input_size=0, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", dtype="float32",
                 use_sequence_length=False, **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "gru", None, None, None, None, False, dtype,
                         use_sequence_length, **kwargs)

    def state_info(self, batch_size=0):
        return _states_info(self, batch_size, False)
