"""gluon.contrib.data: IntervalSampler (sampler.py) and the WikiText datasets (text.py), as
MXNet 1.9's mxnet.gluon.contrib.data."""
from . import sampler  # noqa: F401
from . import text  # noqa: F401
from .sampler import *  # noqa: F401,F403
