// The 1-d transforms of Winograd F(4x4, 3x3) (kernels_winograd.cc), each on n independent
// lanes.  B, G and A are the F(4, 3) matrices of Lavin & Gray (2016), points 0, +-1, +-2.
#pragma once

#include <cstddef>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WINO_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define WINO_CLONES
#endif

namespace plait {
namespace wino {

using idx = std::ptrdiff_t;

#define WR __restrict__
#define WINO_INLINE inline __attribute__((always_inline))

// The 1-d transforms, each on n independent lanes: lane j reads in[j], in[si + j], ...
// and writes out[j], out[so + j], ...  The lanes are columns of a strip, tiles of a plane
// or filters of a block; the loops vectorise because every row is its own __restrict__
// pointer (with one base pointer and strides, GCC must assume the rows overlap).
template <typename T>
WINO_INLINE void bt6_lanes(const T* WR i0, const T* WR i1, const T* WR i2, const T* WR i3,
                           const T* WR i4, const T* WR i5, T* WR o0, T* WR o1, T* WR o2,
                           T* WR o3, T* WR o4, T* WR o5, idx n) {
  for (idx j = 0; j < n; ++j) {
    const T v0 = i0[j], v1 = i1[j], v2 = i2[j], v3 = i3[j], v4 = i4[j], v5 = i5[j];
    o0[j] = 4 * v0 - 5 * v2 + v4;
    o1[j] = -4 * (v1 + v2) + v3 + v4;
    o2[j] = 4 * (v1 - v2) - v3 + v4;
    o3[j] = 2 * (v3 - v1) - v2 + v4;
    o4[j] = 2 * (v1 - v3) - v2 + v4;
    o5[j] = 4 * v1 - 5 * v3 + v5;
  }
}

// B^T: 6 values -> 6.
template <typename T>
WINO_INLINE void bt6(const T* in, idx si, T* out, idx so, idx n) {
  bt6_lanes(in, in + si, in + 2 * si, in + 3 * si, in + 4 * si, in + 5 * si, out, out + so,
            out + 2 * so, out + 3 * so, out + 4 * so, out + 5 * so, n);
}

template <typename T>
WINO_INLINE void at6_lanes(const T* WR i0, const T* WR i1, const T* WR i2, const T* WR i3,
                           const T* WR i4, const T* WR i5, T* WR o0, T* WR o1, T* WR o2,
                           T* WR o3, idx n, T add) {
  for (idx j = 0; j < n; ++j) {
    const T v0 = i0[j], v5 = i5[j];
    const T p1 = i1[j] + i2[j], m1 = i1[j] - i2[j], p2 = i3[j] + i4[j], m2 = i3[j] - i4[j];
    o0[j] = v0 + p1 + p2 + add;
    o1[j] = m1 + 2 * m2 + add;
    o2[j] = p1 + 4 * p2 + add;
    o3[j] = m1 + 8 * m2 + v5 + add;
  }
}

// A^T: 6 values -> 4 (+ add).
template <typename T>
WINO_INLINE void at6(const T* in, idx si, T* out, idx so, idx n, T add) {
  at6_lanes(in, in + si, in + 2 * si, in + 3 * si, in + 4 * si, in + 5 * si, out, out + so,
            out + 2 * so, out + 3 * so, n, add);
}

template <typename T>
WINO_INLINE void a4_lanes(const T* WR i0, const T* WR i1, const T* WR i2, const T* WR i3,
                          T* WR o0, T* WR o1, T* WR o2, T* WR o3, T* WR o4, T* WR o5, idx n) {
  for (idx j = 0; j < n; ++j) {
    const T y0 = i0[j], y1 = i1[j], y2 = i2[j], y3 = i3[j];
    o0[j] = y0;
    o1[j] = y0 + y1 + y2 + y3;
    o2[j] = y0 - y1 + y2 - y3;
    o3[j] = y0 + 2 * y1 + 4 * y2 + 8 * y3;
    o4[j] = y0 - 2 * y1 + 4 * y2 - 8 * y3;
    o5[j] = y3;
  }
}

// A (the transpose of A^T): 4 values -> 6.
template <typename T>
WINO_INLINE void a4(const T* in, idx si, T* out, idx so, idx n) {
  a4_lanes(in, in + si, in + 2 * si, in + 3 * si, out, out + so, out + 2 * so, out + 3 * so,
           out + 4 * so, out + 5 * so, n);
}

template <typename T>
WINO_INLINE void g3_lanes(const T* WR i0, const T* WR i1, const T* WR i2, T* WR o0, T* WR o1,
                          T* WR o2, T* WR o3, T* WR o4, T* WR o5, idx n) {
  const T s6 = T(1) / 6, s12 = T(1) / 12, s24 = T(1) / 24;
  for (idx j = 0; j < n; ++j) {
    const T g0 = i0[j], g1 = i1[j], g2 = i2[j];
    o0[j] = g0 / 4;
    o1[j] = -(g0 + g1 + g2) * s6;
    o2[j] = -(g0 - g1 + g2) * s6;
    o3[j] = g0 * s24 + g1 * s12 + g2 * s6;
    o4[j] = g0 * s24 - g1 * s12 + g2 * s6;
    o5[j] = g2;
  }
}

// G: 3 values -> 6.
template <typename T>
WINO_INLINE void g3(const T* in, idx si, T* out, idx so, idx n) {
  g3_lanes(in, in + si, in + 2 * si, out, out + so, out + 2 * so, out + 3 * so, out + 4 * so,
           out + 5 * so, n);
}

template <typename T>
WINO_INLINE void gt6_lanes(const T* WR i0, const T* WR i1, const T* WR i2, const T* WR i3,
                           const T* WR i4, const T* WR i5, T* WR o0, T* WR o1, T* WR o2,
                           idx n) {
  const T s6 = T(1) / 6, s12 = T(1) / 12, s24 = T(1) / 24;
  for (idx j = 0; j < n; ++j) {
    const T u0 = i0[j], u1 = i1[j], u2 = i2[j], u3 = i3[j], u4 = i4[j], u5 = i5[j];
    o0[j] = u0 / 4 - (u1 + u2) * s6 + (u3 + u4) * s24;
    o1[j] = (u2 - u1) * s6 + (u3 - u4) * s12;
    o2[j] = (u3 + u4 - u1 - u2) * s6 + u5;
  }
}

// G^T (the transpose of G): 6 values -> 3.
template <typename T>
WINO_INLINE void gt6(const T* in, idx si, T* out, idx so, idx n) {
  gt6_lanes(in, in + si, in + 2 * si, in + 3 * si, in + 4 * si, in + 5 * si, out, out + so,
            out + 2 * so, n);
}

}  // namespace wino
}  // namespace plait
