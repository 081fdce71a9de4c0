/**
 * How closely the ONNX encoders reproduce the TF.js ones (npm run bench:onnx-agreement):
 * cosine between the two embeddings of each input, and the fraction of queries whose 10
 * nearest neighbours (cosine, the query excluded) are the same set, on N Brown sentences
 * (default 1,000) and on the Fashion-MNIST test images (default all 10k; needs
 * `npm run data:fashion`). The neighbour search is exact, on onnxruntime.
 *   node --import tsx bench/onnx-agreement.ts [--sentences 1000] [--images 10000]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { scoreTopKModel } from '../src/compute/onnx-model.js';
import { EncoderRegistry } from '../src/encoders/registry.js';
import { initTf } from '../src/encoders/tf-backend.js';
import { projectRoot } from '../src/paths.js';
import { FASHION_MNIST_DIR } from '../src/data/fashion-mnist.js';
import { brownSentences, cosine, fashionImages } from './samples.js';

const { values: a } = parseArgs({
  options: { sentences: { type: 'string', default: '1000' }, images: { type: 'string', default: '10000' }, models: { type: 'string' } },
});
const modelsDir = a.models ?? join(projectRoot(), 'models');

/** Each row's k nearest other rows by cosine (exact: Gemm + TopK on onnxruntime). */
async function neighbours(vs: Float32Array[], k: number): Promise<Int32Array[]> {
  const n = vs.length,
    d = vs[0].length;
  const M = new Float32Array(n * d);
  vs.forEach((v, i) => {
    const norm = Math.hypot(...v);
    for (let j = 0; j < d; j++) M[i * d + j] = v[j] / norm;
  });
  const session = await ort.InferenceSession.create(scoreTopKModel('full'), { intraOpNumThreads: 2 });
  const out: Int32Array[] = [];
  const B = 256;
  for (let s = 0; s < n; s += B) {
    const b = Math.min(B, n - s);
    const r = await session.run({
      Q: new ort.Tensor('float32', M.subarray(s * d, (s + b) * d), [b, d]),
      M: new ort.Tensor('float32', M, [n, d]),
      S: new ort.Tensor('float32', new Float32Array(n).fill(1), [n]),
      K: new ort.Tensor('int64', BigInt64Array.of(BigInt(k + 1)), [1]),
    });
    const idx = r.indices.data as BigInt64Array;
    for (let q = 0; q < b; q++)
      out.push(
        Int32Array.from(
          Array.from(idx.subarray(q * (k + 1), (q + 1) * (k + 1)), Number)
            .filter((j) => j !== s + q)
            .slice(0, k),
        ),
      );
  }
  await session.release();
  return out;
}

async function compare(model: string, inputs: unknown[]) {
  const onnx = new EncoderRegistry(modelsDir, { backend: 'onnx', cacheSize: 0, batchMax: 4096 });
  const tfjs = new EncoderRegistry(modelsDir, { backend: 'tfjs', cacheSize: 0, batchMax: 4096 });
  try {
    const a = await onnx.embed(model, inputs);
    const b = await tfjs.embed(model, inputs);
    const cos = a.map((v, i) => cosine(v, b[i])).sort((x, y) => x - y);
    const [na, nb] = [await neighbours(a, 10), await neighbours(b, 10)];
    const same = na.filter((x, i) => [...x].sort().join() === [...nb[i]].sort().join()).length;
    console.log(
      `${model}: ${inputs.length} inputs; 1 − cosine: max ${(1 - cos[0]).toExponential(1)}, median ${(1 - cos[cos.length >> 1]).toExponential(1)}; ` +
        `inputs below 0.9999: ${cos.filter((c) => c < 0.9999).length}; same top-10 neighbours: ${same}/${na.length} (${((100 * same) / na.length).toFixed(2)}%)`,
    );
  } finally {
    await onnx.dispose();
    await tfjs.dispose();
  }
}

await initTf();
await compare('text-mrl', brownSentences(Number(a.sentences)));
await compare('fashion-mrl', fashionImages(Number(a.images), FASHION_MNIST_DIR));
