import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { USE_DIM, UseLite, useModelDir } from '../../encoders/use-lite.js';

/** Bump when tokenisation or clipping changes, so cached embeddings are recomputed. */
const USE_CACHE_REV = 'use-lite-v1';
const CACHE_CHUNK = 1000;

async function useIdentity(): Promise<string> {
  const h = createHash('sha256').update(USE_CACHE_REV);
  for (const f of ['model.json', 'vocab.json']) h.update(await readFile(join(useModelDir(), f)));
  return h.digest('hex');
}

/**
 * USE embeddings of `texts` (n x 512, row-major), computed once and cached under `cacheDir` in
 * chunks of 1000 texts keyed by the model files and the chunk's texts: an interrupted run
 * resumes, and a changed corpus or model recomputes only what changed.
 */
export async function cachedUseEmbeddings(
  texts: string[],
  cacheDir: string,
  onProgress?: (done: number, total: number) => void,
): Promise<Float32Array> {
  await mkdir(cacheDir, { recursive: true });
  const identity = await useIdentity();
  const out = new Float32Array(texts.length * USE_DIM);
  let use: UseLite | undefined;
  try {
    for (let start = 0; start < texts.length; start += CACHE_CHUNK) {
      const chunk = texts.slice(start, start + CACHE_CHUNK);
      const key = createHash('sha256').update(identity).update(chunk.join('\u0000')).digest('hex').slice(0, 32);
      const file = join(cacheDir, `use-${key}.f32`);
      if (existsSync(file)) {
        const buf = await readFile(file);
        if (buf.byteLength === chunk.length * USE_DIM * 4) {
          out.set(new Float32Array(buf.buffer, buf.byteOffset, chunk.length * USE_DIM), start * USE_DIM);
          onProgress?.(start + chunk.length, texts.length);
          continue;
        }
      }
      use ??= await UseLite.load();
      const rows = await use.embed(chunk, { onBatch: (d) => onProgress?.(start + d, texts.length) });
      const flat = new Float32Array(chunk.length * USE_DIM);
      rows.forEach((r, i) => flat.set(r, i * USE_DIM));
      await writeFile(`${file}.tmp`, Buffer.from(flat.buffer));
      await rename(`${file}.tmp`, file);
      out.set(flat, start * USE_DIM);
    }
  } finally {
    use?.dispose();
  }
  return out;
}
