"""gluon.rnn: recurrent layers on the fused RNN operator (rnn_layer.py) and recurrent
cells with unroll (rnn_cell.py, rnn_cell_wrappers.py), as in MXNet 1.9."""
from .rnn_cell import *  # noqa: F401,F403
from .rnn_layer import *  # noqa: F401,F403
