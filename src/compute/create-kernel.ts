/**
 * The factory and the routing policy: createKernel picks a kernel for a Backend ('js', 'onnx',
 * 'auto': ONNX for big work and JS for tiny work, reranks of the resident matrix on the native
 * kernels where the addon is built, or 'gpu') and wraps it in the batching
 * window (gpu/batch-window.ts) when one is configured.
 */
import { BatchWindowKernel } from './gpu/batch-window.js';
import { JsKernel } from './js-kernel.js';
import type { CreatedKernel, Kernel, KernelOptions } from './kernel.js';
import { withNativeRerank } from './native-kernel.js';

/**
 * Up to this many multiply-adds (B·n·d) 'auto' routes a call to the JS kernel: there the fixed
 * cost of an ORT call (~0.03-0.05 ms: tensor wrapping, a setImmediate hop, session bookkeeping,
 * output copies) exceeds the arithmetic. bench/kernels.ts on the 2-core dev box (Node 20,
 * ORT 1.30 CPU, 2 intra-op threads), B=1, d=512, k=10, median ms js / onnx, two runs:
 *   n=16 (8k MACs) 0.019-0.031 / 0.034-0.050;  n=32 (16k) 0.035-0.058 / 0.032-0.050;
 *   n=48 (25k) 0.050-0.087 / 0.030-0.047;  n=64 (33k) 0.065-0.121 / 0.031-0.044.
 * The crossover sits at n≈32 at d=512, i.e. ~16k MACs.
 */
export const JS_ROUTING_MAX_MACS = 16_384;

export async function createKernel(opts: KernelOptions = {}): Promise<CreatedKernel> {
  const kernel = await createBareKernel(opts);
  const windowUs = opts.batchWindowUs ?? 0;
  if (windowUs <= 0) return kernel;
  const batched = new BatchWindowKernel(kernel, { windowUs, maxBatch: opts.batchMax ?? 64 });
  const { fallbackReason, resident } = kernel;
  return Object.assign(batched, fallbackReason === undefined ? {} : { fallbackReason }, resident === undefined ? {} : { resident });
}

async function createBareKernel(opts: KernelOptions): Promise<CreatedKernel> {
  const backend = opts.backend ?? 'auto';
  if (backend === 'js') return new JsKernel();
  const loadOnnx = async (): Promise<Kernel> => {
    const { OnnxKernel } = await import('./onnx-kernel.js');
    return OnnxKernel.create({ threads: opts.threads });
  };
  if (backend === 'onnx') return loadOnnx();
  if (backend === 'gpu') {
    const { createGpuKernel } = await import('./gpu/gpu-kernel.js');
    return createGpuKernel(opts.threads ?? 2, () => autoKernel(loadOnnx));
  }
  return withNativeRerank(await autoKernel(loadOnnx)); // reranks of the resident matrix: native-kernel.ts, faster than both at every size
}

/**
 * 'auto': ONNX for big work, JS for tiny work; if ONNX cannot be loaded, the JS kernel with
 * fallbackReason set (the caller decides whether and how to report it). Exported for tests.
 */
export async function autoKernel(loadOnnx: () => Promise<Kernel>, maxJsMacs = JS_ROUTING_MAX_MACS): Promise<CreatedKernel> {
  const js = new JsKernel();
  let onnx: Kernel;
  try {
    onnx = await loadOnnx();
  } catch (err) {
    const reason = `onnxruntime-node unavailable: ${err instanceof Error ? err.message : String(err)}`;
    return Object.assign(js, { fallbackReason: reason });
  }
  return {
    name: onnx.name,
    topK(queries, B, rows, n, stride, d, rowScale, k) {
      const kernel = B * n * d <= maxJsMacs ? js : onnx;
      return kernel.topK(queries, B, rows, n, stride, d, rowScale, k);
    },
    rerank(matrix, items, d) {
      let macs = 0;
      for (const it of items) macs += it.rowIdx.length * d;
      return (macs <= maxJsMacs ? js : onnx).rerank(matrix, items, d);
    },
    rerankQuantized(matrix, items, d) {
      let macs = 0;
      for (const it of items) macs += it.rowIdx.length * d;
      return (macs <= maxJsMacs || !onnx.rerankQuantized ? js : onnx).rerankQuantized!(matrix, items, d);
    },
    close: () => onnx.close(),
  };
}
