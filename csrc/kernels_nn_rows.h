// BatchNorm kernels for data whose channel runs are short (kernels_nn.cc's "row mode").
//
// kernels_nn.cc walks BatchNorm data channel by channel: `outer` runs of `inner` contiguous
// values each, all passes over one channel while it is in cache.  When `inner` is small
// (BatchNorm after Dense: inner == 1; tiny feature maps) those runs are a few bytes apart
// by C * inner and that walk is strided.  Here the data is read row by row instead: a row
// is the C * inner contiguous values of one outer index, position j of a row belongs to
// channel j / inner.  Sums are accumulated per position (in double, one accumulator row per
// thread, then folded to channels); per-channel coefficients are expanded to row length, so
// every loop is a contiguous, vectorisable sweep.  Element arithmetic is the same as the
// channel walk's, in the data's dtype.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "parallel.h"

namespace plait {
namespace nn_rows {

using idx = std::ptrdiff_t;
constexpr idx kGrain = idx(1) << 16;  // elements per parallel chunk at least

struct Shape {
  idx outer, c, inner;
  idx width() const { return c * inner; }
};

// Per-position sums over all rows: add_row(o, acc) adds row o's terms to acc[k * W + j]
// (k < nacc).  Returns the per-channel totals, [k * C + c].
template <typename F>
std::vector<double> channel_totals(const Shape& s, int nacc, F&& add_row) {
  const idx W = s.width();
  const idx parts = std::max<idx>(1, std::min<idx>(std::min<idx>(kernel_threads(), s.outer),
                                                   s.outer * W / kGrain));
  std::vector<double> acc(static_cast<size_t>(parts * nacc * W), 0.0);
  parallel_for(parts, 1, [&](idx b, idx e) {
    for (idx p = b; p < e; ++p) {
      double* a = acc.data() + p * nacc * W;
      for (idx o = s.outer * p / parts; o < s.outer * (p + 1) / parts; ++o) add_row(o, a);
    }
  });
  std::vector<double> tot(static_cast<size_t>(nacc * s.c), 0.0);
  for (idx p = 0; p < parts; ++p)
    for (idx k = 0; k < nacc; ++k) {
      const double* a = acc.data() + (p * nacc + k) * W;
      for (idx c = 0; c < s.c; ++c)
        for (idx i = 0; i < s.inner; ++i) tot[k * s.c + c] += a[c * s.inner + i];
    }
  return tot;
}

// Runs row_fn(o) for every row, rows split over the pool.
template <typename F>
void each_row(const Shape& s, F&& row_fn) {
  parallel_for(s.outer, std::max<idx>(1, kGrain / std::max<idx>(1, s.width())),
               [&](idx b, idx e) {
                 for (idx o = b; o < e; ++o) row_fn(o);
               });
}

// Per-channel values repeated `inner` times: one value per row position.
template <typename T, typename V>
std::vector<T> expand(const Shape& s, const V& per_channel) {
  std::vector<T> r(static_cast<size_t>(s.width()));
  for (idx c = 0; c < s.c; ++c)
    for (idx i = 0; i < s.inner; ++i) r[c * s.inner + i] = static_cast<T>(per_channel[c]);
  return r;
}

// out = (x - mean) * scale + beta per position (then max(., 0) when relu).
template <typename T>
void affine(const T* x, T* out, const T* mean, const T* scale, const T* beta, const Shape& s,
            bool relu) {
  const idx W = s.width();
  const std::vector<T> me = expand<T>(s, mean), se = expand<T>(s, scale),
                       be = expand<T>(s, beta);
  each_row(s, [&](idx o) {
    const T* p = x + o * W;
    T* q = out + o * W;
    if (relu) {
      for (idx j = 0; j < W; ++j) {
        T v = (p[j] - me[j]) * se[j] + be[j];
        q[j] = v < T(0) ? T(0) : v;
      }
    } else {
      for (idx j = 0; j < W; ++j) q[j] = (p[j] - me[j]) * se[j] + be[j];
    }
  });
}

// Batch mean and biased variance (two passes, double), then the affine.
template <typename T>
void train_forward(const T* x, const T* gamma, const T* beta, T* out, T* mean_out,
                   T* var_out, double eps, bool fix_gamma, bool relu, const Shape& s) {
  const idx W = s.width();
  const double n = static_cast<double>(s.outer * s.inner);
  std::vector<double> mean = channel_totals(s, 1, [&](idx o, double* a) {
    const T* p = x + o * W;
    for (idx j = 0; j < W; ++j) a[j] += p[j];
  });
  for (double& m : mean) m /= n;
  const std::vector<double> md = expand<double>(s, mean);
  const std::vector<double> sq = channel_totals(s, 1, [&](idx o, double* a) {
    const T* p = x + o * W;
    for (idx j = 0; j < W; ++j) {
      double d = p[j] - md[j];
      a[j] += d * d;
    }
  });
  std::vector<T> scale(static_cast<size_t>(s.c));
  for (idx c = 0; c < s.c; ++c) {  // as the channel walk (and the NumPy code), in T
    mean_out[c] = static_cast<T>(mean[c]);
    var_out[c] = static_cast<T>(sq[c] / n);
    const T inv = T(1) / std::sqrt(var_out[c] + static_cast<T>(eps));
    scale[c] = fix_gamma ? inv : gamma[c] * inv;
  }
  affine(x, out, mean_out, scale.data(), beta, s, relu);
}

// dx, dgamma, dbeta (see kernels_nn.cc's channel walk for the formulas).
template <typename T>
void backward(const T* og, const T* x, const T* gamma, const T* mm, const T* mv, T* dx,
              T* dg, T* db, T* mean_out, T* var_out, double eps, bool fix_gamma, bool global,
              const Shape& s) {
  const idx W = s.width();
  const double n = static_cast<double>(s.outer * s.inner);
  std::vector<T> g(static_cast<size_t>(s.c));
  for (idx c = 0; c < s.c; ++c) g[c] = fix_gamma ? T(1) : gamma[c];
  std::vector<double> s_og(s.c), s_ogx(s.c);
  if (global) {  // one pass: dx = og * g * invstd, and the sums
    std::vector<T> inv(s.c), a(s.c);
    for (idx c = 0; c < s.c; ++c) {
      inv[c] = T(1) / std::sqrt(mv[c] + static_cast<T>(eps));
      a[c] = g[c] * inv[c];
    }
    const std::vector<T> me = expand<T>(s, std::vector<T>(mm, mm + s.c)),
                         ie = expand<T>(s, inv), ae = expand<T>(s, a);
    const std::vector<double> t = channel_totals(s, 2, [&](idx o, double* acc) {
      const T *po = og + o * W, *px = x + o * W;
      T* q = dx + o * W;
      for (idx j = 0; j < W; ++j) {  // read before write: dx may be og
        const T v = po[j], h = (px[j] - me[j]) * ie[j];
        q[j] = v * ae[j];
        acc[j] += v;
        acc[W + j] += double(v) * h;
      }
    });
    for (idx c = 0; c < s.c; ++c) { s_og[c] = t[c]; s_ogx[c] = t[s.c + c]; }
  } else {
    std::vector<double> mean = channel_totals(s, 1, [&](idx o, double* a) {
      const T* p = x + o * W;
      for (idx j = 0; j < W; ++j) a[j] += p[j];
    });
    for (double& m : mean) m /= n;
    const std::vector<double> md = expand<double>(s, mean);
    const std::vector<double> t = channel_totals(s, 3, [&](idx o, double* acc) {
      const T *po = og + o * W, *px = x + o * W;
      for (idx j = 0; j < W; ++j) {
        double d = px[j] - md[j], v = po[j];
        acc[j] += d * d;
        acc[W + j] += v;
        acc[2 * W + j] += v * d;
      }
    });
    std::vector<T> A(s.c), B(s.c), C0(s.c), mt(s.c);
    for (idx c = 0; c < s.c; ++c) {
      const double inv = 1.0 / std::sqrt(t[c] / n + eps);
      if (mean_out) {
        mean_out[c] = static_cast<T>(mean[c]);
        var_out[c] = static_cast<T>(t[c] / n);
      }
      s_og[c] = t[s.c + c];
      s_ogx[c] = t[2 * s.c + c] * inv;
      A[c] = static_cast<T>(inv * g[c]);
      B[c] = static_cast<T>(-inv * g[c] * inv * s_ogx[c] / n);
      C0[c] = static_cast<T>(-inv * g[c] * s_og[c] / n);
      mt[c] = static_cast<T>(mean[c]);
    }
    const std::vector<T> Ae = expand<T>(s, A), Be = expand<T>(s, B), Ce = expand<T>(s, C0),
                         me = expand<T>(s, mt);
    each_row(s, [&](idx o) {
      const T *po = og + o * W, *px = x + o * W;
      T* q = dx + o * W;
      for (idx j = 0; j < W; ++j) q[j] = Ae[j] * po[j] + (Be[j] * (px[j] - me[j]) + Ce[j]);
    });
  }
  for (idx c = 0; c < s.c; ++c) {
    dg[c] = fix_gamma ? T(0) : static_cast<T>(s_ogx[c]);
    db[c] = static_cast<T>(s_og[c]);
  }
}

}  // namespace nn_rows
}  // namespace plait
