"""Shared by the model-zoo tests: the MXNet 1.9.1 fixtures of tests/fixtures/zoo/
(tools/make_zoo_fixtures.py) and model construction in a fresh name scope, so that
prefixes are 'resnetv10_', 'mobilenet0_', ... whatever ran before."""
import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))   # seeded_params (shared with the tool)

import plait as mx  # noqa: E402
from plait.gluon.model_zoo import vision  # noqa: E402

ZOO_FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "zoo")


def build(name, **kwargs):
    """vision.get_model(name, **kwargs) under a fresh NameManager (as the fixtures were)."""
    with mx.name.NameManager():
        return vision.get_model(name, **kwargs)


@pytest.fixture(scope="session")
def param_specs():
    with open(os.path.join(ZOO_FIXTURES, "param_specs.json")) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def forward_fixture():
    with open(os.path.join(ZOO_FIXTURES, "forward.json")) as f:
        meta = json.load(f)
    with np.load(os.path.join(ZOO_FIXTURES, "forward.npz"), allow_pickle=False) as z:
        return {name: dict(m, output=z[name]) for name, m in meta.items()}
