// A caching allocator for NumPy array data (NumPy's PyDataMem_Handler, NEP 49), the CPU
// counterpart of MXNet's pooled storage manager.
//
// Why: a training step frees and re-allocates the same large arrays every step (op
// outputs, gradients, a hybridized block's fresh outputs).  glibc serves blocks above its
// mmap threshold with fresh mappings, so every step faults their pages in again (~0.7 ms
// per 45 MB here) and zero-fills them.  This handler keeps freed blocks of 256 KiB and
// more in per-size-class free lists (16 classes per power of two, so at most 1/16 is
// wasted) up to a byte cap, and hands them out again; a full cache frees its oldest blocks.  Smaller blocks, and every block it
// did not allocate itself, go to NumPy's default handler unchanged.
//
// Installed per thread (NumPy keeps the handler in a context variable): by plait at import
// for the importing thread, and by each engine worker when it starts.  Every array records
// the handler that allocated it, so arrays cross threads freely.  The lock guards the
// lists; NumPy calls these with the GIL held, the lock keeps that from being an assumption.
#include <pybind11/pybind11.h>

#include <pthread.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iterator>
#include <list>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "mempool.h"

namespace py = pybind11;

namespace plait {
namespace {

// NumPy's handler structs (numpy/ndarraytypes.h, ABI-stable since 1.22): declared here so
// the build needs no NumPy headers.
struct Allocator {
  void* ctx;
  void* (*malloc)(void* ctx, size_t size);
  void* (*calloc)(void* ctx, size_t nelem, size_t elsize);
  void* (*realloc)(void* ctx, void* ptr, size_t new_size);
  void (*free)(void* ctx, void* ptr, size_t size);
};
struct Handler {
  char name[127];
  uint8_t version;
  Allocator allocator;
};
// Slots of NumPy's C-API table (numpy/__multiarray_api.h, stable since 1.22).
constexpr int kSetHandler = 304, kGetHandler = 305;

constexpr size_t kMinPooled = 256 << 10;

struct Pool {
  std::mutex mu;
  // Cached blocks, oldest first; per class, the same blocks (oldest first) as positions in
  // `lru`.  A miss takes a class's newest block; a full cache evicts the oldest blocks of
  // any class, so blocks a workload no longer asks for (one-off sizes from a first call, a
  // resized batch) make room for the ones it does instead of pinning the cap.
  struct Cached { void* b; size_t cls; };
  std::list<Cached> lru;
  std::unordered_map<size_t, std::deque<std::list<Cached>::iterator>> free_lists;
  std::unordered_map<void*, size_t> owned;                   // our blocks -> class bytes
  size_t cached = 0, cap = 0;
  uint64_t hits = 0, misses = 0;
  Allocator dflt{};  // NumPy's default handler
};

Pool* g_pool = nullptr;
PyObject* g_capsule = nullptr;          // our handler, as NumPy wants it
void** g_api = nullptr;                 // NumPy's C-API table
Handler g_handler;

size_t size_class(size_t n) {
  size_t top = size_t(1) << (63 - __builtin_clzll(n));  // highest power of two <= n
  size_t step = top >= 16 ? top / 16 : 1;
  return (n + step - 1) / step * step;
}

void* take(size_t n, bool zero) {
  Pool& p = *g_pool;
  const size_t cls = size_class(n);
  {
    std::lock_guard<std::mutex> g(p.mu);
    auto it = p.free_lists.find(cls);
    if (it != p.free_lists.end() && !it->second.empty()) {
      auto pos = it->second.back();
      void* b = pos->b;
      it->second.pop_back();
      p.lru.erase(pos);
      p.cached -= cls;
      ++p.hits;
      if (zero) std::memset(b, 0, n);
      return b;
    }
    ++p.misses;
  }
  // calloc: lazily zeroed pages.  No MADV_HUGEPAGE, unlike NumPy's default allocator: with
  // the common THP defrag=madvise setting, first touches of advised memory stall in direct
  // compaction (ResNet-50's first hybridized call: 0.17-0.34 s of system time, 0.09 s
  // without), and pooled blocks stay resident, so huge pages bought no steady-state speed.
  void* b = zero ? std::calloc(1, cls) : std::malloc(cls);
  if (b) {
    std::lock_guard<std::mutex> g(p.mu);
    p.owned[b] = cls;
  }
  return b;
}

void* h_malloc(void*, size_t n) {
  return n >= kMinPooled ? take(n, false) : g_pool->dflt.malloc(g_pool->dflt.ctx, n);
}

void* h_calloc(void*, size_t nelem, size_t elsize) {
  if (elsize && nelem > SIZE_MAX / elsize) return nullptr;
  const size_t n = nelem * elsize;
  return n >= kMinPooled ? take(n, true) : g_pool->dflt.calloc(g_pool->dflt.ctx, nelem, elsize);
}

// The class size of one of our blocks, or 0 for a block of NumPy's default handler.
size_t owned_size(void* b) {
  std::lock_guard<std::mutex> g(g_pool->mu);
  auto it = g_pool->owned.find(b);
  return it == g_pool->owned.end() ? 0 : it->second;
}

void give_back(void* b, size_t cls) {
  Pool& p = *g_pool;
  std::vector<void*> evicted;
  {
    std::lock_guard<std::mutex> g(p.mu);
    if (cls > p.cap) {
      p.owned.erase(b);
      evicted.push_back(b);
    } else {
      while (p.cached + cls > p.cap) {  // evict the oldest cached blocks
        const Pool::Cached old = p.lru.front();
        p.free_lists[old.cls].pop_front();  // the class's oldest: lru's front
        p.lru.pop_front();
        p.cached -= old.cls;
        p.owned.erase(old.b);
        evicted.push_back(old.b);
      }
      p.lru.push_back({b, cls});
      p.free_lists[cls].push_back(std::prev(p.lru.end()));
      p.cached += cls;
    }
  }
  for (void* e : evicted) std::free(e);
}

void h_free(void*, void* b, size_t n) {
  if (!b) return;
  const size_t cls = owned_size(b);
  if (cls) {
    give_back(b, cls);
  } else {
    g_pool->dflt.free(g_pool->dflt.ctx, b, n);
  }
}

void* h_realloc(void*, void* b, size_t n) {
  if (!b) return h_malloc(nullptr, n);
  const size_t cls = owned_size(b);
  if (!cls) return g_pool->dflt.realloc(g_pool->dflt.ctx, b, n);
  if (n <= cls && size_class(n) == cls) return b;
  void* nb = h_malloc(nullptr, n);
  if (!nb) return nullptr;
  std::memcpy(nb, b, n < cls ? n : cls);
  give_back(b, cls);
  return nb;
}

void release_all() {
  if (!g_pool) return;
  std::vector<void*> blocks;
  {
    std::lock_guard<std::mutex> g(g_pool->mu);
    for (const Pool::Cached& c : g_pool->lru) {
      blocks.push_back(c.b);
      g_pool->owned.erase(c.b);
    }
    g_pool->lru.clear();
    g_pool->free_lists.clear();
    g_pool->cached = 0;
  }
  for (void* b : blocks) std::free(b);
}

void after_fork_child() {
  if (g_pool) new (&g_pool->mu) std::mutex();  // a lock held by another thread at fork
}

void** numpy_api() {
  for (const char* mod : {"numpy._core._multiarray_umath", "numpy.core._multiarray_umath"}) {
    try {
      py::object cap = py::module_::import(mod).attr("_ARRAY_API");
      return static_cast<void**>(PyCapsule_GetPointer(cap.ptr(), nullptr));
    } catch (py::error_already_set&) {
      PyErr_Clear();
    }
  }
  return nullptr;
}

// Installs the pool for the calling thread; creates it on first use.  False if this NumPy
// has no handler API.
bool enable(size_t cap_bytes) {
  if (!g_pool) {
    void** api = numpy_api();
    if (!api) return false;
    using GetFn = PyObject* (*)();
    PyObject* cur = reinterpret_cast<GetFn>(api[kGetHandler])();
    if (!cur) {
      PyErr_Clear();
      return false;
    }
    auto* dh = static_cast<Handler*>(PyCapsule_GetPointer(cur, "mem_handler"));
    Py_DECREF(cur);
    if (!dh) {
      PyErr_Clear();
      return false;
    }
    g_pool = new Pool();
    g_pool->dflt = dh->allocator;
    std::memset(&g_handler, 0, sizeof g_handler);
    std::strncpy(g_handler.name, "plait_pool", sizeof g_handler.name - 1);
    g_handler.version = 1;
    g_handler.allocator = {nullptr, h_malloc, h_calloc, h_realloc, h_free};
    g_capsule = PyCapsule_New(&g_handler, "mem_handler", nullptr);
    g_api = api;
    pthread_atfork(nullptr, nullptr, after_fork_child);
  }
  {
    std::lock_guard<std::mutex> g(g_pool->mu);
    g_pool->cap = cap_bytes;
  }
  return mempool_attach_thread();
}

}  // namespace

bool mempool_attach_thread() {
  if (!g_capsule) return false;
  using SetFn = PyObject* (*)(PyObject*);
  PyObject* old = reinterpret_cast<SetFn>(g_api[kSetHandler])(g_capsule);
  if (!old) {
    PyErr_Clear();
    return false;
  }
  Py_DECREF(old);
  return true;
}

void register_mempool(py::module_& m) {
  m.def("mempool_enable", &enable, py::arg("cap_bytes"),
        "Use the caching allocator for NumPy arrays made by this thread (and, from now on, "
        "by engine workers); cap_bytes bounds the freed bytes kept for reuse.");
  m.def("mempool_release", &release_all, "Free every cached block.");
  m.def("mempool_stats", [] {
    py::dict d;
    if (!g_pool) return d;
    std::lock_guard<std::mutex> g(g_pool->mu);
    d["cached_bytes"] = g_pool->cached;
    d["cap_bytes"] = g_pool->cap;
    d["hits"] = g_pool->hits;
    d["misses"] = g_pool->misses;
    d["blocks"] = g_pool->owned.size();
    return d;
  }, "Counters of the caching allocator (empty before mempool_enable).");
}

}  // namespace plait
