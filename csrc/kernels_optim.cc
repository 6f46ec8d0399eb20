// Compiled optimizer updates (sgd_update, sgd_mom_update, adam_update): one pass over
// weight, gradient and states instead of NumPy's five to ten passes with temporaries.
// The arithmetic is the xp kernels' (core/ops/optim_ops*.py), operation for operation and
// in the weight's dtype, so both paths give the same bits.  `out` may alias the weight
// (the usual in-place update); every index is read before it is written.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>

#include "parallel.h"

namespace py = pybind11;

namespace plait {
namespace {

constexpr std::ptrdiff_t kGrain = 1 << 15;  // elements per chunk (smaller updates stay serial)

template <typename T>
T* data_of(py::array& a) { return static_cast<T*>(a.mutable_data()); }

// Every array: same dtype as arrays[0], C-contiguous, same size; returns that size.
std::ptrdiff_t check(const char* op, std::initializer_list<py::array*> arrays) {
  py::array& a0 = **arrays.begin();
  std::ptrdiff_t n = a0.size();
  for (py::array* a : arrays) {
    if (!a->dtype().is(a0.dtype()) || a->size() != n ||
        !(a->flags() & py::array::c_style))
      throw py::value_error(std::string(op) +
                            ": native kernel needs C-contiguous arrays of one dtype and size");
  }
  return n;
}

template <typename T>
inline T clipped(T r, T clip) {
  if (clip >= 0) r = r < -clip ? -clip : (r > clip ? clip : r);
  return r;
}

// weight' = weight*(1 - lr*wd) - lr*clip(rescale*g)
template <typename T>
void sgd(py::array& w, py::array& g, py::array& out, double lr_, double wd_, double rs_,
         double cg_) {
  std::ptrdiff_t n = check("sgd_update", {&w, &g, &out});
  const T lr = T(float(lr_)), wd = T(float(wd_)), rs = T(float(rs_)), cg = T(float(cg_));
  const T keep = T(1) - lr * wd;
  T *pw = data_of<T>(w), *pg = data_of<T>(g), *po = data_of<T>(out);
  py::gil_scoped_release nogil;
  parallel_for(n, kGrain, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    for (std::ptrdiff_t i = lo; i < hi; ++i) {
      T r = clipped(pg[i] * rs, cg) * lr;
      po[i] = pw[i] * keep - r;
    }
  });
}

// mom = mom*m - (lr*clip(rescale*g) + (lr*wd)*w); weight' = weight + mom
template <typename T>
void sgd_mom(py::array& w, py::array& g, py::array& mom, py::array& out, double lr_,
             double m_, double wd_, double rs_, double cg_) {
  std::ptrdiff_t n = check("sgd_mom_update", {&w, &g, &mom, &out});
  const T lr = T(float(lr_)), m = T(float(m_)), wd = T(float(wd_)), rs = T(float(rs_)),
          cg = T(float(cg_));
  const T lrwd = lr * wd;
  const bool use_wd = wd != T(0);
  T *pw = data_of<T>(w), *pg = data_of<T>(g), *pm = data_of<T>(mom), *po = data_of<T>(out);
  py::gil_scoped_release nogil;
  parallel_for(n, kGrain, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    for (std::ptrdiff_t i = lo; i < hi; ++i) {
      T r = clipped(pg[i] * rs, cg) * lr;
      if (use_wd) r += lrwd * pw[i];
      T v = pm[i] * m - r;
      pm[i] = v;
      po[i] = pw[i] + v;
    }
  });
}

// r = clip(rescale*g + w*wd); mean = b1*mean + (1-b1)*r; var = b2*var + (r*r)*(1-b2);
// weight' = weight - (mean*lr) / (sqrt(var) + eps)
template <typename T>
void adam(py::array& w, py::array& g, py::array& mean, py::array& var, py::array& out,
          double lr_, double b1_, double b2_, double eps_, double wd_, double rs_, double cg_) {
  std::ptrdiff_t n = check("adam_update", {&w, &g, &mean, &var, &out});
  const T lr = T(float(lr_)), b1 = T(float(b1_)), b2 = T(float(b2_)), eps = T(float(eps_)),
          wd = T(float(wd_)), rs = T(float(rs_)), cg = T(float(cg_));
  const T c1 = T(1) - b1, c2 = T(1) - b2;
  T *pw = data_of<T>(w), *pg = data_of<T>(g), *pmu = data_of<T>(mean), *pv = data_of<T>(var),
    *po = data_of<T>(out);
  py::gil_scoped_release nogil;
  parallel_for(n, kGrain, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    for (std::ptrdiff_t i = lo; i < hi; ++i) {
      T r = pg[i] * rs;
      r += pw[i] * wd;
      r = clipped(r, cg);
      T mu = pmu[i] * b1 + c1 * r;
      T v = pv[i] * b2 + (r * r) * c2;
      pmu[i] = mu;
      pv[i] = v;
      T d = std::sqrt(v) + eps;
      po[i] = pw[i] - (mu * lr) / d;
    }
  });
}

template <template <typename> class F, typename... A>
void dispatch(const char* op, py::array& w, A&&... args) {
  if (w.dtype().is(py::dtype::of<float>())) return F<float>::run(w, args...);
  if (w.dtype().is(py::dtype::of<double>())) return F<double>::run(w, args...);
  throw py::value_error(std::string(op) + ": native kernel needs float32 or float64");
}

template <typename T> struct Sgd {
  template <typename... A> static void run(A&&... a) { sgd<T>(a...); }
};
template <typename T> struct SgdMom {
  template <typename... A> static void run(A&&... a) { sgd_mom<T>(a...); }
};
template <typename T> struct Adam {
  template <typename... A> static void run(A&&... a) { adam<T>(a...); }
};

}  // namespace

void register_kernels_optim(py::module_& m) {
  m.def("sgd_update", [](py::array w, py::array g, py::array out, double lr, double wd,
                         double rs, double cg) { dispatch<Sgd>("sgd_update", w, g, out, lr, wd, rs, cg); });
  m.def("sgd_mom_update",
        [](py::array w, py::array g, py::array mom, py::array out, double lr, double mo,
           double wd, double rs, double cg) {
          dispatch<SgdMom>("sgd_mom_update", w, g, mom, out, lr, mo, wd, rs, cg);
        });
  m.def("adam_update",
        [](py::array w, py::array g, py::array mean, py::array var, py::array out, double lr,
           double b1, double b2, double eps, double wd, double rs, double cg) {
          dispatch<Adam>("adam_update", w, g, mean, var, out, lr, b1, b2, eps, wd, rs, cg);
        });
}

}  // namespace plait
