// Hot-path Python entry points written against the C API (no pybind11 dispatch):
// push(fn, reads, writes, name), new_var(), wait_read(v), wait_write(v).
#include "pyapi.h"

#include "engine.h"
#include "pyargs.h"

namespace plait {
namespace {

// The items of a reads/writes argument: a tuple or list (fast path), a single Var,
// None, or any other iterable (converted with PySequence_Fast).
struct Items {
  PyObject* const* items = nullptr;
  Py_ssize_t n = 0;
  PyObject* owned = nullptr;  // PySequence_Fast result to release
  PyObject* single = nullptr;
  ~Items() { Py_XDECREF(owned); }
};

bool get_items(PyObject* o, Items* out, const char* what) {
  if (o == nullptr || o == Py_None) return true;
  if (PyTuple_CheckExact(o) || PyList_CheckExact(o)) {
    out->items = PySequence_Fast_ITEMS(o);
    out->n = PySequence_Fast_GET_SIZE(o);
    return true;
  }
  if (is_var(o)) {
    out->single = o;
    out->items = &out->single;
    out->n = 1;
    return true;
  }
  out->owned = PySequence_Fast(o, what);
  if (!out->owned) return false;
  out->items = PySequence_Fast_ITEMS(out->owned);
  out->n = PySequence_Fast_GET_SIZE(out->owned);
  return true;
}

bool check_vars(const Items& it, const char* what) {
  Py_ssize_t i = first_non_var(it.items, it.n);
  if (i < 0) return true;
  PyErr_Format(PyExc_TypeError, "engine.push: %s[%zd] must be an engine Var, not %.200s",
               what, i, Py_TYPE(it.items[i])->tp_name);
  return false;
}

const char* const kKeywords[6] = {"fn", "reads", "writes", "name", "inline_ok", "nbytes"};

PyObject* py_push(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* a[6] = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  if (nargs > 6) {
    PyErr_Format(PyExc_TypeError, "push() takes at most 6 arguments (%zd given)", nargs);
    return nullptr;
  }
  for (Py_ssize_t i = 0; i < nargs; ++i) a[i] = args[i];
  if (kwnames) {
    Py_ssize_t nk = PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t j = 0; j < nk; ++j) {
      PyObject* key = PyTuple_GET_ITEM(kwnames, j);
      int k = 0;
      while (k < 6 && PyUnicode_CompareWithASCIIString(key, kKeywords[k]) != 0) ++k;
      if (k == 6) {
        PyErr_Format(PyExc_TypeError, "push() got an unexpected keyword argument '%U'", key);
        return nullptr;
      }
      if (a[k]) {
        PyErr_Format(PyExc_TypeError, "push() got multiple values for argument '%s'",
                     kKeywords[k]);
        return nullptr;
      }
      a[k] = args[nargs + j];
    }
  }
  PyObject* fn = a[0];
  if (!fn) {
    PyErr_SetString(PyExc_TypeError, "push() missing required argument 'fn'");
    return nullptr;
  }
  if (!PyCallable_Check(fn)) {
    PyErr_Format(PyExc_TypeError, "engine.push: fn must be callable, not %.200s",
                 Py_TYPE(fn)->tp_name);
    return nullptr;
  }
  PyObject* name = a[3] ? a[3] : fn;
  Items reads, writes;
  if (!get_items(a[1], &reads, "engine.push: reads must be a sequence of Var") ||
      !get_items(a[2], &writes, "engine.push: writes must be a sequence of Var") ||
      !check_vars(reads, "reads") || !check_vars(writes, "writes"))
    return nullptr;

  bool run_here = a[4] != nullptr && PyObject_IsTrue(a[4]) == 1;
  long long nbytes = 0;
  if (a[5] && a[5] != Py_None) {
    nbytes = PyLong_AsLongLong(a[5]);
    if (nbytes == -1 && PyErr_Occurred()) return nullptr;
    if (nbytes < 0) {
      PyErr_Format(PyExc_ValueError, "engine.push: nbytes must be >= 0, got %lld", nbytes);
      return nullptr;
    }
  }
  if (!push_op(fn, name, reads.items, reads.n, writes.items, writes.n, run_here, false,
               nbytes))
    return nullptr;
  Py_RETURN_NONE;
}

PyObject* py_new_var(PyObject*, PyObject*) { return new_var_object(); }

PyObject* wait_common(PyObject* v, bool write) {
  if (!is_var(v)) {
    PyErr_Format(PyExc_TypeError, "engine.%s: expected an engine Var, not %.200s",
                 write ? "wait_write" : "wait_read", Py_TYPE(v)->tp_name);
    return nullptr;
  }
  return g_engine->wait_var(reinterpret_cast<VarObj*>(v), write);
}

PyObject* py_wait_read(PyObject*, PyObject* v) { return wait_common(v, false); }
PyObject* py_wait_write(PyObject*, PyObject* v) { return wait_common(v, true); }

PyMethodDef kMethods[] = {
    {"push", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(py_push)),
     METH_FASTCALL | METH_KEYWORDS,
     "push(fn, reads, writes, name, inline_ok=False, nbytes=0)\n--\n\n"
     "Schedule fn() after every earlier-pushed op that conflicts on a var; nbytes: bytes "
     "of outputs allocated for it (the push-ahead throttle counts them)."},
    {"new_var", py_new_var, METH_NOARGS, "new_var()\n--\n\nA new engine Var."},
    {"wait_read", py_wait_read, METH_O,
     "wait_read(var)\n--\n\nWait for every pushed op writing var; returns None or "
     "(exception, op_name)."},
    {"wait_write", py_wait_write, METH_O,
     "wait_write(var)\n--\n\nWait for every pushed op reading or writing var; returns "
     "None or (exception, op_name)."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

PyMethodDef* hot_methods() { return kMethods; }

}  // namespace plait
