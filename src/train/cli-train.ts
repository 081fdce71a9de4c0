import { parseOptions, UsageError } from '../cli/usage.js';
import { existsSync } from 'node:fs';
import { initTf } from '../encoders/tf-backend.js';
import type { ModelManifest } from '../encoders/encoder.js';
import { defaultNesting } from '../core/prefix.js';
import { FASHION_CLASSES, loadSplit, splitFiles } from '../data/fashion-mnist.js';
import { trainMrl } from './trainer.js';
import type { Objective } from '../encoders/heads.js';
import { writeManifest } from '../encoders/model-files.js';
import { saveTrainedModel } from './save-model.js';
import { evaluateModelDir, formatFigures } from './evaluate-model.js';

export const TRAIN_USAGE = `usage: mrl train --data <dir> --out <model dir> [--efficient] [--fixed D] [--dim 512]
                 [--epochs N] [--batch N] [--seed N] [--limit N] [--name fashion-mrl]
                 [--hidden 512] [--lr 0.001] [--skip-eval] [--quiet]
  --data       directory with Fashion-MNIST's {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
               (full set: /usr/share/datasets/fashion-mnist, see scripts/install-fashion-mnist.sh)
  --efficient  MRL-E: one shared D×C head, head m uses its first m rows
  --fixed D    a fixed-feature baseline: embedding of D values, one head at D
  --limit N    train on the first N training images only
  --skip-eval  do not evaluate on the t10k split after training`;

const DEFAULTS = { dim: 512, epochs: 10, batch: 256, seed: 1, hidden: 512, lr: 1e-3, name: 'fashion-mrl' };

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

function posInt(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || (n === 0 && name !== 'seed'))
    throw new UsageError(`--${name} must be a ${name === 'seed' ? 'non-negative' : 'positive'} integer, got '${raw}'`);
  return n;
}

function parse(argv: string[]) {
  const values = parseOptions(argv, {
    data: { type: 'string' },
    out: { type: 'string' },
    efficient: { type: 'boolean' },
    fixed: { type: 'string' },
    dim: { type: 'string' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    limit: { type: 'string' },
    name: { type: 'string' },
    hidden: { type: 'string' },
    lr: { type: 'string' },
    'skip-eval': { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  if (!values.data || !values.out) throw new UsageError('--data and --out are required');
  if (values.efficient && values.fixed !== undefined) throw new UsageError('--efficient and --fixed exclude each other');
  if (values.dim !== undefined && values.fixed !== undefined) throw new UsageError('--fixed D sets the dim: leave out --dim');
  const objective: Objective = values.fixed !== undefined ? 'fixed' : values.efficient ? 'mrl-e' : 'mrl';
  const dim = values.fixed !== undefined ? posInt(values.fixed, 'fixed', 0) : posInt(values.dim, 'dim', DEFAULTS.dim);
  const lr = values.lr === undefined ? DEFAULTS.lr : Number(values.lr);
  if (!(lr > 0 && lr < 1)) throw new UsageError(`--lr must be in (0, 1), got '${values.lr}'`);
  const hidden = (values.hidden ?? String(DEFAULTS.hidden))
    .split(',')
    .filter((s) => s !== '')
    .map((s) => posInt(s, 'hidden', 0));
  return {
    data: values.data,
    out: values.out,
    objective,
    dim,
    lr,
    hidden,
    nesting: objective === 'fixed' ? [dim] : defaultNesting(dim),
    epochs: posInt(values.epochs, 'epochs', DEFAULTS.epochs),
    batch: posInt(values.batch, 'batch', DEFAULTS.batch),
    seed: posInt(values.seed, 'seed', DEFAULTS.seed),
    limit: values.limit === undefined ? Infinity : posInt(values.limit, 'limit', 0),
    name: values.name ?? DEFAULTS.name,
    evaluate: !values['skip-eval'],
    progress: !values.quiet,
  };
}

/** `mrl train`: trains an image encoder with the MRL loss (or MRL-E / fixed), saves it, evaluates it. */
export async function runTrain(argv: string[]): Promise<number> {
  const o = parse(argv); // a UsageError goes to the CLI, which prints it with TRAIN_USAGE
  try {
    const { backend } = await initTf();
    const train = loadSplit(o.data, 'train', o.limit);
    process.stderr.write(
      `mrl train: ${o.objective} dim ${o.dim} nesting [${o.nesting.join(', ')}] on ${train.count} images, backend ${backend}\n`,
    );
    const trained = await trainMrl(train, {
      objective: o.objective,
      spec: { inputShape: [train.rows, train.cols], hidden: o.hidden, dim: o.dim },
      nesting: o.nesting,
      epochs: o.epochs,
      batchSize: o.batch,
      learningRate: o.lr,
      seed: o.seed,
      progress: o.progress,
    });
    const manifest: ModelManifest = {
      name: o.name,
      loader: 'image-mlp',
      input: { kind: 'image', shape: [train.rows, train.cols] },
      dim: o.dim,
      nesting: o.nesting,
      objective: o.objective,
      training: {
        data: `fashion-mnist train (${o.data})`,
        examples: train.count,
        epochs: o.epochs,
        seconds: round(trained.seconds, 1),
        seed: o.seed,
        batchSize: o.batch,
        learningRate: o.lr,
        optimizer: 'adam, cosine decay to 5%',
        architecture: `rescale(1/255) → flatten → ${o.hidden.map((h) => `dense ${h} relu → `).join('')}dense ${o.dim}`,
        backend,
        history: trained.history.map((h) => ({
          epoch: h.epoch,
          loss: round(h.loss, 4),
          accuracy: round(h.accuracy, 4),
          seconds: round(h.seconds, 1),
        })),
      },
      metrics: {},
      classes: [...FASHION_CLASSES],
      createdAt: new Date().toISOString(),
    };
    try {
      await saveTrainedModel(trained, o.out, manifest);
    } finally {
      trained.dispose();
    }
    process.stderr.write(`mrl train: trained in ${trained.seconds.toFixed(1)} s, saved ${o.out}\n`);
    if (o.evaluate && existsSync(splitFiles(o.data, 't10k').images)) {
      const t0 = performance.now();
      const test = loadSplit(o.data, 't10k');
      const figures = await evaluateModelDir(o.out, train, test, defaultNesting(o.dim));
      manifest.metrics = Object.fromEntries(
        Object.entries(figures).map(([k, byDim]) => [k, Object.fromEntries(Object.entries(byDim).map(([d, v]) => [d, round(v, 6)]))]),
      );
      manifest.training.evalSeconds = round((performance.now() - t0) / 1000, 1);
      manifest.training.testExamples = test.count;
      writeManifest(o.out, manifest);
      process.stdout.write(formatFigures(manifest.metrics));
    }
    process.stdout.write(
      `${JSON.stringify({ out: o.out, objective: o.objective, dim: o.dim, trainSeconds: manifest.training.seconds })}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`mrl train: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
