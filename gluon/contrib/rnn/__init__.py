"""gluon.contrib.rnn: convolutional recurrent cells (conv_rnn_cell.py), LSTMPCell,
VariationalDropoutCell and dynamic_unroll (rnn_cell.py), as MXNet 1.9's
mxnet.gluon.contrib.rnn."""
from . import conv_rnn_cell, rnn_cell  # noqa: F401
from .conv_rnn_cell import *  # noqa: F401,F403
from .rnn_cell import *  # noqa: F401,F403

__all__ = conv_rnn_cell.__all__ + rnn_cell.__all__
