"""gluon.contrib.estimator: the Estimator training loop and its event handlers (MXNet 1.9),
plus plait's ProgressBarHandler and TensorBoardHandler."""
from .event_handler import (EventHandler, TrainBegin, TrainEnd, EpochBegin, EpochEnd,  # noqa: F401
                            BatchBegin, BatchEnd, StoppingHandler, MetricHandler,
                            ValidationHandler, LoggingHandler, EarlyStoppingHandler,
                            GradientUpdateHandler)
from .checkpoint import CheckpointHandler  # noqa: F401
from .estimator import Estimator, BatchProcessor  # noqa: F401
from . import batch_processor  # noqa: F401
from .progress import ProgressBarHandler  # noqa: F401
from .tensorboard import TensorBoardHandler  # noqa: F401
