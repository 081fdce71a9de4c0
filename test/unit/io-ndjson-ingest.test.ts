import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { mrlError } from '../../src/errors.js';
import { ingestRecords, ndjsonRecords, type SourceRecord } from '../../src/io/ndjson-ingest.js';

const collect = async (it: AsyncIterable<SourceRecord>) => {
  const out: SourceRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
};

test('ndjsonRecords: objects by line number; bad, long and non-object lines become {line, code, message}', async () => {
  const body = Readable.from(['{"id":"a"}\n\nnope\n[1]\n{"id":"', 'long-long-long"}\r\n{"id":"b"}\n\n']);
  const records = await collect(ndjsonRecords(body, { maxLineBytes: 20 }));
  assert.deepEqual(
    records.map((r) => ('item' in r ? ['item', r.line, r.item] : 'code' in r ? [r.code, r.line] : ['blank', r.line])),
    [
      ['item', 1, { id: 'a' }],
      ['blank', 2],
      ['VALIDATION', 3],
      ['VALIDATION', 4],
      ['PAYLOAD_TOO_LARGE', 5],
      ['item', 6, { id: 'b' }],
      ['blank', 7],
    ],
  );
  assert.match((records[2] as { message: string }).message, /^invalid JSON: /);
  assert.equal((records[3] as { message: string }).message, 'line is not a JSON object');
});

test('ingestRecords: commits in batches, reports refused items in the one error shape, counts every line', async () => {
  const lines = ['{"n":1}', '{"n":2}', '{"n":-1}', 'x', '{"n":3}', '{"n":4}', '{"n":5}', ''];
  const batches: number[][] = [];
  const commits: { lines: number; upserted: number }[] = [];
  const r = await ingestRecords(ndjsonRecords(Readable.from(lines.join('\n'))), {
    batch: 2,
    check: (it) => {
      const n = (it as { n: number }).n;
      if (n < 0) throw mrlError('INVALID_VECTOR', 'n must not be negative');
      return n;
    },
    commit: async (b) => {
      batches.push(b);
      return b.length;
    },
    onCommit: (p) => commits.push(p),
  });
  assert.deepEqual(batches, [[1, 2], [3, 4], [5]]);
  assert.deepEqual(
    commits.map((c) => c.upserted),
    [2, 4, 5],
  );
  assert.deepEqual(r, {
    upserted: 5,
    lines: 7,
    failed: 2,
    errors: [
      { line: 3, code: 'INVALID_VECTOR', message: 'n must not be negative' },
      { line: 4, code: 'VALIDATION', message: r.errors[1]?.message },
    ],
  });
  assert.match(r.errors[1].message, /^invalid JSON/);
});

test('ingestRecords: lists at most maxListedErrors, counts them all; an error that is not coded stops the ingest', async () => {
  const records: SourceRecord[] = Array.from({ length: 5 }, (_, i) => ({ line: i + 1, code: 'VALIDATION', message: `bad ${i + 1}` }));
  const r = await ingestRecords(records, { batch: 10, maxListedErrors: 2, check: (x) => x, commit: async (b) => b.length });
  assert.equal(r.failed, 5);
  assert.deepEqual(
    r.errors.map((e) => e.line),
    [1, 2],
  );
  await assert.rejects(
    ingestRecords([{ line: 1, item: {} }], {
      batch: 10,
      check: () => {
        throw new TypeError('a bug');
      },
      commit: async (b) => b.length,
    }),
    TypeError,
  );
});
