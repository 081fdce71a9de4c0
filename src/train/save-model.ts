import type { ModelManifest } from '../encoders/encoder.js';
import type { TrainedModel } from './trainer.js';
import { saveHeads, saveLayersModel, writeManifest } from '../encoders/model-files.js';

/**
 * Writes a trained model as a model directory (layout in model-files.ts): the encoder as a
 * tfjs-layers model, the heads, then the manifest last, so a directory with a manifest is complete.
 */
export async function saveTrainedModel(trained: TrainedModel, dir: string, manifest: ModelManifest): Promise<void> {
  const model = trained.encoder.toLayersModel(manifest.name.replace(/[^A-Za-z0-9_]/g, '_'));
  try {
    await saveLayersModel(model, dir);
  } finally {
    model.dispose();
  }
  await saveHeads(trained.heads, dir, manifest.classes);
  writeManifest(dir, manifest);
}
