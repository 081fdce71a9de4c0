import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The `name` field of a package.json (undefined when it has none). */
function packageName(file: string): unknown {
  const pkg: unknown = JSON.parse(readFileSync(file, 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'name' in pkg ? pkg.name : undefined;
}

/** The package root (where package.json and migrations/ live), from src/ or dist/src/. */
export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && packageName(pkg) === 'mrl-server') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the mrl-server package root');
    dir = up;
  }
}
