"""Errors, dtype tables and the parsing of MXNet's attribute strings.

Every user-facing error in plait is a `PlaitError`: it names the operator (or file,
or layer), the argument, and the shapes/dtypes/values involved.  Shape and type
rules raise it without the operator name; the invoke path fills the name in, so
rules stay short and messages stay complete.
"""
import numpy as np


class MXNetError(RuntimeError):
    """Base error class, kept under MXNet's name for code that catches it."""


class PlaitError(MXNetError, ValueError):
    """An error naming the operator, the argument and the values involved."""

    def __init__(self, msg, arg=None, op=None):
        super().__init__(msg)
        self.msg, self.arg, self.op = msg, arg, op

    def __str__(self):
        head = ""
        if self.op:
            head = "%s: " % self.op
        if self.arg:
            head += "argument '%s': " % self.arg
        return head + self.msg


def fail(arg, msg, *fmt):
    """Raise a PlaitError for argument `arg` (the op name is filled in by the caller)."""
    raise PlaitError(msg % fmt if fmt else msg, arg=arg)


# ---------------------------------------------------------------------------------------------
# dtypes: MXNet's names and type flags (mshadow/base.h)
DTYPE_FLAGS = {
    np.dtype("float32"): 0, np.dtype("float64"): 1, np.dtype("float16"): 2,
    np.dtype("uint8"): 3, np.dtype("int32"): 4, np.dtype("int8"): 5,
    np.dtype("int64"): 6, np.dtype("bool"): 7,
    # beyond MXNet 1.9 (its later flags): NDArrays can hold every integer type ONNX has
    np.dtype("int16"): 8, np.dtype("uint16"): 9, np.dtype("uint32"): 10, np.dtype("uint64"): 11,
}
FLAG_DTYPES = {v: k for k, v in DTYPE_FLAGS.items()}
SUPPORTED_DTYPES = tuple(DTYPE_FLAGS)
FLOAT_DTYPES = (np.dtype("float16"), np.dtype("float32"), np.dtype("float64"))
INT_DTYPES = (np.dtype("uint8"), np.dtype("int8"), np.dtype("int32"), np.dtype("int64"))
NUMERIC_DTYPES = FLOAT_DTYPES + INT_DTYPES
DEFAULT_DTYPE = np.dtype("float32")
_DTYPE_CACHE = {}


def to_dtype(value, arg="dtype"):
    """Normalise a dtype given as numpy type, np.dtype, or MXNet name ('float32')."""
    try:
        return _DTYPE_CACHE[value]
    except (KeyError, TypeError):
        pass
    if value is None:
        return DEFAULT_DTYPE
    try:
        dt = np.dtype(value)
    except TypeError:
        dt = None
    if dt is None or dt not in DTYPE_FLAGS:
        fail(arg, "unsupported dtype %r (supported: %s)", value,
             ", ".join(d.name for d in SUPPORTED_DTYPES))
    try:
        _DTYPE_CACHE[value] = dt
    except TypeError:
        pass
    return dt


# ---------------------------------------------------------------------------------------------
# MXNet attribute strings: "(2, 3)", "True", "None", "1e-5", "float32"
def parse_bool(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in ("true", "1", "false", "0"):
        return v.strip().lower() in ("true", "1")
    raise ValueError("expected a boolean, got %r" % (v,))


def parse_int(v):
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        s = v.strip()
        try:
            return int(s)
        except ValueError:
            f = float(s)
            if f.is_integer():
                return int(f)
    raise ValueError("expected an integer, got %r" % (v,))


def parse_float(v):
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    if isinstance(v, str):
        return float(v.strip())
    raise ValueError("expected a number, got %r" % (v,))


def parse_tuple(v, item=parse_int):
    """'(2, 3)', '[2,3]', '2', (2, 3), 2 -> (2, 3); '()' -> ()."""
    if isinstance(v, str):
        s = v.strip()
        if s[:1] in "([" and s[-1:] in ")]":
            s = s[1:-1]
        parts = [p for p in (x.strip() for x in s.split(",")) if p]
        return tuple(item(None if p == "None" else p) if p != "None" else None for p in parts)
    if isinstance(v, (list, tuple)):
        return tuple(None if x is None else item(x) for x in v)
    if isinstance(v, np.ndarray) and v.ndim <= 1:
        return tuple(item(x) for x in v.reshape(-1).tolist())
    return (item(v),)


def is_none(v):
    return v is None or (isinstance(v, str) and v.strip() in ("None", ""))


def format_value(v):
    """Python value -> MXNet attribute string (what -symbol.json stores)."""
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(format_value(x) for x in v) + (",)" if len(v) == 1 else ")")
    if isinstance(v, np.dtype):
        return v.name
    if isinstance(v, type) and issubclass(v, np.generic):
        return np.dtype(v).name
    if isinstance(v, float):
        return repr(v)
    return str(v)
