"""Gradient compression of the distributed kvstore: MXNet's '2bit' and plait's 'fp16'.

'2bit' (MXNet 1.9's definition, with error feedback): each worker keeps a residual per
key.  For a gradient g: r += g; every value with r >= threshold is sent as +threshold
(and r -= threshold), every value with r <= -threshold as -threshold (r += threshold),
every other value as 0 (r keeps it for later steps).  Codes take 2 bits (16 values per
float32 word, as in MXNet).  The reduced gradient is the sum over workers of the
dequantized values; only worker-to-worker traffic is compressed, as in MXNet.

'fp16': values travel as float16 and are summed in float32 (no residual).

Both gather every rank's compressed bytes (MPI Allgather) and sum them in rank order, so
every rank computes bitwise the same result."""
import numpy as np

from ..core.base import PlaitError

__all__ = ["make_compression", "TwoBit", "FP16"]

_OP = "kvstore.set_gradient_compression"
_POS, _NEG = 1, 2  # 2-bit codes; 0 means "send 0"


def make_compression(params):
    """A compressor from MXNet's compression_params dict, or None for {'type': 'none'}."""
    if not isinstance(params, dict):
        raise PlaitError("compression_params must be a dict such as {'type': '2bit', "
                         "'threshold': 0.5}, got %r" % (params,), arg="compression_params",
                         op=_OP)
    kind = params.get("type")
    if kind is None:
        raise PlaitError("compression_params needs a 'type' ('2bit' or 'fp16'), got %r"
                         % (params,), arg="compression_params", op=_OP)
    kind = str(kind).lower()
    extra = set(params) - {"type", "threshold"}
    if extra:
        raise PlaitError("unknown compression parameter(s) %s in %r"
                         % (sorted(extra), params), arg="compression_params", op=_OP)
    if kind == "none":
        return None
    if kind == "2bit":
        try:
            threshold = float(params.get("threshold", 0.5))
        except (TypeError, ValueError):
            threshold = float("nan")
        if not threshold > 0 or threshold == float("inf"):
            raise PlaitError("2bit threshold must be a positive finite float, got %r"
                             % (params.get("threshold"),), arg="threshold", op=_OP)
        return TwoBit(threshold)
    if kind == "fp16":
        if "threshold" in params:
            raise PlaitError("fp16 compression takes no threshold", arg="threshold", op=_OP)
        return FP16()
    raise PlaitError("unknown gradient compression type %r (plait supports '2bit' and "
                     "'fp16')" % (params.get("type"),), arg="type", op=_OP)


def pack_2bit(codes):
    """uint8 codes in {0, 1, 2} -> 4 codes per byte (little end first)."""
    n = codes.size
    pad = (-n) % 4
    if pad:
        codes = np.concatenate([codes, np.zeros(pad, np.uint8)])
    c = codes.reshape(-1, 4)
    return c[:, 0] | (c[:, 1] << 2) | (c[:, 2] << 4) | (c[:, 3] << 6)


def unpack_2bit(packed, n):
    """Inverse of pack_2bit for the leading axis kept: (..., nbytes) -> (..., n) codes."""
    shifts = np.array([0, 2, 4, 6], np.uint8)
    codes = (packed[..., None] >> shifts) & 3
    return codes.reshape(packed.shape[:-1] + (-1,))[..., :n]


class TwoBit:
    """MXNet's 2-bit quantisation with a per-key residual (error feedback)."""
    kind = "2bit"

    def __init__(self, threshold):
        self.threshold = np.float32(threshold)
        self.residuals = {}

    def params(self):
        return {"type": "2bit", "threshold": float(self.threshold)}

    def check_dtype(self, key, dtype):
        if np.dtype(dtype) != np.float32:
            raise PlaitError("2bit gradient compression needs float32 gradients; key %r is %s"
                             % (key, np.dtype(dtype).name), arg="dtype", op="kvstore.push")

    def quantize(self, key, grad):
        """Codes (uint8, one per value) for `grad` (1-D float32); updates the residual."""
        r = self.residuals.get(key)
        if r is None or r.shape != grad.shape:
            r = self.residuals[key] = np.zeros(grad.shape, np.float32)
        t = self.threshold
        r += grad
        pos = r >= t
        neg = r <= -t
        r -= pos * t
        r += neg * t
        return pos.astype(np.uint8) * _POS + neg.astype(np.uint8) * _NEG

    def encode(self, keys, flats):
        """Bytes to send for the 1-D float32 gradients of `keys` (one bucket)."""
        codes = [self.quantize(k, f) for k, f in zip(keys, flats)]
        return pack_2bit(np.concatenate(codes) if len(codes) > 1 else codes[0])

    def decode_sum(self, gathered, n, dtype):
        """Sum over ranks of the dequantized values: gathered is (nranks, nbytes) uint8."""
        codes = unpack_2bit(gathered, n)
        counts = (codes == _POS).sum(axis=0, dtype=np.int32)
        counts -= (codes == _NEG).sum(axis=0, dtype=np.int32)
        return (counts * self.threshold).astype(dtype, copy=False)


class FP16:
    """Values travel as float16 and are summed (in rank order) in float32."""
    kind = "fp16"

    def params(self):
        return {"type": "fp16"}

    def check_dtype(self, key, dtype):
        if np.dtype(dtype).kind != "f":
            raise PlaitError("fp16 gradient compression needs floating-point gradients; key "
                             "%r is %s" % (key, np.dtype(dtype).name), arg="dtype",
                             op="kvstore.push")

    def encode(self, keys, flats):
        f = np.concatenate(flats) if len(flats) > 1 else flats[0]
        return f.astype(np.float16).view(np.uint8)

    def decode_sum(self, gathered, n, dtype):
        vals = gathered.view(np.float16)[:, :n].astype(np.float32)
        out = vals[0].copy()
        for row in vals[1:]:
            out += row
        return out.astype(dtype, copy=False)
