/**
 * Writes the small Fashion-MNIST sample committed for tests: the first N train and M test
 * images (default 1000 / 200) with their labels, same four IDX file names, gzipped.
 * Usage: node --import tsx scripts/make-fashion-sample.ts [--from DIR] [--to DIR] [--train N] [--test M]
 * (the full set comes from scripts/install-fashion-mnist.sh).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { FASHION_MNIST_DIR, loadSplit, splitFiles, type SplitName } from '../src/data/fashion-mnist.js';
import { encodeIdx } from '../src/data/idx.js';

const { values } = parseArgs({
  options: {
    from: { type: 'string', default: FASHION_MNIST_DIR },
    to: { type: 'string', default: 'test/fixtures/fashion-sample' },
    train: { type: 'string', default: '1000' },
    test: { type: 'string', default: '200' },
  },
});

mkdirSync(values.to, { recursive: true });
const counts: Record<SplitName, number> = { train: Number(values.train), t10k: Number(values.test) };
let bytes = 0;
for (const split of ['train', 't10k'] as const) {
  const s = loadSplit(values.from, split, counts[split]);
  const out = splitFiles(values.to, split);
  const images = gzipSync(encodeIdx([s.count, s.rows, s.cols], s.images), { level: 9 });
  const labels = gzipSync(encodeIdx([s.count], s.labels), { level: 9 });
  writeFileSync(out.images, images);
  writeFileSync(out.labels, labels);
  bytes += images.length + labels.length;
  console.log(`${split}: ${s.count} images -> ${out.images}, ${out.labels}`);
}
console.log(`total ${(bytes / 1024).toFixed(0)} KiB`);
