"""ONNX TensorProto -> NumPy, with the checks a file from elsewhere needs.

- Every ONNX element type NumPy can hold keeps its exact dtype (uint16, complex64, ...);
  types NumPy has no dtype for (bfloat16, float8, int4, ...) are an error naming the tensor.
- raw_data whose byte length is not prod(dims) x itemsize is an error naming the tensor
  (NumPy would otherwise silently reinterpret or read short).
- External data is read only from a regular file inside the model's folder: absolute paths,
  `..` components and symlinks that resolve outside the folder are rejected.
Nothing here executes anything from the file.
"""
import os

import numpy as np

from ..base import PlaitError

# ONNX TensorProto.DataType value -> NumPy dtype (only the types NumPy holds exactly)
ONNX_TO_NP = {
    1: np.dtype("float32"), 2: np.dtype("uint8"), 3: np.dtype("int8"), 4: np.dtype("uint16"),
    5: np.dtype("int16"), 6: np.dtype("int32"), 7: np.dtype("int64"), 8: np.dtype(object),
    9: np.dtype("bool"), 10: np.dtype("float16"), 11: np.dtype("float64"),
    12: np.dtype("uint32"), 13: np.dtype("uint64"), 14: np.dtype("complex64"),
    15: np.dtype("complex128"),
}
NP_TO_ONNX = {v: k for k, v in ONNX_TO_NP.items()}
_NAMES = {1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
          8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64",
          14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16", 17: "FLOAT8E4M3FN",
          18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2", 20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4",
          23: "FLOAT4E2M1", 24: "FLOAT8E8M0", 25: "UINT2", 26: "INT2"}


def onnx_type_name(code):
    return _NAMES.get(code, "type %d" % code)


def np_dtype(code, what="tensor"):
    """ONNX element type code -> NumPy dtype, or a PlaitError naming `what`."""
    try:
        return ONNX_TO_NP[code]
    except KeyError:
        raise PlaitError("%s has element type %s, which NumPy cannot hold (supported: %s)"
                         % (what, onnx_type_name(code),
                            ", ".join(_NAMES[k] for k in sorted(ONNX_TO_NP))),
                         op="onnx import") from None


def onnx_code(dtype):
    """NumPy dtype -> ONNX element type code."""
    dtype = np.dtype(dtype)
    if dtype.kind in "US":
        return 8
    try:
        return NP_TO_ONNX[dtype]
    except KeyError:
        raise PlaitError("NumPy dtype %s has no ONNX element type" % dtype, op="onnx") from None


def _field_values(t, dtype):
    """The typed repeated field of TensorProto that holds `dtype` elements."""
    code = t.data_type
    if code in (1, 14):
        vals = np.asarray(t.float_data, np.float32)
        return vals.view(np.complex64) if code == 14 else vals
    if code in (11, 15):
        vals = np.asarray(t.double_data, np.float64)
        return vals.view(np.complex128) if code == 15 else vals
    if code == 7:
        return np.asarray(t.int64_data, np.int64)
    if code in (12, 13):
        return np.asarray(t.uint64_data, np.uint64).astype(dtype)
    if code == 10:  # float16 stored as its bit pattern in int32_data
        return np.asarray(t.int32_data, np.int32).astype(np.uint16).view(np.float16)
    if code == 8:
        return np.array([s for s in t.string_data], dtype=object)
    return np.asarray(t.int32_data, np.int32).astype(dtype)


def safe_external_path(base_dir, location, tensor_name):
    """Resolve external-data `location` inside `base_dir`; refuse anything leaving it."""
    def bad(why):
        return PlaitError("tensor '%s': external data location %r %s" % (tensor_name, location, why),
                          arg="external_data", op="onnx import")
    if base_dir is None:
        raise bad("cannot be read: the model was not loaded from a file")
    if not location or os.path.isabs(location) or location.startswith(("/", "\\")) or (
            len(location) > 1 and location[1] == ":"):
        raise bad("is an absolute path; only files inside the model's folder are read")
    parts = location.replace("\\", "/").split("/")
    if ".." in parts:
        raise bad("contains '..'; only files inside the model's folder are read")
    root = os.path.realpath(base_dir)
    path = os.path.realpath(os.path.join(root, *parts))
    if os.path.commonpath([root, path]) != root:
        raise bad("resolves (through a symlink) to %r, outside the model's folder %r"
                  % (path, root))
    if not os.path.isfile(path):
        raise bad("does not name a file in the model's folder %r" % root)
    return path


def _read_external(t, base_dir):
    info = {e.key: e.value for e in t.external_data}
    path = safe_external_path(base_dir, info.get("location", ""), t.name)
    try:
        offset = int(info.get("offset", 0) or 0)
        length = int(info["length"]) if info.get("length") else None
    except ValueError:
        raise PlaitError("tensor '%s': external data offset/length %r/%r are not integers"
                         % (t.name, info.get("offset"), info.get("length")),
                         arg="external_data", op="onnx import") from None
    size = os.path.getsize(path)
    if offset < 0 or offset > size or (length is not None and (length < 0 or offset + length > size)):
        raise PlaitError("tensor '%s': external data range offset=%d length=%s lies outside the "
                         "file %r of %d bytes" % (t.name, offset, length, path, size),
                         arg="external_data", op="onnx import")
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length if length is not None else size - offset)


def to_array(t, base_dir=None):
    """TensorProto -> NumPy array of the exact ONNX element type."""
    name = t.name or "<unnamed>"
    dtype = np_dtype(t.data_type, "tensor '%s'" % name)
    dims = tuple(int(d) for d in t.dims)
    if any(d < 0 for d in dims):
        raise PlaitError("tensor '%s' has negative dims %s" % (name, dims), op="onnx import")
    count = int(np.prod(dims, dtype=np.int64))
    external = t.data_location == 1
    if external or t.HasField("raw_data"):
        if dtype == object:
            raise PlaitError("tensor '%s': STRING tensors cannot use raw_data" % name,
                             op="onnx import")
        raw = _read_external(t, base_dir) if external else t.raw_data
        want = count * dtype.itemsize
        if len(raw) != want:
            raise PlaitError("tensor '%s': raw_data has %d bytes, but dims %s x %d-byte %s "
                             "need %d" % (name, len(raw), list(dims), dtype.itemsize,
                                          onnx_type_name(t.data_type), want),
                             arg="raw_data", op="onnx import")
        return np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(dims)
    vals = _field_values(t, dtype)
    if vals.size != count:
        raise PlaitError("tensor '%s': holds %d values, but dims %s need %d"
                         % (name, vals.size, list(dims), count), op="onnx import")
    return vals.astype(dtype, copy=False).reshape(dims)
