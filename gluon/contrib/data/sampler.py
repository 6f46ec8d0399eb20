"""IntervalSampler under MXNet 1.9's path mxnet.gluon.contrib.data.sampler."""
from ...data import sampler

__all__ = ["IntervalSampler"]


class IntervalSampler(sampler.IntervalSampler):
    """The indices of [0, length) taken every `interval` items: 0, interval, 2*interval, ...
    then, with rollover, again from 1, from 2, ... until every index came once, e.g.
    IntervalSampler(13, 3) gives 0 3 6 9 12 1 4 7 10 2 5 8 11; without rollover only the
    first pass (0 3 6 9 12).

    gluon.data.IntervalSampler's order; but len() is `length` even without rollover (when
    fewer indices come), as MXNet 1.9's contrib class has it.
    """

    def __len__(self):
        return self._length
