// Argument checks and the (outer, C, inner) data view shared by kernels_nn.cc's kernels.
// Everything takes py::array as given (no copies or conversions) and raises ValueError
// ("<op>: <argument> ...") for a wrong dtype, shape, layout or a read-only output.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "kernels_args.h"

#include <cstddef>
#include <string>

namespace plait {
namespace nn_args {

namespace py = pybind11;
using idx = std::ptrdiff_t;
using kargs::bad;
using kargs::shape_str;

inline std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// dtype `like`'s, C-contiguous, aligned, and (when `writable`) writable.
inline void check_array(const char* op, const char* name, const py::array& a,
                        const py::array& like, bool writable = false) {
  if (!a.dtype().is(like.dtype()))
    bad(op, std::string(name) + " has dtype " + dtype_str(a) + ", expected " + dtype_str(like));
  if (!(a.flags() & py::array::c_style) || !(a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
    bad(op, std::string(name) + " must be a C-contiguous aligned array");
  if (writable && !a.writeable()) bad(op, std::string(name) + " is read-only");
}

inline void check_same_shape(const char* op, const char* name, const py::array& a,
                      const py::array& x) {
  bool same = a.ndim() == x.ndim();
  for (py::ssize_t i = 0; same && i < a.ndim(); ++i) same = a.shape(i) == x.shape(i);
  if (!same)
    bad(op, std::string(name) + " has shape " + shape_str(a) + ", expected the data's " +
                shape_str(x));
}

// (outer, C, inner) view of x around `axis`.
struct Layout {
  idx outer = 1, c = 1, inner = 1;
  idx per_channel() const { return outer * inner; }
};

inline Layout layout_of(const char* op, const py::array& x, int axis) {
  if (axis < 0 || axis >= x.ndim())
    bad(op, "axis " + std::to_string(axis) + " out of range for data of shape " + shape_str(x));
  Layout L;
  for (int i = 0; i < axis; ++i) L.outer *= x.shape(i);
  L.c = x.shape(axis);
  for (py::ssize_t i = axis + 1; i < x.ndim(); ++i) L.inner *= x.shape(i);
  return L;
}

inline void check_vec(const char* op, const char* name, const py::array& a, const py::array& x,
               idx c, bool writable = false) {
  check_array(op, name, a, x, writable);
  if (a.ndim() != 1 || a.shape(0) != c)
    bad(op, std::string(name) + " has shape " + shape_str(a) + ", expected (" +
                std::to_string(c) + ",) for data of shape " + shape_str(x));
}

inline bool is_f32(const py::array& x, const char* op) {
  if (x.dtype().is(py::dtype::of<float>())) return true;
  if (x.dtype().is(py::dtype::of<double>())) return false;
  bad(op, "data has dtype " + dtype_str(x) + ", expected float32 or float64");
}

template <typename T> const T* cptr(const py::array& a) { return static_cast<const T*>(a.data()); }
template <typename T> T* mptr(py::array& a) { return static_cast<T*>(a.mutable_data()); }

}  // namespace nn_args
}  // namespace plait
