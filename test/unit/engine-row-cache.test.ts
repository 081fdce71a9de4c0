import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonChars } from '../../src/engine/row-cache.js';

test("the row cache's payload size estimate is near the JSON's length (numbers count 8, escapes none)", () => {
  const payloads: unknown[] = [
    { n: 1 },
    {
      title: 'The Fulton County Grand Jury said Friday',
      tags: ['news', 'politics'],
      year: 1961,
      meta: { score: 0.125, ok: true, none: null },
    },
    ['a', 1, [2, [3, { deep: 'x'.repeat(500) }]]],
    'just a string',
    Array.from({ length: 100 }, (_, i) => i * 1.5),
    { 'ключ "quoted"': 'значение' },
  ];
  for (const p of payloads) {
    const real = JSON.stringify(p).length;
    const est = jsonChars(p);
    assert.ok(est >= 0.9 * real && est <= 2.5 * real + 16, `${JSON.stringify(p).slice(0, 40)}: estimated ${est}, JSON ${real}`);
  }
});
