/**
 * The text MRL adaptor over USE lite (docs/text-mrl.md): cached USE embeddings, the document
 * split, the PCA start (eigensolver), the adaptor model, its MRL loss, the training loop and the
 * held-out metrics, one file each.
 */
export * from './use-cache.js';
export * from './split.js';
export { symmetricEigen } from '../../core/eigen.js';
export * from './pca.js';
export * from './matmul-nn.js';
export * from './model.js';
export * from './loss.js';
export * from './train-loop.js';
export * from './metrics.js';
