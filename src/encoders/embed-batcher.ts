/**
 * Micro-batching of concurrent embed calls to one encoder. A call that finds the encoder idle
 * runs at once (a lone request never waits); calls arriving while a batch runs are queued and
 * served together by the next run, up to `maxBatch` inputs, after holding it open `windowUs`
 * more for late arrivals (0: no extra wait). Each caller gets its own vectors, in its order.
 * When a batched run fails, each of its calls is retried alone, so one bad input fails only
 * its own request.
 */
export interface BatcherOptions {
  windowUs: number;
  maxBatch: number;
}
export interface BatcherStats {
  windowUs: number;
  maxBatch: number;
  launches: number;
  calls: number;
  inputs: number;
}

interface Call {
  inputs: unknown[];
  resolve(v: Float32Array[]): void;
  reject(err: unknown): void;
}

export class EmbedBatcher {
  private queue: Call[] = [];
  private running = false;
  private waiting = false;
  private queued = 0;
  private readonly counts = { launches: 0, calls: 0, inputs: 0 };

  constructor(
    private readonly run: (inputs: unknown[]) => Promise<Float32Array[]>,
    readonly opts: BatcherOptions,
  ) {}

  submit(inputs: unknown[]): Promise<Float32Array[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ inputs, resolve, reject });
      this.queued += inputs.length;
      this.pump();
    });
  }

  stats(): BatcherStats {
    return { ...this.opts, ...this.counts };
  }

  private pump(): void {
    if (this.running || this.waiting || this.queue.length === 0) return;
    this.running = true;
    const batch: Call[] = [this.queue.shift()!];
    let n = batch[0].inputs.length;
    while (this.queue.length > 0 && n + this.queue[0].inputs.length <= this.opts.maxBatch) {
      const c = this.queue.shift()!;
      batch.push(c);
      n += c.inputs.length;
    }
    this.queued -= n;
    void this.launch(batch, n).finally(() => {
      this.running = false;
      this.afterRun();
    });
  }

  /** With a window, the next batch waits for late arrivals (until full or the window ends). */
  private afterRun(): void {
    if (this.queue.length === 0 || this.opts.windowUs === 0 || this.queued >= this.opts.maxBatch) return this.pump();
    this.waiting = true;
    const deadline = performance.now() + this.opts.windowUs / 1000;
    const tick = () => {
      if (performance.now() >= deadline || this.queued >= this.opts.maxBatch) {
        this.waiting = false;
        this.pump();
      } else if (this.opts.windowUs >= 1000) setTimeout(tick, Math.max(1, deadline - performance.now()));
      else setImmediate(tick);
    };
    tick();
  }

  private async launch(batch: Call[], n: number): Promise<void> {
    this.counts.launches++;
    this.counts.calls += batch.length;
    this.counts.inputs += n;
    try {
      const out = await this.run(batch.length === 1 ? batch[0].inputs : batch.flatMap((c) => c.inputs));
      if (out.length !== n) throw new Error(`encoder returned ${out.length} vectors for ${n} inputs`);
      let o = 0;
      for (const c of batch) {
        c.resolve(out.slice(o, o + c.inputs.length));
        o += c.inputs.length;
      }
    } catch (err) {
      if (batch.length === 1) return batch[0].reject(err);
      for (const c of batch) {
        try {
          c.resolve(await this.run(c.inputs));
        } catch (e) {
          c.reject(e);
        }
      }
    }
  }
}
