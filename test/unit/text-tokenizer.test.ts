import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SentencePieceTokenizer, useModelDir, type VocabEntry } from '../../src/encoders/use-lite.js';

const vocab = JSON.parse(readFileSync(join(useModelDir(), 'vocab.json'), 'utf8')) as VocabEntry[];
const tok = new SentencePieceTokenizer(vocab);
const pieces = (ids: number[]) => ids.map((i) => vocab[i][0]);
const id = (piece: string) => vocab.findIndex((v) => v[0] === piece);

test('known pieces get their vocabulary ids (hand-checked in vocab.json)', () => {
  // Rows 6 and 9 of the shipped vocab.json are "." and "▁the"; "▁cat" 1163, "▁sat" 3757, "▁on" 25.
  assert.equal(id('.'), 6);
  assert.equal(id('\u2581the'), 9);
  assert.deepEqual(tok.encode('the cat sat on the mat.'), [9, 1163, 3757, 25, 9, id('\u2581ma'), id('t'), 6]);
  assert.deepEqual(pieces(tok.encode('The cat sat on the mat.')), ['▁The', '▁cat', '▁sat', '▁on', '▁the', '▁ma', 't', '.']);
  assert.deepEqual(pieces(tok.encode('Hello world')), ['▁H', 'ello', '▁world']);
});

test('normalisation: NFKC, whitespace runs collapsed and trimmed', () => {
  assert.deepEqual(tok.encode('  the\n\tcat  '), tok.encode('the cat'));
  assert.deepEqual(tok.encode('\ufb01ne'), tok.encode('fine')); // the "ﬁ" ligature
  assert.equal(SentencePieceTokenizer.normalize(' a  b '), '\u2581a\u2581b');
  assert.deepEqual(tok.encode(''), []);
  assert.deepEqual(tok.encode(' \n '), []);
});

test('a run of unknown characters becomes one unknown id (0)', () => {
  assert.deepEqual(tok.encode('日本語'), [id('\u2581'), 0]);
  assert.deepEqual(pieces(tok.encode('the 日本 cat')), ['▁the', '▁', vocab[0][0], '▁cat']);
});

test('rows whose score was lost in vocab.json (null, or > 0 as ":30" -> 30) cost like the rarest piece', () => {
  const small: VocabEntry[] = [
    ['<unk>', 0],
    ['<s>', 0],
    ['</s>', 0],
    ['x1', 0],
    ['x2', 0],
    ['x3', 0],
    ['\u2581', -1],
    ['a', -1],
    ['b', -1],
    ['\u2581a', -1.5],
    ['ab', 30],
    ['c', null],
    ['z', -9],
  ];
  const t = new SentencePieceTokenizer(small);
  // Taken at face value, "ab" (score 30) would win: ▁|ab = 29. Repaired to -9: ▁a|b = -2.5 wins.
  assert.deepEqual(t.encode('ab'), [9, 8]);
  // "c" has no score: still usable (repaired to -9), not unknown.
  assert.deepEqual(t.encode('ac'), [9, 11]);
  // The real vocabulary: "10:30" keeps its digits and colon, with no unknown id.
  const ids = tok.encode('the time is 10:30 now');
  assert.deepEqual(pieces(ids).slice(0, 3), ['▁the', '▁time', '▁is']);
  assert.ok(ids.every((i) => i > 0));
});

/** Best total log-probability over every segmentation of `s` into vocabulary pieces (brute force). */
function bruteBest(s: string, scoreOf: Map<string, number>): number {
  const best = new Array(s.length + 1).fill(-Infinity);
  best[0] = 0;
  for (let end = 1; end <= s.length; end++) {
    for (let start = 0; start < end; start++) {
      const sc = scoreOf.get(s.slice(start, end));
      if (sc !== undefined && best[start] + sc > best[end]) best[end] = best[start] + sc;
    }
  }
  return best[s.length];
}

test('the segmentation maximises the summed piece log-probabilities', () => {
  const scoreOf = new Map<string, number>();
  vocab.forEach(([p, sc], i) => {
    if (i >= 6 && typeof sc === 'number' && sc <= 0) scoreOf.set(p, sc);
  });
  for (const text of ['unbelievably', 'antidisestablishment', 'the quickest brownish foxes', 'reorganisation']) {
    const ids = tok.encode(text);
    const got = ids.reduce((s, i) => s + (vocab[i][1] as number), 0);
    assert.equal(pieces(ids).join(''), SentencePieceTokenizer.normalize(text));
    assert.ok(Math.abs(got - bruteBest(SentencePieceTokenizer.normalize(text), scoreOf)) < 1e-9, text);
  }
});
