/**
 * Micro-benchmark of the compute kernels (not a test). Prints median ms per case for the JS and
 * ONNX kernels, the JS/ONNX ratio, a small-work sweep (for JS_ROUTING_MAX_MACS) and a probe of
 * whether onnxruntime-node copies input tensors.
 *   node --import tsx bench/kernels.ts [--threads 2]
 */
import * as ort from 'onnxruntime-node';
import { createKernel } from '../src/compute/create-kernel.js';
import type { Kernel } from '../src/compute/kernel.js';
import { INT64, FLOAT, model, node, tensorInfo } from '../src/compute/onnx-proto.js';

const threadsArg = process.argv.indexOf('--threads');
const threads = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : 2;

function rand(len: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = a / 2 ** 31 - 1;
  }
  return out;
}

/** Median ms of fn: at least `min` runs (after one warm-up), more while under `budgetMs`. */
async function median(fn: () => Promise<unknown>, min = 5, budgetMs = 1500, max = 200): Promise<number> {
  await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < min || (times.length < max && performance.now() - start < budgetMs)) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  return times[times.length >> 1];
}

interface Shape {
  label: string;
  B: number;
  n: number;
  stride: number;
  d: number;
  k: number;
}

async function timeShape(kern: Kernel, s: Shape, min: number): Promise<number> {
  const q = rand(s.B * s.d, 1);
  const rows = rand(s.n * s.stride, 2);
  const scale = new Float32Array(s.n).fill(0.05);
  return median(() => kern.topK(q, s.B, rows, s.n, s.stride, s.d, scale, s.k), min);
}

const fmt = (ms: number) => ms.toFixed(ms < 1 ? 4 : 2).padStart(10);

const js = await createKernel({ backend: 'js' });
const onnx = await createKernel({ backend: 'onnx', threads });
console.log(`node ${process.version}, onnxruntime-node ${ort.env.versions.node}, intraOpNumThreads=${threads}`);

console.log('\ncase                                         js ms    onnx ms   js/onnx');
const cases: Shape[] = [
  { label: 'rerank 1000×512, B=1, k=10', B: 1, n: 1000, stride: 512, d: 512, k: 10 },
  { label: 'exact 100k×512, B=1, k=10', B: 1, n: 100_000, stride: 512, d: 512, k: 10 },
  { label: 'exact 100k×512 at d=256, B=1, k=10', B: 1, n: 100_000, stride: 512, d: 256, k: 10 },
  { label: 'exact 100k×512, B=1, k=1000', B: 1, n: 100_000, stride: 512, d: 512, k: 1000 },
  { label: 'exact 100k×512, B=64, k=10', B: 64, n: 100_000, stride: 512, d: 512, k: 10 },
];
for (const s of cases) {
  const big = s.B * s.n * s.d > 1e9;
  const tj = await timeShape(js, s, big ? 3 : 5);
  const to = await timeShape(onnx, s, 5);
  console.log(`${s.label.padEnd(38)}${fmt(tj)} ${fmt(to)} ${(tj / to).toFixed(1).padStart(8)}`);
}

console.log('\nsmall work, B=1, d=512, k=10 (crossover for JS_ROUTING_MAX_MACS)');
console.log('    n      MACs      js ms    onnx ms');
for (const n of [4, 16, 32, 48, 64, 96, 128, 256, 1000]) {
  const s = { label: '', B: 1, n, stride: 512, d: 512, k: 10 };
  const [tj, to] = [await timeShape(js, s, 50), await timeShape(onnx, s, 50)];
  console.log(`${String(n).padStart(5)} ${String(n * 512).padStart(9)} ${fmt(tj)} ${fmt(to)}`);
}

// Copy probe: a Shape-only graph never reads its input, so its run time is pure overhead plus
// whatever it costs to hand the tensor over. Equal times for 2 KB and 205 MB → no copy.
const probe = await ort.InferenceSession.create(
  model({
    name: 'probe',
    nodes: [node('Shape', ['X'], ['shape'])],
    inputs: [tensorInfo('X', FLOAT, ['n', 'd'])],
    outputs: [tensorInfo('shape', INT64, [2])],
  }),
);
console.log('\ncopy probe (Shape-only graph), median ms per run incl. Tensor creation');
for (const n of [1, 100_000]) {
  const x = rand(n * 512, 3);
  const ms = await median(() => probe.run({ X: new ort.Tensor('float32', x, [n, 512]) }), 50);
  console.log(`  X ${n}×512 (${((n * 512 * 4) / 1e6).toFixed(3)} MB): ${fmt(ms)}`);
}
await probe.release();
await onnx.close();
