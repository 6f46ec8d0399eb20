"""gluon.model_zoo: MXNet 1.9's pretrained-model zoo (vision models and the model store).

Models are built offline; pretrained=True reads the parameter file MXNet's model store
names ('resnet18_v1-a0666292.params') from `root` (default ~/.mxnet/models) and never
downloads."""
from . import model_store  # noqa: F401
from . import vision  # noqa: F401
