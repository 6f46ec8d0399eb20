"""mx.sym's Python-level split_v2 and histogram over _split_v2 and _histogram, as MXNet 1.9
defines them: split_v2 passes an int as `sections` (the op splits numpy.array_split-style,
no divisibility check) and a tuple as explicit split points; histogram needs an int `bins`
with a `range` (ValueError without: "null range is not supported in symbol mode") or a
Symbol of edges.  MXNet has no mx.sym.moveaxis."""
import functools
import numbers

from ..core.ops import registry
from .api import make_symbol_function
from .symbol import Symbol


@functools.lru_cache(maxsize=None)
def _op(name):
    return make_symbol_function(registry.get(name), name)


def split_v2(ary, indices_or_sections, axis=0, squeeze_axis=False):
    """Split a symbol into sub-symbols along `axis` (an int: sections; a tuple: split points)."""
    indices, sections = [], 0
    if isinstance(indices_or_sections, numbers.Integral) and not isinstance(
            indices_or_sections, bool):
        sections = int(indices_or_sections)
    elif isinstance(indices_or_sections, tuple):
        indices = [0] + list(indices_or_sections)
    else:
        raise ValueError("indices_or_sections must either int or tuple of ints")
    return _op("_split_v2")(ary, indices=tuple(indices), axis=axis, squeeze_axis=squeeze_axis,
                            sections=sections)


def histogram(a, bins=10, range=None, **kwargs):  # noqa: A002  (MXNet's parameter name)
    """(counts, bin_edges) of the flattened `a`: bins a Symbol of edges or an int with range."""
    if isinstance(bins, Symbol):
        return _op("_histogram")(data=a, bins=bins, **kwargs)
    if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
        if range is None:
            raise ValueError("null range is not supported in symbol mode")
        return _op("_histogram")(data=a, bin_cnt=int(bins), range=tuple(range), **kwargs)
    raise ValueError("bins argument should be either an integer or an NDArray")


def install(namespace):
    """Put split_v2 and histogram into `namespace` (mx.sym's globals)."""
    for fn in (split_v2, histogram):
        namespace[fn.__name__] = fn
