/**
 * Starting the GPU kernel (createKernel's 'gpu' backend): onnxruntime-node's CUDA execution
 * provider where its library was installed
 * (ONNXRUNTIME_NODE_INSTALL=cuda12 at build time, see docker/gpu.Dockerfile), else its WebGPU
 * provider (Dawn over Vulkan). Asking for CUDA without the library has been reported to crash
 * natively, so the file is checked first; a WebGPU host without an adapter throws and is
 * caught. When neither starts, the CPU kernel is used and `fallbackReason` says why.
 *
 * Not yet verified on a GPU machine. Inputs are host tensors copied per run. When a GPU provider
 * starts, the kernel is wrapped in a ResidentKernel (resident-kernel.ts): reranks use full, unchanged segments of the
 * resident matrix baked into sessions (uploaded once, kept on the device) and send only the query
 * and row indices; other rows (the growing tail, segments written since) are gathered on the host
 * and sent per run (OnnxKernel gathers on the host under a GPU provider). An exact scan sends the
 * whole matrix, once per launch. Concurrent queries share launches through the batching window
 * that createKernel puts in front (MRL_BATCH_WINDOW_US, 200 µs by default with MRL_KERNEL=gpu).
 * On a fallback to the CPU there are no resident segments (they would double the matrix in RAM).
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { CreatedKernel, Kernel } from '../kernel.js';

/** The onnxruntime-node package's CUDA provider library, if it was installed with one. */
export function cudaProviderLibrary(): string | null {
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const bin = join(pkg, 'bin');
    for (const napi of readdirSync(bin)) {
      const file = join(bin, napi, process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
      if (existsSync(file)) return file;
    }
  } catch {
    /* no package or layout: no CUDA */
  }
  return null;
}

export async function createGpuKernel(threads: number, cpu: () => Promise<CreatedKernel>): Promise<CreatedKernel> {
  const { OnnxKernel } = await import('../onnx-kernel.js');
  const { ResidentKernel } = await import('./resident-kernel.js');
  const reasons: string[] = [];
  const start = async (provider: 'cuda' | 'webgpu') =>
    new ResidentKernel(await OnnxKernel.create({ threads, provider }), { executionProviders: [provider, 'cpu'] });
  if (cudaProviderLibrary()) {
    try {
      return await start('cuda');
    } catch (err) {
      reasons.push(`cuda: ${(err as Error).message.split('\n')[0]}`);
    }
  } else {
    reasons.push('cuda: onnxruntime-node has no CUDA provider library (install with ONNXRUNTIME_NODE_INSTALL=cuda12)');
  }
  try {
    return await start('webgpu');
  } catch (err) {
    reasons.push(`webgpu: ${(err as Error).message.split('\n')[0]}`);
  }
  const k: Kernel = await cpu();
  return Object.assign(k, {
    fallbackReason: `no GPU provider started (${reasons.join('; ')}); using ${k.name}, without device-resident rerank segments`,
  });
}
