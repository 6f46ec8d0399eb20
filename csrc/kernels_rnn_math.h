// exp and tanh for the RNN gate and softmax kernels (kernels_rnn.cc), written so that GCC
// vectorises the loops calling them (baseline SSE2, no -march): branch-free float code,
// both sides of a choice computed and selected, integer scaling through the exponent bits.
//
// float: range reduction x = n ln2 + r (Cody-Waite split of ln2), a degree-6 polynomial for
// e^r on |r| <= ln2/2 (coefficients fitted by weighted least squares, relative error 3e-9
// in exact arithmetic), 2^n applied in two halves so results down in the subnormal range
// round once, as a correctly rounded exp would.  Overall within ~1-2 ulp of the true value.
// tanh: an odd polynomial (x + x s P(s), s = x^2, fitted the same way) below |x| = 0.625,
// 1 - 2 / (e^{2|x|} + 1) above.  double: the C library (these paths are not hot).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace plait {
namespace rnnmath {

inline float bits_to_float(std::int32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

inline float exp_f(float x) {
  const float hi = 88.7228317f;   // above: inf
  const float lo = -104.0f;       // below: 0 (e^-104 is under half the smallest subnormal)
  float xc = x > hi ? hi : x;
  xc = xc < lo ? lo : xc;
  // n = round(x / ln2) through the 1.5 * 2^23 trick (exact for |x / ln2| < 2^22)
  const float magic = 12582912.0f;
  float fn = (xc * 1.44269504088896341f + magic) - magic;
  float r = (xc - fn * 0.693359375f) - fn * -2.12194440054690583e-4f;
  float p = 0.001381462822037592f;
  p = p * r + 0.00836871053032886f;
  p = p * r + 0.04166838711785663f;
  p = p * r + 0.16666520682245675f;
  p = p * r + 0.499999934525809f;
  p = (p * r) * r + r + 1.0f;
  std::int32_t n = static_cast<std::int32_t>(fn);
  std::int32_t n1 = n / 2;           // both halves are normal exponents for n in [-150, 128]
  std::int32_t n2 = n - n1;
  float y = (p * bits_to_float((n1 + 127) << 23)) * bits_to_float((n2 + 127) << 23);
  y = x > hi ? HUGE_VALF : y;
  y = x < lo ? 0.0f : y;
  return x != x ? x : y;             // NaN in, NaN out
}

inline float tanh_f(float x) {
  float a = x < 0.0f ? -x : x;
  float s = x * x;
  float p = -0.0057049593761271f;
  p = p * s + 0.02063906003318349f;
  p = p * s + -0.05373970572384754f;
  p = p * s + 0.13331442068401173f;
  p = p * s + -0.3333328193617108f;
  float small = x + (x * s) * p;
  float big = 1.0f - 2.0f / (exp_f(a + a) + 1.0f);
  big = x < 0.0f ? -big : big;
  return a < 0.625f ? small : (x != x ? x : big);
}

inline float exp_t(float x) { return exp_f(x); }
inline double exp_t(double x) { return std::exp(x); }
inline float tanh_t(float x) { return tanh_f(x); }
inline double tanh_t(double x) { return std::tanh(x); }

}  // namespace rnnmath
}  // namespace plait
