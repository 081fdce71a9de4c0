/**
 * Per collection, whether a batch of the ingest writer is granted and not yet applied here
 * (ingest-writer.ts). A write of this thread waits for `idle` and then commits in the same turn:
 * no batch can be granted in between, so every cache applies writes in their commit order.
 */
export class WriteGate {
  private readonly held = new Map<number, number>();
  private readonly waiters = new Map<number, (() => void)[]>();

  hold(collectionId: number): void {
    this.held.set(collectionId, (this.held.get(collectionId) ?? 0) + 1);
  }

  release(collectionId: number): void {
    const n = (this.held.get(collectionId) ?? 1) - 1;
    if (n > 0) return void this.held.set(collectionId, n);
    this.held.delete(collectionId);
    const w = this.waiters.get(collectionId);
    this.waiters.delete(collectionId);
    for (const f of w ?? []) f();
  }

  /** Resolves when no batch of the collection is held; the caller's next synchronous code runs before any other grant. */
  async idle(collectionId: number): Promise<void> {
    while (this.held.has(collectionId)) {
      await new Promise<void>((resolve) => {
        let w = this.waiters.get(collectionId);
        if (!w) this.waiters.set(collectionId, (w = []));
        w.push(resolve);
      });
    }
  }
}
