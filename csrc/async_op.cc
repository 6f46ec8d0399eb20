// Async engine ops: push_async(fn, reads, writes, name) schedules fn(done) like push;
// fn starts some work (for example hands it to a communication thread) and returns at
// once, and the op keeps its grants on its vars until done() or done(exc) is called,
// from any Python thread.  The worker is free meanwhile.  This is MXNet's PushAsync
// with its on_complete callback; plait's distributed kvstore uses it so that MPI
// collectives order with the ops reading and writing the arrays without blocking a
// worker.  Everything here runs with the GIL held.
#include "engine.h"
#include "pyargs.h"

namespace plait {
namespace {

// The completion callback handed to fn.  States: op set and !called: waiting;
// called: done (op cleared once the op has been completed).
struct DoneObj {
  PyObject_HEAD
  Op* op;          // the op to complete; nullptr once completed or abandoned
  bool returned;   // fn(done) returned without calling done: the op is deferred
  bool called;
  PyObject* exc;   // exception passed to done() while fn was still running (owned)
};

void done_finish(DoneObj* d, PyObject* exc) {
  Op* op = d->op;
  d->op = nullptr;
  g_engine->complete_async(op, exc);
}

PyObject* done_call(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* kw[] = {"exc", nullptr};
  PyObject* exc = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:done", const_cast<char**>(kw), &exc))
    return nullptr;
  if (exc != Py_None && !PyExceptionInstance_Check(exc)) {
    PyErr_Format(PyExc_TypeError, "done(exc): exc must be an exception instance or None, "
                 "not %.200s", Py_TYPE(exc)->tp_name);
    return nullptr;
  }
  DoneObj* d = reinterpret_cast<DoneObj*>(self);
  if (d->called) {
    PyErr_SetString(PyExc_RuntimeError, "async engine op: done() called twice");
    return nullptr;
  }
  d->called = true;
  PyObject* e = exc == Py_None ? nullptr : exc;
  if (d->op && d->returned) {
    done_finish(d, e);
  } else {  // fn has not returned yet: execute() completes the op with this outcome
    Py_XINCREF(e);
    d->exc = e;
  }
  Py_RETURN_NONE;
}

void done_dealloc(PyObject* self) {
  DoneObj* d = reinterpret_cast<DoneObj*>(self);
  if (d->op && d->returned && !d->called) {
    // Never called: complete with an error rather than leave the vars locked forever.
    PyObject* err = PyObject_CallFunction(
        PyExc_RuntimeError, "s",
        "async engine op was dropped without calling its done() callback");
    if (!err) PyErr_Clear();
    done_finish(d, err);
    Py_XDECREF(err);
  }
  Py_CLEAR(d->exc);
  PyObject_Free(self);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
PyTypeObject DoneType = {PyVarObject_HEAD_INIT(nullptr, 0)};
#pragma GCC diagnostic pop

PyObject* py_push_async(PyObject*, PyObject* args, PyObject* kwargs) {
  static const char* kw[] = {"fn", "reads", "writes", "name", nullptr};
  PyObject *fn, *reads = Py_None, *writes = Py_None, *name = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OOO:push_async", const_cast<char**>(kw),
                                   &fn, &reads, &writes, &name))
    return nullptr;
  if (!PyCallable_Check(fn)) {
    PyErr_Format(PyExc_TypeError, "engine.push_async: fn must be callable, not %.200s",
                 Py_TYPE(fn)->tp_name);
    return nullptr;
  }
  PyObject* r = reads == Py_None ? PyTuple_New(0)
                                 : PySequence_Fast(reads, "engine.push_async: reads must be "
                                                          "a sequence of Var");
  if (!r) return nullptr;
  PyObject* w = writes == Py_None ? PyTuple_New(0)
                                  : PySequence_Fast(writes, "engine.push_async: writes must "
                                                            "be a sequence of Var");
  if (!w) {
    Py_DECREF(r);
    return nullptr;
  }
  PyObject* const* ri = PySequence_Fast_ITEMS(r);
  PyObject* const* wi = PySequence_Fast_ITEMS(w);
  Py_ssize_t nr = PySequence_Fast_GET_SIZE(r), nw = PySequence_Fast_GET_SIZE(w);
  bool ok = true;
  if (first_non_var(ri, nr) >= 0 || first_non_var(wi, nw) >= 0) {
    PyErr_SetString(PyExc_TypeError, "engine.push_async: reads and writes must hold engine Vars");
    ok = false;
  }
  if (ok) ok = push_op(fn, name ? name : fn, ri, nr, wi, nw, true, true);
  Py_DECREF(r);
  Py_DECREF(w);
  if (!ok) return nullptr;
  Py_RETURN_NONE;
}

PyMethodDef kAsyncMethods[] = {
    {"push_async", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(py_push_async)),
     METH_VARARGS | METH_KEYWORDS,
     "push_async(fn, reads, writes, name)\n--\n\n"
     "Schedule fn(done) like push; the op holds its vars until done() or done(exc) is "
     "called (from any thread).  Threaded engine only."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

PyObject* call_async(Op* op, PyObject** done_exc, bool* deferred) {
  *done_exc = nullptr;
  *deferred = false;
  DoneObj* d = PyObject_New(DoneObj, &DoneType);
  if (!d) return nullptr;
  d->op = op;
  d->returned = false;
  d->called = false;
  d->exc = nullptr;
  PyObject* r = PyObject_CallOneArg(op->fn, reinterpret_cast<PyObject*>(d));
  if (r && !d->called) {
    d->returned = true;  // from here on done() (or done's dealloc) completes op
    *deferred = true;
  } else {
    d->op = nullptr;  // completed (or failed) synchronously: done() has nothing to do
    if (r) {
      *done_exc = d->exc;
      d->exc = nullptr;
    }
  }
  Py_DECREF(reinterpret_cast<PyObject*>(d));
  return r;
}

int init_async(PyObject* m) {
  DoneType.tp_name = "plait._engine.AsyncDone";
  DoneType.tp_doc = "Completion callback of an async engine op: done(exc=None).";
  DoneType.tp_basicsize = sizeof(DoneObj);
  DoneType.tp_flags = Py_TPFLAGS_DEFAULT;
  DoneType.tp_dealloc = done_dealloc;
  DoneType.tp_call = done_call;
  if (PyType_Ready(&DoneType) < 0) return -1;
  return PyModule_AddFunctions(m, kAsyncMethods);
}

}  // namespace plait
