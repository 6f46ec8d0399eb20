// The kernel thread pool behind parallel_for (see parallel.h).
#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <vector>

namespace plait {
namespace {

int env_threads() {
  for (const char* name : {"PLAIT_KERNEL_THREADS", "OMP_NUM_THREADS"}) {
    const char* s = std::getenv(name);
    if (s && *s) {
      long v = std::strtol(s, nullptr, 10);
      if (v >= 1) return static_cast<int>(std::min(v, 64L));
    }
  }
  unsigned hw = std::thread::hardware_concurrency();
  return static_cast<int>(std::max(1u, std::min(hw, 8u)));
}

thread_local bool t_in_region = false;  // inside a chunk: nested calls run serially
std::atomic<bool> g_forked{false};  // a forked child has none of the pool's threads

void mark_forked() { g_forked.store(true); }

class Pool {
 public:
  explicit Pool(int n) : n_(n) {
    for (int i = 1; i < n_; ++i) workers_.emplace_back([this, i] { loop(i); });
  }
  // Never destroyed (threads detached at exit would race with static destruction).
  int size() const { return n_; }

  // Returns false (nothing run) when another region is active.  The range is cut into
  // `chunks` pieces claimed dynamically by the caller and every worker that joins in time:
  // a worker whose core is busy (OpenBLAS threads spin for a while after each GEMM) simply
  // claims fewer pieces, instead of the caller waiting for a fixed share.
  bool run(std::ptrdiff_t n, int chunks,
           const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>& fn) {
    std::unique_lock<std::mutex> region(region_mu_, std::try_to_lock);
    if (!region.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> g(mu_);
      fn_ = &fn;
      n_items_ = n;
      chunks_ = chunks;
      next_.store(0);
      done_.store(0);
      open_ = true;
      ++generation_;
    }
    cv_.notify_all();
    work();
    std::unique_lock<std::mutex> g(mu_);
    done_cv_.wait(g, [this] { return done_.load() == chunks_; });
    open_ = false;  // late workers no longer join; wait for those inside to leave
    done_cv_.wait(g, [this] { return active_ == 0; });
    fn_ = nullptr;
    if (error_) {
      std::exception_ptr e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
    return true;
  }

 private:
  // Claims and runs pieces until none is left.
  void work() {
    t_in_region = true;
    for (;;) {
      int k = next_.fetch_add(1);
      if (k >= chunks_) break;
      std::ptrdiff_t lo = n_items_ * k / chunks_, hi = n_items_ * (k + 1) / chunks_;
      try {
        if (hi > lo) (*fn_)(lo, hi);
      } catch (...) {  // finish the region's bookkeeping; the caller rethrows the first
        std::lock_guard<std::mutex> g(mu_);
        if (!error_) error_ = std::current_exception();
      }
      if (done_.fetch_add(1) + 1 == chunks_) {
        std::lock_guard<std::mutex> g(mu_);
        done_cv_.notify_all();
      }
    }
    t_in_region = false;
  }

  void loop(int) {
    unsigned long seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> g(mu_);
        cv_.wait(g, [&] { return generation_ != seen; });
        seen = generation_;
        if (!open_) continue;
        ++active_;
      }
      work();
      std::lock_guard<std::mutex> g(mu_);
      if (--active_ == 0) done_cv_.notify_all();
    }
  }

  int n_;
  std::vector<std::thread> workers_;
  std::mutex region_mu_, mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>* fn_ = nullptr;
  std::ptrdiff_t n_items_ = 0;
  int chunks_ = 1;
  std::atomic<int> next_{0}, done_{0};
  bool open_ = false;
  int active_ = 0;
  std::exception_ptr error_;
  unsigned long generation_ = 0;
};

Pool* pool() {
  static Pool* p = [] {
    pthread_atfork(nullptr, nullptr, mark_forked);
    return new Pool(env_threads());
  }();
  return p;
}

}  // namespace

int kernel_threads() { return pool()->size(); }

void parallel_for(std::ptrdiff_t n, std::ptrdiff_t grain,
                  const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<std::ptrdiff_t>(1, grain);
  // Up to 4 pieces per thread (each at least `grain` items) for dynamic balancing.
  int chunks = static_cast<int>(std::min<std::ptrdiff_t>(4 * kernel_threads(), n / grain));
  if (kernel_threads() <= 1 || chunks <= 1 || t_in_region || g_forked.load() ||
      !pool()->run(n, chunks, fn))
    fn(0, n);
}

}  // namespace plait
