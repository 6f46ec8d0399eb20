// Activation kernels (core/ops/nn_act.py): relu forward/backward and the LeakyReLU family,
// one pass each over contiguous data, split over the kernel pool.  Included by
// kernels_nn.cc, which registers them.
#pragma once

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels_nn_args.h"
#include "parallel.h"

namespace plait {
namespace nn_act {

using namespace nn_args;  // NOLINT: bad, check_*, Layout, cptr/mptr
constexpr idx kGrain = idx(1) << 16;  // elements per parallel chunk at least

// -- ReLU forward / backward -----------------------------------------------------------------
inline void relu_forward(py::array x, py::array out) {
  const char* op = "relu";
  const bool f32 = is_f32(x, op);
  check_array(op, "data", x, x);
  check_array(op, "out", out, x, true);
  check_same_shape(op, "out", out, x);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T* px = cptr<T>(x);
    T* po = mptr<T>(out);
    py::gil_scoped_release nogil;
    parallel_for(x.size(), kGrain, [&](idx b, idx e) {
      for (idx i = b; i < e; ++i) po[i] = px[i] < T(0) ? T(0) : px[i];  // nan stays nan
    });
  };
  if (f32) run(float()); else run(double());
}

// An element-wise kernel of two same-shape, same-dtype float arrays a (named an; its dtype
// decides) and b into out, checked: body(pa, pb, po, lo, hi) on chunks [lo, hi), no GIL.
template <typename Body>
void binary_map(const char* op, const char* an, py::array a, const char* bn, py::array b,
                py::array out, Body body) {
  const bool f32 = is_f32(a, op);
  check_array(op, an, a, a);
  check_array(op, bn, b, a);
  check_same_shape(op, bn, b, a);
  check_array(op, "out", out, a, true);
  check_same_shape(op, "out", out, a);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T *pa = cptr<T>(a), *pb = cptr<T>(b);
    T* po = mptr<T>(out);
    py::gil_scoped_release nogil;
    parallel_for(a.size(), kGrain, [&](idx lo, idx hi) { body(pa, pb, po, lo, hi); });
  };
  if (f32) run(float()); else run(double());
}

// out = max(a + b, 0): a residual sum and its relu in one pass (the _add_relu op that
// hybridized graphs fuse elemwise_add + relu into).
inline void add_relu(py::array a, py::array b, py::array out) {
  binary_map("_add_relu", "lhs", a, "rhs", b, out,
             [](auto pa, auto pb, auto po, idx lo, idx hi) {
               for (idx i = lo; i < hi; ++i) {
                 const auto v = pa[i] + pb[i];
                 po[i] = v < 0 ? decltype(v)(0) : v;  // nan stays nan
               }
             });
}

// gx = gy * (x > 0): a product, so nan/inf in gy behave as in the NumPy code.
// GCC if-converts (and so vectorizes) a select whose arm may raise an FP flag only
// without -ftrapping-math; nothing here reads the FP flags, so results are unchanged.
#if defined(__GNUC__) && !defined(__clang__)
#define PLAIT_NO_TRAPPING_MATH __attribute__((optimize("no-trapping-math")))
#else
#define PLAIT_NO_TRAPPING_MATH
#endif

// gx = gy * (x > 0 ? 1 : slope): a product, so nan/inf in gy behave as in the NumPy code.
template <typename T>
PLAIT_NO_TRAPPING_MATH void scale_grad(const T* g, const T* x, T* out, idx n, T slope) {
  for (idx i = 0; i < n; ++i) {
    const T f = x[i] > T(0) ? T(1) : slope;
    out[i] = g[i] * f;
  }
}

// relu's (slope 0) and leaky relu's gradient; out may be ograd.
inline void relu_backward(py::array gy, py::array x, py::array gx, double slope) {
  binary_map(slope == 0.0 ? "_backward_relu" : "_backward_leaky", "data", x, "ograd", gy, gx,
             [slope](auto px, auto pg, auto po, idx b, idx e) {
               using T = std::remove_pointer_t<decltype(po)>;
               scale_grad(pg + b, px + b, po + b, e - b, static_cast<T>(slope));
             });
}

// q = p > 0 ? p : p * s, as p * (1 or s) (p * 1 == p).
template <typename T>
PLAIT_NO_TRAPPING_MATH void scale_negatives(const T* p, T* q, idx n, T s) {
  for (idx i = 0; i < n; ++i) {
    const T f = p[i] > T(0) ? T(1) : s;
    q[i] = p[i] * f;
  }
}

template <typename T>
void leaky_loop(const T* x, T* out, int kind, T s, T s2, const T* gamma, const Layout& L) {
  const idx n = L.outer * L.c * L.inner;
  if (kind == 1 && gamma) {  // per channel
    parallel_for(L.outer * L.c, std::max<idx>(1, kGrain / std::max<idx>(1, L.inner)),
                 [&](idx b, idx e) {
                   for (idx r = b; r < e; ++r)
                     scale_negatives(x + r * L.inner, out + r * L.inner, L.inner,
                                     gamma[r % L.c]);
                 });
    return;
  }
  parallel_for(n, kGrain, [&](idx b, idx e) {
    if (kind <= 1) {
      scale_negatives(x + b, out + b, e - b, s);
    } else if (kind == 2) {
      for (idx i = b; i < e; ++i) {
        const T v = x[i];
        out[i] = v > T(0) ? v : s * std::expm1(std::min(v, T(0)));
      }
    } else {
      for (idx i = b; i < e; ++i) {
        const T v = x[i];
        out[i] = s2 * (v > T(0) ? v : s * std::expm1(std::min(v, T(0))));
      }
    }
  });
}

inline void leaky_forward(py::array x, py::array out, int kind, double slope, double scale,
                   py::object gamma) {
  const char* op = "LeakyReLU";
  const bool f32 = is_f32(x, op);
  check_array(op, "data", x, x);
  check_array(op, "out", out, x, true);
  check_same_shape(op, "out", out, x);
  if (kind < 0 || kind > 3) bad(op, "unknown kind " + std::to_string(kind));
  Layout L = x.ndim() >= 2 ? layout_of(op, x, 1) : layout_of(op, x, 0);
  py::array g;
  if (kind == 1) {
    if (gamma.is_none()) bad(op, "prelu needs gamma");
    g = gamma.cast<py::array>();
    check_array(op, "gamma", g, x);
    if (g.ndim() != 1 || (g.shape(0) != L.c && g.shape(0) != 1))
      bad(op, "gamma has shape " + shape_str(g) + ", expected (" + std::to_string(L.c) +
                  ",) or (1,) for data of shape " + shape_str(x));
  }
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T* px = cptr<T>(x);
    T* po = mptr<T>(out);
    const T* pg = kind == 1 ? cptr<T>(g) : nullptr;
    T s = static_cast<T>(slope);
    if (kind == 1 && g.shape(0) == 1) { s = pg[0]; pg = nullptr; }
    py::gil_scoped_release nogil;
    leaky_loop<T>(px, po, kind, s, static_cast<T>(scale), pg, L);
  };
  if (f32) run(float()); else run(double());
}

}  // namespace nn_act
}  // namespace plait
