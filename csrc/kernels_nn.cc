// Compiled CPU kernels for BatchNorm and activations (core/ops/nn_norm.py, core/ops/nn_act.py;
// the activations in kernels_nn_act.h, BatchNorm on short channel runs in kernels_nn_rows.h).
//
// Every kernel here is a memory-bound loop that NumPy runs as several full passes with fresh
// temporaries; one pass (or, for the batch statistics, a few passes over one channel while
// it sits in cache) is several times cheaper.  Data of any rank is viewed as
// (outer, C, inner) around the channel axis.  Arithmetic on the elements follows the NumPy
// code it replaces, in the array's dtype, so inference BatchNorm, relu, leaky and prelu match
// it bit for bit (elu/selu: libm's expm1 may differ from NumPy's in the last bit); the batch
// statistics and the backward sums are shifted sums over chunks in the dtype, totalled in
// double (they differ from NumPy's float32 pairwise sums by rounding only).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels_nn_act.h"
#include "kernels_nn_args.h"
#include "kernels_nn_rows.h"
#include "parallel.h"

namespace py = pybind11;

namespace plait {
namespace {

using namespace nn_args;  // NOLINT: bad, check_*, Layout, cptr/mptr
constexpr idx kGrain = idx(1) << 16;  // elements per parallel chunk at least (wake-ups cost)

// Channel c's elements: `outer` runs of `inner` contiguous values; f(offset of a run).
template <typename F>
void for_runs(const Layout& L, idx c, F&& f) {
  for (idx o = 0; o < L.outer; ++o) f((o * L.c + c) * L.inner);
}

// Channel sums run in T over chunks of at most kChunk elements, each chunk's sums then
// added in double: a float partial sum never holds more than kChunk / 4 terms (NumPy's
// pairwise float32 sums have leaves of that order) while the totals are double.  The chunk
// loops let the compiler reorder their sums into SIMD lanes (GCC's associative-math for
// those functions only; without it a float sum is one serial, latency-bound chain).
#if defined(__GNUC__) && !defined(__clang__)
#define PLAIT_REASSOC \
  __attribute__((optimize("associative-math", "no-signed-zeros", "no-trapping-math")))
#else
#define PLAIT_REASSOC
#endif
constexpr idx kChunk = 256;

// s[0] += sum(p - m)
template <typename T>
PLAIT_REASSOC void chunk_dev(const T* p, idx n, T m, double* s) {
  T a = 0;
  for (idx i = 0; i < n; ++i) a += p[i] - m;
  s[0] += a;
}

// s += (sum(d), sum(d^2)), d = p - m
template <typename T>
PLAIT_REASSOC void chunk_dev2(const T* p, idx n, T m, double* s) {
  T a = 0, b = 0;
  for (idx i = 0; i < n; ++i) {
    const T d = p[i] - m;
    a += d;
    b += d * d;
  }
  s[0] += a;
  s[1] += b;
}

// s += (sum(d), sum(d^2), sum(o), sum(o * d)), d = x - m, o = og
template <typename T>
PLAIT_REASSOC void chunk_bwd(const T* x, const T* og, idx n, T m, double* s) {
  T a = 0, b = 0, c = 0, e = 0;
  for (idx i = 0; i < n; ++i) {
    const T d = x[i] - m, o = og[i];
    a += d;
    b += d * d;
    c += o;
    e += o * d;
  }
  s[0] += a;
  s[1] += b;
  s[2] += c;
  s[3] += e;
}

// dx = og * a; s += (sum(og), sum(og * (x - m) * inv)).  Element i is read before dx[i] is
// written (dx may be og).
template <typename T>
PLAIT_REASSOC void chunk_bwd_global(const T* x, const T* og, T* dx, idx n, T m, T inv, T a,
                                    double* s) {
  T so = 0, sh = 0;
  for (idx i = 0; i < n; ++i) {
    const T o = og[i], h = (x[i] - m) * inv;
    dx[i] = o * a;
    so += o;
    sh += o * h;
  }
  s[0] += so;
  s[1] += sh;
}

// f(offset, length) over channel c's elements in pieces of at most kChunk.
template <typename F>
void for_chunks(const Layout& L, idx c, F&& f) {
  for_runs(L, c, [&](idx off) {
    for (idx i = 0; i < L.inner; i += kChunk) f(off + i, std::min(kChunk, L.inner - i));
  });
}

// Batch mean and M2 = sum((x - mean)^2) of channel c.  Shifted sums keep them accurate for
// data far from zero: the mean from x - x0 (x0 the channel's first value), then the sums of
// d = x - m (m that mean in T) and d^2, corrected for m's rounding (mean = m + sum(d) / n,
// M2 = sum(d^2) - sum(d)^2 / n).
inline double clamp0(double v) { return v < 0 ? 0.0 : v; }  // nan stays nan

template <typename T>
void channel_moments(const T* x, const Layout& L, idx c, double* mean, double* m2) {
  const double n = static_cast<double>(L.per_channel());
  const T x0 = std::isfinite(x[c * L.inner]) ? x[c * L.inner] : T(0);  // inf/nan: as NumPy
  double s0 = 0;
  for_chunks(L, c, [&](idx off, idx len) { chunk_dev(x + off, len, x0, &s0); });
  const T m = static_cast<T>(x0 + s0 / n);
  double s[2] = {0, 0};
  for_chunks(L, c, [&](idx off, idx len) { chunk_dev2(x + off, len, m, s); });
  *mean = std::isfinite(m) ? m + s[0] / n : m;  // inf stays inf, as NumPy's mean
  *m2 = clamp0(s[1] - s[0] * s[0] / n);
}

// out = (x - m) * s + b over channel c (optionally max(., 0)), in T as the NumPy code.
template <typename T, bool Relu>
void channel_affine(const T* x, T* out, const Layout& L, idx c, T m, T s, T b) {
  for_runs(L, c, [&](idx off) {
    const T* p = x + off;
    T* q = out + off;
    for (idx i = 0; i < L.inner; ++i) {
      T v = (p[i] - m) * s + b;
      q[i] = Relu ? (v < T(0) ? T(0) : v) : v;
    }
  });
}

// Short channel runs (BatchNorm after Dense, tiny feature maps): walk the data row by row
// (kernels_nn_rows.h) instead of channel by channel, unless a row's accumulators get large.
bool row_mode(const Layout& L) { return L.inner < 16 && L.c * L.inner <= (idx(1) << 20); }

nn_rows::Shape rows_of(const Layout& L) { return {L.outer, L.c, L.inner}; }

idx channel_grain(const Layout& L) {
  return std::max<idx>(1, kGrain / std::max<idx>(1, L.per_channel()));
}

// -- BatchNorm inference: out = (x - mean[c]) * scale[c] + beta[c] --------------------------
template <typename T, bool Relu>
void affine_rows(const T* x, T* out, const T* mean, const T* scale, const T* beta,
                 const Layout& L) {
  const idx rows = L.outer * L.c;
  parallel_for(rows, std::max<idx>(1, kGrain / std::max<idx>(1, L.inner)), [&](idx b, idx e) {
    idx c = b % L.c;
    for (idx r = b; r < e; ++r) {
      const T m = mean[c], s = scale[c], t = beta[c];
      const T* p = x + r * L.inner;
      T* q = out + r * L.inner;
      for (idx i = 0; i < L.inner; ++i) {
        T v = (p[i] - m) * s + t;
        q[i] = Relu ? (v < T(0) ? T(0) : v) : v;
      }
      if (++c == L.c) c = 0;
    }
  });
}

void bn_affine(py::array x, py::array mean, py::array scale, py::array beta, py::array out,
               int axis, bool relu) {
  const char* op = "BatchNorm";
  const bool f32 = is_f32(x, op);
  Layout L = layout_of(op, x, axis);
  check_array(op, "data", x, x);
  check_vec(op, "mean", mean, x, L.c);
  check_vec(op, "scale", scale, x, L.c);
  check_vec(op, "beta", beta, x, L.c);
  check_array(op, "out", out, x, true);
  check_same_shape(op, "out", out, x);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T *px = cptr<T>(x), *pm = cptr<T>(mean), *ps = cptr<T>(scale), *pb = cptr<T>(beta);
    T* po = mptr<T>(out);
    py::gil_scoped_release nogil;
    if (row_mode(L)) nn_rows::affine(px, po, pm, ps, pb, rows_of(L), relu);
    else if (relu) affine_rows<T, true>(px, po, pm, ps, pb, L);
    else affine_rows<T, false>(px, po, pm, ps, pb, L);
  };
  if (f32) run(float()); else run(double());
}

// -- BatchNorm training forward: batch mean / biased variance, then the affine --------------
template <typename T>
void train_fwd(const T* x, const T* gamma, const T* beta, T* out, T* mean_out, T* var_out,
               double eps, bool fix_gamma, bool relu, const Layout& L) {
  const double n = static_cast<double>(L.per_channel());
  parallel_for(L.c, channel_grain(L), [&](idx b, idx e) {
    for (idx c = b; c < e; ++c) {  // all three passes while channel c is in cache
      double md, m2;
      channel_moments(x, L, c, &md, &m2);
      const T m = static_cast<T>(md);
      const T v = static_cast<T>(m2 / n);
      const T inv = T(1) / std::sqrt(v + static_cast<T>(eps));
      const T s = fix_gamma ? inv : gamma[c] * inv;
      if (relu) channel_affine<T, true>(x, out, L, c, m, s, beta[c]);
      else channel_affine<T, false>(x, out, L, c, m, s, beta[c]);
      mean_out[c] = m;
      var_out[c] = v;
    }
  });
}

void bn_train_forward(py::array x, py::array gamma, py::array beta, py::array out,
                      py::array mean_out, py::array var_out, double eps, bool fix_gamma,
                      int axis, bool relu) {
  const char* op = "BatchNorm";
  const bool f32 = is_f32(x, op);
  Layout L = layout_of(op, x, axis);
  if (L.per_channel() == 0) bad(op, "batch statistics of an empty input (shape " +
                                        shape_str(x) + ")");
  check_array(op, "data", x, x);
  check_vec(op, "gamma", gamma, x, L.c);
  check_vec(op, "beta", beta, x, L.c);
  check_vec(op, "mean_out", mean_out, x, L.c, true);
  check_vec(op, "var_out", var_out, x, L.c, true);
  check_array(op, "out", out, x, true);
  check_same_shape(op, "out", out, x);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T *px = cptr<T>(x), *pg = cptr<T>(gamma), *pb = cptr<T>(beta);
    T *po = mptr<T>(out), *pm = mptr<T>(mean_out), *pv = mptr<T>(var_out);
    py::gil_scoped_release nogil;
    if (row_mode(L))
      nn_rows::train_forward(px, pg, pb, po, pm, pv, eps, fix_gamma, relu, rows_of(L));
    else
      train_fwd<T>(px, pg, pb, po, pm, pv, eps, fix_gamma, relu, L);
  };
  if (f32) run(float()); else run(double());
}

// -- BatchNorm backward: dx, dgamma, dbeta --------------------------------------------------
template <typename T>
void bwd(const T* og, const T* x, const T* gamma, const T* mm, const T* mv, T* dx, T* dg,
         T* db, T* mean_out, T* var_out, double eps, bool fix_gamma, bool global,
         const Layout& L) {
  const double n = static_cast<double>(L.per_channel());
  parallel_for(L.c, channel_grain(L), [&](idx b, idx e) {
    for (idx c = b; c < e; ++c) {
      const T g = fix_gamma ? T(1) : gamma[c];
      double s_og = 0, s_ogx = 0;  // sum(og), sum(og * xhat)
      if (global) {  // xhat from the moving stats; dx = og * g * invstd (as the NumPy code)
        const T inv = T(1) / std::sqrt(mv[c] + static_cast<T>(eps));
        const T m = mm[c], a = g * inv;
        double sums[2] = {0, 0};
        for_chunks(L, c, [&](idx off, idx len) {
          chunk_bwd_global(x + off, og + off, dx + off, len, m, inv, a, sums);
        });
        s_og = sums[0];
        s_ogx = sums[1];
      } else {  // batch stats: two reading passes (shifted sums, see channel_moments), dx
        const T x0 = std::isfinite(x[c * L.inner]) ? x[c * L.inner] : T(0);
        double s0 = 0;
        for_chunks(L, c, [&](idx off, idx len) { chunk_dev(x + off, len, x0, &s0); });
        const T mt = static_cast<T>(x0 + s0 / n);
        double sm[4] = {0, 0, 0, 0};  // d, d^2, og, og * d with d = x - mt
        for_chunks(L, c, [&](idx off, idx len) { chunk_bwd(x + off, og + off, len, mt, sm); });
        const double dm = std::isfinite(mt) ? sm[0] / n : 0.0;  // mean = mt + dm
        const double var = clamp0(sm[1] - sm[0] * dm) / n;
        const double inv = 1.0 / std::sqrt(var + eps);
        if (mean_out) {
          mean_out[c] = static_cast<T>(mt + dm);
          var_out[c] = static_cast<T>(var);
        }
        s_og = sm[2];
        s_ogx = (sm[3] - sm[2] * dm) * inv;
        // dx = inv * g * (og - mean(og) - xhat * mean(og * xhat)), xhat = (x - mean) * inv,
        // as A * og + B * (x - mt) + C0 in T (the NumPy code's precision)
        const double Bd = -inv * g * inv * s_ogx / n;
        const T A = static_cast<T>(inv * g), B = static_cast<T>(Bd),
                C0 = static_cast<T>(-inv * g * s_og / n - Bd * dm);
        for_runs(L, c, [&](idx off) {
          const T *po = og + off, *px = x + off;
          T* dq = dx + off;
          for (idx i = 0; i < L.inner; ++i) dq[i] = A * po[i] + (B * (px[i] - mt) + C0);
        });
      }
      dg[c] = fix_gamma ? T(0) : static_cast<T>(s_ogx);
      db[c] = static_cast<T>(s_og);
    }
  });
}

void bn_backward(py::array og, py::array x, py::array gamma, py::array mm, py::array mv,
                 py::array dx, py::array dg, py::array db, double eps, bool fix_gamma,
                 bool global, int axis, py::object mean_out, py::object var_out) {
  const char* op = "_backward_BatchNorm";
  const bool f32 = is_f32(x, op);
  Layout L = layout_of(op, x, axis);
  if (L.per_channel() == 0) bad(op, "empty input (shape " + shape_str(x) + ")");
  check_array(op, "data", x, x);
  check_array(op, "ograd", og, x);
  check_same_shape(op, "ograd", og, x);
  check_vec(op, "gamma", gamma, x, L.c);
  check_vec(op, "moving_mean", mm, x, L.c);
  check_vec(op, "moving_var", mv, x, L.c);
  check_array(op, "dx", dx, x, true);
  check_same_shape(op, "dx", dx, x);
  check_vec(op, "dgamma", dg, x, L.c, true);
  check_vec(op, "dbeta", db, x, L.c, true);
  // the batch statistics the gradient used (not with use_global_stats): the caller's
  // moving-average update, which MXNet does in BatchNorm's backward
  const bool stats = !global && !mean_out.is_none();
  py::array bm, bv;
  if (stats) {
    bm = py::reinterpret_borrow<py::array>(mean_out);
    bv = py::reinterpret_borrow<py::array>(var_out);
    check_vec(op, "mean_out", bm, x, L.c, true);
    check_vec(op, "var_out", bv, x, L.c, true);
  }
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T *po = cptr<T>(og), *px = cptr<T>(x), *pg = cptr<T>(gamma), *pm = cptr<T>(mm),
            *pv = cptr<T>(mv);
    T *pdx = mptr<T>(dx), *pdg = mptr<T>(dg), *pdb = mptr<T>(db);
    T *pbm = stats ? mptr<T>(bm) : nullptr, *pbv = stats ? mptr<T>(bv) : nullptr;
    py::gil_scoped_release nogil;
    if (row_mode(L))
      nn_rows::backward(po, px, pg, pm, pv, pdx, pdg, pdb, pbm, pbv, eps, fix_gamma, global,
                        rows_of(L));
    else
      bwd<T>(po, px, pg, pm, pv, pdx, pdg, pdb, pbm, pbv, eps, fix_gamma, global, L);
  };
  if (f32) run(float()); else run(double());
}

}  // namespace

void register_kernels_nn(py::module_& m) {
  using namespace nn_act;  // NOLINT: relu_forward, relu_backward, leaky_forward, add_relu
  m.def("leaky_forward", &leaky_forward, py::arg("x"), py::arg("out"), py::arg("kind"),
        py::arg("slope") = 0.25, py::arg("scale") = 1.0, py::arg("gamma") = py::none(),
        "LeakyReLU forward: kind 0 leaky (x or slope*x), 1 prelu (x or gamma[c]*x, c on axis "
        "1, or one slope), 2 elu (x or slope*expm1(x)), 3 selu (scale*(x or slope*expm1(x)));"
        " out may be x.");
  m.def("bn_affine", &bn_affine, py::arg("x"), py::arg("mean"), py::arg("scale"),
        py::arg("beta"), py::arg("out"), py::arg("axis"), py::arg("relu") = false,
        "BatchNorm with given stats: out = (x - mean[c]) * scale[c] + beta[c] (then max(., 0) "
        "when relu), c along `axis`; out may be x.");
  m.def("bn_train_forward", &bn_train_forward, py::arg("x"), py::arg("gamma"),
        py::arg("beta"), py::arg("out"), py::arg("mean_out"), py::arg("var_out"),
        py::arg("eps"), py::arg("fix_gamma"), py::arg("axis"), py::arg("relu") = false,
        "BatchNorm with the batch's mean and biased variance (accumulated in double, written "
        "to mean_out/var_out in x's dtype); out may be x.");
  m.def("bn_backward", &bn_backward, py::arg("ograd"), py::arg("x"), py::arg("gamma"),
        py::arg("moving_mean"), py::arg("moving_var"), py::arg("dx"), py::arg("dgamma"),
        py::arg("dbeta"), py::arg("eps"), py::arg("fix_gamma"), py::arg("use_global_stats"),
        py::arg("axis"), py::arg("mean_out") = py::none(), py::arg("var_out") = py::none(),
        "BatchNorm's gradients w.r.t. data, gamma, beta (batch stats recomputed from x, or "
        "the moving ones when use_global_stats); with batch stats, also writes them to "
        "mean_out/var_out (biased variance) when given.");
  m.def("relu_forward", &relu_forward, py::arg("x"), py::arg("out"),
        "out = max(x, 0) (nan stays nan); out may be x.");
  m.def("add_relu", &add_relu, py::arg("lhs"), py::arg("rhs"), py::arg("out"),
        "out = max(lhs + rhs, 0) (nan stays nan); out may be lhs or rhs.");
  m.def("relu_backward", &relu_backward, py::arg("ograd"), py::arg("x"), py::arg("out"),
        py::arg("slope") = 0.0,
        "out = ograd * (x > 0 ? 1 : slope) (relu: slope 0; leaky relu); out may be ograd.");
}

}  // namespace plait
