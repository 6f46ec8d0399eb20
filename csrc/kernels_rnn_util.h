// Shared by the LSTM and softmax kernels (kernels_rnn.cc, kernels_softmax.cc): argument
// checks that name the op and argument, and the build switches of their hot loops.  Include
// after `#pragma GCC optimize("no-trapping-math", "fp-contract=off")` (see kernels_rnn.cc).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "kernels_args.h"

#include <algorithm>
#include <string>

#include "kernels_rnn_math.h"

namespace plait {

void register_kernels_softmax(pybind11::module_& m);  // kernels_softmax.cc

namespace rnnk {

namespace py = pybind11;
using idx = std::ptrdiff_t;
using rnnmath::exp_t;
using rnnmath::tanh_t;
using kargs::bad;
using kargs::shape_str;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PLAIT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PLAIT_CLONES
#endif
#define PLAIT_INLINE inline __attribute__((always_inline))

// `a` is C-contiguous, has `like`'s dtype and (rows, cols) elements (any rank).
inline void check(const char* op, const char* name, const py::array& a, const py::array& like,
           idx rows, idx cols) {
  if (!a.dtype().is(like.dtype()))
    bad(op, std::string(name) + " has dtype " + std::string(py::str(a.dtype())) +
                ", expected " + std::string(py::str(like.dtype())));
  if (!(a.flags() & py::array::c_style))
    bad(op, std::string(name) + " must be C-contiguous");
  if (a.size() != rows * cols || (a.ndim() > 0 && a.shape(a.ndim() - 1) != cols))
    bad(op, std::string(name) + " has shape " + shape_str(a) + ", expected " +
                std::to_string(rows) + " rows of " + std::to_string(cols));
}

inline bool is_f32(const py::array& x, const char* op) {
  if (x.dtype().is(py::dtype::of<float>())) return true;
  if (x.dtype().is(py::dtype::of<double>())) return false;
  bad(op, "dtype " + std::string(py::str(x.dtype())) + " is not float32 or float64");
}

template <typename T> T* ptr(const py::array& a) {
  return static_cast<T*>(const_cast<void*>(a.data()));
}

// Row grain for parallel_for: rows of `cols` elements per chunk, about 16K elements.
inline idx grain(idx cols) { return std::max<idx>(1, (idx(1) << 14) / std::max<idx>(1, cols)); }

}  // namespace rnnk
}  // namespace plait
