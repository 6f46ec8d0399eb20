"""mx.gluon: MXNet 1.9's imperative/hybrid neural network API."""
from .parameter import Parameter, Constant, ParameterDict, DeferredInitializationError  # noqa: F401
from .block import Block, HybridBlock, SymbolBlock  # noqa: F401
from .trainer import Trainer  # noqa: F401
from . import block_containers  # noqa: F401
from . import nn  # noqa: F401
from . import rnn  # noqa: F401
from . import loss  # noqa: F401
from . import utils  # noqa: F401
from . import contrib  # noqa: F401
from . import data  # noqa: F401
from . import model_zoo  # noqa: F401

from ..ndarray.ndarray import NDArray as _NDArray  # noqa: E402
from ..symbol.symbol import Symbol as _Symbol  # noqa: E402

tensor_types = (_Symbol, _NDArray)  # what a HybridBlock's F-style inputs may be (MXNet's)
