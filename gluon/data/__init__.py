"""gluon.data: datasets, samplers, the DataLoader, vision datasets and transforms."""
from .dataset import Dataset, SimpleDataset, ArrayDataset, RecordFileDataset  # noqa: F401
from .sampler import (Sampler, SequentialSampler, RandomSampler, FilterSampler,  # noqa: F401
                      IntervalSampler, BatchSampler)
from .dataloader import DataLoader, default_batchify_fn, default_mp_batchify_fn  # noqa: F401
from . import vision  # noqa: F401
