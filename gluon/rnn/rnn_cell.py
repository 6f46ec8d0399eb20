"""Recurrent cells (one time step per call) and `unroll` over a sequence, MXNet 1.9's API.

A cell is called as `output, new_states = cell(x_t, states)`; `unroll(length, inputs,
begin_state, layout, merge_outputs, valid_length)` steps it over a whole sequence given as
one array (layout 'NTC' or 'TNC') or a list of per-step arrays.  Parameter names are
MXNet's (`<prefix>i2h_weight`, `h2h_weight`, `i2h_bias`, `h2h_bias`).  The containers and
modifiers (SequentialRNNCell, BidirectionalCell, ZoneoutCell, ...) are in
rnn_cell_wrappers.py.
"""
from ... import ndarray, symbol
from ..block import Block, HybridBlock

__all__ = ["RecurrentCell", "HybridRecurrentCell", "RNNCell", "LSTMCell", "GRUCell"]

_TENSORS = (ndarray.NDArray, symbol.Symbol)


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _split_steps(F, x, length, axis):
    parts = F.split(x, num_outputs=length, axis=axis, squeeze_axis=True)
    return list(parts) if F is symbol else _as_list(parts)


def cells_state_info(cells, batch_size):
    return sum([c.state_info(batch_size) for c in cells], [])


def cells_begin_state(cells, **kwargs):
    return sum([c.begin_state(**kwargs) for c in cells], [])


def get_begin_state(cell, F, begin_state, inputs, batch_size, layout="NTC"):
    """`begin_state` or zeros from the cell's state_info (on the inputs' context).  For
    symbols the zeros take their batch size from the inputs, so shape inference needs no
    help (MXNet leaves a 0 batch dimension for its inference pass to fill)."""
    if begin_state is not None:
        return begin_state
    if F is ndarray:
        ctx = inputs.context if isinstance(inputs, _TENSORS) else inputs[0].context
        with ctx:
            return cell.begin_state(func=F.zeros, batch_size=batch_size)
    zeros = symbol_zero_states(cell.state_info(0), inputs, layout)
    return zeros if zeros is not None else cell.begin_state(func=F.zeros, batch_size=0)


def symbol_zero_states(infos, inputs, layout="NTC"):
    """Zero symbols shaped as `infos` ('NC' or 'LNC' layouts) with the batch size of the
    symbolic `inputs` (one merged sequence in `layout`, or a list of (N, ...) steps);
    None when an info has another layout."""
    S = symbol
    if isinstance(inputs, symbol.Symbol):
        step = S.slice_axis(inputs, axis=layout.find("T"), begin=0, end=1)
        if layout.find("T") < layout.find("N"):   # (1, N, C) -> (N, 1, C)
            step = S.swapaxes(step, dim1=layout.find("T"), dim2=layout.find("N"))
    else:
        step = inputs[0]
    col = S.slice_axis(S.reshape(step, shape=(0, -1)), axis=1, begin=0, end=1)
    zero = S.zeros_like(S.reshape(col, shape=(-1, 1)))     # (N, 1)
    out = []
    for info in infos:
        shape, lay = info["shape"], info.get("__layout__", "NC")
        if lay == "NC" and len(shape) == 2:
            out.append(S.broadcast_axis(zero, axis=1, size=shape[1]))
        elif lay == "LNC" and len(shape) == 3:
            out.append(S.broadcast_axis(S.expand_dims(zero, axis=0), axis=(0, 2),
                                        size=(shape[0], shape[2])))
        elif lay[:1] == "N" and len(shape) == len(lay) > 2 and all(shape[1:]):
            # batch-first conv layouts (gluon.contrib.rnn's NCHW, NHWC, ... states)
            z = S.reshape(zero, shape=(-1,) + (1,) * (len(shape) - 1))
            out.append(S.broadcast_axis(z, axis=tuple(range(1, len(shape))),
                                        size=tuple(shape[1:])))
        else:
            return None
    return out


def format_sequence(length, inputs, layout, merge, in_layout=None):
    """Normalise a sequence: one array (merge=True), a list of per-step (N, C) arrays
    (merge=False) or as given (None).  Returns (inputs, time axis, F, batch size)."""
    if inputs is None:
        raise ValueError("unroll(inputs=None) is not supported: pass the input sequence")
    axis, batch_axis = layout.find("T"), layout.find("N")
    batch_size = 0
    in_axis = in_layout.find("T") if in_layout is not None else axis
    if isinstance(inputs, symbol.Symbol):
        F = symbol
        if merge is False:
            if len(inputs.list_outputs()) != 1:
                raise ValueError("unroll doesn't allow grouped symbol as input; pass "
                                 "list(inputs) or a single-output symbol")
            inputs = list(symbol.split(inputs, axis=in_axis, num_outputs=length,
                                       squeeze_axis=1))
    elif isinstance(inputs, ndarray.NDArray):
        F = ndarray
        batch_size = inputs.shape[batch_axis]
        if merge is False:
            if length is not None and length != inputs.shape[in_axis]:
                raise ValueError("unroll: length=%d but the inputs have %d steps on axis %d"
                                 % (length, inputs.shape[in_axis], in_axis))
            inputs = _as_list(ndarray.split(inputs, axis=in_axis,
                                            num_outputs=inputs.shape[in_axis], squeeze_axis=1))
    else:
        if length is not None and len(inputs) != length:
            raise ValueError("unroll: length=%d but %d inputs were given"
                             % (length, len(inputs)))
        F = symbol if isinstance(inputs[0], symbol.Symbol) else ndarray
        if F is ndarray:
            batch_size = inputs[0].shape[0]
        if merge is True:
            inputs = F.stack(*inputs, axis=axis)
            in_axis = axis
    if isinstance(inputs, _TENSORS) and axis != in_axis:
        inputs = F.swapaxes(inputs, dim1=axis, dim2=in_axis)
    return inputs, axis, F, batch_size


def mask_sequence_variable_length(F, data, length, valid_length, time_axis, merge):
    """Zero the outputs at and after each sequence's valid length."""
    if not isinstance(data, _TENSORS):
        data = F.stack(*data, axis=time_axis)
    out = F.SequenceMask(data, sequence_length=valid_length, use_sequence_length=True,
                         axis=time_axis)
    if not merge:
        out = _split_steps(F, out, length, time_axis)
    return out


def reverse_sequences(sequences, unroll_step, valid_length=None):
    """Reverse a list of steps (each sequence within its valid length, if given)."""
    F = symbol if isinstance(sequences[0], symbol.Symbol) else ndarray
    if valid_length is None:
        return list(reversed(sequences))
    rev = F.SequenceReverse(F.stack(*sequences, axis=0), sequence_length=valid_length,
                            use_sequence_length=True)
    if unroll_step > 1 or F is symbol:
        return _split_steps(F, rev, unroll_step, 0)
    return [rev[0]]


class RecurrentCell(Block):
    """Abstract base class of the recurrent cells."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._modified = False
        self.reset()

    def reset(self):
        """Reset the step counters before unrolling again."""
        self._init_counter = -1
        self._counter = -1
        for cell in self._children.values():
            cell.reset()

    def state_info(self, batch_size=0):
        """A list of {'shape': ..., '__layout__': ...} per state."""
        raise NotImplementedError()

    def begin_state(self, batch_size=0, func=ndarray.zeros, **kwargs):
        """The initial states, made by `func` (mx.nd.zeros by default; mx.sym.zeros or
        mx.sym.var for symbols) from state_info(batch_size) and kwargs."""
        if self._modified:
            raise AssertionError("After applying modifier cells (e.g. ZoneoutCell) the base "
                                 "cell cannot be called directly. Call the modifier cell "
                                 "instead.")
        states = []
        for info in self.state_info(batch_size):
            self._init_counter += 1
            info = dict(info) if info is not None else {}
            info.update(kwargs)
            states.append(func(name="%sbegin_state_%d" % (self._prefix, self._init_counter),
                               **info))
        return states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        """Step the cell `length` times.  Returns (outputs, last states): outputs merged
        into one array (merge_outputs=True), a list (False) or as the inputs (None).  With
        valid_length (N,), outputs past each length are zero and the states are those of
        the last valid step."""
        self.reset()
        inputs, axis, F, batch_size = format_sequence(length, inputs, layout, False)
        states = get_begin_state(self, F, begin_state, inputs, batch_size, layout)
        outputs, all_states = [], []
        for i in range(length):
            output, states = self(inputs[i], states)
            outputs.append(output)
            if valid_length is not None:
                all_states.append(states)
        if valid_length is not None:
            states = [F.SequenceLast(F.stack(*s, axis=0), sequence_length=valid_length,
                                     use_sequence_length=True, axis=0)
                      for s in zip(*all_states)]
            outputs = mask_sequence_variable_length(F, outputs, length, valid_length, axis, True)
        outputs, _, _, _ = format_sequence(length, outputs, layout, merge_outputs)
        return outputs, states

    def _get_activation(self, F, inputs, activation, **kwargs):
        func = {"tanh": F.tanh, "relu": F.relu, "sigmoid": F.sigmoid,
                "softsign": F.softsign}.get(activation) if isinstance(activation, str) else None
        if func is not None:
            return func(inputs, **kwargs)
        if isinstance(activation, str):
            return F.Activation(inputs, act_type=activation, **kwargs)
        if type(activation).__name__ == "LeakyReLU" and hasattr(activation, "_alpha"):
            return F.LeakyReLU(inputs, act_type="leaky", slope=activation._alpha, **kwargs)
        return activation(inputs, **kwargs)

    def forward(self, inputs, states):
        """One time step: (output, new states)."""
        self._counter += 1
        return super().forward(inputs, states)


class HybridRecurrentCell(RecurrentCell, HybridBlock):
    """A recurrent cell that can be hybridized."""

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError


class _GatedCell(HybridRecurrentCell):
    """A cell with MXNet's four parameters i2h/h2h weight/bias for `gates` gates."""
    _n_gates, _n_states = 1, 1

    def __init__(self, hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                 i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params):
        super().__init__(prefix=prefix, params=params)
        self._hidden_size, self._input_size = hidden_size, input_size
        g = self._n_gates * hidden_size
        self.i2h_weight = self.params.get("i2h_weight", shape=(g, input_size),
                                          init=i2h_weight_initializer, allow_deferred_init=True)
        self.h2h_weight = self.params.get("h2h_weight", shape=(g, hidden_size),
                                          init=h2h_weight_initializer, allow_deferred_init=True)
        self.i2h_bias = self.params.get("i2h_bias", shape=(g,), init=i2h_bias_initializer,
                                        allow_deferred_init=True)
        self.h2h_bias = self.params.get("h2h_bias", shape=(g,), init=h2h_bias_initializer,
                                        allow_deferred_init=True)

    def state_info(self, batch_size=0):
        return [{"shape": (batch_size, self._hidden_size), "__layout__": "NC"}
                for _ in range(self._n_states)]

    def infer_shape(self, inputs, *args):
        self.i2h_weight.shape = (self.i2h_weight.shape[0], inputs.shape[-1])

    def __repr__(self):
        shape = self.i2h_weight.shape
        return "{name}({i} -> {o})".format(name=type(self).__name__,
                                          i=shape[1] if shape[1] else None, o=shape[0])

    def _projections(self, F, inputs, h, i2h_weight, h2h_weight, i2h_bias, h2h_bias, prefix):
        n = self._n_gates * self._hidden_size
        i2h = F.FullyConnected(data=inputs, weight=i2h_weight, bias=i2h_bias, num_hidden=n,
                               name=prefix + "i2h")
        h2h = F.FullyConnected(data=h, weight=h2h_weight, bias=h2h_bias, num_hidden=n,
                               name=prefix + "h2h")
        return i2h, h2h


class RNNCell(_GatedCell):
    """Elman cell: h' = activation(W_ih x + b_ih + W_hh h + b_hh)."""

    def __init__(self, hidden_size, activation="tanh", i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", input_size=0, prefix=None, params=None):
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params)
        self._activation = activation

    def _alias(self):
        return "rnn"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = "t%d_" % self._counter
        i2h, h2h = self._projections(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias,
                                     h2h_bias, prefix)
        out = self._get_activation(F, F.elemwise_add(i2h, h2h, name=prefix + "plus0"),
                                   self._activation, name=prefix + "out")
        return out, [out]


class LSTMCell(_GatedCell):
    """LSTM cell, gates i, f, g, o: c' = f*c + i*g, h' = o*activation(c')."""
    _n_gates, _n_states = 4, 2

    def __init__(self, hidden_size, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0,
                 prefix=None, params=None, activation="tanh", recurrent_activation="sigmoid"):
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params)
        self._activation, self._recurrent_activation = activation, recurrent_activation

    def _alias(self):
        return "lstm"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = "t%d_" % self._counter
        i2h, h2h = self._projections(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias,
                                     h2h_bias, prefix)
        gates = F.SliceChannel(F.elemwise_add(i2h, h2h, name=prefix + "plus0"), num_outputs=4,
                               name=prefix + "slice")
        ract, act = self._recurrent_activation, self._activation
        i = self._get_activation(F, gates[0], ract, name=prefix + "i")
        f = self._get_activation(F, gates[1], ract, name=prefix + "f")
        g = self._get_activation(F, gates[2], act, name=prefix + "c")
        o = self._get_activation(F, gates[3], ract, name=prefix + "o")
        next_c = F.elemwise_add(F.elemwise_mul(f, states[1], name=prefix + "mul0"),
                                F.elemwise_mul(i, g, name=prefix + "mul1"), name=prefix + "state")
        next_h = F.elemwise_mul(
            o, self._get_activation(F, next_c, act, name=prefix + "activation0"),
            name=prefix + "out")
        return next_h, [next_h, next_c]


class GRUCell(_GatedCell):
    """GRU cell (gates r, z, n): n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),
    h' = (1 - z)*n + z*h."""
    _n_gates = 3

    def __init__(self, hidden_size, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0,
                 prefix=None, params=None):
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params)

    def _alias(self):
        return "gru"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = "t%d_" % self._counter
        h = states[0]
        i2h, h2h = self._projections(F, inputs, h, i2h_weight, h2h_weight, i2h_bias, h2h_bias,
                                     prefix)
        xr, xz, xn = F.SliceChannel(i2h, num_outputs=3, name=prefix + "i2h_slice")
        hr, hz, hn = F.SliceChannel(h2h, num_outputs=3, name=prefix + "h2h_slice")
        r = F.Activation(F.elemwise_add(xr, hr), act_type="sigmoid", name=prefix + "r_act")
        z = F.Activation(F.elemwise_add(xz, hz), act_type="sigmoid", name=prefix + "z_act")
        n = F.Activation(F.elemwise_add(xn, F.elemwise_mul(r, hn)), act_type="tanh",
                         name=prefix + "h_act")
        next_h = F.elemwise_add(F.elemwise_mul(F.elemwise_sub(F.ones_like(z), z), n),
                                F.elemwise_mul(z, h), name=prefix + "out")
        return next_h, [next_h]


from .rnn_cell_wrappers import *  # noqa: E402,F401,F403
from .rnn_cell_wrappers import __all__ as _wrappers_all  # noqa: E402

__all__ = __all__ + _wrappers_all
_ = HybridBlock
