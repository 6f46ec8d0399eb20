"""gluon.contrib.data.IntervalSampler: its order against a NumPy formula and MXNet 1.9.1's
(misc.npz of tools/make_contrib_rnn_fixtures.py), len(), DataLoader use, bad interval."""
import json
import os

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError
from plait.gluon.contrib.data import IntervalSampler
from plait.gluon.contrib.data.sampler import IntervalSampler as FromModule

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "contrib_rnn",
                   "misc.npz")


def numpy_order(length, interval, rollover):
    """Index i comes in pass i % interval, at rank i // interval within its pass."""
    idx = np.arange(length)
    order = idx[np.lexsort((idx // interval, idx % interval))]
    return order if rollover else order[order % interval == 0]


@pytest.mark.parametrize("length,interval", [(13, 3), (1, 1), (10, 10), (10, 4), (7, 1),
                                             (100, 7)])
@pytest.mark.parametrize("rollover", [True, False])
def test_order_matches_numpy_formula(length, interval, rollover):
    got = list(IntervalSampler(length, interval, rollover=rollover))
    np.testing.assert_array_equal(got, numpy_order(length, interval, rollover))
    if rollover:
        assert sorted(got) == list(range(length))


def test_matches_mxnet():
    z = np.load(FIX, allow_pickle=False)
    meta = json.loads(str(z["meta"]))
    keys = [k for k in meta if k.startswith("sampler/")]
    assert len(keys) == 6
    for key in keys:
        length, interval, rollover = (int(v) for v in key.split("/")[1].split("_"))
        s = IntervalSampler(length, interval, rollover=bool(rollover))
        np.testing.assert_array_equal(list(s), z[key])
        assert len(s) == meta[key]["len"]   # MXNet: len is `length` even without rollover


def test_module_path_and_dataloader():
    assert FromModule is IntervalSampler
    assert mx.gluon.contrib.data.sampler.IntervalSampler is IntervalSampler
    data = mx.gluon.data.ArrayDataset(np.arange(10, dtype=np.float32))
    loader = mx.gluon.data.DataLoader(data, batch_size=4,
                                      sampler=IntervalSampler(10, 3), last_batch="keep")
    got = np.concatenate([b.asnumpy() for b in loader])
    np.testing.assert_array_equal(got, [0, 3, 6, 9, 1, 4, 7, 2, 5, 8])


def test_bad_interval():
    with pytest.raises(PlaitError, match="interval 5 must be in .0, length=3"):
        IntervalSampler(3, 5)
    with pytest.raises(PlaitError, match="interval"):
        IntervalSampler(3, 0)
