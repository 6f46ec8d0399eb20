// plait dependency engine: waits (with helping), shutdown and fork handling.
#include "engine.h"

#include <new>

namespace plait {

// -------------------------------------------------------------- waits (GIL held)
namespace {
// None or (exc, op_name); marks exc as surfaced in the global list.
PyObject* var_result(VarObj* v, std::vector<ExcEntry>& errors) {
  if (!v->exc) Py_RETURN_NONE;
  for (ExcEntry& e : errors)
    if (e.exc == v->exc) e.surfaced = true;
  return PyTuple_Pack(2, v->exc, v->exc_op ? v->exc_op : Py_None);
}
}  // namespace

PyObject* Engine::wait_var(VarObj* v, bool write) {
  if (Op* cur = t_current_op) {
    // Called from inside an op on one of its own vars: the op already holds the
    // access it needs; waiting could deadlock behind ops queued after it.
    for (int i = 0; i < cur->ndeps; ++i)
      if (cur->deps[i].var == v) return var_result(v, errors_);
  }
  std::unique_lock<std::mutex> lk(mu_);
  bool clear = !v->head && !v->running_write && (!write || v->running_reads == 0);
  if (clear) {
    lk.unlock();
    return var_result(v, errors_);  // nothing can change v->exc while we hold the GIL
  }
  // Queue a sync op on v; it keeps its grant until we have read v's exception.
  Op sop;
  std::condition_variable cv;
  sop.fn = nullptr;
  sop.name = nullptr;
  sop.ndeps = 1;
  sop.cap = kInlineDeps;
  sop.deps = sop.inline_deps;
  sop.deps[0] = Dep{v, &sop, nullptr, write, false};
  sop.sync_cv = &cv;
  sop.granted = try_grant(&sop.deps[0]);
  sop.pending = sop.granted ? 0 : 1;
  // Run ready ops here (we hold the GIL) rather than paying a thread hand-off; sleep
  // only when nothing is ready and our grant is still missing.
  while (!sop.granted && help_one(lk)) {
  }
  if (!sop.granted) {
    lk.unlock();
    PyThreadState* ts = PyEval_SaveThread();
    lk.lock();
    while (!sop.granted) cv.wait(lk);
    lk.unlock();
    PyEval_RestoreThread(ts);
  } else {
    lk.unlock();
  }
  PyObject* res = var_result(v, errors_);
  lk.lock();
  release_locked(&sop);
  wake_worker_if_needed();
  return res;
}

bool Engine::help_one(std::unique_lock<std::mutex>& lk) {
  if (ready_.empty()) return false;
  Op* op = ready_.front();
  ready_.pop_front();
  run_granted(op, lk);
  return true;
}

void Engine::run_granted(Op* op, std::unique_lock<std::mutex>& lk) {
  lk.unlock();
  if (execute(op)) {  // an async op that done() completes later: not ours any more
    lk.lock();
    return;
  }
  lk.lock();
  release_locked(op);
  wake_worker_if_needed();
  lk.unlock();
  free_op(op);
  lk.lock();
}

void Engine::throttle() {
  const int64_t bound = max_pending_bytes_;
  if (bound <= 0 || t_current_op || sync_mode()) return;
  // No helping here (unlike the waits): a throttled pusher that picked up a long kernel
  // could not push again until it finished, while the workers ran dry (LSTM training
  // step: 20 % slower with helping, unchanged without).
  std::unique_lock<std::mutex> lk(mu_);
  if (pending_bytes_ <= bound) return;
  lk.unlock();
  PyThreadState* ts = PyEval_SaveThread();
  lk.lock();
  ++throttled_;
  while (pending_bytes_ > bound) room_cv_.wait(lk);
  --throttled_;
  lk.unlock();
  PyEval_RestoreThread(ts);
}

void Engine::wait_idle() {
  std::unique_lock<std::mutex> lk(mu_);
  while (pending_ != 0 && help_one(lk)) {
  }
  if (pending_ == 0) return;
  lk.unlock();
  PyThreadState* ts = PyEval_SaveThread();
  lk.lock();
  while (pending_ != 0) idle_cv_.wait(lk);
  lk.unlock();
  PyEval_RestoreThread(ts);
}

PyObject* Engine::wait_all() {
  if (t_current_op) {
    PyErr_SetString(PyExc_RuntimeError,
                    "plait engine: wait_all() called from inside an engine operator "
                    "(it would wait for itself)");
    return nullptr;
  }
  wait_idle();
  std::vector<ExcEntry> errs;
  errs.swap(errors_);
  PyObject* res = nullptr;
  for (ExcEntry& e : errs) {
    if (!e.surfaced) {
      res = PyTuple_Pack(2, e.exc, e.op ? e.op : Py_None);
      break;
    }
  }
  for (ExcEntry& e : errs) {
    Py_DECREF(e.exc);
    Py_XDECREF(e.op);
  }
  if (!res) Py_RETURN_NONE;
  return res;
}

void Engine::shutdown() {
  if (stopped_gil_) return;
  if (t_current_op) return;  // cannot join the worker we are running on
  PyThreadState* ts = PyEval_SaveThread();
  {
    std::unique_lock<std::mutex> lk(mu_);
    while (pending_ != 0) idle_cv_.wait(lk);
    stopped_ = true;
    stopping_ = true;
    work_cv_.notify_all();
  }
  for (std::thread* t : threads_) {
    t->join();
    delete t;
  }
  threads_.clear();
  PyEval_RestoreThread(ts);
  stopped_gil_ = true;
}

void Engine::after_fork_child() {
  // Only the forking thread survives: rebuild the synchronisation objects (another
  // thread may have held them) and forget the dead workers (their std::thread
  // objects are leaked on purpose: destroying a joinable std::thread aborts).
  new (&mu_) std::mutex();
  new (&work_cv_) std::condition_variable();
  new (&idle_cv_) std::condition_variable();
  new (&room_cv_) std::condition_variable();
  threads_.clear();
  ready_.clear();
  pending_ = 0;
  pending_bytes_ = 0;
  throttled_ = 0;
  idle_ = 0;
  started_ = false;
  stopping_ = false;
}

}  // namespace plait
