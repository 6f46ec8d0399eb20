// Compiled copies around the convolution GEMMs (core/ops/nn_conv_impl.py): im2col, the
// col2im scatter-add and the transposing copies between the image-major (n, F, P) and
// channel-major (F, n*P) layouts.  The GEMMs themselves stay in NumPy's matmul.
//
// Column layouts (K = kernel positions, O = output positions, both row-major):
//   image-major   (n, C, K, O): one block of K*O per (image, channel);
//   channel-major (C, K, n, O): the O-run of (channel, kernel position, image) at
//                               ((c*K + kid)*n + i)*O.
// Either way every (image, channel, kernel position) owns one contiguous O-run.  The
// parallel items are (image, channel) pairs, or for the channel-major layout channels
// (col2im) and (channel, block of images) pairs (im2col): im2col items write disjoint
// runs and col2im items own whole input planes, so no two threads write one element.
// col2im adds a plane's kernel positions in row-major order, the order of the xp path's
// one-slice-add-per-offset loop, so both give the same sums.  Geometry checks are the
// Python caller's; these kernels only keep every access inside the arrays they got.
// Speed: output rows are short (LeNet's conv2: 8 floats), so for 2-d windows the runs of
// one kernel position are handled together with their sizes fixed once (gather_runs,
// scatter_runs) and rows move as fixed-size blocks (kernels_window.h "Short rows"): LeNet's
// conv2 im2col and col2im went from ~4x to ~1.3x the time of a plain copy of the columns.
#include <algorithm>
#include <cstring>

#include "kernels_conv_runs.h"
#include "kernels_window.h"
#include "parallel.h"

namespace plait {
namespace {

namespace py = pybind11;
using window::Geo;
using window::idx;
using window::Span;
using window::for_kernel;
using conv_runs::gather_runs;
using conv_runs::scatter_runs;

constexpr idx kGrainElems = 1 << 15;  // elements a chunk of parallel work should touch

idx grain_for(idx per_item) { return std::max<idx>(1, kGrainElems / std::max<idx>(1, per_item)); }

// Address of the O-run of (image i, channel c, kernel position kid) in either layout.
struct Runs {
  idx n, C, K, O;
  bool channel_major;
  idx at(idx i, idx c, idx kid) const {
    return channel_major ? ((c * K + kid) * n + i) * O : ((i * C + c) * K + kid) * O;
  }
};

// Images per block in the channel-major layout: their input planes of IP elements fit in
// (half of) L1, which every kernel position of the block reads or updates again.
template <typename T>
idx l1_block(idx n, idx IP) {
  return std::max<idx>(1, std::min<idx>(n, (16 << 10) / (IP * sizeof(T))));
}

// Image-major: one (image, channel) block of K*O per item, written in order.
// Channel-major: per channel, blocks of images whose input planes fit in L1 (reading all
// n planes per kernel position measured ~2x slower on LeNet), each kernel position's
// runs for the block written consecutively.
template <typename T>
void im2col_t(const T* x, T* col, const Geo& g, const Runs& r) {
  const idx IP = g.in_size();
  const std::vector<Span> spans = window::kernel_spans(g);
  if (r.channel_major) {
    const idx block = l1_block<T>(r.n, IP);
    const idx nblocks = (r.n + block - 1) / block;
    parallel_for(r.C * nblocks, grain_for(r.K * r.O * block), [&](idx lo, idx hi) {
      for (idx item = lo; item < hi; ++item) {
        const idx c = item / nblocks, i0 = (item % nblocks) * block;
        const idx i1 = std::min(r.n, i0 + block);
        for_kernel(spans, [&](idx kid, const Span& sp) {
          gather_runs(col + r.at(i0, c, kid), r.O, x + (i0 * r.C + c) * IP, r.C * IP, i1 - i0,
                      g, sp);
        });
      }
    });
    return;
  }
  parallel_for(r.n * r.C, grain_for(r.K * r.O), [&](idx lo, idx hi) {
    for (idx item = lo; item < hi; ++item) {
      const idx i = item / r.C, c = item % r.C;
      const T* src = x + item * IP;
      for_kernel(spans, [&](idx kid, const Span& sp) {
        gather_runs(col + r.at(i, c, kid), 0, src, 0, 1, g, sp);
      });
    }
  });
}

// Reads go in source order (the writes, into one block's planes, stay in cache):
// channel-major, per (channel, block of images) item, each kernel position's runs of the
// block image after image; image-major, one (image, channel) block per item.  Either way
// each plane gets its kernel positions' contributions in row-major order.
template <typename T>
void col2im_t(const T* col, T* dx, const Geo& g, const Runs& r) {
  const idx IP = g.in_size();
  const std::vector<Span> spans = window::kernel_spans(g);
  if (r.channel_major) {
    const idx block = l1_block<T>(r.n, IP);
    const idx nblocks = (r.n + block - 1) / block;
    parallel_for(r.C * nblocks, grain_for(r.K * r.O * block), [&](idx lo, idx hi) {
      for (idx item = lo; item < hi; ++item) {
        const idx c = item / nblocks, i0 = (item % nblocks) * block;
        const idx i1 = std::min(r.n, i0 + block);
        for (idx i = i0; i < i1; ++i)
          std::fill(dx + (i * r.C + c) * IP, dx + (i * r.C + c + 1) * IP, T(0));
        for_kernel(spans, [&](idx kid, const Span& sp) {
          scatter_runs(dx + (i0 * r.C + c) * IP, r.C * IP, col + r.at(i0, c, kid), r.O,
                       i1 - i0, g, sp);
        });
      }
    });
    return;
  }
  parallel_for(r.n * r.C, grain_for(r.K * r.O), [&](idx lo, idx hi) {
    for (idx item = lo; item < hi; ++item) {
      const idx i = item / r.C, c = item % r.C;
      T* dst = dx + (i * r.C + c) * IP;
      std::fill(dst, dst + IP, T(0));
      for_kernel(spans, [&](idx kid, const Span& sp) {
        scatter_runs(dst, 0, col + r.at(i, c, kid), 0, 1, g, sp);
      });
    }
  });
}

// Shared checks of im2col/col2im: x-like array (N, C, *in) holding images a..a+n, and the
// column array of n*C*K*O elements.  Returns (geometry, run layout, dtype kind).
struct ColArgs {
  Geo g;
  Runs r;
  int kind;
  idx image_offset;
};

ColArgs col_args(const char* op, const py::array& img, const py::array& col, idx a, idx n,
                 const std::vector<idx>& osp, const std::vector<idx>& k,
                 const std::vector<idx>& s, const std::vector<idx>& d,
                 const std::vector<idx>& p, bool channel_major, bool img_out) {
  const int kind = window::float_kind(op, "data", img);
  window::check_array(op, "data", img, kind, 3, 5, img_out);
  window::check_array(op, "columns", col, kind, 1, 32, !img_out);
  ColArgs c;
  c.kind = kind;
  c.g = window::make_geo(op, window::spatial(img), osp, k, s, d, p);
  if (static_cast<idx>(osp.size()) != img.ndim() - 2)
    window::bad(op, "the output spatial shape has " + std::to_string(osp.size()) +
                        " entries, data " + window::shape_str(img) + " needs " +
                        std::to_string(img.ndim() - 2));
  const idx N = img.shape(0), C = img.shape(1);
  if (a < 0 || n < 1 || a + n > N)
    window::bad(op, "images " + std::to_string(a) + ".." + std::to_string(a + n) +
                        " are outside data of shape " + window::shape_str(img));
  c.r = Runs{n, C, c.g.k_size(), c.g.out_size(), channel_major};
  if (static_cast<idx>(col.size()) != n * C * c.r.K * c.r.O)
    window::bad(op, "columns of shape " + window::shape_str(col) + " should have " +
                        std::to_string(n * C * c.r.K * c.r.O) + " elements (" +
                        std::to_string(n) + " images x " + std::to_string(C) + " channels x " +
                        std::to_string(c.r.K) + " kernel positions x " +
                        std::to_string(c.r.O) + " output positions)");
  c.image_offset = a * C * c.g.in_size();
  return c;
}

void im2col(py::array x, py::array col, idx a, idx n, std::vector<idx> osp,
            std::vector<idx> k, std::vector<idx> s, std::vector<idx> d, std::vector<idx> p,
            bool channel_major) {
  ColArgs c = col_args("im2col", x, col, a, n, osp, k, s, d, p, channel_major, false);
  py::gil_scoped_release nogil;
  if (c.kind == 0)
    im2col_t(static_cast<const float*>(x.data()) + c.image_offset,
             static_cast<float*>(col.mutable_data()), c.g, c.r);
  else
    im2col_t(static_cast<const double*>(x.data()) + c.image_offset,
             static_cast<double*>(col.mutable_data()), c.g, c.r);
}

void col2im(py::array col, py::array dx, idx a, idx n, std::vector<idx> osp,
            std::vector<idx> k, std::vector<idx> s, std::vector<idx> d, std::vector<idx> p,
            bool channel_major) {
  ColArgs c = col_args("col2im", dx, col, a, n, osp, k, s, d, p, channel_major, true);
  py::gil_scoped_release nogil;
  if (c.kind == 0)
    col2im_t(static_cast<const float*>(col.data()),
             static_cast<float*>(dx.mutable_data()) + c.image_offset, c.g, c.r);
  else
    col2im_t(static_cast<const double*>(col.data()),
             static_cast<double*>(dx.mutable_data()) + c.image_offset, c.g, c.r);
}

template <typename T>
void swap01_t(const T* src, T* dst, idx A, idx B, idx R, const T* bias) {
  parallel_for(A * B, grain_for(R), [&](idx lo, idx hi) {
    for (idx item = lo; item < hi; ++item) {
      const idx b = item / A, a = item % A;  // dst order: sequential writes
      const T* from = src + (a * B + b) * R;
      T* to = dst + item * R;
      if (bias) {
        const T v = bias[a];
        for (idx j = 0; j < R; ++j) to[j] = from[j] + v;
      } else {
        std::memcpy(to, from, sizeof(T) * R);
      }
    }
  });
}

// dst (B, A, R) = src (A, B, R) with axes 0 and 1 swapped, plus bias[a] when bias is given.
void swap01(py::array src, py::array dst, idx A, idx B, py::object bias) {
  const char* op = "swap01";
  const int kind = window::float_kind(op, "src", src);
  window::check_array(op, "src", src, kind, 1, 32, false);
  window::check_array(op, "dst", dst, kind, 1, 32, true);
  const idx total = src.size();
  if (A < 1 || B < 1 || total % (A * B) || static_cast<idx>(dst.size()) != total)
    window::bad(op, "src " + window::shape_str(src) + " and dst " + window::shape_str(dst) +
                        " must have the same size, a multiple of A*B = " +
                        std::to_string(A) + "*" + std::to_string(B));
  py::array b;
  if (!bias.is_none()) {
    b = py::reinterpret_borrow<py::array>(bias);
    window::check_array(op, "bias", b, kind, 1, 1, false);
    if (b.shape(0) != A)
      window::bad(op, "bias of shape " + window::shape_str(b) + " should have A = " +
                          std::to_string(A) + " entries");
  }
  const idx R = total / (A * B);
  py::gil_scoped_release nogil;
  if (kind == 0)
    swap01_t(static_cast<const float*>(src.data()), static_cast<float*>(dst.mutable_data()),
             A, B, R, bias.is_none() ? nullptr : static_cast<const float*>(b.data()));
  else
    swap01_t(static_cast<const double*>(src.data()), static_cast<double*>(dst.mutable_data()),
             A, B, R, bias.is_none() ? nullptr : static_cast<const double*>(b.data()));
}

}  // namespace

void register_kernels_pool(py::module_& m);  // kernels_pool.cc

void register_kernels_conv(py::module_& m) {
  using namespace pybind11::literals;
  m.def("im2col", &im2col, "x"_a, "col"_a, "a"_a, "n"_a, "out_spatial"_a, "kernel"_a,
        "stride"_a, "dilate"_a, "pad"_a, "channel_major"_a,
        "Columns of images a..a+n of x (N, C, *in) into col, image-major (n, C, *K, *O) or "
        "channel-major (C, *K, n, *O); padding positions are written as zeros.");
  m.def("col2im", &col2im, "col"_a, "dx"_a, "a"_a, "n"_a, "out_spatial"_a, "kernel"_a,
        "stride"_a, "dilate"_a, "pad"_a, "channel_major"_a,
        "Overwrites images a..a+n of dx (N, C, *in) with the scatter-add of the columns "
        "(either layout of im2col).");
  m.def("swap01", &swap01, "src"_a, "dst"_a, "A"_a, "B"_a, "bias"_a = py::none(),
        "dst (B, A, R) = src (A, B, R) transposed on its first two axes (+ bias[a]).");
  register_kernels_pool(m);
}

}  // namespace plait
