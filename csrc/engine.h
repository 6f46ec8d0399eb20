// plait dependency engine: MXNet-style read/write scheduling of Python callables.
//
// Model (same as MXNet's ThreadedEngine): every array owns a Var.  An op is pushed
// with the vars it reads and the vars it writes.  Per var we keep the number of
// granted (running) reads, a granted-write flag and a FIFO of waiting dependencies.
// Each op counts its not-yet-granted dependencies; at zero it becomes ready and a
// worker thread runs it.  On completion the op releases its grants and the head of
// each var's FIFO is granted (all consecutive reads, or one write once nothing runs).
//
// Locking: one engine mutex guards all scheduling state (var grant counters and
// queues, op pending counters, the ready queue).  Everything that touches Python
// objects (exceptions stored on vars, op fn/name refs, the op free list, the global
// exception list) is guarded by the GIL.  Lock order is GIL -> engine mutex; no code
// ever takes the GIL while holding the mutex, and no Python object is released while
// the mutex is held.
#pragma once

#include <Python.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace plait {

struct Op;
struct VarObj;

// One dependency of an op on a var.  Deps live inside the op and are linked directly
// into the var's FIFO while they wait (no allocation per dependency).
struct Dep {
  VarObj* var;
  Op* op;
  Dep* next;   // next waiting dep in var's FIFO
  bool write;  // write dependency (else read)
  bool input;  // the op listed this var in `reads` (checked for poisoning)
};

// The Python-visible Var object.  Scheduling fields: engine mutex.  exc/exc_op: GIL.
struct VarObj {
  PyObject_HEAD
  int running_reads;   // granted reads not yet released
  bool running_write;  // a granted write not yet released
  Dep* head;           // FIFO of waiting deps
  Dep* tail;
  PyObject* exc;       // stored exception instance (owned) or nullptr
  PyObject* exc_op;    // name of the op that raised it (owned) or nullptr
};

extern PyTypeObject VarType;
inline bool is_var(PyObject* o) { return Py_TYPE(o) == &VarType; }
PyObject* new_var_object();  // new reference
int init_var_type();         // PyType_Ready; 0 on success

constexpr int kInlineDeps = 4;

struct Op {
  PyObject* fn;    // owned; nullptr for a sync (wait) op
  PyObject* name;  // owned (fn ops only)
  int pending;     // deps not yet granted (+1 guard while pushing)
  int ndeps;
  int cap;         // capacity of deps
  Dep* deps;       // inline_deps or heap array
  Dep inline_deps[kInlineDeps];
  std::condition_variable* sync_cv;  // sync ops: signalled when granted
  bool granted;                      // sync ops: all deps granted
  Op* next_free;
  // Async ops (push_async): fn(done) starts the work and returns; the op keeps its
  // grants until done() is called, from any thread (async_op.cc).  GIL-guarded.
  bool async_op;
  // Bytes of output buffers allocated for this op before it runs (push ahead throttle).
  int64_t nbytes;
};

// An exception raised by an op, in the global list consumed by wait_all.
struct ExcEntry {
  PyObject* exc;  // owned
  PyObject* op;   // owned
  bool surfaced;  // already raised by a wait_read/wait_write
};

class Engine {
 public:
  explicit Engine(int nworkers);

  // --- GIL held ---------------------------------------------------------------
  Op* alloc_op(int ndeps);
  void free_op(Op* op);  // drops fn/name/var references; mutex NOT held
  // Schedules a fully built fn op (deps filled, refs taken).
  // Returns false (op untouched) once the engine is shut down.  With run_here, an op
  // whose dependencies are all granted at once runs now, in the caller's thread (which
  // holds the GIL), instead of being handed to a worker: for a small Python kernel
  // the hand-off costs more than the kernel, and the GIL would serialise it anyway.
  bool submit(Op* op, bool run_here = false);
  // Runs an op's fn (or propagates an input's exception) and stores the outcome on
  // its write vars.  Never leaves a Python error set.  Returns true for an async op
  // whose fn returned without completing it: done() owns op from then on, the caller
  // must not touch it.
  bool execute(Op* op);
  // Waits until all writes (write=false) or all accesses (write=true) of v pushed so
  // far are done, running ready ops in this thread meanwhile (no hand-off latency).
  // Returns a new reference: None or (exc, op_name).
  PyObject* wait_var(VarObj* v, bool write);
  // Waits for every op; returns None or (exc, op_name) of the first exception not
  // yet surfaced, and clears the global list.  Returns nullptr with a Python error
  // set when called from inside an op.
  PyObject* wait_all();
  void wait_idle();  // wait for every op, consumes no exception
  void shutdown();   // wait_idle, then stop and join the workers
  void after_fork_child();
  void record_exception(PyObject* exc, PyObject* op);  // append to global list
  // Completes a deferred async op (GIL held, mutex not held): stores exc (or clears)
  // on its write vars, releases its grants and frees it.
  void complete_async(Op* op, PyObject* exc);

  bool sync_mode() const { return naive_ || stopped_gil_; }
  bool naive() const { return naive_; }
  void set_naive(bool v) { naive_ = v; }
  int num_workers() const { return nworkers_; }
  int64_t num_pending();
  // Push-ahead throttle: a thread that pushes ops faster than they run (the Python
  // thread of an imperative loop) blocks in throttle() while the pushed-but-unfinished
  // ops hold more than max_pending_bytes of freshly allocated outputs (each push
  // allocates its outputs, so without a bound a whole forward pass would be alive at
  // once).  No-op inside an op and in sync mode; 0 = unbounded.
  void throttle();
  void set_max_pending_bytes(int64_t n) { max_pending_bytes_.store(n); }
  int64_t max_pending_bytes() const { return max_pending_bytes_.load(); }
  int64_t pending_bytes();

 private:
  void ensure_started();
  void worker_main();
  // --- engine mutex held --------------------------------------------------------
  // Runs an op whose deps are all granted in this thread (GIL held; lk locked on entry
  // and on return), then releases its grants and frees it.
  void run_granted(Op* op, std::unique_lock<std::mutex>& lk);
  bool try_grant(Dep* d);      // grant now if possible, else append to FIFO
  void release_locked(Op* op);  // release all grants of op, grant successors
  void grant_next(VarObj* v);
  void dec_pending(Op* op);
  void wake_worker_if_needed();
  // Pops one ready op and runs it in this thread (GIL held; lk is unlocked while
  // running and relocked before returning).  False if nothing was ready.
  bool help_one(std::unique_lock<std::mutex>& lk);

  std::mutex mu_;
  std::condition_variable work_cv_;  // workers wait for ready ops
  std::condition_variable idle_cv_;  // wait_all waits for pending_ == 0
  std::deque<Op*> ready_;
  int64_t pending_ = 0;  // fn ops pushed and not yet completed
  int64_t pending_bytes_ = 0;      // sum of nbytes over those ops
  std::atomic<int64_t> max_pending_bytes_{0};  // throttle bound, 0 = none (set any time)
  int throttled_ = 0;              // threads blocked in throttle()
  std::condition_variable room_cv_;  // throttle() waits for pending_bytes_ <= bound
  int idle_ = 0;         // workers blocked on work_cv_
  bool stopping_ = false;
  bool stopped_ = false;  // after shutdown: push runs synchronously (mutex)
  bool stopped_gil_ = false;  // same flag, read under the GIL
  bool started_ = false;
  bool naive_ = false;
  int nworkers_;
  std::vector<std::thread*> threads_;
  Op* free_list_ = nullptr;  // GIL
  int nfree_ = 0;            // GIL
  std::vector<ExcEntry> errors_;  // GIL
};

// Calls an async op's fn(done) (GIL held).  Returns fn's result (nullptr: it raised).
// *deferred: fn returned without calling done (done() completes op later, op may
// already be gone); when done(exc) was called during fn, *done_exc gets a new
// reference to exc (or stays nullptr).
PyObject* call_async(Op* op, PyObject** done_exc, bool* deferred);

extern Engine* g_engine;
extern thread_local Op* t_current_op;  // the op a worker is executing

}  // namespace plait
