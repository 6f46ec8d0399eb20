// The kernel thread pool behind parallel_for (see parallel.h).
#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
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

  // Returns false (nothing run) when another region is active.
  bool run(std::ptrdiff_t n, int parts,
           const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>& fn) {
    std::unique_lock<std::mutex> region(region_mu_, std::try_to_lock);
    if (!region.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> g(mu_);
      fn_ = &fn;
      n_items_ = n;
      parts_ = parts;
      pending_.store(parts - 1);
      ++generation_;
    }
    cv_.notify_all();
    chunk(0);
    std::unique_lock<std::mutex> g(mu_);
    done_cv_.wait(g, [this] { return pending_.load() == 0; });
    fn_ = nullptr;
    return true;
  }

 private:
  void chunk(int part) {
    std::ptrdiff_t lo = n_items_ * part / parts_, hi = n_items_ * (part + 1) / parts_;
    t_in_region = true;
    if (hi > lo) (*fn_)(lo, hi);
    t_in_region = false;
  }

  void loop(int id) {
    unsigned long seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> g(mu_);
        cv_.wait(g, [&] { return generation_ != seen; });
        seen = generation_;
        if (id >= parts_) continue;
      }
      chunk(id);
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> g(mu_);
        done_cv_.notify_all();
      }
    }
  }

  int n_;
  std::vector<std::thread> workers_;
  std::mutex region_mu_, mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>* fn_ = nullptr;
  std::ptrdiff_t n_items_ = 0;
  int parts_ = 1;
  std::atomic<int> pending_{0};
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
  int parts = static_cast<int>(std::min<std::ptrdiff_t>(kernel_threads(), n / grain));
  if (parts <= 1 || t_in_region || g_forked.load() || !pool()->run(n, parts, fn)) fn(0, n);
}

}  // namespace plait
