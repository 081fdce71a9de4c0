import { JsKernel } from '../compute/js-kernel.js';
import type { Kernel } from '../compute/kernel.js';

/**
 * Kernels may run after an event-loop turn (onnxruntime-node hops through setImmediate), and
 * a write applied in that turn can move rows of the resident matrix. So a matrix-based step
 * checks the matrix version around the kernel call and retries; the last try uses the
 * synchronous JS kernel, which nothing can interleave with.
 */
const jsKernel = new JsKernel();
const TRIES = 3;

/** The kernel for try number `attempt` (from 1) of a matrix-based step. */
export function kernelForAttempt(kernel: Kernel, attempt: number): Kernel {
  return attempt < TRIES ? kernel : jsKernel;
}
