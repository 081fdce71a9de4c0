import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { readIdx } from './idx.js';

/** Fashion-MNIST's ten classes, in label order (Xiao, Rasul & Vollgraf 2017). */
export const FASHION_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

/** Where the Debian package dataset-fashion-mnist puts the full set (scripts/install-fashion-mnist.sh). */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** A labelled split: `images` holds `count` rows of rows*cols bytes (0..255), row-major. */
export interface ImageSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

export type SplitName = 'train' | 't10k';

export function splitFiles(dir: string, split: SplitName): { images: string; labels: string } {
  return {
    images: join(dir, `${split}-images-idx3-ubyte.gz`),
    labels: join(dir, `${split}-labels-idx1-ubyte.gz`),
  };
}

/** Reads one split from `dir` (the four standard file names, gzipped); `limit` keeps the first N. */
export function loadSplit(dir: string, split: SplitName, limit = Infinity): ImageSplit {
  const files = splitFiles(dir, split);
  for (const f of [files.images, files.labels]) {
    if (!existsSync(f)) throw new Error(`missing ${f} (run scripts/install-fashion-mnist.sh for the full set)`);
  }
  const img = readIdx(files.images);
  const lab = readIdx(files.labels);
  if (img.shape.length !== 3) throw new Error(`${files.images}: expected 3 dimensions, got ${img.shape.length}`);
  if (lab.shape.length !== 1) throw new Error(`${files.labels}: expected 1 dimension, got ${lab.shape.length}`);
  const [n, rows, cols] = img.shape;
  if (lab.shape[0] !== n) throw new Error(`${split}: ${n} images but ${lab.shape[0]} labels`);
  const count = Math.min(n, limit);
  for (let i = 0; i < count; i++) {
    if (lab.data[i] >= FASHION_CLASSES.length) throw new Error(`${files.labels}: label ${lab.data[i]} at ${i} is out of range`);
  }
  return {
    images: img.data.subarray(0, count * rows * cols),
    labels: lab.data.subarray(0, count),
    count,
    rows,
    cols,
  };
}
