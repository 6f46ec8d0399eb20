"""mx.nd: imperative arrays; one function per registered operator."""
from ..core import ops as _ops  # noqa: F401  (registers every op)
from . import api as _api
from .ndarray import NDArray, FLUENT as _FLUENT, _install_fluent_methods, _install_operators
from .creation import (array, empty, zeros, ones, full, zeros_like, ones_like, full_like,  # noqa
                       arange, linspace, eye, waitall)

from . import random  # noqa: F401,E402
from .utils import save, load, load_frombuffer  # noqa: F401,E402

_install_operators()
_install_fluent_methods(_FLUENT)
_api.build_namespace(globals())

from . import ufuncs as _ufuncs  # noqa: E402

_ufuncs.install(globals())

from ..core import autograd as _autograd  # noqa: E402
from . import invoke as _invoke  # noqa: E402
import sys as _sys  # noqa: E402

_autograd._F = _sys.modules[__name__]
_autograd._NDArray = NDArray
_autograd._hooks = _invoke._hooks
from . import contrib  # noqa: F401,E402  (mx.nd.contrib: foreach, while_loop, cond, _contrib_* ops)
from . import image  # noqa: F401,E402  (mx.nd.image: the _image_* ops)
from . import linalg  # noqa: F401,E402  (mx.nd.linalg: the _linalg_* ops)
from . import extra_funcs as _extra_funcs  # noqa: E402  (split_v2, histogram, moveaxis)
_extra_funcs.install(globals())
