/**
 * Reranks over quantised resident rows on onnxruntime-node (OnnxKernel.rerankQuantized): the
 * int8 codes or f16 halves are wrapped as a tensor (not copied), the candidates gathered and
 * cast to float inside the graph, so a rerank reads 1 or 2 bytes a value instead of 4.
 * Graph: Gather(M, I) → Slice to the first E columns → Cast float → Gemm(Q, ·ᵀ) → ⊙ S → TopK.
 * M [N,stride] int8 | float16, I int32 [n], Q [B,E], S [n] (for int8 the row's code scale is
 * folded into S by the caller), K and E int64[1].
 */
import * as ort from 'onnxruntime-node';
import type { QuantizedMatrix, RowsQuery, TopK } from './kernel.js';
import { scoreTopKNodes, topKOutputs } from './onnx-model.js';
import { FLOAT, INT32, INT64, int64Initializer, model, node, tensorInfo } from './onnx-proto.js';

const INT8 = 3; // TensorProto.DataType
const FLOAT16 = 10;

function quantizedGatherTopKModel(type: 'int8' | 'f16'): Uint8Array {
  return model({
    name: `quantized_topk_${type}`,
    nodes: [
      node('Gather', ['M', 'I'], ['Mi'], [{ name: 'axis', i: 0 }]),
      node('Slice', ['Mi', 'starts', 'E', 'axes'], ['Md']),
      node('Cast', ['Md'], ['Mf'], [{ name: 'to', i: FLOAT }]),
      ...scoreTopKNodes('Mf'),
    ],
    inputs: [
      tensorInfo('Q', FLOAT, ['B', 'd']),
      tensorInfo('M', type === 'int8' ? INT8 : FLOAT16, ['N', 'stride']),
      tensorInfo('I', INT32, ['n']),
      tensorInfo('S', FLOAT, ['n']),
      tensorInfo('K', INT64, [1]),
      tensorInfo('E', INT64, [1]),
    ],
    outputs: topKOutputs(),
    initializers: [int64Initializer('starts', [0]), int64Initializer('axes', [1])],
  });
}

/** One session per code type, single-threaded (a rerank is small work). */
export class QuantizedRerank {
  private constructor(private readonly sessions: Record<'int8' | 'f16', ort.InferenceSession>) {}

  static async create(options: ort.InferenceSession.SessionOptions): Promise<QuantizedRerank> {
    const [int8, f16] = await Promise.all([
      ort.InferenceSession.create(quantizedGatherTopKModel('int8'), options),
      ort.InferenceSession.create(quantizedGatherTopKModel('f16'), options),
    ]);
    return new QuantizedRerank({ int8, f16 });
  }

  /** One run per query (arguments checked by the caller). */
  async run(
    m: QuantizedMatrix,
    items: RowsQuery[],
    d: number,
    unpack: (out: ort.InferenceSession.ReturnType, B: number, kk: number) => TopK[],
  ): Promise<TopK[]> {
    const w = m.width;
    const rows = Math.floor((m.type === 'int8' ? m.codes.length : m.half.length) / w);
    const M =
      m.type === 'int8'
        ? new ort.Tensor('int8', m.codes.subarray(0, rows * w), [rows, w])
        : new ort.Tensor('float16', m.half.subarray(0, rows * w), [rows, w]);
    const out: TopK[] = [];
    for (const it of items) {
      const n = it.rowIdx.length;
      const kk = Math.min(it.k, n);
      if (kk === 0) {
        out.push({ indices: new Int32Array(0), scores: new Float32Array(0) });
        continue;
      }
      let S = it.rowScale.subarray(0, n);
      if (m.type === 'int8') {
        S = new Float32Array(n);
        for (let i = 0; i < n; i++) S[i] = it.rowScale[i] * m.codeScale[it.rowIdx[i]];
      }
      const feeds: Record<string, ort.Tensor> = {
        Q: new ort.Tensor('float32', it.query.subarray(0, d), [1, d]),
        M,
        I: new ort.Tensor('int32', it.rowIdx, [n]),
        S: new ort.Tensor('float32', S, [n]),
        K: new ort.Tensor('int64', BigInt64Array.of(BigInt(kk)), [1]),
        E: new ort.Tensor('int64', BigInt64Array.of(BigInt(d)), [1]),
      };
      out.push(unpack(await this.sessions[m.type].run(feeds), 1, kk)[0]);
    }
    return out;
  }

  async release(): Promise<void> {
    await Promise.all(Object.values(this.sessions).map((s) => s.release()));
  }
}
