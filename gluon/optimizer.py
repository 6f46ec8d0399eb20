"""mx.optimizer: MXNet 1.9's optimizers (Optimizer, register/create, Updater/get_updater,
SGD, NAG, Signum, LARS, LBSGD, DCASGD, SGLD, ccSGD, Test, Adam, AdaGrad, RMSProp, AdaDelta, Ftrl,
Adamax, Nadam, FTML, LAMB).  MXNet's `mx.optimizer.Optimizer.create_optimizer` and
`mx.optimizer.create` are the same function."""
from .optimizer_base import Optimizer, Updater, create, get_updater, register  # noqa: F401
from .optimizer_sgd import SGD, NAG, Signum, LARS, DCASGD, SGLD, ccSGD, Test  # noqa: F401
from .optimizer_lbsgd import LBSGD  # noqa: F401
from . import optimizer_contrib as contrib  # noqa: F401  (mx.optimizer.contrib.GroupAdaGrad)
from .optimizer_adaptive import (Adam, AdaGrad, RMSProp, AdaDelta, Ftrl, Adamax,  # noqa: F401
                                 Nadam, FTML, LAMB)
from ..ndarray import abs as NDabs  # noqa: F401,E402  (exported by MXNet's optimizer too)

__all__ = ["AdaDelta", "AdaGrad", "Adam", "Adamax", "DCASGD", "FTML", "Ftrl", "LARS", "LBSGD", "NAG",
           "NDabs", "Nadam", "Optimizer", "RMSProp", "SGD", "SGLD", "Signum", "LAMB", "Test",
           "Updater", "ccSGD", "create", "get_updater", "register"]
