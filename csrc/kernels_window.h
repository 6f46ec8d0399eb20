// Shared by kernels_conv.cc and kernels_pool.cc: argument checks and the geometry of a
// sliding window over 1-3 spatial axes.  1-d and 2-d problems are seen as 3-d ones with
// leading spatial axes of size 1 (kernel 1, stride 1, dilation 1, pad 0), so every kernel
// is written once, for 3 axes.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "kernels_args.h"
#include <pybind11/stl.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace plait {
namespace window {

namespace py = pybind11;
using idx = std::ptrdiff_t;
using kargs::bad;
using kargs::shape_str;

// 0 for float32, 1 for float64; anything else is an error naming the op and argument.
inline int float_kind(const std::string& op, const char* name, const py::array& a) {
  if (a.dtype().is(py::dtype::of<float>())) return 0;
  if (a.dtype().is(py::dtype::of<double>())) return 1;
  bad(op, std::string(name) + " must be float32 or float64, got dtype " +
              std::string(py::str(a.dtype())));
}

// a: C-contiguous, same dtype kind as `kind`, ndim in [lo, hi], writeable if `out`.
inline void check_array(const std::string& op, const char* name, const py::array& a, int kind,
                        int lo, int hi, bool out) {
  if (float_kind(op, name, a) != kind)
    bad(op, std::string(name) + " has dtype " + std::string(py::str(a.dtype())) +
                ", the other arrays have another float dtype");
  if (!(a.flags() & py::array::c_style))
    bad(op, std::string(name) + " must be C-contiguous (shape " + shape_str(a) + ")");
  if (a.ndim() < lo || a.ndim() > hi)
    bad(op, std::string(name) + " must have " + std::to_string(lo) + " to " +
                std::to_string(hi) + " dimensions, got shape " + shape_str(a));
  if (out && !a.writeable()) bad(op, std::string(name) + " must be writeable");
}

// Geometry of a window over 3 spatial axes (1-2 axis problems padded with size-1 axes).
struct Geo {
  idx in[3], out[3], k[3], s[3], d[3], p[3];
  idx in_size() const { return in[0] * in[1] * in[2]; }
  idx out_size() const { return out[0] * out[1] * out[2]; }
  idx k_size() const { return k[0] * k[1] * k[2]; }
};

// Geo from the spatial shapes of the input and output and per-axis tuples (all of length
// nd = 1..3; d may be empty for pooling, meaning 1).
inline Geo make_geo(const std::string& op, const std::vector<idx>& in,
                    const std::vector<idx>& out, const std::vector<idx>& k,
                    const std::vector<idx>& s, const std::vector<idx>& d,
                    const std::vector<idx>& p) {
  const size_t nd = in.size();
  if (nd < 1 || nd > 3 || out.size() != nd || k.size() != nd || s.size() != nd ||
      p.size() != nd || (!d.empty() && d.size() != nd))
    bad(op, "spatial shapes, kernel, stride, dilate and pad must all have 1-3 entries, "
            "the same number");
  Geo g;
  const size_t lead = 3 - nd;
  for (size_t a = 0; a < 3; ++a) {
    bool real = a >= lead;
    size_t j = a - lead;
    g.in[a] = real ? in[j] : 1;
    g.out[a] = real ? out[j] : 1;
    g.k[a] = real ? k[j] : 1;
    g.s[a] = real ? s[j] : 1;
    g.d[a] = real && !d.empty() ? d[j] : 1;
    g.p[a] = real ? p[j] : 0;
    if (g.in[a] < 1 || g.out[a] < 1 || g.k[a] < 1 || g.s[a] < 1 || g.d[a] < 1 || g.p[a] < 0)
      bad(op, "sizes, kernel, stride and dilate must be >= 1 and pad >= 0");
  }
  return g;
}

// Spatial shape (axes 2..) of a as a vector.
inline std::vector<idx> spatial(const py::array& a) {
  std::vector<idx> v;
  for (py::ssize_t i = 2; i < a.ndim(); ++i) v.push_back(a.shape(i));
  return v;
}

// The output positions o in [lo, hi) of one axis whose input position o*s + off lies in
// [0, n): (lo, hi) with lo <= hi, both within [0, out).
inline void valid_range(idx out, idx s, idx off, idx n, idx* lo, idx* hi) {
  idx l = off >= 0 ? 0 : (-off + s - 1) / s;
  idx h = n - off <= 0 ? 0 : (n - off + s - 1) / s;
  if (h > out) h = out;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
}

// One kernel position: per axis, the output positions [lo, hi) whose input position
// o*s + off lies inside the input.
struct Span {
  idx lo[3], hi[3], off[3];
  bool empty() const { return lo[0] == hi[0] || lo[1] == hi[1] || lo[2] == hi[2]; }
};

// The spans of every kernel position, row-major (computed once per call: the divisions
// in valid_range cost more than a small run's copy).
inline std::vector<Span> kernel_spans(const Geo& g) {
  std::vector<Span> out;
  idx kk[3];
  for (kk[0] = 0; kk[0] < g.k[0]; ++kk[0])
    for (kk[1] = 0; kk[1] < g.k[1]; ++kk[1])
      for (kk[2] = 0; kk[2] < g.k[2]; ++kk[2]) {
        Span sp;
        for (int a = 0; a < 3; ++a) {
          sp.off[a] = kk[a] * g.d[a] - g.p[a];
          valid_range(g.out[a], g.s[a], sp.off[a], g.in[a], &sp.lo[a], &sp.hi[a]);
        }
        out.push_back(sp);
      }
  return out;
}

// Calls fn(kid, span) for every kernel position of `spans`, row-major.
template <typename Fn>
inline void for_kernel(const std::vector<Span>& spans, Fn fn) {
  const idx K = static_cast<idx>(spans.size());
  for (idx kid = 0; kid < K; ++kid) fn(kid, spans[kid]);
}

// ---- Short rows ----------------------------------------------------------------------
// im2col / col2im / pooling move rows of output width, often only 4-24 elements (LeNet:
// 8 and 24).  Element loops cost their alias checks, scalar prologue/epilogue and loop
// branches on every row, and GCC turns copy/zero loops into memcpy/memset CALLS (~10 ns
// each, even for 0 bytes): ~5x off memory bandwidth, measured.  So a row of L bytes is
// moved as fixed-size blocks the compiler expands inline: two (possibly overlapping)
// blocks of the largest power of two <= L up to 32 bytes (both write the same bytes where
// they overlap), or for longer rows 32-byte blocks and an overlapping last block.  The
// size class is the same for every row of a call, so the row loops are instantiated per
// class (RowClass) and the class is picked once per run (with_row_class).
enum RowClass { kRow4 = 0, kRow8, kRow16, kRow32, kRowLong };

// Size class of a row of `bytes` bytes (>= 4; 0-3 bytes never occur for float/double).
inline int row_class(idx bytes) {
  return bytes < 8 ? kRow4 : bytes < 16 ? kRow8 : bytes <= 32 ? kRow16 : bytes <= 64 ? kRow32
                                                                                   : kRowLong;
}

// Calls fn(std::integral_constant<int, class>) for the class of `bytes`.
template <typename Fn>
inline void with_row_class(idx bytes, Fn fn) {
  switch (row_class(bytes)) {
    case kRow4: return fn(std::integral_constant<int, kRow4>());
    case kRow8: return fn(std::integral_constant<int, kRow8>());
    case kRow16: return fn(std::integral_constant<int, kRow16>());
    case kRow32: return fn(std::integral_constant<int, kRow32>());
    default: return fn(std::integral_constant<int, kRowLong>());
  }
}

template <int B>
inline void copy_block(char* d, const char* s) { std::memcpy(d, s, B); }

// d[0:L) = s[0:L), L bytes in class Cls.
template <int Cls>
inline void copy_bytes(char* __restrict d, const char* __restrict s, idx L) {
  constexpr int B = Cls == kRow4 ? 4 : Cls == kRow8 ? 8 : Cls == kRow16 ? 16 : 32;
  if (Cls == kRowLong)
    for (idx o = 0; o + B < L; o += B) copy_block<B>(d + o, s + o);
  else
    copy_block<B>(d, s);
  copy_block<B>(d + L - B, s + L - B);
}

// d[0:L) = 0, L bytes in class Cls.
template <int Cls>
inline void zero_bytes(char* d, idx L) {
  constexpr int B = Cls == kRow4 ? 4 : Cls == kRow8 ? 8 : Cls == kRow16 ? 16 : 32;
  if (Cls == kRowLong)
    for (idx o = 0; o + B < L; o += B) std::memset(d + o, 0, B);
  else
    std::memset(d, 0, B);
  std::memset(d + L - B, 0, B);
}

// 16-byte vectors of float / double (GCC/Clang vector extension; SSE2 registers).
template <typename T> struct Vec16;
template <> struct Vec16<float> { typedef float type __attribute__((vector_size(16))); };
template <> struct Vec16<double> { typedef double type __attribute__((vector_size(16))); };

// d[0:n) += s[0:n), n*sizeof(T) bytes in class Cls.  Each element gets exactly one
// d + s (the same rounding as an element loop): the last, overlapping vector is loaded
// and summed before any store, so where it overlaps it stores the same sums again.
template <int Cls, typename T>
inline void add_elems(T* __restrict d, const T* __restrict s, idx n) {
  if (Cls == kRow4 || Cls == kRow8) {
    for (idx o = 0; o < n; ++o) d[o] += s[o];
    return;
  }
  typedef typename Vec16<T>::type V;
  constexpr idx E = 16 / sizeof(T);
  V a, b;
  std::memcpy(&a, d + n - E, 16);
  std::memcpy(&b, s + n - E, 16);
  const V last = a + b;
  for (idx o = 0; o + E < n; o += E) {
    std::memcpy(&a, d + o, 16);
    std::memcpy(&b, s + o, 16);
    a += b;
    std::memcpy(d + o, &a, 16);
  }
  std::memcpy(d + n - E, &last, 16);
}

// Generic (any length, including 0) copy and zero fill of n elements, for the few rows
// whose class differs from their neighbours' (padding edges).
template <typename T>
inline void copy_elems(T* d, const T* s, idx n) {
  if (n > 0)
    with_row_class(n * sizeof(T), [&](auto c) {
      copy_bytes<decltype(c)::value>(reinterpret_cast<char*>(d),
                                     reinterpret_cast<const char*>(s), n * sizeof(T));
    });
}

template <typename T>
inline void zero_elems(T* d, idx n) {
  if (n > 0)
    with_row_class(n * sizeof(T), [&](auto c) {
      zero_bytes<decltype(c)::value>(reinterpret_cast<char*>(d), n * sizeof(T));
    });
}

}  // namespace window
}  // namespace plait
