/**
 * The codes of quantised resident rows (collection option `residentType`):
 * - `f16`: IEEE half precision, round to nearest even, finite values beyond ±65504 clamped to
 *   it (a rerank must never see Infinity); decoded through one 65536-entry table.
 * - `int8`: symmetric, one scale per row: code = round(x / s), s = max|x| / 127. A per-row scale
 *   factors out of the dot product (q · row ≈ s · (q · codes)), needs no statistics of the data
 *   set (rows arrive one by one, forever), and on the bench shapes it reranks as well as a
 *   per-dimension scale fitted to the whole set (see README, search benchmark).
 * Prefix norms stay exact: they are computed from the float32 vector before it is encoded.
 */
export type ResidentType = 'f32' | 'f16' | 'int8';
export const RESIDENT_TYPES: readonly ResidentType[] = ['f32', 'f16', 'int8'];

const F16_MAX = 65504;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The half-precision bits of x (round to nearest even; ±65504 for larger finite values). */
export function toHalf(x: number): number {
  f32[0] = x > F16_MAX ? F16_MAX : x < -F16_MAX ? -F16_MAX : x;
  const u = u32[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent is right
  return sign | h;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** HALF_TABLE[bits] is the float value of a half (256 KB, built once). */
export const HALF_TABLE: Float32Array = (() => {
  const t = new Float32Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = halfToFloat(i);
  return t;
})();

/** Writes v[0:w] as halves into out[off …]. */
export function encodeHalfRow(v: Float32Array, w: number, out: Uint16Array, off: number): void {
  for (let i = 0; i < w; i++) out[off + i] = toHalf(v[i]);
}

/** Writes v[0:w] as int8 codes into out[off …]; returns the row's scale (0 for a zero row). */
export function encodeInt8Row(v: Float32Array, w: number, out: Int8Array, off: number): number {
  let max = 0;
  for (let i = 0; i < w; i++) {
    const a = Math.abs(v[i]);
    if (a > max) max = a;
  }
  if (max === 0) {
    out.fill(0, off, off + w);
    return 0;
  }
  const inv = 127 / max;
  for (let i = 0; i < w; i++) out[off + i] = Math.round(v[i] * inv);
  return max / 127;
}
