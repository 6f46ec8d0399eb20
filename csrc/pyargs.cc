// Var-argument checks and the push of one op, shared by pyapi.cc and graph_exec.cc.
#include "pyargs.h"

#include <vector>

#include "engine.h"

namespace plait {

Py_ssize_t first_non_var(PyObject* const* items, Py_ssize_t n) {
  for (Py_ssize_t i = 0; i < n; ++i)
    if (!is_var(items[i])) return i;
  return -1;
}

bool run_sync(PyObject* fn, PyObject* const* writes, Py_ssize_t nw) {
  // fn may mutate the writes list: keep our own references to the (rare) vars that
  // hold an exception before calling it.
  std::vector<PyObject*> dirty;
  for (Py_ssize_t i = 0; i < nw; ++i) {
    if (reinterpret_cast<VarObj*>(writes[i])->exc) {
      Py_INCREF(writes[i]);
      dirty.push_back(writes[i]);
    }
  }
  PyObject* r = PyObject_CallNoArgs(fn);
  if (r) {
    Py_DECREF(r);
    for (PyObject* o : dirty) {
      VarObj* v = reinterpret_cast<VarObj*>(o);
      Py_CLEAR(v->exc);
      Py_CLEAR(v->exc_op);
    }
  }
  for (PyObject* o : dirty) Py_DECREF(o);
  return r != nullptr;
}

bool push_op(PyObject* fn, PyObject* name, PyObject* const* reads, Py_ssize_t nr,
             PyObject* const* writes, Py_ssize_t nw, bool here, bool async_op,
             int64_t nbytes) {
  Engine* g = g_engine;
  if (g->sync_mode()) {
    if (async_op) {
      PyErr_SetString(PyExc_RuntimeError, "push_async needs the threaded engine");
      return false;
    }
    return run_sync(fn, writes, nw);
  }
  Op* op = g->alloc_op(static_cast<int>(nr + nw));
  Dep* deps = op->deps;
  int nd = 0;
  for (Py_ssize_t i = 0; i < nw; ++i) {
    VarObj* v = reinterpret_cast<VarObj*>(writes[i]);
    bool dup = false;
    for (int j = 0; j < nd && !dup; ++j) dup = deps[j].var == v;
    if (!dup) deps[nd++] = Dep{v, op, nullptr, true, false};
  }
  for (Py_ssize_t i = 0; i < nr; ++i) {
    VarObj* v = reinterpret_cast<VarObj*>(reads[i]);
    bool found = false;
    for (int j = 0; j < nd && !found; ++j) {
      if (deps[j].var == v) {
        deps[j].input = true;  // read+write counts as a write (still poison-checked)
        found = true;
      }
    }
    if (!found) deps[nd++] = Dep{v, op, nullptr, false, true};
  }
  op->ndeps = nd;
  for (int j = 0; j < nd; ++j) Py_INCREF(reinterpret_cast<PyObject*>(deps[j].var));
  Py_INCREF(fn);
  Py_INCREF(name);
  op->fn = fn;
  op->name = name;
  op->async_op = async_op;
  op->nbytes = nbytes;
  if (g->submit(op, here)) {
    if (nbytes > 0) g->throttle();
    return true;
  }
  if (async_op) {
    g->free_op(op);
    PyErr_SetString(PyExc_RuntimeError, "push_async: the engine has shut down");
    return false;
  }
  bool ok = run_sync(fn, writes, nw);  // the engine shut down concurrently: run here
  g->free_op(op);
  return ok;
}

}  // namespace plait
