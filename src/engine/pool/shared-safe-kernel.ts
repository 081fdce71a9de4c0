import { JsKernel } from '../../compute/js-kernel.js';
import type { CreatedKernel, Kernel } from '../../compute/kernel.js';
import { withNativeRerank } from '../../compute/native-kernel.js';

/** For shared rows: the native reranks (they read SharedArrayBuffer rows in place) over the JS kernel. */
const js = withNativeRerank(new JsKernel());
const onShared = (a: { buffer: ArrayBufferLike }) => a.buffer instanceof SharedArrayBuffer;

/**
 * `kernel` for a thread whose resident matrices are shared with search workers: onnxruntime-node
 * refuses tensors over SharedArrayBuffer memory ("Invalid argument", measured), so calls that
 * read a shared matrix in place run on the native rerank kernels (compute/native-kernel.ts) or the JS kernel; the rest (rows gathered or read from
 * the store) on `kernel`. The workers themselves run the JS kernel for the same reason.
 */
export function sharedSafe(kernel: CreatedKernel): CreatedKernel {
  if (kernel instanceof JsKernel) return kernel;
  const k: Kernel = kernel;
  return Object.assign(Object.create(kernel) as CreatedKernel, {
    name: k.name,
    topK: (...args: Parameters<Kernel['topK']>) => (onShared(args[2]) ? js : k).topK(...args),
    rerank: (...args: Parameters<Kernel['rerank']>) => (onShared(args[0].data) ? js : k).rerank(...args),
    rerankQuantized: (...args: Parameters<NonNullable<Kernel['rerankQuantized']>>) => {
      const m = args[0];
      const q = onShared(m.type === 'f16' ? m.half : m.codes) || !k.rerankQuantized ? js : k;
      return q.rerankQuantized!(...args);
    },
    close: () => k.close(),
  });
}
