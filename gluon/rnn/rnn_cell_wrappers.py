"""Cells built from other cells: stacks (SequentialRNNCell, HybridSequentialRNNCell),
BidirectionalCell, DropoutCell and the modifiers ZoneoutCell, ResidualCell and
VariationalDropoutCell (MXNet 1.9 semantics; the last one is mxnet.gluon.contrib.rnn's)."""
from ... import ndarray, symbol
from .rnn_cell import (HybridRecurrentCell, RecurrentCell, cells_begin_state, cells_state_info,
                       format_sequence, get_begin_state, mask_sequence_variable_length,
                       reverse_sequences)

__all__ = ["SequentialRNNCell", "HybridSequentialRNNCell", "DropoutCell", "ModifierCell",
           "ZoneoutCell", "ResidualCell", "BidirectionalCell", "VariationalDropoutCell"]

_TENSORS = (ndarray.NDArray, symbol.Symbol)


class _StackMixin:
    """What both sequential stacks share: add, state bookkeeping, step and unroll."""

    def add(self, cell):
        """Append a cell to the stack."""
        self.register_child(cell)

    def state_info(self, batch_size=0):
        return cells_state_info(self._children.values(), batch_size)

    def begin_state(self, **kwargs):
        if self._modified:
            raise AssertionError("After applying modifier cells (e.g. ZoneoutCell) the base "
                                 "cell cannot be called directly. Call the modifier cell "
                                 "instead.")
        return cells_begin_state(self._children.values(), **kwargs)

    def __call__(self, inputs, states):
        self._counter += 1
        next_states, p = [], 0
        for cell in self._children.values():
            if isinstance(cell, BidirectionalCell):
                raise ValueError("a BidirectionalCell in a stack cannot be stepped; use unroll")
            n = len(cell.state_info())
            inputs, state = cell(inputs, states[p:p + n])
            p += n
            next_states.append(state)
        return inputs, sum(next_states, [])

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        self.reset()
        inputs, _, F, batch_size = format_sequence(length, inputs, layout, None)
        cells = list(self._children.values())
        begin_state = get_begin_state(self, F, begin_state, inputs, batch_size, layout)
        p, next_states = 0, []
        for i, cell in enumerate(cells):
            n = len(cell.state_info())
            inputs, states = cell.unroll(
                length, inputs=inputs, begin_state=begin_state[p:p + n], layout=layout,
                merge_outputs=None if i < len(cells) - 1 else merge_outputs,
                valid_length=valid_length)
            p += n
            next_states.extend(states)
        return inputs, next_states

    def __getitem__(self, i):
        return list(self._children.values())[i]

    def __len__(self):
        return len(self._children)

    def __repr__(self):
        body = "\n".join("(%d): %s" % (i, repr(c).replace("\n", "\n  "))
                         for i, c in enumerate(self._children.values()))
        return "%s(\n  %s\n)" % (type(self).__name__, body.replace("\n", "\n  "))


class SequentialRNNCell(_StackMixin, RecurrentCell):
    """A stack of cells applied one after the other at each step."""

    def hybrid_forward(self, *args, **kwargs):
        raise NotImplementedError


class HybridSequentialRNNCell(_StackMixin, HybridRecurrentCell):
    """A stack of hybridizable cells."""

    def hybrid_forward(self, F, inputs, states):
        return self.__call__(inputs, states)


class DropoutCell(HybridRecurrentCell):
    """Dropout on the sequence (no state); with merged inputs, one call for all steps."""

    def __init__(self, rate, axes=(), prefix=None, params=None):
        super().__init__(prefix, params)
        if not isinstance(rate, (int, float)):
            raise ValueError("rate must be a number, got %r" % (rate,))
        self._rate, self._axes = rate, axes

    def __repr__(self):
        return "DropoutCell(rate=%s, axes=%s)" % (self._rate, self._axes)

    def state_info(self, batch_size=0):
        return []

    def _alias(self):
        return "dropout"

    def hybrid_forward(self, F, inputs, states):
        if self._rate > 0:
            inputs = F.Dropout(data=inputs, p=self._rate, axes=self._axes,
                               name="t%d_fwd" % self._counter)
        return inputs, states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        self.reset()
        inputs, _, F, _ = format_sequence(length, inputs, layout, merge_outputs)
        if isinstance(inputs, _TENSORS):
            return self.hybrid_forward(F, inputs, begin_state if begin_state else [])
        return super().unroll(length, inputs, begin_state=begin_state, layout=layout,
                              merge_outputs=merge_outputs, valid_length=None)


class ModifierCell(HybridRecurrentCell):
    """Base of the cells that wrap one `base_cell` and change its behaviour; the base
    cell's parameters and states are the modifier's."""

    def __init__(self, base_cell):
        if base_cell._modified:
            raise AssertionError("Cell %s is already modified. One cell cannot be modified "
                                 "twice" % base_cell.name)
        base_cell._modified = True
        super().__init__(prefix=base_cell.prefix + self._alias(), params=None)
        self.base_cell = base_cell

    @property
    def params(self):
        return self.base_cell.params

    def state_info(self, batch_size=0):
        return self.base_cell.state_info(batch_size)

    def begin_state(self, func=symbol.zeros, **kwargs):
        if self._modified:
            raise AssertionError("After applying modifier cells the base cell cannot be "
                                 "called directly. Call the modifier cell instead.")
        self.base_cell._modified = False
        try:
            return self.base_cell.begin_state(func=func, **kwargs)
        finally:
            self.base_cell._modified = True

    def hybrid_forward(self, F, inputs, states):
        raise NotImplementedError

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self.base_cell)


class ZoneoutCell(ModifierCell):
    """Zoneout: in training, keep each output/state entry's previous value with
    probability zoneout_outputs / zoneout_states."""

    def __init__(self, base_cell, zoneout_outputs=0.0, zoneout_states=0.0):
        if isinstance(base_cell, (BidirectionalCell, SequentialRNNCell)):
            raise ValueError("ZoneoutCell does not support %s; apply it to the cells inside"
                             % type(base_cell).__name__)
        super().__init__(base_cell)
        self.zoneout_outputs, self.zoneout_states = zoneout_outputs, zoneout_states
        self._prev_output = None

    def _alias(self):
        return "zoneout"

    def reset(self):
        super().reset()
        self._prev_output = None

    def hybrid_forward(self, F, inputs, states):
        p_out, p_st = self.zoneout_outputs, self.zoneout_states
        out, new_states = self.base_cell(inputs, states)

        def keep_new(p, like):
            return F.Dropout(F.ones_like(like), p=p)
        prev = self._prev_output if self._prev_output is not None else F.zeros_like(out)
        output = F.where(keep_new(p_out, out), out, prev) if p_out != 0.0 else out
        if p_st != 0.0:
            new_states = [F.where(keep_new(p_st, n), n, o) for n, o in zip(new_states, states)]
        self._prev_output = output
        return output, new_states


class ResidualCell(ModifierCell):
    """output = base_cell(x) + x."""

    def _alias(self):
        return "residual"

    def hybrid_forward(self, F, inputs, states):
        out, states = self.base_cell(inputs, states)
        return F.elemwise_add(out, inputs, name="t%d_fwd" % self._counter), states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        self.reset()
        self.base_cell._modified = False
        try:
            outputs, states = self.base_cell.unroll(
                length, inputs=inputs, begin_state=begin_state, layout=layout,
                merge_outputs=merge_outputs, valid_length=valid_length)
        finally:
            self.base_cell._modified = True
        merge = isinstance(outputs, _TENSORS) if merge_outputs is None else merge_outputs
        inputs, axis, F, _ = format_sequence(length, inputs, layout, merge)
        if valid_length is not None:
            inputs = mask_sequence_variable_length(F, inputs, length, valid_length, axis, merge)
        if merge:
            return F.elemwise_add(outputs, inputs), states
        return [F.elemwise_add(o, i) for o, i in zip(outputs, inputs)], states


class BidirectionalCell(HybridRecurrentCell):
    """Runs l_cell forward and r_cell backward in time and concatenates their outputs;
    only `unroll` is supported."""

    def __init__(self, l_cell, r_cell, output_prefix="bi_"):
        super().__init__(prefix="", params=None)
        self.register_child(l_cell, "l_cell")
        self.register_child(r_cell, "r_cell")
        self._output_prefix = output_prefix

    def __call__(self, inputs, states):
        raise NotImplementedError("Bidirectional cannot be stepped. Please use unroll")

    def __repr__(self):
        return "BidirectionalCell(forward=%s, backward=%s)" % (
            self._children["l_cell"], self._children["r_cell"])

    def state_info(self, batch_size=0):
        return cells_state_info(self._children.values(), batch_size)

    def begin_state(self, **kwargs):
        if self._modified:
            raise AssertionError("After applying modifier cells the base cell cannot be "
                                 "called directly. Call the modifier cell instead.")
        return cells_begin_state(self._children.values(), **kwargs)

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        self.reset()
        inputs, axis, F, batch_size = format_sequence(length, inputs, layout, False)
        rev_inputs = reverse_sequences(inputs, length, valid_length)
        states = get_begin_state(self, F, begin_state, inputs, batch_size, layout)
        l_cell, r_cell = self._children["l_cell"], self._children["r_cell"]
        nl = len(l_cell.state_info(batch_size))
        l_out, l_states = l_cell.unroll(length, inputs=inputs, begin_state=states[:nl],
                                        layout=layout, merge_outputs=merge_outputs,
                                        valid_length=valid_length)
        r_out, r_states = r_cell.unroll(length, inputs=rev_inputs, begin_state=states[nl:],
                                        layout=layout, merge_outputs=False,
                                        valid_length=valid_length)
        r_out = reverse_sequences(r_out, length, valid_length)
        if merge_outputs is None:
            merge_outputs = isinstance(l_out, _TENSORS)
            l_out, _, _, _ = format_sequence(None, l_out, layout, merge_outputs)
            r_out, _, _, _ = format_sequence(None, r_out, layout, merge_outputs)
        if merge_outputs:
            if not isinstance(r_out, _TENSORS):
                r_out = F.stack(*r_out, axis=axis)
            outputs = F.concat(l_out, r_out, dim=2, name="%sout" % self._output_prefix)
        else:
            outputs = [F.concat(lo, ro, dim=1, name="%st%d" % (self._output_prefix, i))
                       for i, (lo, ro) in enumerate(zip(l_out, r_out))]
        if valid_length is not None:
            outputs = mask_sequence_variable_length(F, outputs, length, valid_length, axis,
                                                    merge_outputs)
        return outputs, l_states + r_states


class VariationalDropoutCell(ModifierCell):
    """Variational dropout (Gal & Ghahramani): one dropout mask per sequence, shared by
    all steps, on the inputs (drop_inputs), the states (drop_states) and the outputs
    (drop_outputs).  Masks are drawn at the first step after reset()."""

    def __init__(self, base_cell, drop_inputs=0.0, drop_states=0.0, drop_outputs=0.0):
        if isinstance(base_cell, BidirectionalCell):
            raise ValueError("VariationalDropoutCell does not support BidirectionalCell")
        if drop_states and isinstance(base_cell, SequentialRNNCell):
            raise ValueError("drop_states is not supported with SequentialRNNCell")
        super().__init__(base_cell)
        self.drop_inputs, self.drop_states, self.drop_outputs = (drop_inputs, drop_states,
                                                                 drop_outputs)
        self._masks = None

    def _alias(self):
        return "vardrop"

    def reset(self):
        super().reset()
        self._masks = None

    def _mask(self, F, p, like):
        return F.Dropout(F.ones_like(like), p=p) if p else None

    def hybrid_forward(self, F, inputs, states):
        if self._masks is None:
            self._masks = (self._mask(F, self.drop_inputs, inputs),
                           self._mask(F, self.drop_states, states[0]) if states else None,
                           None)
        mi, ms, _ = self._masks
        if mi is not None:
            inputs = inputs * mi
        if ms is not None:
            states = [states[0] * ms] + list(states[1:])
        out, new_states = self.base_cell(inputs, states)
        if self.drop_outputs:
            if self._masks[2] is None:
                self._masks = (mi, ms, self._mask(F, self.drop_outputs, out))
            out = out * self._masks[2]
        return out, new_states
