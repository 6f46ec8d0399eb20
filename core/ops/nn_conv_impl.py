"""Convolution kernels shared by Convolution, Deconvolution and their backward ops.

All work on channel-first data (N, C, *spatial) with 1-3 spatial axes and are written
against `xp` (NumPy or CuPy).  Images are processed in chunks whose column matrix holds at
most _CHUNK_ELEMS elements (4 MiB of float32; 16 MiB when one GEMM covers the chunk, so
that e.g. CIFAR ResNet's 512x4x4 layers get 32 images a GEMM): ResNet-50 at 224 gets one
image a chunk in its large stages; one column buffer is reused for all chunks of a size.
- im2col: one strided slice copy per kernel OFFSET (9 for 3x3) straight from the unpadded
  input; positions that read the zero padding are never written, so the zero-initialised
  buffer stays valid from chunk to chunk (no padded copy).  1x1 / stride 1 / no-pad
  convolutions skip it (the input is the column matrix).
- GEMM strategy (_strategy): OpenBLAS runs a GEMM on all its threads once m*n*k >= 2^19
  and synchronises them on every call; many small threaded GEMMs (a batched per-image
  matmul on LeNet's conv2 or CIFAR ResNet's 4x4-8x8 stages) measured 1.5-25x slower than
  one GEMM over many images with 2 threads on a loaded machine.  With one thread, though, a
  single GEMM over a whole batch was 1.2-2.6x SLOWER than per-image ones once its output
  had more than ~4-8k columns (cache/TLB: 8+ MB C and B matrices), best at 2-8k.  So when
  the per-image GEMM would be threaded and has fewer than _GEMM_COLS columns, images are
  grouped into GEMMs of about _GEMM_COLS columns in the channel-major layout: columns
  (C*K, n*P), output (F, n*P) transposed back into (n, F, P) in the same pass as the bias;
  the weight gradient is dy (F, n*P) . cols^T, the data gradient (C*K, n*P) = w^T . dy then
  col2im.  The transposes cost one pass over the output / dy, small against the GEMM unless
  C*K is tiny (< _MIN_K, e.g. a 1-channel 1x1 or 2x2 kernel), which stays per image, as do
  large images (P >= _GEMM_COLS) and GEMMs OpenBLAS keeps on one thread anyway.
- col2im (the data gradient, and Deconvolution's forward): GEMM, then a scatter-add with
  one vectorised strided slice per kernel offset, never per pixel (a full convolution of dy
  with the flipped weight needs in/out times the GEMM work: 1.5-6x slower on LeNet).  For
  stride 1, _col2im_flat embeds dy in a grid of the padded input's row length so each
  offset's add is one long contiguous run; that grows the GEMM by padded/output width, so
  it is used only while (growth - 1) * F/G <= _FLAT_MAX_EXTRA (it won on LeNet's conv2 and
  64-channel 32x32 layers, lost on 256-512-filter layers at 4x4-8x8).
- Compiled kernels (csrc/kernels_conv.cc; NumPy float32/float64, see native.py): im2col
  for both layouts writes every entry, padding zeros included (so the buffer needs no zero
  fill), 1.5-6x faster than the slice copies; col2im overwrites the chunk's images (no
  zero fill of dx) at 2-6x the per-offset slice adds, which makes the _col2im_flat GEMM
  growth a loss: _col2im_native always runs the plain GEMM.  _put_rows' transpose + bias
  is one C++ pass.  The xp code below stays the CuPy path and the reference.
"""
import functools
import itertools

from ..base import fail
from . import native
from . import nn_conv_winograd as winograd

LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}  # the channel-first layout of nd spatial axes
_CHUNK_ELEMS = 1 << 20  # column elements per chunk (4 MiB of float32; x4 for grouped GEMMs)
_FLAT_MAX_EXTRA = 32  # stride-1 data gradients use _col2im_flat while (growth - 1) * F/G <= this
_GEMM_COLS = 4096  # columns (images x output positions) per GEMM, see _strategy
_MIN_K = 8  # GEMMs with a shorter inner dimension stay per image (32 before the transposes
# were compiled; 8 measured 13 % faster on an RGB 3x3 CIFAR stem's training step, 8 % on
# LeNet's 1-channel 5x5 conv1 forward + weight gradient)
_POINTWISE_PER_IMAGE = 64  # 1x1 convolutions with this many output positions run per-image
# GEMMs (no transposes): ResNet-50's 28x28/14x14 and CIFAR 8x8 1x1 layers 1.05-1.5x faster
# (forward and data gradient); at 7x7 and 4x4 the grouped GEMM stayed 5-20 % faster
_THREADED_MNK = 1 << 19  # GEMMs with m*n*k below this run on one OpenBLAS thread (_strategy)


def geometry(attrs, nd):
    """(kernel, stride, dilate, pad) as nd-tuples with MXNet's defaults for empty tuples."""
    k = tuple(attrs.kernel)
    s = tuple(attrs.stride) or (1,) * nd
    d = tuple(attrs.dilate) or (1,) * nd
    p = tuple(attrs.pad) or (0,) * nd
    return k, s, d, p


def parse_attrs_of(op_name, kw):
    """kw parsed by the registered op `op_name` (for samples of its backward ops)."""
    from .registry import get
    return get(op_name).parse_attrs(kw)


def check_groups(ds, F, G):
    """Data of shape ds (C channels) and num_filter F must both split into G groups."""
    C = ds[1]
    if C % G:
        fail("num_group", "the data's %d channels (shape %s) are not divisible by num_group=%d",
             C, ds, G)
    if F % G:
        fail("num_group", "num_filter=%d is not divisible by num_group=%d", F, G)


def out_size(in_sp, k, s, d, p):
    return tuple((i + 2 * pp - (dd * (kk - 1) + 1)) // ss + 1
                 for i, kk, ss, dd, pp in zip(in_sp, k, s, d, p))


def _chunks(n, per_image, cap=None, elems=None):
    """Near-equal chunks of images, each with at most `elems` (default _CHUNK_ELEMS) column
    elements and at most `cap` images (but at least one image): equal sizes let every chunk
    reuse one column buffer."""
    elems = elems or _CHUNK_ELEMS
    step = max(1, min(n, elems // max(1, per_image), cap or n))
    count = -(-n // step)
    step = -(-n // count)
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def _prod(v):
    r = 1
    for a in v:
        r *= a
    return r


def _valid(kid, in_sp, s, d, p, osp):
    """For kernel offset kid: the output slices whose input position o*s + kid*d - p lies
    inside the (unpadded) input, and the matching input slices; None if there is none."""
    osl, isl = (), ()
    for kk, i, ss, dd, pp, o in zip(kid, in_sp, s, d, p, osp):
        off = kk * dd - pp
        lo = max(0, -(off // ss)) if off < 0 else 0          # first o with o*s + off >= 0
        hi = min(o, (i - 1 - off) // ss + 1) if i - 1 - off >= 0 else 0
        if hi <= lo:
            return None
        osl += (slice(lo, hi),)
        start = lo * ss + off
        isl += (slice(start, start + ss * (hi - lo - 1) + 1, ss),)
    return osl, isl


def _plan(in_sp, k, s, d, p, osp):
    """[(kid, out slices, in slices)] for every kernel offset that reads the input (cached
    per geometry: it is rebuilt for every im2col/col2im call otherwise)."""
    return _plan_cached(tuple(in_sp), tuple(k), tuple(s), tuple(d), tuple(p), tuple(osp))


@functools.lru_cache(maxsize=256)
def _plan_cached(in_sp, k, s, d, p, osp):
    out = []
    for kid in itertools.product(*[range(kk) for kk in k]):
        v = _valid(kid, in_sp, s, d, p, osp)
        if v is not None:
            out.append((kid,) + v)
    return out


def _pointwise(k, s, p):
    return all(a == 1 for a in k) and all(a == 1 for a in s) and not any(p)


def _strategy(N, Fg, CgK, P, col_per_image, pointwise=False):
    """(chunks, per_image) for N images whose GEMM per image and group is Fg x CgK x P.
    per_image: the chunks run as per-image GEMMs straight on the image-major layout (no
    transposes) when the per-image GEMM is small enough for OpenBLAS to keep on one thread
    (no thread synchronisation per call), already has >= _GEMM_COLS columns, or has a tiny
    inner dimension CgK < _MIN_K (memory-bound: the transposes would cost as much as the
    GEMM); otherwise one GEMM covers a chunk of about _GEMM_COLS columns (n*P) in the
    channel-major layout.  `pointwise` (a 1x1 forward or data gradient, where that layout
    costs a transposing copy of the input as well as of the output): per image from
    _POINTWISE_PER_IMAGE output positions on."""
    n_gemm = max(1, _GEMM_COLS // max(1, P))
    if n_gemm == 1 or N == 1 or CgK < _MIN_K or Fg * CgK * P < _THREADED_MNK or (
            pointwise and P >= _POINTWISE_PER_IMAGE):
        return _chunks(N, col_per_image), True
    chunks = _chunks(N, col_per_image, n_gemm, 4 * _CHUNK_ELEMS)
    return chunks, chunks[0][1] - chunks[0][0] == 1


class _Columns:
    """The column matrix of chunks of images, laid out image-major (n, C, *K, *O) for
    per-image GEMMs or channel-major (C, *K, n, *O) so that, seen as (G, Cg*K, n*P), one
    GEMM per group covers the whole chunk.  Filled with one strided slice copy per kernel
    OFFSET straight from the unpadded input; the entries that read the zero padding are
    never written, so one zero-initialised buffer serves every chunk of the same size (a
    smaller last chunk gets its own)."""

    def __init__(self, xp, x, k, s, d, p, osp, G, per_image):
        self.xp, self.x, self.k, self.osp, self.G = xp, x, tuple(k), tuple(osp), G
        self.per_image = per_image
        self.pointwise = _pointwise(k, s, p)
        self.geom = (tuple(s), tuple(d), tuple(p))
        self.native = not self.pointwise and native.usable(xp, x)  # im2col in C++
        self.plan = None if self.pointwise or self.native else \
            _plan(x.shape[2:], k, s, d, p, osp)
        self.buf = None

    def get(self, a, z):
        """Columns of images a:z: (n, G, Cg*K, P) per image, else (G, Cg*K, n*P)."""
        xp, x, n, G = self.xp, self.x, z - a, self.G
        C = x.shape[1]
        P = _prod(self.osp)
        if self.pointwise:
            xs = x[a:z].reshape(n, C, P)
            if self.per_image:
                return xs.reshape(n, G, C // G, P)
            col = xs[0] if n == 1 else xp.ascontiguousarray(xs.swapaxes(0, 1))
            return col.reshape(G, C // G, n * P)
        if self.per_image:
            shape, src, pre, mid = (n, C) + self.k + self.osp, x[a:z], (slice(None),) * 2, ()
        else:  # x[a:z] seen as (C, n, *in), a view
            shape, src, pre, mid = (C,) + self.k + (n,) + self.osp, x[a:z].swapaxes(0, 1), \
                (slice(None),), (slice(None),)
        if self.buf is None or self.buf.shape != shape:  # C++ writes the padding zeros
            self.buf = (xp.empty if self.native else xp.zeros)(shape, x.dtype)
        col = self.buf
        if self.native:
            native.kernels().im2col(x, col, a, n, self.osp, self.k, *self.geom,
                                    not self.per_image)
        else:
            head = (slice(None), slice(None))
            for kid, osl, isl in self.plan:
                col[pre + kid + mid + osl] = src[head + isl]
        if self.per_image:
            return col.reshape(n, G, -1, P)
        return col.reshape(G, -1, n * P)


def _rows(xp, y, a, z, G):
    """Images a:z of y (N, F, *O) as (G, F/G, n*P): a view for one image, else one
    transposing copy."""
    n, F = z - a, y.shape[1]
    ys = y[a:z].reshape(n, F, -1)
    r = ys[0] if n == 1 else xp.ascontiguousarray(ys.swapaxes(0, 1))
    return r.reshape(G, F // G, -1)


def _put_rows(xp, res, out, a, z, bias):
    """out[a:z] (n, F, *O) = res (G, F/G, n*P) transposed back (+ bias), one pass."""
    n, F = z - a, out.shape[1]
    dst = out[a:z].reshape(n, F, -1)
    if native.usable(xp, res, dst) and (bias is None or native.usable(xp, bias)) and \
            len({res.dtype, dst.dtype, (bias if bias is not None else res).dtype}) == 1:
        return native.kernels().swap01(res, dst, F, n, bias)
    src = res.reshape(F, n, -1).swapaxes(0, 1)
    if bias is None:
        dst[...] = src
    else:
        xp.add(src, bias.reshape(1, F, 1), out=dst)


def conv_forward(xp, x, w, b, k, s, d, p, G, out):
    """out (N, F, *O) = correlate(x, w) + b, with groups G: per chunk of images, im2col into
    a reused column buffer, then either per-image GEMMs written straight into out or one
    GEMM per group and one transposing copy into out (see _strategy)."""
    N, C = x.shape[:2]
    F = w.shape[0]
    osp = out.shape[2:]
    if winograd.usable(xp, [x, w, out] + ([] if b is None else [b]), F, C, osp, k, s, d, p, G):
        return winograd.forward(xp, x, w, b, p, out)
    P = _prod(osp)
    wm = w.reshape(G, F // G, -1)
    chunks, per_image = _strategy(N, F // G, wm.shape[2], P, wm.shape[2] * G * P,
                                  _pointwise(k, s, p))
    cols = _Columns(xp, x, k, s, d, p, osp, G, per_image)
    o4 = out.reshape(N, G, F // G, P)
    for a, z in chunks:
        c = cols.get(a, z)
        if per_image:
            xp.matmul(wm, c, out=o4[a:z])
        elif z - a == 1:
            xp.matmul(wm, c, out=o4[a])
        else:
            _put_rows(xp, xp.matmul(wm, c), out, a, z, b)
            continue
        if b is not None:
            o4[a:z] += b.reshape(G, F // G, 1)


def conv_data_grad(xp, dy, w, in_sp, k, s, d, p, G, dtype, out=None):
    """The gradient of conv_forward w.r.t. x (col2im of w^T . dy); x has spatial in_sp.
    Also Deconvolution's forward (dy = its data, w = its weight).  Written into `out`
    (N, C, *in_sp) when given (no extra copy of the result), which is returned."""
    N, F = dy.shape[:2]
    Cg = w.shape[1]
    C = Cg * G
    osp = dy.shape[2:]
    P = _prod(osp)
    wt = w.reshape(G, F // G, -1).transpose(0, 2, 1)            # (G, Cg*K, Fg)
    if _pointwise(k, s, p):  # dx = w^T . dy: no col2im
        dx = xp.empty((N, C) + tuple(in_sp), dtype) if out is None else out
        chunks, per_image = _strategy(N, F // G, Cg, P, C * P, True)
        if per_image:
            xp.matmul(wt, dy.reshape(N, G, F // G, P), out=dx.reshape(N, G, Cg, P))
        else:
            for a, z in chunks:
                _put_rows(xp, xp.matmul(wt, _rows(xp, dy, a, z, G)), dx, a, z, None)
        return dx
    if max(p) <= 2 and dy.dtype == xp.dtype(dtype) and all(
            i == o + 2 - 2 * pp for i, o, pp in zip(in_sp, osp, p)) and winograd.usable(
            xp, [dy, w] + ([] if out is None else [out]), C, F, in_sp, k, s, d, p, G):
        return winograd.data_grad(xp, dy, w, p, xp.empty((N, C) + tuple(in_sp), dtype)
                                  if out is None else out)
    if native.usable(xp, dy, w) and (out is None or native.usable(xp, out)) \
            and dy.dtype == w.dtype == xp.dtype(dtype):
        return _col2im_native(xp, dy, wt, in_sp, k, s, d, p, G, C, out)
    flat_extra = (_flat_growth(in_sp, p, osp) - 1) * (F // G)  # extra GEMM work, in filters
    if all(ss == 1 for ss in s) and flat_extra <= _FLAT_MAX_EXTRA:
        return _col2im_flat(xp, dy, wt, in_sp, k, d, p, G, C, dtype, out)
    if out is None:
        dx = xp.zeros((N, C) + tuple(in_sp), dtype)
    else:
        dx = out
        dx[...] = 0
    plan = _plan(in_sp, k, s, d, p, osp)
    chunks, per_image = _strategy(N, F // G, wt.shape[1], P, wt.shape[1] * G * P)
    head = (slice(None),)
    for a, z in chunks:
        n = z - a
        if per_image:
            dcols = xp.matmul(wt, dy[a:z].reshape(n, G, F // G, P))   # (n, G, Cg*K, P)
            dcols = dcols.reshape((n, C) + tuple(k) + tuple(osp))
            dxs, pre, mid = dx[a:z], head + head, ()
        else:
            dcols = xp.matmul(wt, _rows(xp, dy, a, z, G))            # (G, Cg*K, n*P)
            dcols = dcols.reshape((C,) + tuple(k) + (n,) + tuple(osp))
            dxs, pre, mid = dx[a:z].swapaxes(0, 1), head, head       # (C, n, *in), a view
        for kid, osl, isl in plan:  # col2im: one strided slice add per kernel offset
            dxs[head + head + isl] += dcols[pre + kid + mid + osl]
    return dx


def _col2im_native(xp, dy, wt, in_sp, k, s, d, p, G, C, out):
    """conv_data_grad with the compiled col2im: per chunk, the GEMM w^T . dy in either
    layout, then one C++ pass that overwrites the chunk's images of dx with the scatter-add
    (no zero fill of dx, no GEMM growth as in _col2im_flat)."""
    N, F = dy.shape[:2]
    osp = dy.shape[2:]
    P = _prod(osp)
    dx = xp.empty((N, C) + tuple(in_sp), dy.dtype) if out is None else out
    chunks, per_image = _strategy(N, F // G, wt.shape[1], P, wt.shape[1] * G * P)
    for a, z in chunks:
        n = z - a
        rows = dy[a:z].reshape(n, G, F // G, P) if per_image else _rows(xp, dy, a, z, G)
        dcols = xp.matmul(wt, rows)     # (n, G, Cg*K, P) or (G, Cg*K, n*P)
        native.kernels().col2im(dcols, dx, a, n, osp, k, s, d, p, not per_image)
    return dx


def _flat_growth(in_sp, p, osp):
    """How much larger _col2im_flat's GEMM is than the plain one (padded / output width)."""
    return _prod(i + 2 * pp for i, pp in zip(in_sp[1:], p[1:])) / _prod(osp[1:])


def _col2im_flat(xp, dy, wt, in_sp, k, d, p, G, C, dtype, out):
    """conv_data_grad for stride 1: dy is embedded in a zero grid with the padded input's
    row length(s), so each kernel offset's scatter-add becomes ONE flat shift with long
    contiguous runs (instead of many 1-row-of-output-width runs); the zero grid entries
    add zeros.  Costs psp/osp (inner axes) more GEMM work, saves most of the scatter."""
    N, F = dy.shape[:2]
    osp = dy.shape[2:]
    psp = tuple(i + 2 * pp for i, pp in zip(in_sp, p))
    gsp = (osp[0],) + psp[1:]
    nd = len(osp)
    steps = [_prod(psp[a + 1:]) for a in range(nd)]
    L = sum((o - 1) * st for o, st in zip(osp, steps)) + 1
    Pg = _prod(gsp)
    padded = any(p)
    if out is not None and not padded:
        dx = out
        dx[...] = 0
    else:
        dx = xp.zeros((N, C) + psp, dtype)
    dxf = dx.reshape(N, C, -1)
    kp = _prod(k)
    offs = [sum(kk * dd * st for kk, dd, st in zip(kid, d, steps))
            for kid in itertools.product(*[range(kk) for kk in k])]
    chunks, per_image = _strategy(N, F // G, wt.shape[1], Pg, wt.shape[1] * G * Pg)
    grid = None
    inner = (slice(None), slice(None)) + tuple(slice(0, o) for o in osp)
    for a, z in chunks:
        n = z - a
        if gsp == tuple(osp):
            rows = dy[a:z].reshape(n, G, F // G, Pg) if per_image else _rows(xp, dy, a, z, G)
        else:  # embed in the zero grid (channel-major: the same copy transposes the chunk)
            shape = (n, F) + gsp if per_image else (F, n) + gsp
            if grid is None or grid.shape != shape:
                grid = xp.zeros(shape, dy.dtype)
            grid[inner] = dy[a:z] if per_image else dy[a:z].swapaxes(0, 1)
            rows = grid.reshape((n, G, F // G, Pg) if per_image else (G, F // G, n * Pg))
        dcols = xp.matmul(wt, rows)
        if per_image:  # (n, C, K, Pg) added into (n, C, flat)
            dcols, dst = dcols.reshape(n, C, kp, Pg), dxf[a:z]
        else:          # (C, K, n, Pg) added into (C, n, flat), a view
            dcols, dst = dcols.reshape(C, kp, n, Pg).swapaxes(1, 2), dxf[a:z].swapaxes(0, 1)
        for ki, off in enumerate(offs):
            dst[:, :, off:off + L] += dcols[:, :, ki, :L]
    if padded:
        crop = dx[(slice(None), slice(None)) + tuple(slice(pp, pp + i) for pp, i in zip(p, in_sp))]
        if out is None:
            return xp.ascontiguousarray(crop)
        out[...] = crop
        return out
    return dx


def conv_data_grad_into(xp, dy, w, k, s, d, p, G, out):
    """conv_data_grad for an input of out's shape, written into out (in place when out is
    C-contiguous and does not overlap dy)."""
    if out.flags.c_contiguous and not xp.may_share_memory(out, dy):  # write in place
        conv_data_grad(xp, dy, w, out.shape[2:], k, s, d, p, G, out.dtype, out=out)
    else:
        out[...] = conv_data_grad(xp, dy, w, out.shape[2:], k, s, d, p, G, out.dtype)


def conv_weight_grad(xp, dy, x, wshape, k, s, d, p, G):
    """The gradient of conv_forward w.r.t. w, on the same columns as conv_forward: per
    chunk of images either per-image GEMMs dy . cols^T summed over the images, or ONE GEMM
    per group, dy (F, n*P) . cols^T (n*P, C*K)."""
    N = x.shape[0]
    F = dy.shape[1]
    osp = dy.shape[2:]
    P = _prod(osp)
    if winograd.usable(xp, [dy, x], F, x.shape[1], osp, k, s, d, p, G):
        return winograd.weight_grad(xp, dy, x, p)
    Fg, CgK = F // G, wshape[1] * _prod(k)
    chunks, per_image = _strategy(N, Fg, CgK, P, CgK * G * P)
    cols = _Columns(xp, x, k, s, d, p, osp, G, per_image)
    acc = None
    for a, z in chunks:
        c = cols.get(a, z)
        if per_image:
            part = xp.matmul(dy[a:z].reshape(z - a, G, Fg, P), c.swapaxes(-1, -2))
            part = part[0] if z - a == 1 else part.sum(axis=0)
        else:
            part = xp.matmul(_rows(xp, dy, a, z, G), c.swapaxes(-1, -2))
        if acc is None:
            acc = part
        else:
            acc += part
    return acc.reshape(wshape)
