// The rerank kernels: one query's top k over chosen rows (slots) of the resident matrix, read in
// place, for float32 rows, int8 codes with one scale per row, and f16 halves. The reference is
// src/compute/js-kernel.ts: the same scores (the dot product times the row's scales, rounded to
// float32) and the same order (score descending, ties to the earlier candidate). Synchronous on
// the calling thread, any thread: a search worker's matrix is a SharedArrayBuffer that the main
// thread writes meanwhile, which the caller's seqlock check covers (src/search/rescore.ts).
//
// The rows are scattered over a matrix far larger than the caches, so a rerank waits on memory:
// the next candidate's row is prefetched while this one is scored; the arithmetic (in doubles,
// as the JS kernel's) is not what it waits on.
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "rerank.h"

namespace {

// f16 → f32, exact for every finite half (normals, subnormals, zeros); inf/NaN cannot be in the
// matrix (vectors are validated finite and f16 codes saturate). Fabian Giesen's method: shift
// the exponent and mantissa into place, rebias, and renormalise subnormals with one subtraction.
inline float halfToFloat(uint16_t h) {
  const uint32_t shifted = static_cast<uint32_t>(h & 0x7fff) << 13;
  const uint32_t exp = shifted & (0x7c00u << 13);
  uint32_t bits = shifted + ((127 - 15) << 23);
  float f;
  if (exp == 0) {
    bits += 1 << 23;
    std::memcpy(&f, &bits, 4);
    const uint32_t magicBits = 113u << 23;
    float magic;
    std::memcpy(&magic, &magicBits, 4);
    f -= magic;
    std::memcpy(&bits, &f, 4);
  } else if (exp == (0x7c00u << 13)) {
    bits += (128 - 16) << 23;
  }
  bits |= static_cast<uint32_t>(h & 0x8000) << 16;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline float value(float x) { return x; }
inline float value(int8_t x) { return static_cast<float>(x); }
inline float value(uint16_t x) { return halfToFloat(x); }

// The JS kernel's sum exactly (js-kernel.ts's dot, dotInt8, dotHalf): four double accumulators
// over strides of four, the tail into the first, added left to right; so the two kernels give
// the same bits, and a search worker the same answer as the main thread.
template <typename T>
inline double dot(const float* q, const T* row, size_t d) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t k = 0;
  for (; k + 4 <= d; k += 4) {
    s0 += static_cast<double>(q[k]) * value(row[k]);
    s1 += static_cast<double>(q[k + 1]) * value(row[k + 1]);
    s2 += static_cast<double>(q[k + 2]) * value(row[k + 2]);
    s3 += static_cast<double>(q[k + 3]) * value(row[k + 3]);
  }
  for (; k < d; k++) s0 += static_cast<double>(q[k]) * value(row[k]);
  return s0 + s1 + s2 + s3;
}

template <typename T>
inline void prefetchRow(const T* row, size_t d) {
  const char* p = reinterpret_cast<const char*>(row);
  for (size_t b = 0; b < d * sizeof(T); b += 64) __builtin_prefetch(p + b);
}

// Top k of the rows slots[i] (each `width` values of T, the first d read), row i's score
// (q · row) · rowScale[i] (· codeScale[slot] for int8), rounded to float32. Out: best first.
template <typename T>
void topRows(const T* data, size_t width, const int32_t* slots, const float* rowScale, size_t n, const float* q, size_t d,
             size_t k, const float* codeScale, std::vector<std::pair<float, int64_t>>& out) {
  using Kept = std::pair<float, int64_t>;  // (score, -candidate): the heap's top is the worst kept
  std::priority_queue<Kept, std::vector<Kept>, std::greater<Kept>> heap;
  if (n > 0) prefetchRow(data + static_cast<size_t>(slots[0]) * width, d);
  for (size_t i = 0; i < n && k > 0; i++) {
    if (i + 1 < n) prefetchRow(data + static_cast<size_t>(slots[i + 1]) * width, d);
    const double scale = rowScale[i];
    float s = 0;
    if (scale != 0) {
      const size_t slot = static_cast<size_t>(slots[i]);
      double v = dot(q, data + slot * width, d);
      if (codeScale) v *= codeScale[slot];
      s = static_cast<float>(v * scale);
    }
    Kept item{s, -static_cast<int64_t>(i)};
    if (heap.size() < k) heap.push(item);
    else if (item > heap.top()) {
      heap.pop();
      heap.push(item);
    }
  }
  out.resize(heap.size());
  for (size_t i = heap.size(); i-- > 0;) {
    out[i] = heap.top();
    heap.pop();
  }
}

Napi::Value fail(Napi::Env env, const std::string& msg) {
  Napi::Error::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

// rerank*(rows, width, slots: Int32Array, rowScale: Float32Array, query: Float32Array(d), k[, codeScale])
//   -> Float64Array [n candidate indices (into slots), then their n scores], best first
template <typename T, typename Array>
Napi::Value Rerank(const Napi::CallbackInfo& info, bool int8) {
  Napi::Env env = info.Env();
  if (info.Length() < (int8 ? 7u : 6u) || !info[0].IsTypedArray() || !info[2].IsTypedArray() || !info[3].IsTypedArray() ||
      !info[4].IsTypedArray())
    return fail(env, "mrl_hnsw.rerank: bad arguments");
  auto rows = info[0].As<Array>();
  size_t width = info[1].As<Napi::Number>().Uint32Value();
  auto slots = info[2].As<Napi::Int32Array>();
  auto rowScale = info[3].As<Napi::Float32Array>();
  auto q = info[4].As<Napi::Float32Array>();
  size_t k = info[5].As<Napi::Number>().Uint32Value();
  size_t d = q.ElementLength();
  size_t n = slots.ElementLength();
  if (d == 0 || d > width || rowScale.ElementLength() != n) return fail(env, "mrl_hnsw.rerank: dims or scales do not match");
  const float* codeScale = nullptr;
  size_t scaled = 0;
  if (int8) {
    auto cs = info[6].As<Napi::Float32Array>();
    codeScale = cs.Data();
    scaled = cs.ElementLength();
  }
  const size_t held = rows.ElementLength() / width;
  const int32_t* sl = slots.Data();
  for (size_t i = 0; i < n; i++)
    if (sl[i] < 0 || static_cast<size_t>(sl[i]) >= held || (int8 && static_cast<size_t>(sl[i]) >= scaled))
      return fail(env, "mrl_hnsw.rerank: a slot is outside the matrix");
  std::vector<std::pair<float, int64_t>> top;
  topRows<T>(reinterpret_cast<const T*>(rows.Data()), width, sl, rowScale.Data(), n, q.Data(), d, k, codeScale, top);
  const size_t m = top.size();
  auto res = Napi::Float64Array::New(env, 2 * m);
  double* o = res.Data();
  for (size_t i = 0; i < m; i++) {
    o[i] = static_cast<double>(-top[i].second);
    o[m + i] = static_cast<double>(top[i].first);
  }
  return res;
}

Napi::Value RerankF32(const Napi::CallbackInfo& info) { return Rerank<float, Napi::Float32Array>(info, false); }
Napi::Value RerankInt8(const Napi::CallbackInfo& info) { return Rerank<int8_t, Napi::Int8Array>(info, true); }
Napi::Value RerankHalf(const Napi::CallbackInfo& info) { return Rerank<uint16_t, Napi::Uint16Array>(info, false); }

}  // namespace

void registerRerank(Napi::Env env, Napi::Object exports) {
  exports.Set("rerankF32", Napi::Function::New(env, RerankF32));
  exports.Set("rerankInt8", Napi::Function::New(env, RerankInt8));
  exports.Set("rerankHalf", Napi::Function::New(env, RerankHalf));
}
