// Compiled kernels for the LSTM language-model path: the fused RNN op's per-step LSTM gate
// math (core/ops/nn_rnn_kernels.py) here, softmax / log_softmax over the last axis with
// log_softmax's backward (core/ops/nn_softmax.py) in kernels_softmax.cc.  The recurrent and
// projection GEMMs stay in NumPy; these replace the five to ten whole-array NumPy passes
// per step around them.
//
// The per-step LSTM kernels run on the calling thread: a step is tens of microseconds, less
// than waking a pool thread costs when the cores are busy (see nn_rnn_blas.py's note on
// the per-step BLAS products).
//
// Arithmetic follows the xp code operation for operation (no FMA contraction), so where
// no exp/tanh is involved (the LSTM backward) both paths give the same bits; exp and tanh
// come from kernels_rnn_math.h (within ~1 ulp).  The hot float loops are compiled for
// AVX-512, AVX2 and baseline x86-64 and picked at run time (target_clones); the clones
// differ only in vector width, not in results.  `ivdep` on the element loops: their
// arrays never overlap (except out == in at the same index, which is harmless).
#pragma GCC optimize("no-trapping-math", "fp-contract=off")  // lets GCC if-convert selects

#include "kernels_rnn_util.h"

namespace py = pybind11;

namespace plait {
namespace {

using namespace rnnk;  // NOLINT

// ---- LSTM step forward --------------------------------------------------------------------
// g (N, 4H): the step's input projection plus biases, gate rows pre-scaled by 1/2 on the
// sigmoid gates (sigmoid(v) = 0.5 tanh(v/2) + 0.5); gh (N, 4H) the recurrent product.
// Writes the activations i, f, g, o back into g, c = f c_prev + i g, tc = tanh(c), h = o tc.
struct Clip {
  bool on = false, nan = false;
  double lo = 0, hi = 0;
};

// The optional state-clip mask `keep` (None, or n C-contiguous bools); nullptr for None.
bool* keep_mask(const char* op, const py::object& keep, idx n) {
  if (keep.is_none()) return nullptr;
  py::array k = keep.cast<py::array>();
  if (!k.dtype().is(py::dtype::of<bool>()) || !(k.flags() & py::array::c_style) ||
      k.size() != n)
    bad(op, "keep must be a C-contiguous bool array of " + std::to_string(n) +
                " elements, got " + shape_str(k));
  return ptr<bool>(k);
}

template <typename T>
PLAIT_INLINE void lstm_fwd_rows_t(T* g, const T* gh, const T* cp, T* cn, T* tc, T* h,
                                  bool* keep, idx r0, idx r1, idx H, Clip cl) {
  const T half = T(0.5), lo = T(cl.lo), hi = T(cl.hi);
  for (idx r = r0; r < r1; ++r) {
    T* gi = g + r * 4 * H;
    if (gh) {
      const T* hi_ = gh + r * 4 * H;
#pragma GCC ivdep
      for (idx j = 0; j < 4 * H; ++j) gi[j] = tanh_t(gi[j] + hi_[j]);
    } else {  // the recurrent product is already in g (see add_transposed)
#pragma GCC ivdep
      for (idx j = 0; j < 4 * H; ++j) gi[j] = tanh_t(gi[j]);
    }
    T *ig = gi, *fg = gi + H, *gg = gi + 2 * H, *og = gi + 3 * H;
    T *c = cn + r * H, *t = tc + r * H, *hh = h + r * H;
    const T* c0 = cp + r * H;
#pragma GCC ivdep
    for (idx j = 0; j < H; ++j) {
      const T i = ig[j] * half + half, f = fg[j] * half + half;
      ig[j] = i;
      fg[j] = f;
      og[j] = og[j] * half + half;
      c[j] = f * c0[j] + i * gg[j];
    }
    if (cl.on) {  // cell clipping (rare): keep mask before the NaN fix, as _clip does
      bool* k = keep ? keep + r * H : nullptr;
#pragma GCC ivdep
      for (idx j = 0; j < H; ++j) {
        T v = c[j];
        if (k) k[j] = (v >= lo) & (v <= hi);
        if (cl.nan && v != v) v = lo;
        c[j] = v < lo ? lo : (v > hi ? hi : v);
      }
    }
#pragma GCC ivdep
    for (idx j = 0; j < H; ++j) {
      const T v = tanh_t(c[j]);
      t[j] = v;
      hh[j] = og[j] * v;
    }
  }
}

PLAIT_CLONES void lstm_fwd_rows_f(float* g, const float* gh, const float* cp, float* cn,
                                  float* tc, float* h, bool* keep, idx r0, idx r1, idx H,
                                  Clip cl) {
  lstm_fwd_rows_t<float>(g, gh, cp, cn, tc, h, keep, r0, r1, H, cl);
}

void lstm_fwd_rows(double* g, const double* gh, const double* cp, double* cn, double* tc,
                   double* h, bool* keep, idx r0, idx r1, idx H, Clip cl) {
  lstm_fwd_rows_t<double>(g, gh, cp, cn, tc, h, keep, r0, r1, H, cl);
}
void lstm_fwd_rows(float* g, const float* gh, const float* cp, float* cn, float* tc, float* h,
                   bool* keep, idx r0, idx r1, idx H, Clip cl) {
  lstm_fwd_rows_f(g, gh, cp, cn, tc, h, keep, r0, r1, H, cl);
}

// g (N, G) += ghT (G, N) transposed, in 32 x 32 tiles.  The caller may compute the
// recurrent product as W_h @ h^T (G, N): OpenBLAS runs that shape about 1.4x faster than
// h @ W_h^T for a small batch N, which more than pays for this pass.
template <typename T>
PLAIT_INLINE void add_transposed_t(T* g, const T* ghT, idx N, idx G) {
  for (idx j0 = 0; j0 < G; j0 += 32)
    for (idx r0 = 0; r0 < N; r0 += 32) {
      const idx j1 = std::min<idx>(G, j0 + 32), r1 = std::min<idx>(N, r0 + 32);
      for (idx r = r0; r < r1; ++r)
        for (idx j = j0; j < j1; ++j) g[r * G + j] += ghT[j * N + r];
    }
}
PLAIT_CLONES void add_transposed_f(float* g, const float* ghT, idx N, idx G) {
  add_transposed_t<float>(g, ghT, N, G);
}
void add_transposed(float* g, const float* ghT, idx N, idx G) { add_transposed_f(g, ghT, N, G); }
void add_transposed(double* g, const double* ghT, idx N, idx G) {
  add_transposed_t<double>(g, ghT, N, G);
}

template <typename T>
void lstm_fwd(py::array g, py::array gh, py::array cp, py::array cn, py::array tc,
              py::array h, py::object keep, Clip cl, bool transposed) {
  const char* op = "lstm_step_forward";
  const idx G = g.ndim() == 2 ? g.shape(1) : -1, N = g.ndim() == 2 ? g.shape(0) : -1;
  if (G < 0 || G % 4) bad(op, "gates must be (batch, 4*hidden), got " + shape_str(g));
  const idx H = G / 4;
  check(op, "gates", g, g, N, G);
  if (transposed) check(op, "recurrent (transposed)", gh, g, G, N);
  else check(op, "recurrent", gh, g, N, G);
  check(op, "c_prev", cp, g, N, H);
  check(op, "c", cn, g, N, H);
  check(op, "tanh_c", tc, g, N, H);
  check(op, "h", h, g, N, H);
  bool* kp = keep_mask(op, keep, N * H);
  T *pg = ptr<T>(g), *pgh = ptr<T>(gh), *pcp = ptr<T>(cp), *pcn = ptr<T>(cn), *ptc = ptr<T>(tc),
    *ph = ptr<T>(h);
  py::gil_scoped_release nogil;  // one step is tens of microseconds: no parallel_for
  if (transposed) add_transposed(pg, pgh, N, G);
  lstm_fwd_rows(pg, transposed ? nullptr : pgh, pcp, pcn, ptc, ph, kp, 0, N, H, cl);
}

// ---- LSTM step backward -------------------------------------------------------------------
// acts (N, 4H) activations i, f, g, o; tc = tanh(c); cp = c_prev; dhu = dh_a (+ dh_b) the
// gradient of the (unprojected) output; dc (in/out) the cell gradient; writes d4 (N, 4H)
// the gate pre-activation gradients.  Same expressions and order as _lstm_factors + loop.
template <typename T, bool HasB, bool HasKeep>
PLAIT_INLINE void lstm_bwd_rows_k(const T* acts, const T* tc, const T* cp, const T* dha,
                                  const T* dhb, T* dc, const bool* keep, T* d4, idx r0, idx r1,
                                  idx H) {
  const T one = T(1);
  for (idx r = r0; r < r1; ++r) {
    const T* ai = acts + r * 4 * H;
    const T* af = ai + H;
    const T* ag = ai + 2 * H;
    const T* ao = ai + 3 * H;
    T* di = d4 + r * 4 * H;
    T* df = di + H;
    T* dg = di + 2 * H;
    T* d_o = di + 3 * H;
    const idx o = r * H;
    const T* t_ = tc + o;
    const T* c0 = cp + o;
    const T* ha = dha + o;
    const T* hb = HasB ? dhb + o : nullptr;
    const bool* kp = HasKeep ? keep + o : nullptr;
    T* dcr = dc + o;
#pragma GCC ivdep
    for (idx j = 0; j < H; ++j) {
      const T i = ai[j], f = af[j], g = ag[j], og = ao[j], t = t_[j];
      const T dhu = HasB ? ha[j] + hb[j] : ha[j];
      T dcn = ((one - t * t) * og) * dhu;
      dcn += dcr[j];
      if (HasKeep) dcn *= T(kp[j]);
      di[j] = dcn * ((i * (one - i)) * g);
      df[j] = dcn * ((f * (one - f)) * c0[j]);
      dg[j] = dcn * ((one - g * g) * i);
      d_o[j] = dhu * (((one - og) * og) * t);
      dcr[j] = dcn * f;
    }
  }
}

template <typename T>
PLAIT_INLINE void lstm_bwd_rows_t(const T* acts, const T* tc, const T* cp, const T* dha,
                                  const T* dhb, T* dc, const bool* keep, T* d4, idx r0, idx r1,
                                  idx H) {
  if (dhb && keep) lstm_bwd_rows_k<T, true, true>(acts, tc, cp, dha, dhb, dc, keep, d4, r0, r1, H);
  else if (dhb) lstm_bwd_rows_k<T, true, false>(acts, tc, cp, dha, dhb, dc, keep, d4, r0, r1, H);
  else if (keep) lstm_bwd_rows_k<T, false, true>(acts, tc, cp, dha, dhb, dc, keep, d4, r0, r1, H);
  else lstm_bwd_rows_k<T, false, false>(acts, tc, cp, dha, dhb, dc, keep, d4, r0, r1, H);
}

PLAIT_CLONES void lstm_bwd_rows_f(const float* acts, const float* tc, const float* cp,
                                  const float* dha, const float* dhb, float* dc,
                                  const bool* keep, float* d4, idx r0, idx r1, idx H) {
  lstm_bwd_rows_t<float>(acts, tc, cp, dha, dhb, dc, keep, d4, r0, r1, H);
}
void lstm_bwd_rows(const float* acts, const float* tc, const float* cp, const float* dha,
                   const float* dhb, float* dc, const bool* keep, float* d4, idx r0, idx r1,
                   idx H) {
  lstm_bwd_rows_f(acts, tc, cp, dha, dhb, dc, keep, d4, r0, r1, H);
}
void lstm_bwd_rows(const double* acts, const double* tc, const double* cp, const double* dha,
                   const double* dhb, double* dc, const bool* keep, double* d4, idx r0,
                   idx r1, idx H) {
  lstm_bwd_rows_t<double>(acts, tc, cp, dha, dhb, dc, keep, d4, r0, r1, H);
}

template <typename T>
void lstm_bwd(py::array acts, py::array tc, py::array cp, py::array dha, py::object dhb,
              py::array dc, py::object keep, py::array d4) {
  const char* op = "lstm_step_backward";
  const idx G = acts.ndim() == 2 ? acts.shape(1) : -1, N = acts.ndim() == 2 ? acts.shape(0) : -1;
  if (G < 0 || G % 4) bad(op, "acts must be (batch, 4*hidden), got " + shape_str(acts));
  const idx H = G / 4;
  check(op, "acts", acts, acts, N, G);
  check(op, "tanh_c", tc, acts, N, H);
  check(op, "c_prev", cp, acts, N, H);
  check(op, "dh", dha, acts, N, H);
  check(op, "dc", dc, acts, N, H);
  check(op, "dgates", d4, acts, N, G);
  const T* pb = nullptr;
  if (!dhb.is_none()) {
    py::array b = dhb.cast<py::array>();
    check(op, "dout", b, acts, N, H);
    pb = ptr<T>(b);
  }
  const bool* kp = keep_mask(op, keep, N * H);
  const T *pa = ptr<T>(acts), *pt = ptr<T>(tc), *pc = ptr<T>(cp), *ph = ptr<T>(dha);
  T *pdc = ptr<T>(dc), *pd = ptr<T>(d4);
  py::gil_scoped_release nogil;
  lstm_bwd_rows(pa, pt, pc, ph, pb, pdc, kp, pd, 0, N, H);
}

}  // namespace

void register_kernels_rnn(py::module_& m) {
  m.def("lstm_step_forward",
        [](py::array g, py::array gh, py::array cp, py::array cn, py::array tc, py::array h,
           py::object clip_lo, py::object clip_hi, bool clip_nan, py::object keep,
           bool transposed) {
          Clip cl;
          cl.on = !clip_lo.is_none() && !clip_hi.is_none();
          if (cl.on) cl.lo = clip_lo.cast<double>(), cl.hi = clip_hi.cast<double>();
          cl.nan = clip_nan;
          if (is_f32(g, "lstm_step_forward")) lstm_fwd<float>(g, gh, cp, cn, tc, h, keep, cl, transposed);
          else lstm_fwd<double>(g, gh, cp, cn, tc, h, keep, cl, transposed);
        },
        py::arg("gates"), py::arg("recurrent"), py::arg("c_prev"), py::arg("c"),
        py::arg("tanh_c"), py::arg("h"), py::arg("clip_lo") = py::none(),
        py::arg("clip_hi") = py::none(), py::arg("clip_nan") = false,
        py::arg("keep") = py::none(), py::arg("recurrent_transposed") = false,
        "One LSTM time step's gate math in place (see kernels_rnn.cc); the recurrent "
        "product is (batch, 4*hidden), or (4*hidden, batch) with recurrent_transposed.");
  m.def("lstm_step_backward",
        [](py::array acts, py::array tc, py::array cp, py::array dha, py::object dhb,
           py::array dc, py::object keep, py::array d4) {
          if (is_f32(acts, "lstm_step_backward")) lstm_bwd<float>(acts, tc, cp, dha, dhb, dc, keep, d4);
          else lstm_bwd<double>(acts, tc, cp, dha, dhb, dc, keep, d4);
        },
        "One LSTM time step's gate gradients; updates dc in place, writes dgates.");
  register_kernels_softmax(m);  // kernels_softmax.cc
}

}  // namespace plait
