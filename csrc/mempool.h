// The caching allocator for NumPy array data (mempool.cc).
#pragma once

#include <pybind11/pybind11.h>

namespace plait {

// Makes NumPy arrays created by the calling thread use the pool, once mempool_enable has
// run (engine workers call it when they start); needs the GIL.  False when not enabled.
bool mempool_attach_thread();

void register_mempool(pybind11::module_& m);

}  // namespace plait
