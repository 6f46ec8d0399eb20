// plait compute kernels' thread pool: parallel_for over [0, n) on a few persistent threads.
//
// The C++ kernels (kernels_*.cc) are memory-bound loops (im2col, col2im, pooling, channel
// affine, gate math) called with the GIL released from engine workers.  Spawning threads
// per call costs tens of microseconds, so a small pool lives for the process: the caller
// runs the first chunk itself and waits for the others.  Thread count: PLAIT_KERNEL_THREADS,
// else OMP_NUM_THREADS, else the number of hardware threads (capped at 8).  Calls from
// several threads at once are serialised (one parallel region at a time); a call made
// while the pool is busy, or from inside a chunk, runs serially instead of waiting.
#pragma once

#include <cstddef>
#include <functional>

namespace plait {

// Number of threads parallel_for may use (>= 1).
int kernel_threads();

// Runs fn(begin, end) over disjoint chunks covering [0, n); chunks have at least `grain`
// items (so small loops stay on the calling thread).  Blocks until every chunk is done.
void parallel_for(std::ptrdiff_t n, std::ptrdiff_t grain,
                  const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>& fn);

}  // namespace plait
