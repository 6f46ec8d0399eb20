"""mx.nd's Python-level functions over registered ops, as MXNet 1.9 defines them in Python:
split_v2 (over _split_v2), histogram (over _histogram) and moveaxis (over transpose).

MXNet quirks kept: split_v2 takes an int (equal sections, else ValueError) or a tuple (not a
list) of split points; the nd version turns sections into explicit indices.  histogram with
an int `bins` and no `range` computes numpy.histogram on the host and returns both arrays as
float32 NDArrays (counts included); `bins` must be an int or an NDArray.  moveaxis normalizes
its axes as numpy does and raises ValueError for out-of-range ones."""
import functools
import numbers
import warnings

import numpy as np

from ..core.ops import registry
from .api import make_op_function
from .ndarray import NDArray


@functools.lru_cache(maxsize=None)
def _op(name):
    return make_op_function(registry.get(name), name)


def split_v2(ary, indices_or_sections, axis=0, squeeze_axis=False):
    """Split an array into sub-arrays along `axis`: an int N gives N equal pieces (ValueError
    if impossible), a tuple of sorted ints gives the split points."""
    if isinstance(indices_or_sections, bool) or not isinstance(
            indices_or_sections, (numbers.Integral, tuple)):
        raise ValueError("indices_or_sections must either int or tuple of ints")
    if isinstance(indices_or_sections, numbers.Integral):
        sections = int(indices_or_sections)
        size = ary.shape[axis]
        if sections <= 0 or size % sections:
            raise ValueError("array split does not result in an equal division")
        step = size // sections
        indices = [k * step for k in range(sections)]
    else:
        indices = [0] + list(indices_or_sections)
    return _op("_split_v2")(ary, indices=tuple(indices), axis=axis, squeeze_axis=squeeze_axis)


def histogram(a, bins=10, range=None):  # noqa: A002  (MXNet's parameter name)
    """(counts, bin_edges) of the flattened `a`: `bins` an NDArray of edges, or an int count
    over `range` (without range: numpy.histogram, returned as float32 arrays)."""
    from .creation import array
    if isinstance(bins, NDArray):
        return _op("_histogram")(a, bins)
    if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
        if range is None:
            warnings.warn("range is not specified, using numpy's result to ensure "
                          "consistency with numpy")
            counts, edges = np.histogram(a.asnumpy(), bins=int(bins))
            return (array(counts, dtype=np.float32), array(edges, dtype=np.float32))
        return _op("_histogram")(a, bin_cnt=int(bins), range=tuple(range))
    raise ValueError("bins argument should be either an integer or an NDArray")


def _axes(v, ndim, what):
    vals = [v] if isinstance(v, numbers.Integral) else list(v)
    out = []
    for x in vals:
        x = int(x)
        if not -ndim <= x < ndim:
            raise ValueError("%s should verify -ndim <= %s < ndim (%d), got %d"
                             % (what, what, ndim, x))
        out.append(x % ndim)
    if len(set(out)) != len(out):
        raise ValueError("repeated axis in `%s` argument: %s" % (what, v))
    return out


def moveaxis(tensor, source, destination):
    """Move axes `source` to positions `destination`, the others keeping their order."""
    src = _axes(source, tensor.ndim, "source")
    dst = _axes(destination, tensor.ndim, "destination")
    if len(src) != len(dst):
        raise ValueError("`source` and `destination` arguments must have the same number "
                         "of elements")
    order = [n for n in range(tensor.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _op("transpose")(tensor, axes=tuple(order))


def install(namespace):
    """Put split_v2, histogram and moveaxis into `namespace` (mx.nd's globals)."""
    for fn in (split_v2, histogram, moveaxis):
        namespace[fn.__name__] = fn
