// Argument-error helpers shared by every compiled kernel file (kernels_*.cc): errors are
// ValueErrors "<op>: <message>", shapes printed as Python tuples.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>

namespace plait {
namespace kargs {

using idx = std::ptrdiff_t;

[[noreturn]] inline void bad(const std::string& op, const std::string& msg) {
  throw pybind11::value_error(op + ": " + msg);
}

inline std::string shape_str(const pybind11::array& a) {
  std::string s = "(";
  for (pybind11::ssize_t i = 0; i < a.ndim(); ++i)
    s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

}  // namespace kargs
}  // namespace plait
