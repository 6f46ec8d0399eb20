"""core/onnx/tensors.py: TensorProto -> NumPy with exact dtypes and the safety checks
(raw_data length, external data only from inside the model's folder), and what importing a
damaged file says."""
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import plait as mx  # noqa: E402
from plait.core.base import PlaitError  # noqa: E402
from plait.core.onnx import tensors  # noqa: E402

DTYPES = ["float32", "float64", "float16", "uint8", "int8", "uint16", "int16", "int32", "int64",
          "uint32", "uint64", "bool", "complex64", "complex128"]


def _values(dtype, shape=(2, 3)):
    r = np.random.default_rng(0)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return r.random(shape) > 0.5
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return r.integers(max(info.min, -1000), min(info.max, 1000), size=shape).astype(dt)
    if dt.kind == "c":
        return (r.standard_normal(shape) + 1j * r.standard_normal(shape)).astype(dt)
    return r.standard_normal(shape).astype(dt)


@pytest.mark.parametrize("dtype", DTYPES)
def test_raw_data_keeps_exact_dtype(dtype):
    a = _values(dtype)
    t = numpy_helper.from_array(a, "w")          # onnx's own writer: raw_data
    got = tensors.to_array(t)
    assert got.dtype == a.dtype and got.shape == a.shape
    np.testing.assert_array_equal(got, a)


@pytest.mark.parametrize("dtype", DTYPES)
def test_typed_fields_keep_exact_dtype(dtype):
    a = _values(dtype)
    code = helper.np_dtype_to_tensor_dtype(a.dtype)
    t = helper.make_tensor("w", code, a.shape, a.reshape(-1).tolist(), raw=False)
    got = tensors.to_array(t)
    assert got.dtype == a.dtype
    np.testing.assert_array_equal(got, a)


def test_scalar_and_empty():
    for a in (np.array(3.5, np.float32), np.zeros((0, 4), np.int64)):
        got = tensors.to_array(numpy_helper.from_array(a, "s"))
        assert got.shape == a.shape and got.dtype == a.dtype


def test_raw_data_length_mismatch_names_the_tensor():
    t = numpy_helper.from_array(np.ones((2, 3), np.float32), "conv1_weight")
    t.raw_data = t.raw_data[:-4]
    with pytest.raises(PlaitError, match=r"conv1_weight.*20 bytes.*need 24"):
        tensors.to_array(t)


def test_type_numpy_cannot_hold_is_an_error():
    t = helper.make_tensor("bf", TensorProto.BFLOAT16, (2,), [1.0, 2.0])
    with pytest.raises(PlaitError, match=r"'bf'.*BFLOAT16"):
        tensors.to_array(t)


def _external_model(folder, location, data=b"\0" * 24):
    """A model y = x + w where w (2x3 float32) is stored externally at `location`."""
    t = TensorProto()
    t.name, t.data_type = "w", TensorProto.FLOAT
    t.dims.extend([2, 3])
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", str(len(data)))):
        e = t.external_data.add()
        e.key, e.value = k, v
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])], [t])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    path = os.path.join(folder, "m.onnx")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return path


def test_external_data_inside_the_folder(tmp_path):
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    (tmp_path / "weights.bin").write_bytes(w.tobytes())
    path = _external_model(str(tmp_path), "weights.bin", w.tobytes())
    sym, args, aux = mx.onnx.import_model(path)
    x = np.ones((2, 3), np.float32)
    feed = dict(args, x=mx.nd.array(x))
    out = sym.bind(mx.cpu(), feed).forward()[0].asnumpy()
    np.testing.assert_array_equal(out, x + w)


@pytest.mark.parametrize("location,match", [
    ("/etc/passwd", "absolute path"), ("../secret.bin", r"'\.\.'"),
    ("sub/../../secret.bin", r"'\.\.'"), ("missing.bin", "does not name a file")])
def test_external_data_outside_the_folder_is_refused(tmp_path, location, match):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (tmp_path / "secret.bin").write_bytes(b"\0" * 24)
    path = _external_model(str(model_dir), location)
    with pytest.raises(PlaitError, match=match):
        mx.onnx.import_model(path)


def test_external_data_symlink_leaving_the_folder_is_refused(tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (tmp_path / "secret.bin").write_bytes(b"\0" * 24)
    os.symlink(str(tmp_path / "secret.bin"), str(model_dir / "link.bin"))
    path = _external_model(str(model_dir), "link.bin")
    with pytest.raises(PlaitError, match="symlink"):
        mx.onnx.import_model(path)


def test_external_data_range_beyond_the_file(tmp_path):
    (tmp_path / "short.bin").write_bytes(b"\0" * 8)
    path = _external_model(str(tmp_path), "short.bin")
    with pytest.raises(PlaitError, match="outside the file"):
        mx.onnx.import_model(path)


def test_truncated_model_file(tmp_path):
    w = numpy_helper.from_array(np.ones((64, 64), np.float32), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])], [w])
    data = helper.make_model(g).SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(PlaitError, match="cut.onnx.*not a valid ONNX model"):
        mx.onnx.import_model(str(path))
    with pytest.raises(PlaitError, match="cannot read"):
        mx.onnx.import_model(str(tmp_path / "nope.onnx"))


def test_garbage_file(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\x00\x01 this is not protobuf")
    with pytest.raises(PlaitError, match="junk.onnx"):
        mx.onnx.import_model(str(path))
