import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { parseFloatArray } from '../../src/io/float-array-literal.js';
import { parseLine } from '../../src/io/ndjson-line.js';
import { byteLines, TOO_LONG } from '../../src/io/ndjson-lines.js';

const scratch = new Float32Array(1 << 16);
const readArray = (text: string) => {
  const r = parseFloatArray(Buffer.from(text), 0, scratch);
  return r && Array.from(scratch.subarray(0, r.length));
};
/** What the JSON.parse path stores: each element rounded to float32. */
const viaJson = (text: string) => (JSON.parse(text) as number[]).map((x) => Math.fround(x));

test('parseFloatArray: element for element the float32 of JSON.parse, -0 and exponents included', () => {
  const cases = [
    '[0,-0,1,-1,0.5,1e0,1E+2,2.5e-3,-7.25E-1,123456789012345678901234567890,0.1,0.2,0.30000000000000004]',
    '[1e-30,1.4e-45,7e-46,1e-50,-1e-400,3.4028234663852886e38,1.17549435e-38,9007199254740993,0.00000000000000000000000123]',
    '[ 1 , 2\t,3 ]',
    '[]',
  ];
  for (const c of cases) {
    const got = readArray(c);
    assert.ok(got, c);
    assert.deepEqual(got, viaJson(c), c); // deepEqual tells -0 from 0 (Object.is)
  }
  assert.ok(Object.is(readArray('[-0]')![0], -0));
  assert.ok(Object.is(readArray('[-1e-400]')![0], -0));
});

test('parseFloatArray: random float32 values as JSON.stringify writes them, and random decimals of every length, agree', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const nums: string[] = [];
  const f = new Float32Array(1);
  for (let i = 0; i < 20000; i++) {
    f[0] = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
    nums.push(String(f[0]));
    const digits = Array.from({ length: 1 + Math.floor(rnd() * 25) }, () => Math.floor(rnd() * 10)).join('');
    nums.push(`${rnd() < 0.5 ? '-' : ''}${1 + Math.floor(rnd() * 9)}.${digits}${rnd() < 0.7 ? `e${Math.floor(rnd() * 80 - 42)}` : ''}`);
    nums.push(`0.${digits}`);
  }
  // Near a float32 rounding boundary: the midpoint of two neighbours and a hair either side.
  const mid = (1 + 2 ** -23 / 2).toPrecision(25);
  nums.push(mid, '1.0000000596046447753906250', '1.00000005960464477539062501', '1.00000005960464477539062499');
  const text = `[${nums.join(',')}]`;
  const got = readArray(text)!;
  const want = viaJson(text);
  assert.equal(got.length, want.length);
  const off = got.findIndex((x, i) => !Object.is(x, want[i]));
  assert.equal(off, -1, off >= 0 ? `${nums[off]}: ${got[off]} vs ${want[off]}` : '');
});

test('parseFloatArray: anything but plain finite-as-float32 numbers is left to JSON.parse (null)', () => {
  for (const bad of [
    '[1e39]',
    '[-3.5e38]',
    '[1e400]',
    '[NaN]',
    '[Infinity]',
    '[01]',
    '[1.]',
    '[.5]',
    '[1e]',
    '[-]',
    '[+1]',
    '[1,]',
    '[1 2]',
    '[null]',
    '["1"]',
    '[1',
    '[[1]]',
  ])
    assert.equal(readArray(bad), null, bad);
  assert.equal(parseFloatArray(Buffer.from('[1,2,3]'), 0, new Float32Array(2)), null); // more than the scratch holds
});

test('parseLine: the fast path gives what JSON.parse gives; other shapes and refusals go the JSON.parse way', () => {
  const v = [0.25, -0, 1e-3, 3];
  const line = (s: string) => parseLine(Buffer.from(s), scratch);
  const item = (s: string) => {
    const r = line(s);
    assert.ok('item' in r, s);
    return r.item;
  };
  const fast = item(`{"id":"a","vector":${JSON.stringify(v).replace('0,', '-0,')},"payload":{"vector":[9]},"label":"x"}`);
  assert.ok(fast.vector instanceof Float32Array);
  assert.deepEqual(Array.from(fast.vector), [0.25, -0, Math.fround(1e-3), 3]);
  assert.deepEqual({ ...fast, vector: null }, { id: 'a', vector: null, payload: { vector: [9] }, label: 'x' });
  // Nested first, top-level second: the top-level one is the vector.
  assert.deepEqual(Array.from(item('{"payload":{"vector":[9]},"vector":[1,2]}').vector as Float32Array), [1, 2]);
  assert.ok(item('{"t":"{[ \\" {","vector":[1]}').vector instanceof Float32Array); // brackets and quotes inside a string are not structure
  // Escaped quotes inside a string do not look like the key; a spaced or repeated key: JSON.parse decides.
  const quoted = item('{"text":"\\"vector\\":[5]","vector":[1]}');
  assert.deepEqual({ ...quoted, vector: Array.from(quoted.vector as Float32Array) }, { text: '"vector":[5]', vector: [1] });
  assert.deepEqual(item('{"vector" : [1, 2]}'), { vector: [1, 2] });
  assert.deepEqual(item('{"vector":[1],"vector":0}'), { vector: 0 });
  assert.deepEqual(item('{"vector":[1],"vector" : -0.0}'), { vector: -0 });
  assert.deepEqual(item('{"vector":[1e39]}'), { vector: [1e39] });
  assert.deepEqual(item('{"vector":[1,"x"]}'), { vector: [1, 'x'] });
  const broken = line('{"vector":[1,2],}');
  assert.ok('error' in broken && broken.code === 'VALIDATION' && /^invalid JSON: /.test(broken.error));
  const arr = line('[{"vector":[1]}]');
  assert.ok('error' in arr && arr.error === 'line is not a JSON object');
});

test('parseLine: a vector as a string is base64 of little-endian float32; anything else is INVALID_VECTOR', () => {
  const f = Float32Array.from([0.1, -2, 3e-20, 1e30]);
  const b64 = Buffer.from(f.buffer).toString('base64');
  const r = parseLine(Buffer.from(JSON.stringify({ id: 'a', vector: b64 })), scratch);
  assert.ok('item' in r);
  assert.deepEqual(Array.from(r.item.vector as Float32Array), Array.from(f));
  for (const bad of ['AAAA', 'AAA', '!!!!!!!!', `${b64.slice(0, -1)}`, `${b64} `, 'AAAAAAA=']) {
    const e = parseLine(Buffer.from(JSON.stringify({ id: 'a', vector: bad })), scratch);
    assert.ok('error' in e && e.code === 'INVALID_VECTOR', bad);
  }
});

test('byteLines: splits as readline does (\\n, \\r\\n, a lone \\r; across chunks), drops a line past the limit as it streams', async () => {
  const lines = async (chunks: (string | Buffer)[], max?: number) => {
    const out: string[] = [];
    for await (const l of byteLines(Readable.from(chunks), max)) out.push(l === TOO_LONG ? '<too long>' : l.toString());
    return out;
  };
  assert.deepEqual(await lines(['a\nb\r', '\nc\rd\r\r\n\n', 'é', Buffer.from('ü\nlast')]), ['a', 'b', 'c', 'd', '', '', 'éü', 'last']);
  assert.deepEqual(await lines(['x'.repeat(10), 'y'.repeat(10), 'z\nok\n', 'w'.repeat(30)], 15), ['<too long>', 'ok', '<too long>']);
  assert.deepEqual(await lines(['', 'a\n']), ['a']);
});
