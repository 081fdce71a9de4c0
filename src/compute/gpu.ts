import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { CreatedKernel, Kernel } from './kernel.js';

/**
 * The GPU kernels: onnxruntime-node's CUDA execution provider where its library was installed
 * (ONNXRUNTIME_NODE_INSTALL=cuda12 at build time, see docker/gpu.Dockerfile), else its WebGPU
 * provider (Dawn over Vulkan). Asking for CUDA without the library has been reported to crash
 * natively, so the file is checked first; a WebGPU host without an adapter throws and is
 * caught. When neither starts, the CPU kernel is used and `fallbackReason` says why.
 *
 * Not yet verified on a GPU machine. Inputs are host tensors copied per run: a rerank sends only
 * its gathered rows (OnnxKernel gathers on the host under a GPU provider), an exact scan the
 * whole matrix, once per launch; there is no device-resident matrix yet (docs/deploy.md, "GPU
 * rerank"). Concurrent queries share launches through the batching window that createKernel
 * puts in front (MRL_BATCH_WINDOW_US, 200 µs by default with MRL_KERNEL=gpu).
 */
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
  const { OnnxKernel } = await import('./onnx-kernel.js');
  const reasons: string[] = [];
  if (cudaProviderLibrary()) {
    try {
      return await OnnxKernel.create({ threads, provider: 'cuda' });
    } catch (err) {
      reasons.push(`cuda: ${(err as Error).message.split('\n')[0]}`);
    }
  } else {
    reasons.push('cuda: onnxruntime-node has no CUDA provider library (install with ONNXRUNTIME_NODE_INSTALL=cuda12)');
  }
  try {
    return await OnnxKernel.create({ threads, provider: 'webgpu' });
  } catch (err) {
    reasons.push(`webgpu: ${(err as Error).message.split('\n')[0]}`);
  }
  const k: Kernel = await cpu();
  return Object.assign(k, { fallbackReason: `no GPU provider started (${reasons.join('; ')}); using ${k.name}` });
}
