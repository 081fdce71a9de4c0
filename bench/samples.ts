/** Inputs shared by the embedding benchmark, the agreement script and the tests. */
import { join } from 'node:path';
import { projectRoot } from '../src/paths.js';
import { readBrown } from '../src/data/brown.js';
import { loadSplit } from '../src/data/fashion-mnist.js';

/** `n` Brown-corpus sentences spread over the corpus (every paragraph's sentences, taken at a stride). */
export function brownSentences(n: number): string[] {
  const all = readBrown()
    .flatMap((p) => p.text.split(/(?<=[.!?]"?)\s+/))
    .filter((s) => s.split(' ').length >= 3);
  const stride = Math.floor(all.length / n);
  return Array.from({ length: n }, (_, i) => all[i * stride]);
}

/** The first `n` test images of the committed Fashion-MNIST sample, as 28×28 arrays. */
export function fashionImages(n: number, dir = join(projectRoot(), 'test/fixtures/fashion-sample')): number[][][] {
  const s = loadSplit(dir, 't10k', n);
  return Array.from({ length: s.count }, (_, i) =>
    Array.from({ length: s.rows }, (_, r) => Array.from(s.images.subarray((i * s.rows + r) * s.cols, (i * s.rows + r + 1) * s.cols))),
  );
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

/** Indices of each vector's k nearest others by cosine (exact). */
export function topKNeighbours(vs: ArrayLike<number>[], k: number): number[][] {
  return vs.map((q, i) =>
    vs
      .map((v, j) => ({ j, s: j === i ? -Infinity : cosine(q, v) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, k)
      .map((x) => x.j),
  );
}
