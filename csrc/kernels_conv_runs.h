// The runs of im2col / col2im (kernels_conv.cc): one kernel position's O-run gathered
// from, or scatter-added into, one input plane, and the batched forms over the runs of
// several images (gather_runs / scatter_runs) that the im2col_t / col2im_t loops call.
#pragma once

#include <algorithm>
#include <cstring>

#include "kernels_window.h"

namespace plait {
namespace conv_runs {

using window::Geo;
using window::idx;
using window::Span;

// One output plane (OH x OW) of a kernel position from the input plane `sd` (IH x IW):
// rows [lo1, hi1) and columns [wlo, whi) of the span read the input, the rest is zero.
// Rows are moved as fixed-size blocks (window::copy_bytes, see "Short rows").
template <typename T>
inline void gather_plane(T* blk, const T* sd, const Geo& g, const Span& sp) {
  const idx OH = g.out[1], OW = g.out[2], IW = g.in[2], sw = g.s[2];
  const idx wlo = sp.lo[2], whi = sp.hi[2], len = whi - wlo, lo1 = sp.lo[1], hi1 = sp.hi[1];
  window::zero_elems(blk, lo1 * OW);
  const T* in = sd + (lo1 * g.s[1] + sp.off[1]) * IW + sp.off[2];
  const idx istep = g.s[1] * IW;
  T* row = blk + lo1 * OW;
  if (sw == 1 && len == OW) {  // no padding on the rows: one fixed-size copy per row
    const idx L = OW * sizeof(T);
    window::with_row_class(L, [&](auto c) {
      constexpr int Cls = decltype(c)::value;
      for (idx oh = lo1; oh < hi1; ++oh, row += OW, in += istep)
        window::copy_bytes<Cls>(reinterpret_cast<char*>(row), reinterpret_cast<const char*>(in), L);
    });
  } else if (sw == 1) {
    for (idx oh = lo1; oh < hi1; ++oh, row += OW, in += istep) {
      window::zero_elems(row, wlo);
      window::copy_elems(row + wlo, in + wlo, len);
      window::zero_elems(row + whi, OW - whi);
    }
  } else {
    for (idx oh = lo1; oh < hi1; ++oh, row += OW, in += istep) {
      window::zero_elems(row, wlo);
      for (idx o = wlo; o < whi; ++o) row[o] = in[o * sw];
      window::zero_elems(row + whi, OW - whi);
    }
  }
  window::zero_elems(blk + hi1 * OW, (OH - hi1) * OW);
}

// The O-run `dst` of one kernel position: gathered input, zeros where it reads padding.
template <typename T>
inline void gather_run(T* dst, const T* src, const Geo& g, const Span& sp) {
  const idx OW = g.out[2], IH = g.in[1], IW = g.in[2];
  const idx plane = g.out[1] * OW, wlo = sp.lo[2], whi = sp.hi[2];
  if (sp.empty()) {
    std::fill(dst, dst + g.out_size(), T(0));
    return;
  }
  // Stride 1 and output rows as long as input rows ('same' padding): the run is one
  // contiguous shifted copy of the input plane, then the columns that wrapped around into
  // the neighbouring row are zeroed (far fewer, longer loops than row by row).
  const bool flat = g.s[2] == 1 && g.s[1] == 1 && OW == IW;
  for (idx od = 0; od < g.out[0]; ++od) {
    T* blk = dst + od * plane;
    if (od < sp.lo[0] || od >= sp.hi[0]) {
      std::fill(blk, blk + plane, T(0));
      continue;
    }
    const T* sd = src + (od * g.s[0] + sp.off[0]) * IH * IW;
    if (!flat) {
      gather_plane(blk, sd, g, sp);
      continue;
    }
    const idx shift = sp.off[1] * IW + sp.off[2];
    const idx j0 = sp.lo[1] * OW, j1 = sp.hi[1] * OW;
    const idx c0 = std::max(j0, -shift), c1 = std::max(c0, std::min(j1, IH * IW - shift));
    std::fill(blk, blk + c0, T(0));
    std::memcpy(blk + c0, sd + c0 + shift, sizeof(T) * (c1 - c0));
    std::fill(blk + c1, blk + plane, T(0));
    if (wlo > 0 || whi < OW)
      for (idx oh = sp.lo[1]; oh < sp.hi[1]; ++oh) {
        window::zero_elems(blk + oh * OW, wlo);
        window::zero_elems(blk + oh * OW + whi, OW - whi);
      }
  }
}

// Adds the O-run `src` of one kernel position into the input plane `dst`.
template <typename T>
inline void scatter_run(T* dst, const T* src, const Geo& g, const Span& sp) {
  const idx OH = g.out[1], OW = g.out[2], IH = g.in[1], IW = g.in[2];
  const idx sw = g.s[2], wlo = sp.lo[2], whi = sp.hi[2], len = whi - wlo;
  if (sp.empty()) return;
  const idx ostep = g.s[1] * IW;
  for (idx od = sp.lo[0]; od < sp.hi[0]; ++od) {
    T* out = dst + ((od * g.s[0] + sp.off[0]) * IH + sp.lo[1] * g.s[1] + sp.off[1]) * IW +
             sp.off[2] + wlo * sw;
    const T* row = src + (od * OH + sp.lo[1]) * OW + wlo;
    if (sw == 1) {
      window::with_row_class(len * sizeof(T), [&](auto c) {
        constexpr int Cls = decltype(c)::value;
        for (idx oh = sp.lo[1]; oh < sp.hi[1]; ++oh, row += OW, out += ostep)
          window::add_elems<Cls>(out, row, len);
      });
    } else {
      for (idx oh = sp.lo[1]; oh < sp.hi[1]; ++oh, row += OW, out += ostep)
        for (idx o = 0; o < len; ++o) out[o * sw] += row[o];
    }
  }
}

// True for the spans the hoisted row loops of gather_runs / scatter_runs handle: a 2-d
// window (or a 3-d one at output depth 1) with stride 1 along the row.  Each run of such
// a kernel position is then: zero rows, `rows` rows of [wlo zeros | len copied | OW-whi
// zeros], zero rows, with the same sizes in every run.
inline bool rows_2d(const Geo& g, const Span& sp) {
  return g.out[0] == 1 && g.s[2] == 1 && !sp.empty();
}

// n (0 to a few: the padding columns of a row) zeros, without a memset call.
template <typename T>
inline void zero_few(T* d, idx n) {
  if (n > 0) d[0] = T(0);
  if (n > 1) d[1] = T(0);
  for (idx o = 2; o < n; ++o) d[o] = T(0);
}

// gather_runs for 2-d windows with column stride SW (2: ResNet's downsampling
// convolutions): the per-run work hoisted as for stride 1, the rows strided loops.
template <typename T, int SW>
void gather_runs_strided(T* dst, idx dstep, const T* src, idx sstep, idx count, const Geo& g,
                         const Span& sp) {
  const idx OW = g.out[2], wlo = sp.lo[2], len = sp.hi[2] - wlo, right = OW - sp.hi[2];
  const idx head = sp.lo[1] * OW, istep = g.s[1] * g.in[2], rows = sp.hi[1] - sp.lo[1];
  const idx tail_at = head + rows * OW, tail = g.out_size() - tail_at;
  src += ((sp.lo[0] * g.s[0] + sp.off[0]) * g.in[1] + sp.lo[1] * g.s[1] + sp.off[1]) * g.in[2] +
         sp.off[2] + wlo * SW;
  for (idx j = 0; j < count; ++j, dst += dstep, src += sstep) {
    if (head) window::zero_elems(dst, head);
    T* row = dst + head;
    const T* in = src;
    for (idx oh = 0; oh < rows; ++oh, row += OW, in += istep) {
      zero_few(row, wlo);
      T* __restrict r = row + wlo;
      const T* __restrict q = in;
      for (idx o = 0; o < len; ++o) r[o] = q[o * SW];
      zero_few(row + wlo + len, right);
    }
    if (tail) window::zero_elems(dst + tail_at, tail);
  }
}

// scatter_runs for 2-d windows with column stride SW (see gather_runs_strided).
template <typename T, int SW>
void scatter_runs_strided(T* dst, idx dstep, const T* src, idx sstep, idx count, const Geo& g,
                          const Span& sp) {
  const idx OW = g.out[2], wlo = sp.lo[2], len = sp.hi[2] - wlo, ostep = g.s[1] * g.in[2];
  const idx rows = sp.hi[1] - sp.lo[1];
  dst += ((sp.lo[0] * g.s[0] + sp.off[0]) * g.in[1] + sp.lo[1] * g.s[1] + sp.off[1]) * g.in[2] +
         sp.off[2] + wlo * SW;
  src += sp.lo[1] * OW + wlo;
  for (idx j = 0; j < count; ++j, dst += dstep, src += sstep) {
    T* out = dst;
    const T* row = src;
    for (idx oh = 0; oh < rows; ++oh, row += OW, out += ostep) {
      T* __restrict d = out;
      const T* __restrict q = row;
      for (idx o = 0; o < len; ++o) d[o * SW] += q[o];
    }
  }
}

// `count` runs of one kernel position: run j (at dst + j*dstep) from the input plane at
// src + j*sstep.  For rows_2d spans the per-run work is hoisted out of the loop over runs
// and the row copies are fixed-size blocks (at 8x8 outputs the per-run and per-row
// overheads cost 2-4x the copies themselves).
template <typename T>
void gather_runs(T* dst, idx dstep, const T* src, idx sstep, idx count, const Geo& g,
                 const Span& sp) {
  if (g.out[0] == 1 && g.s[2] == 2 && !sp.empty())
    return gather_runs_strided<T, 2>(dst, dstep, src, sstep, count, g, sp);
  if (!rows_2d(g, sp)) {
    for (idx j = 0; j < count; ++j) gather_run(dst + j * dstep, src + j * sstep, g, sp);
    return;
  }
  const idx OW = g.out[2], wlo = sp.lo[2], len = sp.hi[2] - wlo, right = OW - sp.hi[2];
  const idx head = sp.lo[1] * OW, istep = g.s[1] * g.in[2];
  idx rows = sp.hi[1] - sp.lo[1], L = len * sizeof(T);
  const idx tail_at = head + rows * OW, tail = g.out_size() - tail_at;
  if (len == OW && istep == OW) {  // whole rows, as long as the input's: one contiguous run
    L *= rows;
    rows = 1;
  }
  src += ((sp.lo[0] * g.s[0] + sp.off[0]) * g.in[1] + sp.lo[1] * g.s[1] + sp.off[1]) * g.in[2] +
         sp.off[2] + wlo;
  // By-value captures: the byte stores could alias anything captured by reference,
  // which made GCC reload every loop bound after every row.
  window::with_row_class(L, [=](auto c) mutable {
    constexpr int Cls = decltype(c)::value;
    for (idx j = 0; j < count; ++j, dst += dstep, src += sstep) {
      if (head) window::zero_elems(dst, head);
      T* row = dst + head;
      const T* in = src;
      if (wlo == 0 && right == 0) {  // no padding columns: nothing but the copies
        for (idx oh = 0; oh < rows; ++oh, row += OW, in += istep)
          window::copy_bytes<Cls>(reinterpret_cast<char*>(row), reinterpret_cast<const char*>(in),
                                  L);
      } else {
        for (idx oh = 0; oh < rows; ++oh, row += OW, in += istep) {
          zero_few(row, wlo);
          window::copy_bytes<Cls>(reinterpret_cast<char*>(row + wlo),
                                  reinterpret_cast<const char*>(in), L);
          zero_few(row + wlo + len, right);
        }
      }
      if (tail) window::zero_elems(dst + tail_at, tail);
    }
  });
}

// Adds `count` runs of one kernel position, run j (at src + j*sstep) into the input
// plane at dst + j*dstep, hoisting the per-run work as gather_runs.
template <typename T>
void scatter_runs(T* dst, idx dstep, const T* src, idx sstep, idx count, const Geo& g,
                  const Span& sp) {
  if (g.out[0] == 1 && g.s[2] == 2 && !sp.empty())
    return scatter_runs_strided<T, 2>(dst, dstep, src, sstep, count, g, sp);
  if (!rows_2d(g, sp)) {
    for (idx j = 0; j < count; ++j) scatter_run(dst + j * dstep, src + j * sstep, g, sp);
    return;
  }
  const idx OW = g.out[2], wlo = sp.lo[2], ostep = g.s[1] * g.in[2];
  idx rows = sp.hi[1] - sp.lo[1], len = sp.hi[2] - wlo;
  dst += ((sp.lo[0] * g.s[0] + sp.off[0]) * g.in[1] + sp.lo[1] * g.s[1] + sp.off[1]) * g.in[2] +
         sp.off[2] + wlo;
  src += sp.lo[1] * OW + wlo;
  if (len == OW && ostep == OW) {  // one contiguous run of rows (see gather_runs)
    len *= rows;
    rows = 1;
  }
  window::with_row_class(len * sizeof(T), [=](auto c) mutable {  // by value: see gather_runs
    constexpr int Cls = decltype(c)::value;
    for (idx j = 0; j < count; ++j, dst += dstep, src += sstep) {
      T* out = dst;
      const T* row = src;
      for (idx oh = 0; oh < rows; ++oh, row += OW, out += ostep)
        window::add_elems<Cls>(out, row, len);
    }
  });
}

}  // namespace conv_runs
}  // namespace plait
