// softmax / log_softmax over the last axis and log_softmax's backward (core/ops/nn_softmax.py):
// one read of the input per row pass instead of NumPy's max, subtract, exp, sum, log and
// subtract over whole arrays with temporaries; and pick(log_softmax(x), j) with its gradient
// (core/ops/nn_fused.py: a sparse-label cross-entropy without the log_softmax array).
// Build switches as in kernels_rnn.cc.
#pragma GCC optimize("no-trapping-math", "fp-contract=off")  // lets GCC if-convert selects

#include <cmath>

#include "kernels_rnn_util.h"
#include "parallel.h"

namespace py = pybind11;

namespace plait {
namespace {

using namespace rnnk;  // NOLINT

// ---- softmax / log_softmax over the last axis ---------------------------------------------
// Sum of v[0:K]: 16 T lanes within blocks of 256 (a short chain per lane, SIMD adds), the
// block sums accumulated in double: close to NumPy's pairwise sum, and fast.
template <typename T, typename F>
PLAIT_INLINE double sum_lanes_of(F&& v, idx K) {
  double s = 0;
  for (idx b = 0; b < K; b += 256) {
    const idx e = std::min<idx>(K, b + 256);
    T acc[16] = {0};
    idx j = b;
    for (; j + 16 <= e; j += 16)
      for (int l = 0; l < 16; ++l) acc[l] += v(j + l);
    for (; j < e; ++j) acc[0] += v(j);
    T t = 0;
    for (int l = 0; l < 16; ++l) t += acc[l];
    s += double(t);
  }
  return s;
}

template <typename T>
PLAIT_INLINE double sum_lanes(const T* v, idx K) {
  return sum_lanes_of<T>([&](idx j) { return v[j]; }, K);
}

// Max of v[0:K] (K >= 1) over 16 lanes.  A NaN is never picked (v > m is false), except at
// v[0]; either way a row holding a NaN ends up all NaN through exp and the sum, as NumPy's.
template <typename T, typename F>
PLAIT_INLINE T max_lanes(F&& v, idx K) {
  T m[16];
  const T v0 = v(0);
  for (int l = 0; l < 16; ++l) m[l] = v0;
  idx j = 0;
  for (; j + 16 <= K; j += 16)
    for (int l = 0; l < 16; ++l) {
      const T x = v(j + l);
      m[l] = x > m[l] ? x : m[l];
    }
  for (; j < K; ++j) {
    const T x = v(j);
    m[0] = x > m[0] ? x : m[0];
  }
  T r = m[0];
  for (int l = 1; l < 16; ++l) r = m[l] > r ? m[l] : r;
  return r;
}

// Per row: m = max, z = x - m, s = sum exp(z) (see sum_lanes), then
// log: z - log(s) (the log taken of s rounded to T, as NumPy's log of its T-valued sum);
// softmax: exp(z) / s.  temp != 1 divides x by the temperature first (recomputed per pass).
template <typename T>
PLAIT_INLINE void softmax_rows_t(const T* x, T* out, idx r0, idx r1, idx K, T temp, bool log) {
  const bool scaled = temp != T(1);
  for (idx r = r0; r < r1; ++r) {
    const T* p = x + r * K;
    T* q = out + r * K;
    T m;
    if (scaled) {
      m = max_lanes<T>([&](idx j) { return T(p[j] / temp); }, K);
#pragma GCC ivdep
      for (idx j = 0; j < K; ++j) q[j] = exp_t(T(p[j] / temp - m));
    } else {
      m = max_lanes<T>([&](idx j) { return p[j]; }, K);
#pragma GCC ivdep
      for (idx j = 0; j < K; ++j) q[j] = exp_t(T(p[j] - m));
    }
    const T s = T(sum_lanes(q, K));
    if (log) {
      const T ls = T(std::log(s));
      if (scaled)
#pragma GCC ivdep
        for (idx j = 0; j < K; ++j) q[j] = T(p[j] / temp - m) - ls;
      else
#pragma GCC ivdep
        for (idx j = 0; j < K; ++j) q[j] = T(p[j] - m) - ls;
    } else {
#pragma GCC ivdep
      for (idx j = 0; j < K; ++j) q[j] = q[j] / s;
    }
  }
}

PLAIT_CLONES void softmax_rows_f(const float* x, float* out, idx r0, idx r1, idx K, float temp,
                                 bool log) {
  softmax_rows_t<float>(x, out, r0, r1, K, temp, log);
}
void softmax_rows(const float* x, float* out, idx r0, idx r1, idx K, float temp, bool log) {
  softmax_rows_f(x, out, r0, r1, K, temp, log);
}
void softmax_rows(const double* x, double* out, idx r0, idx r1, idx K, double temp, bool log) {
  softmax_rows_t<double>(x, out, r0, r1, K, temp, log);
}

template <typename T>
void softmax_last(py::array x, py::array out, double temperature, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  if (x.ndim() < 1 || x.shape(x.ndim() - 1) < 1) bad(op, "data has shape " + shape_str(x));
  const idx K = x.shape(x.ndim() - 1), rows = x.size() / K;
  check(op, "data", x, x, rows, K);
  check(op, "out", out, x, rows, K);
  const T *px = ptr<T>(x);
  T* po = ptr<T>(out);
  const T temp = T(temperature);
  py::gil_scoped_release nogil;
  parallel_for(rows, grain(K), [&](idx r0, idx r1) { softmax_rows(px, po, r0, r1, K, temp, log); });
}

// log_softmax backward over the last axis: gx = gy - exp(y) * sum(gy) per row (the sum in
// sum_lanes, rounded to T).  gx may alias gy.
template <typename T>
PLAIT_INLINE void log_softmax_bwd_rows_t(const T* gy, const T* y, T* gx, idx r0, idx r1, idx K) {
  for (idx r = r0; r < r1; ++r) {
    const T *g = gy + r * K, *p = y + r * K;
    T* q = gx + r * K;
    const T st = T(sum_lanes(g, K));
#pragma GCC ivdep
    for (idx k = 0; k < K; ++k) q[k] = g[k] - exp_t(p[k]) * st;
  }
}

PLAIT_CLONES void log_softmax_bwd_rows_f(const float* gy, const float* y, float* gx, idx r0,
                                         idx r1, idx K) {
  log_softmax_bwd_rows_t<float>(gy, y, gx, r0, r1, K);
}
void log_softmax_bwd_rows(const float* gy, const float* y, float* gx, idx r0, idx r1, idx K) {
  log_softmax_bwd_rows_f(gy, y, gx, r0, r1, K);
}
void log_softmax_bwd_rows(const double* gy, const double* y, double* gx, idx r0, idx r1, idx K) {
  log_softmax_bwd_rows_t<double>(gy, y, gx, r0, r1, K);
}

template <typename T>
void log_softmax_bwd(py::array gy, py::array y, py::array gx) {
  const char* op = "_backward_log_softmax";
  if (y.ndim() < 1 || y.shape(y.ndim() - 1) < 1) bad(op, "output has shape " + shape_str(y));
  const idx K = y.shape(y.ndim() - 1), rows = y.size() / K;
  check(op, "output", y, y, rows, K);
  check(op, "ograd", gy, y, rows, K);
  check(op, "out", gx, y, rows, K);
  const T *pg = ptr<T>(gy), *py_ = ptr<T>(y);
  T* po = ptr<T>(gx);
  py::gil_scoped_release nogil;
  parallel_for(rows, grain(K), [&](idx r0, idx r1) {
    log_softmax_bwd_rows(pg, py_, po, r0, r1, K);
  });
}

// ---- pick of log_softmax over the last axis ------------------------------------------------
// Row r with m, s as in softmax_rows_t (s summed without storing the exps): the log-softmax
// y = (x - m) - log(s).  Forward: out[r] = y[j_r], and shift[r] = (m, log s) (two values,
// so that backward's y is bitwise forward's).  Backward: gx[r, k] = [k == j_r] og[r] -
// exp(y[k]) og[r] (log_softmax's backward of pick's gradient, one nonzero per row, with one
// exp per element, as there), plus shift's gradient (dm, dls): dls d(log s)/dx + dm dm/dx =
// exp(y[k]) dls + [k == argmax] (dm - dls); zeros when only the output is used.
template <typename T>
PLAIT_INLINE void lsm_pick_rows_t(const T* x, const int64_t* j, T* out, T* shift, idx r0,
                                  idx r1, idx K) {
  for (idx r = r0; r < r1; ++r) {
    const T* p = x + r * K;
    const T m = max_lanes<T>([&](idx k) { return p[k]; }, K);
    const T ls = T(std::log(T(sum_lanes_of<T>([&](idx k) { return exp_t(T(p[k] - m)); }, K))));
    out[r] = T(p[j[r]] - m) - ls;
    shift[2 * r] = m;
    shift[2 * r + 1] = ls;
  }
}

template <typename T>
PLAIT_INLINE void lsm_pick_bwd_rows_t(const T* og, const T* x, const int64_t* j,
                                      const T* shift, const T* dshift, T* gx, idx r0, idx r1,
                                      idx K) {
  for (idx r = r0; r < r1; ++r) {
    const T* p = x + r * K;
    T* q = gx + r * K;
    const T m = shift[2 * r], ls = shift[2 * r + 1], g = og[r];
    const T dm = dshift[2 * r], dls = dshift[2 * r + 1], c = dls - g;
#pragma GCC ivdep
    for (idx k = 0; k < K; ++k) q[k] = exp_t(T(T(p[k] - m) - ls)) * c;
    q[j[r]] += g;
    if (dm != dls) {
      idx a = 0;
      while (a + 1 < K && !(p[a] == m)) ++a;  // the first maximum
      q[a] += dm - dls;
    }
  }
}

PLAIT_CLONES void lsm_pick_rows_f(const float* x, const int64_t* j, float* out, float* shift,
                                  idx r0, idx r1, idx K) {
  lsm_pick_rows_t<float>(x, j, out, shift, r0, r1, K);
}
PLAIT_CLONES void lsm_pick_bwd_rows_f(const float* og, const float* x, const int64_t* j,
                                      const float* shift, const float* dshift, float* gx,
                                      idx r0, idx r1, idx K) {
  lsm_pick_bwd_rows_t<float>(og, x, j, shift, dshift, gx, r0, r1, K);
}
void lsm_pick_rows(const float* x, const int64_t* j, float* o, float* sh, idx r0, idx r1,
                   idx K) {
  lsm_pick_rows_f(x, j, o, sh, r0, r1, K);
}
void lsm_pick_rows(const double* x, const int64_t* j, double* o, double* sh, idx r0, idx r1,
                   idx K) {
  lsm_pick_rows_t<double>(x, j, o, sh, r0, r1, K);
}
void lsm_pick_bwd_rows(const float* og, const float* x, const int64_t* j, const float* sh,
                       const float* dsh, float* gx, idx r0, idx r1, idx K) {
  lsm_pick_bwd_rows_f(og, x, j, sh, dsh, gx, r0, r1, K);
}
void lsm_pick_bwd_rows(const double* og, const double* x, const int64_t* j, const double* sh,
                       const double* dsh, double* gx, idx r0, idx r1, idx K) {
  lsm_pick_bwd_rows_t<double>(og, x, j, sh, dsh, gx, r0, r1, K);
}

// x (rows, K) and the picked column of each row, j (rows,) int64 in [0, K), checked.
const int64_t* picked_columns(const char* op, const py::array& x, const py::array& j, idx* rows,
                              idx* K) {
  if (x.ndim() != 2 || x.shape(1) < 1) bad(op, "data must be (rows, K >= 1), got " + shape_str(x));
  *rows = x.shape(0);
  *K = x.shape(1);
  check(op, "data", x, x, *rows, *K);
  if (!j.dtype().is(py::dtype::of<int64_t>()) || !(j.flags() & py::array::c_style) ||
      j.ndim() != 1 || j.shape(0) != *rows)
    bad(op, "index must be C-contiguous int64 of shape (" + std::to_string(*rows) +
                ",), got " + std::string(py::str(j.dtype())) + " " + shape_str(j));
  const int64_t* pj = static_cast<const int64_t*>(j.data());
  for (idx r = 0; r < *rows; ++r)
    if (pj[r] < 0 || pj[r] >= *K)
      bad(op, "index " + std::to_string(pj[r]) + " of row " + std::to_string(r) +
                  " is outside [0, " + std::to_string(*K) + ")");
  return pj;
}

template <typename T>
void lsm_pick(py::array x, py::array j, py::array out, py::array shift) {
  const char* op = "_log_softmax_pick";
  idx rows, K;
  const int64_t* pj = picked_columns(op, x, j, &rows, &K);
  check(op, "out", out, x, rows, 1);
  check(op, "shift", shift, x, rows, 2);
  const T* px = ptr<T>(x);
  T *po = ptr<T>(out), *ps = ptr<T>(shift);
  py::gil_scoped_release nogil;
  parallel_for(rows, grain(K), [&](idx r0, idx r1) {
    lsm_pick_rows(px, pj, po, ps, r0, r1, K);
  });
}

template <typename T>
void lsm_pick_bwd(py::array og, py::array x, py::array j, py::array shift, py::array dshift,
                  py::array gx) {
  const char* op = "_backward_log_softmax_pick";
  idx rows, K;
  const int64_t* pj = picked_columns(op, x, j, &rows, &K);
  check(op, "ograd", og, x, rows, 1);
  check(op, "shift", shift, x, rows, 2);
  check(op, "shift_grad", dshift, x, rows, 2);
  check(op, "out", gx, x, rows, K);
  const T *pg = ptr<T>(og), *px = ptr<T>(x), *ps = ptr<T>(shift), *pd = ptr<T>(dshift);
  T* po = ptr<T>(gx);
  py::gil_scoped_release nogil;
  parallel_for(rows, grain(K), [&](idx r0, idx r1) {
    lsm_pick_bwd_rows(pg, px, pj, ps, pd, po, r0, r1, K);
  });
}

}  // namespace

void register_kernels_softmax(py::module_& m) {
  m.def("softmax_last_axis",
        [](py::array x, py::array out, double temperature, bool log) {
          if (is_f32(x, log ? "log_softmax" : "softmax")) softmax_last<float>(x, out, temperature, log);
          else softmax_last<double>(x, out, temperature, log);
        },
        "softmax (log=False) or log_softmax of x over its last axis into out.");
  m.def("log_softmax_backward_last_axis",
        [](py::array gy, py::array y, py::array gx) {
          if (is_f32(y, "_backward_log_softmax")) log_softmax_bwd<float>(gy, y, gx);
          else log_softmax_bwd<double>(gy, y, gx);
        },
        "gx = gy - exp(y) * sum(gy) over the last axis (log_softmax's gradient).");
  m.def("log_softmax_pick",
        [](py::array x, py::array j, py::array out, py::array shift) {
          if (is_f32(x, "_log_softmax_pick")) lsm_pick<float>(x, j, out, shift);
          else lsm_pick<double>(x, j, out, shift);
        },
        "out[r] = log_softmax(x[r])[j[r]] for x (rows, K), j (rows,) int64; shift (rows, 2) "
        "gets each row's max and log-sum-exp after subtracting it, for the backward.");
  m.def("log_softmax_pick_backward",
        [](py::array og, py::array x, py::array j, py::array shift, py::array dshift,
           py::array gx) {
          if (is_f32(x, "_backward_log_softmax_pick"))
            lsm_pick_bwd<float>(og, x, j, shift, dshift, gx);
          else
            lsm_pick_bwd<double>(og, x, j, shift, dshift, gx);
        },
        "gx[r, k] = og[r] * ([k == j[r]] - softmax(x[r])[k]) + the gradient of shift's "
        "values (dshift (rows, 2)): the gradient of log_softmax_pick.");
}

}  // namespace plait