// plait dependency engine: scheduling, workers, exception bookkeeping.
#include "engine.h"
#include "mempool.h"

namespace plait {

Engine* g_engine = nullptr;
thread_local Op* t_current_op = nullptr;

namespace {
constexpr int kMaxFreeOps = 4096;

// Replaces v's stored exception (and the raising op's name) by exc/origin (either
// may be nullptr).  GIL held, engine mutex not held (old objects may run __del__).
void set_var_exc(VarObj* v, PyObject* exc, PyObject* origin) {
  PyObject* old = v->exc;
  PyObject* old_op = v->exc_op;
  Py_XINCREF(exc);
  Py_XINCREF(origin);
  v->exc = exc;
  v->exc_op = origin;
  Py_XDECREF(old);
  Py_XDECREF(old_op);
}
// The raised exception instance (new reference, traceback attached); clears the error.
PyObject* fetch_exception() {
#if PY_VERSION_HEX >= 0x030C0000
  return PyErr_GetRaisedException();
#else
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (value == nullptr) {  // cannot happen after normalisation; be safe
    value = type;
    Py_XINCREF(value);
  }
  if (tb && value) PyException_SetTraceback(value, tb);
  Py_XDECREF(type);
  Py_XDECREF(tb);
  return value;
#endif
}
}  // namespace

Engine::Engine(int nworkers) : nworkers_(nworkers < 1 ? 1 : nworkers) {}

// ---------------------------------------------------------------- ops (GIL held)
Op* Engine::alloc_op(int ndeps) {
  Op* op = free_list_;
  if (op) {
    free_list_ = op->next_free;
    --nfree_;
  } else {
    op = new Op();
  }
  op->fn = nullptr;
  op->name = nullptr;
  op->pending = 0;
  op->ndeps = 0;
  op->sync_cv = nullptr;
  op->granted = false;
  op->next_free = nullptr;
  op->async_op = false;
  op->nbytes = 0;
  if (ndeps <= kInlineDeps) {
    op->deps = op->inline_deps;
    op->cap = kInlineDeps;
  } else {
    op->deps = new Dep[ndeps];
    op->cap = ndeps;
  }
  return op;
}

void Engine::free_op(Op* op) {
  // Detach everything first: the decrefs below may run arbitrary Python code.
  PyObject* fn = op->fn;
  PyObject* name = op->name;
  int n = op->ndeps;
  op->fn = op->name = nullptr;
  op->ndeps = 0;
  for (int i = 0; i < n; ++i) Py_DECREF(reinterpret_cast<PyObject*>(op->deps[i].var));
  if (op->deps != op->inline_deps) delete[] op->deps;
  op->deps = op->inline_deps;
  if (nfree_ < kMaxFreeOps) {
    op->next_free = free_list_;
    free_list_ = op;
    ++nfree_;
  } else {
    delete op;
  }
  Py_XDECREF(fn);
  Py_XDECREF(name);
}

void Engine::ensure_started() {
  if (started_ || stopped_gil_) return;
  started_ = true;
  stopping_ = false;
  for (int i = 0; i < nworkers_; ++i) threads_.push_back(new std::thread([this] { worker_main(); }));
}

bool Engine::submit(Op* op, bool run_here) {
  ensure_started();
  std::unique_lock<std::mutex> lk(mu_);
  if (stopped_) return false;
  int waiting = 0;
  for (int i = 0; i < op->ndeps; ++i) {
    Dep* d = &op->deps[i];
    d->op = op;
    if (!try_grant(d)) ++waiting;
  }
  op->pending = waiting;
  ++pending_;
  pending_bytes_ += op->nbytes;
  if (waiting == 0) {
    if (run_here) {  // every dependency is granted: run it now, as a worker would
      run_granted(op, lk);
      return true;
    }
    ready_.push_back(op);
    wake_worker_if_needed();
  }
  return true;
}

bool Engine::execute(Op* op) {
  PyObject* exc = nullptr;
  PyObject* origin = nullptr;
  bool raised = false;
  for (int i = 0; i < op->ndeps; ++i) {  // poisoned input: skip the op
    const Dep& d = op->deps[i];
    if (d.input && d.var->exc) {
      exc = d.var->exc;
      origin = d.var->exc_op;
      Py_INCREF(exc);
      Py_XINCREF(origin);
      break;
    }
  }
  if (!exc) {
    Op* saved = t_current_op;
    t_current_op = op;
    PyObject* done_exc = nullptr;
    bool deferred = false;
    PyObject* r = op->async_op ? call_async(op, &done_exc, &deferred)
                               : PyObject_CallNoArgs(op->fn);
    t_current_op = saved;
    if (deferred) {  // async op started: done() completes it later
      Py_DECREF(r);
      return true;
    }
    if (r) {
      Py_DECREF(r);
      exc = done_exc;  // done() called before fn returned, perhaps with an exception
      if (exc) {
        origin = op->name;
        Py_XINCREF(origin);
        raised = true;
      }
    } else {
      exc = fetch_exception();
      origin = op->name;
      Py_XINCREF(origin);
      raised = exc != nullptr;
    }
  }
  for (int i = 0; i < op->ndeps; ++i) {
    const Dep& d = op->deps[i];
    if (d.write && (exc || d.var->exc)) set_var_exc(d.var, exc, origin);
  }
  if (raised) record_exception(exc, origin);
  Py_XDECREF(exc);
  Py_XDECREF(origin);
  return false;
}

void Engine::complete_async(Op* op, PyObject* exc) {
  PyObject* origin = exc ? op->name : nullptr;
  for (int i = 0; i < op->ndeps; ++i) {
    const Dep& d = op->deps[i];
    if (d.write && (exc || d.var->exc)) set_var_exc(d.var, exc, origin);
  }
  if (exc) record_exception(exc, origin);
  {
    std::unique_lock<std::mutex> lk(mu_);
    release_locked(op);
    wake_worker_if_needed();
  }
  free_op(op);
}

void Engine::record_exception(PyObject* exc, PyObject* op) {
  Py_INCREF(exc);
  Py_XINCREF(op);
  errors_.push_back(ExcEntry{exc, op, false});
}

// ------------------------------------------------------------ scheduling (mutex)
bool Engine::try_grant(Dep* d) {
  VarObj* v = d->var;
  if (!v->head && !v->running_write && (!d->write || v->running_reads == 0)) {
    if (d->write)
      v->running_write = true;
    else
      ++v->running_reads;
    return true;
  }
  d->next = nullptr;
  if (v->tail)
    v->tail->next = d;
  else
    v->head = d;
  v->tail = d;
  return false;
}

void Engine::dec_pending(Op* op) {
  if (--op->pending != 0) return;
  if (op->fn) {
    ready_.push_back(op);
  } else {
    op->granted = true;
    op->sync_cv->notify_one();
  }
}

void Engine::grant_next(VarObj* v) {
  while (Dep* d = v->head) {
    if (v->running_write) break;
    if (d->write) {
      if (v->running_reads) break;
      v->running_write = true;
    } else {
      ++v->running_reads;
    }
    v->head = d->next;
    if (!v->head) v->tail = nullptr;
    dec_pending(d->op);
  }
}

void Engine::release_locked(Op* op) {
  for (int i = 0; i < op->ndeps; ++i) {
    VarObj* v = op->deps[i].var;
    if (op->deps[i].write)
      v->running_write = false;
    else
      --v->running_reads;
    grant_next(v);
  }
  if (!op->fn) return;
  if (op->nbytes) {
    pending_bytes_ -= op->nbytes;
    if (throttled_ && pending_bytes_ <= max_pending_bytes_) room_cv_.notify_all();
  }
  if (--pending_ == 0) idle_cv_.notify_all();
}

void Engine::wake_worker_if_needed() {
  if (!ready_.empty() && idle_ > 0) work_cv_.notify_one();
}

int64_t Engine::pending_bytes() {
  std::lock_guard<std::mutex> lk(mu_);
  return pending_bytes_;
}

int64_t Engine::num_pending() {
  std::lock_guard<std::mutex> lk(mu_);
  return pending_;
}

// ------------------------------------------------------------------- workers
void Engine::worker_main() {
  PyGILState_STATE gs = PyGILState_Ensure();
  mempool_attach_thread();  // arrays the kernels make here come from the pool too
  PyThreadState* ts = PyEval_SaveThread();
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    while (ready_.empty() && !stopping_) {
      ++idle_;
      work_cv_.wait(lk);
      --idle_;
    }
    if (ready_.empty()) break;  // stopping and nothing left
    // Take the GIL before popping: an op is never stuck in a worker waiting for the
    // GIL, so a thread that holds the GIL and waits for it can run it at once.
    lk.unlock();
    PyEval_RestoreThread(ts);
    lk.lock();
    Op* op = nullptr;
    if (!ready_.empty()) {
      op = ready_.front();
      ready_.pop_front();
    }
    lk.unlock();
    // Holding the GIL, run ready ops back to back until none is left.
    while (op) {
      bool deferred = execute(op);  // if set, done() owns op from now on
      lk.lock();
      if (!deferred) release_locked(op);
      Op* next = nullptr;
      if (!ready_.empty()) {
        next = ready_.front();
        ready_.pop_front();
        wake_worker_if_needed();
      }
      lk.unlock();
      if (!deferred) free_op(op);
      op = next;
    }
    ts = PyEval_SaveThread();
    lk.lock();
  }
  lk.unlock();
  PyEval_RestoreThread(ts);
  PyGILState_Release(gs);
}

}  // namespace plait
