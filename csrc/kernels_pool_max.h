// Max pooling over disjoint complete windows ("tiled": stride == kernel, no padding) for
// kernels_pool.cc: the forward folded in the xp path's order and the first-maximum
// gradient, scalar for any window and on 16-byte vectors for 2x2 windows (LeNet's pools).
#pragma once

#include <algorithm>
#include <cstring>
#include <limits>

#include "kernels_window.h"

// The 2x2 vector kernels need __builtin_shufflevector (GCC >= 12, Clang); without it they
// fall back to the scalar ones (same results).
#if defined(__has_builtin) && !defined(PLAIT_NO_POOL_MAX_VECTORS)
#if __has_builtin(__builtin_shufflevector)
#define PLAIT_POOL_MAX_VECTORS 1
#endif
#endif

namespace plait {
namespace pool_max {

using window::Geo;
using window::idx;

// np.maximum: NaN if either is NaN.
template <typename T>
inline T nan_max(T m, T v) { return (m > v || m != m) ? m : v; }  // ties (+0, -0): v, as numpy

// Max over disjoint complete windows (KW: the kernel width at compile time for the common
// 2 and 3, else 0 and g.k[2]), folded in the xp path's order (nn_pool._tiled_forward:
// one window axis at a time, outermost first), which decides which of +0/-0 or of two
// NaNs comes out.
template <typename T, int KW>
void tiled_max_plane(const T* x, T* y, const Geo& g) {
  const idx kw_n = KW ? KW : g.k[2], IH = g.in[1], IW = g.in[2], OW = g.out[2];
  const T ninf = -std::numeric_limits<T>::infinity();
  for (idx od = 0; od < g.out[0]; ++od)
    for (idx oh = 0; oh < g.out[1]; ++oh) {
      T* yr = y + (od * g.out[1] + oh) * OW;
      const T* base = x + ((od * g.k[0]) * IH + oh * g.k[1]) * IW;
      for (idx ow = 0; ow < OW; ++ow) {
        T acc_w = ninf;
        for (idx kw = 0; kw < kw_n; ++kw) {
          T acc_h = ninf;
          for (idx kh = 0; kh < g.k[1]; ++kh) {
            const T* q = base + kh * IW + ow * kw_n + kw;
            T acc_d = ninf;
            for (idx kd = 0; kd < g.k[0]; ++kd) acc_d = nan_max(acc_d, q[kd * IH * IW]);
            acc_h = nan_max(acc_h, acc_d);
          }
          acc_w = nan_max(acc_w, acc_h);
        }
        yr[ow] = acc_w;
      }
    }
}

// Max gradient over disjoint complete 2-d KHxKW windows (compile-time sizes) of one depth
// slice: a whole window in registers, no taken-array round trips.
template <typename T, int KH, int KW>
void tiled_max_backward_2d(const T* gy, const T* x, const T* y, T* dx, const Geo& g) {
  const idx IW = g.in[2], OW = g.out[2];
  if (g.out[1] * KH != g.in[1] || OW * KW != IW) std::fill(dx, dx + g.in[1] * IW, T(0));
  for (idx oh = 0; oh < g.out[1]; ++oh) {
    const T* xr = x + oh * KH * IW;
    T* dr = dx + oh * KH * IW;
    const T* yr = y + oh * OW;
    const T* gr = gy + oh * OW;
    for (idx ow = 0; ow < OW; ++ow) {
      const T yj = yr[ow], v = gr[ow];
      bool t = false;
      for (int kh = 0; kh < KH; ++kh)
        for (int kw = 0; kw < KW; ++kw) {
          const idx at = kh * IW + ow * KW + kw;
          const bool hit = !t & (xr[at] == yj);
          t |= hit;
          dr[at] = v * static_cast<T>(hit);  // g*hit, as the xp path
        }
    }
  }
}

// The 2x2 case of tiled_max_backward_2d (LeNet, VGG, ResNet-style downsampling) on
// 16-byte vectors holding 2 windows (float) or 1 (double) of one input row: e0/e1 are the
// equality masks of the window's top/bottom row, swap_pairs puts each lane's window
// neighbour next to it, so the first-maximum rule (row-major: a, b, c, d) is a few mask
// operations; the gradient is still g * 1.0 or g * 0.0, bit for bit the scalar code.
template <typename T>
void tiled_max_backward_2x2(const T* gy, const T* x, const T* y, T* dx, const Geo& g) {
#ifndef PLAIT_POOL_MAX_VECTORS
  return tiled_max_backward_2d<T, 2, 2>(gy, x, y, dx, g);
#else
  typedef typename window::Vec16<T>::type V;
  typedef decltype(V{} == V{}) M;
  constexpr int E = 16 / sizeof(T), W = E / 2;  // lanes, windows per vector
  const idx IW = g.in[2], OW = g.out[2];
  if (g.out[1] * 2 != g.in[1] || OW * 2 != IW) std::fill(dx, dx + g.in[1] * IW, T(0));
  const M ones = (M)(V{} + T(1));  // vector casts reinterpret the bits
  M odd;  // -1 on the second lane of every window
  auto swap_pairs = [](M m) {
    if constexpr (E == 4) return __builtin_shufflevector(m, m, 1, 0, 3, 2);
    else return __builtin_shufflevector(m, m, 1, 0);
  };
  auto pairs = [](const T* p) {  // (p[0], p[0], p[1], p[1]) or (p[0], p[0])
    if constexpr (E == 4) {
      typedef T V2 __attribute__((vector_size(2 * sizeof(T))));
      V2 t;
      std::memcpy(&t, p, sizeof(t));
      return __builtin_shufflevector(t, t, 0, 0, 1, 1);
    } else {
      return V{} + p[0];
    }
  };
  if constexpr (E == 4) odd = M{0, -1, 0, -1};
  else odd = M{0, -1};
  for (idx oh = 0; oh < g.out[1]; ++oh) {
    const T* x0 = x + oh * 2 * IW;
    const T* x1 = x0 + IW;
    T* d0 = dx + oh * 2 * IW;
    T* d1 = d0 + IW;
    const T* yr = y + oh * OW;
    const T* gr = gy + oh * OW;
    idx ow = 0;
    for (; ow + W <= OW; ow += W) {
      V a, b;
      std::memcpy(&a, x0 + 2 * ow, 16);
      std::memcpy(&b, x1 + 2 * ow, 16);
      const V yv = pairs(yr + ow), gv = pairs(gr + ow);
      const M e0 = a == yv, e1 = b == yv;
      const M h0 = e0 & ~(swap_pairs(e0) & odd);
      const M h1 = e1 & ~(e0 | swap_pairs(e0)) & ~(swap_pairs(e1) & odd);
      const V r0 = gv * (V)(h0 & ones);
      const V r1 = gv * (V)(h1 & ones);
      std::memcpy(d0 + 2 * ow, &r0, 16);
      std::memcpy(d1 + 2 * ow, &r1, 16);
    }
    for (; ow < OW; ++ow) {  // the last window of an odd row (float)
      const T yj = yr[ow], v = gr[ow];
      bool t = false;
      for (int kh = 0; kh < 2; ++kh)
        for (int kw = 0; kw < 2; ++kw) {
          const idx at = kh * IW + ow * 2 + kw;
          const bool hit = !t & (x0[at] == yj);
          t |= hit;
          d0[at] = v * static_cast<T>(hit);
        }
    }
  }
#endif
}

// Max over disjoint complete 2x2 windows of 2-d data on 16-byte vectors, 4 (float) or 2
// (double) windows at a time: the window's elements a, b (top row), c, d (bottom row) are
// de-interleaved into one vector each and folded in tiled_max_plane's (the xp path's)
// order, nan_max(nan_max(a, c), nan_max(b, d)), as bit patterns.
template <typename T>
void tiled_max_2x2(const T* x, T* y, const Geo& g) {
#ifndef PLAIT_POOL_MAX_VECTORS
  return tiled_max_plane<T, 2>(x, y, g);
#else
  typedef typename window::Vec16<T>::type V;
  typedef decltype(V{} == V{}) M;
  constexpr int E = 16 / sizeof(T);
  const idx IW = g.in[2], OW = g.out[2];
  auto evens = [](V p, V q) {
    if constexpr (E == 4) return __builtin_shufflevector(p, q, 0, 2, 4, 6);
    else return __builtin_shufflevector(p, q, 0, 2);
  };
  auto odds = [](V p, V q) {
    if constexpr (E == 4) return __builtin_shufflevector(p, q, 1, 3, 5, 7);
    else return __builtin_shufflevector(p, q, 1, 3);
  };
  auto vmax = [](V m, V v) {  // nan_max lane by lane
    const M keep = (m > v) | (m != m);
    return (V)(((M)m & keep) | ((M)v & ~keep));  // vector casts reinterpret the bits
  };
  for (idx oh = 0; oh < g.out[1]; ++oh) {
    const T* x0 = x + oh * 2 * IW;
    const T* x1 = x0 + IW;
    T* yr = y + oh * OW;
    idx ow = 0;
    for (; ow + E <= OW; ow += E) {
      V p0, q0, p1, q1;
      std::memcpy(&p0, x0 + 2 * ow, 16);
      std::memcpy(&q0, x0 + 2 * ow + E, 16);
      std::memcpy(&p1, x1 + 2 * ow, 16);
      std::memcpy(&q1, x1 + 2 * ow + E, 16);
      const V m = vmax(vmax(evens(p0, q0), evens(p1, q1)), vmax(odds(p0, q0), odds(p1, q1)));
      std::memcpy(yr + ow, &m, 16);
    }
    for (; ow < OW; ++ow)
      yr[ow] = nan_max(nan_max(x0[2 * ow], x1[2 * ow]), nan_max(x0[2 * ow + 1], x1[2 * ow + 1]));
  }
#endif
}

}  // namespace pool_max
}  // namespace plait
