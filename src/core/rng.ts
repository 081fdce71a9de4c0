/**
 * Seeded randomness, in plain JS (no TF.js). Everything random in a training run (weight init,
 * shuffling) and in an evaluation's query sample comes from here, never from Math.random or
 * TF.js's own seedless ops, so one seed fixes a run.
 */

/** mulberry32: a small 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent stream for one purpose ("init", "shuffle") from the run's seed. */
export function subSeed(seed: number, purpose: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Fisher–Yates shuffle in place (an array or a typed array). */
export function shuffleInPlace<A extends { length: number; [i: number]: unknown }>(a: A, rand: () => number): A {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/**
 * Partial Fisher–Yates in place: after it, a[0..m) is a seeded uniform sample of `a` without
 * replacement (m is capped at a.length); returns that m.
 */
export function partialShuffle<A extends { length: number; [i: number]: unknown }>(a: A, m: number, rand: () => number): number {
  const n = Math.min(m, a.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (a.length - i));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return n;
}

/** Glorot/Xavier uniform init for a fanIn×fanOut kernel, computed in JS so it is backend-independent. */
export function glorotUniform(fanIn: number, fanOut: number, rand: () => number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rand() - 1) * limit;
  return out;
}
