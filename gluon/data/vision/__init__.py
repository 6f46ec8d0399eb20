"""gluon.data.vision: image datasets and transforms."""
from .datasets import (MNIST, FashionMNIST, CIFAR10, CIFAR100,  # noqa: F401
                       ImageRecordDataset, ImageFolderDataset)
from . import transforms  # noqa: F401
