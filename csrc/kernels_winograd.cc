// Winograd F(4x4, 3x3) transforms for 3x3 stride-1 convolutions (core/ops/nn_conv_winograd.py).
//
// A 4x4 block of outputs ("tile") of a 3x3 correlation is  Y = A^T [U (.) V] A  with
// U = G g G^T (the 3x3 filter g as 6x6) and V = B^T d B (the 6x6 input patch d the tile
// reads); (.) is the element-wise product.  Summed over input channels, each of the 36
// positions xi of the 6x6 products is one GEMM  M[xi] (F, T) = U[xi] (F, C) . V[xi] (C, T)
// over the T tiles, done by NumPy's matmul: 36*F*C*T multiplies instead of 9*16*F*C*T,
// 4x fewer.  The transforms here are the memory-bound parts:
//   wino_weights     U (36, F, C) from w (F, C, 3, 3); or, `flipped`, U (36, C, F) from the
//                    spatially flipped, channel-swapped w (the data gradient is the forward
//                    convolution of dy with that filter)
//   wino_input       V (36, C, T) from images a..a+n of x, zero padding read as zeros
//   wino_output      images a..a+n of y (N, F, OH, OW) from M (36, F, T), plus a bias
//   wino_output_grad dM (36, F, T) = A dY A^T of each 4x4 tile of dy (the gradient of
//                    wino_output): the weight gradient is dU[xi] = dM[xi] . V[xi]^T
//   wino_weight_grad dw (F, C, 3, 3) = G^T dU G (the gradient of wino_weights)
// Tile t of image i is (i*th + ty)*tw + tx for th x tw tiles of 4x4 over the output.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "kernels_args.h"
#include "kernels_winograd_math.h"
#include "parallel.h"

namespace plait {
namespace {

namespace py = pybind11;
using idx = std::ptrdiff_t;
using kargs::bad;
using kargs::shape_str;

using namespace wino;

struct Tiles {
  idx n, C, H, W, ph, pw, th, tw, T;  // images, channels, plane, padding, tiles
};

// Every transform works on a whole (image, channel) plane at a time, in "phases": for
// the k-th column of a tile (k < 6 for input patches, which overlap by 2; k < 4 for output
// tiles) ph[k][t] holds that column's value for every tile t of the plane, so each step
// is an element-wise loop over the plane's th*tw tiles that vectorises; the strided
// gathers and scatters happen once, in the (de)interleaving passes.
// rows (nrow, RW) of tile row ty -> phases ph[(i*K + k)*P + ty*tw + t] = rows[i][4t + k].
template <typename T>
inline void split_phases(const T* WR rows, idx nrow, idx RW, idx K, idx tw, idx ty, idx P,
                         T* WR ph) {
  for (idx i = 0; i < nrow; ++i)
    for (idx k = 0; k < K; ++k) {
      T* WR dst = ph + (i * K + k) * P + ty * tw;
      const T* WR src = rows + i * RW + k;
      for (idx t = 0; t < tw; ++t) dst[t] = src[4 * t];
    }
}

// One (image, channel) plane -> its tiles' 36 values, V[xi][t] at v + xi*vs + t.  Per tile
// row: the 6 input rows (zero-padded) into `strip` (6, SW), B^T down the rows into `rows`;
// then, per row i of that, B^T across the tile columns for all tiles at once.
template <typename T>
WINO_CLONES void input_plane(const T* WR x, const Tiles& g, T* WR v, idx vs, T* WR strip,
                             T* WR rows, T* WR ph) {
  const idx SW = 4 * g.tw + 2, P = g.th * g.tw;
  for (idx ty = 0; ty < g.th; ++ty) {
    for (idx r = 0; r < 6; ++r) {
      T* s = strip + r * SW;
      const idx y = 4 * ty - g.ph + r;
      if (y < 0 || y >= g.H) {
        std::fill(s, s + SW, T(0));
        continue;
      }
      const idx lo = std::min<idx>(SW, g.pw), hi = std::min<idx>(SW, g.W + g.pw);
      std::fill(s, s + lo, T(0));
      if (hi > lo) std::memcpy(s + lo, x + y * g.W, sizeof(T) * (hi - lo));
      std::fill(s + std::max(lo, hi), s + SW, T(0));
    }
    bt6(strip, SW, rows, SW, SW);
    split_phases(rows, 6, SW, 6, g.tw, ty, P, ph);
  }
  for (idx i = 0; i < 6; ++i) {
    bt6(ph + i * 6 * P, P, v + (i * 6) * vs, vs, P);
  }
}

template <typename T>
void input_t(const T* x, T* v, const Tiles& g) {
  const idx P = g.th * g.tw, SW = 4 * g.tw + 2;
  parallel_for(g.n * g.C, std::max<idx>(1, 4096 / (36 * P)), [&](idx lo, idx hi) {
    std::vector<T> buf(12 * SW + 36 * P);
    for (idx item = lo; item < hi; ++item) {
      const idx i = item / g.C, c = item % g.C;
      input_plane(x + item * g.H * g.W, g, v + c * g.T + i * P, g.C * g.T, buf.data(),
                  buf.data() + 6 * SW, buf.data() + 12 * SW);
    }
  });
}

// M (36, F, T) -> one (image, filter) output plane (+ bias): A^T across (6 rows x 4
// phases), A^T down (4 rows x 4 phases), then the 16 phases interleaved into the plane.
template <typename T>
WINO_CLONES void output_plane(const T* WR m, idx ms, const Tiles& g, idx OH, idx OW, T bias,
                              T* WR y, T* WR across, T* WR res) {
  const idx P = g.th * g.tw, tw = g.tw;
  for (idx i = 0; i < 6; ++i)  // across[(i*4 + c)*P + t]
    at6(m + (i * 6) * ms, ms, across + i * 4 * P, P, P, T(0));
  for (idx c = 0; c < 4; ++c)  // res[(r*4 + c)*P + t]
    at6(across + c * P, 4 * P, res + c * P, 4 * P, P, bias);
  for (idx ty = 0; ty < g.th; ++ty) {
    const idx nr = std::min<idx>(4, OH - 4 * ty);
    for (idx r = 0; r < nr; ++r) {
      T* WR out = y + (4 * ty + r) * OW;
      const T* WR src = res + r * 4 * P + ty * tw;
      for (idx col = 0; col < OW; ++col) out[col] = src[(col & 3) * P + (col >> 2)];
    }
  }
}

template <typename T>
void output_t(const T* m, T* y, const Tiles& g, idx F, idx OH, idx OW, const T* bias) {
  const idx P = g.th * g.tw;
  parallel_for(g.n * F, std::max<idx>(1, 4096 / (36 * P)), [&](idx lo, idx hi) {
    std::vector<T> buf(40 * P);
    for (idx item = lo; item < hi; ++item) {
      const idx i = item / F, f = item % F;
      output_plane(m + f * g.T + i * P, F * g.T, g, OH, OW, bias ? bias[f] : T(0),
                   y + item * OH * OW, buf.data(), buf.data() + 24 * P);
    }
  });
}

// One (image, filter) plane of dy (OH, OW) -> dM[xi][t] = (A dY A^T)[xi] of each tile,
// the tile's dY zero beyond the plane: A down the rows per tile row, then across.
template <typename T>
WINO_CLONES void output_grad_plane(const T* WR dy, const Tiles& g, idx OH, idx OW, T* WR dm,
                                   idx ms, T* WR strip, T* WR rows, T* WR ph) {
  const idx RW = 4 * g.tw, P = g.th * g.tw;
  for (idx ty = 0; ty < g.th; ++ty) {
    for (idx r = 0; r < 4; ++r) {
      T* s = strip + r * RW;
      const idx yy = 4 * ty + r;
      if (yy >= OH) {
        std::fill(s, s + RW, T(0));
        continue;
      }
      std::memcpy(s, dy + yy * OW, sizeof(T) * OW);
      std::fill(s + OW, s + RW, T(0));
    }
    a4(strip, RW, rows, RW, RW);  // rows: (6, RW)
    split_phases(rows, 6, RW, 4, g.tw, ty, P, ph);
  }
  for (idx i = 0; i < 6; ++i) a4(ph + i * 4 * P, P, dm + (i * 6) * ms, ms, P);
}

template <typename T>
void output_grad_t(const T* dy, T* dm, const Tiles& g, idx F, idx OH, idx OW) {
  const idx P = g.th * g.tw, RW = 4 * g.tw;
  parallel_for(g.n * F, std::max<idx>(1, 4096 / (36 * P)), [&](idx lo, idx hi) {
    std::vector<T> buf(10 * RW + 24 * P);
    for (idx item = lo; item < hi; ++item) {
      const idx i = item / F, f = item % F;
      output_grad_plane(dy + item * OH * OW, g, OH, OW, dm + f * g.T + i * P, F * g.T,
                        buf.data(), buf.data() + 4 * RW, buf.data() + 10 * RW);
    }
  });
}

constexpr idx kBlock = 64;  // filters transformed together, written as 36 runs of this many

// U (36, R, S) from w (F, C, 3, 3): R, S = F, C; or flipped: R, S = C, F with the filter
// of (r=c, s=f) being w[f, c] rotated by 180 degrees.  kBlock filters at a time, each step
// a loop over the block's filters (vectorised).
template <typename T>
WINO_CLONES void weight_block(const T* WR w, idx C, bool flipped, idx r, idx s0, idx nb,
                              T* WR g, T* WR t, T* WR o) {
  constexpr idx B = kBlock;
  for (idx j = 0; j < nb; ++j) {
    const idx s = s0 + j;
    const T* src = flipped ? w + (s * C + r) * 9 : w + (r * C + s) * 9;
    for (idx k = 0; k < 9; ++k) g[k * B + j] = src[flipped ? 8 - k : k];
  }
  for (idx col = 0; col < 3; ++col) g3(g + col * B, 3 * B, t + col * B, 3 * B, B);  // G g
  for (idx row = 0; row < 6; ++row) g3(t + row * 3 * B, B, o + row * 6 * B, B, B);  // . G^T
}

template <typename T>
void weights_t(const T* w, T* u, idx F, idx C, bool flipped) {
  const idx R = flipped ? C : F, S = flipped ? F : C, RS = R * S;
  const idx nb = (S + kBlock - 1) / kBlock;
  parallel_for(R * nb, 4, [&](idx lo, idx hi) {
    std::vector<T> buf((9 + 18 + 36) * kBlock, T(0));
    T *g = buf.data(), *t = g + 9 * kBlock, *o = t + 18 * kBlock;
    for (idx item = lo; item < hi; ++item) {
      const idx r = item / nb, s0 = (item % nb) * kBlock, n = std::min(S - s0, kBlock);
      weight_block(w, C, flipped, r, s0, n, g, t, o);
      for (idx k = 0; k < 36; ++k)
        std::memcpy(u + k * RS + r * S + s0, o + k * kBlock, sizeof(T) * n);
    }
  });
}

// dw (F, C, 3, 3) = G^T dU G for dU (36, F, C), kBlock filters at a time.
template <typename T>
WINO_CLONES void weight_grad_block(const T* WR u, T* WR t, T* WR o) {
  constexpr idx B = kBlock;
  for (idx row = 0; row < 6; ++row) gt6(u + row * 6 * B, B, t + row * 3 * B, B, B);  // dU G
  for (idx col = 0; col < 3; ++col) gt6(t + col * B, 3 * B, o + col * B, 3 * B, B);  // G^T .
}

template <typename T>
void weight_grad_t(const T* du, T* dw, idx F, idx C) {
  const idx FC = F * C, nb = (FC + kBlock - 1) / kBlock;
  parallel_for(nb, 4, [&](idx lo, idx hi) {
    std::vector<T> buf((36 + 18 + 9) * kBlock, T(0));
    T *u = buf.data(), *t = u + 36 * kBlock, *o = t + 18 * kBlock;
    for (idx b = lo; b < hi; ++b) {
      const idx f0 = b * kBlock, n = std::min(FC - f0, kBlock);
      for (idx k = 0; k < 36; ++k) std::memcpy(u + k * kBlock, du + k * FC + f0, sizeof(T) * n);
      weight_grad_block(u, t, o);
      for (idx j = 0; j < n; ++j)
        for (idx k = 0; k < 9; ++k) dw[(f0 + j) * 9 + k] = o[k * kBlock + j];
    }
  });
}

// ---- argument checks ---------------------------------------------------------------------
int kind_of(const char* op, const char* name, const py::array& a) {
  if (a.dtype().is(py::dtype::of<float>())) return 0;
  if (a.dtype().is(py::dtype::of<double>())) return 1;
  bad(op, std::string(name) + " must be float32 or float64, got dtype " +
              std::string(py::str(a.dtype())));
}

void need(const char* op, const char* name, const py::array& a, int kind,
          std::vector<idx> shape, bool out) {
  if (kind_of(op, name, a) != kind)
    bad(op, std::string(name) + " has dtype " + std::string(py::str(a.dtype())) +
                ", the other arrays have another float dtype");
  if (!(a.flags() & py::array::c_style)) bad(op, std::string(name) + " must be C-contiguous");
  bool ok = a.ndim() == static_cast<idx>(shape.size());
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = shape[i] < 0 || a.shape(i) == shape[i];
  if (!ok) {
    std::string want = "(";
    for (size_t i = 0; i < shape.size(); ++i)
      want += (i ? ", " : "") + (shape[i] < 0 ? std::string("*") : std::to_string(shape[i]));
    bad(op, std::string(name) + " has shape " + shape_str(a) + ", expected " + want + ")");
  }
  if (out && !a.writeable()) bad(op, std::string(name) + " must be writeable");
}

// Tiles of images a..a+n of a (N, C, H, W) array whose output is (OH, OW), checked.
Tiles tiles_of(const char* op, const py::array& x, idx a, idx n, idx OH, idx OW, idx ph,
               idx pw) {
  if (x.ndim() != 4) bad(op, "the data must be (N, C, H, W), got shape " + shape_str(x));
  Tiles g{n, x.shape(1), x.shape(2), x.shape(3), ph, pw, (OH + 3) / 4, (OW + 3) / 4, 0};
  if (a < 0 || n < 1 || a + n > x.shape(0))
    bad(op, "images " + std::to_string(a) + ".." + std::to_string(a + n) +
                " are outside the data of shape " + shape_str(x));
  if (OH < 1 || OW < 1 || ph < 0 || pw < 0)
    bad(op, "bad output size (" + std::to_string(OH) + ", " + std::to_string(OW) +
                ") or padding (" + std::to_string(ph) + ", " + std::to_string(pw) + ")");
  g.T = n * g.th * g.tw;
  return g;
}

// Runs `call` without the GIL with T = float (kind 0) or double.
#define WINO_DISPATCH(kind, call)  \
  do {                             \
    py::gil_scoped_release nogil;  \
    if ((kind) == 0) {             \
      using T = float;             \
      call;                        \
    } else {                       \
      using T = double;            \
      call;                        \
    }                              \
  } while (0)

template <typename T> T* p(const py::array& a) { return static_cast<T*>(const_cast<void*>(a.data())); }

void wino_input(py::array x, py::array v, idx a, idx n, idx OH, idx OW, idx ph, idx pw) {
  const char* op = "wino_input";
  const int k = kind_of(op, "x", x);
  need(op, "x", x, k, {-1, -1, -1, -1}, false);
  Tiles g = tiles_of(op, x, a, n, OH, OW, ph, pw);
  if (OH != g.H + 2 * ph - 2 || OW != g.W + 2 * pw - 2)
    bad(op, "a 3x3 stride-1 output of data " + shape_str(x) + " padded by (" +
                std::to_string(ph) + ", " + std::to_string(pw) + ") is not (" +
                std::to_string(OH) + ", " + std::to_string(OW) + ")");
  need(op, "v", v, k, {36, g.C, g.T}, true);
  const idx off = a * g.C * g.H * g.W;
  WINO_DISPATCH(k, input_t(p<T>(x) + off, p<T>(v), g));
}

// An output-side array y (N, F, OH, OW), images a..a+n, and its M-side partner m
// (36, F, T), both checked.
struct OutSide {
  idx F, OH, OW, off;
  Tiles g;
};

OutSide out_side(const char* op, const char* yname, const py::array& y, bool y_out,
                 const char* mname, const py::array& m, bool m_out, int k, idx a, idx n) {
  need(op, yname, y, k, {-1, -1, -1, -1}, y_out);
  const idx F = y.shape(1), OH = y.shape(2), OW = y.shape(3);
  OutSide o{F, OH, OW, a * F * OH * OW, tiles_of(op, y, a, n, OH, OW, 0, 0)};
  need(op, mname, m, k, {36, F, o.g.T}, m_out);
  return o;
}

void wino_output(py::array m, py::array y, idx a, idx n, py::object bias) {
  const char* op = "wino_output";
  const int k = kind_of(op, "y", y);
  const OutSide o = out_side(op, "y", y, true, "m", m, false, k, a, n);
  py::array b;
  if (!bias.is_none()) {
    b = py::reinterpret_borrow<py::array>(bias);
    need(op, "bias", b, k, {o.F}, false);
  }
  const bool hb = !bias.is_none();
  WINO_DISPATCH(k, output_t(p<T>(m), p<T>(y) + o.off, o.g, o.F, o.OH, o.OW,
                            hb ? p<T>(b) : nullptr));
}

void wino_output_grad(py::array dy, py::array dm, idx a, idx n) {
  const char* op = "wino_output_grad";
  const int k = kind_of(op, "dy", dy);
  const OutSide o = out_side(op, "dy", dy, false, "dm", dm, true, k, a, n);
  WINO_DISPATCH(k, output_grad_t(p<T>(dy) + o.off, p<T>(dm), o.g, o.F, o.OH, o.OW));
}

void wino_weights(py::array w, py::array u, bool flipped) {
  const char* op = "wino_weights";
  const int k = kind_of(op, "w", w);
  need(op, "w", w, k, {-1, -1, 3, 3}, false);
  const idx F = w.shape(0), C = w.shape(1);
  need(op, "u", u, k, {36, flipped ? C : F, flipped ? F : C}, true);
  WINO_DISPATCH(k, weights_t(p<T>(w), p<T>(u), F, C, flipped));
}

void wino_weight_grad(py::array du, py::array dw) {
  const char* op = "wino_weight_grad";
  const int k = kind_of(op, "dw", dw);
  need(op, "dw", dw, k, {-1, -1, 3, 3}, true);
  const idx F = dw.shape(0), C = dw.shape(1);
  need(op, "du", du, k, {36, F, C}, false);
  WINO_DISPATCH(k, weight_grad_t(p<T>(du), p<T>(dw), F, C));
}

}  // namespace

void register_kernels_winograd(py::module_& m) {
  using namespace pybind11::literals;
  m.def("wino_input", &wino_input, "x"_a, "v"_a, "a"_a, "n"_a, "out_h"_a, "out_w"_a,
        "pad_h"_a, "pad_w"_a,
        "V (36, C, T) = B^T d B of every 6x6 input patch of images a..a+n of x (N, C, H, W) "
        "for an (out_h, out_w) 3x3 stride-1 output in 4x4 tiles.");
  m.def("wino_output", &wino_output, "m"_a, "y"_a, "a"_a, "n"_a, "bias"_a = py::none(),
        "Images a..a+n of y (N, F, OH, OW) = A^T M A per tile (+ bias[f]).");
  m.def("wino_output_grad", &wino_output_grad, "dy"_a, "dm"_a, "a"_a, "n"_a,
        "dM (36, F, T) = A dY A^T of the 4x4 tiles of images a..a+n of dy.");
  m.def("wino_weights", &wino_weights, "w"_a, "u"_a, "flipped"_a = false,
        "U (36, F, C) = G w G^T; flipped: U (36, C, F) of the rotated, channel-swapped w.");
  m.def("wino_weight_grad", &wino_weight_grad, "du"_a, "dw"_a,
        "dw (F, C, 3, 3) = G^T dU G for dU (36, F, C).");
}

}  // namespace plait
