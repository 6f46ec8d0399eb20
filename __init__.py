"""plait: MXNet 1.x + Gluon on a modern stack.  `import plait as mx`."""
__version__ = "0.1.0"

from .core import base  # noqa: F401
from .core import blas_threads as _blas_threads
_blas_threads.apply()
from .core import mempool as _mempool
_mempool.enable()
from .core.base import MXNetError, PlaitError  # noqa: F401
from .core.context import Context, cpu, gpu, cpu_pinned, current_context, num_gpus  # noqa: F401
from .core import engine  # noqa: F401
from . import ndarray  # noqa: F401
from .core import autograd  # noqa: F401
from . import ndarray as nd  # noqa: F401
from .ndarray import random  # noqa: F401,E402  (mx.random is mx.nd.random, as in MXNet)
from . import symbol  # noqa: F401,E402
from . import symbol as sym  # noqa: F401,E402
from .symbol import name  # noqa: F401,E402
from .symbol import name as attribute  # noqa: F401,E402  (mx.attribute.AttrScope)
from .symbol.name import AttrScope  # noqa: F401,E402
from .symbol import test_utils, viz  # noqa: F401,E402
from . import gluon  # noqa: F401,E402
from .gluon import initializer  # noqa: F401,E402
from .gluon import initializer as init  # noqa: F401,E402
from .gluon import metric  # noqa: F401,E402
from .gluon import optimizer, lr_scheduler  # noqa: F401,E402
from .gluon import kvstore  # noqa: F401,E402
from .gluon import kvstore as kv  # noqa: F401,E402
from .gluon.data import recordio, image, io, image as img  # noqa: F401,E402
from .core import onnx  # noqa: F401,E402  (lazy: needs the optional onnx package at first use)
from . import contrib  # noqa: F401,E402
from . import rnn  # noqa: F401,E402  (legacy mx.rnn cells)
from . import context, util  # noqa: F401,E402  (mx.context, mx.util)
from . import model  # noqa: F401,E402  (mx.model: load_checkpoint/save_checkpoint)
