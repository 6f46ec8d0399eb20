"""Winograd F(4x4, 3x3) convolution for 3x3, stride-1, undilated, ungrouped layers.

Each 4x4 block of outputs is computed from the 6x6 input patch it reads as
A^T [U (.) V] A (csrc/kernels_winograd.cc has the transforms), so the convolution becomes
36 GEMMs  M[xi] (F, T) = U[xi] (F, C) . V[xi] (C, T)  over the T output tiles: 36 instead of
144 multiplies per 4x4 block, channel pair and image.  The transforms are memory-bound
passes (V and M are 36/16 = 2.25x the input and output), so measured against im2col + GEMM
it wins once the GEMMs dominate: ResNet-50's and CIFAR ResNet's 3x3 layers (forward, data
gradient and weight gradient) ran 1.4-2.6x faster; layers with few channels (an RGB stem)
stay on im2col (`usable`).
- data gradient: the forward convolution of dy, padded by 2 - pad, with each filter rotated
  by 180 degrees and input/output channels swapped (wino_weights(flipped=True));
- weight gradient: dU[xi] = dM[xi] . V[xi]^T with dM = A dY A^T per tile, then
  dw = G^T dU G (the transposes of the forward's transforms).
The results differ from im2col's in rounding only (float32: ~1e-6 relative to the
magnitudes summed); PLAIT_CONV_WINOGRAD=0 turns the path off.  Images are processed in
chunks of at most _TILE_COLS tiles so V and M stay a few MB; one GEMM call per chunk covers
all 36 positions.
"""
import os

from . import native
from . import nn_conv_impl  # (imports this module: only its attributes are used, at call time)

_TILE_COLS = 2048  # tiles (GEMM columns) per chunk of images
_MIN_CHANNELS = 16  # fewer input or output channels: the GEMMs are too thin to pay the transforms
_MIN_TILES = 96  # fewer output tiles in the batch: U (4x the weights) and its transform
# dominate (ResNet-50's 7x7 and CIFAR ResNet's 4x4 layers at batch 8-32, 32 tiles, ran 0.6-0.9x
# im2col's speed; 64 tiles about even; 128 tiles 1.1-1.35x)
_state = {"on": os.environ.get("PLAIT_CONV_WINOGRAD", "1") != "0"}


def usable(xp, arrays, F, C, out_sp, k, s, d, p, G):
    """Winograd applies to this convolution (F filters over C channels, output spatial size
    out_sp): compiled kernels usable on `arrays` (one dtype), a 3x3 kernel, stride and
    dilation 1, no groups, 2-d data, enough channels and output tiles."""
    if not (_state["on"] and G == 1 and tuple(k) == (3, 3) and tuple(s) == (1, 1)
            and tuple(d) == (1, 1) and len(out_sp) == 2 and min(F, C) >= _MIN_CHANNELS):
        return False
    if len({a.dtype for a in arrays}) != 1 or not native.usable(xp, *arrays):
        return False
    return arrays[0].shape[0] * _tiles(*out_sp) >= _MIN_TILES


def _chunks(N, tiles_per_image):
    """nn_conv_impl's near-equal image chunks, of at most _TILE_COLS tiles each."""
    return nn_conv_impl._chunks(N, tiles_per_image, elems=_TILE_COLS)


def _tiles(oh, ow):
    return ((oh + 3) // 4) * ((ow + 3) // 4)


def forward(xp, x, w, b, p, out, flipped=False):
    """out (N, F, OH, OW) = correlate(x, w) + b with padding p; `flipped`: w is the
    forward filter (F_fwd, C_fwd, 3, 3) of which this computes the data gradient (x is dy)."""
    kern = native.kernels()
    N, C = x.shape[:2]
    F = out.shape[1]
    oh, ow = out.shape[2:]
    u = xp.empty((36, F, C), x.dtype)
    kern.wino_weights(w, u, flipped)
    tpi = _tiles(oh, ow)
    v = m = None
    for a, z in _chunks(N, tpi):
        T = (z - a) * tpi
        if v is None or v.shape[2] != T:
            v, m = xp.empty((36, C, T), x.dtype), xp.empty((36, F, T), x.dtype)
        kern.wino_input(x, v, a, z - a, oh, ow, p[0], p[1])
        xp.matmul(u, v, out=m)
        kern.wino_output(m, out, a, z - a, b)
    return out


def data_grad(xp, dy, w, p, out):
    """out (N, C, H, W) = the gradient of a padded-p forward w.r.t. its data (p <= 2)."""
    return forward(xp, dy, w, None, (2 - p[0], 2 - p[1]), out, flipped=True)


def weight_grad(xp, dy, x, p):
    """The gradient (F, C, 3, 3) w.r.t. w of a padded-p forward with data x."""
    kern = native.kernels()
    N, C = x.shape[:2]
    F, oh, ow = dy.shape[1:]
    tpi = _tiles(oh, ow)
    du = v = dm = None
    for a, z in _chunks(N, tpi):
        T = (z - a) * tpi
        if v is None or v.shape[2] != T:
            v, dm = xp.empty((36, C, T), x.dtype), xp.empty((36, F, T), x.dtype)
        kern.wino_input(x, v, a, z - a, oh, ow, p[0], p[1])
        kern.wino_output_grad(dy, dm, a, z - a)
        part = xp.matmul(dm, v.transpose(0, 2, 1))
        if du is None:
            du = part
        else:
            du += part
    dw = xp.empty((F, C, 3, 3), x.dtype)
    kern.wino_weight_grad(du, dw)
    return dw
