"""mx.recordio: files written by real MXNet 1.9.1 (tools/make_data_fixtures.py) read back
identically, and files written by plait are byte-identical to MXNet's."""
import os
import struct

import numpy as np
import pytest

import plait as mx
from plait.core.base import PlaitError

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "data")
MAGIC = struct.pack("<I", 0xCED7230A)


@pytest.fixture(scope="module")
def fix():
    z = np.load(os.path.join(FIX, "records.npz"), allow_pickle=False)
    n = int(z["n_payloads"])
    return {"payloads": [z["payload%d" % i].tobytes() for i in range(n)],
            "packed": [z["packed%d" % i].tobytes() for i in range(3)]}


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def test_read_mxnet_indexed_file(fix):
    rec = mx.recordio.MXIndexedRecordIO(os.path.join(FIX, "records.idx"),
                                        os.path.join(FIX, "records.rec"), "r")
    assert rec.keys == [i * 3 + 1 for i in range(len(fix["payloads"]))]
    for i, p in enumerate(fix["payloads"]):
        assert rec.read_idx(i * 3 + 1) == p
    # sequential reading through the same file, then random order by seek
    rec.reset()
    assert [rec.read() for _ in fix["payloads"]] == fix["payloads"]
    assert rec.read() is None
    for i in (5, 0, 9):
        rec.seek(i * 3 + 1)
        assert rec.read() == fix["payloads"][i]
    rec.close()


def test_read_mxnet_sequential_file(fix):
    rec = mx.recordio.MXRecordIO(os.path.join(FIX, "records_seq.rec"), "r")
    got = []
    while True:
        r = rec.read()
        if r is None:
            break
        got.append(r)
    assert got == list(reversed(fix["payloads"]))


def test_written_files_are_byte_identical(tmp_path, fix):
    idx, path = str(tmp_path / "r.idx"), str(tmp_path / "r.rec")
    with mx.recordio.MXIndexedRecordIO(idx, path, "w") as rec:
        for i, p in enumerate(fix["payloads"]):
            rec.write_idx(i * 3 + 1, p)
        assert not os.path.exists(path)  # written atomically, on close
    assert _read(path) == _read(os.path.join(FIX, "records.rec"))
    assert _read(idx) == _read(os.path.join(FIX, "records.idx"))
    seq = str(tmp_path / "s.rec")
    w = mx.recordio.MXRecordIO(seq, "w")
    for p in reversed(fix["payloads"]):
        w.write(p)
    w.close()
    assert _read(seq) == _read(os.path.join(FIX, "records_seq.rec"))


def test_magic_inside_payload_is_split_with_continuation_flags(tmp_path):
    path = str(tmp_path / "m.rec")
    w = mx.recordio.MXRecordIO(path, "w")
    w.write(b"abcd" + MAGIC + b"ef")
    w.close()
    raw = _read(path)
    # part 1: cflag 1, 4 bytes; part 2: cflag 3, 2 bytes, padded to 4
    assert raw == (MAGIC + struct.pack("<I", 1 << 29 | 4) + b"abcd" +
                   MAGIC + struct.pack("<I", 3 << 29 | 2) + b"ef\0\0")
    r = mx.recordio.MXRecordIO(path, "r")
    assert r.read() == b"abcd" + MAGIC + b"ef"


def test_pack_unpack_match_mxnet(fix):
    R = mx.recordio
    assert R.pack(R.IRHeader(0, 3.5, 7, 0), b"payload") == fix["packed"][0]
    assert R.pack(R.IRHeader(0, [1.0, 2.5, -3.0], 11, 12), b"xyz") == fix["packed"][1]
    assert R.pack((0, np.arange(5, dtype=np.float32), 2 ** 40, 5), b"") == fix["packed"][2]
    h, s = R.unpack(fix["packed"][1])
    assert (h.flag, h.id, h.id2, s) == (3, 11, 12, b"xyz")
    np.testing.assert_array_equal(h.label, [1.0, 2.5, -3.0])
    h, s = R.unpack(fix["packed"][0])
    assert (h.flag, h.label, h.id, s) == (0, 3.5, 7, b"payload")


def test_pack_img_roundtrip_png():
    img = np.random.RandomState(0).randint(0, 256, (9, 11, 3)).astype(np.uint8)
    s = mx.recordio.pack_img(mx.recordio.IRHeader(0, 2.0, 5, 0), img, quality=3, img_fmt=".png")
    h, back = mx.recordio.unpack_img(s)
    assert h.label == 2.0 and h.id == 5
    np.testing.assert_array_equal(back, img)  # BGR in, BGR out (OpenCV's order, as MXNet)


def test_record_file_dataset_and_errors(tmp_path, fix):
    ds = mx.gluon.data.RecordFileDataset(os.path.join(FIX, "records.rec"))
    assert len(ds) == len(fix["payloads"])
    assert ds[3] == fix["payloads"][3]
    # forked workers share the open file: positional reads keep them independent
    lengths = mx.gluon.data.SimpleDataset(ds).transform(lambda b: np.int64(len(b)))
    dl = mx.gluon.data.DataLoader(lengths, batch_size=2, num_workers=2)
    got = np.concatenate([b.asnumpy() for _ in range(3) for b in dl])
    np.testing.assert_array_equal(got, [len(p) for p in fix["payloads"]] * 3)
    dl.close()
    bad = tmp_path / "bad.rec"
    bad.write_bytes(b"\x00" * 16)
    r = mx.recordio.MXRecordIO(str(bad), "r")
    with pytest.raises(PlaitError, match="bad magic"):
        r.read()
    trunc = tmp_path / "t.rec"
    trunc.write_bytes(_read(os.path.join(FIX, "records_seq.rec"))[:100])
    r = mx.recordio.MXRecordIO(str(trunc), "r")
    with pytest.raises(PlaitError, match="claims"):
        while r.read() is not None:
            pass
    with pytest.raises(PlaitError, match="cannot open"):
        mx.recordio.MXRecordIO(str(tmp_path / "missing.rec"), "r")
    rec = mx.recordio.MXIndexedRecordIO(os.path.join(FIX, "records.idx"),
                                        os.path.join(FIX, "records.rec"), "r")
    with pytest.raises(PlaitError, match="no record with key 2"):
        rec.read_idx(2)
    with pytest.raises(PlaitError, match="shorter than the 24-byte header"):
        mx.recordio.unpack(b"abc")
