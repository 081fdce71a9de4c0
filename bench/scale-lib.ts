/**
 * Pieces of `bench:scale` (bench/scale.ts): cached inputs (an .fvecs file, NDJSON files, exact
 * ground truth, a full-D hnswlib graph), ingest through the CLI's file path and over HTTP, and
 * latency measurement with 1 or more clients in flight.
 */
import { ingest } from './http-load.js';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import type { Kernel } from '../src/compute/kernel.js';
import { normalizedPrefix } from '../src/core/prefix.js';
import { summarise, type LatencySummary } from '../src/core/stats.js';
import type { SyntheticData } from './synthetic.js';

export const log = (msg: string) => process.stderr.write(`[scale] ${msg}\n`);

/** Writes `file` through a temp file and a rename, so an interrupted run leaves no half file. */
function writeAtomically(file: string, write: (fd: number) => void): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    write(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** The rows as an .fvecs file (what `mrl ingest` reads fastest), written once per data shape. */
export function fvecsFile(dir: string, s: SyntheticData): string {
  const file = join(dir, 'rows.fvecs');
  if (existsSync(file) && statSync(file).size === s.n * (4 + 4 * s.d)) return file;
  log(`writing ${file}`);
  writeAtomically(file, (fd) => {
    const rec = Buffer.alloc(4 + 4 * s.d);
    rec.writeInt32LE(s.d, 0);
    for (let i = 0; i < s.n; i++) {
      Buffer.from(s.row(i).buffer, s.row(i).byteOffset, 4 * s.d).copy(rec, 4);
      writeSync(fd, rec);
    }
  });
  return file;
}

/**
 * Rows [from, to) as NDJSON files of at most `perFile` rows each (one HTTP request each), each
 * `vector` a JSON array of decimals or (`base64`) the base64 of its little-endian float32 bytes.
 */
export function ndjsonFiles(
  dir: string,
  s: SyntheticData,
  from: number,
  to: number,
  perFile: number,
  encoding: 'decimal' | 'base64' = 'decimal',
): string[] {
  const files: string[] = [];
  const vector = (v: Float32Array) =>
    encoding === 'base64' ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v);
  for (let a = from; a < to; a += perFile) {
    const b = Math.min(to, a + perFile);
    const file = join(dir, `rows-${a}-${b}${encoding === 'base64' ? '.b64' : ''}.ndjson`);
    files.push(file);
    if (existsSync(file)) continue;
    log(`writing ${file}`);
    writeAtomically(file, (fd) => {
      let buf = '';
      for (let i = a; i < b; i++) {
        buf += `${JSON.stringify({ id: `h${i}`, vector: vector(s.row(i)) })}\n`;
        if (buf.length > 1 << 22) {
          writeSync(fd, buf);
          buf = '';
        }
      }
      writeSync(fd, buf);
    });
  }
  return files;
}

/** Exact full-D top 10 of every query (row ordinals), by the kernel over all rows; cached. */
export async function groundTruth(dir: string, s: SyntheticData, nq: number, kernel: Kernel): Promise<number[][]> {
  const file = join(dir, `truth-${nq}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as number[][];
  log(`exact ground truth for ${nq} queries over ${s.n} rows`);
  const scale = new Float32Array(s.n);
  for (let i = 0; i < s.n; i++) {
    const r = s.row(i);
    let x = 0;
    for (let j = 0; j < s.d; j++) x += r[j] * r[j];
    scale[i] = x > 0 ? 1 / Math.sqrt(x) : 0;
  }
  const out: number[][] = [];
  for (let q = 0; q < nq; q++) {
    const [top] = await kernel.topK(normalizedPrefix(s.query(q), s.d), 1, s.data, s.n, s.d, s.d, scale, 10);
    out.push(Array.from(top.indices));
  }
  writeFileSync(file, JSON.stringify(out));
  return out;
}

/** A full-D hnswlib graph over the rows (labels = ordinals), read from the cache or built and written. */
export function fullDIndex(
  dir: string,
  s: SyntheticData,
  m: number,
  efConstruction: number,
): { index: InstanceType<typeof hnswlib.HierarchicalNSW>; buildS: number | null; bytes: number } {
  const file = join(dir, `hnsw-full-m${m}-ef${efConstruction}.bin`);
  const index = new hnswlib.HierarchicalNSW('ip', s.d);
  if (existsSync(file)) {
    index.readIndexSync(file);
    return { index, buildS: null, bytes: statSync(file).size };
  }
  log(`building hnswlib full-D over ${s.n} rows (cached in ${file})`);
  const t0 = performance.now();
  index.initIndex({ maxElements: s.n, m, efConstruction, randomSeed: 100 });
  for (let i = 0; i < s.n; i++) {
    index.addPoint(Array.from(normalizedPrefix(s.row(i), s.d)), i);
    if (i % 50_000 === 0 && i > 0) log(`  ${i} rows, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const buildS = (performance.now() - t0) / 1000;
  index.writeIndexSync(`${file}.tmp`);
  renameSync(`${file}.tmp`, file);
  return { index, buildS, bytes: statSync(file).size };
}

/**
 * Streams NDJSON files to `POST /ingest` one request each, from a separate process (as a client
 * would: uploading then takes none of the server's thread); rows acknowledged and seconds.
 */
export async function httpIngest(base: string, collection: string, files: string[]): Promise<{ rows: number; seconds: number }> {
  const t0 = performance.now();
  let rows = 0;
  for (const file of files) {
    const r = await ingest(base, file, collection);
    if (r.failed) throw new Error(`ingest of ${file}: ${r.failed} lines failed`);
    rows += r.upserted;
  }
  return { rows, seconds: (performance.now() - t0) / 1000 };
}

export interface Measured {
  lat: LatencySummary;
  recall: number;
}

/**
 * `count` queries with `clients` of them in flight at once (1: one after the other), after a
 * short warm-up; latency per query, QPS over the run, recall@10 against `truth`.
 */
export async function measure(
  s: SyntheticData,
  truth: number[][],
  clients: number,
  fn: (q: Float32Array) => Promise<number[]> | number[],
): Promise<Measured> {
  const count = truth.length;
  for (let i = 0; i < Math.min(50, count); i++) await fn(s.warmupQuery(i));
  const lat = new Float64Array(count);
  let recall = 0;
  let next = 0;
  const start = performance.now();
  const client = async () => {
    for (let i = next++; i < count; i = next++) {
      const t0 = performance.now();
      const got = await fn(s.query(i));
      lat[i] = performance.now() - t0;
      const want = new Set(truth[i]);
      recall += got.filter((x) => want.has(x)).length / want.size;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return { lat: summarise(lat, performance.now() - start), recall: recall / count };
}

/** POST /search for a vector; the result ids as row ordinals. */
export function httpSearch(base: string, collection: string, opts: object): (q: Float32Array) => Promise<number[]> {
  return async (q) => {
    const res = await fetch(`${base}/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ collection, vector: Array.from(q), k: 10, ...opts }),
    });
    if (res.status !== 200) throw new Error(`search: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { results: { id: string }[] }).results.map((r) => ordinal(r.id));
  };
}

/** Row ordinal of an item id: fvecs rows are "<i>", NDJSON rows "h<i>". */
export function ordinal(id: string): number {
  return Number(id.startsWith('h') ? id.slice(1) : id);
}

/** Makes sure a folder exists and returns it. */
export function folder(...parts: string[]): string {
  const dir = join(...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
