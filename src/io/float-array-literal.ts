/**
 * A JSON array of numbers read straight from UTF-8 bytes into a Float32Array, element for
 * element the float32 that `Math.fround(JSON.parse(text)[i])` gives — or null, and the caller
 * parses the line with JSON.parse as before (so every refusal keeps its one message).
 *
 * JSON.parse spends most of an ingest line on its 768 numbers (~90 µs); this reads them in
 * about half of that and allocates no array of doubles. A number is read as up to 15
 * significant digits m and a power of ten e: with m < 2^53 and |e| ≤ 22, m·10^e and m/10^-e
 * are one correctly rounded IEEE operation each, the double JSON.parse returns (Clinger's fast
 * path). Digits beyond the 15th only bound the value: the double lies between the roundings of
 * m·10^e and (m+1)·10^e, and when both round to the same float32 that is the answer; otherwise,
 * and for exponents beyond ±22, the number's text goes through `Number`.
 */

const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
const MAX_DIGITS = 15;
const F32_MAX = 3.4028234663852886e38;

const TAB = 9;
const CR = 13;
const SPACE = 32;
const PLUS = 43;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const UPPER_E = 69;
const CLOSE_BRACKET = 93;
const LOWER_E = 101;

const isDigit = (c: number) => c >= ZERO && c <= NINE;
const isSpace = (c: number) => c === SPACE || c === TAB || c === CR;

/** m·10^e rounded once (|e| ≤ 22). */
const scaled = (m: number, e: number) => (e < 0 ? m / POW10[-e] : m * POW10[e]);

export interface ParsedArray {
  /** Values read into the scratch array given. */
  length: number;
  /** The index just after the closing bracket. */
  end: number;
}

/**
 * The array that opens at `buf[open]` (a `[`), read into `out`; null when it is not a plain
 * JSON array of numbers each finite as float32, or holds more than `out.length` of them.
 */
export function parseFloatArray(buf: Buffer, open: number, out: Float32Array): ParsedArray | null {
  const maxLength = out.length;
  let n = 0;
  let p = open + 1;
  while (isSpace(buf[p])) p++;
  if (buf[p] === CLOSE_BRACKET) return { length: 0, end: p + 1 };
  for (;;) {
    if (n === maxLength) return null;
    const start = p;
    let c = buf[p];
    const neg = c === MINUS;
    if (neg) c = buf[++p];
    if (!isDigit(c)) return null;
    let m = 0; // the first MAX_DIGITS significant digits
    let digits = 0;
    let e = 0;
    let truncated = false; // a non-zero digit was dropped
    if (c === ZERO) {
      c = buf[++p];
      if (isDigit(c)) return null; // no leading zeros in JSON
    } else
      for (; isDigit(c); c = buf[++p]) {
        if (digits < MAX_DIGITS) {
          m = m * 10 + (c - ZERO);
          digits++;
        } else {
          truncated ||= c !== ZERO;
          e++;
        }
      }
    if (c === DOT) {
      c = buf[++p];
      if (!isDigit(c)) return null;
      for (; isDigit(c); c = buf[++p]) {
        if (digits < MAX_DIGITS) {
          m = m * 10 + (c - ZERO);
          if (m > 0) digits++;
          e--;
        } else truncated ||= c !== ZERO;
      }
    }
    if (c === LOWER_E || c === UPPER_E) {
      c = buf[++p];
      const negExp = c === MINUS;
      if (negExp || c === PLUS) c = buf[++p];
      if (!isDigit(c)) return null;
      let x = 0;
      for (; isDigit(c); c = buf[++p]) if (x < 1e6) x = x * 10 + (c - ZERO);
      e += negExp ? -x : x;
    }
    const v = toFloat32(buf, start, p, m, e, truncated);
    if (v === null) return null;
    out[n++] = neg ? -v : v;
    while (isSpace(buf[p])) p++;
    if (buf[p] === COMMA) {
      p++;
      while (isSpace(buf[p])) p++;
      continue;
    }
    if (buf[p] === CLOSE_BRACKET) return { length: n, end: p + 1 };
    return null;
  }
}

/** |the number| as float32, or null when it is beyond float32 (JSON.parse's path words that refusal). */
function toFloat32(buf: Buffer, start: number, end: number, m: number, e: number, truncated: boolean): number | null {
  let lo: number;
  let hi: number;
  if (m === 0) lo = hi = 0;
  else if (e < -22 || e > 22) lo = hi = exactAbs(buf, start, end);
  else {
    lo = scaled(m, e);
    hi = truncated ? scaled(m + 1, e) : lo;
  }
  if (!(hi <= F32_MAX)) return null;
  const f = Math.fround(lo);
  if (f === Math.fround(hi)) return f;
  const exact = exactAbs(buf, start, end);
  return exact <= F32_MAX ? Math.fround(exact) : null;
}

function exactAbs(buf: Buffer, start: number, end: number): number {
  return Math.abs(Number(buf.toString('latin1', start, end)));
}
