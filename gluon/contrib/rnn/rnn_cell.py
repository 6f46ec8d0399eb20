"""Contributed recurrent cells (MXNet 1.9's mxnet.gluon.contrib.rnn.rnn_cell):
VariationalDropoutCell, LSTMPCell and dynamic_unroll (an unroll through contrib.foreach)."""
from .... import ndarray, symbol
from ....core.base import PlaitError
from ...rnn.rnn_cell import (HybridRecurrentCell, format_sequence, get_begin_state,
                             mask_sequence_variable_length)
from ...rnn.rnn_cell_wrappers import BidirectionalCell, ModifierCell, SequentialRNNCell

__all__ = ["VariationalDropoutCell", "LSTMPCell"]

_TENSORS = (ndarray.NDArray, symbol.Symbol)


class VariationalDropoutCell(ModifierCell):
    """Variational dropout (Gal & Ghahramani, arXiv:1512.05287) around `base_cell`: one
    dropout mask per sequence, reused at every time step, for the inputs (drop_inputs), the
    first state h (drop_states) and the outputs (drop_outputs); the three masks differ.

    Masks are drawn at the first step after reset() and kept until the next reset();
    unroll() resets, so each unrolled sequence gets new masks.  When stepping by hand, call
    reset() between sequences.  Without drop_states, unroll drops inputs and outputs of the
    whole merged sequence at once (a mask broadcast over the time axis), as MXNet does.
    """

    def __init__(self, base_cell, drop_inputs=0., drop_states=0., drop_outputs=0.):
        if drop_states and isinstance(base_cell, BidirectionalCell):
            raise PlaitError("BidirectionalCell doesn't support variational state dropout. "
                             "Please add VariationalDropoutCell to the cells underneath "
                             "instead.", arg="drop_states", op="VariationalDropoutCell")
        if drop_states and isinstance(base_cell, SequentialRNNCell):
            raise PlaitError("a SequentialRNNCell doesn't support variational state dropout "
                             "(MXNet fails on it too). Please add VariationalDropoutCell to "
                             "the cells underneath instead.", arg="drop_states",
                             op="VariationalDropoutCell")
        super().__init__(base_cell)
        self.drop_inputs, self.drop_states, self.drop_outputs = (drop_inputs, drop_states,
                                                                 drop_outputs)
        self.drop_inputs_mask = self.drop_states_mask = self.drop_outputs_mask = None

    def _alias(self):
        return "vardrop"

    def reset(self):
        super().reset()
        self.drop_inputs_mask = self.drop_states_mask = self.drop_outputs_mask = None

    def hybrid_forward(self, F, inputs, states):
        if self.drop_states and self.drop_states_mask is None:
            self.drop_states_mask = F.Dropout(F.ones_like(states[0]), p=self.drop_states)
        if self.drop_inputs and self.drop_inputs_mask is None:
            self.drop_inputs_mask = F.Dropout(F.ones_like(inputs), p=self.drop_inputs)
        if self.drop_states:
            states = [states[0] * self.drop_states_mask] + list(states[1:])
        if self.drop_inputs:
            inputs = inputs * self.drop_inputs_mask
        output, next_states = self.base_cell(inputs, states)
        if self.drop_outputs:
            if self.drop_outputs_mask is None:
                self.drop_outputs_mask = F.Dropout(F.ones_like(output), p=self.drop_outputs)
            output = output * self.drop_outputs_mask
        return output, next_states

    def __repr__(self):
        return "{}(p_out = {}, p_state = {})".format(type(self).__name__, self.drop_outputs,
                                                    self.drop_states)

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        if self.drop_states:
            return super().unroll(length, inputs, begin_state, layout, merge_outputs,
                                  valid_length=valid_length)
        self.reset()
        inputs, axis, F, batch_size = format_sequence(length, inputs, layout, True)
        states = get_begin_state(self, F, begin_state, inputs, batch_size, layout)
        if self.drop_inputs:
            inputs = F.Dropout(inputs, p=self.drop_inputs, axes=(axis,))
        self.base_cell._modified = False
        try:
            outputs, states = self.base_cell.unroll(length, inputs, states, layout,
                                                    merge_outputs=True,
                                                    valid_length=valid_length)
        finally:
            self.base_cell._modified = True
        if self.drop_outputs:
            outputs = F.Dropout(outputs, p=self.drop_outputs, axes=(axis,))
        if merge_outputs is None:
            merge_outputs = isinstance(outputs, _TENSORS)
        outputs, _, _, _ = format_sequence(length, outputs, layout, merge_outputs)
        if valid_length is not None:
            outputs = mask_sequence_variable_length(F, outputs, length, valid_length, axis,
                                                    merge_outputs)
        return outputs, states


class LSTMPCell(HybridRecurrentCell):
    """LSTM with a projected recurrent state (Sak et al., arXiv:1402.1128): gates i, f, g, o
    from x and r, c' = f*c + i*g, h = o*tanh(c'), r' = W_hr h (no bias).

    States [r (N, projection_size), c (N, hidden_size)]; the output is r'.  Parameters
    i2h_weight (4H, I), h2h_weight (4H, P), h2r_weight (P, H), i2h_bias, h2h_bias (4H,).
    """

    def __init__(self, hidden_size, projection_size, i2h_weight_initializer=None,
                 h2h_weight_initializer=None, h2r_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0,
                 prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._hidden_size, self._input_size = hidden_size, input_size
        self._projection_size = projection_size
        g = 4 * hidden_size
        self.i2h_weight = self.params.get("i2h_weight", shape=(g, input_size),
                                          init=i2h_weight_initializer, allow_deferred_init=True)
        self.h2h_weight = self.params.get("h2h_weight", shape=(g, projection_size),
                                          init=h2h_weight_initializer, allow_deferred_init=True)
        self.h2r_weight = self.params.get("h2r_weight", shape=(projection_size, hidden_size),
                                          init=h2r_weight_initializer, allow_deferred_init=True)
        self.i2h_bias = self.params.get("i2h_bias", shape=(g,), init=i2h_bias_initializer,
                                        allow_deferred_init=True)
        self.h2h_bias = self.params.get("h2h_bias", shape=(g,), init=h2h_bias_initializer,
                                        allow_deferred_init=True)

    def state_info(self, batch_size=0):
        return [{"shape": (batch_size, self._projection_size), "__layout__": "NC"},
                {"shape": (batch_size, self._hidden_size), "__layout__": "NC"}]

    def _alias(self):
        return "lstmp"

    def infer_shape(self, inputs, *args):
        self.i2h_weight.shape = (self.i2h_weight.shape[0], inputs.shape[-1])

    def __repr__(self):
        shape, proj = self.i2h_weight.shape, self.h2r_weight.shape
        return "{}({} -> {} -> {})".format(type(self).__name__, shape[1] or None, shape[0],
                                           proj[0])

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, h2r_weight, i2h_bias,
                       h2h_bias):
        prefix = "t%d_" % self._counter
        n = 4 * self._hidden_size
        i2h = F.FullyConnected(data=inputs, weight=i2h_weight, bias=i2h_bias, num_hidden=n,
                               name=prefix + "i2h")
        h2h = F.FullyConnected(data=states[0], weight=h2h_weight, bias=h2h_bias, num_hidden=n,
                               name=prefix + "h2h")
        gates = F.SliceChannel(i2h + h2h, num_outputs=4, name=prefix + "slice")
        in_gate = F.Activation(gates[0], act_type="sigmoid", name=prefix + "i")
        forget_gate = F.Activation(gates[1], act_type="sigmoid", name=prefix + "f")
        in_transform = F.Activation(gates[2], act_type="tanh", name=prefix + "c")
        out_gate = F.Activation(gates[3], act_type="sigmoid", name=prefix + "o")
        next_c = F.elemwise_add(forget_gate * states[1], in_gate * in_transform,
                                name=prefix + "state")
        hidden = F.elemwise_mul(out_gate, F.Activation(next_c, act_type="tanh"),
                                name=prefix + "hidden")
        next_r = F.FullyConnected(data=hidden, weight=h2r_weight, no_bias=True,
                                  num_hidden=self._projection_size, name=prefix + "out")
        return next_r, [next_r, next_c]


def dynamic_unroll(cell, inputs, begin_state, drop_inputs=0, drop_outputs=0, layout="TNC",
                   valid_length=None):
    """Run `cell` over the merged sequence `inputs` with contrib.foreach (one graph node
    for all steps when hybridized).  Returns (outputs merged in `layout`, last states);
    with valid_length (N,), outputs past each length are zero and each sequence's states
    stop at its last valid step.  Dropout on inputs/outputs shares its mask over time."""
    inputs, axis, F, _ = format_sequence(0, inputs, layout, True)
    axes = list(range(len(layout)))
    axes[0], axes[axis] = axes[axis], axes[0]
    if axis != 0:
        inputs = F.transpose(inputs, axes=axes)
    states = list(begin_state) if isinstance(begin_state, (list, tuple)) else [begin_state]
    if drop_inputs:
        inputs = F.Dropout(inputs, p=drop_inputs, axes=(0,))
    if valid_length is None:
        def loop_body(x, states):
            return cell(x, states)
    else:
        states.append(F.zeros((1,)))

        def loop_body(x, states):
            cell_states, step = states[:-1], states[-1]
            out, new_states = cell(x, cell_states)
            alive = F.broadcast_greater(valid_length, step)
            new_states = [F.where(alive, new, old) for new, old in zip(new_states, cell_states)]
            return out, new_states + [step + 1]
    outputs, states = F.contrib.foreach(loop_body, inputs, states)
    if drop_outputs:
        outputs = F.Dropout(outputs, p=drop_outputs, axes=(0,))
    if axis != 0:
        outputs = F.transpose(outputs, axes=axes)
    if valid_length is not None:
        outputs = F.SequenceMask(outputs, sequence_length=valid_length,
                                 use_sequence_length=True, axis=axis)
        states = states[:-1]
    return outputs, states
