"""mx.rnn: MXNet 1.x's legacy symbolic recurrent cells (for Module-era scripts).

The cells build Symbols: `outputs, states = cell.unroll(length, mx.sym.var('data'),
layout='NTC', merge_outputs=True)`.  Weights are Variables named as MXNet names them
(`lstm_i2h_weight`, ...; FusedRNNCell: one `lstm_parameters` vector in the RNN op's
layout), so checkpoints trained with MXNet bind unchanged.  The step math is the
Gluon cells' (gluon/rnn/rnn_cell.py), called with F = mx.sym.  Default begin states
take their batch size from the inputs.  Provided: RNNParams, RNNCell, LSTMCell, GRUCell,
FusedRNNCell, SequentialRNNCell, BidirectionalCell, DropoutCell, BucketSentenceIter,
encode_sentences (ZoneoutCell/ResidualCell: use the gluon.rnn ones).
"""
from . import ndarray, symbol
from .gluon import initializer as init
from .gluon.rnn import rnn_cell as _gc
from .gluon.rnn.rnn_cell import symbol_zero_states

__all__ = ["RNNParams", "BaseRNNCell", "RNNCell", "LSTMCell", "GRUCell", "FusedRNNCell",
           "SequentialRNNCell", "BidirectionalCell", "DropoutCell", "BucketSentenceIter",
           "encode_sentences"]


class RNNParams:
    """Variables shared between cells: get(name) -> Variable `prefix + name` (created once)."""

    def __init__(self, prefix=""):
        self._prefix, self._params = prefix, {}

    def get(self, name, **kwargs):
        name = self._prefix + name
        if name not in self._params:
            self._params[name] = symbol.var(name, **kwargs)
        return self._params[name]


def _steps(length, inputs, layout, merge):
    seq, axis, _, _ = _gc.format_sequence(length, inputs, layout, merge)
    return seq, axis


class BaseRNNCell:
    """Abstract legacy cell: state_info is a property; begin_state(func=mx.sym.zeros)."""

    def __init__(self, prefix="", params=None):
        self._own_params = params is None
        self._prefix = prefix
        self._params = RNNParams(prefix) if params is None else params
        self._modified = False
        self.reset()

    def reset(self):
        self._init_counter, self._counter = -1, -1

    @property
    def params(self):
        self._own_params = False
        return self._params

    @property
    def state_info(self):
        raise NotImplementedError()

    @property
    def state_shape(self):
        return [i["shape"] for i in self.state_info]

    @property
    def _gate_names(self):
        return ()

    def begin_state(self, func=symbol.zeros, **kwargs):
        if self._modified:
            raise AssertionError("After applying modifier cells the base cell cannot be "
                                 "called directly. Call the modifier cell instead.")
        states = []
        for info in self.state_info:
            self._init_counter += 1
            kw = dict(kwargs, **(info or {}))
            states.append(func(name="%sbegin_state_%d" % (self._prefix, self._init_counter),
                               **kw))
        return states

    def unpack_weights(self, args):
        """Split i2h/h2h weights and biases into one array per gate ('..._i2h_i_weight')."""
        args = dict(args)
        if not self._gate_names:
            return args
        h = self._num_hidden
        for group in ("i2h", "h2h"):
            w = args.pop("%s%s_weight" % (self._prefix, group))
            b = args.pop("%s%s_bias" % (self._prefix, group))
            for j, gate in enumerate(self._gate_names):
                args["%s%s%s_weight" % (self._prefix, group, gate)] = w[j * h:(j + 1) * h].copy()
                args["%s%s%s_bias" % (self._prefix, group, gate)] = b[j * h:(j + 1) * h].copy()
        return args

    def pack_weights(self, args):
        """The inverse of unpack_weights."""
        args = dict(args)
        if not self._gate_names:
            return args
        for group in ("i2h", "h2h"):
            for kind in ("weight", "bias"):
                parts = [args.pop("%s%s%s_%s" % (self._prefix, group, g, kind))
                         for g in self._gate_names]
                args["%s%s_%s" % (self._prefix, group, kind)] = ndarray.concat(*parts, dim=0)
        return args

    def __call__(self, inputs, states):
        raise NotImplementedError()

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        """Step the cell `length` times over `inputs` (one Symbol or a list of steps)."""
        self.reset()
        steps, _ = _steps(length, inputs, layout, False)
        states = begin_state if begin_state is not None else self._zero_states(steps, layout)
        outputs = []
        for i in range(length):
            out, states = self(steps[i], states)
            outputs.append(out)
        outputs, _ = _steps(length, outputs, layout, merge_outputs)
        return outputs, states

    def _zero_states(self, inputs, layout):
        z = symbol_zero_states(self.state_info, inputs, layout)
        return z if z is not None else self.begin_state()


class _GluonStep(BaseRNNCell):
    """A legacy cell whose step is a gluon cell's hybrid_forward with F = mx.sym."""
    _gluon, _default_prefix, _n_gates, _gates = None, "", 1, ()

    def __init__(self, num_hidden, prefix=None, params=None, forget_bias=None, **kw):
        super().__init__(self._default_prefix if prefix is None else prefix, params)
        self._num_hidden = num_hidden
        self._kw = kw
        bias_init = init.LSTMBias(forget_bias) if forget_bias is not None else None
        p = self.params
        self._w = [p.get("i2h_weight"), p.get("h2h_weight"),
                   p.get("i2h_bias", init=bias_init) if bias_init is not None
                   else p.get("i2h_bias"), p.get("h2h_bias")]

    @property
    def state_info(self):
        n = 2 if self._n_gates == 4 else 1
        return [{"shape": (0, self._num_hidden), "__layout__": "NC"} for _ in range(n)]

    @property
    def _gate_names(self):
        return self._gates

    def __call__(self, inputs, states):
        self._counter += 1
        step = self._gluon.__new__(self._gluon)   # the math only: no Block state needed
        fields = dict(_hidden_size=self._num_hidden, _counter=self._counter,
                      **{"_" + k: v for k, v in self._kw.items()})
        for k, v in fields.items():
            object.__setattr__(step, k, v)
        with symbol.name.Prefix(self._prefix):
            return self._gluon.hybrid_forward(step, symbol, inputs, states, *self._w)


class RNNCell(_GluonStep):
    """Elman cell (activation 'tanh' or 'relu'); weights `<prefix>{i2h,h2h}_{weight,bias}`."""
    _gluon, _default_prefix = _gc.RNNCell, "rnn_"

    def __init__(self, num_hidden, activation="tanh", prefix="rnn_", params=None):
        super().__init__(num_hidden, prefix, params, activation=activation)


class LSTMCell(_GluonStep):
    """LSTM cell (gates i, f, c, o); the forget gate's bias starts at `forget_bias`."""
    _gluon, _default_prefix, _n_gates, _gates = _gc.LSTMCell, "lstm_", 4, ("_i", "_f", "_c",
                                                                           "_o")

    def __init__(self, num_hidden, prefix="lstm_", params=None, forget_bias=1.0):
        super().__init__(num_hidden, prefix, params, forget_bias=forget_bias,
                         activation="tanh", recurrent_activation="sigmoid")


class GRUCell(_GluonStep):
    """GRU cell (gates r, z, o)."""
    _gluon, _default_prefix, _n_gates, _gates = _gc.GRUCell, "gru_", 3, ("_r", "_z", "_o")

    def __init__(self, num_hidden, prefix="gru_", params=None):
        super().__init__(num_hidden, prefix, params)


class FusedRNNCell(BaseRNNCell):
    """All layers and steps in one RNN op; its weights are one Variable `<prefix>parameters`
    in the op's packed layout.  unpack_weights/pack_weights convert to and from per-layer,
    per-gate arrays (`<prefix>l0_i2h_i_weight`, ...); unfuse() gives the equivalent stack."""

    def __init__(self, num_hidden, num_layers=1, mode="lstm", bidirectional=False, dropout=0.0,
                 get_next_state=False, forget_bias=1.0, prefix=None, params=None):
        super().__init__("%s_" % mode if prefix is None else prefix, params)
        self._num_hidden, self._num_layers, self._mode = num_hidden, num_layers, mode
        self._bidirectional, self._dropout = bidirectional, dropout
        self._get_next_state, self._forget_bias = get_next_state, forget_bias
        self._directions = ["l", "r"] if bidirectional else ["l"]
        self._parameter = self.params.get("parameters", init=init.FusedRNN(
            None, num_hidden, num_layers, mode, bidirectional, forget_bias))

    @property
    def state_info(self):
        n = (self._bidirectional + 1) * self._num_layers
        return [{"shape": (n, 0, self._num_hidden), "__layout__": "LNC"}
                for _ in range(2 if self._mode == "lstm" else 1)]

    @property
    def _gate_names(self):
        return {"rnn_relu": [""], "rnn_tanh": [""], "lstm": ["_i", "_f", "_c", "_o"],
                "gru": ["_r", "_z", "_o"]}[self._mode]

    def _slices(self, arr, n_in):
        """{name: view of arr} for every per-layer, per-gate weight and bias."""
        h, b, out, p = self._num_hidden, len(self._directions), {}, 0
        for kind in ("weight", "bias"):
            for layer in range(self._num_layers):
                cols = n_in if layer == 0 else b * h
                for d in self._directions:
                    for group, c in (("i2h", cols), ("h2h", h)):
                        for gate in self._gate_names:
                            name = "%s%s%d_%s%s_%s" % (self._prefix, d, layer, group, gate, kind)
                            size = h * c if kind == "weight" else h
                            v = arr[p:p + size]
                            out[name] = v.reshape((h, c)) if kind == "weight" else v
                            p += size
        if p != arr.size:
            raise ValueError("FusedRNNCell %s: the parameter vector has %d entries, expected %d"
                             % (self._prefix, arr.size, p))
        return out

    def _input_size(self, total):
        h, b, g, n = self._num_hidden, len(self._directions), len(self._gate_names), \
            self._num_layers
        return total // b // h // g - (n - 1) * (h + b * h + 2) - h - 2

    def unpack_weights(self, args):
        args = dict(args)
        arr = args.pop(self._parameter.name)
        parts = self._slices(arr, self._input_size(arr.size))
        args.update({k: v.copy() for k, v in parts.items()})
        return args

    def pack_weights(self, args):
        args = dict(args)
        w0 = args["%sl0_i2h%s_weight" % (self._prefix, self._gate_names[0])]
        n_in, h, b, g = w0.shape[1], self._num_hidden, len(self._directions), len(
            self._gate_names)
        total = (n_in + h + 2) * h * g * b + (self._num_layers - 1) * g * h * (h + b * h + 2) * b
        arr = ndarray.zeros((total,), dtype=w0.dtype)
        for name, view in self._slices(arr, n_in).items():
            view[:] = args.pop(name)
        args[self._parameter.name] = arr
        return args

    def __call__(self, inputs, states):
        raise NotImplementedError("FusedRNNCell cannot be stepped. Please use unroll")

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        data, axis = _steps(length, inputs, layout, True)
        if axis == 1:
            data = symbol.swapaxes(data, dim1=0, dim2=1)
        states = begin_state if begin_state is not None else self._zero_states(data, "TNC")
        rnn = symbol.RNN(data, self._parameter, *states, state_size=self._num_hidden,
                         num_layers=self._num_layers, bidirectional=self._bidirectional,
                         p=self._dropout, state_outputs=self._get_next_state, mode=self._mode,
                         name=self._prefix + "rnn")
        outputs, states = (rnn, []) if not self._get_next_state else (
            rnn[0], [rnn[i] for i in range(1, 3 if self._mode == "lstm" else 2)])
        if axis == 1:
            outputs = symbol.swapaxes(outputs, dim1=0, dim2=1)
        outputs, _ = _steps(length, outputs, layout, merge_outputs)
        return outputs, states

    def unfuse(self):
        """The same network as a SequentialRNNCell of per-layer cells."""
        make = {"rnn_relu": lambda p: RNNCell(self._num_hidden, "relu", prefix=p),
                "rnn_tanh": lambda p: RNNCell(self._num_hidden, "tanh", prefix=p),
                "lstm": lambda p: LSTMCell(self._num_hidden, prefix=p,
                                           forget_bias=self._forget_bias),
                "gru": lambda p: GRUCell(self._num_hidden, prefix=p)}[self._mode]
        stack = SequentialRNNCell()
        for i in range(self._num_layers):
            if self._bidirectional:
                stack.add(BidirectionalCell(make("%sl%d_" % (self._prefix, i)),
                                            make("%sr%d_" % (self._prefix, i)),
                                            output_prefix="%sbi_l%d_" % (self._prefix, i)))
            else:
                stack.add(make("%sl%d_" % (self._prefix, i)))
            if self._dropout > 0 and i != self._num_layers - 1:
                stack.add(DropoutCell(self._dropout, prefix="%s_dropout%d_" % (self._prefix, i)))
        return stack


class SequentialRNNCell(BaseRNNCell):
    """A stack of cells."""

    def __init__(self, params=None):
        super().__init__(prefix="", params=params)
        self._cells = []

    def add(self, cell):
        self._cells.append(cell)

    @property
    def state_info(self):
        return sum([c.state_info for c in self._cells], [])

    def begin_state(self, **kwargs):
        return sum([c.begin_state(**kwargs) for c in self._cells], [])

    def unpack_weights(self, args):
        for c in self._cells:
            args = c.unpack_weights(args)
        return args

    def pack_weights(self, args):
        for c in self._cells:
            args = c.pack_weights(args)
        return args

    def __call__(self, inputs, states):
        self._counter += 1
        out, p = [], 0
        for c in self._cells:
            n = len(c.state_info)
            inputs, s = c(inputs, states[p:p + n])
            p += n
            out += s
        return inputs, out

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        if begin_state is None:
            steps, _ = _steps(length, inputs, layout, False)
            begin_state = self._zero_states(steps, layout)
        p, states = 0, []
        for i, c in enumerate(self._cells):
            n = len(c.state_info)
            inputs, s = c.unroll(length, inputs, begin_state[p:p + n], layout,
                                 None if i < len(self._cells) - 1 else merge_outputs)
            p += n
            states += s
        return inputs, states


class DropoutCell(BaseRNNCell):
    """Dropout on the outputs (no state)."""

    def __init__(self, dropout, prefix="dropout_", params=None):
        super().__init__(prefix, params)
        self.dropout = dropout

    @property
    def state_info(self):
        return []

    def __call__(self, inputs, states):
        if self.dropout > 0:
            inputs = symbol.Dropout(data=inputs, p=self.dropout)
        return inputs, states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        seq, _ = _steps(length, inputs, layout, merge_outputs)
        if isinstance(seq, symbol.Symbol):
            return self(seq, [])
        return super().unroll(length, seq, begin_state, layout, merge_outputs)


class BidirectionalCell(BaseRNNCell):
    """l_cell forward and r_cell backward in time, outputs concatenated; unroll only."""

    def __init__(self, l_cell, r_cell, params=None, output_prefix="bi_"):
        super().__init__("", params)
        self._cells, self._output_prefix = [l_cell, r_cell], output_prefix

    @property
    def state_info(self):
        return sum([c.state_info for c in self._cells], [])

    def begin_state(self, **kwargs):
        return sum([c.begin_state(**kwargs) for c in self._cells], [])

    def unpack_weights(self, args):
        return self._cells[1].unpack_weights(self._cells[0].unpack_weights(args))

    def pack_weights(self, args):
        return self._cells[1].pack_weights(self._cells[0].pack_weights(args))

    def __call__(self, inputs, states):
        raise NotImplementedError("Bidirectional cannot be stepped. Please use unroll")

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        steps, axis = _steps(length, inputs, layout, False)
        if begin_state is None:
            begin_state = self._zero_states(steps, layout)
        lc, rc = self._cells
        n = len(lc.state_info)
        lo, ls = lc.unroll(length, steps, begin_state[:n], layout, False)
        ro, rs = rc.unroll(length, list(reversed(steps)), begin_state[n:], layout, False)
        outs = [symbol.concat(a, b, dim=1, name="%st%d" % (self._output_prefix, i))
                for i, (a, b) in enumerate(zip(lo, reversed(ro)))]
        if merge_outputs:
            outs = symbol.stack(*outs, axis=axis)
        return outs, ls + rs


from .rnn_io import BucketSentenceIter, encode_sentences  # noqa: E402,F401
