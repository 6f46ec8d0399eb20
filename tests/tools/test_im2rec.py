"""tools/im2rec.py makes the same .lst files as MXNet 1.9.1's tools/im2rec.py and, with
--pass-through, byte-identical .rec/.idx files (fixtures: tests/fixtures/data/im2rec/, made
by tools/make_data_fixtures.py); re-encoding mode round-trips through ImageRecordDataset."""
import importlib.util
import os
import shutil

import numpy as np
import pytest

import plait as mx

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "fixtures", "data", "im2rec")
spec = importlib.util.spec_from_file_location(
    "im2rec", os.path.join(HERE, "..", "..", "tools", "im2rec.py"))
im2rec = importlib.util.module_from_spec(spec)
spec.loader.exec_module(im2rec)


@pytest.fixture
def work(tmp_path):
    shutil.copytree(os.path.join(FIX, "images"), tmp_path / "images")
    return tmp_path


def _run(work, *argv):
    args = list(argv[:-1]) + [str(work / argv[-1]), str(work / "images")]
    assert im2rec.main(args) == 0


def _same(work, name):
    with open(os.path.join(FIX, name), "rb") as f, open(work / name, "rb") as g:
        assert f.read() == g.read(), name


def test_lists_equal_mxnet(work, capsys):
    _run(work, "--list", "--recursive", "all")
    _run(work, "--list", "flat")
    _run(work, "--list", "--recursive", "--train-ratio", "0.5", "--test-ratio", "0.25", "split")
    _run(work, "--list", "--recursive", "--no-shuffle", "--chunks", "2", "chunk")
    for name in ("all.lst", "flat.lst", "split_train.lst", "split_val.lst", "split_test.lst",
                 "chunk_0.lst", "chunk_1.lst"):
        _same(work, name)
    assert "dog/deep 3" in capsys.readouterr().out  # the folder -> label table


def test_pass_through_records_are_byte_identical(work):
    for name in ("all.lst", "split_train.lst", "split_val.lst", "split_test.lst"):
        shutil.copy(os.path.join(FIX, name), work / name)
    _run(work, "--pass-through", "--num-thread", "3", "all")
    _run(work, "--pass-through", "split")
    for name in ("all.rec", "all.idx", "split_train.rec", "split_train.idx", "split_val.rec",
                 "split_val.idx", "split_test.rec", "split_test.idx"):
        _same(work, name)


def test_reencoded_records_load_as_a_dataset(work):
    pytest.importorskip("cv2")
    _run(work, "--list", "--recursive", "--no-shuffle", "data")
    _run(work, "--encoding", ".png", "--resize", "6", "--num-thread", "2", "data")
    ds = mx.gluon.data.vision.ImageRecordDataset(str(work / "data.rec"))
    assert len(ds) == 7
    img, label = ds[4]  # dog/a.png, label 2
    assert label == 2.0 and img.shape == (6, 8, 3)
    src = mx.image.imread(str(work / "images" / "dog" / "a.png")).asnumpy()
    ref = mx.image.imresize(src, 8, 6, interp=1)
    np.testing.assert_array_equal(img.asnumpy(), ref)


def test_missing_list_and_bad_images(work, capsys):
    assert im2rec.main([str(work / "nothing"), str(work / "images")]) == 1
    (work / "images" / "cat" / "1.png").write_bytes(b"broken")
    _run(work, "--list", "--recursive", "--no-shuffle", "bad")
    pytest.importorskip("cv2")
    _run(work, "bad")
    assert "skipping" in capsys.readouterr().out
    assert len(mx.gluon.data.RecordFileDataset(str(work / "bad.rec"))) == 6
