/**
 * The ONNX models the kernels run: the score + top-k graphs (exact scan, gathered rerank,
 * batched rerank, a baked segment), written with the protobuf encoder of onnx-proto.ts.
 */

import { FLOAT, INT32, INT64, int64Initializer, model, modelWithFloatInitializer, node, tensorInfo, type GraphSpec } from './onnx-proto.js';

// ---- the steps the graphs share ----------------------------------------------------------

/** TopK(K) of Y along its last axis, largest first, sorted: the outputs values and indices. */
function topKNode(): Uint8Array {
  return node(
    'TopK',
    ['Y', 'K'],
    ['values', 'indices'],
    [
      { name: 'axis', i: -1 },
      { name: 'largest', i: 1 },
      { name: 'sorted', i: 1 },
    ],
  );
}

/** Y = (Q · rowsᵀ) ⊙ S, then topKNode: the scoring of the 2-D graphs, over the float rows `rows`. */
export function scoreTopKNodes(rows: string): Uint8Array[] {
  return [node('Gemm', ['Q', rows], ['G'], [{ name: 'transB', i: 1 }]), node('Mul', ['G', 'S'], ['Y']), topKNode()];
}

/** The outputs of every top-k graph: values float [B,k], indices int64 [B,k]. */
export function topKOutputs(): Uint8Array[] {
  return [tensorInfo('values', FLOAT, ['B', 'k']), tensorInfo('indices', INT64, ['B', 'k'])];
}

// ---- the kernels' graphs --------------------------------------------------------------

/**
 * Scores = (Q · Mᵀ) ⊙ S, then TopK(K) along the rows.
 * 'full':   Q [B,d], M [n,d],      S [n], K int64[1].
 * 'sliced': Q [B,d], M [n,stride], S [n], K int64[1], E int64[1] = d; M[:, 0:E] via Slice.
 * Outputs: values float [B,k], indices int64 [B,k] (TopK sorts descending, ties → lower index).
 */
export function scoreTopKModel(variant: 'full' | 'sliced'): Uint8Array {
  const sliced = variant === 'sliced';
  const nodes: Uint8Array[] = [];
  if (sliced) nodes.push(node('Slice', ['M', 'starts', 'E', 'axes'], ['Md']));
  nodes.push(...scoreTopKNodes(sliced ? 'Md' : 'M'));
  const inputs = [
    tensorInfo('Q', FLOAT, ['B', 'd']),
    tensorInfo('M', FLOAT, ['n', sliced ? 'stride' : 'd']),
    tensorInfo('S', FLOAT, ['n']),
    tensorInfo('K', INT64, [1]),
  ];
  if (sliced) inputs.push(tensorInfo('E', INT64, [1]));
  return model({
    name: `score_topk_${variant}`,
    nodes,
    inputs,
    outputs: topKOutputs(),
    initializers: sliced ? [int64Initializer('starts', [0]), int64Initializer('axes', [1])] : [],
  });
}

/**
 * Rerank of selected rows without a gather in JS: Gather(M, I) along rows, then as 'full'.
 * Q [B,stride] (zero-padded past d), M [N,stride], I int32 [n], S [n], K int64[1].
 */
export function gatherTopKModel(): Uint8Array {
  return model({
    name: 'score_topk_gather',
    nodes: [node('Gather', ['M', 'I'], ['Mi'], [{ name: 'axis', i: 0 }]), ...scoreTopKNodes('Mi')],
    inputs: [
      tensorInfo('Q', FLOAT, ['B', 'stride']),
      tensorInfo('M', FLOAT, ['N', 'stride']),
      tensorInfo('I', INT32, ['n']),
      tensorInfo('S', FLOAT, ['n']),
      tensorInfo('K', INT64, [1]),
    ],
    outputs: topKOutputs(),
  });
}

/**
 * Several queries, each over its own rows of one matrix, in one run (OnnxKernel.rerank of more
 * than one query, e.g. reranks merged by the batching window). Query b scores L padded candidates: the real ones first, then padding that
 * P [B,L] pushes to -Inf so TopK never ranks it above a real row.
 * 'gather': Q [B,stride,1] (zero-padded past d), M [N,stride], I int32 [B,L] → Gather → [B,L,stride].
 * 'dense':  Q [B,d,1], R [B,L,d] (the candidates' first d values, gathered on the host).
 * Then MatMul → [B,L,1] → Squeeze → ⊙ S [B,L] + P [B,L] → TopK(K) along L.
 * Outputs: values float [B,k], indices int64 [B,k] (positions in each query's own row list).
 */
export function batchedRowsTopKModel(variant: 'gather' | 'dense'): Uint8Array {
  return model(batchedRowsGraph(variant));
}

function batchedRowsGraph(variant: 'gather' | 'dense' | 'resident'): GraphSpec {
  const gather = variant !== 'dense';
  const nodes: Uint8Array[] = [];
  if (gather) nodes.push(node('Gather', ['M', 'I'], ['R'], [{ name: 'axis', i: 0 }]));
  nodes.push(
    node('MatMul', ['R', 'Q'], ['G3']),
    node('Squeeze', ['G3', 'axis2'], ['G']),
    node('Mul', ['G', 'S'], ['Ys']),
    node('Add', ['Ys', 'P'], ['Y']),
    topKNode(),
  );
  const inputs = !gather
    ? [tensorInfo('Q', FLOAT, ['B', 'd', 1]), tensorInfo('R', FLOAT, ['B', 'L', 'd'])]
    : variant === 'gather'
      ? [tensorInfo('Q', FLOAT, ['B', 'stride', 1]), tensorInfo('M', FLOAT, ['N', 'stride']), tensorInfo('I', INT32, ['B', 'L'])]
      : [tensorInfo('Q', FLOAT, ['B', 'stride', 1]), tensorInfo('I', INT32, ['B', 'L'])];
  inputs.push(tensorInfo('S', FLOAT, ['B', 'L']), tensorInfo('P', FLOAT, ['B', 'L']), tensorInfo('K', INT64, [1]));
  return {
    name: `rows_topk_${variant}`,
    nodes,
    inputs,
    outputs: topKOutputs(),
    initializers: [int64Initializer('axis2', [2])],
  };
}

/**
 * The batched 'gather' graph with the matrix baked in: M [n, stride] is an initializer holding
 * `rows` (a segment of the resident matrix), which an execution provider uploads once, at session
 * creation. Inputs: Q [B,stride,1] (zero-padded past the prefix d, so Q·row = q·row[0:d]),
 * I int32 [B,L] (row indices local to the segment), S [B,L], P [B,L] (0, or -Inf for padding),
 * K int64[1]. Outputs as batchedRowsTopKModel.
 */
export function residentRowsTopKModel(rows: Float32Array, n: number, stride: number): Uint8Array {
  if (rows.length !== n * stride) throw new RangeError(`residentRowsTopKModel: ${rows.length} values for ${n}×${stride}`);
  const { bytes, dataOffset } = residentRowsModelLayout(n, stride);
  bytes.set(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength), dataOffset);
  return bytes;
}

/** The same model with its n×stride rows left to write at dataOffset (a build copies them in slices). */
export function residentRowsModelLayout(n: number, stride: number): { bytes: Uint8Array; dataOffset: number } {
  return modelWithFloatInitializer(batchedRowsGraph('resident'), { name: 'M', dims: [n, stride] });
}
