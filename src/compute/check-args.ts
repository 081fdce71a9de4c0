/**
 * Argument checks shared by every kernel: shapes and row indices, checked before anything runs.
 * They throw RangeError: a bad shape is a caller bug, never user input (routes validate that).
 */
import type { QuantizedMatrix, RerankMatrix, RowsQuery, TopKArgs, TopKRowsArgs } from './kernel.js';

/** topK: B queries of d values over n rows of `stride` values, n scales, k ≥ 1. */
export function checkTopKArgs(...[queries, B, rows, n, stride, d, rowScale, k]: TopKArgs): void {
  const int = (v: number) => Number.isInteger(v) && v >= 0;
  if (!int(B) || !int(n) || !int(stride) || !int(d) || !int(k))
    throw new RangeError('topK: B, n, stride, d, k must be non-negative integers');
  if (d < 1 || d > stride) throw new RangeError(`topK: need 1 <= d <= stride, got d=${d} stride=${stride}`);
  if (k < 1) throw new RangeError(`topK: k must be >= 1, got ${k}`);
  if (queries.length < B * d) throw new RangeError(`topK: queries has ${queries.length} values, need B*d=${B * d}`);
  if (rows.length < n * stride) throw new RangeError(`topK: rows has ${rows.length} values, need n*stride=${n * stride}`);
  if (rowScale.length < n) throw new RangeError(`topK: rowScale has ${rowScale.length} values, need n=${n}`);
}

/** Row indices must address whole rows of the matrix. */
function checkRowsArgs(matrix: Float32Array, stride: number, rowIdx: Int32Array): void {
  const rows = Math.floor(matrix.length / stride);
  for (let i = 0; i < rowIdx.length; i++) {
    if (rowIdx[i] < 0 || rowIdx[i] >= rows) throw new RangeError(`topKRows: row index ${rowIdx[i]} outside 0..${rows - 1}`);
  }
}

/** topKRows (a single rerank list): B queries over the selected rows of a matrix, one scale per selected row. */
export function checkSelectedRowsArgs(...[queries, B, matrix, stride, rowIdx, d, rowScale, k]: TopKRowsArgs): void {
  checkRowsArgs(matrix, stride, rowIdx);
  checkTopKArgs(queries, B, matrix, 0, stride, d, rowScale, k);
  if (rowScale.length < rowIdx.length) throw new RangeError(`topKRows: rowScale has ${rowScale.length} values, need ${rowIdx.length}`);
}

/** rerank: every query over its own rows (slots) of the matrix, at prefix d. */
export function checkRerankArgs(matrix: RerankMatrix, items: RowsQuery[], d: number): void {
  for (const it of items) checkSelectedRowsArgs(it.query, 1, matrix.data, matrix.width, it.rowIdx, d, it.rowScale, it.k);
}

/** rerankQuantized: slots below matrix.size, 1 ≤ d ≤ width, a scale per row, k ≥ 1. */
export function checkQuantizedArgs(matrix: QuantizedMatrix, items: RowsQuery[], d: number): void {
  if (!Number.isInteger(d) || d < 1 || d > matrix.width)
    throw new RangeError(`rerankQuantized: need 1 <= d <= width, got d=${d} width=${matrix.width}`);
  const rows = Math.min(matrix.size, Math.floor((matrix.type === 'f16' ? matrix.half.length : matrix.codes.length) / matrix.width));
  for (const it of items) {
    if (!Number.isInteger(it.k) || it.k < 1) throw new RangeError(`rerankQuantized: k must be >= 1, got ${it.k}`);
    if (it.query.length < d) throw new RangeError(`rerankQuantized: query has ${it.query.length} values, need ${d}`);
    if (it.rowScale.length < it.rowIdx.length)
      throw new RangeError(`rerankQuantized: rowScale has ${it.rowScale.length} values, need ${it.rowIdx.length}`);
    for (let i = 0; i < it.rowIdx.length; i++) {
      if (it.rowIdx[i] < 0 || it.rowIdx[i] >= rows)
        throw new RangeError(`rerankQuantized: row index ${it.rowIdx[i]} outside 0..${rows - 1}`);
    }
  }
}
