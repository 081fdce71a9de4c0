import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { ndjsonRecords, type SourceRecord } from './ndjson-ingest.js';

/** A file of items: `.fvecs` by its extension, NDJSON otherwise. */
export function fileRecords(file: string): AsyncIterable<SourceRecord> | Iterable<SourceRecord> {
  return file.endsWith('.fvecs') ? readFvecs(file) : ndjsonRecords(createReadStream(file));
}

/**
 * .fvecs (the TEXMEX format): per vector an int32 little-endian dimension d, then d float32.
 * Items get ids `${prefix}${ordinal}` (0-based); a record whose d is implausible stops the read.
 */
export function* readFvecs(file: string, idPrefix = ''): Generator<SourceRecord> {
  const fd = openSync(file, 'r');
  const size = statSync(file).size;
  const head = Buffer.alloc(4);
  let pos = 0;
  let n = 0;
  try {
    while (pos < size) {
      n++;
      if (readSync(fd, head, 0, 4, pos) !== 4) {
        yield { line: n, code: 'VALIDATION', message: 'truncated record header' };
        return;
      }
      const d = head.readInt32LE(0);
      if (d <= 0 || d > 1 << 16 || pos + 4 + d * 4 > size) {
        yield { line: n, code: 'VALIDATION', message: `bad record dimension ${d} at byte ${pos}` };
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
