"""gluon.utils: split_data, split_and_load, clip_global_norm, check_sha1, download,
shape_is_known, replace_file, HookHandle (MXNet 1.9).

download works offline only: it returns an existing file (with a matching sha1 when one is
given) and otherwise raises, since plait does not fetch from the network."""
import hashlib
import os
import warnings

import numpy as np

from .. import ndarray
from ..core.base import MXNetError

__all__ = ["split_data", "split_and_load", "clip_global_norm", "check_sha1", "download",
           "shape_is_known", "replace_file"]


def shape_is_known(shape):
    """True when no dimension of `shape` is unknown (0 in MXNet's legacy shape semantics)."""
    if shape is None or len(shape) == 0:
        return False
    for d in shape:
        if d == 0:
            return False
        if d < 0:
            raise ValueError("shape dimension size cannot be less than 0, got %s in %s"
                             % (d, tuple(shape)))
    return True


def replace_file(src, dst):
    """Move src onto dst atomically (os.replace); on failure src is removed and an OSError
    names both."""
    try:
        os.replace(src, dst)
    except OSError as e:
        try:
            os.remove(src)
        except OSError:
            pass
        raise OSError("moving %s to %s failed (%s); retry the download" % (src, dst, e)) from e


def split_data(data, num_slice, batch_axis=0, even_split=True):
    """Split `data` into `num_slice` slices along `batch_axis` (the first size % num_slice
    slices get one extra element when even_split is False)."""
    size = data.shape[batch_axis]
    if even_split and size % num_slice != 0:
        raise ValueError(
            "data with shape %s cannot be evenly split into %d slices along axis %d. Use a "
            "batch size that's multiple of %d or set even_split=False to allow uneven "
            "partitioning of data." % (str(data.shape), num_slice, batch_axis, num_slice))
    each, extras = divmod(size, num_slice)
    bounds = np.cumsum([0] + [each + 1] * extras + [each] * (num_slice - extras)).tolist()
    if batch_axis == 0:
        return [data[bounds[i]:bounds[i + 1]] for i in range(num_slice)]
    return [ndarray.slice_axis(data, axis=batch_axis, begin=bounds[i], end=bounds[i + 1])
            for i in range(num_slice)]


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """Split `data` (NDArray or array-like) along batch_axis and load slice i onto
    ctx_list[i]."""
    if not isinstance(data, ndarray.NDArray):
        data = ndarray.array(data, ctx=ctx_list[0])
    if len(ctx_list) == 1:
        return [data.as_in_context(ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [s.as_in_context(ctx) for s, ctx in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Rescale `arrays` in place so that the 2-norm of all of them together is at most
    max_norm; returns the norm before clipping (a float, or an NDArray when
    check_isfinite is False)."""
    if len(arrays) == 0:
        raise AssertionError("clip_global_norm expects at least one array")
    ctx = arrays[0].context
    total = None
    for arr in arrays:
        x = arr.reshape((-1,))
        sq = ndarray.dot(x, x).as_in_context(ctx)
        total = sq if total is None else total + sq
    total_norm = ndarray.sqrt(total)
    if check_isfinite and not np.isfinite(total_norm.asscalar()):
        warnings.warn(UserWarning("nan or inf is detected. Clipping results will be "
                                  "undefined."), stacklevel=2)
    scale = max_norm / (total_norm + 1e-8)
    scale = ndarray.min(ndarray.concat(scale, ndarray.ones(1, ctx=ctx), dim=0))
    for arr in arrays:
        arr *= scale.as_in_context(arr.context)
    return total_norm.asscalar() if check_isfinite else total_norm


def check_sha1(filename, sha1_hash):
    """Whether the file's sha1 hex digest equals sha1_hash."""
    sha1 = hashlib.sha1()
    with open(filename, "rb") as f:
        for chunk in iter(lambda: f.read(1048576), b""):
            sha1.update(chunk)
    return sha1.hexdigest() == sha1_hash


def download(url, path=None, overwrite=False, sha1_hash=None, retries=5, verify_ssl=True):
    """MXNet's download(), offline: the target file name is derived as in MXNet and returned
    when the file exists (and matches sha1_hash); anything that would need the network
    raises MXNetError saying where to put the file."""
    if path is None:
        fname = url.split("/")[-1]
        if not fname:
            raise AssertionError("Can't construct file-name from this URL. Please set the "
                                 "`path` option manually.")
    else:
        path = os.path.expanduser(path)
        fname = os.path.join(path, url.split("/")[-1]) if os.path.isdir(path) else path
    if retries < 0:
        raise AssertionError("Number of retries should be at least 0, currently it's %d"
                             % retries)
    if not overwrite and os.path.exists(fname):
        if not sha1_hash or check_sha1(fname, sha1_hash):
            return fname
        why = "exists but its sha1 does not match %s" % sha1_hash
    elif overwrite:
        why = "was asked to be downloaded again (overwrite=True)"
    else:
        why = "does not exist"
    raise MXNetError("download(%r): %s %s, and plait does not download files. Fetch the "
                     "file yourself and place it at %s." % (url, fname, why,
                                                            os.path.abspath(fname)))


def _indent(s_, num_spaces):
    """Indent every line of s_ after the first by num_spaces (Block.__repr__ helper)."""
    lines = s_.split("\n")
    if len(lines) == 1:
        return s_
    return "\n".join([lines[0]] + [num_spaces * " " + line for line in lines[1:]])


def _brief_print_list(lst, limit=7):
    """'a', 'b', ..., 'z' for long lists."""
    lst = list(lst)
    if len(lst) > limit:
        return (_brief_print_list(lst[:limit // 2], limit) + ", ..., "
                + _brief_print_list(lst[-limit // 2:], limit))
    return ", ".join(["'%s'" % str(i) for i in lst])


from .block_scope import HookHandle  # noqa: F401,E402  (last: block_scope imports this module)
