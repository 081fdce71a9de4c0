import { MrlError } from '../errors.js';

/**
 * Typed arrays of the resident matrix that may live on a growable SharedArrayBuffer, so worker
 * threads read the same memory (src/engine/pool/). `grow` enlarges a shared array's buffer in
 * place and returns a new view of all of it; a reader in another thread takes a new view
 * (`current`) when the buffer grew. Views have a fixed length: V8 (Node 20) reads a
 * length-tracking view (made with no length) about 10× slower in a hot loop (200 rows × 256
 * dims: 2.8 ms against 0.27-0.29 ms for a plain, a SharedArrayBuffer or a fixed view of a
 * growable one, measured). An unshared array lives on a resizable ArrayBuffer (up to 4 GiB,
 * beyond that a plain one) and grows in place too: a copy at each growth had cost an ingest's
 * HTTP thread stalls of tens of ms (onnxruntime reads resizable buffers; it refuses shared ones).
 * Such a view cannot be posted to another thread: copy it first (`slice`).
 */
export type Grown = Float32Array | Float64Array | Int32Array | Uint32Array | Uint16Array | Int8Array;
type Ctor<T extends Grown> = { new (n: number): T; readonly BYTES_PER_ELEMENT: number };

/** The largest growable SharedArrayBuffer Node 20 makes (2^33 throws): the limit of one part. */
export const MAX_SHARED_BYTES = 2 ** 32;

interface Growable {
  readonly growable: boolean;
  grow(bytes: number): void;
}
interface Resizable {
  readonly resizable: boolean;
  readonly maxByteLength: number;
  resize(bytes: number): void;
}
type GrowableCtor = new (bytes: number, opts: { maxByteLength: number }) => SharedArrayBuffer;
type ResizableCtor = new (bytes: number, opts: { maxByteLength: number }) => ArrayBuffer;

function tooLarge(bytes: number, what: string): MrlError {
  return new MrlError('INVALID_COLLECTION', {
    detail:
      `the ${what} of a shared resident matrix would take ${bytes} bytes, over the 4 GiB a part may hold: ` +
      `use residentType 'f16' or 'int8', a smaller residentDim, or MRL_SEARCH_THREADS=0 (unshared)`,
  });
}

/** A new array of `length` values (zeros), on a growable SharedArrayBuffer when `shared`. */
export function allocate<T extends Grown>(ctor: Ctor<T>, length: number, shared: boolean, what = 'rows'): T {
  const bytes = length * ctor.BYTES_PER_ELEMENT;
  if (!shared) {
    if (bytes === 0 || bytes > MAX_SHARED_BYTES) return new ctor(length);
    return whole(ctor, new (ArrayBuffer as unknown as ResizableCtor)(bytes, { maxByteLength: MAX_SHARED_BYTES }));
  }
  if (bytes > MAX_SHARED_BYTES) throw tooLarge(bytes, what);
  return whole(ctor, new (SharedArrayBuffer as unknown as GrowableCtor)(bytes, { maxByteLength: MAX_SHARED_BYTES }));
}

/** A fixed-length view of all of `buffer` as it is now. */
function whole<T extends Grown>(ctor: Ctor<T>, buffer: ArrayBufferLike): T {
  return new (ctor as unknown as new (b: ArrayBufferLike, o: number, n: number) => T)(
    buffer,
    0,
    buffer.byteLength / ctor.BYTES_PER_ELEMENT,
  );
}

/** True when `a` is a view of a growable SharedArrayBuffer (another thread may read it). */
export function isShared(a: Grown): boolean {
  return a.buffer instanceof SharedArrayBuffer && (a.buffer as unknown as Growable).growable;
}

/**
 * `a` with room for `length` values, the old ones kept and the new ones zero (or `fill`): the
 * same view grown in place when shared, a copy otherwise.
 */
export function grow<T extends Grown>(ctor: Ctor<T>, a: T, length: number, fill?: number, what = 'rows'): T {
  const old = a.length;
  if (length <= old) return a;
  let out: T;
  if (isShared(a)) {
    const bytes = length * ctor.BYTES_PER_ELEMENT;
    if (bytes > MAX_SHARED_BYTES) throw tooLarge(bytes, what);
    (a.buffer as unknown as Growable).grow(bytes);
    out = whole(ctor, a.buffer as SharedArrayBuffer);
  } else if (
    (a.buffer as unknown as Resizable).resizable &&
    length * ctor.BYTES_PER_ELEMENT <= (a.buffer as unknown as Resizable).maxByteLength
  ) {
    (a.buffer as unknown as Resizable).resize(length * ctor.BYTES_PER_ELEMENT);
    out = whole(ctor, a.buffer);
  } else {
    out = allocate(ctor, length, false, what);
    out.set(a);
  }
  if (fill !== undefined && fill !== 0) out.fill(fill, old);
  return out;
}

/** A view of a shared array's buffer in another thread. */
export function view<T extends Grown>(ctor: Ctor<T>, buffer: SharedArrayBuffer): T {
  return whole(ctor, buffer);
}

/** `a`, or a new view of all of its buffer when another thread grew it since `a` was made. */
export function current<T extends Grown>(ctor: Ctor<T>, a: T): T {
  return a.byteLength === a.buffer.byteLength ? a : whole(ctor, a.buffer as SharedArrayBuffer);
}
