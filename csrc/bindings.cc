// plait._engine module definition.  The hot entry points (push, new_var, wait_read,
// wait_write) are raw C-API functions from pyapi.cc; the rest goes through pybind11.
#include <pybind11/pybind11.h>

#include <cstdlib>

#include "engine.h"
#include "pyapi.h"
#include "plan_memory.h"

namespace py = pybind11;
using plait::g_engine;

namespace plait {
int init_tape(PyObject* m);  // tape.cc: AGInfo, Node, record
void register_graph_exec(pybind11::module_& m);  // graph_exec.cc: run_graph
int init_async(PyObject* m);  // async_op.cc: push_async
void register_kernels_optim(pybind11::module_& m);  // kernels_optim.cc
void register_kernels_nn(pybind11::module_& m);  // kernels_nn.cc
void register_kernels_conv(pybind11::module_& m);  // kernels_conv.cc (+ kernels_pool.cc)
void register_kernels_rnn(pybind11::module_& m);  // kernels_rnn.cc
void register_kernels_winograd(pybind11::module_& m);  // kernels_winograd.cc
void register_mempool(pybind11::module_& m);  // mempool.cc
}

namespace {
int env_workers() {
  const char* s = std::getenv("MXNET_CPU_WORKER_NTHREADS");
  if (!s || !*s) return 1;  // MXNet's default: big ops use every core through BLAS already
  char* end = nullptr;
  long n = std::strtol(s, &end, 10);
  if (end == s || n < 1) return 1;
  return n > 64 ? 64 : static_cast<int>(n);
}

py::object steal(PyObject* o) {
  if (!o) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(o);
}
}  // namespace

PYBIND11_MODULE(_engine, m) {
  m.doc() = "plait dependency engine (MXNet ThreadedEngine semantics)";
  if (plait::init_var_type() < 0) throw py::error_already_set();
  Py_INCREF(&plait::VarType);
  m.add_object("Var", py::handle(reinterpret_cast<PyObject*>(&plait::VarType)));
  if (PyModule_AddFunctions(m.ptr(), plait::hot_methods()) < 0) throw py::error_already_set();
  if (plait::init_tape(m.ptr()) < 0) throw py::error_already_set();
  if (plait::init_async(m.ptr()) < 0) throw py::error_already_set();
  // Never destroyed: workers may outlive module teardown during interpreter exit.
  if (!g_engine) g_engine = new plait::Engine(env_workers());

  m.def("wait_all", [] { return steal(g_engine->wait_all()); },
        "Wait for every op; returns None or (exception, op_name) of the first exception "
        "not yet surfaced by a wait, and clears the list of recorded exceptions.");
  m.def("wait_idle", [] { g_engine->wait_idle(); },
        "Wait for every op without consuming recorded exceptions.");
  m.def("shutdown", [] { g_engine->shutdown(); },
        "Wait for every op, then stop and join the workers; later pushes run synchronously.");
  m.def("after_fork_child", [] { g_engine->after_fork_child(); },
        "Reset locks and workers in a forked child (workers restart lazily).");
  m.def("set_naive", [](bool v) { g_engine->set_naive(v); });
  m.def("is_naive", [] { return g_engine->naive(); });
  m.def("num_workers", [] { return g_engine->num_workers(); });
  m.def("num_pending", [] { return g_engine->num_pending(); },
        "Number of pushed ops not yet completed.");
  m.def("pending_bytes", [] { return g_engine->pending_bytes(); },
        "Output bytes (push nbytes) of the pushed ops not yet completed.");
  m.def("set_max_pending_bytes", [](int64_t n) { g_engine->set_max_pending_bytes(n); },
        "Bound of the push-ahead throttle in bytes (0: none).");
  m.def("max_pending_bytes", [] { return g_engine->max_pending_bytes(); });
  plait::register_plan_memory(m);
  plait::register_graph_exec(m);
  plait::register_kernels_optim(m);
  plait::register_kernels_nn(m);
  plait::register_kernels_conv(m);
  plait::register_kernels_rnn(m);
  plait::register_kernels_winograd(m);
  plait::register_mempool(m);
}
