"""gluon.contrib.data.text.WikiText2/WikiText103 on a small fake WikiText folder
(tests/fixtures/text/wikitext/) against what MXNet 1.9.1's datasets produce from it
(tools/make_text_fixtures.py), plus the missing-file and bad-argument errors."""
import json
import os
import shutil

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError
from plait.gluon.contrib.data.text import WikiText2, WikiText103

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "text")
ROOT = os.path.join(FIX, "wikitext")
with open(os.path.join(FIX, "text.json"), encoding="utf8") as _f:
    CASES = json.load(_f)["wikitext"]
CLASSES = {"WikiText2": WikiText2, "WikiText103": WikiText103}


@pytest.fixture(scope="module")
def arrays():
    with np.load(os.path.join(FIX, "text.npz"), allow_pickle=False) as z:
        return {k: z[k] for k in z.files if k.startswith("wiki/")}


@pytest.fixture(scope="module")
def train():
    return WikiText2(root=ROOT)


@pytest.mark.parametrize("i", range(len(CASES)),
                         ids=["%s-%s-%d-%s" % (c["cls"], c["segment"], c["seq_len"], c["vocab"])
                              for c in CASES])
def test_matches_mxnet(i, arrays, train):
    c = CASES[i]
    vocab = train.vocabulary if c["vocab"] else None
    ds = CLASSES[c["cls"]](root=ROOT, segment=c["segment"], seq_len=c["seq_len"], vocab=vocab)
    assert len(ds) == c["len"]
    assert ds.vocabulary.idx_to_token == c["idx_to_token"]
    if vocab is not None:
        assert ds.vocabulary is vocab
    assert [[k, v] for k, v in ds.frequencies.items()] == c["frequencies"]
    data, label = arrays["wiki/%d/data" % i], arrays["wiki/%d/label" % i]
    got = [ds[j] for j in range(len(ds))]
    for j, (d, lab) in enumerate(got):
        assert isinstance(d, mx.nd.NDArray) and d.dtype == np.int32
        assert d.shape == tuple(c["item_shape"])
        np.testing.assert_array_equal(d.asnumpy(), data[j])
        np.testing.assert_array_equal(lab.asnumpy(), label[j])


def test_label_is_data_shifted_by_one(train):
    d = np.concatenate([train[j][0].asnumpy() for j in range(len(train))])
    lab = np.concatenate([train[j][1].asnumpy() for j in range(len(train))])
    np.testing.assert_array_equal(d[1:], lab[:-1])
    eos = train.vocabulary.to_indices("<eos>")
    assert train.vocabulary.idx_to_token[:2] == ["<unk>", "<eos>"] and eos == 1
    assert eos in d and "<eos>" not in train.frequencies


def test_dataloader_batches(train):
    loader = mx.gluon.data.DataLoader(train, batch_size=4, shuffle=False)
    d, lab = next(iter(loader))
    assert d.shape == (4, 35) and lab.shape == (4, 35)
    np.testing.assert_array_equal(d.asnumpy()[2], train[2][0].asnumpy())
    np.testing.assert_array_equal(lab.asnumpy()[3], train[3][1].asnumpy())


def test_files_in_dataset_subfolder(tmp_path):
    # MXNet's wikitext-2-v1.zip unzips into wikitext-2/
    shutil.copytree(ROOT, tmp_path / "wikitext-2")
    ds = WikiText2(root=str(tmp_path), segment="test", seq_len=7)
    assert ds.file == str(tmp_path / "wikitext-2" / "wiki.test.tokens")
    assert len(ds) == len(WikiText2(root=ROOT, segment="test", seq_len=7))


def test_default_root_is_mxnet_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path))
    shutil.copytree(ROOT, tmp_path / "datasets" / "wikitext-103")
    assert len(WikiText103(segment="validation")) > 0


@pytest.mark.parametrize("cls,archive", [(WikiText2, "wikitext-2/wikitext-2-v1.zip"),
                                         (WikiText103, "wikitext-103/wikitext-103-v1.zip")])
def test_missing_files_error(tmp_path, cls, archive):
    with pytest.raises(PlaitError) as err:
        cls(root=str(tmp_path), segment="validation")
    msg = str(err.value)
    assert "argument 'root'" in msg and "wiki.valid.tokens" in msg and str(tmp_path) in msg
    assert "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/gluon/dataset/" \
        + archive in msg
    assert not os.listdir(tmp_path)  # nothing created or downloaded


@pytest.mark.parametrize("kwargs,exc,arg", [
    ({"segment": "valid"}, KeyError, "segment"),
    ({"seq_len": 0}, ValueError, "seq_len"),
    ({"seq_len": 2.5}, ValueError, "seq_len"),
    ({"vocab": {"a": 1}}, ValueError, "vocab"),
])
def test_bad_arguments(kwargs, exc, arg):
    with pytest.raises(exc, match="argument '%s'" % arg):
        WikiText2(root=ROOT, **kwargs)
