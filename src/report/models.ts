import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { embedPixels } from '../encoders/image-encoder.js';
import { loadLayersModelFromDir, MODEL_FILES } from '../encoders/model-files.js';
import { splitFiles, type ImageSplit } from '../data/fashion-mnist.js';

/** The models the comparison needs: the shipped MRL model and the baselines trained like it. */
export interface PaperModel {
  /** 'mrl', 'mrl-e', 'ff-8' … 'ff-512'. */
  key: string;
  dir: string;
  /** Arguments of `mrl train` beyond the shared ones (see trainCommand). */
  trainArgs: string[];
  /** Dim of the embedding (the fixed-feature models' D'). */
  dim: number;
}

export const FIXED_DIMS = [8, 16, 32, 64, 128, 256, 512];

export function paperModels(shippedDir: string, runsDir: string): PaperModel[] {
  return [
    { key: 'mrl', dir: shippedDir, trainArgs: [], dim: 512 },
    { key: 'mrl-e', dir: join(runsDir, 'mrl-e'), trainArgs: ['--efficient', '--name', 'fashion-mrl-e'], dim: 512 },
    ...FIXED_DIMS.map((d) => ({
      key: `ff-${d}`,
      dir: join(runsDir, `ff-${d}`),
      trainArgs: ['--fixed', String(d), '--name', `ff-${d}`],
      dim: d,
    })),
  ];
}

/** The same settings as the shipped model (docs/fashion-mrl.md): 10 epochs, seed 1, evaluation skipped. */
export function trainCommand(m: PaperModel, dataDir: string, outDir: string): string[] {
  return [
    '--import',
    'tsx',
    'src/cli.ts',
    'train',
    '--data',
    dataDir,
    '--out',
    outDir,
    '--epochs',
    '10',
    '--seed',
    '1',
    '--skip-eval',
    '--quiet',
    ...m.trainArgs,
  ];
}

export function isComplete(m: PaperModel): boolean {
  return existsSync(join(m.dir, MODEL_FILES.manifest)) && existsSync(join(m.dir, MODEL_FILES.weights));
}

/** Installs Fashion-MNIST from its Debian package when the four files are missing. */
export function ensureDataset(dataDir: string, log: (s: string) => void): void {
  const missing = (['train', 't10k'] as const).flatMap((s) => Object.values(splitFiles(dataDir, s))).filter((f) => !existsSync(f));
  if (missing.length === 0) return;
  log(`Fashion-MNIST missing (${missing.join(', ')}): running scripts/install-fashion-mnist.sh`);
  const r = spawnSync('bash', ['scripts/install-fashion-mnist.sh'], {
    stdio: 'inherit',
    env: { ...process.env, FASHION_MNIST_DIR: dataDir },
  });
  if (r.status !== 0) throw new Error('scripts/install-fashion-mnist.sh failed');
}

/**
 * Trains the model into `<dir>.tmp` and moves it into place only when complete, so a directory
 * with a manifest is always a finished model (the same protocol as a background training job).
 */
export function trainModel(m: PaperModel, dataDir: string, log: (s: string) => void): number {
  const tmp = `${m.dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const args = trainCommand(m, dataDir, tmp);
  log(`training ${m.key}: node ${args.join(' ')}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`training ${m.key} failed (exit ${r.status ?? r.signal})`);
  rmSync(m.dir, { recursive: true, force: true });
  renameSync(tmp, m.dir);
  return performance.now() - t0;
}

/** SHA-256 of the files that define a model's embeddings (topology and weights). */
export function modelHash(dir: string): string {
  const h = createHash('sha256');
  for (const f of [MODEL_FILES.model, MODEL_FILES.weights]) h.update(readFileSync(join(dir, f)));
  return h.digest('hex');
}

interface CacheMeta {
  model: string;
  sha256: string;
  split: string;
  count: number;
  dim: number;
}

/**
 * The model's embeddings of a split, cached under `cacheDir` as raw float32 (little-endian, the
 * platform's order) with a JSON sidecar; recomputed when the model files or the count change.
 */
export async function cachedEmbeddings(
  m: PaperModel,
  sha256: string,
  splitName: string,
  split: ImageSplit,
  cacheDir: string,
  log: (s: string) => void,
  fresh = false,
): Promise<Float32Array> {
  mkdirSync(cacheDir, { recursive: true });
  const base = join(cacheDir, `${m.key}-${splitName}-${split.count}`);
  const want: CacheMeta = { model: m.key, sha256, split: splitName, count: split.count, dim: m.dim };
  if (!fresh && existsSync(`${base}.json`) && existsSync(`${base}.f32`)) {
    const meta = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as CacheMeta;
    const buf = readFileSync(`${base}.f32`);
    if (JSON.stringify(meta) === JSON.stringify(want) && buf.byteLength === split.count * m.dim * 4) {
      return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    }
  }
  const t0 = performance.now();
  const model = await loadLayersModelFromDir(m.dir);
  let z: Float32Array;
  try {
    z = await embedPixels(model, split.images, split.count, split.rows, split.cols);
  } finally {
    model.dispose();
  }
  writeFileSync(`${base}.f32.tmp`, new Uint8Array(z.buffer, z.byteOffset, z.byteLength));
  renameSync(`${base}.f32.tmp`, `${base}.f32`);
  writeFileSync(`${base}.json`, `${JSON.stringify(want)}\n`);
  log(`embedded ${splitName} (${split.count}) with ${m.key} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return z;
}
