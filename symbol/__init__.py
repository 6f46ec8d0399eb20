"""mx.sym / mx.symbol: symbolic graphs with MXNet 1.9's API; one function per registered op."""
from ..core import ops as _ops  # noqa: F401  (registers every op)
from . import api as _api
from . import name  # noqa: F401
from .name import AttrScope, NameManager, Prefix  # noqa: F401
from .symbol import Symbol, Group  # noqa: F401
from .api import (var, Variable, load, load_json, zeros, ones, full, arange,  # noqa: F401
                  linspace, eye, pow, power, maximum, minimum, hypot)

_api.install_fluent_methods()
_api.build_namespace(globals())
from . import contrib  # noqa: F401,E402  (mx.sym.contrib: foreach, while_loop, cond, _contrib_* ops)
from . import image  # noqa: F401,E402  (mx.sym.image: the _image_* ops)
from . import linalg  # noqa: F401,E402  (mx.sym.linalg: the _linalg_* ops)
from . import extra_funcs as _extra_funcs  # noqa: E402  (split_v2, histogram)
_extra_funcs.install(globals())
