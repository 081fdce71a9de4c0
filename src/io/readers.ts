import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';

export type Line = { line: number; item: unknown } | { line: number; error: string };

/** NDJSON: one {"id","vector","label","payload"} object per line; blank lines are skipped. */
export async function* readNdjson(file: string): AsyncGenerator<Line> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const text of rl) {
    n++;
    if (text.trim() === '') continue;
    try {
      const item: unknown = JSON.parse(text);
      if (typeof item !== 'object' || item === null || Array.isArray(item)) yield { line: n, error: 'line is not a JSON object' };
      else yield { line: n, item };
    } catch (err) {
      yield { line: n, error: `invalid JSON: ${(err as Error).message}` };
    }
  }
}

/**
 * .fvecs (the TEXMEX format): per vector an int32 little-endian dimension d, then d float32.
 * Items get ids `${prefix}${ordinal}` (0-based); a record whose d is implausible stops the read.
 */
export function* readFvecs(file: string, idPrefix = ''): Generator<Line> {
  const fd = openSync(file, 'r');
  const size = statSync(file).size;
  const head = Buffer.alloc(4);
  let pos = 0;
  let n = 0;
  try {
    while (pos < size) {
      n++;
      if (readSync(fd, head, 0, 4, pos) !== 4) {
        yield { line: n, error: 'truncated record header' };
        return;
      }
      const d = head.readInt32LE(0);
      if (d <= 0 || d > 1 << 16 || pos + 4 + d * 4 > size) {
        yield { line: n, error: `bad record dimension ${d} at byte ${pos}` };
        return;
      }
      const buf = Buffer.alloc(d * 4);
      readSync(fd, buf, 0, d * 4, pos + 4);
      const vector = new Array<number>(d);
      for (let i = 0; i < d; i++) vector[i] = buf.readFloatLE(i * 4);
      yield { line: n, item: { id: `${idPrefix}${n - 1}`, vector } };
      pos += 4 + d * 4;
    }
  } finally {
    closeSync(fd);
  }
}

export function writeFvecs(vectors: ArrayLike<number>[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of vectors) {
    const b = Buffer.alloc(4 + v.length * 4);
    b.writeInt32LE(v.length, 0);
    for (let i = 0; i < v.length; i++) b.writeFloatLE(v[i], 4 + i * 4);
    parts.push(b);
  }
  return Buffer.concat(parts);
}
