/**
 * Builds models/<name>/model.onnx (+ model.onnx.json, the digests of its sources) for every
 * shipped encoder, from its TF.js files and, for text, USE lite inside node_modules. Run by
 * `npm run build:onnx` and by `prepare` (so `npm ci` leaves them built); nothing is downloaded.
 *   node --import tsx scripts/build-onnx-models.ts [modelsDir]
 * A model whose layers the converter does not know is reported and left to TF.js.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from '../src/paths.js';
import { writeOnnxModel } from '../src/encoders/onnx/build-models.js';

const modelsDir = resolve(process.argv[2] ?? join(projectRoot(), 'models'));
let failed = 0;
for (const name of readdirSync(modelsDir).sort()) {
  const dir = join(modelsDir, name);
  if (!existsSync(join(dir, 'manifest.json')) || !existsSync(join(dir, 'model.json'))) continue;
  const t0 = performance.now();
  try {
    const { file, bytes } = writeOnnxModel(dir);
    console.log(`${file}: ${(bytes / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    failed++;
    console.error(`${dir}: not converted (${(err as Error).message}); TF.js will serve it`);
  }
}
process.exitCode = failed > 0 && process.argv.includes('--strict') ? 1 : 0;
