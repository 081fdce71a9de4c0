import { BlockStamps } from './block-stamps.js';
import { PrefixNorms } from './prefix-norms.js';
import type { ResidentType } from './quantize.js';
import { SeqLock } from './seqlock.js';
import { SeqSlots, type SeqSlotsBuffers } from './seq-slots.js';
import { allocate, current, grow, view } from './shared-array.js';

/** One typed array of the matrix as a snapshot sees it (`perRow` values per slot). */
export interface MatrixPart {
  name: string;
  array: Float32Array | Uint32Array | Uint16Array | Int8Array | Uint8Array;
  perRow: number;
}

/** What a worker thread needs to attach a shared matrix: its shape and buffers. */
export interface MatrixHandle {
  width: number;
  nesting: number[];
  type: ResidentType;
  blockRows: number;
  header: SharedArrayBuffer;
  rows: SharedArrayBuffer;
  codeScale: SharedArrayBuffer | null;
  slotSeq: SharedArrayBuffer;
  norms: SharedArrayBuffer;
  stamps: SharedArrayBuffer;
  seqSlots: SeqSlotsBuffers;
}

export interface StorageShape {
  width: number;
  nesting: number[];
  type: ResidentType;
  blockRows: number;
  capacity: number;
  shared: boolean;
}

/**
 * The typed arrays of a resident matrix (resident-matrix.ts): the rows of its type (the other
 * types' arrays stay empty), the int8 scales, slot → seq, the prefix norms, the block stamps,
 * seq → slot, and the seqlock with the row count. Plain arrays, or growable SharedArrayBuffers
 * (`shared`) that `share()` hands to worker threads and a `MatrixHandle` re-attaches there.
 */
export class MatrixStorage {
  data: Float32Array;
  half: Uint16Array;
  codes: Int8Array;
  codeScale: Float32Array;
  slotSeq: Uint32Array;
  readonly norms: PrefixNorms;
  readonly stamps: BlockStamps;
  readonly seqSlot: SeqSlots;
  readonly lock: SeqLock;
  capacity: number;

  constructor(
    readonly shape: StorageShape,
    attached?: MatrixHandle,
  ) {
    const { width, type, shared } = shape;
    const cap = (this.capacity = shape.capacity);
    this.lock = new SeqLock(shared, attached?.header);
    this.seqSlot = new SeqSlots(shared, attached?.seqSlots);
    this.stamps = new BlockStamps(shape.blockRows, cap, shared, attached && view(Float64Array, attached.stamps));
    const mine = (t: ResidentType) => attached !== undefined && type === t;
    const n = (t: ResidentType) => (type === t ? cap * width : 0);
    const on = (t: ResidentType) => shared && type === t;
    this.data = mine('f32') ? view(Float32Array, attached!.rows) : allocate(Float32Array, n('f32'), on('f32'));
    this.half = mine('f16') ? view(Uint16Array, attached!.rows) : allocate(Uint16Array, n('f16'), on('f16'));
    this.codes = mine('int8') ? view(Int8Array, attached!.rows) : allocate(Int8Array, n('int8'), on('int8'));
    this.codeScale = attached?.codeScale
      ? view(Float32Array, attached.codeScale)
      : allocate(Float32Array, type === 'int8' ? cap : 0, on('int8'), 'row scales');
    this.slotSeq = attached ? view(Uint32Array, attached.slotSeq) : allocate(Uint32Array, cap, shared, 'slot table');
    this.norms = new PrefixNorms(width, shape.nesting, cap, shared, attached && view(Float32Array, attached.norms));
  }

  /** Room for `cap` slots, everything kept (in place when shared). */
  grow(cap: number): void {
    const w = this.shape.width;
    if (this.data.length) this.data = grow(Float32Array, this.data, cap * w);
    if (this.half.length) this.half = grow(Uint16Array, this.half, cap * w);
    if (this.codes.length) this.codes = grow(Int8Array, this.codes, cap * w);
    if (this.codeScale.length) this.codeScale = grow(Float32Array, this.codeScale, cap, undefined, 'row scales');
    this.slotSeq = grow(Uint32Array, this.slotSeq, cap, undefined, 'slot table');
    this.norms.grow(cap);
    this.stamps.grow(cap);
    this.capacity = cap;
  }

  /**
   * A reader's views after the writer grew the buffers (shared-array.ts): called when it reads the
   * seqlock or the size, so the arrays it then reads cover every slot in use.
   */
  refresh(): void {
    if (this.slotSeq.byteLength === this.slotSeq.buffer.byteLength && !this.seqSlot.stale) return;
    if (this.data.length) this.data = current(Float32Array, this.data);
    if (this.half.length) this.half = current(Uint16Array, this.half);
    if (this.codes.length) this.codes = current(Int8Array, this.codes);
    if (this.codeScale.length) this.codeScale = current(Float32Array, this.codeScale);
    this.slotSeq = current(Uint32Array, this.slotSeq);
    this.norms.refresh();
    this.stamps.refresh();
    this.seqSlot.refresh();
  }

  share(): MatrixHandle {
    const { width, nesting, type, blockRows } = this.shape;
    const rows = type === 'f32' ? this.data : type === 'f16' ? this.half : this.codes;
    const buf = (a: { buffer: ArrayBufferLike }) => a.buffer as SharedArrayBuffer;
    return {
      width,
      nesting,
      type,
      blockRows,
      header: buf(this.lock.cells),
      rows: buf(rows),
      codeScale: type === 'int8' ? buf(this.codeScale) : null,
      slotSeq: buf(this.slotSeq),
      norms: buf(this.norms.values),
      stamps: buf(this.stamps.values),
      seqSlots: this.seqSlot.buffers,
    };
  }

  /** Bytes of the rows, of the prefix norms (and int8 scales), of the slot ↔ seq maps. */
  get breakdown(): { rows: number; norms: number; slots: number } {
    return {
      rows: this.data.byteLength + this.half.byteLength + this.codes.byteLength,
      norms: this.norms.values.byteLength + this.codeScale.byteLength,
      slots: this.slotSeq.byteLength + this.seqSlot.bytes,
    };
  }

  /** The snapshot's parts: the rows of the type (and int8 scales), slot → seq, the norms. */
  parts(): MatrixPart[] {
    const w = this.shape.width;
    const type = this.shape.type;
    const rows: MatrixPart[] =
      type === 'f32'
        ? [{ name: 'data', array: this.data, perRow: w }]
        : type === 'f16'
          ? [{ name: 'half', array: this.half, perRow: w }]
          : [
              { name: 'codes', array: this.codes, perRow: w },
              { name: 'codeScale', array: this.codeScale, perRow: 1 },
            ];
    return [
      ...rows,
      { name: 'slotSeq', array: this.slotSeq, perRow: 1 },
      { name: 'norms', array: this.norms.values, perRow: this.norms.perRow },
    ];
  }
}
