import { loadHeads, loadLayersModelFromDir } from '../encoders/model-files.js';
import { disposeHeads } from '../encoders/heads.js';
import { embedPixels } from '../encoders/image-encoder.js';
import { headAccuracy, knnFigures, type FiguresByDim } from './evaluate.js';
import type { ImageSplit } from '../data/fashion-mnist.js';

/**
 * Evaluates a saved model directory (the files as shipped, reloaded from disk): embeds the
 * database split and the query split, then per prefix dim the kNN figures (queries against the
 * whole database, cosine on the normalised prefix) and per head dim the linear-head accuracy.
 */
export async function evaluateModelDir(dir: string, db: ImageSplit, queries: ImageSplit, knnDims: number[]): Promise<FiguresByDim> {
  const model = await loadLayersModelFromDir(dir);
  const heads = loadHeads(dir);
  try {
    const dim = (model.outputs[0].shape as number[])[1];
    const zDb = await embedPixels(model, db.images, db.count, db.rows, db.cols);
    const zQ = await embedPixels(model, queries.images, queries.count, queries.rows, queries.cols);
    const knn = await knnFigures(
      { db: zDb, dbLabels: db.labels, queries: zQ, queryLabels: queries.labels, dim },
      knnDims.filter((m) => m <= dim),
    );
    return { ...knn, linear: headAccuracy(heads, zQ, queries.labels, dim) };
  } finally {
    model.dispose();
    disposeHeads(heads);
  }
}

/** A plain-text table of figures: one row per dim, one column per metric. */
export function formatFigures(figures: FiguresByDim): string {
  const metrics = Object.keys(figures);
  const dims = [...new Set(metrics.flatMap((k) => Object.keys(figures[k])))].map(Number).sort((a, b) => a - b);
  const lines = [['dim', ...metrics].join('\t')];
  for (const d of dims)
    lines.push([String(d), ...metrics.map((k) => (figures[k][d] === undefined ? '-' : figures[k][d].toFixed(4)))].join('\t'));
  return `${lines.join('\n')}\n`;
}
