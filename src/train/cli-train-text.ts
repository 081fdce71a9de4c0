import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseOptions, UsageError } from '../cli/usage.js';
import cliProgress from 'cli-progress';
import { genreNames, readBrown } from '../data/brown.js';
import type { ModelManifest } from '../encoders/encoder.js';
import { saveLayersModel } from '../encoders/text-encoder.js';
import { initTf, tf } from '../encoders/tf-backend.js';
import { USE_DIM, USE_MAX_TOKENS, USE_PACKAGE, useModelDir } from '../encoders/use-lite.js';
import { mulberry32, shuffleInPlace } from '../core/rng.js';
import {
  applyAdaptor,
  buildAdaptor,
  buildHeads,
  cachedUseEmbeddings,
  evaluatePrefixes,
  heldOutDocuments,
  prefixNeighbours,
  principalAxes,
  trainAdaptor,
  type PrefixReport,
} from './text-adaptor/index.js';
import { headAccuracy } from './evaluate.js';

export const TRAIN_TEXT_USAGE = `usage: mrl train --model text-mrl [--out models/text-mrl] [--epochs 20] [--seed 1] [--limit N]
                         [--cache-dir /tmp/mrl-text-cache]
Trains the MRL adaptor on USE-lite embeddings of the Brown corpus paragraphs (80/20 split by
document within each genre) and writes the model directory and its manifest.`;

/** Hyperparameters of the shipped model (chosen on a validation split of the training documents). */
export const TEXT_HYPER = {
  nesting: [8, 16, 32, 64, 128, 256, 512],
  dimWeights: [1, 1, 1, 1, 1, 2, 4],
  hidden: 512,
  batch: 512,
  learningRate: 3e-4,
  headLearningRate: 1e-2,
  tau: 0.05,
  mseWeight: 1,
  clsWeight: 0.02,
  heldOutFraction: 0.2,
  maxLength: 10000,
  k: 10,
};

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < (name === 'seed' ? 0 : 1))
    throw new UsageError(`--${name} must be a ${name === 'seed' ? 'non-negative' : 'positive'} integer, got '${v}'`);
  return n;
}

const pct = (x: number) => (100 * x).toFixed(1);

function table(dims: number[], rows: [string, PrefixReport][], key: 'recall' | 'nnAccuracy'): string {
  const head = `| ${key === 'recall' ? 'recall@10 vs full USE' : 'genre 1-NN accuracy'} | ${dims.join(' | ')} |`;
  const sep = `| --- | ${dims.map(() => '---:').join(' | ')} |`;
  const body = rows.map(([name, r]) => `| ${name} | ${dims.map((d) => pct(r[key]![d])).join(' | ')} |`);
  return [head, sep, ...body].join('\n');
}

/** `mrl train --model text-mrl`: returns the process exit code. */
export async function runTrainText(argv: string[]): Promise<number> {
  // A UsageError goes to the CLI, which prints it with the train usage.
  const o = parseOptions(argv, {
    out: { type: 'string' },
    epochs: { type: 'string' },
    seed: { type: 'string' },
    limit: { type: 'string' },
    'cache-dir': { type: 'string' },
  });
  const epochs = positiveInt('epochs', o.epochs, 20);
  const seed = positiveInt('seed', o.seed, 1);
  const limit = positiveInt('limit', o.limit, Number.MAX_SAFE_INTEGER);
  const out = o.out ?? 'models/text-mrl';
  const cacheDir = o['cache-dir'] ?? '/tmp/mrl-text-cache';
  const H = TEXT_HYPER;
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const tStart = performance.now();

  const { backend } = await initTf();
  let paragraphs = readBrown();
  if (limit < paragraphs.length) {
    const keep = new Set(
      shuffleInPlace(
        paragraphs.map((_, i) => i),
        mulberry32(seed),
      ).slice(0, limit),
    );
    paragraphs = paragraphs.filter((_, i) => keep.has(i));
  }
  const classes = genreNames(paragraphs);
  const held = heldOutDocuments(paragraphs, H.heldOutFraction, seed);
  log(`tfjs backend ${backend}; ${paragraphs.length} paragraphs, ${classes.length} genres, ${held.size} held-out documents`);

  const bar = new cliProgress.SingleBar(
    { format: 'USE embeddings {bar} {value}/{total} {duration}s', stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(paragraphs.length, 0);
  const t0 = performance.now();
  const all = await cachedUseEmbeddings(
    paragraphs.map((p) => p.text),
    cacheDir,
    (done) => bar.update(done),
  );
  bar.stop();
  const useSeconds = (performance.now() - t0) / 1000;

  const pick = (test: boolean) => {
    const rows = paragraphs.flatMap((p, i) => (held.has(p.doc) === test ? [i] : []));
    const x = new Float32Array(rows.length * USE_DIM);
    rows.forEach((r, j) => x.set(all.subarray(r * USE_DIM, (r + 1) * USE_DIM), j * USE_DIM));
    return { x, y: Int32Array.from(rows, (r) => classes.indexOf(paragraphs[r].genre)), n: rows.length };
  };
  const train = pick(false);
  const test = pick(true);
  log(`train ${train.n} paragraphs, held-out ${test.n}; USE embeddings ${useSeconds.toFixed(1)} s`);

  const tTrain = performance.now();
  const axes = principalAxes(train.x, train.n, USE_DIM);
  const model = buildAdaptor({ hidden: H.hidden, seed, skipKernel: axes });
  const heads = buildHeads(H.nesting, classes.length, seed);
  const { losses } = await trainAdaptor(model, heads, train.x, train.y, classes.length, {
    ...H,
    epochs,
    seed,
    onEpoch: (e, loss, s) => log(`epoch ${e}/${epochs} loss ${loss.toFixed(4)} ${s.toFixed(0)} s`),
  });
  const trainSeconds = (performance.now() - tTrain) / 1000;

  // Held-out figures: adaptor, plain truncation of USE, and the PCA rotation alone (the skip's init).
  const tEval = performance.now();
  const zTest = applyAdaptor(model, test.x, test.n);
  const heads8to512 = headAccuracy(heads, zTest, test.y, USE_DIM);
  tf.dispose([...heads.kernels, ...heads.biases]);
  const rotate = (x: Float32Array, n: number) => {
    const t = tf.tidy(() => tf.matMul(tf.tensor2d(x, [n, USE_DIM]), tf.tensor2d(axes, [USE_DIM, USE_DIM])));
    const out = t.dataSync() as Float32Array; // read outside tidy: tidy would walk a returned array
    t.dispose();
    return out;
  };
  const truth = prefixNeighbours(test.x, test.n, USE_DIM, H.k);
  const evalOf = (heldOut: Float32Array, db: Float32Array) =>
    evaluatePrefixes(heldOut, truth, H.k, H.nesting, { db, dbLabels: train.y, queryLabels: test.y });
  const rows: [string, PrefixReport][] = [
    ['MRL adaptor', evalOf(zTest, applyAdaptor(model, train.x, train.n))],
    ['USE truncated', evalOf(test.x, train.x)],
    ['USE x PCA rotation (no training)', evalOf(rotate(test.x, test.n), rotate(train.x, train.n))],
  ];
  const evalSeconds = (performance.now() - tEval) / 1000;

  await mkdir(out, { recursive: true });
  await saveLayersModel(model, out);
  model.dispose();
  const usePkg = JSON.parse(await readFile(join(useModelDir(), '..', 'package.json'), 'utf8')) as { version: string };
  const manifest: ModelManifest = {
    name: basename(out),
    loader: 'text-use-adaptor',
    input: { kind: 'text', maxLength: H.maxLength },
    dim: USE_DIM,
    nesting: H.nesting,
    objective: 'mrl',
    training: {
      data: 'brown',
      examples: train.n,
      epochs,
      seconds: +trainSeconds.toFixed(1),
      seed,
      base: `USE lite from ${USE_PACKAGE}`,
      basePackage: `${USE_PACKAGE}@${usePkg.version}`,
      baseMaxTokens: USE_MAX_TOKENS,
      heldOut: { documents: held.size, paragraphs: test.n, split: 'by document within each genre' },
      useEmbeddingSeconds: +useSeconds.toFixed(1),
      backend,
      hyper: {
        hidden: H.hidden,
        batch: H.batch,
        learningRate: H.learningRate,
        headLearningRate: H.headLearningRate,
        tau: H.tau,
        mseWeight: H.mseWeight,
        clsWeight: H.clsWeight,
        dimWeights: H.dimWeights,
      },
      genreHeads: 'trained with the adaptor (MRL classification term), not shipped',
      finalLoss: +losses[losses.length - 1].toFixed(4),
      command: `mrl train --model text-mrl --out ${out} --epochs ${epochs} --seed ${seed}${limit < Number.MAX_SAFE_INTEGER ? ` --limit ${limit}` : ''}`,
    },
    metrics: {
      [`recall@${H.k}_vs_full_use_heldout`]: rows[0][1].recall,
      genre_1nn_accuracy_heldout: rows[0][1].nnAccuracy!,
    },
    createdAt: new Date().toISOString(),
  };
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  process.stdout.write(
    `${table(H.nesting, rows, 'recall')}\n\n${table(H.nesting, rows, 'nnAccuracy')}\n\n` +
      `| genre head accuracy (adaptor's training heads, not shipped) | ${H.nesting.map((d) => pct(heads8to512[d])).join(' | ')} |\n\n` +
      `${JSON.stringify({ out, examples: train.n, heldOut: test.n, useSeconds, trainSeconds, evalSeconds, totalSeconds: (performance.now() - tStart) / 1000, heads: heads8to512, rows: Object.fromEntries(rows) })}\n`,
  );
  return 0;
}
