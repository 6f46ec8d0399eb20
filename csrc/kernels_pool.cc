// Compiled max/avg/sum pooling and their gradients (core/ops/nn_pool.py), one (image,
// channel) plane per parallel item, giving the xp path's results bit for bit:
// - windows may reach into the padding (and past it, for pooling_convention 'full'); a
//   padding position holds -inf for max and 0 for avg/sum, as the xp path's padded copy;
// - max propagates NaN and of equal +0/-0 keeps the later one (as np.maximum), folding in
//   the xp path's order (so the same zero or NaN comes out); its gradient goes to the
//   FIRST position of the window (row-major, padding included) equal to the output, and
//   every other position gets out_grad*0 (so a non-finite out_grad spreads NaN exactly as
//   the xp path's g*hit);
// - sums run in the xp path's order: row-major over kernel positions for general windows,
//   and for disjoint windows ("tiled": stride == kernel, no pad) one window axis at a time,
//   outermost first, as nn_pool._tiled_forward; gradients accumulate per kernel position
//   (offset-major), as the xp path's one-slice-add-per-offset loop;
// - avg divides by the window clipped to the padded input (include_pad) or to the input.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels_pool_max.h"
#include "kernels_window.h"
#include "parallel.h"

namespace plait {
namespace {

namespace py = pybind11;
using window::Geo;
using window::idx;
using window::Span;
using window::for_kernel;
using pool_max::nan_max;
using pool_max::tiled_max_2x2;
using pool_max::tiled_max_backward_2d;
using pool_max::tiled_max_backward_2x2;
using pool_max::tiled_max_plane;

enum Kind { kMax = 0, kAvg = 1, kSum = 2 };

constexpr idx kGrainElems = 1 << 14;

// Per axis and output position: the avg divisor factor (nn_pool._divisor) and whether the
// window reaches outside the input (into padding).
struct AxisInfo {
  std::vector<idx> div[3];
  std::vector<char> pads[3];
  std::vector<Span> spans;  // of every kernel position
  AxisInfo(const Geo& g, bool include_pad) : spans(window::kernel_spans(g)) {
    for (int a = 0; a < 3; ++a) {
      for (idx o = 0; o < g.out[a]; ++o) {
        const idx start = o * g.s[a] - g.p[a];
        const idx end = std::min(start + g.k[a], g.in[a] + g.p[a]);
        div[a].push_back(include_pad ? end - start
                                     : std::min(end, g.in[a]) - std::max<idx>(start, 0));
        pads[a].push_back(start < 0 || start + g.k[a] > g.in[a]);
      }
    }
  }
  template <typename Fn>  // fn(flat output index, od, oh, ow)
  static void each(const Geo& g, Fn fn) {
    idx j = 0;
    for (idx od = 0; od < g.out[0]; ++od)
      for (idx oh = 0; oh < g.out[1]; ++oh)
        for (idx ow = 0; ow < g.out[2]; ++ow, ++j) fn(j, od, oh, ow);
  }
};

// Calls fn(output row pointer offset j0, input row offset, span) for every output row of
// a kernel position that lies (partly) inside the input.
template <typename Fn>
inline void each_row(const Geo& g, const Span& sp, Fn fn) {
  if (sp.empty()) return;
  for (idx od = sp.lo[0]; od < sp.hi[0]; ++od)
    for (idx oh = sp.lo[1]; oh < sp.hi[1]; ++oh)
      fn((od * g.out[1] + oh) * g.out[2],
         ((od * g.s[0] + sp.off[0]) * g.in[1] + oh * g.s[1] + sp.off[1]) * g.in[2] + sp.off[2]);
}

// Gradient over disjoint complete windows, a row of windows at a time: each input element
// is written once; max's first maximum is found row-major through the window.
template <typename T, int KW>
void tiled_backward_plane(const T* gy, const T* x, const T* y, T* dx, const Geo& g, int kind,
                          std::vector<char>& taken, std::vector<T>& scaled) {
  const idx kw_n = KW ? KW : g.k[2], IH = g.in[1], IW = g.in[2], OW = g.out[2];
  if (g.out[0] * g.k[0] != g.in[0] || g.out[1] * g.k[1] != IH || OW * kw_n != IW)
    std::fill(dx, dx + g.in_size(), T(0));  // the tail no window covers
  taken.resize(OW);
  scaled.resize(OW);
  for (idx od = 0; od < g.out[0]; ++od)
    for (idx oh = 0; oh < g.out[1]; ++oh) {
      const idx j0 = (od * g.out[1] + oh) * OW;
      const T* gr = gy + j0;
      if (kind == kAvg) {
        for (idx ow = 0; ow < OW; ++ow) scaled[ow] = gr[ow] / T(g.k_size());
        gr = scaled.data();
      }
      std::fill(taken.begin(), taken.end(), 0);
      for (idx kd = 0; kd < g.k[0]; ++kd)
        for (idx kh = 0; kh < g.k[1]; ++kh) {
          const idx r = ((od * g.k[0] + kd) * IH + oh * g.k[1] + kh) * IW;
          const T* xr = x + r;
          T* dr = dx + r;
          for (idx ow = 0; ow < OW; ++ow) {
            const T v = gr[ow];
            if (kind != kMax) {
              for (idx kw = 0; kw < kw_n; ++kw) dr[ow * kw_n + kw] = v;
              continue;
            }
            const T yj = y[j0 + ow];
            bool t = taken[ow];
            for (idx kw = 0; kw < kw_n; ++kw) {
              const bool hit = !t & (xr[ow * kw_n + kw] == yj);
              t |= hit;
              dr[ow * kw_n + kw] = v * static_cast<T>(hit);  // g*hit, as the xp path
            }
            taken[ow] = t;
          }
        }
    }
}

template <typename T>
void tiled_backward(const T* gy, const T* x, const T* y, T* dx, const Geo& g, int kind,
                    std::vector<char>& taken, std::vector<T>& scaled) {
  if (kind == kMax && g.k[0] == 1 && (g.k[1] == 2 || g.k[1] == 3) && g.k[2] == g.k[1]) {
    // 2-d windows: one depth slice at a time (3-d data with kernel depth 1)
    const idx IP = g.in[1] * g.in[2], OP = g.out[1] * g.out[2];
    if (g.out[0] != g.in[0]) std::fill(dx, dx + g.in_size(), T(0));
    for (idx od = 0; od < g.out[0]; ++od) {
      if (g.k[1] == 2)
        tiled_max_backward_2x2<T>(gy + od * OP, x + od * IP, y + od * OP, dx + od * IP, g);
      else
        tiled_max_backward_2d<T, 3, 3>(gy + od * OP, x + od * IP, y + od * OP, dx + od * IP, g);
    }
  } else if (g.k[2] == 2) tiled_backward_plane<T, 2>(gy, x, y, dx, g, kind, taken, scaled);
  else if (g.k[2] == 3) tiled_backward_plane<T, 3>(gy, x, y, dx, g, kind, taken, scaled);
  else tiled_backward_plane<T, 0>(gy, x, y, dx, g, kind, taken, scaled);
}

template <typename T>
void forward_plane(const T* x, T* y, const Geo& g, const AxisInfo& ax, int kind, bool tiled) {
  const idx sw = g.s[2];
  // (float only: the double version measured 3x slower than tiled_max_plane)
  if (tiled && kind == kMax && sizeof(T) == 4 && g.out[0] == 1 && g.k[1] == 2 && g.k[2] == 2) {
    tiled_max_2x2(x, y, g);
    return;
  }
  if (tiled && kind == kMax) {
    if (g.k[2] == 2) tiled_max_plane<T, 2>(x, y, g);
    else if (g.k[2] == 3) tiled_max_plane<T, 3>(x, y, g);
    else tiled_max_plane<T, 0>(x, y, g);
    return;
  }
  if (tiled) {  // sums one window axis at a time, outermost first (no padding)
    const idx IH = g.in[1], IW = g.in[2];
    AxisInfo::each(g, [&](idx j, idx od, idx oh, idx ow) {
      const T* base = x + ((od * g.k[0]) * IH + oh * g.k[1]) * IW + ow * g.k[2];
      T acc = T(-0.0);
      for (idx kw = 0; kw < g.k[2]; ++kw) {
        T acc_h = T(-0.0);
        for (idx kh = 0; kh < g.k[1]; ++kh) {
          const T* q = base + kh * IW + kw;
          T acc_d = T(-0.0);
          for (idx kd = 0; kd < g.k[0]; ++kd) acc_d += q[kd * IH * IW];
          acc_h += acc_d;
        }
        acc += acc_h;
      }
      y[j] = kind == kAvg ? acc / T(g.k_size()) : acc;
    });
    return;
  }
  // Sums start at -0 (so x + ... is exact), or +0 when the window reads the zero padding.
  AxisInfo::each(g, [&](idx j, idx od, idx oh, idx ow) {
    y[j] = kind == kMax ? -std::numeric_limits<T>::infinity()
                        : (ax.pads[0][od] || ax.pads[1][oh] || ax.pads[2][ow] ? T(0) : T(-0.0));
  });
  for_kernel(ax.spans, [&](idx, const Span& sp) {
    each_row(g, sp, [&](idx j0, idx i0) {
      T* acc = y + j0;
      const T* in = x + i0;
      if (kind == kMax) {
        for (idx o = sp.lo[2]; o < sp.hi[2]; ++o) acc[o] = nan_max(acc[o], in[o * sw]);
      } else if (sw == 1) {
        for (idx o = sp.lo[2]; o < sp.hi[2]; ++o) acc[o] += in[o];
      } else {
        for (idx o = sp.lo[2]; o < sp.hi[2]; ++o) acc[o] += in[o * sw];
      }
    });
  });
  if (kind == kAvg)
    AxisInfo::each(g, [&](idx j, idx od, idx oh, idx ow) {
      y[j] /= T(ax.div[0][od] * ax.div[1][oh] * ax.div[2][ow]);
    });
}

// General gradient of a plane, one kernel position at a time over the output positions
// (the xp path's accumulation order).  Max: the first window position equal to the output
// takes the gradient; padding positions (-inf) can only be equal to a -inf output, so
// planes with one take the slow path that walks the padding too.
template <typename T>
void backward_plane(const T* gy, const T* x, const T* y, T* dx, const Geo& g,
                    const AxisInfo& ax, int kind, std::vector<char>& taken,
                    std::vector<T>& scaled) {
  const idx IH = g.in[1], IW = g.in[2], O = g.out_size(), sw = g.s[2];
  const T ninf = -std::numeric_limits<T>::infinity();
  std::fill(dx, dx + g.in_size(), T(0));
  const T* gv = gy;
  bool slow = false;
  if (kind == kMax) {
    taken.assign(O, 0);
    for (idx j = 0; j < O; ++j) slow |= y[j] == ninf;
  } else if (kind == kAvg) {
    scaled.resize(O);
    AxisInfo::each(g, [&](idx j, idx od, idx oh, idx ow) {
      scaled[j] = gy[j] / T(ax.div[0][od] * ax.div[1][oh] * ax.div[2][ow]);
    });
    gv = scaled.data();
  }
  if (!slow) {
    for_kernel(ax.spans, [&](idx, const Span& sp) {
      each_row(g, sp, [&](idx j0, idx i0) {
        T* d = dx + i0;
        const T* in = x + i0;
        for (idx o = sp.lo[2]; o < sp.hi[2]; ++o) {
          const idx j = j0 + o;
          if (kind == kMax) {
            const bool hit = !taken[j] & (in[o * sw] == y[j]);
            taken[j] |= hit;
            d[o * sw] += gv[j] * static_cast<T>(hit);
          } else {
            d[o * sw] += gv[j];
          }
        }
      });
    });
    return;
  }
  for_kernel(ax.spans, [&](idx, const Span& sp) {  // max with -inf outputs: every position
    AxisInfo::each(g, [&](idx j, idx od, idx oh, idx ow) {
      const idx id = od * g.s[0] + sp.off[0], ih = oh * g.s[1] + sp.off[1],
                iw = ow * sw + sp.off[2];
      const bool real = id >= 0 && id < g.in[0] && ih >= 0 && ih < IH && iw >= 0 && iw < IW;
      const idx pos = (id * IH + ih) * IW + iw;
      const bool hit = !taken[j] && (real ? x[pos] : ninf) == y[j];
      if (hit) taken[j] = 1;
      if (real) dx[pos] += gv[j] * static_cast<T>(hit);
    });
  });
}

struct PoolArgs {
  Geo g;
  int dtype;  // 0 float32, 1 float64
  int kind;   // Kind
  idx planes;
};

PoolArgs pool_args(const char* op, const py::array& x, const py::array& y,
                   const std::vector<idx>& k, const std::vector<idx>& s,
                   const std::vector<idx>& p, int pool_kind, bool tiled) {
  PoolArgs a;
  a.dtype = window::float_kind(op, "data", x);
  a.kind = pool_kind;
  window::check_array(op, "data", x, a.dtype, 3, 5, false);
  window::check_array(op, "output", y, a.dtype, 3, 5, false);
  if (y.ndim() != x.ndim() || y.shape(0) != x.shape(0) || y.shape(1) != x.shape(1))
    window::bad(op, "output " + window::shape_str(y) + " does not match data " +
                        window::shape_str(x) + " on (N, C) and rank");
  if (pool_kind < kMax || pool_kind > kSum)
    window::bad(op, "pool kind must be 0 (max), 1 (avg) or 2 (sum)");
  a.g = window::make_geo(op, window::spatial(x), window::spatial(y), k, s, {}, p);
  if (tiled)
    for (int i = 0; i < 3; ++i)
      if (a.g.s[i] != a.g.k[i] || a.g.p[i] || a.g.out[i] * a.g.k[i] > a.g.in[i])
        window::bad(op, "tiled pooling needs stride == kernel, no pad and complete windows");
  a.planes = x.shape(0) * x.shape(1);
  return a;
}

template <typename T>
void forward_all(const T* x, T* y, const PoolArgs& a, bool include_pad, bool tiled) {
  const idx IP = a.g.in_size(), O = a.g.out_size();
  const AxisInfo ax(a.g, include_pad);
  parallel_for(a.planes, std::max<idx>(1, kGrainElems / (IP + O)), [&](idx lo, idx hi) {
    for (idx q = lo; q < hi; ++q) forward_plane(x + q * IP, y + q * O, a.g, ax, a.kind, tiled);
  });
}

template <typename T>
void backward_all(const T* gy, const T* x, const T* y, T* dx, const PoolArgs& a,
                  bool include_pad, bool tiled) {
  const idx IP = a.g.in_size(), O = a.g.out_size();
  const AxisInfo ax(a.g, include_pad);
  parallel_for(a.planes, std::max<idx>(1, kGrainElems / (IP + O)), [&](idx lo, idx hi) {
    std::vector<char> taken;
    std::vector<T> scaled;
    for (idx q = lo; q < hi; ++q) {
      if (tiled)
        tiled_backward(gy + q * O, x + q * IP, y + q * O, dx + q * IP, a.g, a.kind, taken, scaled);
      else
        backward_plane(gy + q * O, x + q * IP, y + q * O, dx + q * IP, a.g, ax, a.kind, taken,
                       scaled);
    }
  });
}

void pool_forward(py::array x, py::array y, std::vector<idx> k, std::vector<idx> s,
                  std::vector<idx> p, int kind, bool include_pad, bool tiled) {
  PoolArgs a = pool_args("pool_forward", x, y, k, s, p, kind, tiled);
  if (!y.writeable()) window::bad("pool_forward", "output must be writeable");
  py::gil_scoped_release nogil;
  if (a.dtype == 0)
    forward_all(static_cast<const float*>(x.data()), static_cast<float*>(y.mutable_data()), a,
                include_pad, tiled);
  else
    forward_all(static_cast<const double*>(x.data()), static_cast<double*>(y.mutable_data()), a,
                include_pad, tiled);
}

void pool_backward(py::array gy, py::array x, py::array y, py::array dx, std::vector<idx> k,
                   std::vector<idx> s, std::vector<idx> p, int kind, bool include_pad,
                   bool tiled) {
  const char* op = "pool_backward";
  PoolArgs a = pool_args(op, x, y, k, s, p, kind, tiled);
  window::check_array(op, "out_grad", gy, a.dtype, 3, 5, false);
  window::check_array(op, "in_grad", dx, a.dtype, 3, 5, true);
  if (gy.size() != y.size() || dx.size() != x.size())
    window::bad(op, "out_grad " + window::shape_str(gy) + " / in_grad " + window::shape_str(dx) +
                        " must match output " + window::shape_str(y) + " / data " +
                        window::shape_str(x));
  py::gil_scoped_release nogil;
  if (a.dtype == 0)
    backward_all(static_cast<const float*>(gy.data()), static_cast<const float*>(x.data()),
                 static_cast<const float*>(y.data()), static_cast<float*>(dx.mutable_data()), a,
                 include_pad, tiled);
  else
    backward_all(static_cast<const double*>(gy.data()), static_cast<const double*>(x.data()),
                 static_cast<const double*>(y.data()), static_cast<double*>(dx.mutable_data()), a,
                 include_pad, tiled);
}

}  // namespace

void register_kernels_pool(py::module_& m) {
  using namespace pybind11::literals;
  m.def("pool_forward", &pool_forward, "x"_a, "y"_a, "kernel"_a, "stride"_a, "pad"_a, "kind"_a,
        "include_pad"_a, "tiled"_a,
        "y (N, C, *O) = max (kind 0), avg (1) or sum (2) pooling of x (N, C, *in).");
  m.def("pool_backward", &pool_backward, "out_grad"_a, "x"_a, "y"_a, "dx"_a, "kernel"_a,
        "stride"_a, "pad"_a, "kind"_a, "include_pad"_a, "tiled"_a,
        "dx = the gradient of pool_forward (overwritten).");
}

}  // namespace plait
