import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, readTfjsWeights, type Weight } from './graph-builder.js';
import { USE_DIM, USE_MAX_TOKENS } from '../use-lite.js';

/**
 * Universal Sentence Encoder lite as an ONNX graph, hand-built from the architecture that the
 * shipped TF.js graph (model.json `modelTopology.node`) computes, with its weights read by name.
 * What that graph does, for a sentence of n token ids (every id counts: the sparse input's
 * default value is -1, so the mask is "position < n"):
 *   x0 = E + (E + T)       E = Embeddings[ids] (256), T = sin/cos timing signal of the position
 *                          (the graph adds the embedding once in Encode/Scatter and once more in
 *                          AddTimingSignal, so E counts twice)
 *   layer 0 (256 -> 512):  h  = Attn(LN(x0)) + Dense(x0)         4 heads of 64, q scaled by 1/8
 *                          h2 = FFN(LN(h)) + h                    512 -> 1536 relu -> 512
 *   layer 1 (512):         h3 = Attn(LN(h2)) + h2                 4 heads of 128, q scaled by 1/√128
 *                          h4 = FFN(LN(h3)) + h3
 *   pooled = mean of h4 over the n positions; out = l2normalize(tanh(pooled · W + b))
 * LN is layer normalisation over the last axis with ε = 1e-6; attention keys past n get a
 * -1e9 bias. The TF.js graph computes the per-token steps on the packed valid tokens and
 * scatters zeros into the padding; here every position of the padded [B, L] batch is computed
 * and padding is masked out of attention and pooling, which gives the same values at valid
 * positions. Inputs: ids int64 [B, L] (padding: any valid id, e.g. 0), mask float [B, L]
 * (1 for tokens, 0 for padding). Output `use`: [B, 512], L2-normalised.
 */

const ENC = 'module_apply_default/Encoder_en/KonaTransformer/Encode/';
const STACK = `${ENC}TransformerStack/`;
const VARS = 'module/Encoder_en/KonaTransformer/Encode/';

type Weights = ReturnType<typeof readTfjsWeights>;

export interface UseModelJson {
  modelTopology: { node: { name: string; op: string }[] };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
}

export function readUseWeights(dir: string): Weights {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as UseModelJson;
  return readTfjsWeights(dir, json);
}

function getter(weights: Weights) {
  const get = (name: string) => {
    const w = weights.get(name);
    if (!w) throw new Error(`USE lite: missing weight ${name}`);
    return w;
  };
  return {
    /** A float weight, optionally seen with another shape (a 1×1 conv kernel as a matrix). */
    f(name: string, shape?: number[]): Weight {
      const w = get(name);
      if (!(w.data instanceof Float32Array)) throw new Error(`USE lite: ${name} is not float32`);
      const s = shape ?? w.shape;
      if (s.reduce((a, b) => a * b, 1) !== w.data.length)
        throw new Error(`USE lite: ${name} has shape [${w.shape.join(', ')}], expected [${s.join(', ')}]`);
      return { shape: s, data: w.data };
    },
    scalar(name: string): number {
      const w = get(name);
      if (w.data.length !== 1) throw new Error(`USE lite: ${name} is not a scalar`);
      return w.data[0];
    },
  };
}

/** sin/cos timing signal for positions 0..maxLen-1: [maxLen, 2·k], as the graph computes it in float32. */
function timingTable(invTimescales: Float32Array, maxLen: number): Float32Array {
  const k = invTimescales.length;
  const out = new Float32Array(maxLen * 2 * k);
  for (let p = 0; p < maxLen; p++) {
    for (let j = 0; j < k; j++) {
      const a = Math.fround(p * invTimescales[j]);
      out[p * 2 * k + j] = Math.sin(a);
      out[p * 2 * k + k + j] = Math.cos(a);
    }
  }
  return out;
}

/**
 * Appends USE lite to `g`, reading inputs `ids` and `mask`; returns the name of the [B, 512]
 * output (L2-normalised).
 */
export function appendUseLite(g: GraphBuilder, weights: Weights, ids: string, mask: string): string {
  const w = getter(weights);
  const eps = w.scalar(`${STACK}Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x`);
  const heads = w.scalar(`${STACK}Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2`);
  const padBias = w.scalar(`${STACK}Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y`);

  const ln = (x: string, prefix: string) => {
    const scale = w.f(`${prefix}/layer_norm/layer_norm_scale/ConcatPartitions/concat`);
    const bias = w.f(`${prefix}/layer_norm/layer_norm_bias/ConcatPartitions/concat`);
    return g.op(
      'LayerNormalization',
      [x, g.float(scale.shape, scale.data), g.float(bias.shape, bias.data)],
      [
        { name: 'axis', i: -1 },
        { name: 'epsilon', f: eps },
      ],
    );
  };

  // [B, 1, 1, L]: 0 for tokens, -1e9 for padding keys.
  const keyBias = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [g.scalar(1), mask]), g.scalar(padBias)]), g.int64([1, 2])]);

  const attention = (x: string, layer: number, d: number) => {
    const pre = `${ENC}Layer_${layer}/TransformerLayer/MultiheadAttention`;
    const vars = `${VARS}Layer_${layer}/TransformerLayer/MultiheadAttention`;
    const inDim = w.f(`${vars}/qkv_transform_single/kernel/part_0`).shape[2];
    const qkv = g.matmulBias(
      x,
      w.f(`${vars}/qkv_transform_single/kernel/part_0`, [inDim, 3 * d]),
      w.f(`${pre}/qkv_transform_single/bias/ConcatPartitions/concat`),
    );
    const [q, k, v] = g.opN('Split', [qkv, g.int64([d, d, d])], 3, [{ name: 'axis', i: -1 }]);
    const dh = d / heads;
    const split = (t: string, perm: number[]) =>
      g.op('Transpose', [g.op('Reshape', [t, g.int64([0, 0, heads, dh])])], [{ name: 'perm', ints: perm }]);
    const qs = g.op('Mul', [
      split(q, [0, 2, 1, 3]),
      g.scalar(w.scalar(`${STACK}Layer_${layer}/TransformerLayer/MultiheadAttention/mul/y`)),
    ]);
    const scores = g.op('Add', [g.op('MatMul', [qs, split(k, [0, 2, 3, 1])]), keyBias]);
    const probs = g.op('Softmax', [scores], [{ name: 'axis', i: -1 }]);
    const o = g.op('MatMul', [probs, split(v, [0, 2, 1, 3])]);
    const merged = g.op('Reshape', [g.op('Transpose', [o], [{ name: 'perm', ints: [0, 2, 1, 3] }]), g.int64([0, 0, d])]);
    const outDim = w.f(`${vars}/output_transform_single/kernel/part_0`).shape[3];
    return g.matmulBias(
      merged,
      w.f(`${vars}/output_transform_single/kernel/part_0`, [d, outDim]),
      w.f(`${pre}/output_transform_single/bias/ConcatPartitions/concat`),
    );
  };

  const ffn = (x: string, layer: number) => {
    const pre = `${ENC}Layer_${layer}/TransformerLayer/FFN`;
    const h = g.op('Relu', [
      g.matmulBias(
        x,
        w.f(`${STACK}Layer_${layer}/TransformerLayer/FFN/conv1/Tensordot/Reshape_1`),
        w.f(`${pre}/conv1/bias/ConcatPartitions/concat`),
      ),
    ]);
    return g.matmulBias(
      h,
      w.f(`${STACK}Layer_${layer}/TransformerLayer/FFN/conv2/Tensordot/Reshape_1`),
      w.f(`${pre}/conv2/bias/ConcatPartitions/concat`),
    );
  };

  // Embedding + timing signal.
  const emb = w.f('module/Embeddings_en');
  const e = g.op('Gather', [g.float(emb.shape, emb.data), ids], [{ name: 'axis', i: 0 }]);
  const inv = w.f(`${STACK}Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`);
  const table = timingTable(inv.data, USE_MAX_TOKENS);
  const len = g.op('Slice', [g.op('Shape', [ids]), g.int64([1]), g.int64([2]), g.int64([0])]);
  const timing = g.op('Slice', [g.float([USE_MAX_TOKENS, 2 * inv.data.length], table), g.int64([0]), len, g.int64([0])]);
  const x0 = g.op('Add', [e, g.op('Add', [e, timing])]);

  // Layer 0: 256 in, 512 out; the residual goes through a dense projection.
  const d0 = w.f(`${VARS}Layer_0/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0`).shape[3] / 3;
  const a0 = attention(ln(x0, `${ENC}Layer_0/TransformerLayer/layer_prepostprocess`), 0, d0);
  const res0 = g.matmulBias(
    x0,
    w.f(`${ENC}Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat`),
    w.f(`${ENC}Layer_0/TransformerLayer/dense/bias/ConcatPartitions/concat`),
  );
  const h = g.op('Add', [a0, res0]);
  const h2 = g.op('Add', [ffn(ln(h, `${ENC}Layer_0/TransformerLayer/FFN/layer_prepostprocess`), 0), h]);

  // Layer 1: 512.
  const d1 = w.f(`${VARS}Layer_1/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0`).shape[3] / 3;
  const h3 = g.op('Add', [attention(ln(h2, `${ENC}Layer_1/TransformerLayer/layer_prepostprocess`), 1, d1), h2]);
  const h4 = g.op('Add', [ffn(ln(h3, `${ENC}Layer_1/TransformerLayer/FFN/layer_prepostprocess`), 1), h3]);

  // Mean over the tokens, then tanh layer and L2 normalisation.
  const summed = g.op(
    'ReduceSum',
    [g.op('Mul', [h4, g.op('Unsqueeze', [mask, g.int64([2])])]), g.int64([1])],
    [{ name: 'keepdims', i: 0 }],
  );
  const count = g.op('Max', [g.op('ReduceSum', [mask, g.int64([1])], [{ name: 'keepdims', i: 1 }]), g.scalar(1)]);
  const pooled = g.op('Div', [summed, count]);
  const t = g.op('Tanh', [
    g.matmulBias(
      pooled,
      w.f('module/Encoder_en/hidden_layers/tanh_layer_0/weights'),
      w.f('module/Encoder_en/hidden_layers/tanh_layer_0/bias'),
    ),
  ]);
  const sq = g.op('ReduceSum', [g.op('Mul', [t, t]), g.int64([1])], [{ name: 'keepdims', i: 1 }]);
  const floor = w.scalar('module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y');
  const out = g.op('Mul', [t, g.op('Reciprocal', [g.op('Sqrt', [g.op('Max', [sq, g.scalar(floor)])])])]);
  if (w.f('module/Encoder_en/hidden_layers/tanh_layer_0/bias').shape[0] !== USE_DIM) throw new Error('USE lite: output is not 512-d');
  return out;
}
