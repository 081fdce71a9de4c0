import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paretoFlags } from '../../src/eval/pareto.js';

test('paretoFlags keeps the points no other point beats on both cost and quality', () => {
  // [cost, quality]
  const pts: [number, number][] = [
    [1, 0.5],
    [2, 0.7],
    [2, 0.6],
    [3, 0.7],
    [4, 0.9],
    [0.5, 0.4],
    [5, 0.9],
  ];
  const flags = paretoFlags(
    pts,
    (p) => p[0],
    (p) => p[1],
  );
  // [2, 0.6] loses to [2, 0.7]; [3, 0.7] to [2, 0.7]; [5, 0.9] to [4, 0.9].
  assert.deepEqual(flags, [true, true, false, false, true, true, false]);
  // Equal points do not knock each other out.
  assert.deepEqual(
    paretoFlags(
      [
        [1, 1],
        [1, 1],
      ],
      (p) => p[0],
      (p) => p[1],
    ),
    [true, true],
  );
});
