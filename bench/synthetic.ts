/**
 * Seeded synthetic MRL-like vectors for benchmarks: clustered (a centre per cluster plus
 * per-point noise), with the standard deviation of dimension j decaying as 1/sqrt(1 + j/8)
 * for both centres and noise, so the first dims carry most of the signal, as in an MRL
 * embedding. Queries come from the same distribution but are fresh draws (never in the set).
 * Deterministic for a seed: sfc32 seeded through splitmix32, normals by Box–Muller.
 */

export interface SyntheticOptions {
  n: number;
  d: number;
  queries: number;
  clusters: number;
  seed: number;
  /** Noise std relative to the centres' std at the same dim (default 0.5). */
  noise?: number;
  /** Extra queries drawn for warm-up, never timed (default 0). */
  warmup?: number;
}

export interface SyntheticData {
  n: number;
  d: number;
  /** n × d float32, row-major. */
  data: Float32Array;
  /** Cluster id of each row. */
  labels: Int32Array;
  /** queries × d float32, row-major. */
  queries: Float32Array;
  queryLabels: Int32Array;
  warmup: Float32Array;
  row(i: number): Float32Array;
  query(i: number): Float32Array;
  warmupQuery(i: number): Float32Array;
}

/** splitmix32: spreads a small seed over 32 bits (seeds sfc32). */
function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A small fast PRNG: sfc32, uniform in [0, 1) with 32 bits of resolution. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number, stream = 0) {
    const sm = splitmix32((seed * 0x9e3779b1 + stream * 0x632be5ab) >>> 0);
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal by Box–Muller (both values of each pair are used). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u1 = (this.nextU32() + 1) / 4294967297; // in (0, 1]: log never sees 0
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * u2;
    this.spare = r * Math.sin(th);
    this.hasSpare = true;
    return r * Math.cos(th);
  }
}

/** Std of dimension j: 1/sqrt(1 + j/8). */
export function dimStd(d: number): Float64Array {
  const s = new Float64Array(d);
  for (let j = 0; j < d; j++) s[j] = 1 / Math.sqrt(1 + j / 8);
  return s;
}

function fillPoints(
  rng: Rng,
  out: Float32Array,
  labels: Int32Array,
  count: number,
  d: number,
  centres: Float32Array,
  clusters: number,
  noiseStd: Float64Array,
): void {
  for (let i = 0; i < count; i++) {
    const c = rng.int(clusters);
    labels[i] = c;
    const co = c * d;
    const o = i * d;
    for (let j = 0; j < d; j++) out[o + j] = centres[co + j] + noiseStd[j] * rng.normal();
  }
}

export function generateSynthetic(opts: SyntheticOptions): SyntheticData {
  const { n, d, queries: nq, clusters, seed } = opts;
  const noise = opts.noise ?? 0.5;
  const nw = opts.warmup ?? 0;
  const std = dimStd(d);
  const noiseStd = std.map((s) => s * noise);

  // Separate streams: centres, database rows, queries, warm-up queries.
  const rc = new Rng(seed, 1);
  const centres = new Float32Array(clusters * d);
  for (let c = 0; c < clusters; c++) for (let j = 0; j < d; j++) centres[c * d + j] = std[j] * rc.normal();

  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  fillPoints(new Rng(seed, 2), data, labels, n, d, centres, clusters, noiseStd);
  const queries = new Float32Array(nq * d);
  const queryLabels = new Int32Array(nq);
  fillPoints(new Rng(seed, 3), queries, queryLabels, nq, d, centres, clusters, noiseStd);
  const warmup = new Float32Array(nw * d);
  fillPoints(new Rng(seed, 4), warmup, new Int32Array(nw), nw, d, centres, clusters, noiseStd);

  return {
    n,
    d,
    data,
    labels,
    queries,
    queryLabels,
    warmup,
    row: (i) => data.subarray(i * d, (i + 1) * d),
    query: (i) => queries.subarray(i * d, (i + 1) * d),
    warmupQuery: (i) => warmup.subarray(i * d, (i + 1) * d),
  };
}
