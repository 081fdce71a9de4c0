/**
 * LRU cache of full-D embeddings keyed by model and the exact input string (a text, or a
 * base64 PNG): repeated queries skip the encoder. Capacity 0 turns it off. Values are copied
 * in and out, so no caller can change what another one gets.
 */
export class EmbedCache {
  private readonly map = new Map<string, Float32Array>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {}

  private static key(model: string, input: string): string {
    return `${model}\u0000${input}`;
  }

  /** A copy of the cached vector, or undefined (counted as a miss) for an uncached or non-string input. */
  get(model: string, input: unknown): Float32Array | undefined {
    if (this.capacity === 0 || typeof input !== 'string') return undefined;
    const k = EmbedCache.key(model, input);
    const v = this.map.get(k);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(k);
    this.map.set(k, v); // most recently used goes last
    return v.slice();
  }

  set(model: string, input: unknown, v: Float32Array): void {
    if (this.capacity === 0 || typeof input !== 'string') return;
    const k = EmbedCache.key(model, input);
    this.map.delete(k);
    this.map.set(k, v.slice());
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }

  /** Drops a model's entries (when it is reloaded) or all. */
  clear(model?: string): void {
    if (model === undefined) return this.map.clear();
    for (const k of this.map.keys()) if (k.startsWith(`${model}\u0000`)) this.map.delete(k);
  }

  get size(): number {
    return this.map.size;
  }
}
