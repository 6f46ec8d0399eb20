// Shared by the engine's Python entry points (pyapi.cc's push, graph_exec.cc's
// run_graph): checking reads/writes Var arguments and pushing one op over them.
#pragma once

#include <Python.h>

namespace plait {

// The index of the first of items[0, n) that is not an engine Var, or -1.
Py_ssize_t first_non_var(PyObject* const* items, Py_ssize_t n);

// Runs fn() in the caller's thread (NaiveEngine, or after shutdown).  An exception
// propagates unchanged (returns false); success clears any exception left on the write
// vars.
bool run_sync(PyObject* fn, PyObject* const* writes, Py_ssize_t nw);

// Pushes fn (GIL held) reading reads[0, nr) and writing writes[0, nw) (all engine Vars);
// `here`: it may run in this thread when its vars are free.  Returns false with a Python
// error set on failure.
// async_op: fn is called as fn(done) and the op completes when done() is called
// (async_op.cc; threaded engine only).
// nbytes: bytes of outputs allocated for this op at push (Engine::throttle counts them);
// a pusher with nbytes > 0 may block in Engine::throttle after the push.
bool push_op(PyObject* fn, PyObject* name, PyObject* const* reads, Py_ssize_t nr,
             PyObject* const* writes, Py_ssize_t nw, bool here, bool async_op = false,
             int64_t nbytes = 0);

}  // namespace plait
